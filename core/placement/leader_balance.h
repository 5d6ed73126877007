// Leader balance: which group's leadership should move so that every node leads about as
// many groups as the others (a group's leader serves its writes and linearizable reads, so
// leaders are where the load lands). Pure and deterministic (ordered containers; ties
// broken by the lower node id, then the lower group id): the coordinator runs it against
// the leaders and voters it just asked the groups for (Coordinator::StartBalanceLeaders),
// the placement driver asks for one transfer per round.
//
// When: only while some node leads outside the band (mean +-tolerance, the mean over the
// nodes that vote in any group), and then from a node leading at least two groups more
// than the node it hands one to (a transfer changes two counts by one each, so a
// difference of one cannot be evened). Each such transfer lowers the sum of squared counts.
// The target must be a voter of the group (Raft hands leadership only to a voter).
//
// Chains: when no such transfer exists (the busiest node's movable groups have no voter on
// any idle node: e.g. n1=3 n2=1 with mean 2, and n2 votes in none of n1's movable groups),
// the first hop of the shortest chain is planned: the busiest node (c) hands a group to a
// node leading c - 1, which leads a group with a voter leading c - 2 or fewer, and so on.
// The hop swaps two counts (the sum of squares stays); the rounds after it continue from
// the node that now leads c, and direct transfers come first, so a chain of two hops ends
// in the next round. A hop's group is in its cooldown afterwards: no chain hands it back.
//
// Never flaps: a group whose leadership was handed on within the cooldown is not moved
// again, and is counted as led by its transferee (the transfer may still be under way:
// counted as done, the next round does not plan a second one for the same imbalance). A
// node that did not answer when a transfer to it was about to start (down, or behind) is
// not chosen within the cooldown either. A group whose leader is unknown (an election, no
// answer) counts for nobody and is not moved; a group marked not movable (the catalog
// group: its leader runs the placement driver, which would forget this history) counts
// but is not moved.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace ekv::placement {

struct GroupLeadership {
  uint64_t group = 0;
  std::vector<uint64_t> voters;  // any order
  uint64_t leader = 0;           // 0: unknown
  bool movable = true;
};

struct LeaderTransferPlan {
  uint64_t group = 0;
  uint64_t from = 0;
  uint64_t to = 0;
};

struct LeaderBalanceOptions {
  double tolerance = 0.25;  // the band: within +-tolerance of the mean
  uint64_t cooldown_us = 10'000'000;
};

// What earlier rounds did, kept by the caller (the placement driver) between plans.
struct LeaderBalanceHistory {
  struct Transfer {
    uint64_t to = 0;
    uint64_t at_us = 0;
  };
  std::map<uint64_t, Transfer> transfers;       // group -> its last transfer
  std::map<uint64_t, uint64_t> unreachable_at;  // node -> when a transfer to it was refused

  // A transfer of `group` to `to` was started at `now_us`.
  void NoteTransfer(uint64_t group, uint64_t to, uint64_t now_us);
  // `node` did not answer before a transfer to it.
  void NoteUnreachable(uint64_t node, uint64_t now_us);
  // Forgets what is older than the cooldown (keeps the history bounded by the groups and
  // nodes of the last cooldown).
  void Prune(uint64_t now_us, uint64_t cooldown_us);
};

// Leaders per node: every node that votes in one of `groups` (0 if it leads none), each
// group counted for its leader, or for its transferee while a transfer of the cooldown
// names it. Leaders that vote in no group (a removed node) are not counted.
std::map<uint64_t, size_t> LeaderCounts(const std::vector<GroupLeadership>& groups,
                                        const LeaderBalanceHistory& history, uint64_t now_us,
                                        const LeaderBalanceOptions& options);

// Whether every count is within +-tolerance of their mean (true for no nodes).
bool LeadersWithinBand(const std::map<uint64_t, size_t>& counts, double tolerance);

// The transfer to run next, or nullopt when balanced as above (or nothing legal is left):
// from the busiest node to the idlest one that votes in a movable group it leads, or else
// the first hop of a chain (above).
std::optional<LeaderTransferPlan> PlanLeaderBalance(const std::vector<GroupLeadership>& groups,
                                                    const LeaderBalanceHistory& history,
                                                    uint64_t now_us,
                                                    const LeaderBalanceOptions& options);

}  // namespace ekv::placement
