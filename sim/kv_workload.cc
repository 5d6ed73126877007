#include "sim/kv_workload.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/coord/read_restart.h"
#include "core/kv/kv_command.h"
#include "core/kv/kv_state_machine.h"
#include "core/node/group_state_machine.h"
#include "core/route/route.h"
#include "core/route/scan_plan.h"
#include "core/util/assert.h"
#include "sim/checkers/linearizability.h"
#include "sim/checkers/list_append.h"

namespace ekv::sim {
namespace {

constexpr SimTime kSplitIntervalMinUs = 20'000;
constexpr SimTime kSplitIntervalMaxUs = 250'000;

// A key near the workload's keys ("a0", "n2", ...) so splits land between them, at them
// and around the group boundary "m".
std::string RandomSplitKey(Rng& rng) {
  std::string key(1, static_cast<char>('a' + rng.Uniform(16)));  // 'a'..'p'
  if (rng.Chance(0.7)) key.push_back(static_cast<char>('0' + rng.Uniform(6)));
  if (rng.Chance(0.3)) key.push_back(static_cast<char>('a' + rng.Uniform(26)));
  return key;
}

std::vector<int64_t> ParseList(const std::optional<std::string>& value) {
  std::vector<int64_t> list;
  if (!value.has_value() || value->empty()) return list;
  for (absl::string_view part : absl::StrSplit(*value, ',')) {
    int64_t element = 0;
    EKV_ASSERT(absl::SimpleAtoi(part, &element), "list value holds a non-integer: ", *value);
    list.push_back(element);
  }
  return list;
}

std::string FormatList(const std::vector<int64_t>& list) { return absl::StrJoin(list, ","); }

}  // namespace

struct KvWorkload::Txn {
  NodeIndex node = 0;  // whose coordinator runs it
  TxnSpec spec;
  TxnDone done;
  kv::Timestamp start_ts = 0;
  kv::Timestamp commit_ts = 0;
  size_t next_read = 0;
  Reads reads;
  Writes writes;
  std::string primary;
  bool one_group = false;  // its writes live in one group: a one-phase commit
  int read_restarts = 0;   // snapshots retaken after a ReadRestart (read_restart.h)
};

namespace {
// A snapshot reader retakes its snapshot after a ReadRestart at most this often, then
// gives up (a failed, effect-free operation): the window is short, so one retake nearly
// always answers.
constexpr int kMaxReadRestarts = 3;
}  // namespace

namespace {

// How the coordinators are set up for this seed, drawn in a fixed order.
SimCoordinatorsConfig DrawCoordinatorsConfig(Rng& rng, SimCoordinatorPlants plants,
                                             const std::optional<route::RouteCatalog>& bootstrap,
                                             uint64_t misroute_groups) {
  SimCoordinatorsConfig config;
  config.seed = rng.Next();
  config.lock_ttl_ms = rng.Range(100, 3000);
  config.plants = plants;
  if (bootstrap.has_value()) {
    config.catalog = *bootstrap;
    // Misroutes only in split runs: the groups enforce ownership only there.
    if (!rng.Chance(0.2)) config.misroute_probability = 0.02 + 0.2 * rng.NextDouble();
    config.misroute_groups = misroute_groups;
  } else {
    // The servers' initial topology: below "m" to group 1, the rest to group 2.
    absl::StatusOr<route::RouteCatalog> catalog =
        route::RouteCatalog::Bootstrap({{"", "m", 1}, {"m", "", 2}});
    EKV_ASSERT(catalog.ok(), "the bootstrap catalog is valid");
    config.catalog = *std::move(catalog);
  }
  return config;
}

bool OutcomeUnknown(const std::optional<coord::OpResult>& result) {
  if (!result.has_value()) return true;  // the client heard nothing back
  return absl::StrContains(result->status.message(), "outcome unknown");
}

}  // namespace

KvWorkload::KvWorkload(Scheduler& scheduler, Trace& trace, Cluster& cluster, Rng rng,
                       const SwarmProfile& profile, int total_ops, WorkloadKind kind,
                       SimCoordinatorPlants plants, std::optional<route::RouteCatalog> bootstrap,
                       bool moves, bool placement, bool redis_cross_group_exec,
                       bool dynamo_plant_index_keeps_old_entry, bool merges, bool create_groups,
                       bool replica_moves)
    : scheduler_(scheduler),
      trace_(trace),
      cluster_(cluster),
      rng_(rng),
      profile_(profile),
      total_ops_(total_ops),
      kind_(kind),
      coordinators_(
          scheduler, trace, cluster, profile,
          DrawCoordinatorsConfig(rng_, plants, bootstrap, moves ? cluster.group_ids().size() : 2)) {
  // Enough keys that a dozen clients make progress rather than only conflict, few enough
  // that transactions still collide often.
  int per_group = 6;
  if (kind_ == WorkloadKind::kAppend) per_group = 8;
  if (kind_ == WorkloadKind::kKvRegister || kind_ == WorkloadKind::kKvRegisterSnapshot) {
    per_group = 4;
  }
  for (const char* prefix : {"a", "n"}) {
    for (int i = 0; i < per_group; ++i) keys_.push_back(absl::StrCat(prefix, i));
  }
  for (int i = 0; i < profile_.clients; ++i)
    clients_.push_back(Client{static_cast<uint64_t>(i + 1)});
  if (kind_ == WorkloadKind::kRedis) {
    RedisWorkload::Options options;
    options.cross_group_exec = redis_cross_group_exec;
    redis_ =
        std::make_unique<RedisWorkload>(scheduler_, cluster_, coordinators_, rng_.Fork(), options);
  }
  if (kind_ == WorkloadKind::kDynamo) {
    DynamoWorkload::Options options;
    options.plant_index_keeps_old_entry = dynamo_plant_index_keeps_old_entry;
    dynamo_ = std::make_unique<DynamoWorkload>(scheduler_, coordinators_, rng_.Fork(), options);
  }
  splits_ = bootstrap.has_value();
  if (splits_ && moves) {
    moves_ = true;
    mover_.rng = rng_.Fork();
    if (placement) {
      placement_ = true;
      placement_rng_ = rng_.Fork();
    }
  }
  if (splits_ && merges) {
    merges_ = true;
    merger_.rng = rng_.Fork();
  }
  if (splits_ && create_groups) {
    create_groups_ = true;
    coordinators_.SetPushAppliedCatalogs(true);
    group_creator_.rng = rng_.Fork();
    group_retirer_.rng = group_creator_.rng.Fork();
    if (replica_moves) {
      replica_moves_ = true;
      replica_mover_.rng = rng_.Fork();
    }
  }
  // Node-level membership changes need the member directory, which the catalog group
  // holds only with a catalog (--splits); and every initial group on every node (N <= 5),
  // so that adding a node back to the groups of the node that asks restores what was
  // there. Created groups (on 3 of the nodes) are drained off the node before its removal
  // (kv_workload_members.cc). Also with --placement, whose drivers may balance a replica
  // onto the node just drained (it hosts the fewest) before RemoveNode runs: RemoveNode
  // moves such a replica off again as a drain does (coordinator_members.cc).
  if (splits_ && profile_.p_membership > 0 && cluster_.nodes().size() <= 5) {
    member_changes_ = true;
    member_rng_ = rng_.Fork();
  }
}

bool KvWorkload::Idle() const {
  return coordinators_.Idle() && !splitter_busy_ && !member_changer_busy_ && removed_node_ == 0 &&
         draining_node_ == 0 && !mover_.busy && !mover_.unfinished.has_value() && !merger_.busy &&
         !merger_.unfinished.has_value() && !PlacementBusy() && scans_running_ == 0 &&
         !replica_mover_.busy && !replica_mover_.unfinished.has_value() &&
         !balance_check_running_ && !leader_check_running_ &&
         !(redis_ && redis_->final_reads_pending()) &&
         !(dynamo_ && dynamo_->final_reads_pending()) &&
         std::none_of(clients_.begin(), clients_.end(), [](const Client& c) { return c.busy; });
}

std::string KvWorkload::BusyDescription() const {
  std::vector<std::string> busy;
  if (!coordinators_.Idle()) busy.push_back("coordinator calls outstanding");
  if (splitter_busy_) busy.push_back("a split in progress");
  if (mover_.busy) busy.push_back("a range move in progress");
  if (mover_.unfinished.has_value() && !mover_.busy) {
    busy.push_back(absl::StrCat("a range move from group ", mover_.unfinished->source, " to ",
                                mover_.unfinished->target, " not finished yet"));
  }
  if (merger_.busy) busy.push_back("a range merge in progress");
  if (merger_.unfinished.has_value() && !merger_.busy) {
    busy.push_back(absl::StrCat("a merge's move from group ", merger_.unfinished->source, " to ",
                                merger_.unfinished->target, " not finished yet"));
  }
  if (PlacementBusy()) busy.push_back("a placement driver busy (a round, or a move to finish)");
  if (replica_mover_.busy) busy.push_back("a replica move or drain in progress");
  if (replica_mover_.unfinished.has_value() && !replica_mover_.busy) {
    busy.push_back("a replica move or drain not finished yet");
  }
  if (balance_check_running_) busy.push_back("the replica balance check still running");
  if (leader_check_running_) busy.push_back("the leader balance check still running");
  if (member_changer_busy_) busy.push_back("a membership change in progress");
  if (draining_node_ != 0) busy.push_back(absl::StrCat("n", draining_node_, " not drained yet"));
  if (removed_node_ != 0) {
    busy.push_back(absl::StrCat("n", removed_node_, " not added back yet (",
                                member_change_attempts_ - member_changes_done_,
                                " membership attempts failed so far)"));
  }
  if (scans_running_ != 0) busy.push_back(absl::StrCat(scans_running_, " scans running"));
  if (redis_ && redis_->final_reads_pending()) busy.push_back("final counter reads running");
  if (dynamo_ && dynamo_->final_reads_pending()) busy.push_back("final dynamo read running");
  const auto clients_busy =
      std::count_if(clients_.begin(), clients_.end(), [](const Client& c) { return c.busy; });
  if (clients_busy != 0) busy.push_back(absl::StrCat(clients_busy, " clients busy"));
  return absl::StrJoin(busy, ", ");
}

void KvWorkload::StopIssuing() {
  issuing_ = false;
  MaybeStartFinalReads();
  if (member_changes_ && create_groups_) {
    // The heal restarts every node right after this: a node whose disk broke shows then.
    scheduler_.After(200'000, [this] {
      if (!member_changer_busy_ && MemberChangesLeft()) RunMemberChange();
    });
  } else if (removed_node_ != 0 && !member_changer_busy_) {
    ScheduleMemberChange();
  }
  if (mover_.unfinished.has_value() && !mover_.busy) ScheduleMove();
  if (merger_.unfinished.has_value() && !merger_.busy) ScheduleMerge();
  if (placement_) StopPlacement();
  if (replica_mover_.unfinished.has_value() && !replica_mover_.busy) ScheduleReplicaMove();
}

