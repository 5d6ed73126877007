// coord::Coordinator: one Redis command (not an EXEC, not a script) from the front door.
//
// When every key the command names lives in one group (the common case) it is that
// group's one entry (RedisOneGroup), as before. When its keys live in several groups
// (RENAME a b, SMOVE, LMOVE, SUNIONSTORE, BITOP, MSETNX... across groups) it runs as a
// one-command EXEC over those groups, on the same Percolator path as a cross-group EXEC
// (coordinator_redis.cc), so there is one lock protocol:
//   1. read: each group answers `ekv-snapshot` of its keys (key_snapshot.h), a plain
//      linearizable read that resolves any lock in its way;
//   2. run: the command runs here on those values (redis_core::RunOverSnapshots), giving
//      its reply and the new value of every key it wrote;
//   3. write: an EXEC over the groups whose commands are, per key, `ekv-snapshot` (so
//      its prepare locks the key and answers its value under the lock) and, per written
//      key, `ekv-restore key value`. Before the commit point every value read under the
//      locks must equal the value read in step 1; otherwise it rolls back and starts
//      again from step 1 (after a backoff, until the deadline).
// Why this is atomic and linearizable: from each prepare to the commit point no other
// request reads or writes the locked keys, and they hold the values the command was run
// on; so the reply and the writes are exactly those of running the command at the commit
// point, and the client is answered after it. Cost: O(size) of the keys, moved twice,
// and three rounds; single-group commands pay nothing of it.
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/coord/coordinator.h"
#include "core/coord/coordinator_redis_exec.h"
#include "core/redis/detached_run.h"
#include "core/redis/executor.h"
#include "core/redis/key_snapshot.h"
#include "core/redis/reply.h"
#include "core/redis/request.h"
#include "core/util/assert.h"

