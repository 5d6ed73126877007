#include "core/route/catalog.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/kv/codec.h"
#include "core/kv/status_macros.h"
#include "core/util/assert.h"

namespace ekv::route {
namespace {

absl::Status CheckRouteKeySize(absl::string_view what, absl::string_view key) {
  if (key.size() > kMaxRouteKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is ", key.size(), " bytes; expected at most ", kMaxRouteKeyBytes));
  }
  return absl::OkStatus();
}

uint8_t FormatFor(bool any_move) { return any_move ? kCatalogFormatWithMoves : kCatalogFormat; }

// The format byte; `with_groups` allows formats 3 to 5 (catalog images only).
absl::StatusOr<uint8_t> ReadFormat(kv::ByteReader* reader, absl::string_view what,
                                   bool with_groups) {
  EKV_KV_ASSIGN_OR_RETURN(uint8_t format, reader->ReadByte());
  if (format != kCatalogFormat && format != kCatalogFormatWithMoves &&
      !(with_groups && format >= kCatalogFormatWithGroups && format <= kCatalogFormatWithRetired)) {
    return absl::DataLossError(absl::StrCat(
        what, " format ", format, " is not supported (expected ", kCatalogFormat, ", ",
        kCatalogFormatWithMoves,
        with_groups
            ? absl::StrCat(", ", kCatalogFormatWithGroups, " to ", kCatalogFormatWithRetired)
            : "",
        ")"));
  }
  return format;
}

// Voters of a new group: 1..kMaxGroupVoters sorted, distinct, non-zero node ids.
absl::Status CheckVoters(absl::string_view what, const std::vector<uint64_t>& voters) {
  if (voters.empty() || voters.size() > kMaxGroupVoters) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " has ", voters.size(), " voters; expected 1 to ", kMaxGroupVoters));
  }
  for (size_t i = 0; i < voters.size(); ++i) {
    if (voters[i] == 0 || (i > 0 && voters[i] <= voters[i - 1])) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " voters ", absl::StrJoin(voters, ","),
                       " are not sorted, distinct node ids; expected e.g. 1,2,3"));
    }
  }
  return absl::OkStatus();
}

