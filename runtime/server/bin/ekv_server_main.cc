// ekv-server: one ekv node. See --help.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "adapters/grpc/services.h"
#include "adapters/redis/coordinator_backend.h"
#include "adapters/redis/redis_server.h"
#include "core/node/group_state_machine.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "runtime/server/coordinator.h"
#include "runtime/server/gc_scheduler.h"
#include "runtime/server/node_loop.h"
#include "runtime/server/server_config.h"
#include "runtime/server/staged_snapshot_sink.h"
#include "runtime/storage/rocksdb_engine.h"
#include "runtime/storage/rocksdb_env.h"
#include "runtime/storage/snapshot_staging.h"
#include "runtime/transport/raft_transport.h"

ABSL_FLAG(std::string, config, "",
          "Optional config file of 'name = value' lines using these flag names; flags given "
          "on the command line win.");
ABSL_FLAG(std::string, id, "", "This node's id: n1, n2, ... (or 1, 2, ...). Required.");
ABSL_FLAG(std::string, grpc_address, "",
          "Listen address of the public gRPC API (RawKV, TransactionalKV, Distribution, "
          "with server reflection), e.g. 127.0.0.1:50051. Required.");
ABSL_FLAG(std::string, redis_address, "",
          "Listen address of the Redis front door (RESP2/RESP3 string commands over the "
          "RawKV keyspace), e.g. 127.0.0.1:63791. Default: empty, no Redis front door.");
ABSL_FLAG(std::string, raft_address, "",
          "Listen address for node-to-node traffic (Raft messages, snapshots, forwarded "
          "requests). Default: this node's entry in --peers, which is the address peers "
          "dial (the advertised address); set 0.0.0.0:PORT or [::]:PORT to listen on every "
          "interface while advertising the --peers entry.");
ABSL_FLAG(std::string, peers, "",
          "Advertised raft addresses of all members, this node included: "
          "n1=127.0.0.1:50061,n2=127.0.0.1:50062,n3=127.0.0.1:50063. Required.");
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
          "Take a state-machine snapshot and compact the Raft log every this many entries.");
ABSL_FLAG(int64_t, gc_interval_ms, 60000,
          "MVCC garbage collection: every this many milliseconds, each group this node leads "
          "removes the versions no read inside the retention window can see, in bounded "
          "replicated passes. 0 turns GC off.");
