#!/usr/bin/env bash
# Installs what is missing, builds ekv, and starts the local 3-node demo cluster in the
# background (nodes n1 n2 n3; public gRPC on 127.0.0.1:50051-50053, Redis on
# 127.0.0.1:63791-63793; Prometheus metrics on http://127.0.0.1:9091-9093/metrics; the admin
# console on http://127.0.0.1:8080-8082/).
#
#   scripts/demo.sh          install, build, start (waits until every node serves)
#   scripts/demo.sh --secure the same with TLS on every port (mutual TLS between nodes)
#                            under a test CA generated into $EKV_DEMO_DIR/tls (ca.pem),
#                            and authentication: a gRPC bearer token, Redis users, DynamoDB
#                            access keys, a token for metrics and the console, generated
#                            into $EKV_DEMO_DIR/tls too
#   scripts/demo.sh add N    start node nN (4..9), which joins the running demo cluster
#   scripts/demo.sh hot [S]  write to a hot key range of the running demo for S seconds
#                            (default 150) and print, every 10 s, where that range lives and
#                            the requests/s each node's groups serve, while placement splits
#                            it, moves half to another group and spreads the leaders
#   scripts/demo.sh stop     stop the demo, joined nodes included (SIGTERM, graceful)
#   scripts/demo.sh status   show which nodes run
#
# Data and logs live in $EKV_DEMO_DIR (default: ./demo-data). A restart keeps the data.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
DEMO_DIR="${EKV_DEMO_DIR:-$ROOT/demo-data}"
BUILD_DIR="${EKV_BUILD_DIR:-$ROOT/build}"
SERVER="$BUILD_DIR/runtime/server/bin/ekv-server"
CLIENT="$BUILD_DIR/adapters/ekv-client"
LOAD="$BUILD_DIR/bench/load/ekv-load"
PEERS="n1=127.0.0.1:50061,n2=127.0.0.1:50062,n3=127.0.0.1:50063"
# Placement at demo scale: a laptop's three nodes serve a few thousand writes/s, so a range
# splits from 1,000 requests/s (the default, CockroachDB's, is 2,500).
PLACEMENT_FLAGS=(--placement_split_qps 1000)

# TLS (scripts/demo.sh --secure): the demo's own test CA and one certificate for
# 127.0.0.1/localhost that every node serves. Never use it outside the demo.
TLS_DIR="$DEMO_DIR/tls"
secure() { [ -f "$DEMO_DIR/secure" ]; }
make_test_ca() {
  [ -f "$TLS_DIR/server.pem" ] && return 0
  mkdir -p "$TLS_DIR"
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 "${ec[@]}" -keyout "$TLS_DIR/ca.key" -out "$TLS_DIR/ca.pem" \
    -days 365 -subj "/CN=ekv demo CA" 2>/dev/null
  openssl req "${ec[@]}" -keyout "$TLS_DIR/server.key" -out "$TLS_DIR/server.csr" \
    -subj "/CN=127.0.0.1" 2>/dev/null
  echo "subjectAltName=IP:127.0.0.1,DNS:localhost" >"$TLS_DIR/server.ext"
  openssl x509 -req -in "$TLS_DIR/server.csr" -CA "$TLS_DIR/ca.pem" -CAkey "$TLS_DIR/ca.key" \
    -CAcreateserial -out "$TLS_DIR/server.pem" -days 365 -extfile "$TLS_DIR/server.ext" 2>/dev/null
  chmod 600 "$TLS_DIR/ca.key" "$TLS_DIR/server.key"
}
# The demo's credentials (--secure), random per demo directory, files private (0600).
make_test_secrets() {
  (
    umask 077
    # Each file on its own, so a demo directory from an older demo gains the newer ones.
    [ -f "$TLS_DIR/grpc-token" ] || openssl rand -hex 24 >"$TLS_DIR/grpc-token"
    [ -f "$TLS_DIR/http-token" ] || openssl rand -hex 24 >"$TLS_DIR/http-token"
    if [ ! -f "$TLS_DIR/redis-users.acl" ]; then
      echo "user default on >$(openssl rand -hex 12) ~* &* +@all" >"$TLS_DIR/redis-users.acl"
      echo "user demo on >$(openssl rand -hex 12) ~* &* +@all" >>"$TLS_DIR/redis-users.acl"
    fi
    [ -f "$TLS_DIR/dynamo-credentials" ] ||
      echo "AKIDEKVDEMO $(openssl rand -hex 20)" >"$TLS_DIR/dynamo-credentials"
  )
}
http_scheme() { if secure; then echo https; else echo http; fi; }

