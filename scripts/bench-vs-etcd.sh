#!/usr/bin/env bash
# Side-by-side throughput of a local 3-node ekv cluster and a local 3-node etcd cluster
# (gRPC only; bench/compare is the full comparison: etcd and Redis, p50/p99, CPU per op),
# driven by the same closed-loop gRPC client (ekv-load) with the same request pattern:
# RawPut vs etcd Put, RawGet (linearizable) vs etcd Range (linearizable). Prints each
# run and the ratios ekv/etcd. Everything listens on 127.0.0.1 and is stopped on exit.
#
#   scripts/bench-vs-etcd.sh [DURATION_S] [CONCURRENCY] [ROUNDS]
#
# With ROUNDS > 1 both systems are measured ROUNDS times, interleaved (etcd put, ekv put,
# etcd get, ekv get, then again), so a burst of load from elsewhere on the machine hits
# both; each round's ratio is printed, then the median and the spread of the ratios.
# EKV_SERVER_FLAGS adds flags to every ekv-server; EKV_SERVER_BIN runs another ekv-server
# binary (say, a copy built before a change), for before/after runs against the same etcd.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
CONCURRENCY="${2:-64}"
ROUNDS="${3:-1}"
BUILD_DIR="${EKV_BUILD_DIR:-$(pwd)/build}"
WORK="$(mktemp -d /tmp/ekv-bench.XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  # Reaped here so bash does not report every killed server.
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

scripts/install-deps.sh
if ! command -v etcd >/dev/null; then
  echo "installing etcd-server (Debian package) for the comparison"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends etcd-server
fi
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" --target ekv-server ekv-load -j"$(nproc)" >/dev/null

# etcd: 3 members on loopback.
ETCD_CLUSTER="e1=http://127.0.0.1:24380,e2=http://127.0.0.1:24381,e3=http://127.0.0.1:24382"
for i in 0 1 2; do
  etcd --name "e$((i + 1))" --data-dir "$WORK/etcd$i" \
    --listen-client-urls "http://127.0.0.1:$((24379 - 10 + i))" \
    --advertise-client-urls "http://127.0.0.1:$((24379 - 10 + i))" \
    --listen-peer-urls "http://127.0.0.1:$((24380 + i))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((24380 + i))" \
    --initial-cluster "$ETCD_CLUSTER" --initial-cluster-state new \
    >"$WORK/etcd$i.log" 2>&1 &
  PIDS+=($!)
done
ETCD_ADDRS="127.0.0.1:24369,127.0.0.1:24370,127.0.0.1:24371"

# ekv: 3 nodes on loopback.
EKV_PEERS="n1=127.0.0.1:24461,n2=127.0.0.1:24462,n3=127.0.0.1:24463"
for i in 1 2 3; do
  "${EKV_SERVER_BIN:-$BUILD_DIR/runtime/server/bin/ekv-server}" --id "n$i" --grpc_address "127.0.0.1:2445$i" \
    --raft_address "127.0.0.1:2446$i" --peers "$EKV_PEERS" --data_dir "$WORK/ekv$i" ${EKV_SERVER_FLAGS:-} \
    >"$WORK/ekv$i.log" 2>&1 &
  PIDS+=($!)
done
EKV_ADDRS="127.0.0.1:24451,127.0.0.1:24452,127.0.0.1:24453"

LOAD="$BUILD_DIR/bench/load/ekv-load"
wait_ready() {  # target addrs
  for _ in $(seq 1 100); do
    if "$LOAD" --target "$1" --addrs "$2" --op put --duration_s 1 --concurrency 1 >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.3
  done
  echo "$1 cluster did not become ready" >&2
  return 1
}
wait_ready etcd "$ETCD_ADDRS"
wait_ready ekv "$EKV_ADDRS"

RATIOS_put=()
RATIOS_get=()
for round in $(seq 1 "$ROUNDS"); do
  declare -A RESULT=()
  for op in put get; do
    for target in etcd ekv; do
      addrs="$ETCD_ADDRS"; [ "$target" = ekv ] && addrs="$EKV_ADDRS"
      # Keys written by the first round's get preload are still there in later rounds.
      line="$("$LOAD" --target "$target" --addrs "$addrs" --op "$op" \
        --duration_s "$DURATION" --concurrency "$CONCURRENCY" --preload="$([ "$round" = 1 ] && echo true || echo false)")"
      echo "round=$round $line"
      RESULT["$target-$op"]="$(sed -n 's/.*ops_per_sec=\([0-9]*\).*/\1/p' <<<"$line")"
    done
  done
  for op in put get; do
    ratio="$(python3 -c "import sys; e, k = float(sys.argv[1]), float(sys.argv[2]); \
print(f'{k / e:.2f}' if e > 0 else 'nan')" "${RESULT[etcd-$op]}" "${RESULT[ekv-$op]}")"
    echo "round=$round ratio $op: ekv/etcd = $ratio"
    if [ "$op" = put ]; then RATIOS_put+=("$ratio"); else RATIOS_get+=("$ratio"); fi
  done
done
if [ "$ROUNDS" -gt 1 ]; then
  for op in put get; do
    name="RATIOS_$op[@]"
    python3 -c "import statistics, sys; r = sorted(float(x) for x in sys.argv[2:]); \
print(f'ratio {sys.argv[1]} over {len(r)} rounds: median {statistics.median(r):.2f}, ' \
      f'min {r[0]:.2f}, max {r[-1]:.2f}')" "$op" "${!name}"
  done
fi
