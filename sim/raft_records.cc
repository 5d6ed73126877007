#include "sim/raft_records.h"

#include "absl/strings/str_cat.h"
#include "core/node/codec.h"
#include "core/raft/raw_node.h"

namespace ekv::sim {
namespace {

using node::Decoder;
using node::PutBytes;
using node::PutVarint;

enum RecordType : uint64_t { kBootstrap = 1, kBatch = 2, kEngineWrite = 3, kEngineReplace = 4 };

bool IsEngineRecord(uint64_t type) { return type == kEngineWrite || type == kEngineReplace; }

void PutIds(std::string& out, const std::vector<raft::NodeId>& ids) {
  PutVarint(out, ids.size());
  for (raft::NodeId id : ids) PutVarint(out, id);
}

bool GetIds(Decoder& decoder, std::vector<raft::NodeId>* ids) {
  uint64_t count = 0;
  if (!decoder.Varint(&count) || count > 1024) return false;
  ids->resize(count);
  for (auto& id : *ids) {
    if (!decoder.Varint(&id)) return false;
  }
  return true;
}

void PutEntry(std::string& out, const raft::Entry& entry) {
  PutVarint(out, entry.term);
  PutVarint(out, entry.index);
  PutVarint(out, static_cast<uint64_t>(entry.type));
  PutBytes(out, entry.data);
}

bool GetEntry(Decoder& decoder, raft::Entry* entry) {
  uint64_t type = 0;
  if (!decoder.Varint(&entry->term) || !decoder.Varint(&entry->index) || !decoder.Varint(&type) ||
      !decoder.Bytes(&entry->data) || type > 1) {
    return false;
  }
  entry->type = static_cast<raft::EntryType>(type);
  return true;
}

void PutSnapshot(std::string& out, const raft::Snapshot& snapshot) {
  const raft::SnapshotMetadata& meta = snapshot.metadata;
  PutVarint(out, meta.index);
  PutVarint(out, meta.term);
  PutIds(out, meta.conf_state.voters);
  PutIds(out, meta.conf_state.voters_outgoing);
  PutIds(out, meta.conf_state.learners);
  PutIds(out, meta.conf_state.learners_next);
  PutVarint(out, meta.conf_state.auto_leave ? 1 : 0);
  PutBytes(out, snapshot.data);
}

bool GetSnapshot(Decoder& decoder, raft::Snapshot* snapshot) {
  raft::SnapshotMetadata& meta = snapshot->metadata;
  uint64_t auto_leave = 0;
  if (!decoder.Varint(&meta.index) || !decoder.Varint(&meta.term) ||
      !GetIds(decoder, &meta.conf_state.voters) ||
      !GetIds(decoder, &meta.conf_state.voters_outgoing) ||
      !GetIds(decoder, &meta.conf_state.learners) ||
      !GetIds(decoder, &meta.conf_state.learners_next) || !decoder.Varint(&auto_leave) ||
      !decoder.Bytes(&snapshot->data)) {
    return false;
  }
  meta.conf_state.auto_leave = auto_leave != 0;
  return true;
}

}  // namespace

std::string EncodeBootstrapRecord(raft::GroupId group, const std::vector<raft::NodeId>& voters) {
  std::string out;
  PutVarint(out, kBootstrap);
  PutVarint(out, group);
  PutIds(out, voters);
  return out;
}

std::string EncodeBatchRecord(raft::GroupId group, const raft::PersistBatch& batch) {
  std::string out;
  PutVarint(out, kBatch);
  PutVarint(out, group);
  PutVarint(out, batch.snapshot.IsEmpty() ? 0 : 1);
  if (!batch.snapshot.IsEmpty()) PutSnapshot(out, batch.snapshot);
  PutVarint(out, batch.entries.size());
  for (const raft::Entry& entry : batch.entries) PutEntry(out, entry);
  PutVarint(out, batch.has_hard_state ? 1 : 0);
  if (batch.has_hard_state) {
    PutVarint(out, batch.hard_state.term);
    PutVarint(out, batch.hard_state.vote);
    PutVarint(out, batch.hard_state.commit);
  }
  return out;
}

absl::StatusOr<std::map<raft::GroupId, std::unique_ptr<raft::MemoryStorage>>> RecoverStorages(
    const std::vector<std::string>& records, const RecoveryOptions& options) {
  std::map<raft::GroupId, std::unique_ptr<raft::MemoryStorage>> storages;
  for (size_t i = 0; i < records.size(); ++i) {
    Decoder decoder(records[i]);
    uint64_t type = 0;
    raft::GroupId group = 0;
    auto malformed = [&](const char* what) {
      return absl::DataLossError(absl::StrCat("raft record ", i, ": ", what));
    };
    if (!decoder.Varint(&type) || !decoder.Varint(&group)) return malformed("no header");
    if (IsEngineRecord(type)) continue;  // RecoverEngines' business
    std::unique_ptr<raft::MemoryStorage>& storage = storages[group];
    if (storage == nullptr) storage = std::make_unique<raft::MemoryStorage>();
    if (type == kBootstrap) {
      std::vector<raft::NodeId> voters;
      if (!GetIds(decoder, &voters) || !decoder.Done()) return malformed("bad bootstrap");
      // No voters: a group this node joined after its creation, empty until its leader
      // sends a snapshot (node/hosted_groups.h).
      if (voters.empty()) continue;
      absl::Status status = raft::RawNode::Bootstrap(*storage, voters);
      if (!status.ok()) return status;
      continue;
    }
    if (type != kBatch) return malformed("unknown record type");
    uint64_t has_snapshot = 0;
    if (!decoder.Varint(&has_snapshot)) return malformed("truncated");
    if (has_snapshot != 0) {
      raft::Snapshot snapshot;
      if (!GetSnapshot(decoder, &snapshot)) return malformed("bad snapshot");
      absl::Status status = storage->ApplySnapshot(snapshot);
      if (!status.ok()) return status;
    }
    uint64_t entry_count = 0;
    if (!decoder.Varint(&entry_count)) return malformed("truncated");
    std::vector<raft::Entry> entries(entry_count);
    for (raft::Entry& entry : entries) {
      if (!GetEntry(decoder, &entry)) return malformed("bad entry");
    }
    if (!entries.empty()) {
      absl::Status status = storage->Append(entries);
      if (!status.ok()) return status;
    }
    uint64_t has_hard_state = 0;
    if (!decoder.Varint(&has_hard_state)) return malformed("truncated");
    if (has_hard_state != 0) {
      raft::HardState hard_state;
      if (!decoder.Varint(&hard_state.term) || !decoder.Varint(&hard_state.vote) ||
          !decoder.Varint(&hard_state.commit)) {
        return malformed("bad hard state");
      }
      storage->SetHardState(hard_state);
    }
    if (!decoder.Done()) return malformed("trailing bytes");
  }
  if (options.forget_vote) {
    for (auto& [group, storage] : storages) {
      raft::HardState hard_state = storage->hard_state();
      hard_state.vote = raft::kNoNode;
      storage->SetHardState(hard_state);
    }
  }
  return storages;
}

}  // namespace ekv::sim

