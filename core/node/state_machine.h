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

#include "absl/status/status.h"
#include "core/node/command.h"
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
};

}  // namespace ekv::node
