#include "core/route/ownership.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "core/kv/codec.h"
#include "core/kv/status_macros.h"
#include "core/util/assert.h"

namespace ekv::route {
namespace {

bool StateAllows(RouteState state, AccessKind access) {
  switch (state) {
    case RouteState::kActive:
    case RouteState::kMigratingSource:
      return true;
    case RouteState::kWriteFenced:
      return access == AccessKind::kRead;
    case RouteState::kMigratingTarget:
    case RouteState::kUnspecified:
      return false;
  }
  return false;
}

absl::string_view AccessName(AccessKind access) {
  return access == AccessKind::kRead ? "read" : "write";
}

}  // namespace

absl::Status MakeStaleRouteError(CatalogVersion current_version, GroupId group,
                                 absl::string_view reason) {
  return absl::AbortedError(
      absl::StrCat(kStaleRoutePrefix, current_version, " group=", group, ": ", reason));
}

std::optional<StaleRouteError> ParseStaleRouteMessage(absl::string_view message) {
  if (!absl::ConsumePrefix(&message, kStaleRoutePrefix)) return std::nullopt;
  StaleRouteError error;
  size_t space = message.find(' ');
  if (space == absl::string_view::npos ||
      !absl::SimpleAtoi(message.substr(0, space), &error.current_version)) {
    return std::nullopt;
  }
  message.remove_prefix(space + 1);
  if (!absl::ConsumePrefix(&message, "group=")) return std::nullopt;
  size_t colon = message.find(": ");
  if (colon == absl::string_view::npos ||
      !absl::SimpleAtoi(message.substr(0, colon), &error.group)) {
    return std::nullopt;
  }
  error.reason = std::string(message.substr(colon + 2));
  return error;
}

std::optional<StaleRouteError> ParseStaleRouteError(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kAborted) return std::nullopt;
  return ParseStaleRouteMessage(status.message());
}

GroupOwnership::GroupOwnership(GroupId group_id, PlantedRouteBugs bugs)
    : group_id_(group_id), bugs_(bugs) {
  EKV_ASSERT(group_id_ != 0, "GroupOwnership needs a group id >= 1");
}

bool GroupOwnership::Apply(const RouteCatalog& catalog) {
  if (catalog.version() <= version_) return false;
  std::vector<RouteDescriptor> mine;
  catalog.ForEachRoute([&](const RouteDescriptor& route) {
    if (Concerns(route)) mine.push_back(route);
  });
  Install(catalog.version(), std::move(mine), catalog.version() == version_ + 1);
  return true;
}

absl::StatusOr<bool> GroupOwnership::Apply(const CatalogDelta& delta) {
  if (delta.version <= version_) return false;
  if (version_ == 0 || delta.version != version_ + 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("group ", group_id_, " ownership is at catalog version ", version_,
                     " and cannot apply the delta to ", delta.version, "; expected the delta to ",
                     version_ + 1, " or a full catalog"));
  }
  absl::btree_map<RouteId, RouteDescriptor> by_id;
  for (const auto& [start, owned] : owned_) by_id.emplace(owned.route.route_id, owned.route);
  for (const auto& [start, in] : incoming_) by_id.emplace(in.route.route_id, in.route);
  for (RouteId id : delta.removed_route_ids) by_id.erase(id);
  for (const RouteDescriptor& route : delta.upserted_routes) {
    by_id.erase(route.route_id);
    if (Concerns(route)) by_id.emplace(route.route_id, route);
  }
  std::vector<RouteDescriptor> mine;
  mine.reserve(by_id.size());
  for (auto& [id, route] : by_id) mine.push_back(std::move(route));
  std::sort(mine.begin(), mine.end(),
            [](const RouteDescriptor& a, const RouteDescriptor& b) { return a.start < b.start; });
  Install(delta.version, std::move(mine), /*continuous=*/true);
  return true;
}