# Every node the demo started: n1-n3 and any added ones.
demo_nodes() {
  for n in 1 2 3 4 5 6 7 8 9; do
    if [ "$n" -le 3 ] || [ -f "$DEMO_DIR/n$n.pid" ]; then echo "$n"; fi
  done
}

# Starts node n$1 in the background; extra flags follow.
start_node() {
  local n="$1"; shift
  local pidfile="$DEMO_DIR/n$n.pid"
  local tls=()
  if secure; then
    tls=(--tls_cert_file "$TLS_DIR/server.pem" --tls_key_file "$TLS_DIR/server.key"
      --tls_ca_file "$TLS_DIR/ca.pem" --grpc_auth_token_file "$TLS_DIR/grpc-token"
      --http_auth_token_file "$TLS_DIR/http-token"
      --redis_users_file "$TLS_DIR/redis-users.acl"
      --dynamo_credentials_file "$TLS_DIR/dynamo-credentials")
  fi
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "n$n already running (pid $(cat "$pidfile"))"
    return
  fi
  nohup "$SERVER" --id "n$n" \
    --grpc_address "127.0.0.1:5005$n" --raft_address "127.0.0.1:5006$n" \
    --metrics_address "127.0.0.1:909$n" \
    --console_address "127.0.0.1:808$((n - 1))" \
    --redis_address "127.0.0.1:6379$n" \
    --dynamo_address "127.0.0.1:800$((n - 1))" \
    --data_dir "$DEMO_DIR/n$n" "${PLACEMENT_FLAGS[@]}" "${tls[@]}" "$@" >>"$DEMO_DIR/n$n.log" 2>&1 &
  echo $! >"$pidfile"
}

# Waits (bounded) until node n$1 answers through the public API.
wait_serving() {
  local n="$1"
  for _ in $(seq 1 150); do
    if secure; then
      # ekv-client speaks plaintext gRPC; ask the node's HTTPS readiness endpoint instead.
      if curl -sf --max-time 1 --cacert "$TLS_DIR/ca.pem" "https://127.0.0.1:909$n/readyz" \
        >/dev/null 2>&1; then
        return 0
      fi
    elif "$CLIENT" --addr "127.0.0.1:5005$n" --timeout_ms 500 routes >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$(cat "$DEMO_DIR/n$n.pid")" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "n$n did not come up; its log:" >&2
  tail -20 "$DEMO_DIR/n$n.log" >&2
  return 1
}

stop_demo() {
  local stopped=0
  for n in $(demo_nodes); do
    local pidfile="$DEMO_DIR/n$n.pid"
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      kill -TERM "$(cat "$pidfile")"
      stopped=1
    fi
  done
  for n in $(demo_nodes); do
    local pidfile="$DEMO_DIR/n$n.pid"
    if [ -f "$pidfile" ]; then
      for _ in $(seq 1 100); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
      rm -f "$pidfile"
    fi
  done
  [ "$stopped" = 1 ] && echo "ekv demo stopped (data kept in $DEMO_DIR)" || echo "ekv demo is not running"
}

