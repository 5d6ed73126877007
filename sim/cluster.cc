#include "sim/cluster.h"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/node/map_state_machine.h"
#include "core/node/snapshot_reference.h"
#include "core/util/assert.h"
#include "sim/raft_records.h"
#include "sim/sim_engine.h"

namespace ekv::sim {
namespace {

// Work a paused process may have queued (deliveries, fsync completions) before further
// deliveries to it are dropped, as a full socket buffer would.
constexpr size_t kMaxDeferredActions = 4096;
// Effect rounds one Pump may run; each round makes progress, so hitting this is a bug.
constexpr int kMaxPumpRounds = 10000;
// Delay before a sender learns that a snapshot it sent was lost.
constexpr SimTime kSnapshotFailureReportDelayUs = 50000;

uint64_t DigestMessages(const std::vector<raft::Message>& messages) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  auto mix = [&hash](uint64_t value) {
    hash ^= value;
    hash *= 0x100000001b3ULL;
  };
  for (const raft::Message& m : messages) {
    mix(m.group);
    mix(static_cast<uint64_t>(m.type));
    mix(m.term);
    mix(m.log_term);
    mix(m.index);
    mix(m.commit);
    mix(m.entries.size());
    mix(m.reject ? 1 : 0);
    mix(m.snapshot.metadata.index);
  }
  return hash;
}

bool HasSnapshot(const std::vector<raft::Message>& messages) {
  return std::any_of(messages.begin(), messages.end(),
                     [](const raft::Message& m) { return m.type == raft::MessageType::kSnap; });
}

// A duplicated batch's second copy. A forwarded proposal (MsgProp) is left out: the
// runtime's transport (gRPC streams over TCP) never delivers a message twice, and a
// proposal appended twice would apply a client's write twice, which no real driver can
// cause. Every other Raft message tolerates duplicates and keeps being duplicated.
std::shared_ptr<const std::vector<raft::Message>> WithoutProposals(
    const std::vector<raft::Message>& messages) {
  auto copy = std::make_shared<std::vector<raft::Message>>();
  for (const raft::Message& m : messages) {
    if (m.type != raft::MessageType::kProp) copy->push_back(m);
  }
  return copy;
}

}  // namespace

const char* ProcessStateName(Cluster::ProcessState state) {
  switch (state) {
    case Cluster::ProcessState::kUp:
      return "up";
    case Cluster::ProcessState::kDown:
      return "down";
    case Cluster::ProcessState::kPaused:
      return "paused";
    case Cluster::ProcessState::kBroken:
      return "broken";
  }
  return "?";
}

struct Cluster::Process {
  Process(NodeIndex node, Rng disk_rng, Rng process_rng)
      : id(node), disk(disk_rng), rng(process_rng) {}

  NodeIndex id;
  ProcessState state = ProcessState::kDown;
  std::unique_ptr<node::NodeHost> host;
  SimDisk disk;
  Rng rng;
  uint64_t incarnation = 0;
  double clock_rate = 1.0;
  // Wall clock: wall_at_rebase_ms at simulated time rebase_us, then clock_rate ms per ms.
  double wall_at_rebase_ms = 0;
  SimTime rebase_us = 0;
  std::deque<std::function<void()>> deferred;  // while paused
  SimTime fsync_busy_until = 0;                // fsyncs complete in issue order
  // Ticks that came due while paused: a stopped process's monotonic clock keeps running,
  // and the runtime ticks every elapsed period on resume (leases count ticks).
  uint64_t missed_ticks = 0;
  // Durable state machines' engines: the process's memory, rebuilt from disk on restart.
  std::map<raft::GroupId, std::unique_ptr<kv::MemoryEngine>> engines;
  // The created groups of the last catalog its catalog replica applied, not acted on yet.
  std::optional<node::CreatedGroups> pending_created;
  route::CatalogVersion pending_created_version = 0;
  // Created groups this node stopped hosting (retired, or it was removed from them): on
  // its disk, like their records, so it survives crashes. A restarted node's catalog
  // replica replays older catalogs that still name it; hosting such a group again would
  // bootstrap it over its old records. The catalog never gives a node back a group it
  // left, so those plans are stale and skipped.
  std::set<raft::GroupId> stopped_groups;
  // Emptied by WipeAndRestart: the initial groups it starts (empty) once its AddNode is
  // answered (JoinInitialGroups), as `ekv-server --join` starts the groups the answer names.
  std::vector<raft::GroupId> join_groups;
};