void GroupOwnership::Install(CatalogVersion version, std::vector<RouteDescriptor> routes,
                             bool continuous) {
  OwnedMap next;
  IncomingMap next_incoming;
  for (RouteDescriptor& route : routes) {
    if (route.raft_group_id != group_id_) {
      EKV_ASSERT(route.move_target_group_id == group_id_, "group ", group_id_,
                 " was handed a route that does not concern it: ", FormatRoute(route));
      // Continuously incoming iff the same route (id, range and state) was incoming
      // before. The fence starts a new period: chunks of copy passes made before it (a
      // late duplicate of one) are refused once the target has seen the fence, so only
      // the final pass, made under the fence, can write the range last.
      CatalogVersion incoming_since = version;
      auto old = incoming_.find(route.start);
      if (continuous && old != incoming_.end() && old->second.route.route_id == route.route_id &&
          old->second.route.end == route.end && old->second.route.state == route.state) {
        incoming_since = old->second.incoming_since;
      }
      std::string start = route.start;
      next_incoming.emplace(std::move(start), IncomingRoute{std::move(route), incoming_since});
      continue;
    }
    CatalogVersion owned_since = version;
    if (continuous) {
      // Inherit iff the old set covered the whole range without a gap: then this group
      // owned every key of it before and after this one change.
      auto it = owned_.upper_bound(route.start);
      if (it != owned_.begin()) {
        it = std::prev(it);
        std::string covered_to = route.start;
        CatalogVersion oldest = 0;
        bool covered = false;
        for (; it != owned_.end() && it->second.route.Contains(covered_to); ++it) {
          oldest = std::max(oldest, it->second.owned_since);
          if (it->second.route.end.empty() ||
              (!route.end.empty() && it->second.route.end >= route.end)) {
            covered = true;
            break;
          }
          covered_to = it->second.route.end;
        }
        if (covered) owned_since = oldest;
      }
    }
    std::string start = route.start;
    auto [pos, inserted] =
        next.emplace(std::move(start), OwnedRoute{std::move(route), owned_since});
    EKV_ASSERT(inserted, "group ", group_id_, " owns two routes starting at ",
               FormatKey(pos->first));
    if (pos != next.begin()) {
      EKV_ASSERT(!std::prev(pos)->second.route.end.empty() &&
                     std::prev(pos)->second.route.end <= pos->first,
                 "group ", group_id_, " owns overlapping routes at ", FormatKey(pos->first));
    }
  }
  owned_ = std::move(next);
  incoming_ = std::move(next_incoming);
  version_ = version;
}

absl::Status GroupOwnership::CheckRoute(const OwnedRoute& owned, absl::string_view what,
                                        CatalogVersion request_catalog_version,
                                        AccessKind access) const {
  if (request_catalog_version != 0 && request_catalog_version < owned.owned_since) {
    return MakeStaleRouteError(
        version_, group_id_,
        absl::StrCat(what, " was routed at catalog version ", request_catalog_version,
                     " but group ", group_id_, " has owned route ", owned.route.route_id, " ",
                     FormatRange(owned.route.start, owned.route.end), " only since version ",
                     owned.owned_since, "; refresh routes to version >= ", version_, " and retry"));
  }
  if (!StateAllows(owned.route.state, access)) {
    return MakeStaleRouteError(
        version_, group_id_,
        absl::StrCat(what, ": route ", owned.route.route_id, " is ",
                     RouteStateName(owned.route.state), " and does not serve ", AccessName(access),
                     "s; refresh routes to version >= ", version_, " and retry"));
  }
  return absl::OkStatus();
}

absl::Status GroupOwnership::CheckOwnership(absl::string_view key,
                                            CatalogVersion request_catalog_version,
                                            AccessKind access) const {
  auto it = owned_.upper_bound(key);
  if (it == owned_.begin() || !std::prev(it)->second.route.Contains(key)) {
    if (bugs_.serve_outside_range) return absl::OkStatus();  // planted bug
    return MakeStaleRouteError(
        version_, group_id_,
        absl::StrCat("key ", FormatKey(key), " is outside every range group ", group_id_,
                     " owns at catalog version ", version_, " (request routed at version ",
                     request_catalog_version, "); refresh routes to version >= ", version_,
                     " and retry"));
  }
  return CheckRoute(std::prev(it)->second, absl::StrCat("key ", FormatKey(key)),
                    request_catalog_version, access);
}