void KvWorkload::Start() {
  issuing_ = true;
  for (size_t i = 0; i < clients_.size(); ++i) ScheduleNext(i);
  // With --placement the drivers decide every split and move (kv_workload_placement.cc).
  if (splits_ && !placement_) ScheduleSplit();
  if (member_changes_) ScheduleMemberChange();
  if (moves_ && !placement_) ScheduleMove();
  if (merges_ && !placement_) ScheduleMerge();
  if (create_groups_) ScheduleCreateGroup();
  if (create_groups_) ScheduleRetireGroup();
  if (replica_moves_) ScheduleReplicaMove();
  if (placement_) SchedulePlacement();
}

void KvWorkload::ScheduleNext(size_t client_index) {
  if (!issuing_) return;
  const SimTime mean_think_us =
      profile_.chaos_duration_us * clients_.size() / std::max(total_ops_, 1);
  scheduler_.After(rng_.Range(0, 2 * mean_think_us), [this, client_index] {
    if (!issuing_ || clients_[client_index].busy) return;
    if (issued_ >= static_cast<uint64_t>(total_ops_)) {
      issuing_ = false;
      return;
    }
    Issue(client_index);
  });
}

void KvWorkload::Issue(size_t client_index) {
  clients_[client_index].busy = true;
  switch (kind_) {
    case WorkloadKind::kBank:
      IssueBank(client_index);
      return;
    case WorkloadKind::kAppend:
      IssueAppend(client_index);
      return;
    case WorkloadKind::kKvRegister:
    case WorkloadKind::kKvRegisterSnapshot:
      IssueRegister(client_index);
      return;
    case WorkloadKind::kRedis:
      ++issued_;
      redis_->Issue(clients_[client_index].id,
                    [this, client_index](RedisWorkload::Outcome outcome) {
                      if (outcome == RedisWorkload::Outcome::kAcked) ++acknowledged_;
                      if (outcome == RedisWorkload::Outcome::kFailed) ++failed_;
                      if (outcome == RedisWorkload::Outcome::kUnknown) ++unknown_;
                      Done(client_index);
                    });
      return;
    case WorkloadKind::kDynamo:
      dynamo_->Issue(clients_[client_index].id,
                     [this, client_index](DynamoWorkload::Outcome outcome) {
                       // kWaiting: the setup runs on another client; nothing was sent.
                       if (outcome != DynamoWorkload::Outcome::kWaiting) ++issued_;
                       if (outcome == DynamoWorkload::Outcome::kAcked) ++acknowledged_;
                       if (outcome == DynamoWorkload::Outcome::kFailed) ++failed_;
                       if (outcome == DynamoWorkload::Outcome::kUnknown) ++unknown_;
                       Done(client_index);
                     });
      return;
    case WorkloadKind::kRegister:
      break;
  }
  EKV_UNREACHABLE("KvWorkload runs kv workloads only");
}

void KvWorkload::Done(size_t client_index) {
  EKV_ASSERT(clients_[client_index].busy, "finishing an idle client");
  clients_[client_index].busy = false;
  ScheduleNext(client_index);
  MaybeStartFinalReads();
}

