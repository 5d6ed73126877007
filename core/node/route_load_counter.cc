#include "core/node/route_load_counter.h"

#include <type_traits>
#include <utility>
#include <variant>

#include "core/route/route.h"

namespace ekv::node {

void RouteLoadCounter::Refresh(const route::GroupOwnership* ownership) {
  const route::CatalogVersion version = ownership == nullptr ? 0 : ownership->version();
  if (initialized_ && version == version_) return;
  absl::btree_map<std::string, RouteLoad> next;
  if (ownership == nullptr) {
    next[""] = RouteLoad{};
  } else {
    for (const route::OwnedRoute& owned : ownership->OwnedRoutes()) {
      RouteLoad load;
      load.route_id = owned.route.route_id;
      load.start = owned.route.start;
      load.end = owned.route.end;
      next[load.start] = load;
    }
  }
  // A route that is still there (same id) keeps its counters; a split's halves start at
  // zero (they are new routes: the reader sees new rows).
  for (auto& [start, load] : next) {
    auto old = by_start_.find(start);
    if (old != by_start_.end() && old->second.route_id == load.route_id) {
      load.reads = old->second.reads;
      load.writes = old->second.writes;
      load.read_bytes = old->second.read_bytes;
      load.write_bytes = old->second.write_bytes;
    }
  }
  by_start_ = std::move(next);
  version_ = version;
  initialized_ = true;
}

RouteLoad* RouteLoadCounter::Find(const route::GroupOwnership* ownership, absl::string_view key) {
  Refresh(ownership);
  auto it = by_start_.upper_bound(key);
  if (it == by_start_.begin()) return nullptr;
  --it;
  if (!route::KeyBeforeEnd(key, it->second.end)) return nullptr;
  return &it->second;
}

void RouteLoadCounter::AddWrite(const route::GroupOwnership* ownership, absl::string_view key,
                                size_t value_bytes) {
  RouteLoad* load = Find(ownership, key);
  if (load == nullptr) return;
  load->writes += 1;
  load->write_bytes += key.size() + value_bytes;
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
    RouteLoad* load = Find(ownership, key);
    if (load == nullptr) return;
    load->reads += 1;
    load->read_bytes += key.size() + (result.value.has_value() ? result.value->size() : 0);
    return;
  }
  for (const auto& [pair_key, value] : result.pairs) {
    RouteLoad* load = Find(ownership, pair_key);
    if (load == nullptr) continue;
    load->reads += 1;
    load->read_bytes += pair_key.size() + value.size();
  }
}

std::vector<RouteLoad> RouteLoadCounter::Loads(const route::GroupOwnership* ownership) {
  Refresh(ownership);
  std::vector<RouteLoad> loads;
  loads.reserve(by_start_.size());
  for (const auto& [start, load] : by_start_) loads.push_back(load);
  return loads;
}

}  // namespace ekv::node