Cluster::Cluster(Scheduler& scheduler, Trace& trace, Rng rng, const ClusterConfig& config,
                 RaftSafetyChecker& safety)
    : scheduler_(scheduler),
      trace_(trace),
      rng_(rng),
      config_(config),
      safety_(safety),
      network_({}, rng_.Fork()) {
  EKV_ASSERT(config_.nodes >= 1 && config_.groups >= 1, "cluster needs nodes and groups");
  for (int i = 1; i <= config_.nodes; ++i) node_ids_.push_back(static_cast<NodeIndex>(i));
  network_ = Network(node_ids_, rng_.Fork());
  network_.SetDefaultProfile(config_.profile.link);
  for (NodeIndex node : node_ids_) {
    // Two draws in one argument list would run in an order the compiler picks (GCC right
    // to left, clang left to right), so the same seed gave two histories. Named, in the
    // order GCC builds always used.
    Rng process_rng = rng_.Fork();
    Rng disk_rng = rng_.Fork();
    auto process = std::make_unique<Process>(node, disk_rng, process_rng);
    // A fixed offset per node within the skew bound (no draw: the rng streams stay as
    // they were), e.g. +-100 ms at the largest bound.
    const double spread = static_cast<double>((node * 7919) % 201) / 100.0 - 1.0;  // [-1, 1]
    process->wall_at_rebase_ms =
        static_cast<double>(kEpochMs) + spread * config_.profile.clock_skew_bound * 1000.0;
    process->disk.set_torn_write_probability(config_.profile.torn_write_probability);
    processes_.emplace(node, std::move(process));
  }
  // Each group lives on every node when there are at most five, else on three
  // consecutive nodes (round robin), so groups overlap but differ.
  const int n = config_.nodes;
  for (int g = 1; g <= config_.groups; ++g) {
    std::vector<NodeIndex>& replicas = replicas_[g];
    if (n <= 5) {
      replicas = node_ids_;
    } else {
      for (int i = 0; i < 3; ++i) replicas.push_back(static_cast<NodeIndex>((g - 1 + i) % n + 1));
      std::sort(replicas.begin(), replicas.end());
    }
  }
}

Cluster::~Cluster() = default;

Cluster::Process& Cluster::process(NodeIndex node) {
  auto it = processes_.find(node);
  EKV_ASSERT(it != processes_.end(), "no process n", node);
  return *it->second;
}

const std::vector<NodeIndex>& Cluster::replicas(raft::GroupId group) const {
  auto it = replicas_.find(group);
  EKV_ASSERT(it != replicas_.end(), "no group ", group);
  return it->second;
}

bool Cluster::RemovedFrom(raft::GroupId group, NodeIndex node) const {
  auto it = removed_from_.find(group);
  return it != removed_from_.end() && it->second.count(node) != 0;
}

std::vector<raft::GroupId> Cluster::group_ids() const {
  std::vector<raft::GroupId> ids;
  for (const auto& [group, replicas] : replicas_) {
    if (retired_groups_.count(group) == 0) ids.push_back(group);
  }
  return ids;
}

Cluster::ProcessState Cluster::state(NodeIndex node) const { return processes_.at(node)->state; }

const node::NodeHost* Cluster::host(NodeIndex node) const {
  const Process& p = *processes_.at(node);
  return p.state == ProcessState::kUp || p.state == ProcessState::kPaused ? p.host.get() : nullptr;
}

void Cluster::Start() {
  for (NodeIndex node : node_ids_) {
    Process& p = process(node);
    for (const auto& [group, replicas] : replicas_) {
      if (std::find(replicas.begin(), replicas.end(), node) == replicas.end()) continue;
      std::vector<raft::NodeId> voters(replicas.begin(), replicas.end());
      absl::Status status = p.disk.Append(EncodeBootstrapRecord(group, voters));
      EKV_ASSERT(status.ok(), "bootstrap write failed: ", status.ToString());
    }
    p.disk.Sync();
  }
  for (NodeIndex node : node_ids_) {
    Restart(node);
    ScheduleTick(node);
  }
}

void Cluster::ScheduleTick(NodeIndex node) {
  Process& p = process(node);
  const auto period =
      static_cast<SimTime>(static_cast<double>(config_.profile.tick_us) * p.clock_rate);
  scheduler_.After(std::max<SimTime>(period, 1), [this, node] {
    Process& p = process(node);
    if (p.state == ProcessState::kUp) {
      p.host->SetWallClock(WallClockMs(node));
      p.host->Tick();
      Pump(node);
    } else if (p.state == ProcessState::kPaused) {
      ++p.missed_ticks;
    }
    ScheduleTick(node);
  });
}