void KvWorkload::MaybeStartFinalReads() {
  // Once the chaos phase's operations are over: the final reads of the redis counters, or
  // of the dynamo table and its index.
  if ((!redis_ && !dynamo_) || issuing_) return;
  if (std::any_of(clients_.begin(), clients_.end(), [](const Client& c) { return c.busy; })) {
    return;
  }
  if (redis_) redis_->StartFinalReads();
  if (dynamo_) dynamo_->StartFinalReads();
}

// ---------------------------------------------------------------------------------------
// Transactions

void KvWorkload::RunTxn(TxnSpec spec, TxnDone done) {
  auto txn = std::make_shared<Txn>();
  txn->spec = std::move(spec);
  txn->done = [this, done = std::move(done)](TxnOutcome outcome, const Reads& reads,
                                             kv::Timestamp start_ts) {
    if (outcome == TxnOutcome::kAborted) ++failed_;
    if (outcome == TxnOutcome::kUnknown) ++unknown_;
    done(outcome, reads, start_ts);
  };
  // One node coordinates the whole transaction, as one server's coordinator would.
  txn->node = coordinators_.RandomUpNode();
  if (txn->node == 0) {
    txn->done(TxnOutcome::kAborted, {}, 0);
    return;
  }
  StartTxnReads(std::move(txn), /*at_least=*/0);
}

void KvWorkload::StartTxnReads(std::shared_ptr<Txn> txn, kv::Timestamp at_least) {
  coordinators_.Run(
      txn->node, [at_least](coord::Coordinator& c) { return c.StartGetTimestamp(at_least); },
      [this, txn](std::optional<coord::OpResult> ts) {
        if (!ts.has_value() || !ts->status.ok()) {
          txn->done(TxnOutcome::kAborted, {}, 0);
          return;
        }
        txn->start_ts = ts->ts;
        txn->next_read = 0;
        txn->reads.clear();
        ReadNext(txn);
      });
}

void KvWorkload::SnapshotRead(NodeIndex node, std::string key, kv::Timestamp at_least,
                              int restarts_left, ReadDone done) {
  coordinators_.Run(
      node, [at_least](coord::Coordinator& c) { return c.StartGetTimestamp(at_least); },
      [this, node, key, restarts_left, done](std::optional<coord::OpResult> ts) {
        if (!ts.has_value() || !ts->status.ok()) return done(std::nullopt);
        coordinators_.Run(
            node, [key, t = ts->ts](coord::Coordinator& c) { return c.StartTxnGet(key, t); },
            [this, node, key, restarts_left, done](std::optional<coord::OpResult> read) {
              const uint64_t above = read.has_value() ? coord::ReadRestartAbove(read->status) : 0;
              if (above != 0 && restarts_left > 0) {
                return SnapshotRead(node, key, above, restarts_left - 1, done);
              }
              done(std::move(read));
            });
      });
}

void KvWorkload::ReadNext(std::shared_ptr<Txn> txn) {
  if (txn->next_read < txn->spec.read_keys.size()) {
    const std::string key = txn->spec.read_keys[txn->next_read++];
    coordinators_.Run(
        txn->node,
        [key, ts = txn->start_ts](coord::Coordinator& c) { return c.StartTxnGet(key, ts); },
        [this, txn, key](std::optional<coord::OpResult> read) {
          const uint64_t restart_above =
              read.has_value() ? coord::ReadRestartAbove(read->status) : 0;
          if (restart_above != 0 && txn->read_restarts++ < kMaxReadRestarts) {
            // Every read so far is void: read them all again at a snapshot above.
            StartTxnReads(txn, restart_above);
            return;
          }
          if (!read.has_value() || !read->status.ok()) {
            txn->done(TxnOutcome::kAborted, {}, txn->start_ts);  // nothing written yet
            return;
          }
          txn->reads[key] = read->value;
          ReadNext(txn);
        });
    return;
  }
  txn->writes = txn->spec.plan(txn->reads);
  if (txn->writes.empty()) {
    // Read-only: every read was at start_ts, a snapshot no later commit can change.
    txn->done(TxnOutcome::kCommitted, txn->reads, txn->start_ts);
    return;
  }
  CommitWrites(std::move(txn));
}

void KvWorkload::CommitWrites(std::shared_ptr<Txn> txn) {
  std::vector<kv::Mutation> mutations;
  std::set<bool> groups;
  for (const auto& [key, value] : txn->writes) {
    mutations.push_back(kv::Mutation::Put(key, value));
    groups.insert(key < "m");  // splits keep both halves of a route in its group
  }
  txn->one_group = groups.size() == 1;
  if (txn->one_group) ++one_phase_tried_;
  coordinators_.Run(
      txn->node,
      [mutations = std::move(mutations), ts = txn->start_ts](coord::Coordinator& c) mutable {
        return c.StartCommitTransaction(std::move(mutations), ts);
      },
      [this, txn](std::optional<coord::OpResult> result) {
        if (OutcomeUnknown(result)) {
          txn->done(TxnOutcome::kUnknown, {}, txn->start_ts);
          return;
        }
        if (!result->status.ok()) {
          txn->done(TxnOutcome::kAborted, {}, txn->start_ts);
          return;
        }
        EKV_ASSERT(result->ts > txn->start_ts, "a transaction must commit above its start_ts");
        txn->commit_ts = result->ts;
        if (txn->one_group) ++one_phase_committed_;
        txn->done(TxnOutcome::kCommitted, txn->reads, txn->start_ts);
      });
}

// ---------------------------------------------------------------------------------------
// bank

void KvWorkload::RunBankSetup(size_t client_index) {
  bank_setup_running_ = true;
  ++issued_;
  TxnSpec spec;
  spec.plan = [this](const Reads&) {
    Writes writes;
    for (const std::string& account : keys_) {
      writes.emplace_back(account, absl::StrCat(kInitialBalance));
    }
    return writes;
  };
  RunTxn(std::move(spec), [this, client_index](TxnOutcome outcome, const Reads&, kv::Timestamp) {
    bank_setup_running_ = false;
    if (outcome == TxnOutcome::kCommitted) {
      bank_setup_done_ = true;
      ++acknowledged_;
    }
    // Not committed (or unknown): a retry writes the same balances, so it is harmless.
    Done(client_index);
  });
}

