// The member directory: where every node of the cluster can be reached.
//
// Replicated by the catalog group (group_state_machine.h, GroupCommandOp::kMembers), so
// every node learns the addresses of every other from the log it already follows, a node
// that joins later learns them with its first snapshot, and a restarted node finds them in
// its own durable state. Each node advertises itself when it starts (and a joining node is
// registered before it is added to any group), so the directory, not the command line, is
// what peers dial once the cluster runs.
//
// Encoding (versioned; decoding never asserts on input):
//   change:    byte kMemberFormat, byte kind (1 upsert, 2 remove), varint node,
//              then for upserts: the addresses
//   directory: byte kMemberFormat, varint count, count x (varint node, the addresses),
//              nodes strictly increasing
//   addresses: lp raft, lp grpc, lp redis, lp dynamo, lp metrics (empty: not served)
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/raft/types.h"

namespace ekv::node {

inline constexpr uint8_t kMemberFormat = 1;

struct MemberAddresses {
  std::string raft_address;  // node-to-node traffic, as peers dial it
  std::string grpc_address;  // the public gRPC API, as clients dial it
  // The other front doors, as clients dial them; empty where the node does not serve one.
  std::string redis_address;
  std::string dynamo_address;
  std::string metrics_address;
  friend bool operator==(const MemberAddresses&, const MemberAddresses&) = default;
};

// Ordered by node id, so encodings and digests are the same on every replica.
using MemberDirectory = std::map<raft::NodeId, MemberAddresses>;

enum class MemberChangeKind : uint8_t { kUpsert = 1, kRemove = 2 };

struct MemberChange {
  MemberChangeKind kind = MemberChangeKind::kUpsert;
  raft::NodeId node = raft::kNoNode;
  MemberAddresses addresses;  // kUpsert only
  friend bool operator==(const MemberChange&, const MemberChange&) = default;
};

std::string EncodeMemberChange(const MemberChange& change);
absl::StatusOr<MemberChange> DecodeMemberChange(absl::string_view bytes);
std::string EncodeMemberDirectory(const MemberDirectory& directory);
absl::StatusOr<MemberDirectory> DecodeMemberDirectory(absl::string_view bytes);

// InvalidArgument for a change no directory should hold (node 0, an upsert without a raft
// address, addresses longer than kMaxMemberAddressBytes). Applying a valid change is
// idempotent: an upsert of what is there and a remove of what is not change nothing.
inline constexpr size_t kMaxMemberAddressBytes = 1024;
absl::Status ValidateMemberChange(const MemberChange& change);
// Applies a validated change; true if the directory changed.
bool ApplyMemberChange(const MemberChange& change, MemberDirectory* directory);

}  // namespace ekv::node
