#include "core/route/route.h"

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/kv/status_macros.h"
#include "core/util/assert.h"

namespace ekv::route {

absl::string_view RouteStateName(RouteState state) {
  switch (state) {
    case RouteState::kUnspecified:
      return "ROUTE_STATE_UNSPECIFIED";
    case RouteState::kActive:
      return "ROUTE_STATE_ACTIVE";
    case RouteState::kWriteFenced:
      return "ROUTE_STATE_WRITE_FENCED";
    case RouteState::kMigratingSource:
      return "ROUTE_STATE_MIGRATING_SOURCE";
    case RouteState::kMigratingTarget:
      return "ROUTE_STATE_MIGRATING_TARGET";
  }
  return "ROUTE_STATE_INVALID";
}

bool KeyBeforeEnd(absl::string_view key, absl::string_view end) { return end.empty() || key < end; }

bool RangeIsEmpty(absl::string_view start, absl::string_view end) {
  return !KeyBeforeEnd(start, end);
}

bool RouteDescriptor::Contains(absl::string_view key) const {
  return absl::string_view(start) <= key && KeyBeforeEnd(key, end);
}

std::string FormatKey(absl::string_view key) {
  return absl::StrCat("\"", absl::CHexEscape(key), "\"");
}

std::string FormatEnd(absl::string_view end) { return end.empty() ? "+inf" : FormatKey(end); }

std::string FormatRange(absl::string_view start, absl::string_view end) {
  return absl::StrCat("[", FormatKey(start), ", ", FormatEnd(end), ")");
}

std::string FormatRoute(const RouteDescriptor& route) {
  absl::string_view state_name = RouteStateName(route.state);
  state_name.remove_prefix(absl::string_view("ROUTE_STATE_").size());
  return absl::StrCat("route ", route.route_id, " ", FormatRange(route.start, route.end), " group ",
                      route.raft_group_id, " ", state_name, " parent ", route.parent_route_id,
                      route.move_target_group_id == 0
                          ? ""
                          : absl::StrCat(" moving to ", route.move_target_group_id));
}

void EncodeRoute(std::string* dst, const RouteDescriptor& route, bool with_move_target) {
  EKV_ASSERT(with_move_target || route.move_target_group_id == 0, "route ", route.route_id,
             " is moving to group ", route.move_target_group_id,
             " but is being encoded in a format without move targets");
  kv::AppendVarint64(dst, route.route_id);
  kv::AppendLengthPrefixed(dst, route.start);
  kv::AppendLengthPrefixed(dst, route.end);
  kv::AppendVarint64(dst, route.raft_group_id);
  kv::AppendByte(dst, static_cast<uint8_t>(route.state));
  kv::AppendVarint64(dst, route.parent_route_id);
  if (with_move_target) kv::AppendVarint64(dst, route.move_target_group_id);
}

absl::StatusOr<RouteDescriptor> DecodeRoute(kv::ByteReader* reader, bool with_move_target) {
  RouteDescriptor route;
  EKV_KV_ASSIGN_OR_RETURN(route.route_id, reader->ReadVarint64());
  EKV_KV_ASSIGN_OR_RETURN(absl::string_view start, reader->ReadLengthPrefixed());
  EKV_KV_ASSIGN_OR_RETURN(absl::string_view end, reader->ReadLengthPrefixed());
  route.start = std::string(start);
  route.end = std::string(end);
  EKV_KV_ASSIGN_OR_RETURN(route.raft_group_id, reader->ReadVarint64());
  EKV_KV_ASSIGN_OR_RETURN(uint8_t state, reader->ReadByte());
  if (state > kMaxRouteStateNumber) {
    return absl::DataLossError(absl::StrCat("route ", route.route_id, ": state number ", state,
                                            " is not a RouteState (expected 0..",
                                            kMaxRouteStateNumber, ")"));
  }
  route.state = static_cast<RouteState>(state);
  EKV_KV_ASSIGN_OR_RETURN(route.parent_route_id, reader->ReadVarint64());
  if (with_move_target) {
    EKV_KV_ASSIGN_OR_RETURN(route.move_target_group_id, reader->ReadVarint64());
  }
  return route;
}

}  // namespace ekv::route
