#!/usr/bin/env bash
# grpcurl compatibility check of ekv's public gRPC API.
#
#   bash tests/grpcurl_compat/run.sh BUILD_DIR
#
# Starts a fresh 3-node cluster (free ports on 127.0.0.1, temp data dirs) from
# BUILD_DIR/runtime/server/bin/ekv-server and runs the README's grpcurl commands through
# grpcurl.js, a Node.js stand-in that, like grpcurl, learns every service and message from
# server reflection only. Installs its npm packages (package-lock.json) into this folder when
# they are missing; fails loudly if that is impossible. Ends with "grpcurl-compat: N passed, M failed".
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="${1:-}"
if [[ -z "$BUILD" ]]; then
  echo "usage: bash $0 BUILD_DIR" >&2
  exit 2
fi
BUILD="$(cd "$BUILD" 2>/dev/null && pwd)" || { echo "grpcurl-compat: no build dir '$1'" >&2; exit 2; }
SERVER="$BUILD/runtime/server/bin/ekv-server"
[[ -x "$SERVER" ]] || { echo "grpcurl-compat: FAIL: $SERVER not built (build target ekv-server)" >&2; exit 1; }
command -v node >/dev/null || { echo "grpcurl-compat: FAIL: node not found (Node.js >= 18 is needed)" >&2; exit 1; }

# --- npm packages -------------------------------------------------------------------------
deps_ok() {
  (cd "$HERE" && node -e 'require("@grpc/grpc-js"); require("grpc-js-reflection-client"); require("protobufjs/ext/protojson");') >/dev/null 2>&1
}
if ! deps_ok; then
  echo "grpcurl-compat: installing npm packages (npm ci) into $HERE/node_modules"
  command -v npm >/dev/null || { echo "grpcurl-compat: FAIL: npm not found" >&2; exit 1; }
  if ! (cd "$HERE" && timeout 300 npm ci --no-audit --no-fund); then
    echo "grpcurl-compat: FAIL: 'npm ci' failed (is the npm registry reachable?)" >&2
    exit 1
  fi
  deps_ok || { echo "grpcurl-compat: FAIL: npm packages unusable after 'npm ci'" >&2; exit 1; }
fi

# --- cluster ------------------------------------------------------------------------------
TMP="$(mktemp -d "${TMPDIR:-/tmp}/ekv-grpcurl-compat.XXXXXX")"
PIDS=()
FAILED=0
PASSED=0

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "grpcurl-compat: node pid $pid ignored SIGTERM for 10 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
  done
  if [[ "$FAILED" -ne 0 || "${KEEP_TMP:-0}" == 1 ]]; then
    for i in 1 2 3; do
      [[ -f "$TMP/n$i.log" ]] && { echo "--- last lines of n$i.log"; tail -n 20 "$TMP/n$i.log"; }
    done
  fi
  [[ "${KEEP_TMP:-0}" == 1 ]] && echo "grpcurl-compat: kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo "grpcurl-compat: interrupted" >&2; FAILED=$((FAILED + 1)); exit 130' INT TERM