void Cluster::RunOnProcess(NodeIndex node, uint64_t incarnation, std::function<void()> action) {
  Process& p = process(node);
  if (p.incarnation != incarnation) return;
  if (p.state == ProcessState::kDown || p.state == ProcessState::kBroken) return;
  if (p.state == ProcessState::kPaused) {
    if (p.deferred.size() < kMaxDeferredActions) p.deferred.push_back(std::move(action));
    return;
  }
  action();
}

uint64_t Cluster::WallClockMs(NodeIndex node) const {
  const Process& p = *processes_.at(node);
  const double elapsed_ms = static_cast<double>(scheduler_.now() - p.rebase_us) / 1000.0;
  return static_cast<uint64_t>(std::max(0.0, p.wall_at_rebase_ms + elapsed_ms * p.clock_rate));
}

void Cluster::Pump(NodeIndex node) {
  Process& p = process(node);
  if (p.state == ProcessState::kUp) p.host->SetWallClock(WallClockMs(node));
  for (int round = 0; p.state == ProcessState::kUp; ++round) {
    EKV_ASSERT(round < kMaxPumpRounds, "n", node, " keeps producing effects");
    node::Effects effects = p.host->TakeEffects();
    // A catalog change this round applied may have created or retired groups.
    const bool reconciled = ReconcileCreatedGroups(node);
    if (effects.empty() && !reconciled) break;

    std::vector<std::pair<raft::GroupId, uint64_t>> need_sync;
    bool has_vote = false;
    std::vector<std::pair<raft::GroupId, uint64_t>> written;
    for (const node::PersistRequest& request : effects.persists) {
      absl::Status status = p.disk.Append(EncodeBatchRecord(request.group, request.batch));
      trace_.Record({scheduler_.now(), "persist", node, request.group, request.batch.ready_id,
                     request.must_sync ? 1u : 0u, ""});
      if (!status.ok()) {
        // The node cannot know what reached the disk: it must stop (and restart later).
        Crash(node, "disk write error");
        const uint64_t incarnation = p.incarnation;
        scheduler_.After(rng_.Range(100000, 1000000), [this, node, incarnation] {
          if (process(node).incarnation == incarnation) Restart(node);
        });
        return;
      }
      (request.must_sync ? need_sync : written).emplace_back(request.group, request.batch.ready_id);
      has_vote = has_vote || (request.batch.has_hard_state && request.batch.entries.empty() &&
                              request.batch.hard_state.vote != raft::kNoNode &&
                              request.batch.hard_state.vote != node);
    }
    for (node::OutboundMessages& batch : effects.outbound) {
      messages_sent_ += batch.messages.size();
      snapshots_sent_ +=
          std::count_if(batch.messages.begin(), batch.messages.end(),
                        [](const raft::Message& m) { return m.type == raft::MessageType::kSnap; });
      if (config_.durable_state_machines) StageSnapshots(node, batch.messages);
      const NodeIndex to = batch.to;
      auto shared = std::make_shared<const std::vector<raft::Message>>(std::move(batch.messages));
      std::vector<SimTime> deliveries = network_.Plan(node, to, scheduler_.now());
      trace_.Record({scheduler_.now(), deliveries.empty() ? "lost" : "send", node, to,
                     shared->size(), DigestMessages(*shared), ""});
      if (deliveries.empty() && HasSnapshot(*shared)) {
        scheduler_.After(kSnapshotFailureReportDelayUs, [this, node, to, shared] {
          Process& sender = process(node);
          RunOnProcess(node, sender.incarnation, [this, node, to, shared] {
            for (const raft::Message& m : *shared) {
              if (m.type == raft::MessageType::kSnap) {
                process(node).host->ReportSnapshot(m.group, to, /*failed=*/true);
              }
            }
            Pump(node);
          });
        });
      }
      for (size_t copy = 0; copy < deliveries.size(); ++copy) {
        std::shared_ptr<const std::vector<raft::Message>> delivered = shared;
        if (copy > 0) delivered = WithoutProposals(*shared);
        if (delivered->empty()) continue;
        scheduler_.At(deliveries[copy],
                      [this, node, to, delivered] { Deliver(node, to, *delivered); });
      }
    }
    for (const node::ClientReply& reply : effects.replies) {
      trace_.Record({scheduler_.now(), "reply", node, reply.request_id,
                     static_cast<uint64_t>(reply.status), reply.index, ""});
      if (reply_handler_) reply_handler_(node, reply);
    }
    if (!need_sync.empty()) {
      const SimTime latency =
          p.rng.Range(config_.profile.fsync_min_us,
                      std::max(config_.profile.fsync_min_us, config_.profile.fsync_max_us));
      const SimTime done = std::max(scheduler_.now() + latency, p.fsync_busy_until);
      p.fsync_busy_until = done;
      const uint64_t incarnation = p.incarnation;
      if (targeted_crashes_ && p.rng.Chance(config_.profile.p_crash_mid_fsync)) {
        scheduler_.At(p.rng.Range(scheduler_.now(), done), [this, node, incarnation] {
          if (process(node).incarnation == incarnation) CrashAndRestartSoon(node, "mid-fsync");
        });
      }
      scheduler_.At(done, [this, node, incarnation, has_vote, need_sync = std::move(need_sync)] {
        CompleteSync(node, incarnation, need_sync, has_vote);
      });
    }
    // Written without fsync (e.g. only a commit index moved): durable enough by contract.
    for (const auto& [group, ready_id] : written) p.host->OnPersisted(group, ready_id);
    safety_.Observe(node, *p.host);
    DetectRaftEvents(node);  // counts elections; reports to the handler, if any
  }
}

