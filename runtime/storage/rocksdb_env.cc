#include "runtime/storage/rocksdb_env.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/util/assert.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace ekv::runtime {
namespace {

// Checks what RocksDB would otherwise report obscurely: the path is a directory (created
// if allowed) and this process may create files in it.
absl::Status PrepareDataDir(const std::string& data_dir, bool create_if_missing) {
  struct stat info;
  if (::stat(data_dir.c_str(), &info) == 0) {
    if (!S_ISDIR(info.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat("data dir ", data_dir, " exists but is not a directory"));
    }
  } else if (errno != ENOENT) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot stat data dir ", data_dir, ": ", std::strerror(errno)));
  } else if (!create_if_missing) {
    return absl::NotFoundError(
        absl::StrCat("data dir ", data_dir, " does not exist and create_if_missing is off"));
  } else {
    std::error_code error;
    std::filesystem::create_directories(data_dir, error);
    if (error) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create data dir ", data_dir, ": ", error.message()));
    }
  }
  // access(W_OK) says nothing about read-only mounts or full disks; creating a file does.
  const std::string probe = data_dir + "/.ekv_write_probe";
  const int fd = ::open(probe.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat("data dir ", data_dir,
                                                      " is not writable (creating ", probe,
                                                      " failed: ", std::strerror(errno), ")"));
  }
  ::close(fd);
  ::unlink(probe.c_str());
  return absl::OkStatus();
}

rocksdb::ColumnFamilyOptions FamilyOptions(const RocksDbEnvOptions& options,
                                           const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions family;
  family.write_buffer_size = options.write_buffer_bytes;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.cache_index_and_filter_blocks = true;  // bounded by the block cache, not unbounded
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  // Partitioned index and filters (4 KiB partitions under a small pinned top level): with
  // one monolithic filter and index per SST file, a file of a million keys has a filter
  // block of ~1.2 MiB, and once random reads of data blocks evict it from the block cache,
  // every point read that misses reads it back and checksums it whole. bench/footprint
  // showed that: past ~500K keys the Redis SET rate fell from 4K/s to 300/s, 60% of the
  // node's CPU in XXH3 over filter blocks under WriteBatchWithIndex::GetFromBatchAndDB.
  table.index_type = rocksdb::BlockBasedTableOptions::IndexType::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.metadata_block_size = 4096;
  table.pin_top_level_index_and_filter = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  // Most point reads of the MVCC layer ask for keys that do not exist (no lock on the
  // key, no expiry record): whole-key Bloom filters answer those without searching the
  // memtable's skiplist or reading SST blocks.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  family.memtable_whole_key_filtering = true;
  family.memtable_prefix_bloom_size_ratio = 0.05;
  family.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return family;
}

}  // namespace

absl::Status FromRocksStatus(const rocksdb::Status& status, absl::string_view context) {
  if (status.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(context, ": ", status.ToString());
  // Never OutOfRange or Unavailable: raft::Storage reserves those for "compacted" and
  // "not yet written", and an I/O failure must not be mistaken for either.
  if (status.IsNotFound()) return absl::NotFoundError(message);
  if (status.IsCorruption()) return absl::DataLossError(message);
  if (status.IsInvalidArgument()) return absl::InvalidArgumentError(message);
  if (status.IsNotSupported()) return absl::UnimplementedError(message);
  if (status.IsNoSpace()) return absl::ResourceExhaustedError(message);
  if (status.IsBusy() || status.IsAborted() || status.IsTryAgain()) {
    return absl::AbortedError(message);
  }
  if (status.IsTimedOut()) return absl::DeadlineExceededError(message);
  return absl::InternalError(message);
}

absl::StatusOr<std::unique_ptr<RocksDbEnv>> RocksDbEnv::Open(const std::string& data_dir,
                                                             const RocksDbEnvOptions& options) {
  if (absl::Status status = PrepareDataDir(data_dir, options.create_if_missing); !status.ok()) {
    return status;
  }
  std::unique_ptr<RocksDbEnv> env(new RocksDbEnv());
  env->data_dir_ = data_dir;
  env->block_cache_ = rocksdb::NewLRUCache(options.block_cache_bytes);

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.bytes_per_sync = options.bytes_per_sync;
  db_options.wal_bytes_per_sync = options.wal_bytes_per_sync;
  db_options.max_total_wal_size = options.max_total_wal_bytes;
  db_options.max_background_jobs = options.max_background_jobs;
  db_options.keep_log_file_num = 4;  // RocksDB's info LOG files
  db_options.paranoid_checks = true;
  // PLANTED BUG ack_before_fsync: without a WAL, only an atomic flush keeps the column
  // families (raft log, raft state, data) at one point in time on disk.
  if (options.planted_ack_before_fsync) db_options.atomic_flush = true;

  const rocksdb::ColumnFamilyOptions family = FamilyOptions(options, env->block_cache_);
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, family},
      {std::string(kRaftLogFamily), family},
      {std::string(kRaftStateFamily), family},
      {std::string(kDataFamily), family},
  };
  rocksdb::DB* db = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(db_options, data_dir, families, &env->handles_, &db);
  if (!status.ok()) {
    // RocksDB takes an fcntl lock on <dir>/LOCK; a second opener (another process, or this
    // one opening the dir twice) fails with an I/O error naming that file ("While lock
    // file: <dir>/LOCK: Resource temporarily unavailable", or "lock hold by current
    // process ... <dir>/LOCK").
    if (status.IsIOError() && absl::StrContains(status.ToString(), data_dir + "/LOCK")) {
      return absl::FailedPreconditionError(absl::StrCat(
          "data dir ", data_dir, " is locked by another process (RocksDB LOCK file ", data_dir,
          "/LOCK is held; is another ekv node using this dir?): ", status.ToString()));
    }
    return FromRocksStatus(status, absl::StrCat("opening RocksDB in data dir ", data_dir));
  }
  env->db_.reset(db);
  EKV_ASSERT(env->handles_.size() == families.size(), "RocksDB returned ", env->handles_.size(),
             " column family handles for ", families.size(), " families");
  env->raft_log_ = env->handles_[1];
  env->raft_state_ = env->handles_[2];
  env->data_ = env->handles_[3];
  if (options.planted_ack_before_fsync) {
    env->planted_ack_before_fsync_ = true;
    const int interval_ms = std::max(1, options.planted_writeback_ms);
    RocksDbEnv* raw = env.get();
    env->writeback_ = std::thread([raw, interval_ms] { raw->RunPlantedWriteback(interval_ms); });
  }
  return env;
}

