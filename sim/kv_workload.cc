#include "sim/kv_workload.h"

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/kv/kv_command.h"
#include "core/kv/kv_state_machine.h"
#include "core/route/catalog_command.h"
#include "core/route/route.h"
#include "core/route/scan_plan.h"
#include "core/util/assert.h"
#include "sim/checkers/linearizability.h"
#include "sim/checkers/list_append.h"

namespace ekv::sim {
namespace {

constexpr SimTime kRetryBackoffMinUs = 5'000;
constexpr SimTime kRetryBackoffMaxUs = 40'000;
constexpr SimTime kSplitIntervalMinUs = 20'000;
constexpr SimTime kSplitIntervalMaxUs = 250'000;
constexpr raft::GroupId kCatalogGroup = 1;

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
  TxnSpec spec;
  TxnDone done;
  kv::Timestamp start_ts = 0;
  kv::Timestamp commit_ts = 0;
  size_t next_read = 0;
  Reads reads;
  Writes writes;
  std::string primary;
  bool one_group = false;  // its writes live in one group: a one-phase commit
};

KvWorkload::KvWorkload(Scheduler& scheduler, Trace& trace, Cluster& cluster, Rng rng,
                       const SwarmProfile& profile, int total_ops, WorkloadKind kind,
                       KvClientPlants plants, std::optional<route::RouteCatalog> bootstrap)
    : scheduler_(scheduler),
      trace_(trace),
      cluster_(cluster),
      rng_(rng),
      profile_(profile),
      total_ops_(total_ops),
      kind_(kind),
      coordinator_(scheduler, trace, cluster, rng_.Fork(), profile, plants),
      lock_ttl_ms_(rng_.Range(100, 3000)) {
  kv::TxnCoordinatorOptions txn_options;
  txn_options.lock_ttl_ms = lock_ttl_ms_;
  txn_options.one_phase_commit_ts_at_apply = true;
  txn_options.max_concurrent_txns = 1 << 20;  // clients bound it
  txn_driver_ = std::make_unique<kv::TxnCoordinator>(
      txn_options, [this](absl::string_view key) { return coordinator_.GroupOf(key); });
  int per_group = 3;
  if (kind_ == WorkloadKind::kAppend) per_group = 4;
  if (kind_ == WorkloadKind::kKvRegister) per_group = 2;
  for (const char* prefix : {"a", "n"}) {
    for (int i = 0; i < per_group; ++i) keys_.push_back(absl::StrCat(prefix, i));
  }
  for (int i = 0; i < profile_.clients; ++i)
    clients_.push_back(Client{static_cast<uint64_t>(i + 1)});
  if (bootstrap.has_value()) {
    // Drawn only in split runs, so runs without splits replay exactly as before.
    splits_ = true;
    const double misroute_probability = rng_.Chance(0.2) ? 0.0 : 0.02 + 0.2 * rng_.NextDouble();
    coordinator_.EnableRouting(*bootstrap, misroute_probability);
  }
}

bool KvWorkload::Idle() const {
  return coordinator_.Idle() && !splitter_busy_ && scans_running_ == 0 &&
         std::none_of(clients_.begin(), clients_.end(), [](const Client& c) { return c.busy; });
}

void KvWorkload::Start() {
  issuing_ = true;
  for (size_t i = 0; i < clients_.size(); ++i) ScheduleNext(i);
  if (splits_) ScheduleSplit();
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
      IssueRegister(client_index);
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
}

// ---------------------------------------------------------------------------------------
// Transactions

void KvWorkload::KvCommand(const std::string& routing_key, const std::string& kv_command,
                           KvCoordinator::CallDone done) {
  node::GroupCommand command;
  command.op = node::GroupCommandOp::kKv;
  command.payload = kv_command;
  coordinator_.RoutedCommand(routing_key, std::move(command), /*idempotent=*/true, std::move(done));
}

void KvWorkload::RunTxn(TxnSpec spec, TxnDone done) {
  auto txn = std::make_shared<Txn>();
  txn->spec = std::move(spec);
  txn->done = std::move(done);
  coordinator_.Timestamp([this, txn](std::optional<kv::Timestamp> ts) {
    if (!ts.has_value()) {
      txn->done(TxnOutcome::kAborted, {}, 0);
      return;
    }
    txn->start_ts = *ts;
    ReadNext(txn);
  });
}

void KvWorkload::ReadNext(std::shared_ptr<Txn> txn) {
  if (txn->next_read < txn->spec.read_keys.size()) {
    const std::string key = txn->spec.read_keys[txn->next_read++];
    ReadAt(key, txn->start_ts, kMaxReadTries,
           [this, txn, key](std::optional<std::optional<std::string>> value) {
             if (!value.has_value()) {
               txn->done(TxnOutcome::kAborted, {}, txn->start_ts);
               return;
             }
             txn->reads[key] = *value;
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
  txn->primary = txn->writes.front().first;
  // The write phase is core's kv::TxnCoordinator: one group -> one-phase commit (its
  // commit_ts chosen at apply), several -> Percolator 2PC, the primary's group first.
  std::vector<kv::Mutation> mutations;
  std::vector<raft::GroupId> groups;
  for (const auto& [key, value] : txn->writes) {
    mutations.push_back(kv::Mutation::Put(key, value));
    const raft::GroupId group = coordinator_.GroupOf(key);
    if (std::find(groups.begin(), groups.end(), group) == groups.end()) groups.push_back(group);
  }
  txn->one_group = groups.size() == 1;
  if (txn->one_group) ++one_phase_tried_;
  absl::StatusOr<kv::TxnId> id = txn_driver_->Begin(std::move(mutations), txn->start_ts);
  if (!id.ok()) {
    txn->done(TxnOutcome::kAborted, {}, txn->start_ts);
    return;
  }
  running_txns_.emplace(*id, txn);
  DriveTxns();
}

void KvWorkload::DriveTxns() {
  while (true) {
    kv::CoordinatorEffects effects = txn_driver_->TakeEffects();
    if (effects.empty()) return;
    for (kv::TxnProposal& proposal : effects.proposals) {
      // Every transaction command is idempotent or answered from its records, so the
      // call may resend it; "unknown" and "never accepted" both count as a timeout.
      KvCommand(kv::RoutingKeyOf(proposal.command), kv::EncodeKvCommand(proposal.command),
                [this, id = proposal.proposal_id](const KvCallResult& result) {
                  if (result.outcome == KvCallResult::Outcome::kOk) {
                    txn_driver_->OnProposalResult(id, node::ToKvApplyResult(result.result));
                  } else {
                    txn_driver_->OnProposalTimeout(id);
                  }
                  DriveTxns();
                });
    }
    for (kv::TxnId id : effects.commit_ts_requests) {
      coordinator_.Timestamp([this, id](std::optional<kv::Timestamp> ts) {
        if (ts.has_value()) {
          txn_driver_->ProvideCommitTs(id, *ts);
        } else {
          txn_driver_->CommitTsUnavailable(id);
        }
        DriveTxns();
      });
    }
    for (kv::TxnOutcome& outcome : effects.outcomes) FinishTxn(std::move(outcome));
  }
}

void KvWorkload::FinishTxn(kv::TxnOutcome outcome) {
  auto it = running_txns_.find(outcome.txn_id);
  if (it == running_txns_.end()) return;
  std::shared_ptr<Txn> txn = std::move(it->second);
  running_txns_.erase(it);
  if (outcome.status.ok()) {
    EKV_ASSERT(outcome.commit_ts > txn->start_ts, "a transaction must commit above its start_ts");
    txn->commit_ts = outcome.commit_ts;
    if (txn->one_group) ++one_phase_committed_;
    txn->done(TxnOutcome::kCommitted, txn->reads, txn->start_ts);
    return;
  }
  if (outcome.outcome_unknown) {
    txn->done(TxnOutcome::kUnknown, {}, txn->start_ts);
    return;
  }
  // Aborted. Clear a lock in the way for the next transaction first.
  for (const kv::KeyError& error : outcome.key_errors) {
    if (!error.lock.has_value()) continue;
    ResolveLock(node::ToGroupKeyError(error),
                [txn] { txn->done(TxnOutcome::kAborted, {}, txn->start_ts); });
    return;
  }
  txn->done(TxnOutcome::kAborted, {}, txn->start_ts);
}

void KvWorkload::ReadAt(const std::string& key, kv::Timestamp ts, int tries_left,
                        std::function<void(std::optional<std::optional<std::string>>)> done) {
  node::GroupQuery query;
  query.op = node::GroupQueryOp::kKv;
  query.payload = node::EncodeKvQuery(kv::KvQuery::Get(key, ts));
  coordinator_.RoutedQuery(
      key, query,
      [this, key, ts, tries_left, done = std::move(done)](const KvCallResult& result) mutable {
        if (result.ok() && result.result.key_errors.empty() &&
            result.result.code == absl::StatusCode::kOk) {
          done(result.result.value);
          return;
        }
        if (tries_left <= 1) {
          done(std::nullopt);
          return;
        }
        auto retry = [this, key, ts, tries_left, done = std::move(done)]() mutable {
          scheduler_.After(rng_.Range(kRetryBackoffMinUs, kRetryBackoffMaxUs),
                           [this, key, ts, tries_left, done = std::move(done)]() mutable {
                             ReadAt(key, ts, tries_left - 1, std::move(done));
                           });
        };
        if (result.ok() && !result.result.key_errors.empty()) {
          ResolveLock(result.result.key_errors.front(), std::move(retry));
          return;
        }
        retry();
      });
}

void KvWorkload::ResolveLock(const node::GroupKeyError& lock, std::function<void()> done) {
  if (lock.lock_primary.empty()) {
    done();
    return;
  }
  kv::CheckTxnStatusCommand check;
  check.primary = lock.lock_primary;
  check.start_ts = lock.lock_start_ts;
  check.current_ms = coordinator_.NowMs();
  KvCommand(lock.lock_primary, kv::EncodeKvCommand(check),
            [this, lock, done = std::move(done)](const KvCallResult& status) mutable {
              if (!status.ok() || status.result.code != absl::StatusCode::kOk) {
                done();
                return;
              }
              const auto kind = static_cast<kv::TxnStatusKind>(status.result.txn_status);
              if (kind != kv::TxnStatusKind::kCommitted && kind != kv::TxnStatusKind::kRolledBack) {
                done();  // alive: the caller waits and reads again
                return;
              }
              kv::ResolveLockCommand resolve;
              resolve.keys.push_back(lock.key);
              resolve.start_ts = lock.lock_start_ts;
              resolve.commit_ts = kind == kv::TxnStatusKind::kCommitted ? status.result.ts : 0;
              KvCommand(lock.key, kv::EncodeKvCommand(resolve),
                        [done = std::move(done)](const KvCallResult&) { done(); });
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
  if (dice < profile_.read_fraction) {
    const uint64_t op_id = register_history_.InvokeRead(client_id, key, scheduler_.now());
    node::GroupQuery query;
    query.op = node::GroupQueryOp::kRawGet;
    query.payload = key;
    coordinator_.RoutedQuery(key, query, [this, client_index, op_id](const KvCallResult& r) {
      if (r.ok() && r.result.code == absl::StatusCode::kOk) {
        ++acknowledged_;
        register_history_.Complete(op_id, checkers::Operation::Outcome::kOk, scheduler_.now(),
                                   r.result.value);
      } else {
        register_history_.Complete(op_id, checkers::Operation::Outcome::kFailed, scheduler_.now());
      }
      Done(client_index);
    });
    return;
  }
  kv::RawWriteCommand command;
  std::optional<std::string> value;
  if (dice < profile_.read_fraction + 0.1) {
    command.mutations.push_back(kv::Mutation::Delete(key));
  } else {
    value = absl::StrCat("v", next_register_value_++);
    command.mutations.push_back(kv::Mutation::Put(key, *value));
  }
  const uint64_t op_id = register_history_.InvokeWrite(client_id, key, value, scheduler_.now());
  node::GroupCommand raw_write;
  raw_write.op = node::GroupCommandOp::kKv;
  raw_write.payload = kv::EncodeKvCommand(command);
  coordinator_.RoutedCommand(key, std::move(raw_write), /*idempotent=*/false,
                             [this, client_index, op_id](const KvCallResult& r) {
                               checkers::Operation::Outcome outcome =
                                   checkers::Operation::Outcome::kFailed;
                               if (r.outcome == KvCallResult::Outcome::kUnknown) {
                                 outcome = checkers::Operation::Outcome::kUnknown;
                               } else if (r.ok() && r.result.code == absl::StatusCode::kOk) {
                                 outcome = checkers::Operation::Outcome::kOk;
                                 ++acknowledged_;
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
  const route::RouteTable& table = coordinator_.routes();
  const std::vector<route::RouteDescriptor> routes = table.Snapshot();
  EKV_ASSERT(!routes.empty(), "a routing coordinator's table is never empty");
  const route::RouteDescriptor target = routes[rng_.Uniform(routes.size())];
  std::optional<std::string> split_key;
  for (int i = 0; i < 8 && !split_key.has_value(); ++i) {
    std::string key = RandomSplitKey(rng_);
    if (key > target.start && route::KeyBeforeEnd(key, target.end)) split_key = std::move(key);
  }
  if (!split_key.has_value()) {
    ScheduleSplit();
    return;
  }
  splitter_busy_ = true;
  ++split_attempts_;
  route::CatalogCommand split;
  split.op = route::SplitRange{table.version(), target.route_id, *split_key};
  node::GroupCommand command;
  command.op = node::GroupCommandOp::kCatalog;
  command.payload = split.Encode();
  trace_.Record({scheduler_.now(), "split", target.route_id, table.version(), 0, 0,
                 route::FormatKey(*split_key)});
  // Sent again on an unknown outcome: a repeat finds the version moved and is refused.
  coordinator_.Command(kCatalogGroup, std::move(command), /*idempotent=*/true,
                       [this, group = target.raft_group_id](const KvCallResult& result) {
                         const bool split_done =
                             result.ok() && result.result.code == absl::StatusCode::kOk;
                         if (split_done) ++splits_done_;
                         // A lost race (FAILED_PRECONDITION) or our own split: the table is behind
                         // either way.
                         coordinator_.RefreshRoutes([this, split_done, group] {
                           if (split_done) {
                             PushOwnership(group);
                             return;
                           }
                           splitter_busy_ = false;
                           ScheduleSplit();
                         });
                       });
}

void KvWorkload::PushOwnership(raft::GroupId group) {
  auto next = [this] {
    splitter_busy_ = false;
    ScheduleSplit();
  };
  // The catalog group's ownership moves with the catalog itself.
  if (group == kCatalogGroup || !coordinator_.latest_catalog().has_value()) {
    next();
    return;
  }
  node::GroupCommand command;
  command.op = node::GroupCommandOp::kOwnership;
  command.payload = coordinator_.latest_catalog()->Encode();
  // Best effort: a split inside one group changes no ownership, only the version.
  coordinator_.Command(group, std::move(command), /*idempotent=*/true,
                       [next](const KvCallResult&) { next(); });
}

std::string KvWorkload::KvStats() const {
  return absl::StrCat("ts=", coordinator_.timestamps_issued().size(), " 1pc=", one_phase_committed_,
                      "/", one_phase_tried_);
}

std::string KvWorkload::RoutingStats() const {
  return absl::StrCat("splits=", splits_done_, "/", split_attempts_, " scans=", scans_done_,
                      " stale_refusals=", coordinator_.stale_route_refusals());
}

// ---------------------------------------------------------------------------------------
// scans

struct KvWorkload::Scan {
  std::optional<route::ScanCursor> cursor;
  kv::Timestamp ts = 0;
  Reads point_reads;
  uint64_t page = 1;
  int steps_left = kMaxScanSteps;
  std::vector<std::pair<std::string, std::string>> pairs;
  std::function<void()> done;
};

void KvWorkload::ScanAt(kv::Timestamp ts, const Reads& point_reads, std::function<void()> done) {
  auto scan = std::make_shared<Scan>();
  route::ScanSpec spec;
  spec.reverse = rng_.Chance(0.5);
  scan->cursor.emplace(spec);
  scan->ts = ts;
  scan->point_reads = point_reads;
  scan->page = rng_.Range(1, 3);  // small pages: more sub-scans, more splits between them
  scan->done = std::move(done);
  ++scans_running_;
  ScanStep(std::move(scan));
}

void KvWorkload::ScanStep(std::shared_ptr<Scan> scan) {
  if (scan->cursor->done()) {
    FinishScan(std::move(scan), /*completed=*/true);
    return;
  }
  if (scan->steps_left-- <= 0) {
    FinishScan(std::move(scan), /*completed=*/false);
    return;
  }
  // Resolved with the newest table at every step: a split since the last sub-scan only
  // changes where the next one goes, never what it has already returned.
  std::optional<route::SubScan> sub = scan->cursor->Next(coordinator_.routes());
  EKV_ASSERT(sub.has_value(), "a scan that is not done has a next sub-scan");
  node::GroupQuery query;
  query.op = node::GroupQueryOp::kKv;
  query.payload = node::EncodeKvQuery(
      kv::KvQuery::Scan(sub->start, sub->end, scan->page, scan->ts,
                        sub->reverse ? kv::ScanDirection::kReverse : kv::ScanDirection::kForward));
  query.catalog_version = sub->catalog_version;
  auto again = [this, scan] {
    scheduler_.After(rng_.Range(kRetryBackoffMinUs, kRetryBackoffMaxUs),
                     [this, scan] { ScanStep(scan); });
  };
  coordinator_.ResolvedQuery(
      sub->raft_group_id, query, [this, scan, sub = *sub, again](const KvCallResult& result) {
        if (IsStaleRoute(result)) {
          coordinator_.RefreshRoutes([this, scan] { ScanStep(scan); });
          return;
        }
        if (result.ok() && !result.result.key_errors.empty()) {
          ResolveLock(result.result.key_errors.front(), again);
          return;
        }
        if (!result.ok() || result.result.code != absl::StatusCode::kOk) {
          again();
          return;
        }
        std::vector<std::string> keys;
        for (const auto& [key, value] : result.result.pairs) keys.push_back(key);
        absl::Status advanced =
            scan->cursor->Advance(sub, keys, result.result.pairs.size() < scan->page);
        if (!advanced.ok()) {
          scan_violations_.push_back(
              absl::StrCat("scan at ts ", scan->ts, ": ", advanced.message()));
          FinishScan(scan, /*completed=*/false);
          return;
        }
        for (const auto& pair : result.result.pairs) scan->pairs.push_back(pair);
        ScanStep(scan);
      });
}

void KvWorkload::FinishScan(std::shared_ptr<Scan> scan, bool completed) {
  EKV_ASSERT(scans_running_ > 0, "finishing a scan that never started");
  --scans_running_;
  if (completed) {
    ++scans_done_;
    const bool reverse = scan->cursor->scan().reverse;
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
  if (std::string violation = checkers::CheckTimestampOrder(coordinator_.timestamps_issued());
      !violation.empty()) {
    verdict.ok = false;
    verdict.verdict = "timestamps: the oracle went backwards in real time";
    verdict.details = violation;
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
    case WorkloadKind::kKvRegister: {
      checkers::LinearizabilityResult result = checkers::CheckLinearizable(register_history_);
      if (result.verdict == checkers::LinearizabilityResult::Verdict::kViolation) {
        verdict.ok = false;
        verdict.verdict = absl::StrCat("linearizability: key ", result.key);
        verdict.details = result.explanation;
      }
      return verdict;
    }
    case WorkloadKind::kRegister:
      break;
  }
  return verdict;
}

}  // namespace ekv::sim