void Cluster::DetectRaftEvents(NodeIndex node) {
  Process& p = process(node);
  // The ids are copied first (the handler may stop the node, which ends its host), into a
  // buffer kept between calls: this runs after every event. A nested call (from the
  // handler) finds the buffer taken and uses a fresh one.
  std::vector<raft::GroupId> groups = std::move(group_ids_buffer_);
  groups.clear();
  p.host->VisitSummaries([&groups](raft::GroupId group, const node::GroupProgressSummary&) {
    groups.push_back(group);
  });
  for (raft::GroupId group : groups) {
    if (p.state != ProcessState::kUp) break;  // the handler may have stopped the node
    const node::GroupProgressSummary status = p.host->Summary(group);
    SeenStatus& seen = seen_[{node, group}];
    const SeenStatus before = seen;
    const bool leader = status.state == raft::StateType::kLeader;
    seen = SeenStatus{status.term, leader, status.last_index, status.commit};
    if (!leader) continue;
    if (!before.leader || before.term != status.term) {
      ++elections_won_;
      if (raft_event_handler_) raft_event_handler_(node, group, RaftEvent::kBecameLeader);
      continue;
    }
    if (!raft_event_handler_) continue;
    if (status.last_index > before.last_index) {
      raft_event_handler_(node, group, RaftEvent::kLeaderAppended);
    }
    if (status.commit > before.commit) {
      raft_event_handler_(node, group, RaftEvent::kLeaderCommitted);
    }
  }
  group_ids_buffer_ = std::move(groups);
}

void Cluster::CompleteSync(NodeIndex node, uint64_t incarnation,
                           std::vector<std::pair<raft::GroupId, uint64_t>> persisted,
                           bool has_vote) {
  Process& p = process(node);
  if (p.incarnation != incarnation) return;  // crashed before the fsync returned
  p.disk.Sync();
  trace_.Record({scheduler_.now(), "fsync", node, persisted.size(), p.disk.synced_size(), 0, ""});
  RunOnProcess(node, incarnation, [this, node, has_vote, persisted = std::move(persisted)] {
    Process& p = process(node);
    for (const auto& [group, ready_id] : persisted) p.host->OnPersisted(group, ready_id);
    Pump(node);
    if (has_vote && targeted_crashes_ && p.rng.Chance(config_.profile.p_crash_after_vote)) {
      CrashAndRestartSoon(node, "after-vote");
    }
  });
}

void Cluster::CrashAndRestartSoon(NodeIndex node, const char* why) {
  Crash(node, why);
  const uint64_t incarnation = process(node).incarnation;
  scheduler_.After(process(node).rng.Range(1000, 30000), [this, node, incarnation] {
    if (process(node).incarnation == incarnation) Restart(node);
  });
}

