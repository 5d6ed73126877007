// The data commands: each becomes a redis_core::RedisRequest routed by its first key and
// run by redis_core's executor in the group that owns it (a write as one Raft entry at
// apply time, a read at a linearizable read point), so the type logic exists once, in
// core/, where the simulator runs it too. This file only builds requests and encodes
// replies.
//
// Keys in different groups: DEL, UNLINK, EXISTS, TOUCH and MGET are split into one request
// per key and their replies joined (not atomic across keys); any other
// multi-key command (RENAME, MSETNX, ...) is sent whole and the coordinator runs it over the
// groups as a one-command transaction (core/coord/coordinator_redis_cross.cc).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/time/clock.h"
#include "adapters/redis/acl_users.h"
#include "adapters/redis/blocked_clients.h"
#include "adapters/redis/command_table.h"
#include "adapters/redis/reply_writer.h"
#include "core/redis/executor.h"
#include "core/redis/numbers.h"
#include "core/util/assert.h"

namespace ekv::redis {

uint64_t NextRequestSeed() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return generator();
}

redis_core::RedisRequest MakeRedisRequest(std::vector<std::string> args) {
  redis_core::RedisRequest request;
  request.routing_key = args.size() > 1 ? args[1] : std::string();
  // LMPOP and the like name their keys after a count, XREAD after STREAMS: route by the
  // first key.
  if (const redis_core::CommandInfo* info =
          args.empty() ? nullptr : redis_core::FindCommand(args[0]);
      info != nullptr &&
      (info->numkeys_index != 0 || info->first_key > 1 || info->key_finder != nullptr)) {
    std::vector<std::string> keys = redis_core::CommandKeys(*info, args);
    if (!keys.empty()) request.routing_key = keys.front();
  }
  // Only a lower bound: the group decides expiry at max(this, its replicated time).
  request.now_ms = static_cast<uint64_t>(absl::ToUnixMillis(absl::Now()));
  request.seed = NextRequestSeed();
  request.commands.push_back(std::move(args));
  return request;
}

namespace {

using redis_core::Reply;

// Joins the replies of the per-key requests of one split command; the last one to
// answer replies to the client.
class Join {
 public:
  using Combine = std::function<Reply(std::vector<Reply>)>;
  Join(size_t count, int protocol, ReplyFn reply, Combine combine)
      : replies_(count),
        remaining_(count),
        protocol_(protocol),
        reply_(std::move(reply)),
        combine_(std::move(combine)) {}

  void Finish(size_t slot, absl::StatusOr<Reply> reply) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!reply.ok()) {
        if (error_.ok()) error_ = reply.status();
      } else if (reply->is_error() && !first_error_.has_value()) {
        first_error_ = *reply;
      } else {
        replies_[slot] = *std::move(reply);
      }
      if (--remaining_ != 0) return;
    }
    if (!error_.ok()) return reply_(BackendErrorReply(error_));
    if (first_error_.has_value()) return reply_(EncodeReplyFor(protocol_, *first_error_));
    reply_(EncodeReplyFor(protocol_, combine_(std::move(replies_))));
  }

 private:
  std::mutex mu_;
  std::vector<Reply> replies_;        // guarded by mu_
  size_t remaining_;                  // guarded by mu_
  absl::Status error_;                // guarded by mu_
  std::optional<Reply> first_error_;  // guarded by mu_
  const int protocol_;
  ReplyFn reply_;
  Combine combine_;
};

// Runs one request per element of `parts` and answers combine(replies).
void RunSplit(CommandContext& context, bool write, std::vector<std::vector<std::string>> parts,
              Join::Combine combine) {
  auto join = std::make_shared<Join>(parts.size(), context.connection->protocol,
                                     std::move(context.reply), std::move(combine));
  for (size_t i = 0; i < parts.size(); ++i) {
    context.backend->Execute(
        MakeRedisRequest(std::move(parts[i])), write,
        [join, i](absl::StatusOr<Reply> reply) { join->Finish(i, std::move(reply)); });
  }
}

