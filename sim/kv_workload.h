// Workloads over clusters whose groups run the server's GroupStateMachine: the kv layer
// (MVCC, Percolator transactions across groups, apply-time timestamps) proven under the
// simulator's faults, judged by the checkers in sim/checkers/.
//
//   bank         accounts on two groups; transfer transactions (read both balances at
//                start_ts, prewrite both, commit the primary's group first) and read-all
//                transactions at one read_ts. checkers::CheckBank: every read sees the
//                initial total and no negative balance.
//   append       transactions of 1-4 micro-ops (append a unique int to a key's list, or
//                read it) over 8 keys on two groups; lists stored as comma-separated
//                values. checkers::CheckListAppend (strict serializability).
//   kv-register  single-key raw writes (RawWriteCommand) and kRawGet reads on keys of two
//                groups. checkers::CheckLinearizable.
//
// Keys route by their first byte as the server's initial catalog does: below "m" to group
// 1, the rest to group 2.
//
// With splits on (--splits; `bootstrap` given), every group knows what it owns from that
// catalog (group 1 hosts it), the coordinator routes with a versioned route table and
// retries STALE_ROUTE refusals transparently (kv_coordinator.h), and:
//   - a splitter splits random routes at random keys (SplitRange on group 1 with the
//     catalog version it knows; a race loses with FAILED_PRECONDITION and is retried
//     later with a fresh table), then tells the split route's group (kOwnership);
//   - bank's read-only transactions also scan every account route by route at their
//     snapshot timestamp (route::ScanCursor, small pages, either direction, resolved with
//     the newest table at each step): the scan must return each key once, in order, and
//     exactly the point reads at that timestamp.
// Transactions read at a start_ts from the group-1 oracle; their writes are driven by
// core's kv::TxnCoordinator (the coordinator the servers' transactions are meant to share):
// one group -> a one-phase commit whose commit_ts the group chooses at apply; several ->
// prewrite everywhere, a commit_ts from the oracle, the primary's group commits first (the
// commit point), then the others; any failure before that rolls everything back. A
// reader that meets a lock asks the primary's group (CheckTxnStatus) and resolves the
// lock (ResolveLock) before reading again at the same timestamp.
//
// Snapshot isolation alone allows write skew, which the append checker would rightly
// call a G2 cycle; so a transaction that writes also writes back, unchanged, every key it
// only read, turning each read into a write-write conflict (materialized conflicts).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/kv/txn_coordinator.h"
#include "core/node/group_protocol.h"
#include "core/route/catalog.h"
#include "core/util/rng.h"
#include "sim/checkers/bank.h"
#include "sim/checkers/history.h"
#include "sim/checkers/txn_history.h"
#include "sim/cluster.h"
#include "sim/kv_coordinator.h"
#include "sim/options.h"
#include "sim/scheduler.h"
#include "sim/swarm.h"
#include "sim/trace.h"

namespace ekv::sim {

class KvWorkload {
 public:
  static constexpr int kMaxReadTries = 12;  // lock resolutions and retries of one read
  static constexpr int64_t kInitialBalance = 100;

  KvWorkload(Scheduler& scheduler, Trace& trace, Cluster& cluster, Rng rng,
             const SwarmProfile& profile, int total_ops, WorkloadKind kind, KvClientPlants plants,
             std::optional<route::RouteCatalog> bootstrap = std::nullopt);
  static constexpr int kMaxSplitsPerRun = 48;
  static constexpr int kMaxScanSteps = 64;  // sub-scans, lock resolutions and refreshes

  void Start();
  void StopIssuing() { issuing_ = false; }
  bool Idle() const;
  void OnReply(NodeIndex node, const node::ClientReply& reply) {
    coordinator_.OnReply(node, reply);
  }

  uint64_t issued() const { return issued_; }
  uint64_t acknowledged() const { return acknowledged_; }

  struct Verdict {
    bool ok = true;
    std::string verdict;  // what was violated, or "" when ok
    std::string details;
  };
  // Judges the recorded history with the workload's checker.
  Verdict Check() const;

