// FakeBackend: an in-memory RedisBackend for tests: redis_core's executor over a
// MemoryEngine, as one group would run it. Answers synchronously by default, or
// on its own thread after `delay` (async_mode), like the coordinator's callbacks do;
// `fail_with` makes every call fail with that status.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "adapters/redis/backend.h"
#include "adapters/redis/lua/lua_script_runner.h"
#include "core/kv/memory_engine.h"
#include "core/kv/mvcc.h"
#include "core/kv/mvcc_batch.h"
#include "core/kv/timestamp.h"
#include "core/redis/detached_run.h"
#include "core/redis/executor.h"
#include "core/redis/key_snapshot.h"
#include "core/redis/store.h"

namespace ekv::redis {

class FakeBackend final : public RedisBackend {
 public:
  explicit FakeBackend(bool async_mode = false) : async_(async_mode) {
    if (async_) worker_ = std::thread([this] { Work(); });
  }
  ~FakeBackend() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (worker_.joinable()) worker_.join();
  }

  void Execute(redis_core::RedisRequest request, bool write, ReplyDone done) override {
    Run([this, request = std::move(request), write, done] {
      if (!fail_with.ok()) return done(fail_with);
      if (detached_multi_key && NamesSeveralKeys(request)) return done(ExecuteDetached(request));
      done(ExecuteNow(request, write));
    });
  }

  // One request with `transaction` set, as the coordinator sends each one-group part of a
  // pipeline (coordinator_redis_pipeline.cc): the executor runs the commands in order.
  void ExecutePipeline(redis_core::RedisPipeline pipeline, PipelineDone done) override {
    pipelines.fetch_add(1);
    pipelined_commands.fetch_add(pipeline.commands.size());
    Run([this, pipeline = std::move(pipeline), done] {
      const size_t count = pipeline.commands.size();
      std::vector<absl::StatusOr<redis_core::Reply>> replies;
      if (!fail_with.ok())
        return done(std::vector<absl::StatusOr<redis_core::Reply>>(count, fail_with));
      redis_core::RedisRequest request;
      request.routing_key = pipeline.commands.front().key;
      request.now_ms = pipeline.now_ms;
      request.seed = pipeline.seed;
      request.notify_flags = pipeline.notify_flags;
      request.transaction = true;
      bool write = false;
      for (const redis_core::PipelinedCommand& command : pipeline.commands) {
        request.commands.push_back(command.args);
        write = write || command.write;
      }
      absl::StatusOr<redis_core::Reply> reply = ExecuteNow(request, write);
      if (!reply.ok())
        return done(std::vector<absl::StatusOr<redis_core::Reply>>(count, reply.status()));
      // As the coordinator does: the part's keyspace events go with its first reply.
      if (!reply->elements.empty()) reply->elements.front().set_events(reply->TakeEvents());
      for (redis_core::Reply& element : reply->elements) replies.push_back(std::move(element));
      done(std::move(replies));
    });
  }
  std::atomic<uint64_t> pipelines{0};           // ExecutePipeline calls so far
  std::atomic<uint64_t> pipelined_commands{0};  // the commands they carried
  // Commands sent so far, alone or in pipelines (ListRanges counts as one).
  uint64_t commands_run() const {
    return calls.load() - pipelines.load() + pipelined_commands.load();
  }

  // When set, a single command naming several keys runs as the coordinator runs one whose
  // keys live in several groups (core/coord/coordinator_redis_cross.cc): each key's
  // `ekv-snapshot`, the command over them in memory (redis_core::RunOverSnapshots), then
  // `ekv-restore` of what it wrote. Set before the server starts.
  bool detached_multi_key = false;

  // The key ranges ListRanges reports (all on this one engine): tests split the keyspace
  // to walk several "groups".
  std::vector<KeyRange> ranges{KeyRange{}};
  void ListRanges(RangesDone done) override {
    Run([this, done] {
      if (!fail_with.ok()) return done(fail_with);
      done(ranges);
    });
  }

  // Runs `args` at once on the caller's thread (test setup), whatever the mode.
  redis_core::Reply Command(std::vector<std::string> args) {
    redis_core::RedisRequest request;
    request.routing_key = args.size() > 1 ? args[1] : "";
    request.commands.push_back(std::move(args));
    const redis_core::CommandInfo* info = redis_core::FindCommand(request.commands[0][0]);
    absl::StatusOr<redis_core::Reply> reply = ExecuteNow(request, info != nullptr && info->write);
    return reply.ok() ? *reply : redis_core::Reply::Error(reply.status().ToString());
  }

