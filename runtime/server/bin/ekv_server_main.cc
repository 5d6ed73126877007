// ekv-server: one ekv node. See --help.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "adapters/dynamo/coordinator_backend.h"
#include "adapters/dynamo/dynamo_server.h"
#include "adapters/dynamo/operation_table.h"
#include "adapters/dynamo/sigv4.h"
#include "adapters/grpc/cluster_service.h"
#include "adapters/grpc/placement_service.h"
#include "adapters/grpc/request_counting_interceptor.h"
#include "adapters/grpc/services.h"
#include "adapters/grpc/token_auth.h"
#include "adapters/redis/acl_file.h"
#include "adapters/redis/command_table.h"
#include "adapters/redis/coordinator_backend.h"
#include "adapters/redis/lua/lua_script_runner.h"
#include "adapters/redis/redis_server.h"
#include "core/node/group_state_machine.h"
#include "core/redis/keyspace_events.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/resource_quota.h"
#include "runtime/console/console_server.h"
#include "runtime/console/load_history.h"
#include "runtime/console/node_document.h"
#include "runtime/log/logger.h"
#include "runtime/metrics/health.h"
#include "runtime/metrics/http_server.h"
#include "runtime/metrics/latency_histogram.h"
#include "runtime/metrics/readiness.h"
#include "runtime/metrics/server_collectors.h"
#include "runtime/metrics/tls_files.h"
#include "runtime/secrets/secret_file.h"
#include "runtime/server/cluster_join.h"
#include "runtime/server/coordinator.h"
#include "runtime/server/gc_scheduler.h"
#include "runtime/server/node_loop.h"
#include "runtime/server/placement_runner.h"
#include "runtime/server/pubsub_fanout.h"
#include "runtime/server/server_config.h"
#include "runtime/server/staged_snapshot_sink.h"
#include "runtime/storage/node_identity.h"
#include "runtime/storage/rocksdb_engine.h"
#include "runtime/storage/rocksdb_env.h"
#include "runtime/storage/rocksdb_raft_storage.h"
#include "runtime/storage/snapshot_staging.h"
#include "runtime/transport/peer_tls.h"
#include "runtime/transport/raft_transport.h"

ABSL_FLAG(std::string, config, "",
          "Optional config file of 'name = value' lines using these flag names; flags given "
          "on the command line win.");
ABSL_FLAG(std::string, id, "", "This node's id: n1, n2, ... (or 1, 2, ...). Required.");
ABSL_FLAG(std::string, grpc_address, "",
          "Listen address of the public gRPC API (RawKV, TransactionalKV, Distribution, "
          "Cluster, with server reflection), e.g. 127.0.0.1:50051. Required. Like every "
          "endpoint below, it is recorded in the cluster's member directory "
          "(proto.Cluster/ListNodes); an endpoint on 0.0.0.0 is recorded with the host of "
          "--advertise_grpc_address.");
ABSL_FLAG(std::string, advertise_grpc_address, "",
          "The gRPC address clients dial, as this node records it in the cluster's member "
          "directory (proto.Cluster/ListNodes). Default: --grpc_address; required when that "
          "listens on every interface (0.0.0.0:PORT).");
ABSL_FLAG(std::string, metrics_address, "",
          "Listen address of the operator's HTTP endpoint, e.g. 127.0.0.1:9091: Prometheus "
          "metrics at /metrics, liveness at /healthz, readiness (a leader known for every "
          "group, the route catalog loaded) at /readyz. Empty (the default): off.");
// --- ops: console ---
ABSL_FLAG(std::string, console_address, "",
          "Listen address of the admin web console, e.g. 127.0.0.1:8080: a page with the "
          "cluster's nodes and their endpoints, Raft groups (leaders, apply lag), the route "
          "table and a key-space heat map (reads, writes or bytes per second per route over "
          "the last 10 minutes), and its JSON at /api/cluster. Other nodes' status and load "
          "are fetched from their --metrics_address. Empty (the default): off.");
ABSL_FLAG(int, load_sample_ms, 10000,
          "How often the node samples its per-route load counters for the console's heat "
          "map (60 samples are kept). Only used with --metrics_address or --console_address.");
ABSL_FLAG(std::string, log_level, "info",
          "Least severe log lines written (error, warn, info, debug). Lines go to standard "
          "output, one per event, in logfmt: time=... level=... node=nN [group=G] msg=\"...\".");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate (chain) for TLS on the client ports: the public gRPC API, the "
          "Redis front door (redis-cli --tls), the DynamoDB front door (HTTPS), the metrics "
          "endpoint and the console (HTTPS); plaintext clients are refused on each. Needs "
          "--tls_key_file. Default: empty, plaintext.");
ABSL_FLAG(std::string, tls_key_file, "",
          "PEM private key of --tls_cert_file. The node refuses to start when users other "
          "than the file's owner can read it (chmod 600 it).");
ABSL_FLAG(std::string, tls_ca_file, "",
          "PEM certificate of the cluster CA. With --tls_cert_file it turns on mutual TLS "
          "between nodes: the Raft port accepts only peers presenting a certificate this CA "
          "signed, node-to-node channels present --tls_cert_file and verify peers against "
          "it, and Cluster.AddNode (--join) requires such a client certificate, so only "
          "holders of the cluster's certificate can join or send Raft traffic (each node's "
          "certificate must name its advertised raft host). The console also trusts it for "
          "peers' HTTPS endpoints; clients trust the node with the same CA. Default: empty, "
          "node-to-node traffic in plaintext.");
ABSL_FLAG(std::string, grpc_auth_token_file, "",
          "File holding a bearer token (one word) that every call to the public gRPC API "
          "must present as the metadata 'authorization: Bearer <token>'; calls without it "
          "or with another token are answered UNAUTHENTICATED. Needs --tls_cert_file (a "
          "token is never accepted in plaintext). Only the file's owner may read it; the "
          "token is never logged. A node started with --join presents it to the member. "
          "Default: empty, no token required.");
ABSL_FLAG(int64_t, grpc_max_inflight, 0,
          "Bound on RawPut/RawGet calls in progress at once on the public gRPC port (they "
          "run on gRPC's callback API, without a thread each); one more is answered "
          "RESOURCE_EXHAUSTED at once, so a flood costs bounded memory. The other calls are "
          "bounded by --grpc_max_threads. Default: 0, no bound.");
ABSL_FLAG(int64_t, dynamo_max_inflight, 0,
          "Bound on DynamoDB operations in progress at once on --dynamo_address; one more is "
          "answered at once with DynamoDB's throttling errors (HTTP 400 "
          "ProvisionedThroughputExceededException for item operations, ThrottlingException for "
          "the others), which AWS SDKs retry with backoff. Default: 0, no bound beyond "
          "--dynamo_workers.");
ABSL_FLAG(int64_t, dynamo_workers, 8,
          "Connections the DynamoDB port serves at once (one thread each; a keep-alive "
          "connection holds its thread until idle for 5 s). Default: 8.");
ABSL_FLAG(int64_t, dynamo_max_queued_connections, 64,
          "Connections accepted by the DynamoDB port that wait for one of --dynamo_workers. "
          "A connection beyond them is answered at once, every request on it with HTTP 400 "
          "ThrottlingException (\"Rate of requests exceeds the allowed throughput.\", which "
          "AWS SDKs retry with backoff), and closed, by 2 shedding threads with room for 256 "
          "such connections; only past those do clients wait in the listen backlog. "
          "Default: 64.");
ABSL_FLAG(int64_t, dynamo_max_request_bytes, 16 << 20,
          "Largest DynamoDB request body; a bigger one is answered HTTP 413. Default: "
          "16777216 (16 MiB, DynamoDB's own request limit).");
ABSL_FLAG(int64_t, dynamo_table_stats_interval_s, 6 * 3600,
          "How old DescribeTable's ItemCount and TableSizeBytes (and each index's ItemCount "
          "and IndexSizeBytes) may get before a node counts the table again, in seconds: a "
          "background scan of the table and its indexes at a snapshot, at most 5000 items "
          "every --dynamo_ttl_sweep_interval_ms. The figures are approximate, as DynamoDB's "
          "(refreshed about every six "
          "hours). Default: 21600 (6 hours).");
ABSL_FLAG(int64_t, dynamo_ttl_sweep_interval_ms, 2000,
          "How often the DynamoDB adapter's background passes run, in milliseconds: the Time "
          "to Live sweep (deleting expired items, at most 2000 examined per pass), index "
          "backfill, table counts and the token sweep. An expired item is deleted within a "
          "few intervals. Default: 2000.");