// GroupDescriptor's invariants on joined, removed and readmitted (catalog.h "Replica
// moves", "Readmission").
absl::Status CheckReplicaLists(const GroupDescriptor& group) {
  auto sorted_distinct = [](const std::vector<uint64_t>& ids) {
    for (size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] == 0 || (i > 0 && ids[i] <= ids[i - 1])) return false;
    }
    return true;
  };
  auto contains = [](const std::vector<uint64_t>& ids, uint64_t id) {
    return std::binary_search(ids.begin(), ids.end(), id);
  };
  const std::string what = absl::StrCat(
      "group ", group.group_id, " (voters ", absl::StrJoin(group.voters, ","), ", joined ",
      absl::StrJoin(group.joined, ","), ", removed ", absl::StrJoin(group.removed, ","),
      ", readmitted ", absl::StrJoin(group.readmitted, ","), ")");
  if (!sorted_distinct(group.joined) || !sorted_distinct(group.removed) ||
      !sorted_distinct(group.readmitted)) {
    return absl::InternalError(
        absl::StrCat(what, ": joined, removed and readmitted must be sorted, distinct"));
  }
  for (uint64_t id : group.readmitted) {
    if (!contains(group.voters, id)) {
      return absl::InternalError(absl::StrCat(what, ": node ", id, " readmitted but no voter"));
    }
  }
  for (uint64_t id : group.joined) {
    if (group.Bootstraps(id)) {
      return absl::InternalError(absl::StrCat(what, ": node ", id, " both bootstraps and joins"));
    }
  }
  for (uint64_t id : group.removed) {
    if (!contains(group.voters, id) && !contains(group.joined, id)) {
      return absl::InternalError(absl::StrCat(what, ": node ", id, " removed but never a replica"));
    }
  }
  if (group.Replicas().empty()) {
    return absl::InternalError(absl::StrCat(what, ": a live group without replicas"));
  }
  if (group.Replicas().size() > kMaxGroupVoters) {
    return absl::InternalError(absl::StrCat(what, ": more than ", kMaxGroupVoters, " replicas"));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<uint64_t> GroupDescriptor::Replicas() const {
  std::vector<uint64_t> all;
  for (uint64_t id : voters) {
    if (Bootstraps(id)) all.push_back(id);
  }
  all.insert(all.end(), joined.begin(), joined.end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  std::vector<uint64_t> live;
  for (uint64_t id : all) {
    if (!std::binary_search(removed.begin(), removed.end(), id)) live.push_back(id);
  }
  return live;
}

bool GroupDescriptor::Bootstraps(uint64_t node) const {
  return std::binary_search(voters.begin(), voters.end(), node) &&
         !std::binary_search(readmitted.begin(), readmitted.end(), node);
}

bool GroupDescriptor::IsReplica(uint64_t node) const {
  const std::vector<uint64_t> live = Replicas();
  return std::binary_search(live.begin(), live.end(), node);
}

bool GroupDescriptor::WasRemoved(uint64_t node) const {
  return std::binary_search(removed.begin(), removed.end(), node);
}

bool RouteStateTransitionAllowed(RouteState from, RouteState to) {
  switch (from) {
    case RouteState::kActive:
      return to == RouteState::kWriteFenced || to == RouteState::kMigratingSource;
    case RouteState::kWriteFenced:
      return to == RouteState::kActive || to == RouteState::kMigratingSource ||
             to == RouteState::kMigratingTarget;
    case RouteState::kMigratingSource:
      return to == RouteState::kActive || to == RouteState::kWriteFenced;
    case RouteState::kMigratingTarget:
      return to == RouteState::kActive || to == RouteState::kWriteFenced;
    case RouteState::kUnspecified:
      return false;
  }
  return false;
}

// ---- CatalogDelta ----------------------------------------------------------------------

void CatalogDelta::Encode(std::string* dst) const {
  bool any_move = false;
  for (const RouteDescriptor& route : upserted_routes) {
    any_move = any_move || route.move_target_group_id != 0;
  }
  kv::AppendByte(dst, FormatFor(any_move));
  kv::AppendVarint64(dst, version);
  kv::AppendVarint64(dst, removed_route_ids.size());
  for (RouteId id : removed_route_ids) kv::AppendVarint64(dst, id);
  kv::AppendVarint64(dst, upserted_routes.size());
  for (const RouteDescriptor& route : upserted_routes) EncodeRoute(dst, route, any_move);
}

absl::StatusOr<CatalogDelta> CatalogDelta::Decode(absl::string_view bytes) {
  kv::ByteReader reader(bytes);
  EKV_KV_ASSIGN_OR_RETURN(uint8_t format, ReadFormat(&reader, "catalog delta", false));
  const bool with_moves = format == kCatalogFormatWithMoves;
  CatalogDelta delta;
  EKV_KV_ASSIGN_OR_RETURN(delta.version, reader.ReadVarint64());
  EKV_KV_ASSIGN_OR_RETURN(uint64_t removed, reader.ReadVarint64());
  // Each entry takes at least one byte, so a count above the bytes left is garbage; the
  // check also bounds the allocation a corrupt count could ask for.
  if (removed > reader.remaining()) {
    return absl::DataLossError(absl::StrCat("catalog delta claims ", removed,
                                            " removed routes but only ", reader.remaining(),
                                            " bytes remain"));
  }
  for (uint64_t i = 0; i < removed; ++i) {
    EKV_KV_ASSIGN_OR_RETURN(RouteId id, reader.ReadVarint64());
    delta.removed_route_ids.push_back(id);
  }
  EKV_KV_ASSIGN_OR_RETURN(uint64_t upserted, reader.ReadVarint64());
  if (upserted > reader.remaining()) {
    return absl::DataLossError(absl::StrCat("catalog delta claims ", upserted,
                                            " upserted routes but only ", reader.remaining(),
                                            " bytes remain"));
  }
  for (uint64_t i = 0; i < upserted; ++i) {
    EKV_KV_ASSIGN_OR_RETURN(RouteDescriptor route, DecodeRoute(&reader, with_moves));
    delta.upserted_routes.push_back(std::move(route));
  }
  EKV_KV_RETURN_IF_ERROR(reader.ExpectEnd("catalog delta"));
  return delta;
}

// ---- Construction ----------------------------------------------------------------------

absl::StatusOr<RouteCatalog> RouteCatalog::Bootstrap(const std::vector<InitialRange>& ranges) {
  if (ranges.empty()) {
    return absl::InvalidArgumentError(
        "initial topology has no ranges; expected ranges covering [\"\", +inf)");
  }
  std::vector<const InitialRange*> sorted;
  sorted.reserve(ranges.size());
  for (const InitialRange& range : ranges) {
    EKV_KV_RETURN_IF_ERROR(CheckRouteKeySize("initial range start", range.start));
    EKV_KV_RETURN_IF_ERROR(CheckRouteKeySize("initial range end", range.end));
    if (RangeIsEmpty(range.start, range.end)) {
      return absl::InvalidArgumentError(
          absl::StrCat("initial range ", FormatRange(range.start, range.end),
                       " is empty; expected start < end (or end empty for +inf)"));
    }
    if (range.raft_group_id == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("initial range ", FormatRange(range.start, range.end),
                       " has raft group 0; expected a group id >= 1"));
    }
    sorted.push_back(&range);
  }
  std::stable_sort(sorted.begin(), sorted.end(), [](const InitialRange* a, const InitialRange* b) {
    return a->start < b->start;
  });
  if (!sorted.front()->start.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("initial ranges leave a gap [\"\", ",
                                                   FormatKey(sorted.front()->start),
                                                   "); expected the first range to start at \"\""));
  }
  for (size_t i = 1; i < sorted.size(); ++i) {
    const InitialRange& prev = *sorted[i - 1];
    const InitialRange& next = *sorted[i];
    if (prev.end.empty() || next.start < prev.end) {
      return absl::InvalidArgumentError(
          absl::StrCat("initial ranges ", FormatRange(prev.start, prev.end), " and ",
                       FormatRange(next.start, next.end),
                       " overlap; expected each range to start where the previous one ends"));
    }
    if (next.start > prev.end) {
      return absl::InvalidArgumentError(absl::StrCat(
          "initial ranges leave a gap ", FormatRange(prev.end, next.start), " between ",
          FormatRange(prev.start, prev.end), " and ", FormatRange(next.start, next.end),
          "; expected each range to start where the previous one ends"));
    }
  }
  if (!sorted.back()->end.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("initial ranges leave a gap [", FormatKey(sorted.back()->end),
                     ", +inf); expected the last range to end at +inf (empty end)"));
  }

  RouteCatalog catalog;
  catalog.version_ = kInitialCatalogVersion;
  for (const InitialRange* range : sorted) {
    RouteDescriptor route;
    route.route_id = catalog.next_route_id_++;
    route.start = range->start;
    route.end = range->end;
    route.raft_group_id = range->raft_group_id;
    route.state = RouteState::kActive;
    catalog.start_by_id_.emplace(route.route_id, route.start);
    catalog.routes_by_start_.emplace(route.start, std::move(route));
  }
  catalog.CheckInvariants();
  return catalog;
}