case "${1:-start}" in
  stop) stop_demo; exit 0 ;;
  status)
    for n in $(demo_nodes); do
      pidfile="$DEMO_DIR/n$n.pid"
      if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        echo "n$n running (pid $(cat "$pidfile"))"
      else
        echo "n$n stopped"
      fi
    done
    exit 0 ;;
  add)
    n="${2:-}"
    if ! [[ "$n" =~ ^[4-9]$ ]]; then
      echo "usage: scripts/demo.sh add N   (N in 4..9)" >&2; exit 2
    fi
    mkdir -p "$DEMO_DIR"
    start_node "$n" --join 127.0.0.1:50051
    wait_serving "$n" || exit 1
    echo "n$n joined: gRPC 127.0.0.1:5005$n, Redis 127.0.0.1:6379$n," \
      "DynamoDB http://127.0.0.1:800$((n - 1)), metrics $(http_scheme)://127.0.0.1:909$n/metrics," \
      "console $(http_scheme)://127.0.0.1:808$((n - 1))/"
    echo "It becomes a voter of every group once it has caught up; watch: $CLIENT nodes"
    exit 0 ;;
  hot)
    seconds="${2:-150}"
    if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 30 ] || [ "$seconds" -gt 600 ]; then
      echo "usage: scripts/demo.sh hot [SECONDS]   (30..600, default 150)" >&2; exit 2
    fi
    if secure; then
      echo "scripts/demo.sh hot drives the plaintext demo; restart it with scripts/demo.sh" >&2; exit 2
    fi
    for n in 1 2 3; do
      "$CLIENT" --addr "127.0.0.1:5005$n" --timeout_ms 2000 routes >/dev/null 2>&1 ||
        { echo "n$n does not answer: start the demo first (scripts/demo.sh)" >&2; exit 1; }
    done
    [ -x "$LOAD" ] || cmake --build "$BUILD_DIR" --target ekv-load -j"$(nproc)" >/dev/null
    # The initial catalog has two Raft groups; a third lets each of the three nodes lead one.
    if [ "$("$CLIENT" --load_window_ms=0 groups | grep -c '^group ')" -lt 3 ]; then
      "$CLIENT" create-group >/dev/null && echo "created a third Raft group: $("$CLIENT" --load_window_ms=0 groups | tail -1)"
    fi
    echo "ekv-load: 64 writers, 90% of writes to the 100 keys key_000000..key_000099 of 10,000, for ${seconds} s"
    "$LOAD" --addrs 127.0.0.1:50051,127.0.0.1:50052,127.0.0.1:50053 --op put --concurrency 64 \
      --keys 10000 --hot_keys 100 --hot_percent 90 --duration_s "$seconds" >"$DEMO_DIR/hot-load.txt" 2>&1 &
    load_pid=$!
    python3 scripts/demo-hot-table.py --console http://127.0.0.1:8080 --seconds "$seconds" \
      --every 10 --hot_start key_000000 --hot_end key_000100 --logs "$DEMO_DIR/n*.log"
    wait "$load_pid" || true
    echo "ekv-load: $(cat "$DEMO_DIR/hot-load.txt")"
    exit 0 ;;
  start) rm -f "$DEMO_DIR/secure" ;;
  --secure) mkdir -p "$DEMO_DIR"; touch "$DEMO_DIR/secure" ;;
  *) echo "usage: scripts/demo.sh [start|--secure|add N|hot [SECONDS]|stop|status]" >&2; exit 2 ;;
esac

scripts/install-deps.sh
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" --target ekv-server ekv-client ekv-sim ekv-load -j"$(nproc)"

mkdir -p "$DEMO_DIR"
if secure; then make_test_ca; make_test_secrets; fi
for n in 1 2 3; do start_node "$n" --peers "$PEERS"; done
for n in 1 2 3; do
  wait_serving "$n" || { stop_demo; exit 1; }
done