absl::Status GroupOwnership::CheckRangeOwnership(absl::string_view start, absl::string_view end,
                                                 CatalogVersion request_catalog_version,
                                                 AccessKind access) const {
  if (RangeIsEmpty(start, end)) return absl::OkStatus();
  const std::string what = absl::StrCat("range ", FormatRange(start, end));
  std::string next_key(start);
  auto it = owned_.upper_bound(next_key);
  if (it != owned_.begin()) it = std::prev(it);
  while (true) {
    if (it == owned_.end() || !it->second.route.Contains(next_key)) {
      if (bugs_.serve_outside_range) return absl::OkStatus();  // planted bug
      return MakeStaleRouteError(
          version_, group_id_,
          absl::StrCat(what, ": key ", FormatKey(next_key), " is outside every range group ",
                       group_id_, " owns at catalog version ", version_,
                       " (request routed at version ", request_catalog_version,
                       "); refresh routes to version >= ", version_, " and retry"));
    }
    absl::Status status = CheckRoute(it->second, what, request_catalog_version, access);
    if (!status.ok()) return status;
    const std::string& route_end = it->second.route.end;
    if (route_end.empty() || (!end.empty() && absl::string_view(route_end) >= end)) {
      return absl::OkStatus();
    }
    next_key = route_end;
    ++it;
  }
}

void GroupOwnership::Encode(std::string* dst) const {
  kv::AppendVarint64(dst, version_);
  kv::AppendVarint64(dst, owned_.size());
  uint64_t moving = 0;
  for (const auto& [start, owned] : owned_) {
    RouteDescriptor route = owned.route;
    if (route.move_target_group_id != 0) ++moving;
    route.move_target_group_id = 0;  // in the extension
    EncodeRoute(dst, route);
    kv::AppendVarint64(dst, owned.owned_since);
  }
  if (moving == 0 && incoming_.empty()) return;
  kv::AppendVarint64(dst, moving);
  for (const auto& [start, owned] : owned_) {
    if (owned.route.move_target_group_id == 0) continue;
    kv::AppendVarint64(dst, owned.route.route_id);
    kv::AppendVarint64(dst, owned.route.move_target_group_id);
  }
  kv::AppendVarint64(dst, incoming_.size());
  for (const auto& [start, in] : incoming_) {
    RouteDescriptor route = in.route;
    route.move_target_group_id = 0;  // implied: this group
    EncodeRoute(dst, route);
    kv::AppendVarint64(dst, in.incoming_since);
  }
}