  // "splits=<done>/<tried> scans=<completed> stale_refusals=<n>" for the summary line.
  std::string RoutingStats() const;
  // "ts=<timestamps handed out> 1pc=<committed>/<tried>" for the summary line.
  std::string KvStats() const;
  uint64_t splits_done() const { return splits_done_; }
  uint64_t scans_done() const { return scans_done_; }

 private:
  enum class TxnOutcome { kCommitted, kAborted, kUnknown };
  using Reads = std::map<std::string, std::optional<std::string>>;
  using Writes = std::vector<std::pair<std::string, std::string>>;  // first: the primary
  struct TxnSpec {
    std::vector<std::string> read_keys;
    std::function<Writes(const Reads&)> plan;  // empty result: read-only
  };
  // start_ts: the snapshot the reads were taken at (0 if none was drawn).
  using TxnDone = std::function<void(TxnOutcome, const Reads&, kv::Timestamp start_ts)>;
  struct Txn;

  struct Client {
    uint64_t id = 0;
    bool busy = false;
  };

  // A transaction: reads at start_ts, then its writes through core's TxnCoordinator.
  void RunTxn(TxnSpec spec, TxnDone done);
  void ReadNext(std::shared_ptr<Txn> txn);
  // Carries out the coordinator's effects (proposals, commit_ts requests, outcomes)
  // until it has none; every answer re-enters here.
  void DriveTxns();
  void FinishTxn(kv::TxnOutcome outcome);
  // Reads `key` at `ts`, resolving locks it meets; nullopt: the read failed.
  void ReadAt(const std::string& key, kv::Timestamp ts, int tries_left,
              std::function<void(std::optional<std::optional<std::string>>)> done);
  // CheckTxnStatus on the lock's primary, then ResolveLock on its key when decided.
  void ResolveLock(const node::GroupKeyError& lock, std::function<void()> done);
  // A kKv command whose keys all live in the group owning `routing_key`.
  void KvCommand(const std::string& routing_key, const std::string& kv_command,
                 KvCoordinator::CallDone done);

  // Splits (see above).
  void ScheduleSplit();
  void RunSplit();
  void PushOwnership(raft::GroupId group);
  // Scans every key at `ts` (see above); `done` once it finished or gave up.
  struct Scan;
  void ScanAt(kv::Timestamp ts, const Reads& point_reads, std::function<void()> done);
  void ScanStep(std::shared_ptr<Scan> scan);
  void FinishScan(std::shared_ptr<Scan> scan, bool completed);

  void ScheduleNext(size_t client_index);
  void Issue(size_t client_index);
  void Done(size_t client_index);
  void IssueBank(size_t client_index);
  void RunBankSetup(size_t client_index);
  void IssueAppend(size_t client_index);
  void IssueRegister(size_t client_index);

  Scheduler& scheduler_;
  Trace& trace_;
  Cluster& cluster_;
  Rng rng_;
  SwarmProfile profile_;
  int total_ops_;
  WorkloadKind kind_;
  KvCoordinator coordinator_;
  uint64_t lock_ttl_ms_;
  bool issuing_ = false;
  std::vector<Client> clients_;
  std::vector<std::string> keys_;
  uint64_t issued_ = 0;
  uint64_t acknowledged_ = 0;
  uint64_t one_phase_tried_ = 0;
  uint64_t one_phase_committed_ = 0;
  // The write phase of every transaction (core/kv/txn_coordinator.h).
  std::unique_ptr<kv::TxnCoordinator> txn_driver_;
  std::map<kv::TxnId, std::shared_ptr<Txn>> running_txns_;

  // bank
  bool bank_setup_done_ = false;
  bool bank_setup_running_ = false;
  std::vector<checkers::BankRead> bank_reads_;
  // append
  checkers::TxnHistory txn_history_;
  int64_t next_append_value_ = 1;
  // kv-register
  checkers::History register_history_;
  uint64_t next_register_value_ = 1;
  // splits and scans
  bool splits_ = false;
  bool splitter_busy_ = false;
  uint64_t splits_done_ = 0;
  uint64_t split_attempts_ = 0;
  uint64_t scans_running_ = 0;
  uint64_t scans_done_ = 0;
  std::vector<std::string> scan_violations_;
};

}  // namespace ekv::sim
