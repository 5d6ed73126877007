#include "core/node/snapshot_reference.h"

#include "core/kv/codec.h"

namespace ekv::node {

bool IsSnapshotReference(std::string_view image) {
  return !image.empty() && static_cast<uint8_t>(image[0]) == kSnapshotReferenceFormat;
}

std::string EncodeSnapshotReference(const SnapshotReference& reference) {
  std::string out;
  kv::AppendByte(&out, kSnapshotReferenceFormat);
  kv::AppendVarint64(&out, reference.applied_index);
  kv::AppendLengthPrefixed(&out, reference.staged_ref);
  return out;
}

absl::StatusOr<SnapshotReference> DecodeSnapshotReference(std::string_view image) {
  kv::ByteReader reader(absl::string_view(image.data(), image.size()));
  auto format = reader.ReadByte();
  if (!format.ok() || *format != kSnapshotReferenceFormat) {
    return absl::DataLossError("snapshot reference: wrong format byte");
  }
  auto applied = reader.ReadVarint64();
  auto ref = reader.ReadLengthPrefixed();
  if (!applied.ok() || !ref.ok()) return absl::DataLossError("snapshot reference: truncated");
  if (absl::Status s = reader.ExpectEnd("snapshot reference"); !s.ok()) return s;
  return SnapshotReference{*applied, std::string(*ref)};
}

}  // namespace ekv::node
