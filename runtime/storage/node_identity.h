// What a data dir says about the node that owns it: its id and the Raft groups it hosts.
//
// Written once, when a node bootstraps or joins; read at every start. It lets a restart
// find its groups and its first peers without the flags that created them (a node that
// joined never had them, and until its first snapshot of the catalog group it has no
// member directory either) and refuses a data dir of another node (started as n1 with
// n2's data it would vote twice in every election).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/raft/types.h"
#include "runtime/storage/rocksdb_env.h"

namespace ekv::runtime {

struct NodeIdentity {
  raft::NodeId node = raft::kNoNode;
  std::vector<raft::GroupId> groups;  // increasing
  // Raft addresses of the members it started with (the member directory supersedes them).
  std::map<raft::NodeId, std::string> peers;
  friend bool operator==(const NodeIdentity&, const NodeIdentity&) = default;
};

// nullopt for a data dir that has none (new, or written before identities existed).
absl::StatusOr<std::optional<NodeIdentity>> ReadNodeIdentity(RocksDbEnv* env);
// Durable (synced) when it returns.
absl::Status WriteNodeIdentity(RocksDbEnv* env, const NodeIdentity& identity);

}  // namespace ekv::runtime
