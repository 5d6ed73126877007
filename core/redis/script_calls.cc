// A script request (request.h RedisRequest::Script) run by the group's ScriptRunner, each
// redis.call checked the way Redis 7.0 checks a script's command (arity, read-only script,
// key in this node) and then run by the request's one executor, so the script sees its own
// writes and they all land in the request's one batch.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/redis/executor.h"
#include "core/redis/key_snapshot.h"
#include "core/redis/numbers.h"
#include "core/redis/script_runner.h"

namespace ekv::redis_core {
namespace {

class ExecutorCalls final : public ScriptCalls {
 public:
  ExecutorCalls(Executor* executor, bool read_only_script,
                const std::function<bool(absl::string_view)>* owns_key, absl::string_view user_acl)
      : executor_(executor),
        read_only_(read_only_script),
        owns_key_(owns_key),
        user_acl_(user_acl),
        // The request's next random draw: each script of an EXEC gets its own.
        random_seed_(static_cast<uint32_t>(executor->NextRandom())) {}

  absl::StatusOr<Reply> Call(const std::vector<std::string>& args) override {
    if (args.empty()) {
      return Reply::Error("ERR Please specify at least one argument for this redis lib call");
    }
    const CommandInfo* info = FindCommand(args[0]);
    // The group's internal reads are not commands a client (or its script) may name.
    if (info == nullptr || IsInternalCommand(info->name) || IsServeForm(info->name)) {
      return Reply::Error("ERR Unknown Redis command called from script");
    }
    const int argc = static_cast<int>(args.size());
    if ((info->arity > 0 && argc != info->arity) || (info->arity < 0 && argc < -info->arity)) {
      return Reply::Error("ERR Wrong number of args calling Redis command from script");
    }
    if (info->write && (read_only_ || executor_->read_only())) {
      return Reply::Error("ERR Write commands are not allowed from read-only scripts.");
    }
    if (owns_key_ != nullptr && *owns_key_) {
      for (const std::string& key : CommandKeys(*info, args)) {
        if (!(*owns_key_)(key)) {
          return Reply::Error("ERR Script attempted to access a non local key in a cluster node");
        }
      }
    }
    executor_->set_called_from_script(true);
    absl::StatusOr<Reply> reply = executor_->Run(args);
    executor_->set_called_from_script(false);
    return reply;
  }

  bool read_only() const override { return read_only_ || executor_->read_only(); }
  absl::string_view user_acl() const override { return user_acl_; }
  uint32_t random_seed() const override { return random_seed_; }
  void NoteAclDenial(absl::string_view reason, absl::string_view object) override {
    executor_->NoteAclDenial({std::string(reason), std::string(object)});
  }

