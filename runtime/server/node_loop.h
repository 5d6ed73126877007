// NodeLoop: the thread that drives core's NodeHost on a real node.
//
// One thread owns the NodeHost and every Raft group's storage: no locks on the hot path.
// Other threads (gRPC handlers, transport receivers) hand it work through a bounded inbox
// and get answers through callbacks. The thread sleeps in epoll (loop_waker.h): an
// eventfd wakes it for work, a timerfd on the monotonic clock drives Raft's ticks. Each
// round it: drains the inbox, ticks on schedule, then repeatedly takes NodeHost's effects --
// sending messages at once (so followers replicate while the leader fsyncs), persisting every
// group's batch with ONE synced RocksDB write (group commit), reporting the persists back, and
// delivering replies -- until NodeHost has nothing more to say.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "core/node/hosted_groups.h"
#include "core/node/node_host.h"
#include "core/raft/types.h"
#include "runtime/server/loop_waker.h"
#include "runtime/storage/apply_write_buffer.h"
#include "runtime/storage/rocksdb_env.h"
#include "runtime/storage/rocksdb_raft_storage.h"
#include "runtime/transport/raft_transport.h"

namespace ekv::runtime {

struct GroupSpec {
  raft::GroupId group = 0;
  std::vector<raft::NodeId> voters;  // initial members (bootstrap only)
  // A group created at run time (route::CreateGroup) that names this node as a voter:
  // bootstrapped with `voters` when it has no state, whatever `bootstrap` and `join` say.
  bool created = false;
  // A created group this node joined after its creation (a replica move's target): it
  // starts empty and waits for its leader, never bootstraps.
  bool start_empty = false;
};

struct NodeLoopOptions {
  raft::NodeId node_id = raft::kNoNode;
  int tick_ms = 50;
  std::vector<GroupSpec> groups;
  bool bootstrap = true;  // create groups that have no state yet
  // A node joining a running cluster: groups without state start empty and wait for
  // their leader to send a snapshot (the cluster added this node to them). Wins over
  // `bootstrap`.
  bool join = false;
  node::NodeHostOptions host;
  size_t max_inbox = 65536;  // inputs waiting for the loop; beyond it requests are refused
  // Where the state machines' engines buffer applied writes (apply_write_buffer.h); the
  // loop writes it once per NodeHost::TakeEffects, before that round's messages and
  // replies leave. Null: engines write through.
  ApplyWriteBuffer* apply_buffer = nullptr;
  // PLANTED BUG, testing only (ekv-server --planted_bugs follower_read_without_quorum; off
  // by default): a replica that is not its group's leader answers reads (kGet, kQuery) at
  // once from its own applied state, without a read index or lease, so a lagging or
  // partitioned follower serves stale values. Black-box tests (jepsen/) must catch it.
  bool planted_follower_read_without_quorum = false;
};

struct NodeLoopStats {
  uint64_t rounds = 0;
  uint64_t synced_writes = 0;
  uint64_t persisted_batches = 0;
  uint64_t requests = 0;
  uint64_t refused_inbox_full = 0;
  // When the loop last finished a round (steady clock; epoch = never): health checks.
  std::chrono::steady_clock::time_point last_round_at;
};

class NodeLoop {
 public:
  using StateMachineFactory =
      std::function<std::unique_ptr<node::StateMachine>(raft::GroupId group)>;
  using ReplyCallback = std::function<void(const node::ClientReply& reply)>;

  NodeLoop(NodeLoopOptions options, RocksDbEnv* env, RaftTransport* transport,
           StateMachineFactory factory);
  ~NodeLoop();

  // Loads (or bootstraps) every group from RocksDB and starts the thread.
  absl::Status Start();
  // Stops the thread; requests still waiting are answered kUnknown.
  void Stop();

  // Thread-safe inputs.
  void DeliverRaft(raft::NodeId from, std::vector<raft::Message> messages);
  void ReportUnreachable(raft::NodeId peer);
  void ReportSnapshot(raft::NodeId peer, raft::GroupId group, bool failed);
  // Proposals the transport dropped unsent (RaftTransport::SetUndeliveredHandler).
  void ReportUndelivered(std::vector<raft::Message> proposals);
  // `done` runs on the loop thread: it must not block.
  void Submit(node::ClientRequest request, ReplyCallback done);

