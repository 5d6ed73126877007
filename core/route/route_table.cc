#include "core/route/route_table.h"

#include <iterator>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/util/assert.h"

namespace ekv::route {

RouteTable::RouteTable(RouteTableOptions options)
    : options_(options), change_log_(options.change_log_capacity) {}

const RouteDescriptor* RouteTable::Lookup(absl::string_view key) const {
  auto it = routes_by_start_.upper_bound(key);
  if (it == routes_by_start_.begin()) return nullptr;  // only when empty: "" is always a start
  return std::prev(it)->second.get();
}

const RouteDescriptor* RouteTable::LookupBefore(absl::string_view end) const {
  if (routes_by_start_.empty()) return nullptr;
  if (end.empty()) return routes_by_start_.rbegin()->second.get();
  // The last route starting strictly below `end` holds the keys just below it.
  auto it = routes_by_start_.lower_bound(end);
  if (it == routes_by_start_.begin()) return nullptr;
  return std::prev(it)->second.get();
}

const RouteDescriptor* RouteTable::FindRoute(RouteId route_id) const {
  auto id = start_by_id_.find(route_id);
  if (id == start_by_id_.end()) return nullptr;
  auto it = routes_by_start_.find(id->second);
  EKV_ASSERT(it != routes_by_start_.end(), "route table id index is stale for route ", route_id);
  return it->second.get();
}

std::vector<const RouteDescriptor*> RouteTable::RoutesOverlapping(absl::string_view start,
                                                                  absl::string_view end) const {
  std::vector<const RouteDescriptor*> out;
  if (routes_by_start_.empty() || RangeIsEmpty(start, end)) return out;
  auto it = std::prev(routes_by_start_.upper_bound(start));
  for (; it != routes_by_start_.end() && KeyBeforeEnd(it->first, end); ++it) {
    out.push_back(it->second.get());
  }
  return out;
}

std::vector<RouteDescriptor> RouteTable::Snapshot() const {
  std::vector<RouteDescriptor> out;
  out.reserve(routes_by_start_.size());
  for (const auto& [start, route] : routes_by_start_) out.push_back(*route);
  return out;
}

bool RouteTable::Apply(const RouteCatalog& catalog) {
  EKV_ASSERT(!delivering_, "RouteTable::Apply called from a watcher callback");
  if (catalog.version() <= version_) return false;
  routes_by_start_.clear();
  start_by_id_.clear();
  catalog.ForEachRoute([&](const RouteDescriptor& route) {
    start_by_id_.emplace(route.route_id, route.start);
    routes_by_start_.emplace(route.start, std::make_unique<RouteDescriptor>(route));
  });
  version_ = catalog.version();
  change_log_.Reset(version_);
  NotifyWatchers();
  return true;
}

absl::StatusOr<bool> RouteTable::Apply(const CatalogDelta& delta) {
  EKV_ASSERT(!delivering_, "RouteTable::Apply called from a watcher callback");
  if (delta.version <= version_) return false;
  if (version_ == 0 || delta.version != version_ + 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "route table is at version ", version_, " and cannot apply the delta to ", delta.version,
        "; expected the delta to ", version_ + 1, " or a full catalog"));
  }
  for (RouteId id : delta.removed_route_ids) {
    if (!start_by_id_.contains(id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("catalog delta to version ", delta.version, " removes route ", id,
                       " which the table at version ", version_, " does not hold"));
    }
  }
  for (RouteId id : delta.removed_route_ids) {
    auto it = start_by_id_.find(id);
    routes_by_start_.erase(it->second);
    start_by_id_.erase(it);
  }
  for (const RouteDescriptor& route : delta.upserted_routes) {
    auto old = start_by_id_.find(route.route_id);
    if (old != start_by_id_.end()) {
      routes_by_start_.erase(old->second);
      start_by_id_.erase(old);
    }
    start_by_id_.emplace(route.route_id, route.start);
    routes_by_start_.insert_or_assign(route.start, std::make_unique<RouteDescriptor>(route));
  }
  EKV_ASSERT(start_by_id_.size() == routes_by_start_.size(), "catalog delta to version ",
             delta.version, " left two routes at one start key");
  for (const RouteDescriptor& route : delta.upserted_routes) CheckNeighbourhood(route.start);
  version_ = delta.version;
  change_log_.Append(delta);
  NotifyWatchers();
  return true;
}

void RouteTable::CheckNeighbourhood(absl::string_view start) const {
  auto it = routes_by_start_.find(start);
  EKV_ASSERT(it != routes_by_start_.end(), "no route starts at ", FormatKey(start));
  if (it == routes_by_start_.begin()) {
    EKV_ASSERT(it->first.empty(), "route table does not start at \"\"");
  } else {
    EKV_ASSERT(std::prev(it)->second->end == it->first, "gap or overlap before route ",
               it->second->route_id, " at version ", version_ + 1);
  }
  auto next = std::next(it);
  EKV_ASSERT(
      next == routes_by_start_.end() ? it->second->end.empty() : next->first == it->second->end,
      "gap or overlap after route ", it->second->route_id, " at version ", version_ + 1);
}

absl::StatusOr<WatchId> RouteTable::Watch(CatalogVersion known_version, RouteWatcher* watcher) {
  EKV_ASSERT(watcher != nullptr, "Watch needs a watcher");
  EKV_ASSERT(!delivering_, "RouteTable::Watch called from a watcher callback");
  if (watches_.size() >= options_.max_watchers) {
    return absl::ResourceExhaustedError(absl::StrCat("route table already has ", watches_.size(),
                                                     " watchers; the limit is ",
                                                     options_.max_watchers));
  }
  const WatchId id = next_watch_id_++;
  WatchEntry& entry = watches_[id];
  entry.watcher = watcher;
  entry.known_version = known_version;
  delivering_ = true;
  CatchUp(&entry);
  delivering_ = false;
  return id;
}

void RouteTable::Unwatch(WatchId id) {
  EKV_ASSERT(!delivering_, "RouteTable::Unwatch called from a watcher callback");
  watches_.erase(id);
}

void RouteTable::NotifyWatchers() {
  delivering_ = true;
  for (auto& [id, entry] : watches_) CatchUp(&entry);
  delivering_ = false;
}

void RouteTable::CatchUp(WatchEntry* entry) {
  // A watcher ahead of the table (it heard of a newer catalog elsewhere) waits until the
  // table passes it; a watcher at the table's version has nothing to learn.
  if (entry->known_version >= version_) return;
  RouteUpdate update;
  update.from_version = entry->known_version;
  update.to_version = version_;
  std::optional<std::vector<CatalogDelta>> deltas = change_log_.DeltasSince(entry->known_version);
  if (deltas.has_value()) {
    update.kind = RouteUpdate::Kind::kDeltas;
    update.deltas = *std::move(deltas);
  } else {
    update.kind = RouteUpdate::Kind::kSnapshot;
    update.snapshot = Snapshot();
  }
  entry->known_version = version_;
  entry->watcher->OnRouteUpdate(update);
}

}  // namespace ekv::route