absl::StatusOr<RouteCatalog> RouteCatalog::Decode(absl::string_view bytes) {
  kv::ByteReader reader(bytes);
  EKV_KV_ASSIGN_OR_RETURN(uint8_t format, ReadFormat(&reader, "route catalog", true));
  const bool with_moves = format != kCatalogFormat;
  RouteCatalog catalog;
  EKV_KV_ASSIGN_OR_RETURN(catalog.version_, reader.ReadVarint64());
  EKV_KV_ASSIGN_OR_RETURN(catalog.next_route_id_, reader.ReadVarint64());
  EKV_KV_ASSIGN_OR_RETURN(uint64_t count, reader.ReadVarint64());
  if (count > reader.remaining()) {
    return absl::DataLossError(absl::StrCat("route catalog claims ", count, " routes but only ",
                                            reader.remaining(), " bytes remain"));
  }
  for (uint64_t i = 0; i < count; ++i) {
    EKV_KV_ASSIGN_OR_RETURN(RouteDescriptor route, DecodeRoute(&reader, with_moves));
    if (!catalog.start_by_id_.emplace(route.route_id, route.start).second) {
      return absl::DataLossError(
          absl::StrCat("route catalog lists route id ", route.route_id, " twice"));
    }
    if (catalog.routes_by_start_.contains(route.start)) {
      return absl::DataLossError(
          absl::StrCat("route catalog lists two routes starting at ", FormatKey(route.start)));
    }
    std::string start = route.start;
    catalog.routes_by_start_.emplace(std::move(start), std::move(route));
  }
  if (format >= kCatalogFormatWithGroups) {
    EKV_KV_ASSIGN_OR_RETURN(uint64_t groups, reader.ReadVarint64());
    if (groups > reader.remaining()) {
      return absl::DataLossError(absl::StrCat("route catalog claims ", groups, " groups but only ",
                                              reader.remaining(), " bytes remain"));
    }
    for (uint64_t i = 0; i < groups; ++i) {
      GroupDescriptor group;
      EKV_KV_ASSIGN_OR_RETURN(group.group_id, reader.ReadVarint64());
      uint8_t retired = 0;
      if (format < kCatalogFormatWithRetired) {
        EKV_KV_ASSIGN_OR_RETURN(retired, reader.ReadByte());
        if (retired > 1) {
          return absl::DataLossError(absl::StrCat("group ", group.group_id, " has retired byte ",
                                                  retired, "; expected 0 or 1"));
        }
      }
      EKV_KV_ASSIGN_OR_RETURN(uint64_t voters, reader.ReadVarint64());
      if (voters > kMaxGroupVoters) {
        return absl::DataLossError(absl::StrCat("group ", group.group_id, " claims ", voters,
                                                " voters; expected at most ", kMaxGroupVoters));
      }
      for (uint64_t v = 0; v < voters; ++v) {
        EKV_KV_ASSIGN_OR_RETURN(uint64_t voter, reader.ReadVarint64());
        group.voters.push_back(voter);
      }
      if (format >= kCatalogFormatWithReplicas) {
        std::vector<std::vector<uint64_t>*> lists = {&group.joined, &group.removed};
        if (format >= kCatalogFormatWithReadmits) lists.push_back(&group.readmitted);
        for (std::vector<uint64_t>* ids : lists) {
          EKV_KV_ASSIGN_OR_RETURN(uint64_t count, reader.ReadVarint64());
          if (count > reader.remaining()) {
            return absl::DataLossError(absl::StrCat("group ", group.group_id, " claims ", count,
                                                    " replica ids but only ", reader.remaining(),
                                                    " bytes remain"));
          }
          for (uint64_t n = 0; n < count; ++n) {
            EKV_KV_ASSIGN_OR_RETURN(uint64_t id, reader.ReadVarint64());
            ids->push_back(id);
          }
        }
      }
      const GroupId id = group.group_id;
      if (id == 0 || id <= catalog.created_.last) {
        return absl::DataLossError(absl::StrCat("route catalog lists group ", id, " after group ",
                                                catalog.created_.last,
                                                "; expected ascending non-zero ids"));
      }
      // Formats 1 to 5: the created range runs from the first listed id to the last.
      if (catalog.created_.empty()) catalog.created_.first = id;
      catalog.created_.last = id;
      // A tombstone of an image written before records were reclaimed: reclaimed now.
      if (retired == 0) catalog.groups_.emplace(id, std::move(group));
    }
    if (format == kCatalogFormatWithRetired) {
      CreatedGroupIds range;
      EKV_KV_ASSIGN_OR_RETURN(range.first, reader.ReadVarint64());
      EKV_KV_ASSIGN_OR_RETURN(range.last, reader.ReadVarint64());
      if (range.first == 0 || range.first > range.last ||
          (!catalog.created_.empty() &&
           (catalog.created_.first < range.first || catalog.created_.last > range.last))) {
        return absl::DataLossError(
            absl::StrCat("route catalog's created groups are ", range.first, "-", range.last,
                         " but it lists ", catalog.created_.first, "-", catalog.created_.last,
                         "; expected 1 <= first <= last around every listed group"));
      }
      catalog.created_ = range;
    }
  }
  EKV_KV_RETURN_IF_ERROR(reader.ExpectEnd("route catalog"));
  absl::Status valid = catalog.Validate();
  if (!valid.ok()) {
    return absl::DataLossError(
        absl::StrCat("decoded route catalog is inconsistent: ", valid.message()));
  }
  return catalog;
}

// ---- Queries ---------------------------------------------------------------------------

const RouteDescriptor* RouteCatalog::FindRoute(RouteId route_id) const {
  auto it = start_by_id_.find(route_id);
  if (it == start_by_id_.end()) return nullptr;
  auto route = routes_by_start_.find(it->second);
  EKV_ASSERT(route != routes_by_start_.end(), "id index names a start with no route: id ",
             route_id);
  return &route->second;
}

const RouteDescriptor* RouteCatalog::RouteForKey(absl::string_view key) const {
  auto it = routes_by_start_.upper_bound(key);
  EKV_ASSERT(it != routes_by_start_.begin(), "no route starts at or before ", FormatKey(key),
             "; the catalog must cover the whole key space");
  return &std::prev(it)->second;
}

const GroupDescriptor* RouteCatalog::FindGroup(GroupId group_id) const {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : &it->second;
}

bool RouteCatalog::IsRetired(GroupId group_id) const {
  return created_.Contains(group_id) && !groups_.contains(group_id);
}

