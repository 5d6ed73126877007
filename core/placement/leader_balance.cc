#include "core/placement/leader_balance.h"

#include <algorithm>
#include <utility>

namespace ekv::placement {
namespace {

bool Within(uint64_t at_us, uint64_t now_us, uint64_t cooldown_us) {
  return now_us < at_us || now_us - at_us < cooldown_us;
}

bool IsVoter(const GroupLeadership& group, uint64_t node) {
  return std::find(group.voters.begin(), group.voters.end(), node) != group.voters.end();
}

// Who counts as leading `group`: its transferee during the cooldown, else its leader.
uint64_t EffectiveLeader(const GroupLeadership& group, const LeaderBalanceHistory& history,
                         uint64_t now_us, uint64_t cooldown_us) {
  auto recent = history.transfers.find(group.group);
  if (recent != history.transfers.end() && Within(recent->second.at_us, now_us, cooldown_us) &&
      IsVoter(group, recent->second.to)) {
    return recent->second.to;
  }
  return group.leader;
}

bool Unreachable(uint64_t node, const LeaderBalanceHistory& history, uint64_t now_us,
                 uint64_t cooldown_us) {
  auto down = history.unreachable_at.find(node);
  return down != history.unreachable_at.end() && Within(down->second, now_us, cooldown_us);
}

bool Cooling(const GroupLeadership& group, const LeaderBalanceHistory& history, uint64_t now_us,
             uint64_t cooldown_us) {
  auto recent = history.transfers.find(group.group);
  return recent != history.transfers.end() && Within(recent->second.at_us, now_us, cooldown_us);
}

// No direct transfer is left, yet some node leads outside the band: the first hop of the
// shortest chain heavy -> m1 -> ... -> light, where heavy leads c groups, every m leads c - 1
// and light at most c - 2, each hop a movable group its sender leads with the receiver as a
// voter. A hop into an m swaps the two counts (the sum of squares stays), so only the
// chain as a whole evens the counts; the next round sees m leading c and, for a chain of
// two hops, has the direct transfer m -> light (direct transfers come first). Breadth
// first over nodes and groups in id order, so the choice is deterministic; bounded by the
// nodes (each visited once per heavy node).
std::optional<LeaderTransferPlan> PlanChainStart(
    const std::vector<const GroupLeadership*>& ordered,
    const std::vector<std::pair<size_t, uint64_t>>& busiest,
    const std::map<uint64_t, size_t>& counts, const LeaderBalanceHistory& history, uint64_t now_us,
    const LeaderBalanceOptions& options) {
  for (const auto& [heavy_count, heavy] : busiest) {
    if (heavy_count < 2) break;
    std::map<uint64_t, LeaderTransferPlan> first_hop;  // node reached -> the hop from heavy
    std::vector<uint64_t> frontier = {heavy};
    first_hop.emplace(heavy, LeaderTransferPlan{});
    while (!frontier.empty()) {
      std::vector<uint64_t> next;
      for (uint64_t sender : frontier) {
        for (const GroupLeadership* group : ordered) {
          if (!group->movable || group->leader != sender ||
              Cooling(*group, history, now_us, options.cooldown_us)) {
            continue;
          }
          std::vector<uint64_t> voters = group->voters;
          std::sort(voters.begin(), voters.end());
          for (uint64_t receiver : voters) {
            if (receiver == sender || first_hop.count(receiver) != 0) continue;
            auto count = counts.find(receiver);
            if (count == counts.end() ||
                Unreachable(receiver, history, now_us, options.cooldown_us)) {
              continue;
            }
            const LeaderTransferPlan hop = sender == heavy
                                               ? LeaderTransferPlan{group->group, heavy, receiver}
                                               : first_hop.at(sender);
            if (count->second + 2 <= heavy_count) return hop;  // the chain ends here
            if (count->second + 1 != heavy_count) continue;    // cannot pass the excess on
            first_hop.emplace(receiver, hop);
            next.push_back(receiver);
          }
        }
      }
      frontier = std::move(next);
    }
  }
  return std::nullopt;
}

}  // namespace

void LeaderBalanceHistory::NoteTransfer(uint64_t group, uint64_t to, uint64_t now_us) {
  transfers[group] = Transfer{to, now_us};
}

void LeaderBalanceHistory::NoteUnreachable(uint64_t node, uint64_t now_us) {
  unreachable_at[node] = now_us;
}

void LeaderBalanceHistory::Prune(uint64_t now_us, uint64_t cooldown_us) {
  for (auto it = transfers.begin(); it != transfers.end();) {
    it = Within(it->second.at_us, now_us, cooldown_us) ? std::next(it) : transfers.erase(it);
  }
  for (auto it = unreachable_at.begin(); it != unreachable_at.end();) {
    it = Within(it->second, now_us, cooldown_us) ? std::next(it) : unreachable_at.erase(it);
  }
}

std::map<uint64_t, size_t> LeaderCounts(const std::vector<GroupLeadership>& groups,
                                        const LeaderBalanceHistory& history, uint64_t now_us,
                                        const LeaderBalanceOptions& options) {
  std::map<uint64_t, size_t> counts;
  for (const GroupLeadership& group : groups) {
    for (uint64_t voter : group.voters) counts.emplace(voter, 0);
  }
  for (const GroupLeadership& group : groups) {
    const uint64_t leader = EffectiveLeader(group, history, now_us, options.cooldown_us);
    if (auto it = counts.find(leader); leader != 0 && it != counts.end()) ++it->second;
  }
  return counts;
}

bool LeadersWithinBand(const std::map<uint64_t, size_t>& counts, double tolerance) {
  if (counts.empty()) return true;
  size_t total = 0;
  for (const auto& [node, count] : counts) total += count;
  const double mean = static_cast<double>(total) / static_cast<double>(counts.size());
  for (const auto& [node, count] : counts) {
    const double c = static_cast<double>(count);
    if (c < mean * (1 - tolerance) || c > mean * (1 + tolerance)) return false;
  }
  return true;
}

std::optional<LeaderTransferPlan> PlanLeaderBalance(const std::vector<GroupLeadership>& groups,
                                                    const LeaderBalanceHistory& history,
                                                    uint64_t now_us,
                                                    const LeaderBalanceOptions& options) {
  const std::map<uint64_t, size_t> counts = LeaderCounts(groups, history, now_us, options);
  if (LeadersWithinBand(counts, options.tolerance)) return std::nullopt;
  // Busiest first, idlest first; among equals the lower id first.
  std::vector<std::pair<size_t, uint64_t>> busiest;
  for (const auto& [node, count] : counts) busiest.emplace_back(count, node);
  std::vector<std::pair<size_t, uint64_t>> idlest = busiest;
  std::stable_sort(busiest.begin(), busiest.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::stable_sort(idlest.begin(), idlest.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  // Groups in id order, so the choice among a node's groups does not depend on the caller.
  std::vector<const GroupLeadership*> ordered;
  for (const GroupLeadership& group : groups) ordered.push_back(&group);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto* a, const auto* b) { return a->group < b->group; });
  for (const auto& [heavy_count, heavy] : busiest) {
    for (const auto& [light_count, light] : idlest) {
      if (heavy_count < light_count + 2) break;  // the rest are closer still
      if (Unreachable(light, history, now_us, options.cooldown_us)) continue;
      for (const GroupLeadership* group : ordered) {
        if (!group->movable || group->leader != heavy || !IsVoter(*group, light)) continue;
        if (Cooling(*group, history, now_us, options.cooldown_us)) continue;
        return LeaderTransferPlan{group->group, heavy, light};
      }
    }
  }
  return PlanChainStart(ordered, busiest, counts, history, now_us, options);
}

}  // namespace ekv::placement
