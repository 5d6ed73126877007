// coord::Coordinator: Redis requests (core/redis/request.h) from the Redis front door.
//
// One group: the request goes to the group owning its routing key as one kv command
// (writes, run at apply) or kv query (reads), as before; a transaction's lock in its way
// (the group refuses with the lock, having done nothing) is resolved like a
// transactional read resolves one, and the request goes again.
//
// An EXEC whose keys (watched ones included) live in several groups runs as one
// Percolator transaction whose locks carry the writes (docs/architecture.md,
// "Transactions"): a start_ts; one prepare per group, the primary's group first, each
// running that group's commands in their order and locking every key it names with the
// writes staged in the lock (strict two-phase locking: nothing else reads or writes
// those keys until the commit point, so running the commands at prepare equals running
// them there); then a commit_ts, the primary's commit (the commit point) and the
// secondaries'. A watch that changed answers the null array after rolling back; a lock
// or a conflict rolls back, resolves, backs off and starts again with a new start_ts,
// until the deadline. A single command whose own keys span groups answers CROSSSLOT in
// its slot of the reply.
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/coord/coordinator.h"
#include "core/coord/coordinator_redis_exec.h"
#include "core/redis/executor.h"
#include "core/redis/prepare_request.h"
#include "core/redis/reply.h"
#include "core/redis/request.h"
#include "core/util/assert.h"