void KvWorkload::IssueBank(size_t client_index) {
  if (!bank_setup_done_) {
    if (!bank_setup_running_) {
      RunBankSetup(client_index);
      return;
    }
    Done(client_index);  // waits for the setup
    return;
  }
  ++issued_;
  const uint64_t client_id = clients_[client_index].id;
  const uint64_t invoke_time = scheduler_.now();
  if (rng_.Chance(0.3)) {
    TxnSpec spec;
    spec.read_keys = keys_;
    spec.plan = [](const Reads&) { return Writes{}; };
    RunTxn(std::move(spec), [this, client_index, client_id, invoke_time](
                                TxnOutcome outcome, const Reads& reads, kv::Timestamp start_ts) {
      if (outcome == TxnOutcome::kCommitted) {
        ++acknowledged_;
        checkers::BankRead read;
        read.id = bank_reads_.size() + 1;
        read.client = client_id;
        read.invoke_time = invoke_time;
        read.complete_time = scheduler_.now();
        for (const auto& [account, value] : reads) {
          int64_t balance = 0;
          if (value.has_value() && absl::SimpleAtoi(*value, &balance)) {
            read.balances[account] = balance;
          }
        }
        bank_reads_.push_back(std::move(read));
        if (splits_) {
          ScanAt(start_ts, reads, [this, client_index] { Done(client_index); });
          return;
        }
      }
      Done(client_index);
    });
    return;
  }
  const size_t from = rng_.Uniform(keys_.size());
  size_t to = rng_.Uniform(keys_.size() - 1);
  if (to >= from) ++to;
  const std::string from_key = keys_[from];
  const std::string to_key = keys_[to];
  const int64_t amount = static_cast<int64_t>(rng_.Range(1, 30));
  TxnSpec spec;
  spec.read_keys = {from_key, to_key};
  spec.plan = [from_key, to_key, amount](const Reads& reads) {
    int64_t from_balance = 0;
    int64_t to_balance = 0;
    const std::optional<std::string>& from_value = reads.at(from_key);
    const std::optional<std::string>& to_value = reads.at(to_key);
    if (!from_value.has_value() || !to_value.has_value() ||
        !absl::SimpleAtoi(*from_value, &from_balance) ||
        !absl::SimpleAtoi(*to_value, &to_balance) || from_balance < amount) {
      return Writes{};  // transfers never overdraw
    }
    return Writes{{from_key, absl::StrCat(from_balance - amount)},
                  {to_key, absl::StrCat(to_balance + amount)}};
  };
  RunTxn(std::move(spec), [this, client_index](TxnOutcome outcome, const Reads&, kv::Timestamp) {
    if (outcome == TxnOutcome::kCommitted) ++acknowledged_;
    Done(client_index);
  });
}

// ---------------------------------------------------------------------------------------
// append

void KvWorkload::IssueAppend(size_t client_index) {
  ++issued_;
  const int micro_ops = static_cast<int>(rng_.Range(1, 4));
  std::vector<checkers::MicroOp> ops;
  std::vector<std::string> touched;
  for (int i = 0; i < micro_ops; ++i) {
    const std::string& key = keys_[rng_.Uniform(keys_.size())];
    if (rng_.Chance(0.5)) {
      ops.push_back(checkers::MicroOp::Append(key, next_append_value_++));
    } else {
      ops.push_back(checkers::MicroOp::Read(key));
    }
    if (std::find(touched.begin(), touched.end(), key) == touched.end()) touched.push_back(key);
  }
  const uint64_t txn_id = txn_history_.Invoke(clients_[client_index].id, ops, scheduler_.now());
  auto read_results = std::make_shared<std::vector<std::vector<int64_t>>>();
  TxnSpec spec;
  spec.read_keys = touched;
  spec.plan = [ops, touched, read_results](const Reads& reads) {
    std::map<std::string, std::vector<int64_t>> lists;
    for (const std::string& key : touched) lists[key] = ParseList(reads.at(key));
    std::set<std::string> appended;
    read_results->clear();
    for (const checkers::MicroOp& op : ops) {
      if (op.kind == checkers::MicroOp::Kind::kAppend) {
        lists[op.key].push_back(op.value);
        appended.insert(op.key);
      } else {
        read_results->push_back(lists[op.key]);
      }
    }
    Writes writes;
    if (appended.empty()) return writes;
    // Appended keys first (the primary is one of them), then every key only read,
    // written back unchanged so that concurrent writers of it conflict.
    for (const std::string& key : touched) {
      if (appended.count(key) != 0) writes.emplace_back(key, FormatList(lists[key]));
    }
    for (const std::string& key : touched) {
      if (appended.count(key) == 0) writes.emplace_back(key, FormatList(lists[key]));
    }
    return writes;
  };
  RunTxn(std::move(spec), [this, client_index, txn_id, read_results](TxnOutcome outcome,
                                                                     const Reads&, kv::Timestamp) {
    switch (outcome) {
      case TxnOutcome::kCommitted:
        ++acknowledged_;
        txn_history_.Complete(txn_id, checkers::Transaction::Outcome::kCommitted, scheduler_.now(),
                              *read_results);
        break;
      case TxnOutcome::kAborted:
        txn_history_.Complete(txn_id, checkers::Transaction::Outcome::kAborted, scheduler_.now());
        break;
      case TxnOutcome::kUnknown:
        txn_history_.Complete(txn_id, checkers::Transaction::Outcome::kUnknown, scheduler_.now());
        break;
    }
    Done(client_index);
  });
}

// ---------------------------------------------------------------------------------------
// kv-register

void KvWorkload::IssueRegister(size_t client_index) {
  ++issued_;
  const uint64_t client_id = clients_[client_index].id;
  const std::string key = keys_[rng_.Uniform(keys_.size())];
  const double dice = rng_.NextDouble();
  const NodeIndex node = coordinators_.RandomUpNode();
  if (dice < profile_.read_fraction) {
    const uint64_t op_id = register_history_.InvokeRead(client_id, key, scheduler_.now());
    if (node == 0) {
      ++failed_;
      register_history_.Complete(op_id, checkers::Operation::Outcome::kFailed, scheduler_.now());
      Done(client_index);
      return;
    }
    auto finish = [this, client_index, op_id](std::optional<coord::OpResult> read) {
      if (read.has_value() && read->status.ok()) {
        ++acknowledged_;
        register_history_.Complete(op_id, checkers::Operation::Outcome::kOk, scheduler_.now(),
                                   read->value);
      } else {
        ++failed_;
        register_history_.Complete(op_id, checkers::Operation::Outcome::kFailed, scheduler_.now());
      }
      Done(client_index);
    };
    // kv-register-snapshot: a snapshot read at a timestamp the oracle issued after the read
    // began must see every write acknowledged before it began (the oracle's promise,
    // docs/timestamp-ordering.md), so the same linearizability checker judges it.
    if (kind_ == WorkloadKind::kKvRegisterSnapshot && rng_.NextDouble() < 0.5) {
      SnapshotRead(node, key, /*at_least=*/0, kMaxReadRestarts, std::move(finish));
      return;
    }
    coordinators_.Run(
        node, [key](coord::Coordinator& c) { return c.StartRawGet(key, 0); },
        [this, client_index, op_id](std::optional<coord::OpResult> read) {
          if (read.has_value() && read->status.ok()) {
            ++acknowledged_;
            register_history_.Complete(op_id, checkers::Operation::Outcome::kOk, scheduler_.now(),
                                       read->value);
          } else {
            ++failed_;  // a read that did not answer changed nothing
            register_history_.Complete(op_id, checkers::Operation::Outcome::kFailed,
                                       scheduler_.now());
          }
          Done(client_index);
        });
    return;
  }
  std::optional<std::string> value;
  if (dice >= profile_.read_fraction + 0.1) value = absl::StrCat("v", next_register_value_++);
  const uint64_t op_id = register_history_.InvokeWrite(client_id, key, value, scheduler_.now());
  if (node == 0) {
    ++failed_;
    register_history_.Complete(op_id, checkers::Operation::Outcome::kFailed, scheduler_.now());
    Done(client_index);
    return;
  }
  coordinators_.Run(
      node,
      [key, value](coord::Coordinator& c) {
        return value.has_value() ? c.StartRawPut(key, *value) : c.StartRawDelete(key);
      },
      [this, client_index, op_id](std::optional<coord::OpResult> result) {
        checkers::Operation::Outcome outcome = checkers::Operation::Outcome::kFailed;
        if (OutcomeUnknown(result)) {
          outcome = checkers::Operation::Outcome::kUnknown;
          ++unknown_;
        } else if (result->status.ok()) {
          outcome = checkers::Operation::Outcome::kOk;
          ++acknowledged_;
        } else {
          ++failed_;
        }
        register_history_.Complete(op_id, outcome, scheduler_.now());
        Done(client_index);
      });
}