absl::StatusOr<GroupOwnership> GroupOwnership::Decode(GroupId group_id, PlantedRouteBugs bugs,
                                                      absl::string_view bytes) {
  GroupOwnership ownership(group_id, bugs);
  kv::ByteReader reader(bytes);
  EKV_KV_ASSIGN_OR_RETURN(ownership.version_, reader.ReadVarint64());
  EKV_KV_ASSIGN_OR_RETURN(uint64_t count, reader.ReadVarint64());
  if (count > reader.remaining()) {
    return absl::DataLossError(absl::StrCat("group ownership claims ", count, " routes but only ",
                                            reader.remaining(), " bytes remain"));
  }
  for (uint64_t i = 0; i < count; ++i) {
    EKV_KV_ASSIGN_OR_RETURN(RouteDescriptor route, DecodeRoute(&reader));
    EKV_KV_ASSIGN_OR_RETURN(CatalogVersion owned_since, reader.ReadVarint64());
    if (route.raft_group_id != group_id || owned_since > ownership.version_) {
      return absl::DataLossError(absl::StrCat("group ", group_id, " ownership lists ",
                                              FormatRoute(route), " owned since ", owned_since,
                                              " at version ", ownership.version_));
    }
    if (!ownership.owned_.empty()) {
      const RouteDescriptor& prev = ownership.owned_.rbegin()->second.route;
      if (prev.end.empty() || route.start < prev.end) {
        return absl::DataLossError(
            absl::StrCat("group ", group_id, " ownership lists overlapping or unsorted routes at ",
                         FormatKey(route.start)));
      }
    }
    std::string start = route.start;
    ownership.owned_.emplace(std::move(start), OwnedRoute{std::move(route), owned_since});
  }
  if (reader.remaining() == 0) return ownership;  // no moves extension
  EKV_KV_ASSIGN_OR_RETURN(uint64_t moving, reader.ReadVarint64());
  if (moving > reader.remaining()) {
    return absl::DataLossError(absl::StrCat("group ownership claims ", moving,
                                            " moving routes but only ", reader.remaining(),
                                            " bytes remain"));
  }
  for (uint64_t i = 0; i < moving; ++i) {
    EKV_KV_ASSIGN_OR_RETURN(RouteId id, reader.ReadVarint64());
    EKV_KV_ASSIGN_OR_RETURN(GroupId target, reader.ReadVarint64());
    auto it = std::find_if(ownership.owned_.begin(), ownership.owned_.end(),
                           [&](const auto& entry) { return entry.second.route.route_id == id; });
    if (it == ownership.owned_.end() || target == 0 || target == group_id ||
        it->second.route.move_target_group_id != 0) {
      return absl::DataLossError(absl::StrCat("group ", group_id, " ownership gives route ", id,
                                              " move target ", target,
                                              "; expected one target per owned route"));
    }
    it->second.route.move_target_group_id = target;
  }
  EKV_KV_ASSIGN_OR_RETURN(uint64_t incoming, reader.ReadVarint64());
  if (incoming > reader.remaining()) {
    return absl::DataLossError(absl::StrCat("group ownership claims ", incoming,
                                            " incoming routes but only ", reader.remaining(),
                                            " bytes remain"));
  }
  for (uint64_t i = 0; i < incoming; ++i) {
    EKV_KV_ASSIGN_OR_RETURN(RouteDescriptor route, DecodeRoute(&reader));
    EKV_KV_ASSIGN_OR_RETURN(CatalogVersion incoming_since, reader.ReadVarint64());
    if (route.raft_group_id == group_id || incoming_since > ownership.version_) {
      return absl::DataLossError(absl::StrCat("group ", group_id, " ownership lists incoming ",
                                              FormatRoute(route), " since ", incoming_since,
                                              " at version ", ownership.version_));
    }
    route.move_target_group_id = group_id;
    std::string start = route.start;
    if (!ownership.incoming_
             .emplace(std::move(start), IncomingRoute{std::move(route), incoming_since})
             .second) {
      return absl::DataLossError(
          absl::StrCat("group ", group_id, " ownership lists two incoming routes at one start"));
    }
  }
  EKV_KV_RETURN_IF_ERROR(reader.ExpectEnd("group ownership"));
  return ownership;
}

std::vector<IncomingRoute> GroupOwnership::IncomingRoutes() const {
  std::vector<IncomingRoute> out;
  out.reserve(incoming_.size());
  for (const auto& [start, in] : incoming_) out.push_back(in);
  return out;
}

namespace {

// True iff [a_start, a_end) and [b_start, b_end) share a key (ends empty = +inf).
bool RangesOverlap(absl::string_view a_start, absl::string_view a_end, absl::string_view b_start,
                   absl::string_view b_end) {
  return KeyBeforeEnd(a_start, b_end) && KeyBeforeEnd(b_start, a_end);
}

// True iff `outer` covers [start, end).
bool Covers(const RouteDescriptor& outer, absl::string_view start, absl::string_view end) {
  return absl::string_view(outer.start) <= start &&
         (outer.end.empty() || (!end.empty() && end <= absl::string_view(outer.end)));
}

}  // namespace