namespace ekv::coord {
namespace {

// Attempts of one EXEC that found the routes changed under it (a prepare refused as a
// whole with CROSSSLOT): each reads the catalog first.
constexpr int kMaxExecReplans = 8;

bool IsCrossSlot(const node::GroupResult& result) {
  static const std::string* const cross_slot =
      new std::string(redis_core::EncodeReply(redis_core::CrossSlotError()));
  return result.value.has_value() && *result.value == *cross_slot;
}

// The non-empty keys a command names (a queued script's KEYS; none for an unknown command).
std::vector<std::string> KeysOf(const std::vector<std::string>& args) {
  std::vector<std::string> keys;
  for (std::string& key : redis_core::QueuedCommandKeys(args)) {
    if (!key.empty()) keys.push_back(std::move(key));
  }
  return keys;
}

}  // namespace

OpId Coordinator::StartRedisRequest(std::string encoded_request, bool write) {
  absl::StatusOr<redis_core::RedisRequest> request =
      redis_core::DecodeRedisRequest(encoded_request);
  if (!request.ok()) {
    const OpId op = NewOp();
    Fail(op, request.status());
    return op;
  }
  return StartRedisCommand(*std::move(request), write);
}

OpId Coordinator::StartRedisCommand(redis_core::RedisRequest request, bool write) {
  const OpId op = NewOp();
  if (request.routing_key.empty()) {
    Fail(op, absl::InvalidArgumentError("key must not be empty"));
    return op;
  }
  std::string payload = redis_core::EncodeRedisRequest(request);
  if (request.transaction) {
    auto exec = std::make_shared<RedisExec>();
    exec->op = op;
    exec->request = std::move(request);
    RedisExecAttempt(std::move(exec), std::move(payload), write);
    return op;
  }
  // A command naming at most one key (GET, SET, INCR, LPUSH...: nearly all of them), or a
  // script (its KEYS share the routing key's group): that group's one entry, with no route
  // lookup or allocation here; a CROSSSLOT answer cannot come from one key.
  const redis_core::CommandInfo* info =
      request.commands.size() == 1 && !request.commands.front().empty()
          ? redis_core::FindCommand(request.commands.front()[0])
          : nullptr;
  // (SORT's STORE destination is found by its key_finder, not by the positions.)
  if (request.script.has_value() || info == nullptr ||
      (info->numkeys_index == 0 && info->key_finder == nullptr &&
       info->last_key == info->first_key)) {
    RedisOneGroup(op, std::move(request.routing_key), std::move(payload), write, 0);
    return op;
  }
  // Several keys: in one group as one entry, or over several (coordinator_redis_cross.cc).
  auto cross = std::make_shared<RedisCross>();
  cross->op = op;
  cross->request = std::move(request);
  cross->payload = std::move(payload);
  cross->write = write;
  RedisSingle(std::move(cross));
  return op;
}

void Coordinator::RedisOneGroup(OpId op, std::string key, std::string payload, bool write,
                                int attempt, std::function<void(GroupReply)> on_reply) {
  RedisOneGroupAnswer(op, std::move(key), std::move(payload), write, attempt,
                      [this, op, on_reply = std::move(on_reply)](absl::StatusOr<GroupReply> reply) {
                        if (!reply.ok()) return Fail(op, reply.status());
                        if (on_reply) return on_reply(*std::move(reply));
                        OpResult out;
                        out.index = reply->index;
                        out.group_result = std::move(reply->result);
                        Finish(op, std::move(out));
                      });
}

void Coordinator::RedisOneGroupAnswer(OpId op, std::string key, std::string payload, bool write,
                                      int attempt, ReplyFn done) {
  if (now_us_ >= DeadlineOf(op)) {
    return done(absl::UnavailableError(
        "redis: the key stayed locked by a live transaction until the deadline"));
  }
  ReplyFn on_answer = [this, op, key, payload, write, attempt,
                       done](absl::StatusOr<GroupReply> reply) mutable {
    if (!reply.ok()) return done(reply.status());
    const node::GroupResult& result = reply->result;
    if (!result.key_errors.empty() && result.key_errors.front().lock_start_ts != 0) {
      // Refused before anything ran: resolve the lock and send the request again.
      AwaitLockResolution(
          result.key_errors.front(), DeadlineOf(op),
          [this, op, key, payload, write, attempt, done](absl::StatusOr<bool> resolved) mutable {
            if (!resolved.ok()) return done(resolved.status());
            if (*resolved) {
              return RedisOneGroupAnswer(op, key, payload, write, attempt + 1, done);
            }
            After(Backoff(attempt), [this, op, key, payload, write, attempt, done]() mutable {
              RedisOneGroupAnswer(op, key, payload, write, attempt + 1, done);
            });
          });
      return;
    }
    done(std::move(reply));
  };
  if (write) {
    KvCommandRouted(key, std::move(payload), Retry::kDefinite, DeadlineOf(op),
                    std::move(on_answer));
  } else {
    KvQueryRouted(key, std::move(payload), DeadlineOf(op), std::move(on_answer));
  }
}

void Coordinator::RedisExecAttempt(std::shared_ptr<RedisExec> exec, std::string payload,
                                   bool write) {
  if (exec->cross != nullptr && exec->cross_planned) {
    // A retry of a single command over several groups: the keys may have changed since
    // they were read, so it starts again from reading them.
    return RedisCrossAgain(exec->cross);
  }
  exec->cross_planned = true;
  const redis_core::RedisRequest& request = exec->request;
  // Plan: each command goes to the group owning all its keys; the watches to theirs.
  std::map<raft::GroupId, RedisExec::Part> by_group;
  std::vector<size_t> keyless;
  exec->replies.assign(request.commands.size(), std::nullopt);
  exec->events.clear();
  exec->acl_denials.clear();
  bool routed = true;
  auto group_of = [&](const std::string& key) -> raft::GroupId {
    const route::RouteDescriptor* route = table_.Lookup(key);
    if (route == nullptr) routed = false;
    return route == nullptr ? 0 : route->raft_group_id;
  };
  for (size_t i = 0; i < request.commands.size(); ++i) {
    std::set<raft::GroupId> groups;
    for (const std::string& key : KeysOf(request.commands[i])) groups.insert(group_of(key));
    if (groups.empty()) {
      keyless.push_back(i);
    } else if (groups.size() > 1) {
      exec->replies[i] = redis_core::CrossSlotError();
    } else {
      RedisExec::Part& part = by_group[*groups.begin()];
      part.group = *groups.begin();
      part.command_indexes.push_back(i);
    }
  }
  for (const redis_core::Watch& watch : request.watches) {
    RedisExec::Part& part = by_group[group_of(watch.key)];
    part.group = group_of(watch.key);
    part.sub.watches.push_back(watch);
  }
  const bool one_group =
      by_group.size() == 1 &&
      std::none_of(exec->replies.begin(), exec->replies.end(),
                   [](const std::optional<redis_core::Reply>& r) { return r.has_value(); });
  // Only single commands over several groups (and keyless ones): the group answers the
  // whole EXEC CROSSSLOT, as before; planning again would not change that.
  if (by_group.empty()) exec->replans = kMaxExecReplans;
  if (exec->cross != nullptr && (!routed || by_group.empty() || one_group)) {
    // Planned over several groups a moment ago with this same table: cannot happen, but
    // starting again is always safe.
    return RedisCrossAgain(exec->cross);
  }
  if (!routed || by_group.empty() || one_group) {
    // Today's path: one entry of the group (or, with no table yet, wherever the routing
    // key leads; that group refuses keys it does not own with CROSSSLOT). A CROSSSLOT
    // answer from a table that was stale reads the catalog and plans again.
    const OpId op = exec->op;
    std::string key = request.routing_key;
    RedisOneGroup(op, std::move(key), payload, write, exec->attempt,
                  [this, exec, payload, write](GroupReply reply) {
                    if (IsCrossSlot(reply.result) && exec->replans < kMaxExecReplans) {
                      ++exec->replans;
                      return ReadCatalog(DeadlineOf(exec->op),
                                         [this, exec, payload,
                                          write](absl::StatusOr<route::RouteCatalog> catalog) {
                                           if (!catalog.ok())
                                             return Fail(exec->op, catalog.status());
                                           RedisExecAttempt(exec, payload, write);
                                         });
                    }
                    OpResult out;
                    out.index = reply.index;
                    out.group_result = std::move(reply.result);
                    Finish(exec->op, std::move(out));
                  });
    return;
  }
  // The primary: the smallest key of the group of the first command that has one (else
  // of the first group); keyless commands (PING, ECHO) run there too.
  raft::GroupId primary_group = by_group.begin()->first;
  for (size_t i = 0; i < request.commands.size(); ++i) {
    if (exec->replies[i].has_value()) continue;
    const std::vector<std::string> keys = KeysOf(request.commands[i]);
    if (!keys.empty()) {
      primary_group = group_of(keys.front());
      break;
    }
  }
  for (size_t i : keyless) by_group[primary_group].command_indexes.push_back(i);
  exec->parts.clear();
  exec->all_keys.clear();
  auto add_part = [&](RedisExec::Part part) {
    std::sort(part.command_indexes.begin(), part.command_indexes.end());
    std::set<std::string> keys;
    for (size_t i : part.command_indexes) {
      part.sub.commands.push_back(request.commands[i]);
      for (std::string& key : KeysOf(request.commands[i])) keys.insert(std::move(key));
    }
    for (const redis_core::Watch& watch : part.sub.watches) keys.insert(watch.key);
    part.keys.assign(keys.begin(), keys.end());
    part.sub.transaction = true;
    part.sub.script_bodies = request.script_bodies;  // its EVALSHAs' bodies (few, small)
    part.sub.now_ms = request.now_ms;
    part.sub.seed = request.seed + part.group;
    part.sub.notify_flags = request.notify_flags;
    // Its queued scripts' redis.calls are checked against the caller's rules: a part
    // without them would run them as a user allowed everything.
    part.sub.user_acl = request.user_acl;
    part.sub.routing_key = part.keys.front();
    exec->all_keys.insert(exec->all_keys.end(), part.keys.begin(), part.keys.end());
    exec->parts.push_back(std::move(part));
  };
  add_part(std::move(by_group.at(primary_group)));
  for (auto& [group, part] : by_group) {
    if (group != primary_group) add_part(std::move(part));
  }
  exec->primary = exec->parts.front().keys.front();
  exec->prepared = 0;
  Timestamp(DeadlineOf(exec->op), [this, exec, payload, write](absl::StatusOr<uint64_t> ts) {
    if (!ts.ok()) return Fail(exec->op, ts.status());
    exec->start_ts = *ts;
    RedisExecPrepareNext(exec, payload, write);
  });
}

void Coordinator::RedisExecPrepareNext(std::shared_ptr<RedisExec> exec, std::string payload,
                                       bool write) {
  if (exec->prepared == exec->parts.size()) return RedisExecCommit(exec, payload, write);
  RedisExec::Part& part = exec->parts[exec->prepared];
  redis_core::PrepareRequest prepare;
  prepare.part = part.sub;
  prepare.start_ts = exec->start_ts;
  prepare.primary = exec->primary;
  prepare.lock_ttl_ms = options_.default_lock_ttl_ms;
  // Not retried when its outcome is unknown: the rollback below leaves records that stop
  // a late copy from locking anything.
  KvCommandRouted(
      part.keys.front(), redis_core::EncodePrepareRequest(prepare), Retry::kDefinite,
      DeadlineOf(exec->op), [this, exec, payload, write](absl::StatusOr<GroupReply> reply) {
        const size_t sent = exec->prepared + 1;  // this part may hold locks too
        if (!reply.ok()) {
          const absl::Status failed = reply.status();
          return RedisExecRollback(exec, sent, [this, exec, failed] { Fail(exec->op, failed); });
        }
        node::GroupResult& result = reply->result;
        if (!result.key_errors.empty() || !result.status().ok()) {
          // A lock (resolve it), a conflict or a decided start_ts (a new start_ts): roll
          // back what is locked and go again after a backoff.
          std::vector<node::GroupKeyError> locks;
          for (const node::GroupKeyError& e : result.key_errors) {
            if (e.lock_start_ts != 0 && e.lock_start_ts != exec->start_ts) locks.push_back(e);
          }
          const bool retryable = !locks.empty() || !result.key_errors.empty() ||
                                 result.code == absl::StatusCode::kAborted ||
                                 result.code == absl::StatusCode::kFailedPrecondition;
          const absl::Status status = result.status();
          return RedisExecRollback(
              exec, sent,
              [this, exec, payload, write, retryable, status, locks = std::move(locks)]() mutable {
                if (!retryable) return Fail(exec->op, status);
                RedisExecRetry(exec, std::move(payload), write, std::move(locks));
              });
        }
        if (IsCrossSlot(result)) {
          // The routes changed under the plan: read them and plan again.
          return RedisExecRollback(exec, sent, [this, exec, payload, write] {
            if (++exec->replans > kMaxExecReplans) {
              return Fail(exec->op, absl::UnavailableError("redis: routes kept changing"));
            }
            ReadCatalog(DeadlineOf(exec->op),
                        [this, exec, payload, write](absl::StatusOr<route::RouteCatalog> c) {
                          if (!c.ok()) return Fail(exec->op, c.status());
                          RedisExecAttempt(exec, payload, write);
                        });
          });
        }
        absl::StatusOr<redis_core::Reply> replies =
            redis_core::DecodeReply(result.value.value_or(""));
        if (!replies.ok()) {
          return RedisExecRollback(exec, sent,
                                   [this, exec, s = replies.status()] { Fail(exec->op, s); });
        }
        if (replies->kind == redis_core::Reply::Kind::kNilArray) {
          // A watched key changed: EXEC aborts, and the parts prepared before unlock.
          return RedisExecRollback(exec, exec->prepared, [this, exec] {
            ++stats_.txns_aborted;
            OpResult out;
            out.group_result.value = redis_core::EncodeReply(redis_core::Reply::NilArray());
            Finish(exec->op, std::move(out));
          });
        }
        RedisExec::Part& part = exec->parts[exec->prepared];
        if (replies->kind != redis_core::Reply::Kind::kArray ||
            replies->elements.size() != part.command_indexes.size()) {
          return RedisExecRollback(exec, sent, [this, exec] {
            Fail(exec->op, absl::InternalError("redis: a prepare answered the wrong replies"));
          });
        }
        for (size_t i = 0; i < part.command_indexes.size(); ++i) {
          exec->replies[part.command_indexes[i]] = std::move(replies->elements[i]);
        }
        for (redis_core::KeyEvent& event : replies->TakeEvents()) {
          exec->events.push_back(std::move(event));
        }
        for (redis_core::ScriptAclDenial& denial : replies->TakeAclDenials()) {
          exec->acl_denials.push_back(std::move(denial));
        }
        exec->prepared = sent;
        RedisExecPrepareNext(exec, std::move(payload), write);
      });
}

void Coordinator::RedisExecCommit(std::shared_ptr<RedisExec> exec, std::string payload,
                                  bool write) {
  if (exec->cross != nullptr && !RedisCrossStillValid(*exec)) {
    // A key changed between its read and its lock: what was computed is stale.
    return RedisExecRollback(exec, exec->parts.size(), [this, exec] {
      After(Backoff(exec->attempt++), [this, exec] { RedisCrossAgain(exec->cross); });
    });
  }
  Timestamp(DeadlineOf(exec->op), [this, exec, payload, write](absl::StatusOr<uint64_t> commit_ts) {
    if (!commit_ts.ok()) {
      const absl::Status failed = commit_ts.status();
      return RedisExecRollback(exec, exec->parts.size(),
                               [this, exec, failed] { Fail(exec->op, failed); });
    }
    const uint64_t ts = *commit_ts;
    auto primary_state = std::make_shared<int>(0);  // 0 not reached, 1 committed, 2 refused
    auto primary_error = std::make_shared<absl::Status>();
    const std::string primary = exec->primary;
    // The primary's group commits first: that commit is the transaction's commit point;
    // a secondary left locked after it is rolled forward by whoever meets it.
    KvCommandByGroup(
        exec->all_keys, primary,
        [start_ts = exec->start_ts, ts](const std::vector<std::string>& batch) {
          kv::CommitCommand command;
          command.start_ts = start_ts;
          command.commit_ts = ts;
          command.keys = batch;
          return kv::EncodeKvCommand(command);
        },
        DeadlineOf(exec->op),
        [primary, primary_state, primary_error](
            const std::vector<std::string>& batch,
            absl::StatusOr<GroupReply> reply) -> absl::StatusOr<bool> {
          const bool has_primary = std::find(batch.begin(), batch.end(), primary) != batch.end();
          if (!has_primary) return true;
          if (!reply.ok()) return reply.status();  // outcome unknown
          if (!reply->result.key_errors.empty() || !reply->result.status().ok()) {
            *primary_state = 2;
            *primary_error = reply->result.status();
            return false;
          }
          *primary_state = 1;
          return true;
        },
        [this, exec, payload, write, primary_state, primary_error, ts](absl::Status done) {
          if (*primary_state == 2) {
            // Not committed (a reader rolled the transaction back after its TTL): nothing
            // of it took effect, so it may run again from the start.
            return RedisExecRollback(exec, exec->parts.size(), [this, exec, payload, write] {
              RedisExecRetry(exec, payload, write, {});
            });
          }
          if (*primary_state != 1) {
            return Fail(exec->op,
                        absl::UnavailableError(absl::StrCat(
                            "redis: EXEC outcome unknown (its commit did not answer: ",
                            done.ok() ? std::string("no answer") : done.ToString(), ")")));
          }
          ++stats_.txns_committed;
          if (exec->cross != nullptr) {
            OpResult out;
            out.ts = ts;
            out.group_result.ts = ts;
            out.group_result.value = redis_core::EncodeReply(exec->cross_reply);
            return Finish(exec->op, std::move(out));
          }
          std::vector<redis_core::Reply> replies;
          for (std::optional<redis_core::Reply>& reply : exec->replies) {
            EKV_ASSERT(reply.has_value(), "every command of a committed EXEC has its reply");
            replies.push_back(*std::move(reply));
          }
          redis_core::Reply reply = redis_core::Reply::Array(std::move(replies));
          reply.set_events(std::move(exec->events));
          reply.set_acl_denials(std::move(exec->acl_denials));
          OpResult out;
          out.ts = ts;
          out.group_result.ts = ts;
          out.group_result.value = redis_core::EncodeReply(reply);
          Finish(exec->op, std::move(out));
        });
  });
}

void Coordinator::RedisExecRollback(std::shared_ptr<RedisExec> exec, size_t parts,
                                    std::function<void()> then) {
  std::vector<std::string> keys;
  for (size_t i = 0; i < parts && i < exec->parts.size(); ++i) {
    keys.insert(keys.end(), exec->parts[i].keys.begin(), exec->parts[i].keys.end());
  }
  if (keys.empty()) return then();
  // Best effort: locks it cannot remove now expire, and readers roll them back through
  // the primary (whose rollback record, or missing lock, decides it as rolled back).
  KvCommandByGroup(
      std::move(keys), exec->primary,
      [start_ts = exec->start_ts](const std::vector<std::string>& batch) {
        kv::RollbackCommand command;
        command.start_ts = start_ts;
        command.keys = batch;
        return kv::EncodeKvCommand(command);
      },
      now_us_ + options_.request_timeout_us,
      [](const std::vector<std::string>&, absl::StatusOr<GroupReply>) -> absl::StatusOr<bool> {
        return true;
      },
      [then = std::move(then)](absl::Status) { then(); });
}

void Coordinator::RedisExecRetry(std::shared_ptr<RedisExec> exec, std::string payload, bool write,
                                 std::vector<node::GroupKeyError> locks) {
  const int attempt = exec->attempt++;
  AwaitLockResolutions(
      std::move(locks), DeadlineOf(exec->op),
      [this, exec, payload = std::move(payload), write, attempt]() mutable {
        After(Backoff(attempt), [this, exec, payload, write] {
          if (now_us_ >= DeadlineOf(exec->op)) {
            return Fail(exec->op,
                        absl::UnavailableError("redis: EXEC kept meeting other transactions' locks "
                                               "or conflicts until the deadline"));
          }
          RedisExecAttempt(exec, payload, write);
        });
      });
}

}  // namespace ekv::coord