// ---------------------------------------------------------------------------------------
// splits

void KvWorkload::ScheduleSplit() {
  if (!issuing_ || splits_done_ >= static_cast<uint64_t>(kMaxSplitsPerRun)) return;
  scheduler_.After(rng_.Range(kSplitIntervalMinUs, kSplitIntervalMaxUs), [this] {
    if (!issuing_ || splitter_busy_) return;
    RunSplit();
  });
}

void KvWorkload::RunSplit() {
  const NodeIndex node = coordinators_.RandomUpNode();
  coord::Coordinator* coordinator = node == 0 ? nullptr : coordinators_.coordinator(node);
  if (coordinator == nullptr) {
    ScheduleSplit();
    return;
  }
  const route::RouteTable& table = coordinator->routes();
  uint64_t version = table.version();
  route::RouteId route_id = 0;
  std::optional<std::string> split_key;
  {
    const std::vector<route::RouteDescriptor> routes = table.Snapshot();
    EKV_ASSERT(!routes.empty(), "a coordinator's route table is never empty");
    const route::RouteDescriptor target = routes[rng_.Uniform(routes.size())];
    route_id = target.route_id;
    for (int i = 0; i < 8 && !split_key.has_value(); ++i) {
      std::string key = RandomSplitKey(rng_);
      if (key > target.start && route::KeyBeforeEnd(key, target.end)) split_key = std::move(key);
    }
    if (!split_key.has_value()) {
      ScheduleSplit();
      return;
    }
  }
  splitter_busy_ = true;
  ++split_attempts_;
  trace_.Record(
      {scheduler_.now(), "split", route_id, version, node, 0, route::FormatKey(*split_key)});
  coordinators_.Run(
      node,
      [version, route_id, key = *split_key](coord::Coordinator& c) {
        return c.StartSplitRange(version, route_id, key);
      },
      [this, node](std::optional<coord::OpResult> result) {
        if (result.has_value() && result->status.ok()) {
          ++splits_done_;
          splitter_busy_ = false;
          ScheduleSplit();
          return;
        }
        // A lost race (FAILED_PRECONDITION) or no answer: that node's table may be
        // behind; it re-reads the catalog before the next attempt.
        coordinators_.Run(
            node, [](coord::Coordinator& c) { return c.StartReadCatalog(); },
            [this](std::optional<coord::OpResult>) {
              splitter_busy_ = false;
              ScheduleSplit();
            });
      });
}

std::string KvWorkload::KvStats() const {
  std::string stats = absl::StrCat("ts=", coordinators_.timestamps_issued().size(),
                                   " 1pc=", one_phase_committed_, "/", one_phase_tried_);
  if (moves_) {
    const uint64_t fence_max =
        move_fences_us_.empty() ? 0
                                : *std::max_element(move_fences_us_.begin(), move_fences_us_.end());
    absl::StrAppend(&stats, " moves=", mover_.done, "/", mover_.tried, " aborted=", moves_aborted_,
                    " fence_max_ms=", fence_max / 1000);
  }
  if (placement_) absl::StrAppend(&stats, " ", PlacementStats());
  if (member_changes_) {
    absl::StrAppend(&stats, " members=", member_changes_done_, "/", member_change_attempts_);
    if (readmissions_ != 0) absl::StrAppend(&stats, " rejoined_empty=", readmissions_);
    if (readmit_waits_ != 0) absl::StrAppend(&stats, " readmit_waits=", readmit_waits_);
    if (create_groups_) {
      // Drains before a removal that moved a replica, created groups readmitted to by the
      // rejoins, and readmitted nodes hosting a created group again now.
      absl::StrAppend(&stats, " member_drains=", member_drains_,
                      " readmitted_groups=", readmitted_groups_,
                      " rehosted=", ReadmittedNodesHostingCreated());
      if (member_drains_refused_ != 0) {
        absl::StrAppend(&stats, " drains_refused=", member_drains_refused_);
      }
    }
  }
  if (create_groups_) {
    absl::StrAppend(&stats, " groups_created=", group_creator_.done, "/", group_creator_.tried,
                    " groups_retired=", group_retirer_.done, "/", group_retirer_.tried);
  }
  if (replica_moves_) {
    absl::StrAppend(&stats, " replica_moves=", replica_mover_.done, "/", replica_mover_.tried);
  }
  if (redis_) absl::StrAppend(&stats, " ", redis_->Stats());
  if (dynamo_) absl::StrAppend(&stats, " ", dynamo_->Stats());
  if (calm_issuing_us_ > 0) absl::StrAppend(&stats, " calm_ms=", calm_issuing_us_ / 1000);
  return stats;
}

// ---------------------------------------------------------------------------------------
// range moves