ABSL_FLAG(uint64_t, gc_retention_ms, 600000,
          "MVCC garbage collection keeps every version a read at (now - this many "
          "milliseconds) or later can see. Reads and transactions with an older timestamp "
          "fail with FAILED_PRECONDITION (\"below the GC safe point\"), so this must exceed "
          "the longest transaction. Default 10 minutes.");

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
  config.raft_address = absl::GetFlag(FLAGS_raft_address);
  config.data_dir = absl::GetFlag(FLAGS_data_dir);
  auto peers = ekv::runtime::ParsePeers(absl::GetFlag(FLAGS_peers));
  if (!peers.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--peers: ", peers.status().message()));
  }
  config.peers = *peers;
  config.groups = absl::GetFlag(FLAGS_groups);
  auto ranges =
      ekv::runtime::RangesFromSplitPoints(absl::GetFlag(FLAGS_split_points), config.groups);
  if (!ranges.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--split_points: ", ranges.status().message()));
  }
  config.initial_ranges = *ranges;
  config.bootstrap = absl::GetFlag(FLAGS_bootstrap);
  config.tick_ms = absl::GetFlag(FLAGS_tick_ms);
  config.election_ticks = absl::GetFlag(FLAGS_election_ticks);
  config.heartbeat_ticks = absl::GetFlag(FLAGS_heartbeat_ticks);
  config.request_timeout_ms = absl::GetFlag(FLAGS_request_timeout_ms);
  config.snapshot_interval_entries = absl::GetFlag(FLAGS_snapshot_interval_entries);
  if (absl::Status s = ekv::runtime::ValidateServerConfig(config); !s.ok()) return s;
  return config;
}

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
      "Serves the gRPC services proto.RawKV, proto.TransactionalKV and proto.Distribution\n"
      "(with server reflection) on --grpc_address; talks to its peers on --raft_address.\n"
      "Example (node 1 of the local demo):\n"
      "  ekv-server --id n1 --grpc_address 127.0.0.1:50051 --raft_address 127.0.0.1:50061\n"
      "    --peers n1=127.0.0.1:50061,n2=127.0.0.1:50062,n3=127.0.0.1:50063\n"
      "    --data_dir /tmp/ekv/n1\n"
      "SIGTERM or SIGINT shuts the node down gracefully.");
  if (absl::Status s = ApplyConfigFile(argc, argv); !s.ok()) return Fail(std::string(s.message()));
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<ServerConfig> config = ConfigFromFlags();
  if (!config.ok()) return Fail(std::string(config.status().message()));

  // Block shutdown signals in every thread; the main thread waits for them below.
  // gRPC's absl::Mutex use would otherwise pay for deadlock-cycle bookkeeping on every
  // lock (the Debian Abseil build enables it); our own code uses std::mutex.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto env = ekv::runtime::RocksDbEnv::Open(config->data_dir);
  if (!env.ok()) return Fail(std::string(env.status().message()));

  ekv::runtime::TransportOptions transport_options;
  transport_options.snapshot_chunk_bytes =
      std::max<uint64_t>(1, absl::GetFlag(FLAGS_snapshot_chunk_bytes));
  ekv::runtime::RaftTransport transport(config->node_id, config->peers, transport_options);
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
  std::vector<ekv::raft::NodeId> members;
  for (const auto& [id, address] : config->peers) members.push_back(id);
  for (int g = 1; g <= config->groups; ++g) {
    loop_options.groups.push_back({static_cast<ekv::raft::GroupId>(g), members});
  }
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

  std::unique_ptr<ekv::runtime::Coordinator> coordinator;
  ekv::runtime::NodeLoop loop(loop_options, env->get(), &transport, [&](ekv::raft::GroupId group) {
    std::optional<ekv::route::RouteCatalog> catalog;
    if (group == coordinator_options.catalog_group) catalog = *initial_catalog;
    // Each group's MVCC state lives in the node's RocksDB under the group's prefix. Every
    // group starts from the bootstrap catalog, so it knows what it owns and refuses
    // requests routed by stale tables (core/route/ownership.h).
    ekv::runtime::RocksDbEngineOptions engine_options;
    engine_options.key_prefix = ekv::runtime::GroupDataPrefix(group);
    auto engine = std::make_unique<ekv::runtime::RocksDbEngine>(env->get(), engine_options);
    auto machine = std::make_unique<ekv::node::GroupStateMachine>(
        group, std::move(catalog), *initial_catalog, std::move(engine));
    if (group == coordinator_options.catalog_group) {
      // The watch: every catalog change applied here updates this node's route table.
      machine->SetCatalogListener([&coordinator](const ekv::route::RouteCatalog& catalog) {
        if (coordinator) coordinator->UpdateRoutes(catalog);
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
        [node = config->node_id](const std::string& line) {
          std::cerr << "ekv-server n" << node << ": " << line << std::endl;
        });
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
  streaming.log = [node = config->node_id](const std::string& line) {
    std::cerr << "ekv-server n" << node << ": " << line << std::endl;
  };
  transport.SetSnapshotStreaming(std::move(streaming));
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
  raft_builder.AddListeningPort(raft_listen, grpc::InsecureServerCredentials(), &raft_port);
  raft_builder.SetMaxReceiveMessageSize(256 << 20);
  raft_builder.RegisterService(transport.service());
  std::unique_ptr<grpc::Server> raft_server = raft_builder.BuildAndStart();
  if (!raft_server || raft_port == 0) {
    return Fail(absl::StrCat("cannot listen on --raft_address ", raft_listen,
                             " (in use or not a local address?)"));
  }

  if (absl::Status s = loop.Start(); !s.ok()) return Fail(std::string(s.message()));
  // Every group has installed what its durable snapshot references: the rest is garbage.
  ekv::runtime::RemoveStaleStagedSnapshots(raw_env);
  transport.Start();

  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  ekv::adapters::RawKvService raw_kv(coordinator.get());
  ekv::adapters::TransactionalKvService txn_kv(coordinator.get());
  ekv::adapters::DistributionService distribution(coordinator.get());
  grpc::ServerBuilder builder;
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  int grpc_port = 0;
  builder.AddListeningPort(config->grpc_address, grpc::InsecureServerCredentials(), &grpc_port);
  builder.RegisterService(&raw_kv);
  builder.RegisterService(&txn_kv);
  builder.RegisterService(&distribution);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || grpc_port == 0) {
    loop.Stop();
    transport.Stop();
    raft_server->Shutdown();
    return Fail(absl::StrCat("cannot listen on --grpc_address ", config->grpc_address,
                             " (in use or not a local address?)"));
  }
  // The Redis front door: its own epoll thread, calling the coordinator like gRPC does.
  ekv::redis::CoordinatorBackend redis_backend(coordinator.get());
  std::unique_ptr<ekv::redis::RedisServer> redis;
  if (const std::string redis_address = absl::GetFlag(FLAGS_redis_address);
      !redis_address.empty()) {
    ekv::redis::RedisServerOptions redis_options;
    redis_options.address = redis_address;
    redis = std::make_unique<ekv::redis::RedisServer>(redis_options, &redis_backend);
    if (absl::Status s = redis->Start(); !s.ok()) {
      server->Shutdown();
      loop.Stop();
      transport.Stop();
      raft_server->Shutdown();
      return Fail(absl::StrCat("--redis_address: ", s.message()));
    }
    std::cout << "ekv-server " << config->node_name << " serving Redis on " << redis_address
              << std::endl;
  }
  if (gc) gc->Start();
  std::cout << "ekv-server " << config->node_name << " serving gRPC on " << config->grpc_address
            << ", raft on " << raft_listen << " (advertised to peers as "
            << config->peers.at(config->node_id) << "), data in " << config->data_dir << std::endl;

  int signal = 0;
  sigwait(&signals, &signal);
  std::cout << "ekv-server " << config->node_name << ": signal " << signal << ", shutting down"
            << std::endl;
  if (redis) redis->Stop();  // first: its commands in flight need the coordinator and loop
  // Stop accepting, let in-flight requests finish (bounded), then stop Raft and flush.
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (gc) gc->Stop();  // before the loop: a pass in flight needs it to finish
  loop.Stop();
  transport.Stop();
  // Peers keep their streams to us open; cancel them promptly rather than wait.
  raft_server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
  return 0;
}