  // Only touched by the answering thread once calls are in flight.
  absl::Status fail_with;
  std::chrono::microseconds delay{0};
  std::atomic<uint64_t> calls{0};  // backend calls made so far

 private:
  void Run(std::function<void()> call) {
    calls.fetch_add(1);
    if (!async_) return call();
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(call));
    }
    cv_.notify_one();
  }
  void Work() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      std::function<void()> call = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      if (delay.count() > 0) std::this_thread::sleep_for(delay);
      call();
      lock.lock();
    }
  }

  // What a group does (core/node/group_redis.cc), minus replication and ownership: the
  // same executor over an in-memory engine, time from the request's clock.
  absl::StatusOr<redis_core::Reply> ExecuteNow(const redis_core::RedisRequest& request,
                                               bool write) {
    std::lock_guard<std::mutex> lock(state_mu_);
    kv::Timestamp commit_ts = 0;
    if (write) {
      last_ts_ = std::max(last_ts_ + 1, kv::MakeTimestamp(request.now_ms, 0));
      commit_ts = last_ts_;
    }
    const uint64_t now_ms = std::max(request.now_ms, kv::PhysicalMs(last_ts_));
    redis_core::Store store(&engine_, &mvcc_);
    redis_core::RequestOutcome outcome =
        redis_core::ExecuteRequest(request, &store, now_ms, commit_ts, &scripts);
    if (!outcome.status.ok()) return outcome.status;
    if (write) {
      kv::MvccBatch batch;
      if (absl::Status flushed = store.Flush(&batch, commit_ts); !flushed.ok()) return flushed;
      if (absl::Status applied = mvcc_.Apply(batch); !applied.ok()) return applied;
    }
    return outcome.reply;
  }

  static bool NamesSeveralKeys(const redis_core::RedisRequest& request) {
    if (request.transaction || request.script.has_value() || request.commands.size() != 1) {
      return false;
    }
    const redis_core::CommandInfo* info = redis_core::FindCommand(request.commands[0][0]);
    if (info == nullptr || redis_core::IsInternalCommand(info->name)) return false;
    const std::vector<std::string> keys = redis_core::CommandKeys(*info, request.commands[0]);
    return std::set<std::string>(keys.begin(), keys.end()).size() > 1;
  }

  absl::StatusOr<redis_core::Reply> ExecuteDetached(const redis_core::RedisRequest& request) {
    const redis_core::CommandInfo* info = redis_core::FindCommand(request.commands[0][0]);
    const std::vector<std::string> keys = redis_core::CommandKeys(*info, request.commands[0]);
    redis_core::RedisRequest read;
    read.now_ms = request.now_ms;
    read.transaction = true;
    redis_core::SnapshotMap snapshots;
    for (const std::string& key : std::set<std::string>(keys.begin(), keys.end())) {
      read.routing_key = key;
      read.commands = {{std::string(redis_core::kSnapshotCommand), key}};
      absl::StatusOr<redis_core::Reply> value = ExecuteNow(read, /*write=*/false);
      if (!value.ok()) return value.status();
      const redis_core::Reply& element = value->elements.at(0);
      snapshots[key] = element.kind == redis_core::Reply::Kind::kBulk
                           ? std::optional<std::string>(element.text)
                           : std::nullopt;
    }
    absl::StatusOr<redis_core::DetachedResult> result = redis_core::RunOverSnapshots(
        request.commands[0], snapshots, request.now_ms, request.seed, request.notify_flags);
    if (!result.ok()) return result.status();
    if (!result->writes.empty()) {
      redis_core::RedisRequest write;
      write.now_ms = request.now_ms;
      write.transaction = true;
      write.routing_key = result->writes.begin()->first;
      for (auto& [key, value] : result->writes) {
        std::vector<std::string> restore = {std::string(redis_core::kRestoreCommand), key};
        if (value.has_value()) restore.push_back(*value);
        write.commands.push_back(std::move(restore));
      }
      absl::StatusOr<redis_core::Reply> written = ExecuteNow(write, /*write=*/true);
      if (!written.ok()) return written.status();
    }
    return result->reply;
  }

  // Scripts (EVAL) run on the real Lua runner, every key allowed (one group).
  LuaScriptRunner script_runner_;
  redis_core::ScriptEnvironment scripts{&script_runner_, nullptr};

  std::mutex state_mu_;
  kv::MemoryEngine engine_;
  kv::MvccStore mvcc_{&engine_};
  kv::Timestamp last_ts_ = 0;  // guarded by state_mu_

  const bool async_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace ekv::redis
