#include "runtime/storage/node_identity.h"

#include "absl/strings/str_cat.h"
#include "core/kv/codec.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace ekv::runtime {
namespace {

// In the raft_state family beside the per-group Raft records, under the all-ones group
// prefix no group has (the node loop's incarnation counter lives there too).
constexpr char kIdentityKey[] =
    "\xff\xff\xff\xff\xff\xff\xff\xff"
    "node_identity";
constexpr uint8_t kIdentityFormat = 1;

}  // namespace

absl::StatusOr<std::optional<NodeIdentity>> ReadNodeIdentity(RocksDbEnv* env) {
  std::string value;
  rocksdb::Status s =
      env->db()->Get(rocksdb::ReadOptions(), env->raft_state(), kIdentityKey, &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromRocksStatus(s, "reading the node identity");
  const auto corrupt = [&](absl::string_view why) {
    return absl::DataLossError(
        absl::StrCat("the node identity in ", env->data_dir(), " is corrupt: ", why));
  };
  kv::ByteReader reader(value);
  auto format = reader.ReadByte();
  if (!format.ok() || *format != kIdentityFormat) return corrupt("unknown format");
  auto node = reader.ReadVarint64();
  auto count = reader.ReadVarint64();
  if (!node.ok() || !count.ok() || *node == raft::kNoNode) return corrupt("bad header");
  NodeIdentity identity;
  identity.node = *node;
  for (uint64_t i = 0; i < *count; ++i) {
    auto group = reader.ReadVarint64();
    if (!group.ok() || *group == 0) return corrupt("bad group id");
    if (!identity.groups.empty() && *group <= identity.groups.back()) {
      return corrupt("group ids not increasing");
    }
    identity.groups.push_back(*group);
  }
  auto peers = reader.ReadVarint64();
  if (!peers.ok()) return corrupt("truncated peers");
  for (uint64_t i = 0; i < *peers; ++i) {
    auto id = reader.ReadVarint64();
    auto address = reader.ReadLengthPrefixed();
    if (!id.ok() || !address.ok() || *id == raft::kNoNode) return corrupt("bad peer");
    identity.peers[*id] = std::string(*address);
  }
  if (absl::Status end = reader.ExpectEnd("node identity"); !end.ok())
    return corrupt(end.message());
  return identity;
}

absl::Status WriteNodeIdentity(RocksDbEnv* env, const NodeIdentity& identity) {
  std::string value;
  kv::AppendByte(&value, kIdentityFormat);
  kv::AppendVarint64(&value, identity.node);
  kv::AppendVarint64(&value, identity.groups.size());
  for (raft::GroupId group : identity.groups) kv::AppendVarint64(&value, group);
  kv::AppendVarint64(&value, identity.peers.size());
  for (const auto& [id, address] : identity.peers) {
    kv::AppendVarint64(&value, id);
    kv::AppendLengthPrefixed(&value, address);
  }
  rocksdb::WriteBatch batch;
  batch.Put(env->raft_state(), kIdentityKey, value);
  return env->Write(&batch, /*sync=*/true);
}

}  // namespace ekv::runtime