GroupId RouteCatalog::MaxKnownGroupId() const {
  GroupId max = created_.last;
  for (const auto& [start, route] : routes_by_start_) {
    max = std::max({max, route.raft_group_id, route.move_target_group_id});
  }
  return max;
}

std::vector<RouteDescriptor> RouteCatalog::ListRoutes() const {
  std::vector<RouteDescriptor> routes;
  routes.reserve(routes_by_start_.size());
  for (const auto& [start, route] : routes_by_start_) routes.push_back(route);
  return routes;
}

// ---- Commands --------------------------------------------------------------------------

absl::Status RouteCatalog::CheckExpectedVersion(absl::string_view command,
                                                CatalogVersion expected_catalog_version) const {
  if (expected_catalog_version != version_) {
    return absl::FailedPreconditionError(
        absl::StrCat(command, ": expected_catalog_version is ", expected_catalog_version,
                     " but the catalog is at version ", version_, "; reload the routes and retry"));
  }
  return absl::OkStatus();
}

absl::StatusOr<const RouteDescriptor*> RouteCatalog::FindRouteOrError(absl::string_view command,
                                                                      RouteId route_id) const {
  const RouteDescriptor* route = FindRoute(route_id);
  if (route == nullptr) {
    return absl::NotFoundError(absl::StrCat(command, ": route ", route_id,
                                            " does not exist at catalog version ", version_,
                                            "; expected the id of a current route"));
  }
  return route;
}

absl::StatusOr<CatalogDelta> RouteCatalog::Apply(const CatalogCommand& command,
                                                 PlantedCatalogBugs bugs) {
  if (const auto* split = std::get_if<SplitRange>(&command.op)) {
    EKV_KV_ASSIGN_OR_RETURN(SplitResult result, Split(*split));
    return std::move(result.delta);
  }
  if (const auto* set = std::get_if<SetRouteState>(&command.op)) {
    EKV_KV_ASSIGN_OR_RETURN(RouteDescriptor route, SetState(*set));
    return CatalogDelta{version_, {}, {std::move(route)}};
  }
  if (const auto* move = std::get_if<StartMove>(&command.op)) {
    EKV_KV_ASSIGN_OR_RETURN(RouteDescriptor route, BeginMove(*move));
    return CatalogDelta{version_, {}, {std::move(route)}};
  }
  if (const auto* merge = std::get_if<MergeRanges>(&command.op)) {
    EKV_KV_ASSIGN_OR_RETURN(MergeResult result, Merge(*merge, bugs));
    return std::move(result.delta);
  }
  // Group changes move no route: the delta is the version step alone.
  if (const auto* create = std::get_if<CreateGroup>(&command.op)) {
    EKV_KV_RETURN_IF_ERROR(AddGroup(*create).status());
    return CatalogDelta{version_, {}, {}};
  }
  if (const auto* retire = std::get_if<RetireGroup>(&command.op)) {
    EKV_KV_RETURN_IF_ERROR(Retire(*retire, bugs).status());
    return CatalogDelta{version_, {}, {}};
  }
  if (const auto* replica = std::get_if<ChangeGroupReplica>(&command.op)) {
    EKV_KV_RETURN_IF_ERROR(ChangeReplica(*replica).status());
    return CatalogDelta{version_, {}, {}};
  }
  const auto& reassign = std::get<ReassignRoute>(command.op);
  EKV_KV_ASSIGN_OR_RETURN(RouteDescriptor route, Reassign(reassign));
  return CatalogDelta{version_, {}, {std::move(route)}};
}

absl::StatusOr<SplitResult> RouteCatalog::Split(const SplitRange& split) {
  EKV_KV_RETURN_IF_ERROR(CheckExpectedVersion("SplitRange", split.expected_catalog_version));
  EKV_KV_ASSIGN_OR_RETURN(const RouteDescriptor* parent,
                          FindRouteOrError("SplitRange", split.route_id));
  EKV_KV_RETURN_IF_ERROR(CheckRouteKeySize("SplitRange: split_key", split.split_key));
  if (!(split.split_key > parent->start && KeyBeforeEnd(split.split_key, parent->end))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SplitRange: split_key ", FormatKey(split.split_key), " is not strictly inside route ",
        parent->route_id, " ", FormatRange(parent->start, parent->end), "; expected ",
        FormatKey(parent->start), " < split_key < ", FormatEnd(parent->end)));
  }
  if (parent->state != RouteState::kActive) {
    return absl::FailedPreconditionError(absl::StrCat("SplitRange: route ", parent->route_id,
                                                      " is ", RouteStateName(parent->state),
                                                      "; expected ROUTE_STATE_ACTIVE"));
  }

  // Validation is complete: from here on the command cannot fail.
  SplitResult result;
  result.left = RouteDescriptor{next_route_id_,        parent->start,       split.split_key,
                                parent->raft_group_id, RouteState::kActive, parent->route_id};
  result.right = RouteDescriptor{next_route_id_ + 1,    split.split_key,     parent->end,
                                 parent->raft_group_id, RouteState::kActive, parent->route_id};
  const RouteId parent_id = parent->route_id;
  next_route_id_ += 2;
  ++version_;
  result.catalog_version = version_;

  start_by_id_.erase(parent_id);
  routes_by_start_.erase(result.left.start);  // the parent, which starts where left does
  start_by_id_.emplace(result.left.route_id, result.left.start);
  start_by_id_.emplace(result.right.route_id, result.right.start);
  routes_by_start_.emplace(result.left.start, result.left);
  routes_by_start_.emplace(result.right.start, result.right);
  CheckNeighbourhood(result.left.start);
  CheckNeighbourhood(result.right.start);

  result.delta = CatalogDelta{version_, {parent_id}, {result.left, result.right}};
  return result;
}