void Cluster::Deliver(NodeIndex from, NodeIndex to, const std::vector<raft::Message>& messages) {
  Process& p = process(to);
  const bool reachable = network_.Connected(from, to) && p.state != ProcessState::kDown &&
                         p.state != ProcessState::kBroken;
  trace_.Record({scheduler_.now(), reachable ? "recv" : "recv-drop", to, from, messages.size(),
                 DigestMessages(messages), ""});
  if (!reachable) {
    if (HasSnapshot(messages)) {
      Process& sender = process(from);
      RunOnProcess(from, sender.incarnation, [this, from, to, messages] {
        for (const raft::Message& m : messages) {
          if (m.type == raft::MessageType::kSnap) {
            process(from).host->ReportSnapshot(m.group, to, /*failed=*/true);
          }
        }
        Pump(from);
      });
    }
    return;
  }
  if (trace_.annotating()) {
    for (const raft::Message& m : messages) trace_.Annotate(raft::DescribeMessage(m));
  }
  if (HasSnapshot(messages)) {
    // The transport tells the sender its snapshot stream completed, as etcd's does
    // (ReportSnapshot(finish)): Raft waits in StateSnapshot for this when the follower's
    // acknowledgement alone cannot move it out (the leader compacted past it meanwhile).
    const SimTime report_at = network_.Plan(to, from, scheduler_.now()).empty()
                                  ? scheduler_.now() + kSnapshotFailureReportDelayUs
                                  : scheduler_.now() + config_.profile.link.min_latency_us;
    scheduler_.At(report_at, [this, from, to, messages] {
      Process& sender = process(from);
      RunOnProcess(from, sender.incarnation, [this, from, to, messages] {
        for (const raft::Message& m : messages) {
          if (m.type == raft::MessageType::kSnap) {
            process(from).host->ReportSnapshot(m.group, to, /*failed=*/false);
          }
        }
        Pump(from);
      });
    });
  }
  RunOnProcess(to, p.incarnation, [this, to, messages] {
    Process& p = process(to);
    p.host->SetWallClock(WallClockMs(to));
    for (const raft::Message& m : messages) p.host->Receive(m);
    Pump(to);
  });
}

void Cluster::SubmitClientRequest(NodeIndex node, const node::ClientRequest& request) {
  Process& p = process(node);
  trace_.Record({scheduler_.now(), "request", node, request.request_id,
                 static_cast<uint64_t>(request.kind), request.group, request.key});
  RunOnProcess(node, p.incarnation, [this, node, request] {
    process(node).host->SetWallClock(WallClockMs(node));
    process(node).host->SubmitClientRequest(request);
    Pump(node);
  });
}

void Cluster::StageSnapshots(NodeIndex node, std::vector<raft::Message>& messages) {
  Process& p = process(node);
  for (raft::Message& m : messages) {
    if (m.type != raft::MessageType::kSnap || !node::IsSnapshotReference(m.snapshot.data)) continue;
    // The stream reads the sender's records as they are now (newer than the snapshot's
    // index, never older); the receiver finds them staged under this ref.
    absl::StatusOr<node::SnapshotReference> reference =
        node::DecodeSnapshotReference(m.snapshot.data);
    EKV_ASSERT(reference.ok(), "n", node, " sent an undecodable snapshot reference");
    auto engine = p.engines.find(m.group);
    EKV_ASSERT(engine != p.engines.end(), "n", node, " has no engine for group ", m.group);
    reference->staged_ref = absl::StrCat("n", node, "-g", m.group, "-", staged_snapshots_.size());
    staged_snapshots_.emplace(reference->staged_ref, CopyEngine(*engine->second));
    m.snapshot.data = node::EncodeSnapshotReference(*reference);
  }
}

void Cluster::Crash(NodeIndex node, const char* why) {
  Process& p = process(node);
  if (p.state == ProcessState::kDown || p.state == ProcessState::kBroken) return;
  p.host.reset();
  p.engines.clear();  // memory; what reached the disk comes back with RecoverEngines
  p.deferred.clear();
  p.disk.Crash();
  p.pending_created.reset();  // process memory: the catalog replica reports it again
  p.state = ProcessState::kDown;
  ++p.incarnation;
  ++crashes_;
  trace_.Record({scheduler_.now(), "crash", node, p.incarnation, p.disk.size(), 0, why});
  if (crash_handler_) crash_handler_(node);
}

uint64_t Cluster::incarnation(NodeIndex node) const { return processes_.at(node)->incarnation; }

