// An in-memory DynamoBackend for handler tests: one ordered map, every call atomic under
// one mutex and answered at once (a coroutine that never suspends, so RunInline drives it), and
// every write also recorded as a version at a logical clock so that snapshot reads and transaction
// commits (write-conflict check) behave as core's MVCC. `before_next_cas` lets a test slip a
// concurrent write in between a handler's read and its compare-and-set, which is the race the
// read-modify-write loop must survive.
#pragma once

#include <algorithm>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "adapters/dynamo/backend.h"

namespace ekv::dynamo::testing {

class FakeBackend : public DynamoBackend {
 public:
  Task<absl::StatusOr<std::optional<std::string>>> Get(const std::string& key) override {
    if (read_fault) {
      if (absl::Status s = read_fault(key); !s.ok()) co_return s;
    }
    std::lock_guard<std::mutex> lock(mu_);
    auto it = data_.find(key);
    if (it == data_.end()) co_return std::optional<std::string>();
    co_return std::optional<std::string>(it->second);
  }
  Task<absl::Status> Put(const std::string& key, const std::string& value) override {
    if (write_fault) {
      if (absl::Status s = write_fault(key); !s.ok()) co_return s;
    }
    std::lock_guard<std::mutex> lock(mu_);
    data_[key] = value;
    versions_[key][++clock_] = value;
    co_return absl::OkStatus();
  }
  Task<absl::Status> Delete(const std::string& key) override {
    if (write_fault) {
      if (absl::Status s = write_fault(key); !s.ok()) co_return s;
    }
    std::lock_guard<std::mutex> lock(mu_);
    data_.erase(key);
    versions_[key][++clock_] = std::nullopt;
    co_return absl::OkStatus();
  }
  Task<absl::StatusOr<CasResult>> CompareAndSet(
      const std::string& key, const std::optional<std::string>& expected,
      const std::optional<std::string>& new_value) override {
    if (before_next_cas) {
      auto hook = std::move(before_next_cas);
      before_next_cas = nullptr;
      hook();
    }
    if (write_fault) {  // a compare-and-set is a write the store can fail too
      if (absl::Status s = write_fault(key); !s.ok()) co_return s;
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++cas_calls;
    auto it = data_.find(key);
    std::optional<std::string> current;
    if (it != data_.end()) current = it->second;
    if (current != expected) co_return CasResult{false, current};
    if (new_value.has_value()) {
      data_[key] = *new_value;
    } else {
      data_.erase(key);
    }
    versions_[key][++clock_] = new_value;
    co_return CasResult{true, current};
  }
  Task<absl::StatusOr<KvPairs>> Scan(const std::string& start, const std::string& end,
                                     size_t limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    KvPairs out;
    for (auto it = data_.lower_bound(start); it != data_.end() && out.size() < limit; ++it) {
      if (!end.empty() && it->first >= end) break;
      out.emplace_back(it->first, it->second);
    }
    co_return out;
  }
  Task<absl::StatusOr<uint64_t>> NewTableId() override { co_return ++next_id_; }

  Task<absl::StatusOr<uint64_t>> ReadTimestamp(uint64_t at_least) override {
    std::lock_guard<std::mutex> lock(mu_);
    clock_ = std::max(clock_, at_least);
    co_return ++clock_;
  }
  Task<absl::StatusOr<std::optional<std::string>>> SnapshotGet(const std::string& key,
                                                               uint64_t ts) override {
    if (snapshot_read_fault) {
      if (absl::Status s = snapshot_read_fault(key, ts); !s.ok()) co_return s;
    }
    if (read_fault) {
      if (absl::Status s = read_fault(key); !s.ok()) co_return s;
    }
    std::lock_guard<std::mutex> lock(mu_);
    auto it = versions_.find(key);
    if (it == versions_.end()) co_return std::optional<std::string>();
    auto version = it->second.upper_bound(ts);
    if (version == it->second.begin()) co_return std::optional<std::string>();
    co_return std::prev(version)->second;
  }
  Task<absl::StatusOr<KvPairs>> SnapshotScan(const std::string& start, const std::string& end,
                                             size_t limit, uint64_t ts, bool reverse) override {
    if (snapshot_read_fault) {
      if (absl::Status s = snapshot_read_fault(start, ts); !s.ok()) co_return s;
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++snapshot_scans;
    if (reverse) ++reverse_scans;
    KvPairs in_range;
    for (auto it = versions_.lower_bound(start); it != versions_.end(); ++it) {
      if (!end.empty() && it->first >= end) break;
      auto version = it->second.upper_bound(ts);
      if (version == it->second.begin()) continue;
      const std::optional<std::string>& value = std::prev(version)->second;
      if (value.has_value()) in_range.emplace_back(it->first, *value);
    }
    if (reverse) std::reverse(in_range.begin(), in_range.end());
    if (in_range.size() > limit) in_range.resize(limit);
    co_return in_range;
  }
  Task<absl::StatusOr<CommitResult>> CommitTransaction(const std::vector<TxnWrite>& writes,
                                                       uint64_t start_ts) override {
    if (before_next_commit) {
      auto hook = std::move(before_next_commit);
      before_next_commit = nullptr;
      hook();
    }
    if (write_fault) {
      for (const auto& [key, value] : writes) {
        if (absl::Status s = write_fault(key); !s.ok()) co_return s;
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++commits;
    CommitResult result;
    for (const auto& [key, value] : writes) {
      auto it = versions_.find(key);
      if (it != versions_.end() && !it->second.empty() && it->second.rbegin()->first > start_ts) {
        result.conflict_keys.push_back(key);
      }
    }
    if (!result.conflict_keys.empty()) co_return result;
    const uint64_t commit_ts = ++clock_;
    for (const auto& [key, value] : writes) {
      if (value.has_value()) {
        data_[key] = *value;
      } else {
        data_.erase(key);
      }
      versions_[key][commit_ts] = value;
    }
    result.committed = true;
    co_return result;
  }

  // A catalog like the demo's (two groups split at "m"), split and moved as core would:
  // a stale expected version or a key not strictly inside is refused.
  Task<absl::StatusOr<Routes>> ReadRoutes() override {
    std::lock_guard<std::mutex> lock(mu_);
    co_return routes_;
  }
  Task<absl::Status> SplitRoute(uint64_t expected_version, uint64_t route_id,
                                const std::string& split_key) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (expected_version != routes_.version) {
      co_return absl::FailedPreconditionError("catalog version changed");
    }
    for (size_t i = 0; i < routes_.routes.size(); ++i) {
      Route& route = routes_.routes[i];
      if (route.route_id != route_id) continue;
      if (split_key <= route.start || (!route.end.empty() && split_key >= route.end)) {
        co_return absl::InvalidArgumentError("split key not strictly inside the route");
      }
      Route right = route;
      right.route_id = ++next_route_id_;
      right.start = split_key;
      route.end = split_key;
      route.route_id = ++next_route_id_;
      routes_.routes.insert(routes_.routes.begin() + static_cast<std::ptrdiff_t>(i) + 1, right);
      ++routes_.version;
      ++splits;
      co_return absl::OkStatus();
    }
    co_return absl::NotFoundError("no such route");
  }
  Task<absl::Status> MoveRoute(const std::string& key, uint64_t target_group) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (Route& route : routes_.routes) {
      if (route.start <= key && (route.end.empty() || key < route.end)) {
        route.group = target_group;
        ++routes_.version;
        ++moves;
        co_return absl::OkStatus();
      }
    }
    co_return absl::InternalError("routes do not cover the key");
  }
  // A catalog of one route on one group (a one-group cluster: nothing to spread over).
  void SetSingleGroupCatalog() {
    std::lock_guard<std::mutex> lock(mu_);
    routes_ = Routes{1, {{1, "", "", 1, true}}};
  }
  // The group the route holding `key` names.
  uint64_t GroupOf(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Route& route : routes_.routes) {
      if (route.start <= key && (route.end.empty() || key < route.end)) return route.group;
    }
    return 0;
  }

  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return data_.size();
  }
  int splits = 0;
  int moves = 0;
  int snapshot_scans = 0;
  int reverse_scans = 0;  // of snapshot_scans, those in descending order

  std::function<void()> before_next_cas;
  // Runs before the next transaction commit (a concurrent write between read and commit).
  std::function<void()> before_next_commit;
  int commits = 0;
  // Store failures (no leader, deadline) injected per key: a non-OK status fails the call.
  std::function<absl::Status(const std::string& key)> read_fault;
  // Snapshot reads only (SnapshotGet), with the snapshot's timestamp.
  std::function<absl::Status(const std::string& key, uint64_t ts)> snapshot_read_fault;
  std::function<absl::Status(const std::string& key)> write_fault;
  int cas_calls = 0;

 private:
  std::mutex mu_;
  std::map<std::string, std::string> data_;
  std::map<std::string, std::map<uint64_t, std::optional<std::string>>> versions_;
  uint64_t clock_ = 0;
  uint64_t next_id_ = 100;
  Routes routes_{1, {{1, "", "m", 1, true}, {2, "m", "", 2, true}}};
  uint64_t next_route_id_ = 2;
};

}  // namespace ekv::dynamo::testing
