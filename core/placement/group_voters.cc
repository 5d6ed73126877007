#include "core/placement/group_voters.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ekv::placement {

absl::StatusOr<std::vector<uint64_t>> ChooseGroupVoters(const std::vector<uint64_t>& members,
                                                        const route::RouteCatalog& catalog,
                                                        size_t replicas) {
  if (replicas == 0 || replicas > route::kMaxGroupVoters) {
    return absl::InvalidArgumentError(
        absl::StrCat("replicas is ", replicas, "; expected 1 to ", route::kMaxGroupVoters));
  }
  if (replicas > members.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "replicas is ", replicas, " but the cluster has ", members.size(), " members"));
  }
  std::map<uint64_t, size_t> load;  // member -> live created groups it is a voter of
  for (uint64_t member : members) load[member] = 0;
  for (const auto& [id, group] : catalog.groups()) {
    for (uint64_t voter : group.Replicas()) {
      auto it = load.find(voter);
      if (it != load.end()) ++it->second;
    }
  }
  std::vector<std::pair<size_t, uint64_t>> ranked;  // (load, node): ascending = preferred
  for (const auto& [member, groups] : load) ranked.emplace_back(groups, member);
  std::sort(ranked.begin(), ranked.end());
  std::vector<uint64_t> voters;
  for (size_t i = 0; i < replicas; ++i) voters.push_back(ranked[i].second);
  std::sort(voters.begin(), voters.end());
  return voters;
}

}  // namespace ekv::placement