absl::StatusOr<MergeResult> RouteCatalog::Merge(const MergeRanges& merge, PlantedCatalogBugs bugs) {
  EKV_KV_RETURN_IF_ERROR(CheckExpectedVersion("MergeRanges", merge.expected_catalog_version));
  EKV_KV_ASSIGN_OR_RETURN(const RouteDescriptor* left,
                          FindRouteOrError("MergeRanges", merge.left_route_id));
  EKV_KV_ASSIGN_OR_RETURN(const RouteDescriptor* right,
                          FindRouteOrError("MergeRanges", merge.right_route_id));
  if (left->end.empty() || left->end != right->start) {
    return absl::InvalidArgumentError(absl::StrCat(
        "MergeRanges: route ", left->route_id, " ", FormatRange(left->start, left->end),
        " and route ", right->route_id, " ", FormatRange(right->start, right->end),
        " are not adjacent; expected the right route to start where the left ends"));
  }
  for (const RouteDescriptor* half : {left, right}) {
    if (half->state != RouteState::kActive || half->move_target_group_id != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("MergeRanges: route ", half->route_id, " is ", RouteStateName(half->state),
                       half->move_target_group_id != 0
                           ? absl::StrCat(" and moving to group ", half->move_target_group_id)
                           : "",
                       "; expected ROUTE_STATE_ACTIVE with no move in progress"));
    }
  }
  if (left->raft_group_id != right->raft_group_id && !bugs.merge_across_groups) {
    return absl::FailedPreconditionError(
        absl::StrCat("MergeRanges: route ", left->route_id, " is on group ", left->raft_group_id,
                     " and route ", right->route_id, " on group ", right->raft_group_id,
                     "; expected one group (move one route into the other's group first)"));
  }

  // Validation is complete: from here on the command cannot fail.
  MergeResult result;
  result.merged = RouteDescriptor{next_route_id_,      left->start,         right->end,
                                  left->raft_group_id, RouteState::kActive, left->route_id};
  const RouteId left_id = left->route_id;
  const RouteId right_id = right->route_id;
  const std::string right_start = right->start;
  ++next_route_id_;
  ++version_;
  result.catalog_version = version_;

  start_by_id_.erase(left_id);
  start_by_id_.erase(right_id);
  routes_by_start_.erase(right_start);
  routes_by_start_.erase(result.merged.start);  // the left route, which starts where it does
  start_by_id_.emplace(result.merged.route_id, result.merged.start);
  routes_by_start_.emplace(result.merged.start, result.merged);
  CheckNeighbourhood(result.merged.start);

  result.delta = CatalogDelta{
      version_, {std::min(left_id, right_id), std::max(left_id, right_id)}, {result.merged}};
  return result;
}

absl::StatusOr<RouteDescriptor> RouteCatalog::SetState(const SetRouteState& set) {
  EKV_KV_RETURN_IF_ERROR(CheckExpectedVersion("SetRouteState", set.expected_catalog_version));
  EKV_KV_ASSIGN_OR_RETURN(const RouteDescriptor* current,
                          FindRouteOrError("SetRouteState", set.route_id));
  if (set.state == RouteState::kUnspecified ||
      static_cast<uint8_t>(set.state) > kMaxRouteStateNumber) {
    return absl::InvalidArgumentError(
        absl::StrCat("SetRouteState: target state ", static_cast<int>(set.state),
                     " is not settable; expected ACTIVE, WRITE_FENCED, MIGRATING_SOURCE or "
                     "MIGRATING_TARGET"));
  }
  if (!RouteStateTransitionAllowed(current->state, set.state)) {
    return absl::FailedPreconditionError(
        absl::StrCat("SetRouteState: route ", current->route_id, " cannot go from ",
                     RouteStateName(current->state), " to ", RouteStateName(set.state),
                     "; see the allowed transitions in core/route/catalog.h"));
  }
  if (current->move_target_group_id != 0 && set.state == RouteState::kMigratingTarget) {
    return absl::FailedPreconditionError(
        absl::StrCat("SetRouteState: route ", current->route_id, " is moving to group ",
                     current->move_target_group_id,
                     " and cannot become ROUTE_STATE_MIGRATING_TARGET; abort the move (ACTIVE) "
                     "or cut it over (ReassignRoute) first"));
  }
  RouteDescriptor updated = *current;
  updated.state = set.state;
  // Back to ACTIVE on its own group aborts a move: the target may no longer ingest.
  if (set.state == RouteState::kActive) updated.move_target_group_id = 0;
  ++version_;
  return ReplaceRoute(updated);
}

absl::StatusOr<RouteDescriptor> RouteCatalog::BeginMove(const StartMove& move) {
  EKV_KV_RETURN_IF_ERROR(CheckExpectedVersion("StartMove", move.expected_catalog_version));
  EKV_KV_ASSIGN_OR_RETURN(const RouteDescriptor* current,
                          FindRouteOrError("StartMove", move.route_id));
  if (move.target_group_id == 0 || move.target_group_id == current->raft_group_id) {
    return absl::InvalidArgumentError(absl::StrCat(
        "StartMove: target group ", move.target_group_id, " for route ", current->route_id,
        " on group ", current->raft_group_id, "; expected a group id >= 1 other than the route's"));
  }
  EKV_KV_RETURN_IF_ERROR(CheckGroupLive("StartMove", move.target_group_id));
  if (current->state != RouteState::kActive) {
    return absl::FailedPreconditionError(absl::StrCat("StartMove: route ", current->route_id,
                                                      " is ", RouteStateName(current->state),
                                                      "; expected ROUTE_STATE_ACTIVE"));
  }
  RouteDescriptor updated = *current;
  updated.state = RouteState::kMigratingSource;
  updated.move_target_group_id = move.target_group_id;
  ++version_;
  return ReplaceRoute(updated);
}

