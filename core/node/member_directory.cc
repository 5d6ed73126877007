#include "core/node/member_directory.h"

#include "absl/strings/str_cat.h"
#include "core/kv/codec.h"
#include "core/util/assert.h"

namespace ekv::node {
namespace {

absl::Status Corrupt(absl::string_view what, absl::string_view why) {
  return absl::DataLossError(absl::StrCat("malformed ", what, ": ", why));
}

// Every address field, in encoding order.
std::string MemberAddresses::*const kAddressFields[] = {
    &MemberAddresses::raft_address, &MemberAddresses::grpc_address, &MemberAddresses::redis_address,
    &MemberAddresses::dynamo_address, &MemberAddresses::metrics_address};

void AppendAddresses(std::string* out, const MemberAddresses& addresses) {
  for (auto field : kAddressFields) kv::AppendLengthPrefixed(out, addresses.*field);
}

absl::StatusOr<MemberAddresses> ReadAddresses(kv::ByteReader& reader, absl::string_view what) {
  MemberAddresses addresses;
  for (auto field : kAddressFields) {
    auto value = reader.ReadLengthPrefixed();
    if (!value.ok()) return Corrupt(what, "truncated addresses");
    addresses.*field = std::string(*value);
  }
  return addresses;
}

}  // namespace

std::string EncodeMemberChange(const MemberChange& change) {
  std::string out;
  kv::AppendByte(&out, kMemberFormat);
  kv::AppendByte(&out, static_cast<uint8_t>(change.kind));
  kv::AppendVarint64(&out, change.node);
  if (change.kind == MemberChangeKind::kUpsert) AppendAddresses(&out, change.addresses);
  return out;
}

absl::StatusOr<MemberChange> DecodeMemberChange(absl::string_view bytes) {
  kv::ByteReader reader(bytes);
  auto format = reader.ReadByte();
  if (!format.ok() || *format != kMemberFormat) return Corrupt("member change", "unknown format");
  auto kind = reader.ReadByte();
  auto node = reader.ReadVarint64();
  if (!kind.ok() || !node.ok()) return Corrupt("member change", "truncated header");
  if (*kind != static_cast<uint8_t>(MemberChangeKind::kUpsert) &&
      *kind != static_cast<uint8_t>(MemberChangeKind::kRemove)) {
    return Corrupt("member change", absl::StrCat("unknown kind ", *kind));
  }
  MemberChange change;
  change.kind = static_cast<MemberChangeKind>(*kind);
  change.node = *node;
  if (change.kind == MemberChangeKind::kUpsert) {
    absl::StatusOr<MemberAddresses> addresses = ReadAddresses(reader, "member change");
    if (!addresses.ok()) return addresses.status();
    change.addresses = std::move(*addresses);
  }
  if (absl::Status s = reader.ExpectEnd("member change"); !s.ok()) return s;
  return change;
}

std::string EncodeMemberDirectory(const MemberDirectory& directory) {
  std::string out;
  kv::AppendByte(&out, kMemberFormat);
  kv::AppendVarint64(&out, directory.size());
  for (const auto& [node, addresses] : directory) {
    kv::AppendVarint64(&out, node);
    AppendAddresses(&out, addresses);
  }
  return out;
}

absl::StatusOr<MemberDirectory> DecodeMemberDirectory(absl::string_view bytes) {
  kv::ByteReader reader(bytes);
  auto format = reader.ReadByte();
  if (!format.ok() || *format != kMemberFormat) {
    return Corrupt("member directory", "unknown format");
  }
  auto count = reader.ReadVarint64();
  if (!count.ok()) return Corrupt("member directory", "truncated count");
  MemberDirectory directory;
  raft::NodeId previous = raft::kNoNode;
  for (uint64_t i = 0; i < *count; ++i) {
    auto node = reader.ReadVarint64();
    if (!node.ok()) return Corrupt("member directory", "truncated entry");
    if (*node <= previous) return Corrupt("member directory", "node ids not increasing");
    absl::StatusOr<MemberAddresses> addresses = ReadAddresses(reader, "member directory");
    if (!addresses.ok()) return addresses.status();
    directory.emplace(*node, std::move(*addresses));
    previous = *node;
  }
  if (absl::Status s = reader.ExpectEnd("member directory"); !s.ok()) return s;
  return directory;
}

absl::Status ValidateMemberChange(const MemberChange& change) {
  if (change.node == raft::kNoNode) return absl::InvalidArgumentError("node id must not be 0");
  if (change.kind == MemberChangeKind::kRemove) return absl::OkStatus();
  if (change.addresses.raft_address.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("node ", change.node, ": empty raft address"));
  }
  for (auto field : kAddressFields) {
    if ((change.addresses.*field).size() > kMaxMemberAddressBytes) {
      return absl::InvalidArgumentError(absl::StrCat("node ", change.node, ": address longer than ",
                                                     kMaxMemberAddressBytes, " bytes"));
    }
  }
  return absl::OkStatus();
}

bool ApplyMemberChange(const MemberChange& change, MemberDirectory* directory) {
  EKV_ASSERT(ValidateMemberChange(change).ok(), "applying an invalid member change for node ",
             change.node);
  if (change.kind == MemberChangeKind::kRemove) return directory->erase(change.node) > 0;
  auto [it, inserted] = directory->try_emplace(change.node, change.addresses);
  if (inserted) return true;
  if (it->second == change.addresses) return false;
  it->second = change.addresses;
  return true;
}

}  // namespace ekv::node
