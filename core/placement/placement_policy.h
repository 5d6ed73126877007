// PlacementPolicy: decides when a range splits and where ranges move, from what the
// driver reports of their size and traffic. Deterministic (no clocks: the driver passes
// the time; ordered containers; ties broken by route id), so the simulator can run the
// same decisions the server does.
//
// Inputs: Observe(now, catalog version, groups, one RangeReport per route). Outputs:
// TakeIntents(), each a SplitRange, MoveRange or MergeRange to run through the coordinator
// (StartSplitRange / StartMoveRange) with the catalog version it was decided against, so
// an intent decided on a stale picture is refused by the catalog and changes nothing.
//
// Rules, applied to ACTIVE routes only (never one a move has in hand), at most
// max_intents_per_round intents per Observe, in this order:
//   1. size split: a route above split_size_bytes splits at its size_split_key;
//   2. load split: a route above split_qps for split_sustain_us splits at the key that
//      halves its sampled load, unless one side would get less than min_split_balance of
//      it (a single hot key cannot be divided, and splitting beside it helps nothing);
//   3. merge: two adjacent routes, each known for at least merge_cooldown_us (so never a
//      route split or merged within it: its children are new routes), whose combined rate
//      is below merge_qps and combined size below merge_size_bytes, merge into one
//      (StartMergeRange); on different groups the right one moves into the left's group
//      first, in the same operation (only with merge_moves);
//   4. balance: when the busiest group's load exceeds the mean by balance_tolerance (and
//      min_balance_qps) in every report for balance_sustain_us, its route whose move best evens the
//      busiest and the idlest group moves to the idlest, if that lowers the busier of the two.
// A route an intent named is left alone for cooldown_us (its children are new routes
// and start without history: two reports are needed before a rate is known).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/route/route.h"

namespace ekv::placement {

struct PlacementOptions {
  uint64_t split_size_bytes = 64ull << 20;  // 0: no size-based split
  double split_qps = 2500;                  // 0: no load-based split (CockroachDB's default)
  uint64_t split_sustain_us = 10'000'000;   // how long a route stays hot before it splits
  double min_split_balance = 0.25;          // each side of a load split gets >= this share
  bool balance = true;
  double balance_tolerance = 0.25;  // a group above mean * (1 + this) sheds a route
  double min_balance_qps = 100;     // below this the busiest group is left alone
  // The imbalance must show in every report for this long before a route moves: a
  // moment's noise in the rates would otherwise send routes back and forth.
  uint64_t balance_sustain_us = 30'000'000;
  uint64_t cooldown_us = 30'000'000;
  // Merges (rule 3). Cold: the two routes' combined rate below merge_qps (0: no merges);
  // small: their combined size below merge_size_bytes (0: no merges; TiKV's PD merges
  // regions below 20 MiB). A route merges only once the policy has known it for
  // merge_cooldown_us (TiKV's PD waits split-merge-interval, 1 h, between a split and a
  // merge of the same region): split children and merged routes are new routes, so
  // this is the cooldown between a split and a merge, and it keeps merges from undoing a
  // split the load asked for a moment ago.
  double merge_qps = 250;
  uint64_t merge_size_bytes = 20ull << 20;
  uint64_t merge_cooldown_us = 3'600'000'000;
  bool merge_moves = true;  // neighbours on different groups: move one, then merge
  size_t max_intents_per_round = 1;
};

// One route as the driver sees it. Counters are cumulative (as node::RouteLoad's): the
// policy turns them into rates between two reports of the same route.
struct RangeReport {
  route::RouteId route_id = 0;
  std::string start;
  std::string end;  // empty: +inf
  route::GroupId group = 0;
  bool active = false;  // ACTIVE and no move in progress
  uint64_t size_bytes = 0;
  uint64_t requests = 0;  // reads + writes, cumulative
  // The key that divides the route's bytes in half (empty: unknown, no size split).
  std::string size_split_key;
  // Sampled keys with their share of the requests (any scale), for the load split.
  std::vector<std::pair<std::string, uint64_t>> key_samples;
};

struct SplitIntent {
  uint64_t expected_catalog_version = 0;
  route::RouteId route_id = 0;
  std::string split_key;
  std::string reason;
};
struct MoveIntent {
  uint64_t expected_catalog_version = 0;
  route::RouteId route_id = 0;
  route::GroupId source_group = 0;
  route::GroupId target_group = 0;
  std::string reason;
};
struct MergeIntent {
  uint64_t expected_catalog_version = 0;
  route::RouteId left_route_id = 0;
  route::RouteId right_route_id = 0;
  route::GroupId left_group = 0;
  route::GroupId right_group = 0;  // != left_group: the right route moves there first
  std::string reason;
};
using PlacementIntent = std::variant<SplitIntent, MoveIntent, MergeIntent>;
std::string FormatIntent(const PlacementIntent& intent);

// The key of `samples` (sorted or not) that splits their weight most evenly, strictly
// inside (start, end), or empty when no such key gives each side >= min_share of it.
std::string BalancedSplitKey(const std::vector<std::pair<std::string, uint64_t>>& samples,
                             const std::string& start, const std::string& end, double min_share);

class PlacementPolicy {
 public:
  explicit PlacementPolicy(PlacementOptions options);

  // One report of every route (in any order) and of the groups that may take ranges.
  // `now_us` never decreases.
  void Observe(uint64_t now_us, uint64_t catalog_version, std::vector<route::GroupId> groups,
               std::vector<RangeReport> ranges);
  std::vector<PlacementIntent> TakeIntents();

  // The request rate of a route as of the last Observe (0 until two reports).
  double qps(route::RouteId route_id) const;
  const PlacementOptions& options() const { return options_; }

 private:
  struct RouteHistory {
    uint64_t last_requests = 0;
    uint64_t last_us = 0;
    bool seen = false;
    double qps = 0;
    bool rate_known = false;
    uint64_t hot_since_us = 0;  // 0: not above split_qps
    uint64_t cooldown_until_us = 0;
    uint64_t first_seen_us = 0;  // the first report of this route since the policy started
  };

  void Emit(uint64_t now_us, route::RouteId route_id, PlacementIntent intent);
  bool Cooling(uint64_t now_us, route::RouteId route_id) const;

  PlacementOptions options_;
  std::map<route::RouteId, RouteHistory> history_;
  std::vector<PlacementIntent> intents_;
  size_t emitted_this_round_ = 0;
  uint64_t imbalanced_since_us_ = 0;  // 0: the last report was balanced
};

}  // namespace ekv::placement