absl::StatusOr<RouteDescriptor> RouteCatalog::Reassign(const ReassignRoute& reassign) {
  EKV_KV_RETURN_IF_ERROR(CheckExpectedVersion("ReassignRoute", reassign.expected_catalog_version));
  EKV_KV_ASSIGN_OR_RETURN(const RouteDescriptor* current,
                          FindRouteOrError("ReassignRoute", reassign.route_id));
  if (reassign.new_raft_group_id == 0) {
    return absl::InvalidArgumentError(
        "ReassignRoute: new_raft_group_id is 0; expected a group id >= 1");
  }
  if (reassign.new_raft_group_id == current->raft_group_id) {
    return absl::InvalidArgumentError(absl::StrCat("ReassignRoute: route ", current->route_id,
                                                   " is already on group ", current->raft_group_id,
                                                   "; expected a different group"));
  }
  EKV_KV_RETURN_IF_ERROR(CheckGroupLive("ReassignRoute", reassign.new_raft_group_id));
  if (current->state == RouteState::kActive) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ReassignRoute: route ", current->route_id,
        " is ROUTE_STATE_ACTIVE; expected it fenced (WRITE_FENCED or MIGRATING_*) first so "
        "no write lands on the old group after the handoff"));
  }
  if (current->move_target_group_id != 0) {
    if (reassign.new_raft_group_id != current->move_target_group_id ||
        current->state != RouteState::kWriteFenced) {
      return absl::FailedPreconditionError(absl::StrCat(
          "ReassignRoute: route ", current->route_id, " is ", RouteStateName(current->state),
          " and moving to group ", current->move_target_group_id, "; expected new group ",
          current->move_target_group_id,
          " and ROUTE_STATE_WRITE_FENCED (cut over only after the final copy under the fence)"));
    }
  }
  RouteDescriptor updated = *current;
  updated.raft_group_id = reassign.new_raft_group_id;
  updated.move_target_group_id = 0;
  ++version_;
  return ReplaceRoute(updated);
}

absl::StatusOr<GroupDescriptor> RouteCatalog::AddGroup(const CreateGroup& create) {
  EKV_KV_RETURN_IF_ERROR(CheckExpectedVersion("CreateGroup", create.expected_catalog_version));
  const GroupId max_known = MaxKnownGroupId();
  if (create.group_id <= max_known) {
    return absl::FailedPreconditionError(
        absl::StrCat("CreateGroup: group id ", create.group_id, " is not above ", max_known,
                     ", the largest group the catalog knows; expected a new id"));
  }
  EKV_KV_RETURN_IF_ERROR(
      CheckVoters(absl::StrCat("CreateGroup: group ", create.group_id), create.voters));
  GroupDescriptor group{create.group_id, create.voters, {}, {}, {}};
  groups_.emplace(group.group_id, group);
  if (created_.empty()) created_.first = group.group_id;
  created_.last = group.group_id;
  ++version_;
  return group;
}

absl::StatusOr<GroupDescriptor> RouteCatalog::Retire(const RetireGroup& retire,
                                                     PlantedCatalogBugs bugs) {
  EKV_KV_RETURN_IF_ERROR(CheckExpectedVersion("RetireGroup", retire.expected_catalog_version));
  if (IsRetired(retire.group_id)) {
    return absl::FailedPreconditionError(
        absl::StrCat("RetireGroup: group ", retire.group_id, " is already retired"));
  }
  auto it = groups_.find(retire.group_id);
  if (it == groups_.end()) {
    return absl::NotFoundError(absl::StrCat(
        "RetireGroup: group ", retire.group_id,
        " was not created at run time (initial groups are never retired); expected the id of "
        "a created group"));
  }
  for (const auto& [start, route] : routes_by_start_) {
    if (route.raft_group_id == retire.group_id || route.move_target_group_id == retire.group_id) {
      return absl::FailedPreconditionError(absl::StrCat(
          "RetireGroup: route ", route.route_id, " ", FormatRange(route.start, route.end),
          route.raft_group_id == retire.group_id ? " is on group " : " is moving to group ",
          retire.group_id, "; expected no route on the group (move its ranges away first)"));
    }
    // A route cut over to its target stays WRITE_FENCED there until the move activates it,
    // and until then the move still needs its source (which no route names any more): to stop
    // it serving and to read its largest timestamp, which the target's floors must pass. The
    // catalog does not record the source, so no group retires while such a route exists.
    if (route.state == RouteState::kWriteFenced && route.move_target_group_id == 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "RetireGroup: route ", route.route_id, " ", FormatRange(route.start, route.end),
          " was cut over to group ", route.raft_group_id,
          " and its move still needs its source; expected no move between cut-over and "
          "activation (retry once it finishes)"));
    }
  }
  GroupDescriptor record = std::move(it->second);
  if (bugs.keep_retired_group) {
    it->second = record;
  } else {
    groups_.erase(it);  // the id stays inside created_, so it is never reused
  }
  ++version_;
  return record;
}