# Six free ports on 127.0.0.1, held open together so that they are distinct.
PORTS=($(node -e '
  const net = require("net");
  const servers = [];
  const next = () => {
    if (servers.length === 6) {
      console.log(servers.map((s) => s.address().port).join(" "));
      servers.forEach((s) => s.close());
      return;
    }
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => { servers.push(s); next(); });
  };
  next();'))
if [[ "${#PORTS[@]}" -ne 6 ]]; then
  echo "grpcurl-compat: FAIL: could not find free ports" >&2
  FAILED=1
  exit 1
fi
GRPC=("${PORTS[@]:0:3}")
RAFT=("${PORTS[@]:3:3}")
PEERS="n1=127.0.0.1:${RAFT[0]},n2=127.0.0.1:${RAFT[1]},n3=127.0.0.1:${RAFT[2]}"
for i in 0 1 2; do
  n=$((i + 1))
  "$SERVER" --id "n$n" --grpc_address "127.0.0.1:${GRPC[$i]}" --raft_address "127.0.0.1:${RAFT[$i]}" \
    --peers "$PEERS" --data_dir "$TMP/n$n" >"$TMP/n$n.log" 2>&1 &
  PIDS+=($!)
done
echo "grpcurl-compat: cluster n1..n3 gRPC on 127.0.0.1:${GRPC[0]},${GRPC[1]},${GRPC[2]}; data in $TMP"

# grpcurl ARGS... : runs grpcurl.js, bounded; stdout -> $TMP/out, stderr -> $TMP/err, returns its status.
grpcurl() {
  timeout 90 node "$HERE/grpcurl.js" -connect-timeout 20 -max-time 60 "$@" >"$TMP/out" 2>"$TMP/err"
}
N1="localhost:${GRPC[0]}"
N2="localhost:${GRPC[1]}"

ready=0
for _ in $(seq 1 60); do
  for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "grpcurl-compat: FAIL: a node exited during startup" >&2; FAILED=1; exit 1; }
  done
  if grpcurl -plaintext -d '{}' "$N1" proto.Distribution/ListRoutes; then ready=1; break; fi
  sleep 1
done
if [[ "$ready" -ne 1 ]]; then
  echo "grpcurl-compat: FAIL: ListRoutes did not succeed within ~60 s; last error:" >&2
  cat "$TMP/err" >&2
  FAILED=1
  exit 1
fi

# --- checks -------------------------------------------------------------------------------
pass() { PASSED=$((PASSED + 1)); echo "PASS $1"; }
fail() {
  FAILED=$((FAILED + 1)); echo "FAIL $1"
  echo "  stdout: $(head -c 2000 "$TMP/out")"
  echo "  stderr: $(head -c 2000 "$TMP/err")"
}
# expect NAME EXPECTED_JSON [expect.js options]: the last grpcurl call succeeded with that JSON.
expect() {
  local name="$1" want="$2"
  shift 2
  if node "$HERE/expect.js" "$TMP/out" "$want" "$@" 2>"$TMP/why"; then pass "$name"; else
    cat "$TMP/why"; fail "$name"; fi
}
# run_expect NAME EXPECTED_JSON [expect.js options] -- GRPCURL_ARGS...
run_expect() {
  local name="$1" want="$2" opts=()
  shift 2
  while [[ $# -gt 0 && "$1" != "--" ]]; do opts+=("$1"); shift; done
  shift
  if grpcurl "$@"; then expect "$name" "$want" "${opts[@]}"; else fail "$name (grpcurl exit $?)"; fi
}

# 1. Service listing through reflection, as `grpcurl -plaintext HOST:PORT list`.
if grpcurl -plaintext "$N1" list && grep -qx proto.RawKV "$TMP/out" && grep -qx proto.TransactionalKV "$TMP/out" \
   && grep -qx proto.Distribution "$TMP/out"; then
  pass "list shows proto.RawKV, proto.TransactionalKV, proto.Distribution"
else
  fail "list"
fi

# 2. README: grpcurl -plaintext -d '{}' localhost:50051 proto.Distribution/ListRoutes
#    grpcurl leaves out default values: route 1's empty start, route 2's empty end, parentRouteId 0.
run_expect "ListRoutes: catalog v1, route 1 [\"\", \"m\") on group 1, route 2 [\"m\", +inf) on group 2" '{
  "catalogVersion": "1",
  "routes": [
    {"routeId": "1", "end": "bQ==", "raftGroupId": "1", "state": "ROUTE_STATE_ACTIVE"},
    {"routeId": "2", "start": "bQ==", "raftGroupId": "2", "state": "ROUTE_STATE_ACTIVE"}
  ]}' -- -plaintext -d '{}' "$N1" proto.Distribution/ListRoutes

# 3. README: grpcurl -plaintext -d '{"expectedCatalogVersion": 1, "routeId": 1, "splitKey": "Zw=="}' \
#        localhost:50051 proto.Distribution/SplitRange
SPLIT='{"expectedCatalogVersion": 1, "routeId": 1, "splitKey": "Zw=="}'
run_expect "SplitRange route 1 at \"g\": catalog v2, left 3 [\"\", \"g\"), right 4 [\"g\", \"m\"), parent 1" '{
  "catalogVersion": "2",
  "left": {"routeId": "3", "end": "Zw==", "raftGroupId": "1", "state": "ROUTE_STATE_ACTIVE", "parentRouteId": "1"},
  "right": {"routeId": "4", "start": "Zw==", "end": "bQ==", "raftGroupId": "1", "state": "ROUTE_STATE_ACTIVE",
            "parentRouteId": "1"}}' -- -plaintext -d "$SPLIT" "$N1" proto.Distribution/SplitRange

