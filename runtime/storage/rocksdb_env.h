// One RocksDB instance per node data directory, shared by every Raft group and the kv
// engine of that node.
//
// Column families:
//   raft_log    Raft log entries of every group, keyed (group, index) big-endian, so each
//               group's log is one contiguous key range (rocksdb_raft_storage.h).
//   raft_state  Per-group hard state, log offset and snapshot metadata; small and hot.
//   data        The kv engine's ordered map (rocksdb_engine.h).
//
// Sharing one DB means one WAL: a single synced write can make many groups' Raft state
// durable at once (group commit), and WAL order is a total order across column families,
// so a durable write implies every earlier write (of any family) is durable too.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rocksdb {
class Cache;
class ColumnFamilyHandle;
class DB;
class Status;
class WriteBatch;
}  // namespace rocksdb

namespace ekv::runtime {

struct RocksDbEnvOptions {
  // Shared LRU block cache for all column families.
  uint64_t block_cache_bytes = 64ull << 20;
  // Memtable size per column family before a flush.
  uint64_t write_buffer_bytes = 32ull << 20;
  // Total WAL size that forces flushes of the column families pinning old WAL files
  // (raft_state changes rarely, so without a bound it could pin the WAL forever).
  uint64_t max_total_wal_bytes = 256ull << 20;
  // Background range syncs of SST and WAL files, so a final fsync never has to flush a
  // large backlog at once (avoids latency spikes on the synced Raft writes).
  uint64_t bytes_per_sync = 1ull << 20;
  uint64_t wal_bytes_per_sync = 512ull << 10;
  int max_background_jobs = 2;
  // When false, Open fails if there is no DB yet: a restarting node whose data dir
  // vanished must not silently come back empty and vote again.
  bool create_if_missing = true;
  // PLANTED BUG, testing only (ekv-server --planted_bugs ack_before_fsync; off by
  // default): every write, the "synced" ones that certify Raft batches included, skips
  // the WAL and its fsync and returns as soon as the memtable holds it, so the node
  // acknowledges Raft appends, votes and client writes that are not durable. A writeback
  // thread flushes the memtables (atomically across column families) every
  // `planted_writeback_ms`, like an OS page cache: a kill -9 loses the writes of the last
  // window, raft log and state machine alike. Black-box tests (jepsen/) must catch it.
  bool planted_ack_before_fsync = false;
  int planted_writeback_ms = 1000;
};

// Proof that a WriteBatch was written with sync=true and RocksDB returned OK. Only
// RocksDbEnv::WriteSynced makes one; RocksDbRaftStorage::ApplyAfterCommit requires one,
// so a Raft group cannot be told "durable" by code that skipped the fsync.
class SyncedWrite {
 public:
  const rocksdb::WriteBatch* batch() const { return batch_; }
  uint64_t sequence() const { return sequence_; }

 private:
  friend class RocksDbEnv;
  SyncedWrite(const rocksdb::WriteBatch* batch, uint64_t sequence)
      : batch_(batch), sequence_(sequence) {}
  const rocksdb::WriteBatch* batch_;
  uint64_t sequence_;  // DB sequence number after the write
};

class RocksDbEnv {
 public:
  static constexpr absl::string_view kRaftLogFamily = "raft_log";
  static constexpr absl::string_view kRaftStateFamily = "raft_state";
  static constexpr absl::string_view kDataFamily = "data";

  // Opens (or creates) the DB in `data_dir`. Errors name the directory and the cause: not
  // a directory, not writable, or locked by another process (RocksDB's LOCK file).
  static absl::StatusOr<std::unique_ptr<RocksDbEnv>> Open(const std::string& data_dir,
                                                          const RocksDbEnvOptions& options = {});
  ~RocksDbEnv();  // closes the DB (releases the LOCK file)
  RocksDbEnv(const RocksDbEnv&) = delete;
  RocksDbEnv& operator=(const RocksDbEnv&) = delete;

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* raft_log() const { return raft_log_; }
  rocksdb::ColumnFamilyHandle* raft_state() const { return raft_state_; }
  rocksdb::ColumnFamilyHandle* data() const { return data_; }
  const std::string& data_dir() const { return data_dir_; }

  // Writes `batch` with sync=true (WAL fsync'd before returning). The only way to obtain a
  // SyncedWrite.
  absl::StatusOr<SyncedWrite> WriteSynced(rocksdb::WriteBatch* batch);
  // Writes `batch` with the given sync flag; for writes that certify nothing.
  absl::Status Write(rocksdb::WriteBatch* batch, bool sync);

  // Flushes every column family's memtables and compacts each family's whole key range
  // to the bottom level, so deleted and overwritten records (a truncated Raft log, old
  // applied indexes) are dropped and obsolete WAL files go away. For bench/footprint and
  // offline maintenance: it rewrites every SST file, never call it on a serving node's
  // hot path.
  absl::Status FlushAndCompactAll();
  // Bytes of live SST files per column family, in the order default, raft_log,
  // raft_state, data (RocksDB's "rocksdb.live-sst-files-size").
  struct FamilySize {
    std::string family;
    uint64_t live_sst_bytes = 0;
  };
  std::vector<FamilySize> LiveSstBytesPerFamily() const;

  // Number of synced writes issued; for tests and benchmarks.
  uint64_t synced_write_count() const { return synced_write_count_.load(); }

 private:
  RocksDbEnv() = default;
  // PLANTED BUG ack_before_fsync: the write options every write uses (no WAL, no sync).
  bool planted_ack_before_fsync_ = false;
  // PLANTED BUG ack_before_fsync: the writeback thread (see RocksDbEnvOptions).
  void RunPlantedWriteback(int interval_ms);
  std::mutex writeback_mu_;
  std::condition_variable writeback_cv_;
  bool writeback_stopping_ = false;
  std::thread writeback_;

  std::string data_dir_;
  std::shared_ptr<rocksdb::Cache> block_cache_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned; destroyed before db_
  rocksdb::ColumnFamilyHandle* raft_log_ = nullptr;
  rocksdb::ColumnFamilyHandle* raft_state_ = nullptr;
  rocksdb::ColumnFamilyHandle* data_ = nullptr;
  std::atomic<uint64_t> synced_write_count_{0};  // writers may be on many threads
};

// Converts a RocksDB status, prefixing `context` (what was being done, on what).
absl::Status FromRocksStatus(const rocksdb::Status& status, absl::string_view context);

}  // namespace ekv::runtime