void Cluster::Restart(NodeIndex node) {
  Process& p = process(node);
  if (p.state != ProcessState::kDown) return;
  absl::StatusOr<SimDisk::Recovered> recovered = p.disk.Recover();
  if (!recovered.ok()) {
    // Never start from data that fails its checksum: the node stays out of the cluster.
    p.state = ProcessState::kBroken;
    trace_.Record({scheduler_.now(), "refuse-start", node, 0, 0, 0,
                   std::string(recovered.status().message())});
    return;
  }
  RecoveryOptions recovery;
  recovery.forget_vote = config_.forget_vote_on_restart;
  auto storages = RecoverStorages(recovered->records, recovery);
  EKV_ASSERT(storages.ok(), "n", node,
             ": checksummed records do not decode: ", storages.status().ToString());

  ++p.incarnation;
  const SwarmProfile& profile = config_.profile;
  node::NodeHostOptions options;
  options.node_id = node;
  options.incarnation = p.incarnation;
  options.seed = p.rng.Next();
  options.snapshot_interval_entries = profile.snapshot_interval_entries;
  options.compaction_lag_entries = profile.compaction_lag_entries;
  options.request_timeout_ticks =
      static_cast<int>(std::max<SimTime>(profile.client_timeout_us / profile.tick_us, 1));
  options.raft.election_tick = profile.election_tick;
  options.raft.heartbeat_tick = profile.heartbeat_tick;
  options.raft.pre_vote = profile.pre_vote;
  options.raft.check_quorum = true;
  options.raft.max_size_per_msg = profile.max_size_per_msg;
  options.raft.max_inflight_msgs = profile.max_inflight_msgs;
  options.raft.planted = config_.planted_raft;
  if (profile.lease_reads) {
    // As the server runs by default: reads under a leader lease, with a drift margin that
    // covers the seed's clock skew between two nodes over an election timeout.
    options.raft.read_only_option = raft::ReadOnlyOption::kLeaseBased;
    options.raft.max_clock_drift_ticks =
        std::min(profile.election_tick - 1,
                 static_cast<int>(2.0 * profile.clock_skew_bound * profile.election_tick) + 1);
  }
  options.planted_oracle = config_.planted_oracle;
  options.planted_stale_conf_snapshot = config_.planted_stale_conf_snapshot;
  p.host = std::make_unique<node::NodeHost>(options);
  p.host->SetWallClock(WallClockMs(node));
  p.host->SetApplyObserver([this, node](raft::GroupId group, const raft::Entry& entry) {
    safety_.OnApply(node, group, entry);
  });
  if (config_.durable_state_machines) {
    auto engines = RecoverEngines(recovered->records);
    EKV_ASSERT(engines.ok(), "n", node,
               ": checksummed engine records do not decode: ", engines.status().ToString());
    p.engines = std::move(*engines);
  }
  for (const auto& [group, replicas] : replicas_) {
    if (std::find(replicas.begin(), replicas.end(), node) == replicas.end()) continue;
    auto it = storages->find(group);
    EKV_ASSERT(it != storages->end(), "n", node, " has no records for group ", group);
    absl::Status status =
        p.host->AddGroup(group, std::move(it->second), MakeStateMachine(node, group));
    EKV_ASSERT(status.ok(), "n", node, " cannot host group ", group, ": ", status.ToString());
  }
  p.state = ProcessState::kUp;
  ++restarts_;
  safety_.OnRestart(node);
  trace_.Record({scheduler_.now(), "start", node, p.incarnation, recovered->records.size(),
                 recovered->truncated_torn_tail ? 1u : 0u, ""});
  Pump(node);
}

std::unique_ptr<node::StateMachine> Cluster::MakeStateMachine(NodeIndex node, raft::GroupId group) {
  Process& p = process(node);
  std::unique_ptr<kv::Engine> engine;
  if (config_.durable_state_machines) {
    std::unique_ptr<kv::MemoryEngine>& memory = p.engines[group];
    if (memory == nullptr) memory = std::make_unique<kv::MemoryEngine>();
    SimDurableEngine::Io io;
    io.append = [this, node](const std::string& record, bool sync) {
      SimDisk& disk = process(node).disk;
      disk.AppendReliably(record);
      if (sync) disk.Sync();
    };
    io.staged = [this](absl::string_view ref) -> const kv::MemoryEngine* {
      auto staged = staged_snapshots_.find(std::string(ref));
      return staged == staged_snapshots_.end() ? nullptr : staged->second.get();
    };
    engine = std::make_unique<SimDurableEngine>(group, memory.get(), std::move(io));
  }
  std::unique_ptr<node::StateMachine> state_machine =
      factory_ ? factory_(node, group, std::move(engine))
               : std::make_unique<node::MapStateMachine>();
  return state_machine;
}