namespace ekv::coord {
namespace {

// Route changes one command may meet (each reads the catalog again).
constexpr int kMaxCrossReplans = 8;

bool IsCrossSlotReply(const node::GroupResult& result) {
  static const std::string* const cross_slot =
      new std::string(redis_core::EncodeReply(redis_core::CrossSlotError()));
  return result.value.has_value() && *result.value == *cross_slot;
}

}  // namespace

void Coordinator::RedisSingle(std::shared_ptr<RedisCross> cross) {
  if (now_us_ >= DeadlineOf(cross->op)) {
    return Fail(cross->op,
                absl::UnavailableError("redis: a command over several groups kept meeting "
                                       "changes of its keys until the deadline"));
  }
  const redis_core::RedisRequest& request = cross->request;
  std::set<std::string> keys;
  if (request.commands.size() == 1 && !request.commands.front().empty()) {
    const redis_core::CommandInfo* info = redis_core::FindCommand(request.commands.front()[0]);
    if (info != nullptr && !redis_core::IsInternalCommand(info->name)) {
      for (std::string& key : redis_core::CommandKeys(*info, request.commands.front())) {
        if (!key.empty()) keys.insert(std::move(key));
      }
    }
  }
  std::map<raft::GroupId, std::vector<std::string>> by_group;
  bool routed = true;
  for (const std::string& key : keys) {
    const route::RouteDescriptor* route = table_.Lookup(key);
    if (route == nullptr) {
      routed = false;
      break;
    }
    by_group[route->raft_group_id].push_back(key);
  }
  if (!routed || by_group.size() <= 1) {
    // One group's entry. Its CROSSSLOT means the table was stale: read it and plan again.
    std::string key = request.routing_key;
    return RedisOneGroup(
        cross->op, std::move(key), cross->payload, cross->write, cross->attempt,
        [this, cross](GroupReply reply) {
          if (IsCrossSlotReply(reply.result) && cross->replans < kMaxCrossReplans) {
            return RedisCrossReplan(cross);
          }
          OpResult out;
          out.index = reply.index;
          out.group_result = std::move(reply.result);
          Finish(cross->op, std::move(out));
        });
  }
  cross->keys.assign(keys.begin(), keys.end());
  cross->groups.clear();
  for (auto& [group, group_keys] : by_group) cross->groups.push_back(std::move(group_keys));
  cross->read = 0;
  cross->snapshots.clear();
  RedisCrossRead(std::move(cross));
}

void Coordinator::RedisCrossReplan(std::shared_ptr<RedisCross> cross) {
  if (++cross->replans > kMaxCrossReplans) {
    return Fail(cross->op, absl::UnavailableError("redis: routes kept changing"));
  }
  ReadCatalog(DeadlineOf(cross->op), [this, cross](absl::StatusOr<route::RouteCatalog> catalog) {
    if (!catalog.ok()) return Fail(cross->op, catalog.status());
    RedisSingle(cross);
  });
}

void Coordinator::RedisCrossAgain(std::shared_ptr<RedisCross> cross) {
  ++cross->attempt;
  RedisSingle(std::move(cross));
}

void Coordinator::RedisCrossRead(std::shared_ptr<RedisCross> cross) {
  if (cross->read == cross->groups.size()) return RedisCrossWrite(std::move(cross));
  const std::vector<std::string>& keys = cross->groups[cross->read];
  redis_core::RedisRequest read;
  read.routing_key = keys.front();
  read.now_ms = cross->request.now_ms;
  read.seed = cross->request.seed;
  read.transaction = true;
  for (const std::string& key : keys) {
    read.commands.push_back({std::string(redis_core::kSnapshotCommand), key});
  }
  RedisOneGroup(
      cross->op, keys.front(), redis_core::EncodeRedisRequest(read), /*write=*/false, 0,
      [this, cross](GroupReply reply) {
        if (IsCrossSlotReply(reply.result)) return RedisCrossReplan(cross);
        const std::vector<std::string>& keys = cross->groups[cross->read];
        absl::StatusOr<redis_core::Reply> replies =
            redis_core::DecodeReply(reply.result.value.value_or(""));
        if (!reply.result.status().ok()) return Fail(cross->op, reply.result.status());
        if (!replies.ok()) return Fail(cross->op, replies.status());
        if (replies->kind != redis_core::Reply::Kind::kArray ||
            replies->elements.size() != keys.size()) {
          return Fail(cross->op,
                      absl::InternalError(absl::StrCat("redis: a key read answered ",
                                                       redis_core::DebugString(*replies))));
        }
        for (size_t i = 0; i < keys.size(); ++i) {
          const redis_core::Reply& value = replies->elements[i];
          if (value.kind == redis_core::Reply::Kind::kBulk) {
            cross->snapshots[keys[i]] = value.text;
          } else if (value.kind == redis_core::Reply::Kind::kNil) {
            cross->snapshots[keys[i]] = std::nullopt;
          } else {
            return Fail(cross->op,
                        absl::InternalError(absl::StrCat("redis: a key read answered ",
                                                         redis_core::DebugString(value))));
          }
        }
        ++cross->read;
        RedisCrossRead(cross);
      });
}

void Coordinator::RedisCrossWrite(std::shared_ptr<RedisCross> cross) {
  absl::StatusOr<redis_core::DetachedResult> result = redis_core::RunOverSnapshots(
      cross->request.commands.front(), cross->snapshots, cross->request.now_ms, cross->request.seed,
      cross->request.notify_flags);
  if (!result.ok()) return Fail(cross->op, result.status());
  auto exec = std::make_shared<RedisExec>();
  exec->op = cross->op;
  exec->attempt = cross->attempt;
  exec->cross = cross;
  exec->cross_reply = std::move(result->reply);
  redis_core::RedisRequest& write = exec->request;
  write.routing_key = cross->keys.front();
  write.now_ms = cross->request.now_ms;
  write.seed = cross->request.seed;
  write.transaction = true;
  for (const std::string& key : cross->keys) {
    write.commands.push_back({std::string(redis_core::kSnapshotCommand), key});
    const std::optional<std::string>& value = cross->snapshots.at(key);
    exec->cross_expected.push_back(value.has_value() ? redis_core::Reply::Bulk(*value)
                                                     : redis_core::Reply::Nil());
  }
  for (auto& [key, value] : result->writes) {
    std::vector<std::string> restore = {std::string(redis_core::kRestoreCommand), key};
    if (value.has_value()) restore.push_back(*std::move(value));
    write.commands.push_back(std::move(restore));
  }
  std::string payload = redis_core::EncodeRedisRequest(write);
  // The EXEC plans with today's table; should the keys now share one group, it hands
  // back to RedisCrossAgain, which runs the command as that group's one entry.
  RedisExecAttempt(std::move(exec), std::move(payload), /*write=*/true);
}

bool Coordinator::RedisCrossStillValid(const RedisExec& exec) const {
  EKV_ASSERT(exec.replies.size() >= exec.cross_expected.size(),
             "a cross-group command's EXEC has a reply per key read");
  for (size_t i = 0; i < exec.replies.size(); ++i) {
    if (!exec.replies[i].has_value()) return false;
    if (options_.plants.redis_cross_skips_revalidation) continue;  // planted bug (sim only)
    if (i < exec.cross_expected.size()) {
      if (!(*exec.replies[i] == exec.cross_expected[i])) return false;
    } else if (!(*exec.replies[i] == redis_core::Reply::Ok())) {
      return false;
    }
  }
  return true;
}

}  // namespace ekv::coord
