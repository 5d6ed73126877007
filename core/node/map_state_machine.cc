#include "core/node/map_state_machine.h"

#include "core/node/codec.h"
#include "core/util/assert.h"

namespace ekv::node {

ApplyResult MapStateMachine::Apply(raft::Index index, const Command& command) {
  EKV_ASSERT(index > applied_index_, "apply order: index ", index, " after applied ",
             applied_index_);
  applied_index_ = index;
  auto it = data_.find(command.key);
  switch (command.kind) {
    case OpKind::kPut:
      data_[command.key] = command.value;
      return {true, command.value, {}};
    case OpKind::kDelete:
      if (it != data_.end()) data_.erase(it);
      return {true, std::nullopt, {}};
    case OpKind::kCas: {
      std::optional<std::string> current;
      if (it != data_.end()) current = it->second;
      if (current != command.expected) return {false, current, {}};
      data_[command.key] = command.value;
      return {true, command.value, {}};
    }
    case OpKind::kApply:
      // The register model has no opaque commands; the proposer gets a clear failure.
      return {false, std::nullopt, "the register state machine has no opaque commands"};
    case OpKind::kGet:
    case OpKind::kQuery:
    case OpKind::kTimestamp:
    case OpKind::kConfChange:
    case OpKind::kReplicaStatus:
    case OpKind::kTransferLeader:
    case OpKind::kConfigurationAcknowledged:
      break;
  }
  EKV_UNREACHABLE("reads, timestamps and conf changes are never commands");
}

void MapStateMachine::Skip(raft::Index index) {
  EKV_ASSERT(index > applied_index_, "apply order: index ", index, " after applied ",
             applied_index_);
  applied_index_ = index;
}

std::optional<std::string> MapStateMachine::Read(std::string_view key) const {
  auto it = data_.find(key);
  if (it == data_.end()) return std::nullopt;
  return it->second;
}

std::string MapStateMachine::SnapshotImage() const {
  std::string image;
  PutVarint(image, data_.size());
  for (const auto& [key, value] : data_) {
    PutBytes(image, key);
    PutBytes(image, value);
  }
  return image;
}

absl::Status MapStateMachine::Restore(std::string_view image, raft::Index index) {
  Decoder decoder(image);
  uint64_t count = 0;
  if (!decoder.Varint(&count)) return absl::DataLossError("map image: missing entry count");
  std::map<std::string, std::string, std::less<>> restored;
  for (uint64_t i = 0; i < count; ++i) {
    std::string key;
    std::string value;
    if (!decoder.Bytes(&key) || !decoder.Bytes(&value)) {
      return absl::DataLossError("map image: truncated key/value pair");
    }
    restored.emplace(std::move(key), std::move(value));
  }
  if (!decoder.Done()) return absl::DataLossError("map image: trailing bytes");
  data_ = std::move(restored);
  applied_index_ = index;
  return absl::OkStatus();
}

uint64_t MapStateMachine::Digest() const {
  // FNV-1a over the canonical image: cheap and order-defined.
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : SnapshotImage()) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace ekv::node