void Cluster::OnCreatedGroups(NodeIndex node, node::CreatedGroups created,
                              route::CatalogVersion version) {
  Process& p = process(node);
  p.pending_created = std::move(created);
  p.pending_created_version = version;
}

bool Cluster::ReconcileCreatedGroups(NodeIndex node) {
  Process& p = process(node);
  if (!p.pending_created.has_value() || p.state != ProcessState::kUp) return false;
  const node::CreatedGroups created = std::move(*p.pending_created);
  p.pending_created.reset();
  for (const auto& [group, replicas] : replicas_) {
    if (created.ids.Contains(group) && !created.live.contains(group)) {
      retired_groups_.insert(group);
    }
  }
  // The newest catalog seen decides: a readmission (a node removed from the cluster that
  // joined again with an emptied disk) takes the node off a group's removed list.
  if (p.pending_created_version >= removed_from_version_) {
    removed_from_version_ = p.pending_created_version;
    removed_from_.clear();
    for (const auto& [id, group] : created.live) {
      if (!group.removed.empty())
        removed_from_[id].insert(group.removed.begin(), group.removed.end());
    }
  }
  const node::HostedGroupsPlan plan =
      node::PlanHostedGroups(created, node, p.host->groups(), config_.planted_hosted_groups);
  for (const node::HostedGroup& group : plan.host) {
    if (p.stopped_groups.count(group.group_id) != 0) {
      trace_.Record({scheduler_.now(), "skip-stale-host", node, group.group_id, 0, 0, ""});
      continue;
    }
    // The bootstrap record goes to disk before anything else of the group, as the server
    // writes it before the group's first Raft state. A node that joined the group writes
    // one without voters: the group starts empty and waits for its leader.
    const std::vector<raft::NodeId> voters(group.bootstrap_voters.begin(),
                                           group.bootstrap_voters.end());
    const std::string record = EncodeBootstrapRecord(group.group_id, voters);
    p.disk.AppendReliably(record);
    p.disk.Sync();
    auto storages = RecoverStorages({record}, RecoveryOptions{});
    EKV_ASSERT(storages.ok() && storages->count(group.group_id) == 1,
               "a bootstrap record must recover its group");
    absl::Status status = p.host->AddGroup(group.group_id, std::move(storages->at(group.group_id)),
                                           MakeStateMachine(node, group.group_id));
    EKV_ASSERT(status.ok(), "n", node, " cannot host created group ", group.group_id, ": ",
               status.ToString());
    // replicas_ lists the nodes that host a created group (wrote its bootstrap record):
    // restarts reload it from there, checks look only where it lives.
    std::vector<NodeIndex>& replicas = replicas_[group.group_id];
    replicas.push_back(node);
    std::sort(replicas.begin(), replicas.end());
    trace_.Record({scheduler_.now(), "host-group", node, group.group_id, voters.size(), 0, ""});
  }
  for (raft::GroupId group : plan.retire) {
    p.stopped_groups.insert(group);
    absl::Status status = p.host->RemoveGroup(group);
    EKV_ASSERT(status.ok(), "n", node, " cannot drop group ", group, ": ", status.ToString());
    std::vector<NodeIndex>& replicas = replicas_[group];
    replicas.erase(std::remove(replicas.begin(), replicas.end(), node), replicas.end());
    if (replicas.empty()) replicas_.erase(group);
    trace_.Record({scheduler_.now(), "retire-group", node, group, 0, 0, ""});
  }
  return !plan.empty();
}

void Cluster::Pause(NodeIndex node) {
  Process& p = process(node);
  if (p.state != ProcessState::kUp) return;
  p.state = ProcessState::kPaused;
  trace_.Record({scheduler_.now(), "pause", node, 0, 0, 0, ""});
}

void Cluster::Resume(NodeIndex node) {
  Process& p = process(node);
  if (p.state != ProcessState::kPaused) return;
  p.state = ProcessState::kUp;
  trace_.Record({scheduler_.now(), "resume", node, p.deferred.size(), p.missed_ticks, 0, ""});
  // Time first, as the runtime's node loop does: then what queued up while paused.
  p.host->SetWallClock(WallClockMs(node));
  for (; p.missed_ticks > 0; --p.missed_ticks) p.host->Tick();
  std::deque<std::function<void()>> deferred = std::move(p.deferred);
  p.deferred.clear();
  for (auto& action : deferred) {
    if (p.state != ProcessState::kUp) break;
    action();
  }
  Pump(node);
}

