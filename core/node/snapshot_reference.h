// The Raft snapshot image of a group whose state lives in a durable engine.
//
// Such a group never serializes its state into the Raft log's snapshot: the engine IS the
// state (kv::Engine::durable()). Its snapshot image is a small reference instead,
//   [format byte kSnapshotReferenceFormat][varint applied index][length-prefixed staged ref]
// whose staged ref is empty where the image is made (NodeHost::MaybeSnapshot). A driver
// that ships the snapshot to a follower streams the engine's records out of band, stages
// them on the receiver, and rewrites the ref to name the staged copy before the follower's
// Raft sees the message; restoring then installs the staged copy
// (kv::Engine::ReplaceWithStaged). The applied index is that of the image's maker; the
// state actually shipped may be newer (it is read when streaming), never older.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ekv::node {

// Distinct from the in-memory image formats of GroupStateMachine (1 and 2).
inline constexpr uint8_t kSnapshotReferenceFormat = 3;

struct SnapshotReference {
  uint64_t applied_index = 0;
  std::string staged_ref;  // empty: no staged copy (the local state is the snapshot)
};

bool IsSnapshotReference(std::string_view image);
std::string EncodeSnapshotReference(const SnapshotReference& reference);
absl::StatusOr<SnapshotReference> DecodeSnapshotReference(std::string_view image);

}  // namespace ekv::node
