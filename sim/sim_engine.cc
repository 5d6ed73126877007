#include "sim/sim_engine.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sim/raft_records.h"

namespace ekv::sim {

SimDurableEngine::SimDurableEngine(raft::GroupId group, kv::MemoryEngine* memory, Io io)
    : group_(group), memory_(memory), io_(std::move(io)) {}

absl::StatusOr<std::optional<std::string>> SimDurableEngine::Get(absl::string_view key) const {
  return memory_->Get(key);
}

std::unique_ptr<kv::EngineIterator> SimDurableEngine::NewIterator(
    const kv::IterOptions& options) const {
  return memory_->NewIterator(options);
}

std::unique_ptr<kv::EngineSnapshot> SimDurableEngine::Snapshot() const {
  return memory_->Snapshot();
}

absl::Status SimDurableEngine::Write(const kv::WriteBatch& batch) {
  // A malformed batch is refused before it reaches the log, as RocksDbEngine does.
  if (absl::Status s = memory_->Write(batch); !s.ok()) return s;
  io_.append(EncodeEngineWriteRecord(group_, batch), /*sync=*/false);
  return absl::OkStatus();
}

absl::Status SimDurableEngine::ReplaceWithStaged(absl::string_view staged_ref) {
  const kv::MemoryEngine* staged = io_.staged(staged_ref);
  if (staged == nullptr) {
    return absl::NotFoundError(absl::StrCat("no staged snapshot named ", staged_ref));
  }
  io_.append(EncodeEngineReplaceRecord(group_, *staged), /*sync=*/true);
  kv::WriteBatch replace;
  std::vector<std::string> existing;
  std::unique_ptr<kv::EngineIterator> old = memory_->NewIterator({});
  for (old->SeekToFirst(); old->Valid(); old->Next()) existing.emplace_back(old->key());
  for (const std::string& key : existing) replace.Delete(key);
  std::unique_ptr<kv::EngineIterator> it = staged->NewIterator({});
  for (it->SeekToFirst(); it->Valid(); it->Next()) replace.Put(it->key(), it->value());
  return memory_->Write(replace);
}

std::unique_ptr<kv::MemoryEngine> CopyEngine(const kv::Engine& from) {
  auto copy = std::make_unique<kv::MemoryEngine>();
  kv::WriteBatch batch;
  std::unique_ptr<kv::EngineIterator> it = from.NewIterator({});
  for (it->SeekToFirst(); it->Valid(); it->Next()) batch.Put(it->key(), it->value());
  absl::Status status = copy->Write(batch);
  (void)status;  // puts into a fresh memory engine cannot fail
  return copy;
}

}  // namespace ekv::sim