void Cluster::SetClockRate(NodeIndex node, double rate) {
  Process& p = process(node);
  p.wall_at_rebase_ms = static_cast<double>(WallClockMs(node));
  p.rebase_us = scheduler_.now();
  p.clock_rate = rate;
  trace_.Record({scheduler_.now(), "clock", node, static_cast<uint64_t>(rate * 1e6), 0, 0, ""});
}

void Cluster::CorruptDisk(NodeIndex node) {
  Process& p = process(node);
  EKV_ASSERT(p.state == ProcessState::kDown, "corrupting the disk of a running node");
  p.disk.CorruptSyncedBit();
  trace_.Record({scheduler_.now(), "corrupt", node, 0, 0, 0, ""});
}

void Cluster::WipeAndRestart(NodeIndex node) {
  Process& p = process(node);
  Crash(node, "wipe");
  EKV_ASSERT(p.state == ProcessState::kDown, "n", node, " cannot be wiped from its state");
  p.disk.Wipe();
  p.stopped_groups.clear();  // they were on the disk
  p.engines.clear();
  // It starts hosting nothing: as `ekv-server --join`, it starts the initial groups only
  // once its AddNode is answered (JoinInitialGroups), which waits until every member of
  // them holds their newest configuration; created groups it hosts again only as its
  // catalog replica says (a readmitted node, added to one by a replica move).
  p.join_groups.clear();
  for (auto it = replicas_.begin(); it != replicas_.end();) {
    std::vector<NodeIndex>& replicas = it->second;
    const bool hosted = std::find(replicas.begin(), replicas.end(), node) != replicas.end();
    if (hosted) {
      if (IsInitialGroup(it->first)) p.join_groups.push_back(it->first);
      replicas.erase(std::remove(replicas.begin(), replicas.end(), node), replicas.end());
      if (replicas.empty()) {
        it = replicas_.erase(it);
        continue;
      }
    }
    ++it;
  }
  p.disk.Sync();
  trace_.Record({scheduler_.now(), "wipe", node, p.join_groups.size(), 0, 0, ""});
  Restart(node);
}

bool Cluster::JoinPending() const {
  for (const auto& [node, p] : processes_) {
    if (!p->join_groups.empty()) return true;
  }
  return false;
}

bool Cluster::JoinInitialGroups(NodeIndex node) {
  Process& p = process(node);
  if (p.join_groups.empty()) return true;
  if (p.state != ProcessState::kUp) return false;
  for (raft::GroupId group : p.join_groups) {
    auto replicas = replicas_.find(group);
    if (replicas == replicas_.end()) continue;  // no replica left anywhere
    // The bootstrap record without voters goes to disk first, as the server writes it
    // before the group's first Raft state: the group starts empty and waits for a leader.
    const std::string record = EncodeBootstrapRecord(group, {});
    p.disk.AppendReliably(record);
    p.disk.Sync();
    auto storages = RecoverStorages({record}, RecoveryOptions{});
    EKV_ASSERT(storages.ok() && storages->count(group) == 1,
               "a bootstrap record must recover its group");
    absl::Status status =
        p.host->AddGroup(group, std::move(storages->at(group)), MakeStateMachine(node, group));
    EKV_ASSERT(status.ok(), "n", node, " cannot join group ", group, ": ", status.ToString());
    replicas->second.push_back(node);
    std::sort(replicas->second.begin(), replicas->second.end());
  }
  trace_.Record({scheduler_.now(), "join-groups", node, p.join_groups.size(), 0, 0, ""});
  p.join_groups.clear();
  Pump(node);
  return true;
}

void Cluster::SetWriteErrorProbability(double p) {
  for (auto& [node, process] : processes_) process->disk.set_write_error_probability(p);
}

void Cluster::TransferLeadership(raft::GroupId group, NodeIndex transferee) {
  for (NodeIndex node : replicas(group)) {
    Process& p = process(node);
    if (p.state != ProcessState::kUp) continue;
    if (p.host->Summary(group).state != raft::StateType::kLeader) continue;
    trace_.Record({scheduler_.now(), "transfer", node, group, transferee, 0, ""});
    (void)p.host->TransferLeadership(group, transferee);
    Pump(node);
  }
}

}  // namespace ekv::sim
