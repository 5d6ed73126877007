// A route: one contiguous key range [start, end) and the Raft group that serves it.
//
// Routes are the unit the catalog splits, fences and moves. Keys are raw bytes compared
// with memcmp order (std::string's operator<); an empty `end` means +infinity, which is
// also how the public RouteDescriptor (REFERENCE §2) spells it, so the shape users see
// through ListRoutes/SplitRange is exactly this struct.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/kv/codec.h"

namespace ekv::route {

using RouteId = uint64_t;
using GroupId = uint64_t;
using CatalogVersion = uint64_t;

// Wire numbers are the public enum's (REFERENCE §2 `RouteState`); never renumber.
enum class RouteState : uint8_t {
  kUnspecified = 0,
  kActive = 1,
  kWriteFenced = 2,
  kMigratingSource = 3,
  kMigratingTarget = 4,
};
inline constexpr uint8_t kMaxRouteStateNumber = 4;

// "ROUTE_STATE_ACTIVE" etc., the public enum value names.
absl::string_view RouteStateName(RouteState state);

struct RouteDescriptor {
  RouteId route_id = 0;
  std::string start;  // inclusive
  std::string end;    // exclusive; empty = +infinity
  GroupId raft_group_id = 0;
  RouteState state = RouteState::kUnspecified;
  RouteId parent_route_id = 0;  // 0 = none (an initial route)
  // During a cross-group move: the group the range is being copied to (0 = no move).
  // Set by StartMove (the route is then MIGRATING_SOURCE or WRITE_FENCED on its current
  // group), cleared by the cut-over (ReassignRoute to this group) or an abort (back to
  // ACTIVE). The target group accepts ingested records for the range only while it is
  // named here (ownership.h "Incoming routes").
  GroupId move_target_group_id = 0;

  bool end_is_infinite() const { return end.empty(); }
  bool Contains(absl::string_view key) const;

  friend bool operator==(const RouteDescriptor&, const RouteDescriptor&) = default;
};

// True iff `key` < `end`, reading an empty `end` as +infinity.
bool KeyBeforeEnd(absl::string_view key, absl::string_view end);
// True iff [start, end) holds no key (both ends as in RouteDescriptor).
bool RangeIsEmpty(absl::string_view start, absl::string_view end);

// Human-readable forms for logs, errors and golden tests: keys are C-escaped and quoted,
// an empty end prints as +inf. Example: route 3 ["", "g") group 1 ACTIVE parent 1
// (a route being moved ends with " moving to 2").
std::string FormatKey(absl::string_view key);
std::string FormatEnd(absl::string_view end);
std::string FormatRange(absl::string_view start, absl::string_view end);
std::string FormatRoute(const RouteDescriptor& route);

// Binary form used inside the catalog encoding and catalog deltas:
//   varint route_id, lp start, lp end, varint group, byte state, varint parent
//   [with_move_target: varint move_target_group_id].
// The trailing field exists only in the catalog's format 2 (catalog.h), written only
// while some route is being moved, so catalogs without moves keep their format-1 bytes.
// Encoding a route that has a move target without `with_move_target` asserts.
void EncodeRoute(std::string* dst, const RouteDescriptor& route, bool with_move_target = false);
absl::StatusOr<RouteDescriptor> DecodeRoute(kv::ByteReader* reader, bool with_move_target = false);

}  // namespace ekv::route