 private:
  Executor* executor_;
  const bool read_only_;
  const std::function<bool(absl::string_view)>* owns_key_;
  const absl::string_view user_acl_;  // the request's, which outlives the calls
  const uint32_t random_seed_;
};

// A queued script command's numkeys (args[2]) as Redis 7.0's evalGenericCommand checks
// it: the count, or the error reply.
std::optional<Reply> NumKeysError(const Args& args, size_t* numkeys) {
  std::optional<int64_t> count = ParseInt64(args[2]);
  if (!count.has_value()) return Reply::Error("ERR value is not an integer or out of range");
  if (*count > static_cast<int64_t>(args.size()) - 3) {
    return Reply::Error("ERR Number of keys can't be greater than number of args");
  }
  if (*count < 0) return Reply::Error("ERR Number of keys can't be negative");
  *numkeys = static_cast<size_t>(*count);
  return std::nullopt;
}

bool IsEvalSha(absl::string_view name) {
  return absl::EqualsIgnoreCase(name, "evalsha") || absl::EqualsIgnoreCase(name, "evalsha_ro");
}

}  // namespace

bool IsScriptCommand(absl::string_view name) {
  return IsWriteScriptCommand(name) || absl::EqualsIgnoreCase(name, "eval_ro") ||
         absl::EqualsIgnoreCase(name, "evalsha_ro");
}

bool IsWriteScriptCommand(absl::string_view name) {
  return absl::EqualsIgnoreCase(name, "eval") || absl::EqualsIgnoreCase(name, "evalsha");
}

std::vector<std::string> QueuedCommandKeys(const Args& args) {
  if (args.empty()) return {};
  if (const CommandInfo* info = FindCommand(args[0]); info != nullptr) {
    return CommandKeys(*info, args);
  }
  size_t numkeys = 0;
  if (!IsScriptCommand(args[0]) || args.size() < 3 || NumKeysError(args, &numkeys).has_value()) {
    return {};
  }
  return std::vector<std::string>(args.begin() + 3, args.begin() + 3 + numkeys);
}

absl::StatusOr<Reply> RunQueuedScript(Executor& executor, const Args& args,
                                      const RedisRequest& request,
                                      const ScriptEnvironment* scripts) {
  static const Reply* const kNoScript =
      new Reply(Reply::Error("NOSCRIPT No matching script. Please use EVAL."));
  if (args.size() < 3) {
    return Reply::Error(absl::StrCat("ERR wrong number of arguments for '",
                                     absl::AsciiStrToLower(args[0]), "' command"));
  }
  const bool by_sha = IsEvalSha(args[0]);
  if (by_sha && args[1].size() != 40) return *kNoScript;  // Redis answers this before numkeys
  size_t numkeys = 0;
  if (std::optional<Reply> error = NumKeysError(args, &numkeys); error.has_value()) return *error;
  RedisRequest::Script script;
  if (by_sha) {
    const auto body = request.script_bodies.find(absl::AsciiStrToLower(args[1]));
    if (body == request.script_bodies.end()) return *kNoScript;
    script.body = body->second;
  } else {
    script.body = args[1];
  }
  if (scripts == nullptr || scripts->runner == nullptr) return Reply::Error(kNoScriptRunnerError);
  script.read_only = !IsWriteScriptCommand(args[0]);
  script.keys.assign(args.begin() + 3, args.begin() + 3 + numkeys);
  script.args.assign(args.begin() + 3 + numkeys, args.end());
  ExecutorCalls calls(&executor, script.read_only, &scripts->owns_key, request.user_acl);
  // A script error is its slot's reply (its writes so far stay, as in Redis); a lock or an
  // engine error fails the whole EXEC, which the coordinator resolves and sends again.
  return scripts->runner->Run(script, calls);
}

RequestOutcome ExecuteScript(const RedisRequest& request, Store* store, uint64_t now_ms,
                             kv::Timestamp commit_ts, const ScriptEnvironment* scripts) {
  RequestOutcome outcome;
  if (scripts == nullptr || scripts->runner == nullptr) {
    outcome.reply = Reply::Error(kNoScriptRunnerError);
    return outcome;
  }
  Executor executor(store, now_ms, request.seed, commit_ts);
  executor.set_notify_flags(request.notify_flags);
  executor.set_key_access(&scripts->owns_key);
  ExecutorCalls calls(&executor, request.script->read_only, &scripts->owns_key, request.user_acl);
  absl::StatusOr<Reply> reply = scripts->runner->Run(*request.script, calls);
  if (!reply.ok()) {
    // A lock or an engine error met by one of its commands: the script did not happen.
    store->Discard();
    outcome.status = reply.status();
    outcome.locked = store->locked();
    return outcome;
  }
  // Like Redis, a script that fails after writing keeps its writes: the error is its reply.
  outcome.reply = *std::move(reply);
  std::vector<KeyEvent> events = executor.TakeEvents();
  if (executor.read_ran()) {
    for (const std::string& key : request.script->keys) {
      events.push_back({std::string(kTrackingScriptReadEvent), key});
    }
  }
  outcome.reply.set_events(std::move(events));
  outcome.reply.set_acl_denials(executor.TakeAclDenials());
  return outcome;
}

}  // namespace ekv::redis_core
