// The replicated state machine a Raft group drives.
//
// Small on purpose: the MVCC store (core/kv) will implement the same interface. Apply is
// called once per committed command in log order on every replica, so it must be
// deterministic: same commands in, same results and same image out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "core/node/command.h"
#include "core/node/route_load.h"
#include "core/raft/types.h"

namespace ekv::node {

struct ApplyResult {
  bool ok = true;  // false: the command had no effect (a CAS whose comparison failed)
  std::optional<std::string> value;  // the value after applying (nullopt: absent)
  std::string failure_detail;        // why, when !ok (defaults to a CAS mismatch)
};

class StateMachine {
 public:
  virtual ~StateMachine() = default;

  // Applies the committed write `command` found at log `index` (> applied_index()).
  virtual ApplyResult Apply(raft::Index index, const Command& command) = 0;
  // Marks `index` applied without a command (leader no-ops, conf changes).
  virtual void Skip(raft::Index index) = 0;
  virtual std::optional<std::string> Read(std::string_view key) const = 0;
  // Serves an opaque kQuery at a linearizable point (after ReadIndex). The result is
  // encoded by the state machine; nullopt means the query itself was malformed.
  virtual std::optional<std::string> Query(std::string_view payload) const { return std::nullopt; }
  virtual raft::Index applied_index() const = 0;
  // Whether the state outlives the process on its own (kept in a durable engine). Such a
  // state machine may be ahead of Raft after a restart or a snapshot install, and
  // NodeHost then skips committed entries it already holds; an in-memory one must see
  // every entry exactly once.
  virtual bool durable() const { return false; }

  // An image of the state as of applied_index(), and its inverse.
  virtual std::string SnapshotImage() const = 0;
  virtual absl::Status Restore(std::string_view image, raft::Index index) = 0;
  // A fingerprint of the state, equal on replicas that applied the same prefix.
  virtual uint64_t Digest() const = 0;

  // Timestamps (timestamp_oracle.h, node_host.h). A state machine with timestamps
  // assigns some of them at apply time and lets NodeHost run the leader's oracle over it;
  // the others keep these defaults and NodeHost serves them no timestamps or floors.
  virtual bool has_timestamps() const { return false; }
  // The committed HLC ceiling (ms) and the largest timestamp applied or floored.
  virtual uint64_t hlc_ceiling_ms() const { return 0; }
  virtual uint64_t max_timestamp() const { return 0; }
  // The read floor: timestamped queries at read_ts wait until it is >= read_ts.
  virtual uint64_t read_floor_ts() const { return 0; }
  // The read timestamp of a kQuery payload (0: not a snapshot read at a timestamp).
  virtual uint64_t QueryReadTimestamp(std::string_view payload) const { return 0; }
  // kApply payloads NodeHost proposes on its own: a new ceiling; a floor under later
  // apply-time timestamps (`above_ceiling`: also above the applied ceiling); a read floor.
  virtual std::string EncodeCeilingCommand(uint64_t ceiling_ms) const { return {}; }
  virtual std::string EncodeTimestampFloorCommand(uint64_t floor_ts, bool above_ceiling) const {
    return {};
  }
  virtual std::string EncodeReadFloorCommand(uint64_t floor_ts) const { return {}; }

  // Traffic per route counted by this replica (route_load.h), for the console's heat map;
  // empty for state machines that do not count.
  virtual std::vector<RouteLoad> RouteLoads() const { return {}; }
};

}  // namespace ekv::node