void KvWorkload::ScheduleMove() {
  // After the chaos phase the only move left is finishing one that did not.
  if (!issuing_ && !mover_.unfinished.has_value()) return;
  if (!mover_.unfinished.has_value() && mover_.tried >= static_cast<uint64_t>(kMaxMovesPerRun)) {
    return;
  }
  const SimTime delay = mover_.unfinished.has_value() ? mover_.rng.Range(20'000, 200'000)
                                                      : mover_.rng.Range(200'000, 2'000'000);
  scheduler_.After(delay, [this] {
    if (mover_.busy) return;
    if (!issuing_ && !mover_.unfinished.has_value()) return;
    RunMove();
  });
}

void KvWorkload::RunMove() {
  const NodeIndex node = coordinators_.RandomUpNode();
  coord::Coordinator* coordinator = node == 0 ? nullptr : coordinators_.coordinator(node);
  if (coordinator == nullptr) return ScheduleMove();
  PendingMove move;
  if (mover_.unfinished.has_value()) {
    move = *mover_.unfinished;
  } else {
    const std::vector<route::RouteDescriptor> routes = coordinator->routes().Snapshot();
    EKV_ASSERT(!routes.empty(), "a coordinator's route table is never empty");
    const route::RouteDescriptor& route = routes[mover_.rng.Uniform(routes.size())];
    std::vector<raft::GroupId> targets;
    for (raft::GroupId group : cluster_.group_ids()) {
      if (group != route.raft_group_id) targets.push_back(group);
    }
    if (targets.empty()) return;
    move.key = route.start;
    move.source = route.raft_group_id;
    move.target = targets[mover_.rng.Uniform(targets.size())];
    ++mover_.tried;
  }
  mover_.busy = true;
  ++move_attempts_;
  trace_.Record(
      {scheduler_.now(), "move", move.source, move.target, node, 0, route::FormatKey(move.key)});
  coordinators_.Run(
      node,
      [move](coord::Coordinator& c) {
        coord::MoveRangeSpec spec;
        spec.key = move.key;
        spec.target_group = move.target;
        spec.source_group = move.source;
        return c.StartMoveRange(spec);
      },
      [this, move](std::optional<coord::OpResult> result) {
        mover_.busy = false;
        const absl::StatusCode code =
            result.has_value() ? result->status.code() : absl::StatusCode::kUnavailable;
        trace_.Record({scheduler_.now(), "move-done", move.source, move.target,
                       static_cast<uint64_t>(code), 0,
                       result.has_value() ? std::string(result->status.message()) : "no answer"});
        if (code == absl::StatusCode::kOk) {
          ++mover_.done;
          if (result->move.has_value() && result->move->fence_us != 0) {
            move_fences_us_.push_back(result->move->fence_us);
          }
          mover_.unfinished.reset();
        } else if (code == absl::StatusCode::kAborted && result->move.has_value() &&
                   result->move->aborted) {
          ++moves_aborted_;  // rolled back whole: the route is on its source again
          mover_.unfinished.reset();
        } else if (code == absl::StatusCode::kFailedPrecondition ||
                   code == absl::StatusCode::kInvalidArgument) {
          // The route is not where this move expected (a stale table, a split after the
          // cut-over): nothing of this move is left to finish.
          mover_.unfinished.reset();
        } else {
          mover_.unfinished = move;  // no answer, or stopped: resume it
        }
        ScheduleMove();
      },
      coordinators_.move_budget_us() + 2 * profile_.client_timeout_us);
}

std::string KvWorkload::RoutingStats() const {
  std::string stats = absl::StrCat("splits=", splits_done_, "/", split_attempts_);
  if (merges_) {
    absl::StrAppend(&stats, " merges=", merges_done(), "/", merges_tried());
    if (merges_moved_ != 0) absl::StrAppend(&stats, " merges_moved=", merges_moved_);
  }
  absl::StrAppend(&stats, " scans=", scans_done_,
                  " stale_refusals=", coordinators_.totals().stale_route_refusals);
  return stats;
}

// ---------------------------------------------------------------------------------------
// groups created at run time

void KvWorkload::ScheduleCreateGroup() {
  // At most kMaxCreatedGroupsPerRun live (a retired one makes room), and a bounded number
  // of tries; checked again when the timer fires (a retirement may have scheduled another).
  auto room = [this] {
    return issuing_ && group_creator_.done < group_retirer_.done + kMaxCreatedGroupsPerRun &&
           group_creator_.tried < static_cast<uint64_t>(kMaxCreatedGroupsPerRun) * 4;
  };
  if (!room()) return;
  scheduler_.After(group_creator_.rng.Range(100'000, 1'500'000), [this, room] {
    if (group_creator_.busy || !room()) return;
    RunCreateGroup();
  });
}

void KvWorkload::RunCreateGroup() {
  const NodeIndex node = coordinators_.RandomUpNode();
  if (node == 0) return ScheduleCreateGroup();
  group_creator_.busy = true;
  ++group_creator_.tried;
  const size_t replicas = std::min<size_t>(3, cluster_.nodes().size());
  // With --placement every created group starts on the first nodes, as in a cluster of
  // three grown by joins: the drivers' replica balancing must spread them to the others.
  std::vector<raft::NodeId> voters;
  if (placement_) voters.assign(cluster_.nodes().begin(), cluster_.nodes().begin() + replicas);
  coordinators_.Run(
      node,
      [replicas, voters](coord::Coordinator& c) {
        coord::CreateGroupSpec spec;
        spec.replicas = replicas;
        spec.voters = voters;
        return c.StartCreateGroup(spec);
      },
      [this, node](std::optional<coord::OpResult> result) {
        group_creator_.busy = false;
        const absl::StatusCode code =
            result.has_value() ? result->status.code() : absl::StatusCode::kUnavailable;
        const uint64_t group =
            result.has_value() && result->group.has_value() ? result->group->group_id : 0;
        trace_.Record({scheduler_.now(), "create-group", node, group, static_cast<uint64_t>(code),
                       0,
                       result.has_value() ? std::string(result->status.message()) : "no answer"});
        if (code == absl::StatusCode::kOk) ++group_creator_.done;
        ScheduleCreateGroup();
      });
}

void KvWorkload::ScheduleRetireGroup() {
  if (!issuing_ || group_retirer_.done >= static_cast<uint64_t>(kMaxRetiredGroupsPerRun) ||
      group_retirer_.tried >= static_cast<uint64_t>(kMaxRetiredGroupsPerRun) * 4) {
    return;
  }
  scheduler_.After(group_retirer_.rng.Range(1'000'000, 4'000'000), [this] {
    if (group_retirer_.busy || !issuing_) return;
    // Retiring whenever it likes also exercises a move past its cut-over (RouteCatalog::
    // Retire refuses the source until the move activates the route; after that the move
    // skips a retired source): kv-register --splits --moves --merges --create_groups seed 36.
    RunRetireGroup();
  });
}

void KvWorkload::RunRetireGroup() {
  const NodeIndex node = coordinators_.RandomUpNode();
  if (node == 0) return ScheduleRetireGroup();
  group_retirer_.busy = true;
  coordinators_.Run(
      node, [](coord::Coordinator& c) { return c.StartReadCatalog(); },
      [this, node](std::optional<coord::OpResult> read) {
        if (!read.has_value() || !read->status.ok() || !read->catalog.has_value()) {
          group_retirer_.busy = false;
          return ScheduleRetireGroup();
        }
        // Empty: no route on it, none moving to it (the catalog refuses the others).
        std::set<raft::GroupId> named;
        read->catalog->ForEachRoute([&named](const route::RouteDescriptor& route) {
          named.insert(route.raft_group_id);
          named.insert(route.move_target_group_id);
        });
        std::vector<raft::GroupId> empty;
        for (const auto& [id, group] : read->catalog->groups()) {
          if (named.count(id) == 0) empty.push_back(id);
        }
        if (empty.empty()) {
          group_retirer_.busy = false;
          return ScheduleRetireGroup();
        }
        const raft::GroupId group = empty[group_retirer_.rng.Uniform(empty.size())];
        ++group_retirer_.tried;
        coordinators_.Run(
            node, [group](coord::Coordinator& c) { return c.StartRetireGroup(group); },
            [this, node, group](std::optional<coord::OpResult> result) {
              group_retirer_.busy = false;
              const absl::StatusCode code =
                  result.has_value() ? result->status.code() : absl::StatusCode::kUnavailable;
              trace_.Record(
                  {scheduler_.now(), "retire-group-op", node, group, static_cast<uint64_t>(code), 0,
                   result.has_value() ? std::string(result->status.message()) : "no answer"});
              if (code == absl::StatusCode::kOk) {
                ++group_retirer_.done;
                retired_groups_.insert(group);
                ScheduleCreateGroup();  // room for another
              }
              ScheduleRetireGroup();
            });
      });
}

std::string KvWorkload::RetiredGroupViolation() const {
  if (!create_groups_) return "";
  std::vector<std::string> violations;
  for (NodeIndex node : cluster_.nodes()) {
    const node::GroupStateMachine* machine = UpCatalogReplica(node);
    if (machine == nullptr) continue;
    const std::vector<raft::GroupId> hosted = cluster_.host(node)->groups();
    const route::RouteCatalog& catalog = *machine->catalog();
    for (raft::GroupId group : retired_groups_) {
      if (catalog.FindGroup(group) != nullptr) {
        violations.push_back(absl::StrCat("n", node, "'s catalog (version ", catalog.version(),
                                          ") still lists group ", group,
                                          ", whose RetireGroup was acknowledged"));
      }
    }
    for (raft::GroupId group : hosted) {
      if (catalog.IsRetired(group) || retired_groups_.count(group) != 0) {
        violations.push_back(absl::StrCat("n", node, " still hosts retired group ", group));
      }
    }
  }
  return absl::StrJoin(violations, "\n");
}

// ---------------------------------------------------------------------------------------
// range merges

void KvWorkload::ScheduleMerge() {
  // After the chaos phase the only thing left is finishing a merge's move.
  if (!issuing_ && !merger_.unfinished.has_value()) return;
  if (!merger_.unfinished.has_value() &&
      merger_.tried >= static_cast<uint64_t>(kMaxMergesPerRun) * 2) {
    return;
  }
  const SimTime delay = merger_.unfinished.has_value() ? merger_.rng.Range(20'000, 200'000)
                                                       : merger_.rng.Range(100'000, 1'000'000);
  scheduler_.After(delay, [this] {
    if (merger_.busy) return;
    if (!issuing_ && !merger_.unfinished.has_value()) return;
    RunMerge();
  });
}

void KvWorkload::RunMerge() {
  const NodeIndex node = coordinators_.RandomUpNode();
  coord::Coordinator* coordinator = node == 0 ? nullptr : coordinators_.coordinator(node);
  if (coordinator == nullptr) return ScheduleMerge();
  const SimTime budget = coordinators_.move_budget_us() + 2 * profile_.client_timeout_us;
  if (merger_.unfinished.has_value()) {
    // A merge's move that stopped short: finish it (or see it rolled back) as the mover
    // would; the merge itself is not retried.
    const PendingMove move = *merger_.unfinished;
    merger_.busy = true;
    trace_.Record({scheduler_.now(), "merge-move-resume", move.source, move.target, node, 0,
                   route::FormatKey(move.key)});
    coordinators_.Run(
        node,
        [move](coord::Coordinator& c) {
          coord::MoveRangeSpec spec;
          spec.key = move.key;
          spec.target_group = move.target;
          spec.source_group = move.source;
          return c.StartMoveRange(spec);
        },
        [this](std::optional<coord::OpResult> result) {
          merger_.busy = false;
          const absl::StatusCode code =
              result.has_value() ? result->status.code() : absl::StatusCode::kUnavailable;
          if (code == absl::StatusCode::kOk || code == absl::StatusCode::kFailedPrecondition ||
              code == absl::StatusCode::kInvalidArgument ||
              (code == absl::StatusCode::kAborted && result->move.has_value() &&
               result->move->aborted)) {
            merger_.unfinished.reset();
          }
          ScheduleMerge();
        },
        budget);
    return;
  }
  const route::RouteTable& table = coordinator->routes();
  const std::vector<route::RouteDescriptor> routes = table.Snapshot();
  EKV_ASSERT(!routes.empty(), "a coordinator's route table is never empty");
  if (routes.size() < 2) return ScheduleMerge();
  const size_t index = merger_.rng.Uniform(routes.size() - 1);
  const route::RouteDescriptor left = routes[index];
  const route::RouteDescriptor right = routes[index + 1];
  coord::MergeRangeSpec spec;
  spec.route_id = left.route_id;
  spec.right_route_id = right.route_id;
  spec.expected_catalog_version = table.version();
  spec.move_if_needed = moves_;
  merger_.busy = true;
  ++merger_.tried;
  trace_.Record({scheduler_.now(), "merge", left.route_id, right.route_id, node, table.version(),
                 route::FormatRange(left.start, right.end)});
  coordinators_.Run(
      node, [spec](coord::Coordinator& c) { return c.StartMergeRange(spec); },
      [this, node, left, right](std::optional<coord::OpResult> result) {
        const absl::StatusCode code =
            result.has_value() ? result->status.code() : absl::StatusCode::kUnavailable;
        trace_.Record({scheduler_.now(), "merge-done", static_cast<uint64_t>(code), 0, node, 0,
                       result.has_value() ? std::string(result->status.message()) : "no answer"});
        if (code == absl::StatusCode::kOk) {
          ++merger_.done;
          if (result->merge.has_value() && result->merge->moved) ++merges_moved_;
        }
        // A move the merge started and did not see through: finish it before anything
        // else (a route left fenced would stall its writes).
        const bool cross_group = left.raft_group_id != right.raft_group_id;
        if (!result.has_value()) {
          // No answer (the node died with its coordinator): a move of the right route may
          // have started and stopped anywhere. Resuming it is a move in its own right if
          // none did, which is as safe as any move.
          if (moves_ && cross_group) {
            merger_.unfinished = PendingMove{right.start, right.raft_group_id, left.raft_group_id};
          }
        } else if (result->merge.has_value() && result->merge->move.has_value() &&
                   !result->merge->moved) {
          const coord::MoveRangeResult& move = *result->merge->move;
          const bool settled =
              move.aborted || (!move.cut_over && (code == absl::StatusCode::kFailedPrecondition ||
                                                  code == absl::StatusCode::kInvalidArgument));
          if (!settled) {
            merger_.unfinished = PendingMove{right.start, move.source_group, move.target_group};
          }
        }
        // Lost race or no answer: that node's table may be behind; re-read before the next.
        coordinators_.Run(
            node, [](coord::Coordinator& c) { return c.StartReadCatalog(); },
            [this](std::optional<coord::OpResult>) {
              merger_.busy = false;
              ScheduleMerge();
            });
      },
      budget);
}

// ---------------------------------------------------------------------------------------
// scans

struct KvWorkload::Scan {
  bool reverse = false;
  kv::Timestamp ts = 0;
  Reads point_reads;
  std::vector<std::pair<std::string, std::string>> pairs;
  std::function<void()> done;
};

void KvWorkload::ScanAt(kv::Timestamp ts, const Reads& point_reads, std::function<void()> done) {
  auto scan = std::make_shared<Scan>();
  scan->reverse = rng_.Chance(0.5);
  scan->ts = ts;
  scan->point_reads = point_reads;
  scan->done = std::move(done);
  const uint64_t page = rng_.Range(1, 3);  // small pages: more sub-scans, more splits between
  const NodeIndex node = coordinators_.RandomUpNode();
  ++scans_running_;
  if (node == 0) {
    FinishScan(std::move(scan), /*completed=*/false);
    return;
  }
  coordinators_.Run(
      node,
      [ts, page, reverse = scan->reverse](coord::Coordinator& c) {
        return c.StartTxnScan("", "", 10'000, ts, reverse, page);
      },
      [this, scan](std::optional<coord::OpResult> result) {
        if (result.has_value() && result->status.code() == absl::StatusCode::kInternal) {
          // The coordinator's cursor saw a group answer out of order or out of range.
          scan_violations_.push_back(
              absl::StrCat("scan at ts ", scan->ts, ": ", result->status.message()));
          FinishScan(scan, /*completed=*/false);
          return;
        }
        if (!result.has_value() || !result->status.ok()) {
          FinishScan(scan, /*completed=*/false);
          return;
        }
        scan->pairs = std::move(result->pairs);
        FinishScan(scan, /*completed=*/true);
      });
}

void KvWorkload::FinishScan(std::shared_ptr<Scan> scan, bool completed) {
  EKV_ASSERT(scans_running_ > 0, "finishing a scan that never started");
  --scans_running_;
  if (completed) {
    ++scans_done_;
    const bool reverse = scan->reverse;
    std::map<std::string, std::string> scanned;
    for (size_t i = 0; i < scan->pairs.size(); ++i) {
      const std::string& key = scan->pairs[i].first;
      if (i > 0) {
        const std::string& prev = scan->pairs[i - 1].first;
        if (reverse ? !(key < prev) : !(prev < key)) {
          scan_violations_.push_back(absl::StrCat(reverse ? "reverse" : "forward", " scan at ts ",
                                                  scan->ts, " returned ", route::FormatKey(key),
                                                  " after ", route::FormatKey(prev),
                                                  "; expected every key once, in order"));
          break;
        }
      }
      scanned[key] = scan->pairs[i].second;
    }
    for (const auto& [key, value] : scanned) {
      if (scan->point_reads.count(key) == 0) {
        scan_violations_.push_back(absl::StrCat("scan at ts ", scan->ts, " returned ",
                                                route::FormatKey(key), ", which no account has"));
      }
    }
    for (const auto& [key, value] : scan->point_reads) {
      auto it = scanned.find(key);
      const std::optional<std::string> seen =
          it == scanned.end() ? std::nullopt : std::optional<std::string>(it->second);
      if (seen != value) {
        scan_violations_.push_back(
            absl::StrCat("scan at ts ", scan->ts, " saw ", route::FormatKey(key), " = ",
                         seen.has_value() ? *seen : "(absent)", " but a point read at that ts saw ",
                         value.has_value() ? *value : "(absent)"));
      }
    }
  }
  std::function<void()> done = std::move(scan->done);
  done();
}

// ---------------------------------------------------------------------------------------

KvWorkload::Verdict KvWorkload::Check() const {
  Verdict verdict;
  if (std::string violation = checkers::CheckTimestampOrder(coordinators_.timestamps_issued());
      !violation.empty()) {
    verdict.ok = false;
    verdict.verdict = "timestamps: the oracle went backwards in real time";
    verdict.details = violation;
    return verdict;
  }
  if (!balance_violation_.empty()) {
    verdict.ok = false;
    verdict.verdict = "placement: replicas not balanced after the heal";
    verdict.details = balance_violation_;
    return verdict;
  }
  if (!leader_violation_.empty()) {
    verdict.ok = false;
    verdict.verdict = "placement: leaders not balanced after the heal";
    verdict.details = leader_violation_;
    return verdict;
  }
  if (std::string retired = RetiredGroupViolation(); !retired.empty()) {
    verdict.ok = false;
    verdict.verdict = "groups: a retired group is still listed or hosted after the heal";
    verdict.details = retired;
    return verdict;
  }
  if (std::string replicas = CreatedReplicaViolation(); !replicas.empty()) {
    verdict.ok = false;
    verdict.verdict = "groups: a created group lacks replicas on up members after the heal";
    verdict.details = replicas;
    return verdict;
  }
  if (!coordinators_.routing_errors().empty()) {
    verdict.ok = false;
    verdict.verdict = "routing: a STALE_ROUTE refusal reached a client instead of a retry";
    verdict.details = absl::StrJoin(coordinators_.routing_errors(), "\n");
    return verdict;
  }
  switch (kind_) {
    case WorkloadKind::kBank: {
      absl::StatusOr<checkers::BankReport> report = checkers::CheckBank(
          keys_, kInitialBalance * static_cast<int64_t>(keys_.size()), bank_reads_);
      EKV_ASSERT(report.ok(), "bank checker rejected its input: ", report.status().ToString());
      if (!report->ok()) {
        verdict.ok = false;
        verdict.verdict = "bank: a read saw a wrong total or a negative balance";
        verdict.details = report->ToString();
      } else if (!scan_violations_.empty()) {
        verdict.ok = false;
        verdict.verdict = "scan: not every key once, in order, as the point reads saw";
        verdict.details = absl::StrJoin(scan_violations_, "\n");
      }
      return verdict;
    }
    case WorkloadKind::kAppend: {
      checkers::ListAppendResult result = checkers::CheckListAppend(txn_history_);
      if (!result.ok()) {
        verdict.ok = false;
        verdict.verdict = "list-append: not strictly serializable";
        verdict.details = result.explanation;
      }
      return verdict;
    }
    case WorkloadKind::kKvRegister:
    case WorkloadKind::kKvRegisterSnapshot: {
      checkers::LinearizabilityResult result = checkers::CheckLinearizable(register_history_);
      if (result.verdict == checkers::LinearizabilityResult::Verdict::kViolation) {
        verdict.ok = false;
        verdict.verdict = absl::StrCat("linearizability: key ", result.key);
        verdict.details = result.explanation;
      }
      return verdict;
    }
    case WorkloadKind::kRedis: {
      RedisWorkload::Verdict redis = redis_->Check();
      verdict.ok = redis.ok;
      verdict.verdict = redis.verdict;
      verdict.details = redis.details;
      return verdict;
    }
    case WorkloadKind::kDynamo: {
      DynamoWorkload::Verdict dynamo = dynamo_->Check();
      verdict.ok = dynamo.ok;
      verdict.verdict = dynamo.verdict;
      verdict.details = dynamo.details;
      return verdict;
    }
    case WorkloadKind::kRegister:
      break;
  }
  return verdict;
}

}  // namespace ekv::sim
