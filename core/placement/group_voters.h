// Where a new Raft group's replicas go (CreateGroup without explicit voters).
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/route/catalog.h"

namespace ekv::placement {

// `replicas` of `members`: the ones that are replicas of the fewest live created groups
// (initial groups are on every member, so they do not tell members apart), ties broken by
// the lower node id; the answer is sorted. InvalidArgument when replicas is 0, above
// route::kMaxGroupVoters, or above the number of members.
absl::StatusOr<std::vector<uint64_t>> ChooseGroupVoters(const std::vector<uint64_t>& members,
                                                        const route::RouteCatalog& catalog,
                                                        size_t replicas);

}  // namespace ekv::placement
