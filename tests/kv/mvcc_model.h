// A brute-force MVCC model for property tests: every version in a std::map, reads by
// linear search. Obviously correct, so the real store is checked against it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/kv/mvcc.h"

namespace ekv::kv::testing {

class MvccModel {
 public:
  // nullopt value = tombstone.
  void Write(const std::string& key, std::optional<std::string> value, Timestamp ts) {
    versions_[key][ts] = std::move(value);
  }

  std::optional<std::string> Get(const std::string& key, Timestamp read_ts) const {
    auto key_it = versions_.find(key);
    if (key_it == versions_.end()) return std::nullopt;
    auto it = key_it->second.upper_bound(read_ts);  // first version > read_ts
    if (it == key_it->second.begin()) return std::nullopt;
    return std::prev(it)->second;
  }

  std::vector<KvPair> Scan(const std::string& start, const std::string& end, size_t limit,
                           Timestamp read_ts, ScanDirection direction) const {
    std::vector<KvPair> all;
    for (const auto& [key, versions] : versions_) {
      if (key < start || (!end.empty() && key >= end)) continue;
      auto it = versions.upper_bound(read_ts);
      if (it == versions.begin()) continue;
      --it;
      if (it->second.has_value()) all.push_back(KvPair{key, *it->second, it->first});
    }
    if (direction == ScanDirection::kReverse) std::reverse(all.begin(), all.end());
    if (all.size() > limit) all.resize(limit);
    return all;
  }

  const std::map<std::string, std::map<Timestamp, std::optional<std::string>>>& versions() const {
    return versions_;
  }

 private:
  std::map<std::string, std::map<Timestamp, std::optional<std::string>>> versions_;
};

}  // namespace ekv::kv::testing
