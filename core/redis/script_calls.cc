// A script request (request.h RedisRequest::Script) run by the group's ScriptRunner, each
// redis.call checked the way Redis 7.0 checks a script's command (arity, read-only script,
// key in this node) and then run by the request's one executor, so the script sees its own
// writes and they all land in the request's one batch.
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/redis/executor.h"
#include "core/redis/key_snapshot.h"
#include "core/redis/script_runner.h"

namespace ekv::redis_core {
namespace {

class ExecutorCalls final : public ScriptCalls {
 public:
  ExecutorCalls(Executor* executor, bool read_only_script,
                const std::function<bool(absl::string_view)>* owns_key)
      : executor_(executor), read_only_(read_only_script), owns_key_(owns_key) {}

  absl::StatusOr<Reply> Call(const std::vector<std::string>& args) override {
    if (args.empty()) {
      return Reply::Error("ERR Please specify at least one argument for this redis lib call");
    }
    const CommandInfo* info = FindCommand(args[0]);
    // The group's internal reads are not commands a client (or its script) may name.
    if (info == nullptr || IsInternalCommand(info->name)) {
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
    return executor_->Run(args);
  }

  bool read_only() const override { return read_only_ || executor_->read_only(); }

 private:
  Executor* executor_;
  const bool read_only_;
  const std::function<bool(absl::string_view)>* owns_key_;
};

}  // namespace

RequestOutcome ExecuteScript(const RedisRequest& request, Store* store, uint64_t now_ms,
                             kv::Timestamp commit_ts, const ScriptEnvironment* scripts) {
  RequestOutcome outcome;
  if (scripts == nullptr || scripts->runner == nullptr) {
    outcome.reply = Reply::Error(kNoScriptRunnerError);
    return outcome;
  }
  Executor executor(store, now_ms, request.seed, commit_ts);
  ExecutorCalls calls(&executor, request.script->read_only, &scripts->owns_key);
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
  return outcome;
}

}  // namespace ekv::redis_core