ABSL_FLAG(int, grpc_max_threads, 0,
          "Bound on the threads of the public gRPC server's synchronous calls (all but "
          "RawPut/RawGet; gRPC's ResourceQuota): calls beyond it wait for a thread or are "
          "answered RESOURCE_EXHAUSTED by gRPC. At least 4. Default: 0, gRPC's default (no "
          "bound).");
ABSL_FLAG(int64_t, grpc_max_receive_message_bytes, 8 << 20,
          "Largest request the public gRPC port accepts; a bigger one is answered "
          "RESOURCE_EXHAUSTED before it reaches a service. The default has room for a write of "
          "ekv's largest value (4 MiB) and key (8 KiB) and as much again. Default: "
          "8388608 (8 MiB).");
ABSL_FLAG(int64_t, grpc_max_send_message_bytes, 256 << 20,
          "Largest reply the public gRPC port sends (a scan's reply grows with its limit); "
          "a call whose reply is bigger is answered RESOURCE_EXHAUSTED: scan with a smaller "
          "limit. Clients bound what they receive themselves (gRPC's client default is 4 MiB). "
          "Default: 268435456 (256 MiB, as between nodes).");
ABSL_FLAG(std::string, http_auth_token_file, "",
          "File holding a token (one word) that the metrics endpoint and the console "
          "require: requests must send 'Authorization: Bearer <token>' (Prometheus' "
          "bearer_token_file, curl -H) or HTTP Basic credentials with any user name and the "
          "token as the password (what a browser prompts for), else they are answered 401. "
          "/healthz and /readyz stay open for probes. The console presents the token to the "
          "other nodes' metrics endpoints, so every node is given the same file. Needs "
          "--tls_cert_file; only the file's owner may read it; never logged. Default: "
          "empty, no token required.");
// --- end ops ---
ABSL_FLAG(std::string, redis_address, "",
          "Listen address of the Redis front door (RESP2/RESP3 string commands over the "
          "RawKV keyspace), e.g. 127.0.0.1:63791. Default: empty, no Redis front door.");
ABSL_FLAG(std::string, redis_requirepass, "",
          "Password of the Redis front door's default user (Redis's requirepass): when set, "
          "every command but AUTH, HELLO, QUIT and RESET answers NOAUTH until the client "
          "authenticates. Never logged. Default: empty, no password.");
ABSL_FLAG(std::string, redis_notify_keyspace_events, "",
          "The Redis front door's notify-keyspace-events at start (Redis's classes, e.g. KEA; "
          "CONFIG SET changes it later, on this node only): this node's writes publish their "
          "keyspace events to the subscribers of every node. Not published: expired, evicted, "
          "keymiss and stream events. Default: empty, none (as Redis).");
ABSL_FLAG(std::string, redis_users_file, "",
          "Users of the Redis front door, in Redis's ACL file format (one \"user NAME on "
          ">PASSWORD RULES...\" per line, the same file redis-server's aclfile reads): AUTH "
          "NAME PASSWORD and HELLO 3 AUTH NAME PASSWORD log in as them. The rules are Redis "
          "7's, applied left to right from no permissions: +@CATEGORY -@CATEGORY +COMMAND "
          "-COMMAND +COMMAND|SUBCOMMAND -COMMAND|SUBCOMMAND allcommands nocommands, "
          "~KEYPATTERN %RW~KEYPATTERN allkeys resetkeys, &CHANNEL allchannels resetchannels, "
          "reset, resetpass, >PASSWORD, #SHA256, <PASSWORD, nopass (e.g. \"user app on >pw "
          "~app:* +@read +@write -@dangerous +config|get\"); a refused command answers Redis's "
          "-NOPERM error and is recorded in ACL LOG. Other rules (%R~, %W~, +select|0, "
          "selectors) stop the node at startup. A \"user default ...\" line is the default "
          "user (its password excludes --redis_requirepass); without one, new connections are "
          "the passwordless default user with full access, as in Redis. ACL SETUSER/DELUSER "
          "change this node only; ACL LOAD reads this file again and ACL SAVE writes the "
          "node's users to it (give every node the same file and run ACL LOAD on each). "
          "Only the file's owner may read it; passwords are kept and saved as SHA-256 "
          "hashes and never logged. Default: empty, only the default user (ACL LOAD/SAVE "
          "answer an error).");
ABSL_FLAG(int64_t, redis_max_clients, 10000,
          "Most Redis connections at once (Redis's maxclients); one more is answered "
          "'-ERR max number of clients reached' and closed.");
ABSL_FLAG(
    std::string, dynamo_address, "",
    "Listen address of the DynamoDB front door (HTTP, X-Amz-Target "
    "DynamoDB_20120810.*; SigV4 checked with --dynamo_credentials_file), e.g. 127.0.0.1:8000. "
    "Default: empty, no DynamoDB front door.");
ABSL_FLAG(std::string, dynamo_credentials_file, "",
          "File of the DynamoDB front door's access keys, one \"ACCESS_KEY_ID "
          "SECRET_ACCESS_KEY\" pair per line ('#' comments): every request's SigV4 "
          "signature is verified against them, and a request without one, with an unknown "
          "key id (UnrecognizedClientException), a wrong signature or a date more than 15 "
          "minutes off (InvalidSignatureException) is refused. Any region is accepted. The "
          "file must not be world-readable; secrets are never logged. Default: empty, "
          "signatures are not checked.");
ABSL_FLAG(std::string, dynamo_cors_origins, "",
          "Web origins whose pages may call the DynamoDB front door from a browser (CORS), "
          "comma-separated (https://app.example.com,http://localhost:3000), or * for any: "
          "preflight OPTIONS requests are answered and replies carry "
          "Access-Control-Allow-Origin. Default: empty, no cross-origin access (DynamoDB "
          "Local defaults to *; without --dynamo_credentials_file that would let any page a "
          "user opens write to the cluster).");
ABSL_FLAG(std::string, raft_address, "",
          "Listen address for node-to-node traffic (Raft messages, snapshots, forwarded "
          "requests). Default: this node's entry in --peers, which is the address peers "
          "dial (the advertised address); set 0.0.0.0:PORT or [::]:PORT to listen on every "
          "interface while advertising the --peers entry.");
ABSL_FLAG(std::string, peers, "",
          "Advertised raft addresses of all members, this node included: "
          "n1=127.0.0.1:50061,n2=127.0.0.1:50062,n3=127.0.0.1:50063. Required to bootstrap "
          "a cluster; a node started with --join learns the members from the cluster. Once "
          "the cluster runs, the member directory it replicates (each node records its own "
          "addresses there) takes precedence.");
ABSL_FLAG(std::string, data_dir, "",
          "Directory for this node's RocksDB (Raft log, hard state, snapshots). Created if "
          "missing; locked while the node runs. Required.");
ABSL_FLAG(int, groups, 2, "Number of Raft groups of a new cluster (each on every member).");
ABSL_FLAG(std::string, split_points, "m",
          "groups-1 comma-separated keys splitting the key space among the groups of a new "
          "cluster: group i owns [split[i-1], split[i]). Default: route 1 = [\"\", \"m\") on "
          "group 1, route 2 = [\"m\", +inf) on group 2.");
ABSL_FLAG(bool, bootstrap, true,
          "Create the cluster's groups when the data dir holds none. Turn off for a node "
          "that must only ever restart from existing data.");
ABSL_FLAG(std::string, join, "",
          "gRPC address of a member of a running cluster (e.g. 127.0.0.1:50051). A node "
          "whose data dir is new joins that cluster instead of bootstrapping one: the member "
          "records its addresses and adds it to every Raft group as a learner, the node "
          "receives each group's snapshot, then becomes a voter. Needs --raft_address (the "
          "address peers dial). Once the data dir has state the node just restarts, so the "
          "same command line serves every start. --groups, --split_points and --peers are "
          "not needed.");
ABSL_FLAG(int, join_timeout_ms, 60000,
          "How long --join keeps asking the member before giving up (non-zero exit).");
ABSL_FLAG(int, tick_ms, 50, "Raft tick interval in milliseconds.");
ABSL_FLAG(int, election_ticks, 10,
          "Election timeout in ticks (randomized in [n, 2n)); must exceed heartbeat_ticks.");
ABSL_FLAG(int, heartbeat_ticks, 1, "Leader heartbeat interval in ticks.");
ABSL_FLAG(bool, lease_reads, true,
          "Serve linearizable reads from the leader's lease (no heartbeat round per read) "
          "while it is valid; otherwise confirm leadership with a ReadIndex round.");
