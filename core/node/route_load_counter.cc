#include "core/node/route_load_counter.h"

#include <iterator>
#include <type_traits>
#include <utility>
#include <variant>

#include "core/route/route.h"

namespace ekv::node {

void RouteKeySampler::Add(absl::string_view key) {
  auto it = counts.find(key);
  if (it != counts.end()) {
    ++it->second;
  } else if (counts.size() < kMaxKeySamples) {
    counts.emplace(std::string(key), 1);
  } else {
    // Space saving: the new key takes the place (and the count) of the rarest one, the
    // lowest key among equals, so a key that keeps coming climbs into the top.
    auto rarest = counts.begin();
    for (auto c = counts.begin(); c != counts.end(); ++c) {
      if (c->second < rarest->second) rarest = c;
    }
    const uint64_t count = rarest->second + 1;
    counts.erase(rarest);
    counts.emplace(std::string(key), count);
  }
  if (++total < kDecayAt) return;
  total = 0;
  for (auto c = counts.begin(); c != counts.end();) {
    c->second /= 2;
    total += c->second;
    c = c->second == 0 ? counts.erase(c) : std::next(c);
  }
}

void RouteLoadCounter::Refresh(const route::GroupOwnership* ownership) {
  const route::CatalogVersion version = ownership == nullptr ? 0 : ownership->version();
  if (initialized_ && version == version_) return;
  absl::btree_map<std::string, Entry> next;
  if (ownership == nullptr) {
    next[""] = Entry{};
  } else {
    for (const route::OwnedRoute& owned : ownership->OwnedRoutes()) {
      Entry entry;
      entry.load.route_id = owned.route.route_id;
      entry.load.start = owned.route.start;
      entry.load.end = owned.route.end;
      next[entry.load.start] = std::move(entry);
    }
  }
  // A route that is still there (same id) keeps its counters and samples; a split's
  // halves start at zero (they are new routes: the reader sees new rows).
  for (auto& [start, entry] : next) {
    auto old = by_start_.find(start);
    if (old != by_start_.end() && old->second.load.route_id == entry.load.route_id) {
      entry = std::move(old->second);
    }
  }
  by_start_ = std::move(next);
  version_ = version;
  initialized_ = true;
}

RouteLoadCounter::Entry* RouteLoadCounter::Find(const route::GroupOwnership* ownership,
                                                absl::string_view key) {
  Refresh(ownership);
  auto it = by_start_.upper_bound(key);
  if (it == by_start_.begin()) return nullptr;
  --it;
  if (!route::KeyBeforeEnd(key, it->second.load.end)) return nullptr;
  it->second.samples.Add(key);
  return &it->second;
}

void RouteLoadCounter::AddWrite(const route::GroupOwnership* ownership, absl::string_view key,
                                size_t value_bytes) {
  Entry* entry = Find(ownership, key);
  if (entry == nullptr) return;
  entry->load.writes += 1;
  entry->load.write_bytes += key.size() + value_bytes;
}

void RouteLoadCounter::RecordCommand(const route::GroupOwnership* ownership,
                                     const kv::KvCommand& command) {
  std::visit(
      [&](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, kv::RawWriteCommand> ||
                      std::is_same_v<T, kv::PrewriteCommand> ||
                      std::is_same_v<T, kv::OnePhaseCommitCommand>) {
          for (const kv::Mutation& m : c.mutations) AddWrite(ownership, m.key, m.value.size());
        } else if constexpr (std::is_same_v<T, kv::ConditionalWriteCommand>) {
          AddWrite(ownership, c.mutation.key, c.mutation.value.size());
        } else if constexpr (std::is_same_v<T, kv::CompareAndSetCommand>) {
          AddWrite(ownership, c.key, c.new_value.has_value() ? c.new_value->size() : 0);
        } else if constexpr (std::is_same_v<T, kv::AppendCommand>) {
          AddWrite(ownership, c.key, c.suffix.size());
        } else if constexpr (std::is_same_v<T, kv::PutWithTtlCommand>) {
          AddWrite(ownership, c.key, c.value.size());
        } else if constexpr (std::is_same_v<T, kv::IncrementCommand>) {
          AddWrite(ownership, c.key, sizeof(c.delta));
        }
      },
      command);
}

void RouteLoadCounter::RecordRead(const route::GroupOwnership* ownership, absl::string_view key,
                                  const GroupResult& result) {
  if (result.pairs.empty()) {
    Entry* entry = Find(ownership, key);
    if (entry == nullptr) return;
    entry->load.reads += 1;
    entry->load.read_bytes += key.size() + (result.value.has_value() ? result.value->size() : 0);
    return;
  }
  for (const auto& [pair_key, value] : result.pairs) {
    Entry* entry = Find(ownership, pair_key);
    if (entry == nullptr) continue;
    entry->load.reads += 1;
    entry->load.read_bytes += pair_key.size() + value.size();
  }
}

std::vector<RouteLoad> RouteLoadCounter::Loads(const route::GroupOwnership* ownership) {
  Refresh(ownership);
  std::vector<RouteLoad> loads;
  loads.reserve(by_start_.size());
  for (const auto& [start, entry] : by_start_) loads.push_back(entry.load);
  return loads;
}

std::vector<RouteLoadReport> RouteLoadCounter::Reports(const route::GroupOwnership* ownership) {
  Refresh(ownership);
  std::vector<RouteLoadReport> reports;
  reports.reserve(by_start_.size());
  for (const auto& [start, entry] : by_start_) {
    RouteLoadReport report;
    report.load = entry.load;
    report.key_samples.assign(entry.samples.counts.begin(), entry.samples.counts.end());
    reports.push_back(std::move(report));
  }
  return reports;
}

}  // namespace ekv::node