absl::StatusOr<GroupDescriptor> RouteCatalog::ChangeReplica(const ChangeGroupReplica& change) {
  EKV_KV_RETURN_IF_ERROR(
      CheckExpectedVersion("ChangeGroupReplica", change.expected_catalog_version));
  if (IsRetired(change.group_id)) {
    return absl::FailedPreconditionError(
        absl::StrCat("ChangeGroupReplica: group ", change.group_id, " is retired"));
  }
  auto it = groups_.find(change.group_id);
  if (it == groups_.end()) {
    return absl::NotFoundError(absl::StrCat(
        "ChangeGroupReplica: group ", change.group_id,
        " was not created at run time (initial groups live on every member: AddNode and "
        "RemoveNode change them); expected the id of a created group"));
  }
  GroupDescriptor& group = it->second;
  if (change.node == 0) {
    return absl::InvalidArgumentError("ChangeGroupReplica: node 0; expected a node id");
  }
  const std::vector<uint64_t> replicas = group.Replicas();
  const std::string what =
      absl::StrCat("ChangeGroupReplica: group ", change.group_id, " (replicas ",
                   absl::StrJoin(replicas, ","), "): node ", change.node);
  auto insert_sorted = [](std::vector<uint64_t>& ids, uint64_t id) {
    ids.insert(std::upper_bound(ids.begin(), ids.end(), id), id);
  };
  switch (change.change) {
    case ReplicaChange::kAdd:
      if (group.IsReplica(change.node)) {
        return absl::FailedPreconditionError(absl::StrCat(what, " already hosts it"));
      }
      if (group.WasRemoved(change.node)) {
        // Its old replica's state may still be on its disk, at a log the group has left.
        return absl::FailedPreconditionError(absl::StrCat(
            what,
            " was removed from it, and its old copy may still be on its disk; it hosts the "
            "group again only after it left the cluster (RemoveNode) and joined again with an "
            "empty data dir (ekv-server --join)"));
      }
      if (replicas.size() >= kMaxGroupVoters) {
        return absl::FailedPreconditionError(
            absl::StrCat(what, ": the group has ", kMaxGroupVoters, " replicas, the most allowed"));
      }
      insert_sorted(group.joined, change.node);
      break;
    case ReplicaChange::kRemove:
      if (!group.IsReplica(change.node)) {
        return absl::FailedPreconditionError(absl::StrCat(what, " does not host it"));
      }
      if (replicas.size() == 1) {
        return absl::FailedPreconditionError(
            absl::StrCat(what, " is its last replica: removing it would lose the group"));
      }
      insert_sorted(group.removed, change.node);
      break;
    case ReplicaChange::kReadmit: {
      if (!group.WasRemoved(change.node)) {
        return absl::FailedPreconditionError(absl::StrCat(what, " was not removed from it"));
      }
      auto erase = [](std::vector<uint64_t>& ids, uint64_t id) {
        ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
      };
      erase(group.removed, change.node);
      erase(group.joined, change.node);
      const bool voter = std::binary_search(group.voters.begin(), group.voters.end(), change.node);
      if (voter && group.Bootstraps(change.node)) insert_sorted(group.readmitted, change.node);
      break;
    }
    default:
      return absl::InvalidArgumentError(absl::StrCat(what, ": unknown change"));
  }
  ++version_;
  return group;
}

absl::Status RouteCatalog::CheckGroupLive(absl::string_view command, GroupId group_id) const {
  if (IsRetired(group_id)) {
    return absl::FailedPreconditionError(
        absl::StrCat(command, ": group ", group_id, " is retired; expected a live group"));
  }
  return absl::OkStatus();
}

const RouteDescriptor& RouteCatalog::ReplaceRoute(const RouteDescriptor& route) {
  auto it = routes_by_start_.find(route.start);
  EKV_ASSERT(it != routes_by_start_.end() && it->second.route_id == route.route_id,
             "ReplaceRoute must keep the route's id and start: id ", route.route_id);
  it->second = route;
  CheckNeighbourhood(route.start);
  return it->second;
}

// ---- Encoding --------------------------------------------------------------------------

std::string RouteCatalog::Encode() const {
  bool any_move = false;
  for (const auto& [start, route] : routes_by_start_) {
    any_move = any_move || route.move_target_group_id != 0;
  }
  const bool with_groups = !groups_.empty();
  bool with_replicas = false;
  bool with_readmits = false;
  for (const auto& [id, group] : groups_) {
    with_replicas = with_replicas || !group.joined.empty() || !group.removed.empty();
    with_readmits = with_readmits || !group.readmitted.empty();
  }
  // Formats 1 to 5 imply the created range from the listed ids ("Encoding" in catalog.h).
  const bool with_retired =
      !created_.empty() && (groups_.empty() || groups_.begin()->first != created_.first ||
                            groups_.rbegin()->first != created_.last);
  with_readmits = with_readmits || with_retired;
  with_replicas = with_replicas || with_readmits;
  std::string out;
  kv::AppendByte(&out, with_retired    ? kCatalogFormatWithRetired
                       : with_readmits ? kCatalogFormatWithReadmits
                       : with_replicas ? kCatalogFormatWithReplicas
                       : with_groups   ? kCatalogFormatWithGroups
                                       : FormatFor(any_move));
  kv::AppendVarint64(&out, version_);
  kv::AppendVarint64(&out, next_route_id_);
  kv::AppendVarint64(&out, routes_by_start_.size());
  for (const auto& [start, route] : routes_by_start_) {
    EncodeRoute(&out, route, any_move || with_groups || with_retired);
  }
  if (with_groups || with_retired) {
    kv::AppendVarint64(&out, groups_.size());
    for (const auto& [id, group] : groups_) {
      kv::AppendVarint64(&out, id);
      if (!with_retired) kv::AppendByte(&out, 0);  // formats 3 to 5: not a tombstone
      kv::AppendVarint64(&out, group.voters.size());
      for (uint64_t voter : group.voters) kv::AppendVarint64(&out, voter);
      if (with_replicas) {
        std::vector<const std::vector<uint64_t>*> lists = {&group.joined, &group.removed};
        if (with_readmits) lists.push_back(&group.readmitted);
        for (const std::vector<uint64_t>* ids : lists) {
          kv::AppendVarint64(&out, ids->size());
          for (uint64_t id : *ids) kv::AppendVarint64(&out, id);
        }
      }
    }
    if (with_retired) {
      kv::AppendVarint64(&out, created_.first);
      kv::AppendVarint64(&out, created_.last);
    }
  }
  return out;
}

uint64_t RouteCatalog::Digest() const {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : Encode()) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// ---- Invariants ------------------------------------------------------------------------