ABSL_FLAG(int, max_clock_drift_ticks, 2,
          "Lease safety margin: how many ticks node clocks may drift apart per election "
          "timeout. Must be below --election_ticks.");
ABSL_FLAG(int, request_timeout_ms, 5000, "Deadline of one client request inside the cluster.");
ABSL_FLAG(uint64_t, snapshot_chunk_bytes, 1 << 20,
          "Snapshots sent to lagging followers stream in chunks of about this many bytes "
          "(key and value bytes); neither side holds a whole snapshot in memory.");
ABSL_FLAG(uint64_t, snapshot_interval_entries, 10000,
          "Take a state-machine snapshot and compact the Raft log every this many entries "
          "(0: only after membership changes, whose new members always start from a "
          "snapshot).");
ABSL_FLAG(std::string, planted_bugs, "",
          "TESTING ONLY: comma-separated bugs to plant in the server so black-box tests "
          "can show they catch them: resolve_rolls_back_committed (lock resolution rolls back "
          "a committed transaction's secondary), no_stale_route_retry, retry_unknown_write, "
          "ack_before_fsync (every write, Raft appends and votes included, skips the WAL and "
          "fsync and is acknowledged from memory; memtables are flushed once a second, so a "
          "kill -9 loses the last second), follower_read_without_quorum (a replica that is not "
          "the leader answers reads from its local state without ReadIndex or lease). Never "
          "set in production.");
ABSL_FLAG(int64_t, gc_interval_ms, 60000,
          "MVCC garbage collection: every this many milliseconds, each group this node leads "
          "removes the versions no read inside the retention window can see, in bounded "
          "replicated passes, then removes the Redis records no key points at any more (elements "
          "of deleted or overwritten collections, expired collections). 0 turns both off.");
ABSL_FLAG(uint64_t, gc_retention_ms, 600000,
          "MVCC garbage collection keeps every version a read at (now - this many "
          "milliseconds) or later can see. Reads and transactions with an older timestamp "
          "fail with FAILED_PRECONDITION (\"below the GC safe point\"), so this must exceed "
          "the longest transaction. Default 10 minutes.");

ABSL_FLAG(bool, placement, true,
          "Automatic placement (core/placement, docs/architecture.md \"Placement policy\"): "
          "the node leading the catalog group splits ranges that stay hot or grow big and "
          "moves ranges from the busiest Raft group to the idlest, one operation at a time, "
          "each logged with its reason. Operators pause and resume it per node with "
          "`ekv-client placement pause|resume` (Placement.SetPlacement). With one group "
          "only splits happen.");
ABSL_FLAG(double, placement_split_qps, 2500,
          "Placement: a range serving at least this many requests (keys read + written) per "
          "second for --placement_split_sustain_ms splits at the key that halves its sampled "
          "load (never beside a single hot key). 0 turns load splits off. CockroachDB's "
          "default.");
ABSL_FLAG(int64_t, placement_split_sustain_ms, 10000,
          "Placement: how long a range must stay above --placement_split_qps before it splits.");
ABSL_FLAG(uint64_t, placement_split_size_bytes, 64ull << 20,
          "Placement: a range splits once this many bytes were written to it (measured on "
          "the replica that answers, since it started: an upper bound of the range's size "
          "until GC; the engine has no per-range size estimate yet). 0 turns size splits off.");
ABSL_FLAG(double, placement_balance_tolerance, 0.25,
          "Placement: the busiest group sheds a range to the idlest once its load exceeds the "
          "mean by this fraction for --placement_balance_sustain_ms.");
ABSL_FLAG(double, placement_min_balance_qps, 100,
          "Placement: below this many requests per second the busiest group is left alone.");
ABSL_FLAG(int64_t, placement_balance_sustain_ms, 30000,
          "Placement: how long an imbalance must last before a range moves.");
ABSL_FLAG(int64_t, placement_cooldown_ms, 30000,
          "Placement: a range that was split or moved is left alone this long.");
ABSL_FLAG(double, placement_merge_qps, 250,
          "Placement: two adjacent ranges merge into one when together they serve fewer "
          "requests per second than this and are below --placement_merge_size_bytes; on "
          "different groups the right one moves into the left's group first. 0 turns merges "
          "off.");
ABSL_FLAG(uint64_t, placement_merge_size_bytes, 20ull << 20,
          "Placement: two adjacent ranges merge only while the bytes written to them together "
          "(the size the split uses) are below this (TiKV's PD: 20 MiB). 0 turns merges off.");
ABSL_FLAG(int64_t, placement_merge_cooldown_ms, 3600000,
          "Placement: a range merges only once the deciding node has known it this long, so "
          "never within this long of the split or merge that made it (TiKV's PD "
          "split-merge-interval, 1 h).");
ABSL_FLAG(int64_t, placement_interval_ms, 1000,
          "Placement: how often the deciding node reads the catalog and the groups' load.");
ABSL_FLAG(bool, placement_balance_replicas, true,
          "Placement: also move replicas of created groups (one move per round) until every "
          "member hosts within one replica of the others, so a joined node receives some. "
          "Each move copies a whole group to another node; with "
          "--placement_balance_replicas=false only operators move replicas (`ekv-client "
          "move-replica`, `drain`). The initial groups (--groups) live on every member and "
          "never move.");
ABSL_FLAG(bool, placement_balance_leaders, true,
          "Placement: also hand Raft leaderships over (one per round) while a node leads more "
          "than +-25% off the mean number of groups per node, from the node leading the most "
          "to a voter of that group leading the fewest (two or more fewer). Each transfer "
          "pauses that group's writes for about one round trip. "
          "--placement_balance_leaders=false leaves leaderships where elections put them.");
ABSL_FLAG(int64_t, placement_leader_cooldown_ms, 10000,
          "Placement: a group whose leadership was handed over is left alone this long (and "
          "counted as led by its new leader meanwhile), so leaders never flap.");

namespace {

using ekv::runtime::ServerConfig;

int Fail(const std::string& message) {
  std::cerr << "ekv-server: " << message << "\n";
  return 1;
}

// Applies a config file's values as flag defaults (before the command line is parsed).
absl::Status ApplyConfigFile(int argc, char** argv) {
  std::string path;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--config=", 0) == 0) path = arg.substr(9);
    if (arg == "--config" && i + 1 < argc) path = argv[i + 1];
  }
  if (path.empty()) return absl::OkStatus();
  auto values = ekv::runtime::ReadConfigFile(path);
  if (!values.ok()) return values.status();
  for (const auto& [name, value] : *values) {
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr || name == "config") {
      return absl::InvalidArgumentError(absl::StrCat(path, ": unknown setting '", name, "'"));
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", name, ": ", error));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ServerConfig> ConfigFromFlags() {
  ServerConfig config;
  auto id = ekv::runtime::ParseNodeId(absl::GetFlag(FLAGS_id));
  if (!id.ok()) return absl::InvalidArgumentError(absl::StrCat("--id: ", id.status().message()));
  config.node_id = *id;
  config.node_name = absl::StrCat("n", *id);
  config.grpc_address = absl::GetFlag(FLAGS_grpc_address);
  config.advertise_grpc_address = absl::GetFlag(FLAGS_advertise_grpc_address);
  config.raft_address = absl::GetFlag(FLAGS_raft_address);
  config.data_dir = absl::GetFlag(FLAGS_data_dir);
  // A joining node may leave --peers out: the cluster tells it where the members are.
  if (!absl::GetFlag(FLAGS_peers).empty() || absl::GetFlag(FLAGS_join).empty()) {
    auto peers = ekv::runtime::ParsePeers(absl::GetFlag(FLAGS_peers));
    if (!peers.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--peers: ", peers.status().message()));
    }
    config.peers = *peers;
  }
  config.groups = absl::GetFlag(FLAGS_groups);
  auto ranges =
      ekv::runtime::RangesFromSplitPoints(absl::GetFlag(FLAGS_split_points), config.groups);
  if (!ranges.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--split_points: ", ranges.status().message()));
  }
  config.initial_ranges = *ranges;
  config.bootstrap = absl::GetFlag(FLAGS_bootstrap);
  config.join = absl::GetFlag(FLAGS_join);
  config.join_timeout_ms = absl::GetFlag(FLAGS_join_timeout_ms);
  ekv::runtime::AddSelfToPeersForJoin(&config);
  config.tick_ms = absl::GetFlag(FLAGS_tick_ms);
  config.election_ticks = absl::GetFlag(FLAGS_election_ticks);
  config.heartbeat_ticks = absl::GetFlag(FLAGS_heartbeat_ticks);
  config.request_timeout_ms = absl::GetFlag(FLAGS_request_timeout_ms);
  config.snapshot_interval_entries = absl::GetFlag(FLAGS_snapshot_interval_entries);
  if (absl::Status s = ekv::runtime::ValidateServerConfig(config); !s.ok()) return s;
  return config;
}

// The Redis front door's view of the node-to-node pub/sub fan-out: adapters/redis knows
// no runtime type, so main, which knows both, joins them.
class RedisFanout final : public ekv::redis::PubSubFanout {
 public:
  explicit RedisFanout(ekv::runtime::PubSubFanout* fanout) : fanout_(fanout) {}
  void PublishToPeers(std::string channel, std::string message,
                      std::function<void(int64_t)> done) override {
    fanout_->Publish(std::move(channel), std::move(message), std::move(done));
  }

