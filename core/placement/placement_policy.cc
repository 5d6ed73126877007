#include "core/placement/placement_policy.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/util/assert.h"

namespace ekv::placement {

std::string FormatIntent(const PlacementIntent& intent) {
  if (const auto* split = std::get_if<SplitIntent>(&intent)) {
    return absl::StrCat("split route ", split->route_id, " at ", route::FormatKey(split->split_key),
                        " (catalog version ", split->expected_catalog_version,
                        "): ", split->reason);
  }
  if (const auto* merge = std::get_if<MergeIntent>(&intent)) {
    return absl::StrCat("merge route ", merge->left_route_id, " with route ", merge->right_route_id,
                        merge->left_group == merge->right_group
                            ? absl::StrCat(" on group ", merge->left_group)
                            : absl::StrCat(" after moving it from group ", merge->right_group,
                                           " to group ", merge->left_group),
                        " (catalog version ", merge->expected_catalog_version,
                        "): ", merge->reason);
  }
  const auto& move = std::get<MoveIntent>(intent);
  return absl::StrCat("move route ", move.route_id, " from group ", move.source_group, " to group ",
                      move.target_group, " (catalog version ", move.expected_catalog_version,
                      "): ", move.reason);
}

std::string BalancedSplitKey(const std::vector<std::pair<std::string, uint64_t>>& samples,
                             const std::string& start, const std::string& end, double min_share) {
  // Merge samples of the same key, in key order, keeping only keys of the route.
  std::map<std::string, uint64_t> weights;
  uint64_t total = 0;
  for (const auto& [key, weight] : samples) {
    if (key < start || !route::KeyBeforeEnd(key, end) || weight == 0) continue;
    weights[key] += weight;
    total += weight;
  }
  if (total == 0) return "";
  // Splitting at key k sends every key < k left. The best k leaves the lighter side
  // heaviest; the route's own start is no split.
  std::string best;
  uint64_t best_lighter = 0;
  uint64_t left = 0;
  for (const auto& [key, weight] : weights) {
    if (key > start) {
      const uint64_t lighter = std::min(left, total - left);
      if (lighter > best_lighter) {
        best_lighter = lighter;
        best = key;
      }
    }
    left += weight;
  }
  if (best.empty()) return "";
  if (static_cast<double>(best_lighter) < min_share * static_cast<double>(total)) return "";
  return best;
}

PlacementPolicy::PlacementPolicy(PlacementOptions options) : options_(std::move(options)) {
  EKV_ASSERT(options_.min_split_balance > 0 && options_.min_split_balance <= 0.5,
             "min_split_balance in (0, 0.5]");
  EKV_ASSERT(options_.balance_tolerance >= 0, "balance_tolerance >= 0");
  EKV_ASSERT(options_.max_intents_per_round >= 1, "max_intents_per_round >= 1");
}

double PlacementPolicy::qps(route::RouteId route_id) const {
  auto it = history_.find(route_id);
  return it == history_.end() ? 0 : it->second.qps;
}

bool PlacementPolicy::Cooling(uint64_t now_us, route::RouteId route_id) const {
  auto it = history_.find(route_id);
  return it != history_.end() && now_us < it->second.cooldown_until_us;
}

void PlacementPolicy::Emit(uint64_t now_us, route::RouteId route_id, PlacementIntent intent) {
  history_[route_id].cooldown_until_us = now_us + options_.cooldown_us;
  intents_.push_back(std::move(intent));
  ++emitted_this_round_;
}

std::vector<PlacementIntent> PlacementPolicy::TakeIntents() {
  std::vector<PlacementIntent> out = std::move(intents_);
  intents_.clear();
  return out;
}

void PlacementPolicy::Observe(uint64_t now_us, uint64_t catalog_version,
                              std::vector<route::GroupId> groups, std::vector<RangeReport> ranges) {
  emitted_this_round_ = 0;
  std::sort(ranges.begin(), ranges.end(),
            [](const RangeReport& a, const RangeReport& b) { return a.start < b.start; });
  std::sort(groups.begin(), groups.end());
  groups.erase(std::unique(groups.begin(), groups.end()), groups.end());

  // Rates, and how long each route has been hot. A route no longer reported (split,
  // merged) is forgotten; a counter that went backwards (another replica's, restarted)
  // starts a new baseline.
  std::map<route::RouteId, RouteHistory> next;
  for (const RangeReport& range : ranges) {
    RouteHistory history =
        history_.count(range.route_id) ? history_[range.route_id] : RouteHistory{};
    if (history.seen && range.requests >= history.last_requests && now_us > history.last_us) {
      history.qps = static_cast<double>(range.requests - history.last_requests) * 1e6 /
                    static_cast<double>(now_us - history.last_us);
      history.rate_known = true;
    } else {
      history.qps = 0;
      history.rate_known = false;
    }
    if (!history.seen) history.first_seen_us = now_us;
    history.seen = true;
    history.last_requests = range.requests;
    history.last_us = now_us;
    const bool hot =
        options_.split_qps > 0 && history.rate_known && history.qps >= options_.split_qps;
    if (!hot) {
      history.hot_since_us = 0;
    } else if (history.hot_since_us == 0) {
      history.hot_since_us = now_us;
    }
    next[range.route_id] = history;
  }
  history_ = std::move(next);

  auto budget_left = [&] { return emitted_this_round_ < options_.max_intents_per_round; };

  // 1. Size.
  for (const RangeReport& range : ranges) {
    if (!budget_left()) return;
    if (options_.split_size_bytes == 0 || !range.active || Cooling(now_us, range.route_id))
      continue;
    if (range.size_bytes <= options_.split_size_bytes) continue;
    const std::string& key = range.size_split_key;
    if (key.empty() || key <= range.start || !route::KeyBeforeEnd(key, range.end)) continue;
    Emit(now_us, range.route_id,
         SplitIntent{
             catalog_version, range.route_id, key,
             absl::StrCat("size ", range.size_bytes, " bytes > ", options_.split_size_bytes)});
  }

  // 2. Sustained load.
  for (const RangeReport& range : ranges) {
    if (!budget_left()) return;
    if (!range.active || Cooling(now_us, range.route_id)) continue;
    const RouteHistory& history = history_[range.route_id];
    if (history.hot_since_us == 0 || now_us - history.hot_since_us < options_.split_sustain_us) {
      continue;
    }
    const std::string key =
        BalancedSplitKey(range.key_samples, range.start, range.end, options_.min_split_balance);
    if (key.empty()) continue;  // one hot key, or too few samples: a split would not help
    Emit(now_us, range.route_id,
         SplitIntent{catalog_version, range.route_id, key,
                     absl::StrCat("load ", static_cast<uint64_t>(history.qps),
                                  " qps >= ", static_cast<uint64_t>(options_.split_qps), " for ",
                                  (now_us - history.hot_since_us) / 1000, " ms")});
  }

  // 3. Merge cold, small neighbours. Not in a round that split (the split's children are
  // new routes anyway, so they are not old enough to merge).
  if (options_.merge_qps > 0 && options_.merge_size_bytes > 0 && emitted_this_round_ == 0) {
    auto mergeable = [&](const RangeReport& range) {
      const RouteHistory& history = history_[range.route_id];
      return range.active && history.rate_known && !Cooling(now_us, range.route_id) &&
             now_us - history.first_seen_us >= options_.merge_cooldown_us;
    };
    for (size_t i = 0; i + 1 < ranges.size() && budget_left(); ++i) {
      const RangeReport& left = ranges[i];
      const RangeReport& right = ranges[i + 1];
      if (left.end != right.start || !mergeable(left) || !mergeable(right)) continue;
      if (left.group != right.group &&
          (!options_.merge_moves ||
           !std::binary_search(groups.begin(), groups.end(), left.group))) {
        continue;
      }
      const double qps = history_[left.route_id].qps + history_[right.route_id].qps;
      const uint64_t size = left.size_bytes + right.size_bytes;
      if (qps >= options_.merge_qps || size >= options_.merge_size_bytes) continue;
      history_[right.route_id].cooldown_until_us = now_us + options_.cooldown_us;
      Emit(now_us, left.route_id,
           MergeIntent{catalog_version, left.route_id, right.route_id, left.group, right.group,
                       absl::StrCat("cold and small: ", static_cast<uint64_t>(qps), " qps < ",
                                    static_cast<uint64_t>(options_.merge_qps), ", ", size,
                                    " bytes < ", options_.merge_size_bytes)});
      ++i;  // the right route is taken
    }
  }

  // 4. Balance the groups' load. Only with every rate known: a route without one (new
  // since the last report) would make its group look idler than it is.
  // Not in a round that split: the moves would be decided against the parent routes.
  if (!options_.balance || groups.size() < 2 || emitted_this_round_ > 0) return;
  std::map<route::GroupId, double> load;
  for (route::GroupId group : groups) load[group] = 0;
  for (const RangeReport& range : ranges) {
    const RouteHistory& history = history_[range.route_id];
    if (!history.rate_known) return;
    if (!range.active) return;                   // a move in progress: let it land first
    if (load.count(range.group) == 0) continue;  // a group that takes no ranges
    load[range.group] += history.qps;
  }
  double total = 0;
  route::GroupId busiest = groups.front(), idlest = groups.front();
  for (const auto& [group, qps] : load) {
    total += qps;
    if (qps > load[busiest]) busiest = group;
    if (qps < load[idlest]) idlest = group;
  }
  const double mean = total / static_cast<double>(groups.size());
  if (busiest == idlest || load[busiest] < options_.min_balance_qps ||
      load[busiest] <= mean * (1 + options_.balance_tolerance)) {
    imbalanced_since_us_ = 0;
    return;
  }
  if (imbalanced_since_us_ == 0) imbalanced_since_us_ = now_us;
  if (now_us - imbalanced_since_us_ < options_.balance_sustain_us) return;
  const double gap = load[busiest] - load[idlest];
  const RangeReport* best = nullptr;
  double best_after = std::numeric_limits<double>::infinity();
  for (const RangeReport& range : ranges) {
    if (range.group != busiest || Cooling(now_us, range.route_id)) continue;
    const double qps = history_[range.route_id].qps;
    // Moving it must lower the busier of the two groups, or it only moves the hot spot.
    if (qps <= 0 || qps >= gap) continue;
    const double after = std::abs(gap - 2 * qps);
    if (after < best_after) {  // ranges are in key order: the first best wins ties
      best_after = after;
      best = &range;
    }
  }
  if (best == nullptr) return;
  imbalanced_since_us_ = 0;  // the next move waits for a sustained imbalance again
  Emit(now_us, best->route_id,
       MoveIntent{catalog_version, best->route_id, busiest, idlest,
                  absl::StrCat("group ", busiest, " serves ", static_cast<uint64_t>(load[busiest]),
                               " qps, mean ", static_cast<uint64_t>(mean), ", group ", idlest, " ",
                               static_cast<uint64_t>(load[idlest]))});
}

}  // namespace ekv::placement
