#!/usr/bin/env bash
# Side-by-side throughput of a local 3-node ekv cluster and a local 3-node etcd cluster,
# driven by the same closed-loop gRPC client (ekv-load) with the same request pattern:
# RawPut vs etcd Put, RawGet (linearizable) vs etcd Range (linearizable). Prints each
# run and the ratios ekv/etcd. Everything listens on 127.0.0.1 and is stopped on exit.
#
#   scripts/bench-vs-etcd.sh [DURATION_S] [CONCURRENCY]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
CONCURRENCY="${2:-64}"
BUILD_DIR="${EKV_BUILD_DIR:-$(pwd)/build}"
WORK="$(mktemp -d /tmp/ekv-bench.XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
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
  "$BUILD_DIR/runtime/server/bin/ekv-server" --id "n$i" --grpc_address "127.0.0.1:2445$i" \
    --raft_address "127.0.0.1:2446$i" --peers "$EKV_PEERS" --data_dir "$WORK/ekv$i" \
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

declare -A RESULT
for op in put get; do
  for target in etcd ekv; do
    addrs="$ETCD_ADDRS"; [ "$target" = ekv ] && addrs="$EKV_ADDRS"
    line="$("$LOAD" --target "$target" --addrs "$addrs" --op "$op" \
      --duration_s "$DURATION" --concurrency "$CONCURRENCY")"
    echo "$line"
    RESULT["$target-$op"]="$(sed -n 's/.*ops_per_sec=\([0-9]*\).*/\1/p' <<<"$line")"
  done
done
for op in put get; do
  python3 -c "import sys; e, k = float(sys.argv[1]), float(sys.argv[2]); \
print(f'ratio {sys.argv[3]}: ekv/etcd = {k / e:.2f}' if e > 0 else 'etcd measured 0')" \
    "${RESULT[etcd-$op]}" "${RESULT[ekv-$op]}" "$op"
done
