// coord::Coordinator: transactions. Every transaction's write phase and every lock
// resolution is driven by the one kv::TxnCoordinator (core/kv/txn_coordinator.h); this
// file carries out its effects (proposals routed by key, commit timestamps from the
// oracle) and builds the client operations on top of it.
#include <algorithm>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/coord/coordinator.h"
#include "core/coord/read_restart.h"
#include "core/kv/kv_state_machine.h"
#include "core/kv/timestamp.h"
#include "core/util/assert.h"

namespace ekv::coord {
namespace {

std::vector<KeyErrorOutcome> ToOutcomes(const std::vector<kv::KeyError>& errors) {
  std::vector<KeyErrorOutcome> out;
  for (const kv::KeyError& e : errors) out.push_back({e.key, e.message, e.retryable});
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Driving kv::TxnCoordinator

void Coordinator::RunTxn(std::vector<kv::Mutation> mutations, uint64_t start_ts,
                         uint64_t deadline_us, std::function<void(kv::TxnOutcome)> done) {
  (void)deadline_us;  // the TxnCoordinator bounds its own attempts; each has a deadline
  absl::StatusOr<kv::TxnId> id = txns_->Begin(std::move(mutations), start_ts);
  if (!id.ok()) {
    kv::TxnOutcome outcome;
    outcome.status = id.status();
    done(std::move(outcome));
    return;
  }
  txn_waiters_.emplace(*id, std::move(done));
  DriveTxns();
}

void Coordinator::DriveTxns() {
  while (true) {
    kv::CoordinatorEffects effects = txns_->TakeEffects();
    if (effects.empty()) return;
    for (kv::TxnProposal& proposal : effects.proposals) {
      // Every transaction command is idempotent or answered from its records; the
      // TxnCoordinator decides what an unknown outcome means (OnProposalTimeout).
      const std::string key = kv::RoutingKeyOf(proposal.command);
      KvCommandRouted(key, kv::EncodeKvCommand(proposal.command), Retry::kDefinite,
                      now_us_ + options_.request_timeout_us,
                      [this, id = proposal.proposal_id,
                       txn = proposal.txn_id](absl::StatusOr<GroupReply> reply) {
                        if (reply.ok()) {
                          const kv::KvApplyResult result = node::ToKvApplyResult(reply->result);
                          if (result.ok() && txn_waiters_.count(txn) != 0) {
                            uint64_t& index = txn_index_[txn];
                            index = std::max(index, reply->index);
                          }
                          txns_->OnProposalResult(id, result);
                        } else {
                          txns_->OnProposalTimeout(id);
                        }
                        DriveTxns();
                      });
    }
    for (kv::TxnId id : effects.commit_ts_requests) {
      Timestamp(now_us_ + options_.request_timeout_us, [this, id](absl::StatusOr<uint64_t> ts) {
        if (ts.ok()) {
          txns_->ProvideCommitTs(id, *ts);
        } else {
          txns_->CommitTsUnavailable(id);
        }
        DriveTxns();
      });
    }
    for (kv::TxnOutcome& outcome : effects.outcomes) {
      auto it = txn_waiters_.find(outcome.txn_id);
      if (it == txn_waiters_.end()) continue;
      std::function<void(kv::TxnOutcome)> done = std::move(it->second);
      txn_waiters_.erase(it);
      const kv::TxnId id = outcome.txn_id;
      done(std::move(outcome));
      txn_index_.erase(id);  // only the waiter reads it
    }
  }
}

// Lock age. A lock's TTL runs from PhysicalMs(start_ts), and CheckTxnStatus judges it
// against the current_ms the resolver sends. start_ts comes from the hybrid logical clock,
// which can run far ahead of every wall clock: each failover of the oracle's group starts
// the new leader above the committed ceiling (up to ceiling_lease_ms above the old
// leader's wall time, timestamp_oracle.h; no further per failover since hlc.h's "No
// ratchet"), and while it is ahead its physical part stands still. Judged against
// the wall clock alone, a lock orphaned then (its owner crashed) would look alive until
// the wall clocks caught up -- minutes after a failover storm, with every reader of the
// key waiting. So the lock's age is also measured by what the resolver sees: a lock this
// coordinator has found unchanged for ttl_ms of its own (monotonic) time is expired,
// whatever the clocks say. Rolling back a live owner this way is safe (the primary decides
// commit-or-rollback atomically: its commit then fails), as with any expired TTL; a live
// owner finishes long before its TTL runs out on a steady clock.
uint64_t Coordinator::LockClockMs(const kv::LockRecord& lock) {
  constexpr size_t kMaxWatchedLocks = 4096;
  const auto key = std::make_pair(lock.primary, lock.start_ts);
  auto it = lock_first_seen_us_.find(key);
  if (it == lock_first_seen_us_.end()) {
    // Bounded: a lock forgotten here is only watched afresh (one more TTL of waiting).
    if (lock_first_seen_us_.size() >= kMaxWatchedLocks) {
      lock_first_seen_us_.erase(lock_first_seen_us_.begin());
    }
    it = lock_first_seen_us_.emplace(key, now_us_).first;
  }
  const uint64_t seen_ms = (now_us_ - it->second) / 1000;
  return std::max(wall_ms_, kv::PhysicalMs(lock.start_ts) + seen_ms);
}

void Coordinator::AwaitLockResolution(const node::GroupKeyError& locked, uint64_t deadline_us,
                                      std::function<void(absl::StatusOr<bool>)> done) {
  AwaitLockCheck(locked, deadline_us, [done = std::move(done)](absl::StatusOr<LockCheck> check) {
    if (!check.ok()) return done(check.status());
    done(*check == LockCheck::kGone);
  });
}

void Coordinator::AwaitLockCheck(const node::GroupKeyError& locked, uint64_t deadline_us,
                                 std::function<void(absl::StatusOr<LockCheck>)> done) {
  (void)deadline_us;
  if (locked.lock_primary.empty() || locked.lock_start_ts == 0) return done(LockCheck::kUnknown);
  kv::LockRecord lock;
  lock.primary = locked.lock_primary;
  lock.start_ts = locked.lock_start_ts;
  lock.ttl_ms = locked.lock_ttl_ms;
  absl::StatusOr<kv::TxnId> id = txns_->ResolveLock(locked.key, lock, LockClockMs(lock));
  if (!id.ok()) return done(id.status());
  ++stats_.lock_resolutions;
  txn_waiters_.emplace(*id, [this, watched = std::make_pair(lock.primary, lock.start_ts),
                             done = std::move(done)](kv::TxnOutcome outcome) {
    // OK: the lock is gone (and no longer watched). Otherwise its owner is alive (wait for
    // its TTL) or the resolution could not finish now: either way the caller backs off
    // and reads again.
    if (outcome.status.ok()) {
      lock_first_seen_us_.erase(watched);
      return done(LockCheck::kGone);
    }
    done(outcome.txn_status == kv::TxnStatusKind::kLocked ? LockCheck::kAlive
                                                          : LockCheck::kUnknown);
  });
  DriveTxns();
}

void Coordinator::AwaitLockChecks(std::vector<node::GroupKeyError> locks, size_t next,
                                  uint64_t deadline_us,
                                  std::function<void(absl::StatusOr<LockCheck>)> done) {
  if (next >= locks.size()) return done(LockCheck::kAlive);
  const node::GroupKeyError locked = locks[next];
  AwaitLockCheck(locked, deadline_us,
                 [this, locks = std::move(locks), next, deadline_us,
                  done = std::move(done)](absl::StatusOr<LockCheck> check) mutable {
                   if (!check.ok() || *check != LockCheck::kAlive) return done(check);
                   AwaitLockChecks(std::move(locks), next + 1, deadline_us, std::move(done));
                 });
}

void Coordinator::AwaitLockResolutions(std::vector<node::GroupKeyError> locks, uint64_t deadline_us,
                                       std::function<void()> done) {
  if (locks.empty()) return done();
  node::GroupKeyError first = std::move(locks.front());
  locks.erase(locks.begin());
  AwaitLockResolution(first, deadline_us,
                      [this, locks = std::move(locks), deadline_us,
                       done = std::move(done)](absl::StatusOr<bool>) mutable {
                        AwaitLockResolutions(std::move(locks), deadline_us, std::move(done));
                      });
}

// ---------------------------------------------------------------------------------------
// Transactional reads

void Coordinator::TxnGetAttempt(OpId op, std::string key, uint64_t ts, SnapshotOf snapshot,
                                int attempt) {
  if (now_us_ >= DeadlineOf(op)) {
    return Fail(
        op, absl::UnavailableError("key stayed locked by a live transaction until the deadline"));
  }
  kv::KvQuery get = kv::KvQuery::Get(key, ts);
  get.as_of = snapshot == SnapshotOf::kAsOf;
  std::string query = node::EncodeKvQuery(get);
  KvQueryRouted(key, std::move(query), DeadlineOf(op),
                [this, op, key, ts, snapshot, attempt](absl::StatusOr<GroupReply> reply) {
                  if (!reply.ok()) return Fail(op, reply.status());
                  if (const uint64_t above = reply->result.restart_above; above != 0) {
                    EKV_ASSERT(snapshot != SnapshotOf::kAsOf, "a read AS OF ts has no window");
                    if (snapshot == SnapshotOf::kCaller) {
                      return Fail(op, ReadRestartError(above, reply->result.message));
                    }
                    // Nothing else was read at ts: read again at a timestamp above.
                    return Timestamp(
                        DeadlineOf(op),
                        [this, op, key](absl::StatusOr<uint64_t> read_ts) {
                          if (!read_ts.ok()) return Fail(op, read_ts.status());
                          TxnGetAttempt(op, key, *read_ts, SnapshotOf::kCoordinator, 0);
                        },
                        above);
                  }
                  if (reply->result.key_errors.empty()) {
                    if (absl::Status s = reply->result.status(); !s.ok()) return Fail(op, s);
                    OpResult result;
                    result.index = reply->index;
                    result.ts = ts;
                    result.value = std::move(reply->result.value);
                    return Finish(op, std::move(result));
                  }
                  AwaitLockResolution(
                      reply->result.key_errors.front(), DeadlineOf(op),
                      [this, op, key, ts, snapshot, attempt](absl::StatusOr<bool> resolved) {
                        if (!resolved.ok()) return Fail(op, resolved.status());
                        if (*resolved) return TxnGetAttempt(op, key, ts, snapshot, attempt + 1);
                        After(Backoff(attempt), [this, op, key, ts, snapshot, attempt] {
                          TxnGetAttempt(op, key, ts, snapshot, attempt + 1);
                        });
                      });
                });
}

OpId Coordinator::StartTxnGet(std::string key, uint64_t ts) {
  const OpId op = NewOp();
  if (key.empty()) {
    Fail(op, absl::InvalidArgumentError("key must not be empty"));
    return op;
  }
  if (ts != 0) {
    TxnGetAttempt(op, std::move(key), ts, SnapshotOf::kCaller, 0);
    return op;
  }
  Timestamp(DeadlineOf(op), [this, op, key = std::move(key)](absl::StatusOr<uint64_t> read_ts) {
    if (!read_ts.ok()) return Fail(op, read_ts.status());
    TxnGetAttempt(op, key, *read_ts, SnapshotOf::kCoordinator, 0);
  });
  return op;
}

OpId Coordinator::StartTxnScan(std::string start, std::string end, uint64_t limit, uint64_t ts,
                               bool reverse, uint64_t page) {
  const OpId op = NewOp();
  if (limit == 0 || limit > options_.max_scan_limit) {
    Fail(op, absl::InvalidArgumentError(
                 absl::StrCat("limit must be in 1..", options_.max_scan_limit, ", got ", limit)));
    return op;
  }
  if (!end.empty() && end <= start) {
    Fail(op, absl::InvalidArgumentError("end_key must be greater than start_key (or empty)"));
    return op;
  }
  route::ScanSpec spec;
  spec.start = std::move(start);
  spec.end = std::move(end);
  spec.limit = limit;
  spec.reverse = reverse;
  if (ts != 0) {
    TxnScanAttempt(op, std::move(spec), page, ts, SnapshotOf::kCaller);
    return op;
  }
  Timestamp(DeadlineOf(op),
            [this, op, spec = std::move(spec), page](absl::StatusOr<uint64_t> read_ts) mutable {
              if (!read_ts.ok()) return Fail(op, read_ts.status());
              TxnScanAttempt(op, std::move(spec), page, *read_ts, SnapshotOf::kCoordinator);
            });
  return op;
}

void Coordinator::TxnScanAttempt(OpId op, route::ScanSpec spec, uint64_t page, uint64_t read_ts,
                                 SnapshotOf snapshot) {
  const uint64_t deadline = DeadlineOf(op);
  auto attempts = std::make_shared<int>(0);
  ScanRoutes(
      spec, page, deadline,
      [this, read_ts, deadline, attempts](const route::SubScan& sub, uint64_t want,
                                          SubScanDone done) {
        node::GroupQuery query;
        query.op = node::GroupQueryOp::kKv;
        query.payload = node::EncodeKvQuery(kv::KvQuery::Scan(
            sub.start, sub.end, want, read_ts,
            sub.reverse ? kv::ScanDirection::kReverse : kv::ScanDirection::kForward));
        query.catalog_version = sub.catalog_version;
        Execute(
            sub.raft_group_id, node::OpKind::kQuery, node::EncodeGroupQuery(query),
            Retry::kUnknownToo, deadline,
            [this, deadline, attempts,
             done = std::move(done)](absl::StatusOr<GroupReply> reply) mutable {
              if (!reply.ok()) return done(reply.status());
              if (reply->result.restart_above != 0) {
                return done(ReadRestartError(reply->result.restart_above, reply->result.message));
              }
              if (!reply->result.key_errors.empty()) {
                // Another transaction's lock: resolve it and read the same part again.
                AwaitLockResolution(reply->result.key_errors.front(), deadline,
                                    [done = std::move(done)](absl::StatusOr<bool> resolved) {
                                      if (!resolved.ok()) return done(resolved.status());
                                      done(std::optional<KvPairs>());
                                    });
                ++*attempts;
                return;
              }
              if (absl::Status s = reply->result.status(); !s.ok()) return done(s);
              done(std::optional<KvPairs>(std::move(reply->result.pairs)));
            });
      },
      [this, op, spec, page, read_ts, snapshot](absl::StatusOr<KvPairs> pairs) mutable {
        const uint64_t above = ReadRestartAbove(pairs.status());
        if (above != 0 && snapshot == SnapshotOf::kCoordinator) {
          // This coordinator drew read_ts: scan again, whole, at a timestamp above.
          return Timestamp(
              DeadlineOf(op),
              [this, op, spec = std::move(spec), page](absl::StatusOr<uint64_t> ts) mutable {
                if (!ts.ok()) return Fail(op, ts.status());
                TxnScanAttempt(op, std::move(spec), page, *ts, SnapshotOf::kCoordinator);
              },
              above);
        }
        if (!pairs.ok()) return Fail(op, pairs.status());
        OpResult result;
        result.ts = read_ts;
        result.pairs = *std::move(pairs);
        Finish(op, std::move(result));
      });
}

// ---------------------------------------------------------------------------------------
// Transactional writes

void Coordinator::TxnPutAttempt(OpId op, std::string key, std::optional<std::string> value,
                                int attempt) {
  if (now_us_ >= DeadlineOf(op)) {
    return Fail(op, absl::AbortedError("transactional write kept conflicting until the deadline"));
  }
  // One key, one group: a one-phase commit in one Raft round, its commit_ts chosen by the
  // group at apply above every snapshot it served (kv_state_machine.h, "One-phase
  // commit"). A conflict leaves rollback records at start_ts, so retrying with a new
  // start_ts never re-applies the failed attempt.
  Timestamp(DeadlineOf(op), [this, op, key, value, attempt](absl::StatusOr<uint64_t> start_ts) {
    if (!start_ts.ok()) return Fail(op, start_ts.status());
    std::vector<kv::Mutation> mutations = {value.has_value() ? kv::Mutation::Put(key, *value)
                                                             : kv::Mutation::Delete(key)};
    const uint64_t txn_start = *start_ts;
    RunTxn(
        std::move(mutations), txn_start, DeadlineOf(op),
        [this, op, key, value, attempt, txn_start](kv::TxnOutcome outcome) {
          if (outcome.status.ok()) {
            OpResult result;
            result.ts = outcome.commit_ts;
            auto index = txn_index_.find(outcome.txn_id);
            if (index != txn_index_.end()) result.index = index->second;
            return Finish(op, std::move(result));
          }
          if (outcome.outcome_unknown || outcome.key_errors.empty()) {
            return Fail(op, outcome.status);
          }
          // Another transaction's lock: resolve it; a newer version: a new start_ts.
          std::vector<node::GroupKeyError> locks;
          for (const kv::KeyError& e : outcome.key_errors) {
            if (e.lock.has_value() && e.lock->start_ts != txn_start) {
              locks.push_back(node::ToGroupKeyError(e));
            }
          }
          AwaitLockResolutions(std::move(locks), DeadlineOf(op), [this, op, key, value, attempt] {
            After(Backoff(attempt),
                  [this, op, key, value, attempt] { TxnPutAttempt(op, key, value, attempt + 1); });
          });
        });
  });
}

OpId Coordinator::StartTxnPut(std::string key, std::optional<std::string> value) {
  const OpId op = NewOp();
  if (key.empty()) {
    Fail(op, absl::InvalidArgumentError("key must not be empty"));
    return op;
  }
  TxnPutAttempt(op, std::move(key), std::move(value), 0);
  return op;
}

OpId Coordinator::StartCommitTransaction(std::vector<kv::Mutation> mutations, uint64_t start_ts) {
  const OpId op = NewOp();
  if (start_ts == 0) {
    Fail(op, absl::InvalidArgumentError("start_ts is required (use Distribution.GetTimestamp)"));
    return op;
  }
  for (const kv::Mutation& m : mutations) {
    if (m.key.empty()) {
      Fail(op, absl::InvalidArgumentError("mutation key must not be empty"));
      return op;
    }
  }
  RunTxn(std::move(mutations), start_ts, DeadlineOf(op),
         [this, op, start_ts](kv::TxnOutcome outcome) {
           OpResult result;
           result.status = outcome.status;
           result.ts = outcome.commit_ts;
           result.key_errors = ToOutcomes(outcome.key_errors);
           auto index = txn_index_.find(outcome.txn_id);
           if (index != txn_index_.end()) result.index = index->second;
           if (outcome.status.ok()) {
             ++stats_.txns_committed;
             return Finish(op, std::move(result));
           }
           if (outcome.outcome_unknown) return Finish(op, std::move(result));
           ++stats_.txns_aborted;
           // Aborted: clear other transactions' locks in the way, so a retry can commit.
           std::vector<node::GroupKeyError> locks;
           for (const kv::KeyError& e : outcome.key_errors) {
             if (e.lock.has_value() && e.lock->start_ts != start_ts) {
               locks.push_back(node::ToGroupKeyError(e));
             }
           }
           AwaitLockResolutions(
               std::move(locks), DeadlineOf(op),
               [this, op, result = std::move(result)]() mutable { Finish(op, std::move(result)); });
         });
  return op;
}

// ---------------------------------------------------------------------------------------
// Compare-and-set

void Coordinator::CasAttempt(OpId op, std::string key, std::string encoded, int attempt) {
  if (now_us_ >= DeadlineOf(op)) {
    return Fail(op, absl::DeadlineExceededError(
                        "compare-and-set: the key stayed locked until the deadline"));
  }
  KvCommandRouted(key, encoded, Retry::kDefinite, DeadlineOf(op),
                  [this, op, key, encoded, attempt](absl::StatusOr<GroupReply> reply) {
                    if (!reply.ok()) return Fail(op, reply.status());
                    if (!reply->result.key_errors.empty()) {
                      // A transaction's lock on the key: the command had no effect. Resolve, retry.
                      AwaitLockResolution(
                          reply->result.key_errors.front(), DeadlineOf(op),
                          [this, op, key, encoded, attempt](absl::StatusOr<bool> resolved) {
                            if (!resolved.ok()) return Fail(op, resolved.status());
                            if (*resolved) return CasAttempt(op, key, encoded, attempt + 1);
                            After(Backoff(attempt), [this, op, key, encoded, attempt] {
                              CasAttempt(op, key, encoded, attempt + 1);
                            });
                          });
                      return;
                    }
                    const absl::Status status = reply->result.status();
                    if (!status.ok() && status.code() != absl::StatusCode::kFailedPrecondition) {
                      return Fail(op, status);
                    }
                    OpResult result;
                    result.applied = status.ok();
                    result.value = std::move(reply->result.old_value);
                    result.index = reply->index;
                    result.ts = reply->result.ts;
                    Finish(op, std::move(result));
                  });
}

OpId Coordinator::StartCompareAndSet(std::string key, std::optional<std::string> expected,
                                     std::optional<std::string> new_value) {
  const OpId op = NewOp();
  if (key.empty()) {
    Fail(op, absl::InvalidArgumentError("key must not be empty"));
    return op;
  }
  kv::CompareAndSetCommand command;
  command.key = key;
  command.expected = std::move(expected);
  command.new_value = std::move(new_value);
  // commit_ts stays 0: the group assigns it at apply from its own sequence, so the
  // comparison and the write happen at one point of the group's log.
  CasAttempt(op, std::move(key), kv::EncodeKvCommand(command), 0);
  return op;
}

// ---------------------------------------------------------------------------------------
// Client-driven Percolator phases (TransactionalKV)

OpId Coordinator::StartPrewrite(std::vector<std::pair<std::string, std::string>> mutations,
                                uint64_t start_ts, uint64_t lock_ttl_ms) {
  const OpId op = NewOp();
  if (mutations.empty()) {
    Fail(op, absl::InvalidArgumentError("prewrite needs at least one mutation"));
    return op;
  }
  if (mutations.size() > options_.max_txn_keys) {
    Fail(op, absl::InvalidArgumentError(
                 absl::StrCat("a transaction may write at most ", options_.max_txn_keys, " keys")));
    return op;
  }
  if (start_ts == 0) {
    Fail(op, absl::InvalidArgumentError("start_ts is required (use Distribution.GetTimestamp)"));
    return op;
  }
  if (lock_ttl_ms == 0) lock_ttl_ms = options_.default_lock_ttl_ms;
  const std::string primary = mutations.front().first;
  TxnRecord record{primary, {}, 0};
  for (const auto& [key, value] : mutations) {
    if (key.empty()) {
      Fail(op, absl::InvalidArgumentError("mutation key must not be empty"));
      return op;
    }
    record.keys.push_back(key);
  }
  if (client_txns_.size() >= kMaxClientTxns && client_txns_.count(start_ts) == 0) {
    // Records of transactions that already chose their commit_ts go first, oldest first.
    for (auto it = client_txns_.begin(); it != client_txns_.end(); ++it) {
      if (it->second.commit_ts != 0) {
        client_txns_.erase(it);
        break;
      }
    }
  }
  if (client_txns_.size() >= kMaxClientTxns && client_txns_.count(start_ts) == 0) {
    Fail(op, absl::ResourceExhaustedError(absl::StrCat(
                 "too many prewritten transactions waiting for Commit or Rollback on this node (",
                 kMaxClientTxns, ")")));
    return op;
  }
  client_txns_[start_ts] = record;
  auto result = std::make_shared<OpResult>();
  auto shared_mutations =
      std::make_shared<std::vector<std::pair<std::string, std::string>>>(std::move(mutations));
  KvCommandByGroup(
      record.keys, primary,
      [primary, start_ts, lock_ttl_ms, shared_mutations](const std::vector<std::string>& keys) {
        // The batch's mutations in request order (duplicates of a key go to one group).
        const std::set<std::string> in_batch(keys.begin(), keys.end());
        kv::PrewriteCommand command;
        command.primary = primary;
        command.start_ts = start_ts;
        command.lock_ttl_ms = lock_ttl_ms;
        for (const auto& [key, value] : *shared_mutations) {
          if (in_batch.count(key) != 0) command.mutations.push_back(kv::Mutation::Put(key, value));
        }
        return kv::EncodeKvCommand(command);
      },
      DeadlineOf(op),
      [result](const std::vector<std::string>& keys,
               absl::StatusOr<GroupReply> reply) -> absl::StatusOr<bool> {
        if (!reply.ok()) return reply.status();
        result->index = std::max(result->index, reply->index);
        for (const node::GroupKeyError& e : reply->result.key_errors) {
          result->key_errors.push_back({e.key, e.message, e.retryable});
        }
        if (reply->result.key_errors.empty() && !reply->result.status().ok()) {
          result->key_errors.push_back({keys.front(), std::string(reply->result.message), false});
        }
        return true;
      },
      [this, op, result](absl::Status done) {
        if (!done.ok()) return Fail(op, done);
        Finish(op, std::move(*result));
      });
  return op;
}

OpId Coordinator::StartCommit(uint64_t start_ts, std::vector<std::string> keys) {
  const OpId op = NewOp();
  if (start_ts == 0) {
    Fail(op, absl::InvalidArgumentError("start_ts is required"));
    return op;
  }
  auto it = client_txns_.find(start_ts);
  if (keys.empty() && it != client_txns_.end()) keys = it->second.keys;
  if (keys.empty()) {
    Fail(op, absl::InvalidArgumentError("commit needs the transaction's keys"));
    return op;
  }
  if (it != client_txns_.end()) {
    CommitWithPrimary(op, start_ts, it->second.primary, std::move(keys));
    return op;
  }
  // Prewritten through another node: the first key's lock names the primary.
  const std::string first = keys.front();
  KvQueryRouted(first, node::EncodeKvQuery(kv::KvQuery::Get(first, start_ts)), DeadlineOf(op),
                [this, op, start_ts, first,
                 keys = std::move(keys)](absl::StatusOr<GroupReply> reply) mutable {
                  if (!reply.ok()) return Fail(op, reply.status());
                  std::string primary = first;
                  for (const node::GroupKeyError& e : reply->result.key_errors) {
                    if (e.lock_start_ts == start_ts && !e.lock_primary.empty()) {
                      primary = e.lock_primary;
                    }
                  }
                  CommitWithPrimary(op, start_ts, std::move(primary), std::move(keys));
                });
  return op;
}

void Coordinator::CommitWithPrimary(OpId op, uint64_t start_ts, std::string primary,
                                    std::vector<std::string> keys) {
  uint64_t chosen_ts = 0;
  if (auto it = client_txns_.find(start_ts); it != client_txns_.end()) {
    chosen_ts = it->second.commit_ts;
  }
  const bool has_primary = std::find(keys.begin(), keys.end(), primary) != keys.end();
  auto commit = [this, op, start_ts, primary, keys = std::move(keys)](uint64_t ts) mutable {
    if (auto it = client_txns_.find(start_ts); it != client_txns_.end()) {
      it->second.commit_ts = ts;
    }
    CommitKeysAt(op, start_ts, ts, primary, std::move(keys));
  };
  // Every Commit of one transaction uses one commit_ts: the one an earlier Commit here
  // chose, or the primary's when only secondaries are left; else a new one. Two would let
  // a snapshot between them see the primary's writes without a secondary's.
  if (chosen_ts != 0) return commit(chosen_ts);
  if (!has_primary) {
    kv::CheckTxnStatusCommand check;
    check.primary = primary;
    check.start_ts = start_ts;
    check.current_ms = wall_ms_;
    KvCommandRouted(
        primary, kv::EncodeKvCommand(check), Retry::kUnknownToo, DeadlineOf(op),
        [this, op, primary, commit = std::move(commit)](absl::StatusOr<GroupReply> reply) mutable {
          if (!reply.ok()) return Fail(op, reply.status());
          const kv::KvApplyResult status = node::ToKvApplyResult(reply->result);
          if (!status.status.ok()) return Fail(op, status.status);
          switch (status.txn_status) {
            case kv::TxnStatusKind::kCommitted:
              return commit(status.commit_ts);
            case kv::TxnStatusKind::kRolledBack:
              return Fail(op, absl::AbortedError(absl::StrCat(
                                  "transaction rolled back (its primary key ", primary, " was)")));
            default:
              return Fail(op, absl::FailedPreconditionError(
                                  absl::StrCat("commit the primary key ", primary,
                                               " (the transaction's first mutation) first")));
          }
        });
    return;
  }
  Timestamp(DeadlineOf(op),
            [this, op, commit = std::move(commit)](absl::StatusOr<uint64_t> commit_ts) mutable {
              if (!commit_ts.ok()) return Fail(op, commit_ts.status());
              commit(*commit_ts);
            });
}

void Coordinator::CommitKeysAt(OpId op, uint64_t start_ts, uint64_t ts, std::string primary,
                               std::vector<std::string> keys) {
  auto result = std::make_shared<OpResult>();
  auto primary_refused = std::make_shared<bool>(false);
  result->ts = ts;
  // The primary's group commits first: that commit is the transaction's commit point.
  // (KvCommandByGroup keeps it first also when a stale route makes it re-route.)
  KvCommandByGroup(
      std::move(keys), primary,
      [start_ts, ts](const std::vector<std::string>& batch) {
        kv::CommitCommand command;
        command.start_ts = start_ts;
        command.commit_ts = ts;
        command.keys = batch;
        return kv::EncodeKvCommand(command);
      },
      DeadlineOf(op),
      [result, primary_refused, primary](const std::vector<std::string>& batch,
                                         absl::StatusOr<GroupReply> reply) -> absl::StatusOr<bool> {
        const bool has_primary = std::find(batch.begin(), batch.end(), primary) != batch.end();
        if (!reply.ok()) {
          if (has_primary) return reply.status();
          // Past the commit point: a secondary left locked is resolved by readers later.
          return true;
        }
        result->index = std::max(result->index, reply->index);
        for (const node::GroupKeyError& e : reply->result.key_errors) {
          result->key_errors.push_back({e.key, e.message, e.retryable});
        }
        if (has_primary && !result->key_errors.empty()) {
          *primary_refused = true;  // not committed
          return false;
        }
        return true;
      },
      [this, op, result](absl::Status done) {
        // The record (with its commit_ts) stays until Rollback or eviction: a later Commit
        // of keys this one could not reach must use the same commit_ts.
        if (!done.ok()) return Fail(op, done);
        Finish(op, std::move(*result));
      });
}

OpId Coordinator::StartRollback(uint64_t start_ts) {
  const OpId op = NewOp();
  auto it = client_txns_.find(start_ts);
  if (it == client_txns_.end()) {
    Fail(op, absl::NotFoundError(absl::StrCat(
                 "no prewritten transaction with start_ts ", start_ts,
                 " on this node: send Rollback to the node that served PreWrite (its locks also "
                 "expire after lock_ttl and are rolled back by readers)")));
    return op;
  }
  const TxnRecord record = it->second;
  auto success = std::make_shared<bool>(true);
  KvCommandByGroup(
      record.keys, record.primary,
      [start_ts](const std::vector<std::string>& batch) {
        kv::RollbackCommand command;
        command.start_ts = start_ts;
        command.keys = batch;
        return kv::EncodeKvCommand(command);
      },
      DeadlineOf(op),
      [success](const std::vector<std::string>&,
                absl::StatusOr<GroupReply> reply) -> absl::StatusOr<bool> {
        if (!reply.ok()) return reply.status();
        if (!reply->result.status().ok() || !reply->result.key_errors.empty()) *success = false;
        return true;
      },
      [this, op, start_ts, success](absl::Status done) {
        if (!done.ok()) return Fail(op, done);
        if (*success) client_txns_.erase(start_ts);
        OpResult result;
        result.applied = *success;
        Finish(op, std::move(result));
      });
  return op;
}

}  // namespace ekv::coord
