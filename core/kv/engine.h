// The storage-engine seam of kv: an ordered map from byte keys to byte values.
//
// Keys compare bytewise (memcmp, shorter prefix first), as in RocksDB's default
// comparator. There are no column families; layers carve the key space with prefixes
// (key_codec.h). Two implementations: MemoryEngine (memory_engine.h) for tests and the
// simulator, and a RocksDB engine in runtime/. Everything here maps directly onto
// RocksDB: Get, Iterator with iterate_lower/upper_bound, WriteBatch, GetSnapshot.
//
// Reads that can fail (I/O in a disk engine) return absl::Status; the memory engine never
// fails a read.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/kv/write_batch.h"

namespace ekv::kv {

// A cursor over a consistent view: the view of the engine when the iterator was created
// (or of the snapshot it came from). Later writes to the engine are not visible.
// key() and value() are valid until the next call that moves the iterator.
class EngineIterator {
 public:
  virtual ~EngineIterator() = default;

  virtual bool Valid() const = 0;
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  // First key >= target.
  virtual void Seek(absl::string_view target) = 0;
  // Last key <= target.
  virtual void SeekForPrev(absl::string_view target) = 0;
  // Require Valid().
  virtual void Next() = 0;
  virtual void Prev() = 0;
  virtual absl::string_view key() const = 0;
  virtual absl::string_view value() const = 0;
  // Not OK if iteration stopped because of an error rather than the end of the range.
  virtual absl::Status status() const = 0;
};

// Limits an iterator to keys in [lower_bound, upper_bound): keys outside do not exist
// for it, so Seek/SeekToLast/Next/Prev never leave the range. An empty upper_bound
// means "no upper bound". Bounds let a disk engine skip whole files.
struct IterOptions {
  std::string lower_bound;
  std::string upper_bound;
};

// Read access shared by the live engine and its snapshots.
class EngineReader {
 public:
  virtual ~EngineReader() = default;
  virtual absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) const = 0;
  virtual std::unique_ptr<EngineIterator> NewIterator(const IterOptions& options) const = 0;
};

// A frozen read view. It and its iterators stay valid and unchanged however the engine is
// written afterwards; it must not outlive the engine.
class EngineSnapshot : public EngineReader {};

class Engine : public EngineReader {
 public:
  // Applies every op of `batch` in order, atomically. InvalidArgumentError for a
  // malformed batch (a DeleteRange with begin > end), and then nothing is applied.
  virtual absl::Status Write(const WriteBatch& batch) = 0;
  // A consistent view of everything written so far.
  virtual std::unique_ptr<EngineSnapshot> Snapshot() const = 0;

  // Whether writes outlive the process (a disk engine). A durable engine holds the state
  // machine itself, so Raft snapshots only refer to it (node/snapshot_reference.h) and
  // its contents travel out of band, staged by the driver.
  virtual bool durable() const { return false; }
  // Replaces the engine's whole contents with a snapshot the driver staged outside core
  // (for RocksDB, an SST file streamed from the leader), named by `staged_ref`.
  // Engines without staging answer UnimplementedError.
  virtual absl::Status ReplaceWithStaged(absl::string_view staged_ref) {
    return absl::UnimplementedError("this engine cannot install staged snapshots");
  }
  // Drops a staged copy that will not be installed (the state is already newer).
  virtual void DiscardStaged(absl::string_view staged_ref) {}
};

}  // namespace ekv::kv