namespace ekv::sim {

std::string EncodeEngineWriteRecord(raft::GroupId group, const kv::WriteBatch& batch) {
  std::string out;
  PutVarint(out, kEngineWrite);
  PutVarint(out, group);
  PutVarint(out, batch.ops().size());
  for (const kv::WriteBatch::Op& op : batch.ops()) {
    PutVarint(out, static_cast<uint64_t>(op.kind));
    PutBytes(out, op.key);
    PutBytes(out, op.value);
  }
  return out;
}

std::string EncodeEngineReplaceRecord(raft::GroupId group, const kv::Engine& contents) {
  std::string records;
  uint64_t count = 0;
  std::unique_ptr<kv::EngineIterator> it = contents.NewIterator({});
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    PutBytes(records, std::string(it->key()));
    PutBytes(records, std::string(it->value()));
    ++count;
  }
  std::string out;
  PutVarint(out, kEngineReplace);
  PutVarint(out, group);
  PutVarint(out, count);
  out += records;
  return out;
}

absl::StatusOr<std::map<raft::GroupId, std::unique_ptr<kv::MemoryEngine>>> RecoverEngines(
    const std::vector<std::string>& records) {
  std::map<raft::GroupId, std::unique_ptr<kv::MemoryEngine>> engines;
  for (size_t i = 0; i < records.size(); ++i) {
    Decoder decoder(records[i]);
    uint64_t type = 0;
    raft::GroupId group = 0;
    auto malformed = [&](const char* what) {
      return absl::DataLossError(absl::StrCat("engine record ", i, ": ", what));
    };
    if (!decoder.Varint(&type) || !decoder.Varint(&group)) return malformed("no header");
    if (!IsEngineRecord(type)) continue;
    std::unique_ptr<kv::MemoryEngine>& engine = engines[group];
    if (engine == nullptr || type == kEngineReplace) engine = std::make_unique<kv::MemoryEngine>();
    uint64_t count = 0;
    if (!decoder.Varint(&count)) return malformed("truncated");
    kv::WriteBatch batch;
    for (uint64_t n = 0; n < count; ++n) {
      uint64_t kind = static_cast<uint64_t>(kv::WriteBatch::OpKind::kPut);
      if (type == kEngineWrite && !decoder.Varint(&kind)) return malformed("truncated op");
      std::string key;
      std::string value;
      if (!decoder.Bytes(&key) || !decoder.Bytes(&value)) return malformed("truncated op");
      switch (static_cast<kv::WriteBatch::OpKind>(kind)) {
        case kv::WriteBatch::OpKind::kPut:
          batch.Put(key, value);
          break;
        case kv::WriteBatch::OpKind::kDelete:
          batch.Delete(key);
          break;
        case kv::WriteBatch::OpKind::kDeleteRange:
          batch.DeleteRange(key, value);
          break;
        default:
          return malformed("unknown op");
      }
    }
    if (!decoder.Done()) return malformed("trailing bytes");
    if (absl::Status s = engine->Write(batch); !s.ok()) return s;
  }
  return engines;
}

}  // namespace ekv::sim
