// ApplyWriteBuffer: the state-machine writes of one node-loop round, made one RocksDB write.
//
// Every applied Raft entry used to be its own unsynced RocksDB write (a WAL record, a
// write() syscall and the write path's fixed cost, per entry and replica). With a buffer,
// RocksDbEngine::Write adds its ops to one shared WriteBatchWithIndex instead, and the node
// loop writes the whole batch once per NodeHost::TakeEffects (NodeLoop::Drain), before any
// message or reply of that round leaves the loop. Reads on the loop thread see the
// buffered writes (the index overlays the DB), so apply order and results are unchanged.
//
// Durability is unchanged: these writes were never synced; the Raft log is the durable
// record and a lost tail is re-applied on restart. The batch is atomic, so the applied
// index written with it always matches the data.
//
// Only the data column family is buffered (RocksDbEngine writes nothing else).
// Loop thread only (the thread that applies entries and calls Flush).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "runtime/storage/rocksdb_env.h"

namespace rocksdb {
class WriteBatchWithIndex;
}

namespace ekv::runtime {

class ApplyWriteBuffer {
 public:
  // Buffered ops beyond which Add callers flush early (bounded memory per round).
  static constexpr size_t kMaxBufferedBytes = 16 << 20;

  explicit ApplyWriteBuffer(RocksDbEnv* env);
  ~ApplyWriteBuffer();
  ApplyWriteBuffer(const ApplyWriteBuffer&) = delete;
  ApplyWriteBuffer& operator=(const ApplyWriteBuffer&) = delete;

  rocksdb::WriteBatchWithIndex* batch() { return batch_.get(); }
  bool empty() const;
  size_t buffered_bytes() const;
  // Writes everything buffered as one unsynced RocksDB write and empties the buffer.
  // Refused (FailedPrecondition) while an iterator over the buffer is open: the batch it
  // reads must not change under it. With no iterator open, first tells every round
  // listener to drop what it keeps for the round (even when the buffer is empty).
  absl::Status Flush();

  // Engines keep one iterator over the buffer and the DB for a whole round, reused by
  // every point read of the round's applies (rocksdb_engine.cc, "pooled iterator"):
  // creating and destroying a RocksDB iterator per read cost as much as its seek. A
  // flush ends the round: the pooled iterator reads the batch being cleared and pins the
  // DB's current version (memtables, SST files) against deletion, so it must go first.
  // `owner` identifies the listener for RemoveRoundListener.
  void AddRoundListener(const void* owner, std::function<void()> drop);
  void RemoveRoundListener(const void* owner);

  // Iterators that overlay the buffer register here while they live.
  void IteratorOpened() { ++open_iterators_; }
  void IteratorClosed() { --open_iterators_; }
  int open_iterators() const { return open_iterators_; }

  uint64_t flushes() const { return flushes_; }

 private:
  RocksDbEnv* const env_;
  std::unique_ptr<rocksdb::WriteBatchWithIndex> batch_;
  int open_iterators_ = 0;
  uint64_t flushes_ = 0;
  std::vector<std::pair<const void*, std::function<void()>>> round_listeners_;
};

}  // namespace ekv::runtime
