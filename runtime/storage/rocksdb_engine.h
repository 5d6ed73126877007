// kv::Engine on the `data` column family of a node's RocksDB (rocksdb_env.h).
//
// A direct mapping: Get -> DB::Get, iterators -> rocksdb::Iterator with
// iterate_lower_bound/iterate_upper_bound (bounds let RocksDB skip whole files),
// WriteBatch -> rocksdb::WriteBatch (one atomic write), Snapshot -> DB::GetSnapshot plus
// ReadOptions::snapshot. RocksDB iterators read an implicit snapshot taken at creation,
// which is what kv::EngineIterator promises.
//
// Writes are not synced by default: the engine holds state derived from the Raft log,
// which is the durable record (a lost tail is re-applied on restart). `sync_writes`
// makes every Write fsync the WAL for callers that need it.
//
// Thread-safe as RocksDB is; iterators and snapshots are used by one thread at a time.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/kv/engine.h"
#include "runtime/storage/rocksdb_env.h"

namespace ekv::runtime {

class ApplyWriteBuffer;

struct RocksDbEngineOptions {
  // Every key of this engine lives under this prefix of the data column family, invisibly
  // to the user: one engine per Raft group shares the node's DB (GroupDataPrefix).
  std::string key_prefix;
  bool sync_writes = false;
  // Whether reads through iterators populate the block cache; off for big scans (GC,
  // snapshot building) that would evict the hot working set.
  bool iterators_fill_cache = true;
  // Optional, shared by every engine of the node and flushed by the node loop once per
  // round (apply_write_buffer.h): writes go into it and reads overlay it. Loop thread
  // only. Null: every Write is its own RocksDB write.
  ApplyWriteBuffer* apply_buffer = nullptr;
};

// The data-family prefix of one group's engine: the group id, 8 bytes big-endian, so each
// group's state is one contiguous key range (cheap to stream, delete and replace).
std::string GroupDataPrefix(uint64_t group);
// The smallest key above every key starting with `prefix` (empty: none; `prefix` is all
// 0xff bytes or empty).
std::string PrefixSuccessor(absl::string_view prefix);

class RocksDbEngine final : public kv::Engine {
 public:
  // `env` must outlive the engine, and the engine its snapshots and iterators.
  explicit RocksDbEngine(RocksDbEnv* env, const RocksDbEngineOptions& options = {});
  ~RocksDbEngine() override;
  // The apply buffer's round listener holds `this`.
  RocksDbEngine(const RocksDbEngine&) = delete;
  RocksDbEngine& operator=(const RocksDbEngine&) = delete;

  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) const override;
  std::unique_ptr<kv::EngineIterator> NewIterator(const kv::IterOptions& options) const override;
  absl::Status Write(const kv::WriteBatch& batch) override;
  std::unique_ptr<kv::EngineSnapshot> Snapshot() const override;
  bool durable() const override { return true; }
  // `staged_ref`: the path of an SST file of prefixed keys within this engine's prefix
  // (snapshot_staging.h). Deletes the engine's keys, ingests the file and removes it.
  absl::Status ReplaceWithStaged(absl::string_view staged_ref) override;
  void DiscardStaged(absl::string_view staged_ref) override;

  // Pooled iterators created so far (with an apply buffer: at most one per round that
  // read this engine); for tests.
  uint64_t pooled_iterators_made() const { return pooled_iterators_made_; }

 private:
  absl::Status WriteToBuffer(const kv::WriteBatch& batch, ApplyWriteBuffer* buffer);
  // Ends the round's pooled iterator (ApplyWriteBuffer::AddRoundListener).
  void DropPooledIterator() const;
  // Writes what the shared apply buffer holds (if any) before a direct DB access.
  void FlushApplyBuffer() const;

  RocksDbEnv* const env_;
  const RocksDbEngineOptions options_;
  // With an apply buffer: the round's reusable unbounded iterator (null until the first
  // read of a round), and whether a LentIterator has it now. Loop thread only.
  mutable std::unique_ptr<kv::EngineIterator> pooled_;
  mutable bool pooled_lent_ = false;
  mutable uint64_t pooled_iterators_made_ = 0;
};

}  // namespace ekv::runtime