absl::Status RouteCatalog::Validate() const {
  if (version_ < kInitialCatalogVersion) {
    return absl::InternalError(absl::StrCat("catalog version is ", version_, "; expected >= 1"));
  }
  if (routes_by_start_.empty()) {
    return absl::InternalError("catalog has no routes; expected routes covering [\"\", +inf)");
  }
  if (start_by_id_.size() != routes_by_start_.size()) {
    return absl::InternalError(absl::StrCat("id index has ", start_by_id_.size(), " entries for ",
                                            routes_by_start_.size(),
                                            " routes; expected one per route"));
  }
  const RouteDescriptor* prev = nullptr;
  for (const auto& [start, route] : routes_by_start_) {
    if (start != route.start) {
      return absl::InternalError(absl::StrCat("route ", route.route_id, " is filed under ",
                                              FormatKey(start), " but starts at ",
                                              FormatKey(route.start)));
    }
    if (route.route_id == 0 || route.route_id >= next_route_id_) {
      return absl::InternalError(absl::StrCat(
          "route id ", route.route_id, " is outside [1, next_route_id=", next_route_id_, ")"));
    }
    auto id = start_by_id_.find(route.route_id);
    if (id == start_by_id_.end() || id->second != route.start) {
      return absl::InternalError(
          absl::StrCat("route ", route.route_id, " is missing from the id index"));
    }
    if (route.raft_group_id == 0) {
      return absl::InternalError(
          absl::StrCat("route ", route.route_id, " has raft group 0; expected >= 1"));
    }
    if (route.state == RouteState::kUnspecified) {
      return absl::InternalError(absl::StrCat("route ", route.route_id, " has state UNSPECIFIED"));
    }
    for (GroupId named : {route.raft_group_id, route.move_target_group_id}) {
      if (IsRetired(named)) {
        return absl::InternalError(
            absl::StrCat("route ", route.route_id, " names retired group ", named));
      }
    }
    if (route.move_target_group_id != 0 && (route.move_target_group_id == route.raft_group_id ||
                                            (route.state != RouteState::kMigratingSource &&
                                             route.state != RouteState::kWriteFenced))) {
      return absl::InternalError(absl::StrCat(
          "route ", route.route_id, " on group ", route.raft_group_id, " is ",
          RouteStateName(route.state), " and moving to group ", route.move_target_group_id,
          "; expected a move target only on a MIGRATING_SOURCE or WRITE_FENCED route, "
          "other than its group"));
    }
    if (RangeIsEmpty(route.start, route.end)) {
      return absl::InternalError(absl::StrCat("route ", route.route_id, " ",
                                              FormatRange(route.start, route.end), " is empty"));
    }
    if (prev == nullptr ? !route.start.empty() : prev->end != route.start) {
      return absl::InternalError(
          absl::StrCat("route ", route.route_id, " starts at ", FormatKey(route.start),
                       " but the previous route ends at ",
                       prev == nullptr ? "\"\" (key space start)" : FormatEnd(prev->end),
                       "; expected no gap or overlap"));
    }
    prev = &route;
  }
  if (!prev->end.empty()) {
    return absl::InternalError(absl::StrCat("last route ", prev->route_id, " ends at ",
                                            FormatKey(prev->end), "; expected +inf"));
  }
  if ((created_.first == 0) != (created_.last == 0) || created_.first > created_.last) {
    return absl::InternalError(absl::StrCat("created groups ", created_.first, "-", created_.last,
                                            "; expected none (0-0) or 1 <= first <= last"));
  }
  for (const auto& [id, group] : groups_) {
    if (id == 0 || id != group.group_id) {
      return absl::InternalError(absl::StrCat("group ", group.group_id, " is filed under ", id));
    }
    if (!created_.Contains(id)) {
      return absl::InternalError(absl::StrCat("group ", id, " is listed outside the created ids ",
                                              created_.first, "-", created_.last));
    }
    if (absl::Status voters = CheckVoters(absl::StrCat("group ", id), group.voters); !voters.ok()) {
      return absl::InternalError(voters.message());
    }
    if (absl::Status replicas = CheckReplicaLists(group); !replicas.ok()) return replicas;
  }
  return absl::OkStatus();
}

void RouteCatalog::CheckInvariants() const {
  absl::Status status = Validate();
  EKV_ASSERT(status.ok(), "route catalog invariant violated: ", status.message());
}

void RouteCatalog::CheckNeighbourhood(absl::string_view start) const {
  EKV_ASSERT(start_by_id_.size() == routes_by_start_.size(),
             "id index and routes disagree in size: ", start_by_id_.size(), " vs ",
             routes_by_start_.size());
  EKV_ASSERT(!start_by_id_.empty() && start_by_id_.rbegin()->first < next_route_id_,
             "a route id is >= next_route_id ", next_route_id_);
  auto it = routes_by_start_.find(start);
  EKV_ASSERT(it != routes_by_start_.end(), "no route starts at ", FormatKey(start));
  const RouteDescriptor& route = it->second;
  EKV_ASSERT(!RangeIsEmpty(route.start, route.end), "route ", route.route_id, " is empty");
  EKV_ASSERT(route.state != RouteState::kUnspecified && route.raft_group_id != 0, "route ",
             route.route_id, " has no state or no group");
  EKV_ASSERT(
      route.move_target_group_id == 0 || (route.move_target_group_id != route.raft_group_id &&
                                          (route.state == RouteState::kMigratingSource ||
                                           route.state == RouteState::kWriteFenced)),
      "route ", route.route_id, " has move target ", route.move_target_group_id, " in state ",
      RouteStateName(route.state), " on group ", route.raft_group_id);
  auto id = start_by_id_.find(route.route_id);
  EKV_ASSERT(id != start_by_id_.end() && id->second == route.start, "route ", route.route_id,
             " is missing from the id index");
  if (it == routes_by_start_.begin()) {
    EKV_ASSERT(route.start.empty(), "first route starts at ", FormatKey(route.start),
               "; expected \"\"");
  } else {
    EKV_ASSERT(std::prev(it)->second.end == route.start, "gap or overlap before route ",
               route.route_id);
  }
  auto next = std::next(it);
  if (next == routes_by_start_.end()) {
    EKV_ASSERT(route.end.empty(), "last route ", route.route_id, " ends before +inf");
  } else {
    EKV_ASSERT(next->second.start == route.end, "gap or overlap after route ", route.route_id);
  }
}

}  // namespace ekv::route