# 4. The same SplitRange again: the catalog is at version 2 now -> FAILED_PRECONDITION
#    (grpcurl prints "Code: FailedPrecondition" and exits 64 + 9).
grpcurl -plaintext -d "$SPLIT" "$N1" proto.Distribution/SplitRange
rc=$?
if [[ "$rc" -eq 73 ]] && grep -q '^  Code: FailedPrecondition$' "$TMP/err"; then
  pass "repeated SplitRange (stale expectedCatalogVersion) -> FAILED_PRECONDITION"
else
  fail "repeated SplitRange -> FAILED_PRECONDITION (grpcurl exit $rc, want 73)"
fi

# 5. The catalog after the split, the failed retry having changed nothing; -emit-defaults shows
#    every field, the empty start/end included.
run_expect "ListRoutes -emit-defaults after split: v2, routes 3, 4, 2" '{
  "catalogVersion": "2",
  "routes": [
    {"routeId": "3", "start": "", "end": "Zw==", "raftGroupId": "1", "state": "ROUTE_STATE_ACTIVE", "parentRouteId": "1"},
    {"routeId": "4", "start": "Zw==", "end": "bQ==", "raftGroupId": "1", "state": "ROUTE_STATE_ACTIVE", "parentRouteId": "1"},
    {"routeId": "2", "start": "bQ==", "end": "", "raftGroupId": "2", "state": "ROUTE_STATE_ACTIVE", "parentRouteId": "0"}
  ]}' --sort routes:start -- -plaintext -emit-defaults -d '{}' "$N1" proto.Distribution/ListRoutes

# 6. RawPut on n1, RawGet on n2: bytes (not valid UTF-8) survive the JSON/base64 round trip.
KEY="$(printf 'grpcurl-compat/key' | base64)"
VALUE="/+8AAWvCqQ=="   # ff ef 00 01 6b c2 a9
if grpcurl -plaintext -d "{\"key\": \"$KEY\", \"value\": \"$VALUE\"}" "$N1" proto.RawKV/RawPut \
   && node "$HERE/expect.js" "$TMP/out" '{"commitIndex": "~^[1-9][0-9]*$", "success": true}' 2>"$TMP/why" \
   && grpcurl -plaintext -d "{\"key\": \"$KEY\"}" "$N2" proto.RawKV/RawGet \
   && node "$HERE/expect.js" "$TMP/out" "{\"readAtIndex\": \"~^[1-9][0-9]*\$\", \"value\": \"$VALUE\", \"exists\": true}" 2>"$TMP/why"; then
  pass "RawPut (n1) / RawGet (n2) round trip of binary bytes through JSON"
else
  cat "$TMP/why" 2>/dev/null
  fail "RawPut/RawGet round trip"
fi

# 7. RawGet of a missing key: grpcurl leaves out value "" and exists false.
run_expect "RawGet of a missing key prints only readAtIndex" '{"readAtIndex": "~^[1-9][0-9]*$"}' \
  -- -plaintext -d "{\"key\": \"$(printf 'grpcurl-compat/missing' | base64)\"}" "$N1" proto.RawKV/RawGet

echo "grpcurl-compat: $PASSED passed, $FAILED failed"
[[ "$FAILED" -eq 0 ]]