absl::Status GroupOwnership::CheckIngest(RouteId route_id, absl::string_view start,
                                         absl::string_view end,
                                         CatalogVersion move_catalog_version) const {
  const std::string what = absl::StrCat("ingest of route ", route_id, " ", FormatRange(start, end),
                                        " (move at version ", move_catalog_version, ")");
  if (RangeIsEmpty(start, end)) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": the range is empty"));
  }
  if (move_catalog_version > version_) {
    return MakeStaleRouteError(version_, group_id_,
                               absl::StrCat(what, ": group ", group_id_, " is at catalog version ",
                                            version_, "; push it the catalog and retry"));
  }
  const IncomingRoute* incoming = nullptr;
  for (const auto& [route_start, in] : incoming_) {
    if (in.route.route_id == route_id) incoming = &in;
  }
  if (incoming == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, ": route ", route_id, " is not moving to group ", group_id_, " at catalog version ",
        version_, " (the move was cut over, aborted or never started)"));
  }
  if (!Covers(incoming->route, start, end)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": expected a range inside ",
                     FormatRange(incoming->route.start, incoming->route.end)));
  }
  if (move_catalog_version < incoming->incoming_since) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, ": group ", group_id_, " has been receiving route ", route_id, " only since version ",
        incoming->incoming_since, "; the chunk belongs to an earlier move"));
  }
  return absl::OkStatus();
}

absl::Status GroupOwnership::CheckDeleteRange(absl::string_view start, absl::string_view end,
                                              CatalogVersion decided_catalog_version) const {
  const std::string what = absl::StrCat("delete of ", FormatRange(start, end),
                                        " decided at version ", decided_catalog_version);
  if (RangeIsEmpty(start, end)) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": the range is empty"));
  }
  if (decided_catalog_version == 0 || decided_catalog_version > version_) {
    return MakeStaleRouteError(version_, group_id_,
                               absl::StrCat(what, ": group ", group_id_, " is at catalog version ",
                                            version_, "; push it the catalog and retry"));
  }
  for (const auto& [route_start, owned] : owned_) {
    if (RangesOverlap(start, end, owned.route.start, owned.route.end)) {
      return absl::FailedPreconditionError(absl::StrCat(what, ": group ", group_id_, " owns ",
                                                        FormatRoute(owned.route), " at version ",
                                                        version_));
    }
  }
  for (const auto& [route_start, in] : incoming_) {
    if (RangesOverlap(start, end, in.route.start, in.route.end)) {
      return absl::FailedPreconditionError(absl::StrCat(what, ": group ", group_id_,
                                                        " is receiving ", FormatRoute(in.route),
                                                        " at version ", version_));
    }
  }
  return absl::OkStatus();
}

absl::Status GroupOwnership::CheckHoldsRange(absl::string_view start, absl::string_view end) const {
  if (RangeIsEmpty(start, end)) return absl::OkStatus();
  std::string next_key(start);
  auto it = owned_.upper_bound(next_key);
  if (it != owned_.begin()) it = std::prev(it);
  while (true) {
    if (it == owned_.end() || !it->second.route.Contains(next_key)) {
      return MakeStaleRouteError(version_, group_id_,
                                 absl::StrCat("export of ", FormatRange(start, end), ": key ",
                                              FormatKey(next_key), " is outside every range group ",
                                              group_id_, " owns at catalog version ", version_));
    }
    const std::string& route_end = it->second.route.end;
    if (route_end.empty() || (!end.empty() && absl::string_view(route_end) >= end)) {
      return absl::OkStatus();
    }
    next_key = route_end;
    ++it;
  }
}

std::vector<OwnedRoute> GroupOwnership::OwnedRoutes() const {
  std::vector<OwnedRoute> out;
  out.reserve(owned_.size());
  for (const auto& [start, owned] : owned_) out.push_back(owned);
  return out;
}

}  // namespace ekv::route