  // Running other single-threaded logic on the loop thread (the node's coordinators,
  // runtime/server/coordinator.h), so a request's fast path crosses no extra thread.
  // `task` runs on the loop thread, in order with other inputs. If the loop refuses it
  // (inbox full, stopping) or drops it at Stop, `dropped` runs instead, on the caller's
  // or the stopping thread. False when refused.
  bool Post(std::function<void()> task, std::function<void()> dropped);
  // Loop thread only: submits to NodeHost directly (no inbox hop).
  void SubmitFromLoop(node::ClientRequest request, ReplyCallback done);
  // Loop thread only: runs `task` on the loop thread once the monotonic clock reaches `at`.
  void RunAtFromLoop(std::chrono::steady_clock::time_point at, std::function<void()> task);
  // Called by Stop once the loop thread has stopped, before requests still waiting are
  // answered (in registration order). Register before Start.
  void AddStopHook(std::function<void()> hook);
  bool OnLoopThread() const { return std::this_thread::get_id() == loop_thread_id_.load(); }
  // The catalog group's replica applied a catalog with these created groups (loop thread,
  // or the starting thread before Start returns). The loop hosts or drops groups to match
  // (node/hosted_groups.h) after the apply round, outside NodeHost.
  void OnCreatedGroups(node::CreatedGroups created);

  // The leader this node last saw for `group` (kNoNode: unknown). Thread-safe.
  raft::NodeId LeaderOf(raft::GroupId group) const;
  // Whether this node hosts a replica of `group`. Thread-safe.
  bool Hosts(raft::GroupId group) const;
  // Every hosted group's status as of the loop's last round. Thread-safe: the loop
  // publishes a copy after each round, so readers (metrics, membership) never touch
  // NodeHost.
  std::map<raft::GroupId, node::GroupStatus> GroupStatuses() const;
  NodeLoopStats stats() const;

 private:
  struct Input {
    enum class Kind {
      kMessages,
      kUnreachable,
      kRequest,
      kSnapshotStatus,
      kPersisted,
      kUndelivered,
      kTask
    } kind;
    raft::NodeId from = raft::kNoNode;
    std::vector<raft::Message> messages;
    node::ClientRequest request;
    ReplyCallback done;
    raft::GroupId group = 0;                  // kSnapshotStatus
    bool failed = false;                      // kSnapshotStatus
    uint64_t ready_id = 0;                    // kPersisted
    std::function<void()> task = nullptr;     // kTask
    std::function<void()> dropped = nullptr;  // kTask
  };
  // Work for the persister thread, in order: a persist batch or a snapshot record.
  struct PersistJob {
    std::optional<node::PersistRequest> persist;
    std::optional<node::SnapshotCreated> snapshot;
  };

  absl::Status LoadGroup(const GroupSpec& spec);
  // Carries out the plan for the created groups last announced (OnCreatedGroups).
  void ReconcileCreatedGroups();
  // The durable storage of `group` (persister thread and loop thread).
  RocksDbRaftStorage& Durable(raft::GroupId group);
  absl::StatusOr<uint64_t> NextIncarnation();
  void Run();
  void HandleInput(Input& input);
  void Drain();
  void RunPersister();
  void PublishStatus();
  void FlushApplied();
  void HandleRequest(node::ClientRequest request, ReplyCallback done);
  // PLANTED BUG follower_read_without_quorum: answers `request` locally when it applies.
  bool PlantedFollowerRead(const node::ClientRequest& request, const ReplyCallback& done);
  // Runs the timers that are due; the wait until the next one.
  std::chrono::milliseconds FireTimers();
  std::chrono::milliseconds NextTimerWait() const;

  NodeLoopOptions options_;
  RocksDbEnv* env_;
  RaftTransport* transport_;
  StateMachineFactory factory_;
  std::unique_ptr<node::NodeHost> host_;
  // Grows at run time (created groups) while the persister reads it: under durable_mu_.
  // Entries are never erased before Stop, so references stay valid.
  std::mutex durable_mu_;
  std::map<raft::GroupId, std::unique_ptr<RocksDbRaftStorage>> durable_;
  std::optional<node::CreatedGroups> pending_created_;  // loop thread only
  std::map<uint64_t, ReplyCallback> callbacks_;         // loop thread only
  uint64_t next_request_id_ = 1;                        // loop thread only
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>>
      timers_;  // loop thread only
  std::vector<std::function<void()>> stop_hooks_;
  std::atomic<std::thread::id> loop_thread_id_{};

  mutable std::mutex mu_;
  std::deque<Input> inbox_;
  bool stopping_ = false;
  std::map<raft::GroupId, node::GroupStatus> statuses_;  // published by PublishStatus
  NodeLoopStats stats_;
  std::unique_ptr<LoopWaker> waker_;
  std::thread thread_;

  // The persister thread and its queue (separate lock: the loop never waits on an fsync).
  std::mutex persist_mu_;
  std::condition_variable persist_cv_;
  std::deque<PersistJob> persist_queue_;
  bool persist_stopping_ = false;
  std::thread persister_;
};

}  // namespace ekv::runtime