void RocksDbEnv::RunPlantedWriteback(int interval_ms) {
  std::unique_lock<std::mutex> lock(writeback_mu_);
  while (!writeback_cv_.wait_for(lock, std::chrono::milliseconds(interval_ms),
                                 [this] { return writeback_stopping_; })) {
    rocksdb::FlushOptions flush;
    flush.wait = true;
    (void)db_->Flush(flush, handles_);  // a failed writeback only loses more on a crash
  }
}

RocksDbEnv::~RocksDbEnv() {
  if (writeback_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(writeback_mu_);
      writeback_stopping_ = true;
    }
    writeback_cv_.notify_all();
    writeback_.join();
  }
  if (db_ == nullptr) return;
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    rocksdb::Status status = db_->DestroyColumnFamilyHandle(handle);
    EKV_ASSERT(status.ok(), "destroying a column family handle failed: ", status.ToString());
  }
  handles_.clear();
  // Close reports errors a destructor would swallow; nothing can be done about them here,
  // and unsynced writes were never certified, so losing them is allowed.
  (void)db_->Close();
  db_.reset();
}

absl::StatusOr<SyncedWrite> RocksDbEnv::WriteSynced(rocksdb::WriteBatch* batch) {
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  if (planted_ack_before_fsync_) {  // PLANTED BUG: "synced" yet only in the memtable
    write_options.sync = false;
    write_options.disableWAL = true;
  }
  rocksdb::Status status = db_->Write(write_options, batch);
  if (!status.ok()) {
    return FromRocksStatus(
        status, absl::StrCat("synced write of ", batch->Count(), " ops to RocksDB in ", data_dir_));
  }
  ++synced_write_count_;
  return SyncedWrite(batch, db_->GetLatestSequenceNumber());
}

absl::Status RocksDbEnv::FlushAndCompactAll() {
  rocksdb::FlushOptions flush;
  flush.wait = true;
  if (absl::Status status =
          FromRocksStatus(db_->Flush(flush, handles_), absl::StrCat("flushing ", data_dir_));
      !status.ok()) {
    return status;
  }
  rocksdb::CompactRangeOptions compact;
  // Rewrite the bottommost files too: that is where a Raft log's tombstones meet the
  // entries they delete.
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    if (absl::Status status = FromRocksStatus(
            db_->CompactRange(compact, handle, nullptr, nullptr),
            absl::StrCat("compacting family ", handle->GetName(), " in ", data_dir_));
        !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

std::vector<RocksDbEnv::FamilySize> RocksDbEnv::LiveSstBytesPerFamily() const {
  std::vector<FamilySize> sizes;
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    FamilySize size{handle->GetName(), 0};
    if (!db_->GetIntProperty(handle, "rocksdb.live-sst-files-size", &size.live_sst_bytes)) {
      size.live_sst_bytes = 0;  // property unknown to this RocksDB: reported as 0
    }
    sizes.push_back(std::move(size));
  }
  return sizes;
}

absl::Status RocksDbEnv::Write(rocksdb::WriteBatch* batch, bool sync) {
  rocksdb::WriteOptions write_options;
  write_options.sync = sync;
  if (planted_ack_before_fsync_) {  // PLANTED BUG: see WriteSynced
    write_options.sync = false;
    write_options.disableWAL = true;
  }
  return FromRocksStatus(
      db_->Write(write_options, batch),
      absl::StrCat("write of ", batch->Count(), " ops to RocksDB in ", data_dir_));
}

}  // namespace ekv::runtime
