// FakeBackend: an in-memory RedisBackend for tests. Answers synchronously by default, or
// on its own thread after `delay` (async_mode), like the coordinator's callbacks do;
// `fail_with` makes every call fail with that status.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "adapters/redis/backend.h"

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

  void Get(std::string key, ValueDone done) override {
    Run([this, key, done] {
      if (!fail_with.ok()) return done(fail_with);
      auto it = data.find(key);
      done(it == data.end() ? std::nullopt : std::optional<std::string>(it->second));
    });
  }
  void Put(std::string key, std::string value, WriteDone done) override {
    Run([this, key, value, done] {
      if (!fail_with.ok()) return done(fail_with);
      data[key] = value;
      done(absl::OkStatus());
    });
  }
  void GetMany(std::vector<std::string> keys, ValuesDone done) override {
    Run([this, keys, done] {
      if (!fail_with.ok()) return done(fail_with);
      std::vector<std::optional<std::string>> values;
      for (const std::string& key : keys) {
        auto it = data.find(key);
        values.push_back(it == data.end() ? std::nullopt : std::optional<std::string>(it->second));
      }
      done(std::move(values));
    });
  }
  void PutMany(std::vector<std::pair<std::string, std::string>> pairs, WriteDone done) override {
    Run([this, pairs, done] {
      if (!fail_with.ok()) return done(fail_with);
      for (const auto& [key, value] : pairs) data[key] = value;
      done(absl::OkStatus());
    });
  }
  void DeleteExisting(std::vector<std::string> keys, CountDone done) override {
    Run([this, keys, done] {
      if (!fail_with.ok()) return done(fail_with);
      int64_t count = 0;
      for (const std::string& key : keys) count += data.erase(key);
      done(count);
    });
  }

  // Only touched by the answering thread once calls are in flight.
  std::map<std::string, std::string> data;
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

  const bool async_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace ekv::redis