cat <<INFO
ekv demo cluster is up (data and logs in $DEMO_DIR):
  n1  gRPC 127.0.0.1:50051   Redis 127.0.0.1:63791   DynamoDB http://127.0.0.1:8000   raft 127.0.0.1:50061   metrics $(http_scheme)://127.0.0.1:9091/metrics
      console $(http_scheme)://127.0.0.1:8080/
  n2  gRPC 127.0.0.1:50052   Redis 127.0.0.1:63792   DynamoDB http://127.0.0.1:8001   raft 127.0.0.1:50062   metrics $(http_scheme)://127.0.0.1:9092/metrics
      console $(http_scheme)://127.0.0.1:8081/
  n3  gRPC 127.0.0.1:50053   Redis 127.0.0.1:63793   DynamoDB http://127.0.0.1:8002   raft 127.0.0.1:50063   metrics $(http_scheme)://127.0.0.1:9093/metrics
      console $(http_scheme)://127.0.0.1:8082/
Services on every gRPC port, with server reflection: proto.RawKV, proto.TransactionalKV,
proto.Distribution, proto.Cluster (membership). Redis string commands (GET SET DEL EXISTS MGET MSET STRLEN, ...) on
every Redis port. The DynamoDB API (tables, items, Query, Scan; signatures not checked) on
every DynamoDB port. Try:
  redis-cli -p 63791 set key value ; redis-cli -p 63792 get key
  AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x aws dynamodb --region us-east-1 --endpoint-url http://127.0.0.1:8000 list-tables
  $CLIENT put key value
  $CLIENT --addr 127.0.0.1:50052 get key
  $CLIENT routes
  $CLIENT split 1 1 g
  $CLIENT nodes                      # members, their endpoints, roles per group
  scripts/demo.sh add 4              # a fourth node joins the running cluster
  scripts/demo.sh hot                # a hot key range: watch it split, move, and the load spread
  grpcurl -plaintext -d '{}' localhost:50051 proto.Distribution/ListRoutes
  curl -s http://127.0.0.1:9091/metrics | grep ekv_raft_is_leader
  curl -s http://127.0.0.1:9091/healthz ; curl -s http://127.0.0.1:9091/readyz
  open http://127.0.0.1:8080/ in a browser: nodes, groups, routes and the key-space heat map
Stop it with: scripts/demo.sh stop
INFO
if secure; then
  demo_pass="$(awk '$2 == "demo" { sub(/^>/, "", $4); print $4 }' "$TLS_DIR/redis-users.acl")"
  dynamo_secret="$(awk '{ print $2 }' "$TLS_DIR/dynamo-credentials")"
  http_token="$(cat "$TLS_DIR/http-token")"
  cat <<SECURE
Secure mode: TLS on every port (mutual TLS for Raft and joins) under the demo's test CA
$TLS_DIR/ca.pem, and authentication on every front door (secrets in $TLS_DIR):
  gRPC: bearer token $TLS_DIR/grpc-token
    $CLIENT --tls_ca_file $TLS_DIR/ca.pem --auth_token_file $TLS_DIR/grpc-token put key value
    grpcurl -cacert $TLS_DIR/ca.pem -H "authorization: Bearer \$(cat $TLS_DIR/grpc-token)" -d '{}' 127.0.0.1:50051 proto.Distribution/ListRoutes
  Redis: users in $TLS_DIR/redis-users.acl
    redis-cli --tls --cacert $TLS_DIR/ca.pem -p 63791 --user demo --pass $demo_pass get key
  DynamoDB: access key AKIDEKVDEMO (secret in $TLS_DIR/dynamo-credentials)
    AWS_ACCESS_KEY_ID=AKIDEKVDEMO AWS_SECRET_ACCESS_KEY=$dynamo_secret AWS_CA_BUNDLE=$TLS_DIR/ca.pem aws dynamodb --region us-east-1 --endpoint-url https://127.0.0.1:8000 list-tables
  Metrics and the console: https://, token $TLS_DIR/http-token (/healthz and /readyz stay open)
    curl --cacert $TLS_DIR/ca.pem -H "Authorization: Bearer \$(cat $TLS_DIR/http-token)" https://127.0.0.1:9091/metrics
    curl --cacert $TLS_DIR/ca.pem https://127.0.0.1:9091/readyz
    browser: https://127.0.0.1:8080/ (accept or import $TLS_DIR/ca.pem), then any user name
    and the password $http_token
(the plaintext lines above do not work in this mode)
SECURE
fi
