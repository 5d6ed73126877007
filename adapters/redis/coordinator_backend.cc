#include "adapters/redis/coordinator_backend.h"

#include <memory>
#include <mutex>
#include <set>
#include <utility>

#include "runtime/server/coordinator.h"

namespace ekv::redis {
namespace {

absl::Status EmptyKeyError() {
  return absl::InvalidArgumentError("empty keys are not supported by ekv");
}

// Joins the answers of several async calls into one callback: each call fills its slot,
// the last one to finish answers (with the first error, if any).
template <typename T, typename Done>
struct FanIn {
  FanIn(size_t count, Done done) : results(count), remaining(count), done(std::move(done)) {}
  void Finish(size_t slot, absl::StatusOr<T> result) {
    bool last = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!result.ok()) {
        if (error.ok()) error = result.status();
      } else {
        results[slot] = std::move(*result);
      }
      last = --remaining == 0;
    }
    if (!last) return;
    if (!error.ok()) return done(error);
    done(std::move(results));
  }
  std::mutex mu;
  std::vector<T> results;  // guarded by mu
  size_t remaining;        // guarded by mu
  absl::Status error;      // guarded by mu
  Done done;
};

}  // namespace

void CoordinatorBackend::Get(std::string key, ValueDone done) {
  if (key.empty()) return done(std::optional<std::string>());
  coordinator_->RawGetAsync(std::move(key),
                            [done = std::move(done)](absl::StatusOr<runtime::ReadOutcome> read) {
                              if (!read.ok()) return done(read.status());
                              done(std::move(read->value));
                            });
}

void CoordinatorBackend::Put(std::string key, std::string value, WriteDone done) {
  if (key.empty()) return done(EmptyKeyError());
  coordinator_->RawPutAsync(std::move(key), std::move(value),
                            [done = std::move(done)](absl::StatusOr<runtime::WriteOutcome> write) {
                              done(write.status());
                            });
}

void CoordinatorBackend::GetMany(std::vector<std::string> keys, ValuesDone done) {
  if (keys.empty()) return done(std::vector<std::optional<std::string>>());
  using Join = FanIn<std::optional<std::string>, ValuesDone>;
  auto join = std::make_shared<Join>(keys.size(), std::move(done));
  for (size_t i = 0; i < keys.size(); ++i) {
    Get(std::move(keys[i]), [join, i](absl::StatusOr<std::optional<std::string>> value) {
      join->Finish(i, std::move(value));
    });
  }
}

void CoordinatorBackend::PutMany(std::vector<std::pair<std::string, std::string>> pairs,
                                 WriteDone done) {
  if (pairs.empty()) return done(absl::OkStatus());
  for (const auto& [key, value] : pairs) {
    if (key.empty()) return done(EmptyKeyError());  // before anything is written
  }
  // The keys are distinct (MSET keeps the last value of a repeated key), so the writes
  // may run concurrently: their order cannot change the outcome.
  using Join = FanIn<bool, std::function<void(absl::StatusOr<std::vector<bool>>)>>;
  auto join = std::make_shared<Join>(
      pairs.size(), [done = std::move(done)](absl::StatusOr<std::vector<bool>> written) {
        done(written.status());
      });
  for (size_t i = 0; i < pairs.size(); ++i) {
    Put(std::move(pairs[i].first), std::move(pairs[i].second), [join, i](absl::Status status) {
      join->Finish(i, status.ok() ? absl::StatusOr<bool>(true) : absl::StatusOr<bool>(status));
    });
  }
}

void CoordinatorBackend::DeleteExisting(std::vector<std::string> keys, CountDone done) {
  runtime::Coordinator* coordinator = coordinator_;
  auto task = [coordinator, keys = std::move(keys), done]() {
    // RawDelete does not say whether the key existed, so each key is read first and only
    // an existing key is deleted. An absent key is a definite 0 with no write at all.
    std::set<std::string> seen;
    int64_t deleted = 0;
    for (const std::string& key : keys) {
      if (key.empty() || !seen.insert(key).second) continue;
      absl::StatusOr<runtime::ReadOutcome> read = coordinator->RawGet(key, 0);
      if (!read.ok()) return done(read.status());
      if (!read->value.has_value()) continue;
      absl::StatusOr<runtime::WriteOutcome> write = coordinator->RawDelete(key);
      if (!write.ok()) return done(write.status());
      ++deleted;
    }
    done(deleted);
  };
  if (!coordinator_->RunInBackground(task)) {
    done(absl::UnavailableError("node overloaded: background pool full"));
  }
}

}  // namespace ekv::redis