// DEL, UNLINK, EXISTS, TOUCH, MGET over keys that may live in different groups. Returns false
// when the command is not one of them or needs no split (one distinct key, or malformed:
// the executor then answers it whole).
bool TrySplit(CommandContext& context, const std::string& name) {
  const std::vector<std::string>& args = context.args;
  const bool deletes = name == "del" || name == "unlink";
  if (deletes || name == "exists" || name == "touch") {
    // One request per distinct key; EXISTS and TOUCH count a key named twice twice, DEL
    // and UNLINK once.
    std::map<std::string, int64_t> counts;
    for (size_t i = 1; i < args.size(); ++i) ++counts[args[i]];
    if (counts.size() < 2) return false;
    std::vector<std::vector<std::string>> parts;
    std::vector<int64_t> weights;
    for (const auto& [key, count] : counts) {
      parts.push_back({name, key});
      weights.push_back(deletes ? 1 : count);
    }
    RunSplit(context, deletes, std::move(parts), [weights](std::vector<Reply> replies) {
      int64_t sum = 0;
      for (size_t i = 0; i < replies.size(); ++i) sum += replies[i].integer * weights[i];
      return Reply::Integer(sum);
    });
    return true;
  }
  if (name == "mget") {
    if (std::set<std::string>(args.begin() + 1, args.end()).size() < 2) return false;
    std::vector<std::vector<std::string>> parts;
    for (size_t i = 1; i < args.size(); ++i) parts.push_back({"mget", args[i]});
    RunSplit(context, false, std::move(parts), [](std::vector<Reply> replies) {
      std::vector<Reply> values;
      for (Reply& reply : replies) {
        for (Reply& value : reply.elements) values.push_back(std::move(value));
      }
      return Reply::Array(std::move(values));
    });
    return true;
  }
  if (name == "mset" || name == "msetnx") {
    if (args.size() % 2 == 0) {
      // Answered here: sent whole, keys in other groups would make it a CROSSSLOT.
      context.reply(
          EncodeReplyFor(context.connection->protocol,
                         Reply::Error("ERR wrong number of arguments for '" + name + "' command")));
      return true;
    }
    // Sent whole, as MSETNX: atomic as Redis's MSET is, one entry when its keys share a
    // group, else one transaction over their groups (coordinator_redis_cross.cc). Split
    // into one write per key it was not atomic: a reader could see half of it.
    return false;
  }
  return false;
}

}  // namespace

std::string SortAclError(const std::vector<std::string>& args, const ConnectionState& connection) {
  if (connection.server == nullptr) return "";
  const AclUser* user = connection.server->settings().users().Find(connection.user);
  if (user == nullptr || user->permissions.AllowsAllKeys()) return "";
  return SortAclErrorText(args);
}

std::string SortAclErrorText(const std::vector<std::string>& args) {
  if (args.size() < 2) return "";
  const std::string name = absl::AsciiStrToLower(args[0]);
  if (name != "sort" && name != "sort_ro") return "";
  for (size_t j = 2; j < args.size(); ++j) {
    const size_t left = args.size() - j - 1;
    const std::string option = absl::AsciiStrToLower(args[j]);
    if (option == "asc" || option == "desc" || option == "alpha") continue;
    if (option == "limit" && left >= 2) {
      if (!redis_core::ParseInt64(args[j + 1]).has_value() ||
          !redis_core::ParseInt64(args[j + 2]).has_value()) {
        return "";
      }
      j += 2;
    } else if (option == "store" && name == "sort" && left >= 1) {
      ++j;
    } else if (option == "by" && left >= 1) {
      // A BY without '*' is a constant: nothing is looked up.
      if (args[j + 1].find('*') != std::string::npos) {
        return "ERR BY option of SORT denied due to insufficient ACL permissions.";
      }
      ++j;
    } else if (option == "get" && left >= 1) {
      return "ERR GET option of SORT denied due to insufficient ACL permissions.";
    } else {
      return "";  // the command's own syntax error
    }
  }
  return "";
}

void TypedCommand(CommandContext context) {
  const redis_core::CommandInfo* info = redis_core::FindCommand(context.args[0]);
  EKV_ASSERT(info != nullptr, "a typed command without an executor handler: ", context.args[0]);
  if (std::string error = SortAclError(context.args, *context.connection); !error.empty()) {
    return context.reply(ErrorReply(error));
  }
  const std::string name = info->name;
  if (TrySplit(context, name)) return;
  context.connection->ready_keys = KeysMadeReady(context.args);
  const int protocol = context.connection->protocol;
  context.backend->Execute(MakeRedisRequest(std::move(context.args)), info->write,
                           [reply = std::move(context.reply), protocol](absl::StatusOr<Reply> r) {
                             if (!r.ok()) return reply(BackendErrorReply(r.status()));
                             reply(EncodeReplyFor(protocol, *r));
                           });
}

}  // namespace ekv::redis