 private:
  ekv::runtime::PubSubFanout* fanout_;
};

}  // namespace

int main(int argc, char** argv) {
  {
    // absl's --help lists only flags defined in a file named like the program; ours live
    // in *_main.cc / main.cc, so list every flag that is not Abseil's own.
    absl::FlagsUsageConfig usage;
    usage.contains_help_flags = [](absl::string_view path) {
      return !absl::StrContains(path, "absl/");
    };
    usage.contains_helpshort_flags = usage.contains_help_flags;
    absl::SetFlagsUsageConfig(usage);
  }
  absl::SetProgramUsageMessage(
      "One node of an ekv cluster: Raft-replicated, range-sharded key-value storage.\n"
      "Serves the gRPC services proto.RawKV, proto.TransactionalKV, proto.Distribution and\n"
      "proto.Cluster (with server reflection) on --grpc_address; talks to its peers on\n"
      "--raft_address.\n"
      "Example (node 1 of the local demo):\n"
      "  ekv-server --id n1 --grpc_address 127.0.0.1:50051 --raft_address 127.0.0.1:50061\n"
      "    --peers n1=127.0.0.1:50061,n2=127.0.0.1:50062,n3=127.0.0.1:50063\n"
      "    --data_dir /tmp/ekv/n1\n"
      "Adding a fourth node to that running cluster:\n"
      "  ekv-server --id n4 --grpc_address 127.0.0.1:50054 --raft_address 127.0.0.1:50064\n"
      "    --data_dir /tmp/ekv/n4 --join 127.0.0.1:50051\n"
      "SIGTERM or SIGINT shuts the node down gracefully.");
  if (absl::Status s = ApplyConfigFile(argc, argv); !s.ok()) return Fail(std::string(s.message()));
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<ServerConfig> config = ConfigFromFlags();
  if (!config.ok()) return Fail(std::string(config.status().message()));
  absl::StatusOr<ekv::runtime::LogLevel> log_level =
      ekv::runtime::ParseLogLevel(absl::GetFlag(FLAGS_log_level));
  if (!log_level.ok()) return Fail(absl::StrCat("--log_level: ", log_level.status().message()));
  const ekv::runtime::Logger logger(*log_level, config->node_id);
  const ekv::runtime::metrics::TlsFiles tls{absl::GetFlag(FLAGS_tls_cert_file),
                                            absl::GetFlag(FLAGS_tls_key_file),
                                            absl::GetFlag(FLAGS_tls_ca_file)};
  if (absl::Status s = ekv::runtime::metrics::ValidateTlsFiles(tls); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  const char* const http_scheme = tls.enabled() ? "https://" : "http://";
  std::string grpc_auth_token;
  if (const std::string path = absl::GetFlag(FLAGS_grpc_auth_token_file); !path.empty()) {
    if (!tls.enabled()) {
      return Fail(
          "--grpc_auth_token_file needs --tls_cert_file and --tls_key_file: a bearer "
          "token sent in plaintext could be read off the network");
    }
    auto token = ekv::adapters::ReadAuthTokenFile(path);
    if (!token.ok())
      return Fail(absl::StrCat("--grpc_auth_token_file: ", token.status().message()));
    grpc_auth_token = *token;
  }
  std::string http_auth_token;
  if (const std::string path = absl::GetFlag(FLAGS_http_auth_token_file); !path.empty()) {
    if (!tls.enabled()) {
      return Fail(
          "--http_auth_token_file needs --tls_cert_file and --tls_key_file: a token sent "
          "in plaintext could be read off the network");
    }
    // The same one-word format as the gRPC token.
    auto token = ekv::adapters::ReadAuthTokenFile(path);
    if (!token.ok())
      return Fail(absl::StrCat("--http_auth_token_file: ", token.status().message()));
    http_auth_token = *token;
  }
  const std::optional<uint32_t> redis_notify_flags =
      ekv::redis_core::ParseKeyspaceEvents(absl::GetFlag(FLAGS_redis_notify_keyspace_events));
  if (!redis_notify_flags.has_value()) {
    return Fail(
        "--redis_notify_keyspace_events: invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
  }
  std::optional<ekv::redis::AclFile> redis_users;
  if (const std::string path = absl::GetFlag(FLAGS_redis_users_file); !path.empty()) {
    auto users = ekv::redis::ReadAclFile(path);
    if (!users.ok()) return Fail(absl::StrCat("--redis_users_file: ", users.status().message()));
    if (users->defines_default && !absl::GetFlag(FLAGS_redis_requirepass).empty()) {
      return Fail("--redis_users_file sets the default user's password; drop --redis_requirepass");
    }
    redis_users = std::move(*users);
  }
  std::shared_ptr<const ekv::dynamo::SigV4Verifier> dynamo_credentials;
  if (const std::string path = absl::GetFlag(FLAGS_dynamo_credentials_file); !path.empty()) {
    auto verifier = ekv::dynamo::SigV4Verifier::FromFile(path);
    if (!verifier.ok()) {
      return Fail(absl::StrCat("--dynamo_credentials_file: ", verifier.status().message()));
    }
    dynamo_credentials = std::make_shared<const ekv::dynamo::SigV4Verifier>(std::move(*verifier));
  }
  absl::StatusOr<ekv::dynamo::CorsPolicy> dynamo_cors =
      ekv::dynamo::CorsPolicy::Parse(absl::GetFlag(FLAGS_dynamo_cors_origins));
  if (!dynamo_cors.ok()) {
    return Fail(absl::StrCat("--dynamo_cors_origins: ", dynamo_cors.status().message()));
  }
  ekv::runtime::PeerTls peer_tls;
  if (tls.enabled() && !tls.ca_file.empty()) {
    auto cert = ekv::runtime::metrics::ReadPemFile(tls.cert_file);
    auto key = ekv::runtime::ReadSecretFile(tls.key_file, "a key");
    auto ca = ekv::runtime::metrics::ReadPemFile(tls.ca_file);
    if (!cert.ok() || !key.ok() || !ca.ok()) {
      return Fail(std::string((!cert.ok() ? cert : !key.ok() ? key : ca).status().message()));
    }
    peer_tls = {*cert, *key, *ca};
  }
  const std::shared_ptr<grpc::ChannelCredentials> peer_credentials =
      ekv::runtime::PeerChannelCredentials(peer_tls);

  // Block shutdown signals in every thread; the main thread waits for them below.
  // gRPC's absl::Mutex use would otherwise pay for deadlock-cycle bookkeeping on every
  // lock (the Debian Abseil build enables it); our own code uses std::mutex.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ekv::runtime::RocksDbEnvOptions env_options;
  for (absl::string_view bug :
       absl::StrSplit(absl::GetFlag(FLAGS_planted_bugs), ',', absl::SkipEmpty())) {
    if (bug == "ack_before_fsync") env_options.planted_ack_before_fsync = true;
  }
  auto env = ekv::runtime::RocksDbEnv::Open(config->data_dir, env_options);
  if (!env.ok()) return Fail(std::string(env.status().message()));

  // What the member directory records for this node: every endpoint, as clients and
  // peers dial it.
  const ekv::node::MemberAddresses self_addresses{
      ekv::runtime::AdvertisedRaftAddress(*config), ekv::runtime::AdvertisedGrpcAddress(*config),
      ekv::runtime::AdvertisedFrontDoorAddress(*config, absl::GetFlag(FLAGS_redis_address)),
      ekv::runtime::AdvertisedFrontDoorAddress(*config, absl::GetFlag(FLAGS_dynamo_address)),
      ekv::runtime::AdvertisedFrontDoorAddress(*config, absl::GetFlag(FLAGS_metrics_address))};
  // Which groups this node hosts: recorded in its data dir; for a new data dir, the
  // cluster's groups (joining) or the ones this node bootstraps.
  std::vector<ekv::raft::GroupId> groups;
  bool joining = false;    // a new data dir joining a running cluster
  bool restarted = false;  // the data dir has this node's identity: never bootstrap again
  std::map<ekv::raft::NodeId, std::string> first_peers = config->peers;  // before the directory
  {
    auto identity = ekv::runtime::ReadNodeIdentity(env->get());
    if (!identity.ok()) return Fail(std::string(identity.status().message()));
    if (identity->has_value() && (*identity)->node != config->node_id) {
      return Fail(absl::StrCat("data dir ", config->data_dir, " belongs to node n",
                               (*identity)->node, ", not n", config->node_id));
    }
    if (identity->has_value()) {
      groups = (*identity)->groups;
      restarted = true;
      for (const auto& [id, address] : (*identity)->peers) first_peers.emplace(id, address);
    } else {
      for (int g = 1; g <= config->groups; ++g) groups.push_back(g);
      // Data dirs written before identities were recorded have state but no identity.
      bool has_state = false;
      for (ekv::raft::GroupId group : groups) {
        auto storage = ekv::runtime::RocksDbRaftStorage::Open(env->get(), group);
        if (!storage.ok()) return Fail(std::string(storage.status().message()));
        has_state = has_state || (*storage)->LastIndex() != 0 ||
                    !(*storage)->hard_state().IsEmpty() || !(*storage)->GetSnapshot()->IsEmpty();
      }
      if (!config->join.empty() && !has_state) {
        logger.Info(absl::StrCat("joining the cluster through ", config->join));
        auto plan = ekv::runtime::RequestJoin(
            config->join, config->node_id, self_addresses,
            std::chrono::milliseconds(config->join_timeout_ms), peer_credentials,
            grpc_auth_token.empty() ? std::string() : ekv::adapters::BearerValue(grpc_auth_token));
        if (!plan.ok()) return Fail(std::string(plan.status().message()));
        groups = plan->groups;
        joining = true;
        std::string peers_named;
        for (const auto& [id, addresses] : plan->members) {
          first_peers[id] = addresses.raft_address;
          absl::StrAppend(&peers_named, " n", id, "=", addresses.raft_address);
        }
        // Until the catalog group's log arrives these are the only peers this node can
        // answer: one missing here is the first thing to look for when a join stalls.
        logger.Info(absl::StrCat("joined: ", groups.size(), " groups; peers", peers_named));
        // Recorded before any group exists: a restart must find the groups and must never
        // bootstrap them (they belong to the cluster it joined).
        if (absl::Status s =
                ekv::runtime::WriteNodeIdentity(env->get(), {config->node_id, groups, first_peers});
            !s.ok()) {
          return Fail(std::string(s.message()));
        }
      }
    }
  }

  ekv::runtime::TransportOptions transport_options;
  transport_options.peer_credentials = peer_credentials;
  transport_options.snapshot_chunk_bytes =
      std::max<uint64_t>(1, absl::GetFlag(FLAGS_snapshot_chunk_bytes));
  // The member directory (the catalog group's) takes over once this node has it.
  ekv::runtime::RaftTransport transport(config->node_id, first_peers, transport_options);
  absl::StatusOr<ekv::route::RouteCatalog> initial_catalog = [&] {
    std::vector<ekv::route::InitialRange> ranges;
    for (const auto& range : config->initial_ranges) {
      ranges.push_back({range.start, range.end, range.group});
    }
    return ekv::route::RouteCatalog::Bootstrap(ranges);
  }();
  if (!initial_catalog.ok()) return Fail(std::string(initial_catalog.status().message()));

  ekv::runtime::NodeLoopOptions loop_options;
  loop_options.node_id = config->node_id;
  loop_options.tick_ms = config->tick_ms;
  loop_options.bootstrap = config->bootstrap;
  // After the first start, a group without state waits for its leader (the node may have
  // joined, or crashed before a snapshot arrived): bootstrapping it again would found a
  // second, divergent group under the same id.
  loop_options.join = joining || restarted;
  std::vector<ekv::raft::NodeId> members;
  if (!loop_options.join) {
    for (const auto& [id, address] : config->peers) members.push_back(id);
  }
  for (ekv::raft::GroupId group : groups) loop_options.groups.push_back({group, members});
  loop_options.host.raft.election_tick = config->election_ticks;
  loop_options.host.raft.heartbeat_tick = config->heartbeat_ticks;
  loop_options.host.raft.check_quorum = true;
  loop_options.host.raft.pre_vote = true;
  if (absl::GetFlag(FLAGS_lease_reads)) {
    loop_options.host.raft.read_only_option = ekv::raft::ReadOnlyOption::kLeaseBased;
    loop_options.host.raft.max_clock_drift_ticks = absl::GetFlag(FLAGS_max_clock_drift_ticks);
  }
  if (absl::Status valid =
          [&] {
            ekv::raft::Config probe = loop_options.host.raft;
            probe.id = config->node_id;
            ekv::raft::MemoryStorage storage;
            probe.storage = &storage;
            return probe.Validate();
          }();
      !valid.ok()) {
    return Fail(std::string(valid.message()));
  }
  loop_options.host.snapshot_interval_entries = config->snapshot_interval_entries;
  loop_options.host.compaction_lag_entries = 1000;
  loop_options.host.request_timeout_ticks =
      std::max(1, config->request_timeout_ms / std::max(1, config->tick_ms));
  loop_options.host.max_pending_requests_per_group = 8192;
  loop_options.host.serve_on_followers = true;
  loop_options.host.seed =
      static_cast<uint64_t>(config->node_id) * 7919 +
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());

  ekv::runtime::CoordinatorOptions coordinator_options;
  coordinator_options.node_id = config->node_id;
  coordinator_options.request_timeout = std::chrono::milliseconds(config->request_timeout_ms);
  for (absl::string_view bug :
       absl::StrSplit(absl::GetFlag(FLAGS_planted_bugs), ',', absl::SkipEmpty())) {
    if (bug == "resolve_rolls_back_committed") {
      coordinator_options.plants.resolve_rolls_back_committed = true;
    } else if (bug == "no_stale_route_retry") {
      coordinator_options.plants.no_stale_route_retry = true;
    } else if (bug == "retry_unknown_write") {
      coordinator_options.plants.retry_unknown_write = true;
    } else if (bug == "ack_before_fsync") {
      // Planted in RocksDbEnv when it was opened above.
    } else if (bug == "follower_read_without_quorum") {
      loop_options.planted_follower_read_without_quorum = true;
    } else {
      return Fail(absl::StrCat("--planted_bugs: unknown bug '", bug,
                               "'; expected resolve_rolls_back_committed, no_stale_route_retry, "
                               "retry_unknown_write, ack_before_fsync or "
                               "follower_read_without_quorum"));
    }
    std::cerr << "WARNING: planted bug " << bug << " is ON (testing only)\n";
  }

  // The loop writes every group's applied entries of a round as one RocksDB write.
  ekv::runtime::ApplyWriteBuffer apply_buffer(env->get());
  loop_options.apply_buffer = &apply_buffer;
  // Redis scripts (EVAL) run at apply time on every replica: one stateless Lua runner
  // shared by every group (adapters/redis/lua).
  static const ekv::redis::LuaScriptRunner script_runner;
  std::unique_ptr<ekv::runtime::Coordinator> coordinator;
  ekv::runtime::NodeLoop loop(loop_options, env->get(), &transport, [&](ekv::raft::GroupId group) {
    std::optional<ekv::route::RouteCatalog> catalog;
    if (group == coordinator_options.catalog_group) catalog = *initial_catalog;
    // Each group's MVCC state lives in the node's RocksDB under the group's prefix. Every
    // group starts from the bootstrap catalog, so it knows what it owns and refuses
    // requests routed by stale tables (core/route/ownership.h).
    ekv::runtime::RocksDbEngineOptions engine_options;
    engine_options.key_prefix = ekv::runtime::GroupDataPrefix(group);
    engine_options.apply_buffer = &apply_buffer;
    auto engine = std::make_unique<ekv::runtime::RocksDbEngine>(env->get(), engine_options);
    auto machine = std::make_unique<ekv::node::GroupStateMachine>(
        group, std::move(catalog), *initial_catalog, std::move(engine));
    machine->SetScriptRunner(&script_runner);
    if (group == coordinator_options.catalog_group) {
      // The watch: every catalog change applied here updates this node's route table.
      machine->SetCatalogListener([&coordinator, &loop](const ekv::route::RouteCatalog& catalog) {
        if (coordinator) coordinator->UpdateRoutes(catalog);
        // Groups created or retired at run time: the loop hosts or drops them to match.
        loop.OnCreatedGroups(ekv::node::CreatedGroupsOf(catalog));
      });
      // The member directory: where every node is reached, as the cluster records it.
      machine->SetMembersListener([&transport](const ekv::node::MemberDirectory& directory) {
        for (const auto& [id, addresses] : directory) {
          transport.SetPeerAddress(id, addresses.raft_address);
        }
      });
    }
    return machine;
  });
  coordinator = std::make_unique<ekv::runtime::Coordinator>(coordinator_options, &loop, &transport);
  coordinator->UpdateRoutes(*initial_catalog);

  std::unique_ptr<ekv::runtime::GcScheduler> gc;
  if (const int64_t gc_interval_ms = absl::GetFlag(FLAGS_gc_interval_ms); gc_interval_ms > 0) {
    ekv::runtime::GcSchedulerOptions gc_options;
    for (const auto& spec : loop_options.groups) gc_options.groups.push_back(spec.group);
    gc_options.current_groups = [&coordinator] { return coordinator->HostedGroups(); };
    gc_options.interval = std::chrono::milliseconds(gc_interval_ms);
    gc_options.retention_ms = absl::GetFlag(FLAGS_gc_retention_ms);
    gc = std::make_unique<ekv::runtime::GcScheduler>(
        gc_options,
        [&coordinator](ekv::raft::GroupId group, uint64_t safe_point, const std::string& start,
                       uint64_t max_keys) {
          return coordinator->RunGcPass(group, safe_point, start, max_keys);
        },
        [&coordinator](ekv::raft::GroupId group) { return coordinator->LeadsGroup(group); },
        [] {
          return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
        },
        logger.Sink());
    gc->SetCleanupPass(
        [&coordinator](ekv::raft::GroupId group, const std::string& start, uint64_t max_records) {
          return coordinator->RunRedisCleanupPass(group, start, max_records);
        });
  }

  // Automatic placement (runtime/server/placement_runner.h): built always, so that
  // operators can resume it on a node started with --placement=false.
  std::unique_ptr<ekv::runtime::PlacementRunner> placement;
  {
    ekv::runtime::PlacementRunnerOptions placement_options;
    for (const auto& spec : loop_options.groups) placement_options.groups.push_back(spec.group);
    placement_options.current_groups = [&coordinator] { return coordinator->HostedGroups(); };
    placement_options.catalog_group = coordinator_options.catalog_group;
    ekv::coord::PlacementDriverOptions& driver = placement_options.driver;
    driver.paused = !absl::GetFlag(FLAGS_placement);
    driver.balance_replicas = absl::GetFlag(FLAGS_placement_balance_replicas);
    driver.balance_leaders = absl::GetFlag(FLAGS_placement_balance_leaders);
    driver.leader_balance.cooldown_us = static_cast<uint64_t>(std::max<int64_t>(
                                            absl::GetFlag(FLAGS_placement_leader_cooldown_ms), 0)) *
                                        1000;
    driver.round_interval_us =
        static_cast<uint64_t>(std::max<int64_t>(absl::GetFlag(FLAGS_placement_interval_ms), 1)) *
        1000;
    driver.policy.split_qps = absl::GetFlag(FLAGS_placement_split_qps);
    driver.policy.split_sustain_us = static_cast<uint64_t>(std::max<int64_t>(
                                         absl::GetFlag(FLAGS_placement_split_sustain_ms), 0)) *
                                     1000;
    driver.policy.split_size_bytes = absl::GetFlag(FLAGS_placement_split_size_bytes);
    driver.policy.balance_tolerance =
        std::max(0.0, absl::GetFlag(FLAGS_placement_balance_tolerance));
    driver.policy.min_balance_qps = absl::GetFlag(FLAGS_placement_min_balance_qps);
    driver.policy.balance_sustain_us = static_cast<uint64_t>(std::max<int64_t>(
                                           absl::GetFlag(FLAGS_placement_balance_sustain_ms), 0)) *
                                       1000;
    driver.policy.cooldown_us =
        static_cast<uint64_t>(std::max<int64_t>(absl::GetFlag(FLAGS_placement_cooldown_ms), 0)) *
        1000;
    driver.policy.merge_qps = std::max(0.0, absl::GetFlag(FLAGS_placement_merge_qps));
    driver.policy.merge_size_bytes = absl::GetFlag(FLAGS_placement_merge_size_bytes);
    driver.policy.merge_cooldown_us = static_cast<uint64_t>(std::max<int64_t>(
                                          absl::GetFlag(FLAGS_placement_merge_cooldown_ms), 0)) *
                                      1000;
    placement_options.tick = std::chrono::milliseconds(
        std::clamp<int64_t>(absl::GetFlag(FLAGS_placement_interval_ms) / 4, 10, 250));
    placement = std::make_unique<ekv::runtime::PlacementRunner>(placement_options,
                                                                coordinator.get(), logger.Sink());
  }

  transport.SetHandlers(
      [&loop](ekv::raft::NodeId from, std::vector<ekv::raft::Message> messages) {
        loop.DeliverRaft(from, std::move(messages));
      },
      [&loop](ekv::raft::NodeId peer) { loop.ReportUnreachable(peer); },
      [&coordinator](const ekv::internal::ForwardRequest& request) {
        return coordinator->ServeForwarded(request);
      });

  // Snapshots stream out of band: records read from a consistent RocksDB view on the
  // leader, staged into an SST file on the follower (runtime/storage/snapshot_staging.h).
  ekv::runtime::RocksDbEnv* raw_env = env->get();
  ekv::runtime::SnapshotStreaming streaming;
  streaming.for_each_record =
      [raw_env](ekv::raft::GroupId group,
                const std::function<bool(absl::string_view, absl::string_view)>& emit) {
        return ekv::runtime::ForEachGroupRecord(raw_env, group, emit);
      };
  streaming.begin_staging =
      [raw_env](
          ekv::raft::GroupId group) -> absl::StatusOr<std::unique_ptr<ekv::runtime::SnapshotSink>> {
    auto writer = ekv::runtime::StagedSnapshotWriter::Begin(raw_env, group);
    if (!writer.ok()) return writer.status();
    return std::unique_ptr<ekv::runtime::SnapshotSink>(
        std::make_unique<ekv::runtime::StagedSnapshotSink>(std::move(*writer)));
  };
  streaming.log = logger.Sink();
  transport.SetSnapshotStreaming(std::move(streaming));
  transport.SetUndeliveredHandler(
      [&loop](ekv::raft::NodeId, std::vector<ekv::raft::Message> proposals) {
        loop.ReportUndelivered(std::move(proposals));
      });
  transport.SetSnapshotStatusHandler(
      [&loop](ekv::raft::NodeId peer, ekv::raft::GroupId group, bool failed) {
        loop.ReportSnapshot(peer, group, failed);
      });

  grpc::ServerBuilder raft_builder;
  // gRPC enables SO_REUSEPORT by default: a second server could then share our port and
  // receive some of our connections. A port in use must be an error.
  raft_builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  int raft_port = 0;
  const std::string raft_listen = ekv::runtime::RaftListenAddress(*config);
  raft_builder.AddListeningPort(raft_listen, ekv::runtime::PeerServerCredentials(peer_tls),
                                &raft_port);
  raft_builder.SetMaxReceiveMessageSize(256 << 20);
  raft_builder.RegisterService(transport.service());
  // Redis pub/sub between nodes (ekv.internal.RedisPubSub): a PUBLISH on any node reaches
  // the subscribers of every member that serves Redis.
  ekv::runtime::PubSubFanout pubsub_fanout(
      {.self = config->node_id,
       .read_members = [&coordinator] { return coordinator->ReadMembers(); },
       .peer_credentials = peer_credentials});
  raft_builder.RegisterService(pubsub_fanout.service());
  std::unique_ptr<grpc::Server> raft_server = raft_builder.BuildAndStart();
  if (!raft_server || raft_port == 0) {
    return Fail(absl::StrCat("cannot listen on --raft_address ", raft_listen,
                             " (in use or not a local address?)"));
  }

  if (absl::Status s = loop.Start(); !s.ok()) return Fail(std::string(s.message()));
  if (!joining && !restarted) {
    // Only now, with every group bootstrapped durably: a crash before this line restarts
    // as a first start and bootstraps what is missing.
    if (absl::Status s =
            ekv::runtime::WriteNodeIdentity(env->get(), {config->node_id, groups, first_peers});
        !s.ok()) {
      loop.Stop();
      return Fail(std::string(s.message()));
    }
  }
  // Every group has installed what its durable snapshot references: the rest is garbage.
  ekv::runtime::RemoveStaleStagedSnapshots(raw_env);
  transport.Start();

  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  ekv::adapters::RawKvService raw_kv(coordinator.get(), absl::GetFlag(FLAGS_grpc_max_inflight));
  ekv::adapters::TransactionalKvService txn_kv(coordinator.get());
  ekv::adapters::DistributionService distribution(coordinator.get());
  ekv::adapters::PlacementService placement_service(placement.get(), config->node_id);
  ekv::adapters::ClusterService cluster(coordinator.get(),
                                        /*require_node_certificate=*/peer_tls.enabled(),
                                        self_addresses.raft_address);
  ekv::adapters::GrpcRequestCounters grpc_requests;  // for the metrics endpoint
  // ekv_request_duration_seconds{front_door="redis", command}: one histogram per command.
  std::vector<std::string> redis_command_names;
  for (const auto& [name, spec] : ekv::redis::CommandTable::Default().specs()) {
    redis_command_names.push_back(name);
  }
  ekv::runtime::metrics::RequestLatencies redis_latencies("redis", redis_command_names);
  // ...and {front_door="dynamo", command=<operation>}: every operation of the table plus
  // DescribeEndpoints (answered by the server itself).
  std::vector<std::string> dynamo_operation_names = {"DescribeEndpoints"};
  for (const auto& [name, spec] : ekv::dynamo::OperationTable::Default().specs()) {
    dynamo_operation_names.push_back(name);
  }
  ekv::runtime::metrics::RequestLatencies dynamo_latencies("dynamo", dynamo_operation_names);
  grpc::ServerBuilder builder;
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> counting;
    counting.push_back(ekv::adapters::NewRequestCountingInterceptorFactory(&grpc_requests));
    builder.experimental().SetInterceptorCreators(std::move(counting));
  }
  if (const int max_threads = absl::GetFlag(FLAGS_grpc_max_threads); max_threads != 0) {
    if (max_threads < 4) {
      loop.Stop();
      transport.Stop();
      raft_server->Shutdown();
      return Fail("--grpc_max_threads must be 0 (no bound) or at least 4 (gRPC's pollers)");
    }
    grpc::ResourceQuota quota("ekv-public-grpc");
    quota.SetMaxThreads(max_threads);
    builder.SetResourceQuota(quota);
  }
  {
    const int64_t receive = absl::GetFlag(FLAGS_grpc_max_receive_message_bytes);
    const int64_t send = absl::GetFlag(FLAGS_grpc_max_send_message_bytes);
    if (receive < 1024 || receive > std::numeric_limits<int>::max() || send < 1024 ||
        send > std::numeric_limits<int>::max()) {
      loop.Stop();
      transport.Stop();
      raft_server->Shutdown();
      return Fail(
          "--grpc_max_receive_message_bytes and --grpc_max_send_message_bytes must be between "
          "1024 and 2147483647");
    }
    builder.SetMaxReceiveMessageSize(static_cast<int>(receive));
    builder.SetMaxSendMessageSize(static_cast<int>(send));
  }
  int grpc_port = 0;
  std::shared_ptr<grpc::ServerCredentials> grpc_credentials = grpc::InsecureServerCredentials();
  if (tls.enabled()) {
    auto key = ekv::runtime::ReadSecretFile(tls.key_file, "a key");
    auto cert = ekv::runtime::metrics::ReadPemFile(tls.cert_file);
    if (!key.ok() || !cert.ok()) {
      loop.Stop();
      transport.Stop();
      raft_server->Shutdown();
      return Fail(std::string((key.ok() ? cert : key).status().message()));
    }
    // With mutual TLS between nodes, a client certificate is verified when offered: a
    // joining node presents its own (AddNode checks it); other clients need none.
    grpc::SslServerCredentialsOptions ssl(peer_tls.enabled()
                                              ? GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY
                                              : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    if (peer_tls.enabled()) ssl.pem_root_certs = peer_tls.ca_pem;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    grpc_credentials = grpc::SslServerCredentials(ssl);
    if (!grpc_auth_token.empty()) {
      grpc_credentials->SetAuthMetadataProcessor(
          ekv::adapters::NewTokenAuthProcessor(grpc_auth_token));
    }
  }
  builder.AddListeningPort(config->grpc_address, grpc_credentials, &grpc_port);
  builder.RegisterService(&raw_kv);
  builder.RegisterService(&txn_kv);
  builder.RegisterService(&distribution);
  builder.RegisterService(&placement_service);
  builder.RegisterService(&cluster);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || grpc_port == 0) {
    loop.Stop();
    transport.Stop();
    raft_server->Shutdown();
    return Fail(absl::StrCat("cannot listen on --grpc_address ", config->grpc_address,
                             " (in use or not a local address?)"));
  }
  // The operator's metrics endpoint (runtime/metrics): read-only, started after gRPC
  // serves, stopped first. Scrapes read published copies, never the node loop's state.
  ekv::runtime::metrics::MetricRegistry metrics_registry;
  std::unique_ptr<ekv::runtime::metrics::MetricsHttpServer> metrics_server;
  std::string metrics_note;
  // This node's per-route load samples (runtime/console/load_history.h), served as
  // /api/node by the metrics endpoint and the console, for every node's console.
  const auto readiness = ekv::runtime::metrics::NodeReadinessCheck(
      &loop, coordinator.get(), coordinator_options.catalog_group);
  ekv::runtime::console::LoadHistory load_history(
      {std::chrono::milliseconds(std::max(100, absl::GetFlag(FLAGS_load_sample_ms))), 60});
  ekv::runtime::console::LoadSampler load_sampler(&load_history,
                                                  [&loop] { return loop.GroupStatuses(); });
  const auto node_document = [&, node = config->node_id] {
    return ekv::runtime::console::NodeDocument(node, readiness(), loop.GroupStatuses(),
                                               load_history);
  };
  if (!absl::GetFlag(FLAGS_metrics_address).empty() ||
      !absl::GetFlag(FLAGS_console_address).empty()) {
    load_sampler.Start();
  }
  if (const std::string address = absl::GetFlag(FLAGS_metrics_address); !address.empty()) {
    ekv::runtime::metrics::AddServerCollectors(metrics_registry, &loop, coordinator.get(),
                                               &transport);
    metrics_registry.AddCollector(
        [&grpc_requests](ekv::runtime::metrics::MetricSet& m) { grpc_requests.Collect(m); });
    if (!absl::GetFlag(FLAGS_redis_address).empty()) {
      metrics_registry.AddCollector(
          [&redis_latencies](ekv::runtime::metrics::MetricSet& m) { redis_latencies.Collect(m); });
    }
    if (!absl::GetFlag(FLAGS_dynamo_address).empty()) {
      metrics_registry.AddCollector([&dynamo_latencies](ekv::runtime::metrics::MetricSet& m) {
        dynamo_latencies.Collect(m);
      });
    }
    ekv::runtime::metrics::MetricsServerOptions metrics_options;
    metrics_options.readiness = readiness;
    metrics_options.tls = tls;
    metrics_options.auth_token = http_auth_token;
    metrics_options.json_endpoints["/api/node"] = [&node_document] {
      return node_document().dump();
    };
    auto started = ekv::runtime::metrics::MetricsHttpServer::Start(
        address, &metrics_registry, ekv::runtime::metrics::NodeLoopHealthCheck(&loop),
        std::move(metrics_options));
    if (!started.ok()) {
      server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
      loop.Stop();
      transport.Stop();
      raft_server->Shutdown();
      return Fail(absl::StrCat("--metrics_address: ", started.status().message()));
    }
    metrics_server = std::move(*started);
    metrics_note =
        absl::StrCat(", metrics on ", http_scheme, metrics_server->address(), "/metrics");
  }
  // The admin console (runtime/console): read-only like the metrics endpoint, same life.
  std::unique_ptr<ekv::runtime::console::ConsoleServer> console;
  if (const std::string address = absl::GetFlag(FLAGS_console_address); !address.empty()) {
    ekv::runtime::console::ConsoleSources sources;
    sources.node = config->node_id;
    sources.local_document = node_document;
    sources.members = [&coordinator] { return coordinator->ReadMembers(); };
    sources.catalog = [&coordinator] { return coordinator->ReadCatalog(); };
    ekv::runtime::console::ConsoleOptions console_options;
    console_options.tls = tls;
    console_options.auth_token = http_auth_token;
    auto started =
        ekv::runtime::console::ConsoleServer::Start(address, std::move(sources), console_options);
    if (!started.ok()) {
      if (metrics_server) metrics_server->Stop();
      server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
      loop.Stop();
      transport.Stop();
      raft_server->Shutdown();
      return Fail(absl::StrCat("--console_address: ", started.status().message()));
    }
    console = std::move(*started);
    metrics_note += absl::StrCat(", console on ", http_scheme, console->address(), "/");
  }
  // The Redis front door: its own epoll thread, calling the coordinator like gRPC does.
  ekv::redis::CoordinatorBackend redis_backend(coordinator.get());
  RedisFanout redis_fanout(&pubsub_fanout);
  std::unique_ptr<ekv::redis::RedisServer> redis;
  if (const std::string redis_address = absl::GetFlag(FLAGS_redis_address);
      !redis_address.empty()) {
    ekv::redis::RedisServerOptions redis_options;
    redis_options.address = redis_address;
    redis_options.settings.requirepass = absl::GetFlag(FLAGS_redis_requirepass);
    redis_options.settings.notify_keyspace_events = *redis_notify_flags;
    if (redis_users.has_value()) {
      redis_options.settings.acl =
          std::make_shared<ekv::redis::AclUsers>(std::move(redis_users->users));
      redis_options.settings.acl_file = absl::GetFlag(FLAGS_redis_users_file);
    }
    // After the users: requirepass is the default user's password (excluded above when the
    // file has a default user).
    if (!redis_options.settings.requirepass.empty()) {
      redis_options.settings.users().SetDefaultPassword(redis_options.settings.requirepass);
    }
    redis_options.settings.observe_latency = [&redis_latencies](const std::string& command,
                                                                std::chrono::nanoseconds elapsed) {
      if (auto index = redis_latencies.CommandIndex(command))
        redis_latencies.Observe(*index, elapsed);
    };
    if (absl::GetFlag(FLAGS_redis_max_clients) < 1) {
      server->Shutdown();
      loop.Stop();
      transport.Stop();
      raft_server->Shutdown();
      return Fail("--redis_max_clients must be at least 1");
    }
    redis_options.settings.maxclients = static_cast<size_t>(absl::GetFlag(FLAGS_redis_max_clients));
    redis_options.fanout = &redis_fanout;
    redis_options.tls_cert_file = tls.cert_file;
    redis_options.tls_key_file = tls.key_file;
    redis = std::make_unique<ekv::redis::RedisServer>(redis_options, &redis_backend);
    if (absl::Status s = redis->Start(); !s.ok()) {
      server->Shutdown();
      loop.Stop();
      transport.Stop();
      raft_server->Shutdown();
      return Fail(absl::StrCat("--redis_address: ", s.message()));
    }
    pubsub_fanout.SetLocalDelivery([server = redis.get()](std::string channel, std::string message,
                                                          ekv::runtime::PubSubFanout::Done done) {
      server->DeliverPublished(std::move(channel), std::move(message), std::move(done));
    });
    pubsub_fanout.Start();
    logger.Info(
        absl::StrCat("serving Redis", tls.enabled() ? " (TLS)" : "", " on ", redis_address));
  }
  // The DynamoDB front door: httplib workers that block on the coordinator like gRPC does.
  ekv::dynamo::CoordinatorBackend dynamo_backend(coordinator.get());
  std::unique_ptr<ekv::dynamo::DynamoServer> dynamo;
  if (const std::string dynamo_address = absl::GetFlag(FLAGS_dynamo_address);
      !dynamo_address.empty()) {
    ekv::dynamo::DynamoServerOptions dynamo_options;
    dynamo_options.tls = tls;
    dynamo_options.credentials = dynamo_credentials;
    dynamo_options.cors = *dynamo_cors;
    dynamo_options.max_inflight = absl::GetFlag(FLAGS_dynamo_max_inflight);
    const int64_t workers = absl::GetFlag(FLAGS_dynamo_workers);
    const int64_t queued = absl::GetFlag(FLAGS_dynamo_max_queued_connections);
    const int64_t body = absl::GetFlag(FLAGS_dynamo_max_request_bytes);
    const int64_t stats_interval_s = absl::GetFlag(FLAGS_dynamo_table_stats_interval_s);
    const int64_t sweep_interval_ms = absl::GetFlag(FLAGS_dynamo_ttl_sweep_interval_ms);
    if (workers < 1 || queued < 1 || body < 1024 || stats_interval_s < 1 || sweep_interval_ms < 1) {
      if (redis) redis->Stop();
      server->Shutdown();
      loop.Stop();
      transport.Stop();
      raft_server->Shutdown();
      return Fail(
          "--dynamo_workers, --dynamo_max_queued_connections, "
          "--dynamo_table_stats_interval_s and --dynamo_ttl_sweep_interval_ms must be at least "
          "1, --dynamo_max_request_bytes at least 1024");
    }
    dynamo_options.http.worker_threads = static_cast<size_t>(workers);
    dynamo_options.http.max_queued_connections = static_cast<size_t>(queued);
    dynamo_options.http.max_request_body_bytes = static_cast<size_t>(body);
    dynamo_options.table_stats.interval_seconds = static_cast<double>(stats_interval_s);
    dynamo_options.ttl_sweep_interval = std::chrono::milliseconds(sweep_interval_ms);
    dynamo_options.observe_latency = [&dynamo_latencies](absl::string_view operation,
                                                         std::chrono::nanoseconds elapsed) {
      if (auto index = dynamo_latencies.CommandIndex(operation))
        dynamo_latencies.Observe(*index, elapsed);
    };
    absl::StatusOr<std::unique_ptr<ekv::dynamo::DynamoServer>> started =
        ekv::dynamo::DynamoServer::Start(dynamo_address, &dynamo_backend, dynamo_options);
    if (!started.ok()) {
      if (redis) redis->Stop();
      server->Shutdown();
      loop.Stop();
      transport.Stop();
      raft_server->Shutdown();
      return Fail(absl::StrCat("--dynamo_address: ", started.status().message()));
    }
    dynamo = std::move(*started);
    logger.Info(absl::StrCat(
        "serving DynamoDB on ", http_scheme, dynamo->address(),
        dynamo_credentials
            ? absl::StrCat(" (SigV4 verified, ", dynamo_credentials->key_count(), " access keys)")
            : std::string(" (signatures not checked)")));
  }
  if (gc) gc->Start();
  if (placement) placement->Start();
  ekv::runtime::MembershipTaskOptions membership_options;
  membership_options.self = self_addresses;
  membership_options.promote_after_catch_up = joining;
  membership_options.log = logger.Sink();
  ekv::runtime::MembershipTasks membership(membership_options, coordinator.get(), &loop);
  membership.Start();
  logger.Info(absl::StrCat("serving gRPC on ", config->grpc_address, ", raft on ", raft_listen,
                           " (advertised to peers as ", config->peers.at(config->node_id),
                           "), data in ", config->data_dir, metrics_note));

  int signal = 0;
  sigwait(&signals, &signal);
  logger.Info(absl::StrCat("signal ", signal, ", shutting down"));
  // First, like Redis: requests in flight need the coordinator. Its background pass may
  // be waiting on requests a node without quorum answers only once the loop stops, so it
  // is joined after that.
  if (dynamo) dynamo->BeginStop();
  pubsub_fanout.Stop();      // deliveries from peers now answer 0
  if (redis) redis->Stop();  // first: its commands in flight need the coordinator and loop
  if (console) console->Stop();
  if (metrics_server) metrics_server->Stop();
  load_sampler.Stop();
  // Stop accepting, let in-flight requests finish (bounded), then stop Raft and flush.
  membership.Stop();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (gc) gc->Stop();  // before the loop: a pass in flight needs it to finish
  if (placement) placement->Stop();
  loop.Stop();
  if (dynamo) dynamo->Stop();
  transport.Stop();
  // Peers keep their streams to us open; cancel them promptly rather than wait.
  raft_server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
  return 0;
}
