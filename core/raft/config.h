// Configuration of one Raft group member.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "core/raft/types.h"

namespace ekv::raft {

class Storage;

enum class ReadOnlyOption : uint8_t {
  // ReadIndex confirms leadership with a heartbeat round to a quorum (always safe).
  kSafe,
  // Serve reads from a leader lease when it is valid; fall back to kSafe otherwise.
  // Requires check_quorum and assumes clocks drift by at most max_clock_drift_ticks per
  // election timeout.
  kLeaseBased,
};

// Deliberately planted bugs, used only by the simulator's self-test to prove that its
// checkers catch real safety violations. Never set outside that test.
struct PlantedBugs {
  bool commit_previous_term_by_count = false;  // violates §5.4.2 (Figure 8)
  bool ack_before_persist = false;             // sends durability promises before fsync
  bool read_without_quorum = false;            // ReadIndex served with no quorum check
};

struct Config {
  NodeId id = kNoNode;
  GroupId group = 0;
  int election_tick = 10;      // a follower campaigns after [election, 2*election) ticks of silence
  int heartbeat_tick = 1;      // leader heartbeat interval, < election_tick
  Storage* storage = nullptr;  // not owned
  Index applied = 0;           // last applied index on restart (0: the snapshot index)
  uint64_t max_size_per_msg = 1 << 20;  // bytes of entries per append message
  uint64_t max_committed_size_per_ready = 8 << 20;
  uint64_t max_uncommitted_entries_size = 64 << 20;  // 0: unlimited
  int max_inflight_msgs = 256;                       // per follower, in the replicate state
  uint64_t max_inflight_bytes = 32 << 20;            // per follower; 0: unlimited
  bool check_quorum = true;
  bool pre_vote = true;
  ReadOnlyOption read_only_option = ReadOnlyOption::kSafe;
  int max_clock_drift_ticks = 1;  // lease safety margin (kLeaseBased only)
  bool disable_proposal_forwarding = false;
  // A follower with an empty log (a new member, or a member that came back with an emptied
  // disk; it says so by rejecting an append with hint 0) is sent a snapshot of the current
  // configuration, never the log from index 1.
  // Needed wherever a group's log starts with its bootstrap configuration entries (as
  // NodeHost's groups do; RawNode::Bootstrap): replaying them, a former voter that forgot
  // its votes would pass through configurations that name it, down to the first entry's,
  // whose only voter is the lowest id, and could elect itself there alone. Off for groups
  // whose initial configuration lives only in the storage's ConfState (the interaction
  // tests, as etcd's).
  bool snapshot_for_empty_followers = false;
  // The leader refuses a membership change after which the voters it heard from within the
  // last election timeout (itself included) would not form a quorum of the new
  // configuration, as etcd's strict reconfiguration check does. Without it a removal can
  // leave a group whose quorum needs a node that is down for good (a broken disk), and an
  // addition of a node that never answers can leave one that cannot commit. Requires
  // check_quorum (which keeps Progress::recent_active current).
  bool refuse_changes_without_active_quorum = false;
  uint64_t randomization_seed = 1;  // drives randomized election timeouts
  PlantedBugs planted;

  absl::Status Validate() const;
};

}  // namespace ekv::raft
