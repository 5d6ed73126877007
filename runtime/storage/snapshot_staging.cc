#include "runtime/storage/snapshot_staging.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/sst_file_writer.h"
#include "runtime/storage/rocksdb_engine.h"

namespace ekv::runtime {
namespace {

std::filesystem::path StagingRoot(const RocksDbEnv& env) {
  return std::filesystem::path(env.data_dir()) / "snapshot-staging";
}

// This process's own staging directory: files other processes (earlier lives of this
// node) staged can be told apart and removed without racing with snapshots arriving now.
const std::string& SessionName() {
  static const std::string name =
      absl::StrCat("session-", std::chrono::system_clock::now().time_since_epoch() /
                                   std::chrono::nanoseconds(1));
  return name;
}

std::string StagingDir(const RocksDbEnv& env) {
  return (StagingRoot(env) / SessionName()).string();
}

}  // namespace

absl::Status ForEachGroupRecord(
    RocksDbEnv* env, uint64_t group,
    const std::function<bool(absl::string_view key, absl::string_view value)>& emit) {
  const std::string prefix = GroupDataPrefix(group);
  const std::string end = PrefixSuccessor(prefix);
  rocksdb::Slice lower(prefix);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions options;
  options.iterate_lower_bound = &lower;
  options.iterate_upper_bound = &upper;
  options.fill_cache = false;  // a full scan would evict the hot working set
  options.readahead_size = 2 << 20;
  // An iterator reads one implicit snapshot: later writes to the group are invisible.
  std::unique_ptr<rocksdb::Iterator> it(env->db()->NewIterator(options, env->data()));
  for (it->Seek(lower); it->Valid(); it->Next()) {
    absl::string_view key(it->key().data(), it->key().size());
    key.remove_prefix(prefix.size());
    if (!emit(key, absl::string_view(it->value().data(), it->value().size()))) {
      return absl::CancelledError("snapshot streaming stopped by its consumer");
    }
  }
  return FromRocksStatus(it->status(), absl::StrCat("reading group ", group, "'s records"));
}

absl::StatusOr<std::unique_ptr<StagedSnapshotWriter>> StagedSnapshotWriter::Begin(RocksDbEnv* env,
                                                                                  uint64_t group) {
  static std::atomic<uint64_t> sequence{0};
  const std::string dir = StagingDir(*env);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::InternalError(absl::StrCat("creating ", dir, ": ", error.message()));
  }
  std::unique_ptr<StagedSnapshotWriter> writer(new StagedSnapshotWriter());
  writer->prefix_ = GroupDataPrefix(group);
  const uint64_t now_ns = static_cast<uint64_t>(
      std::chrono::steady_clock::now().time_since_epoch() / std::chrono::nanoseconds(1));
  writer->path_ = (std::filesystem::path(dir) /
                   absl::StrCat("group-", group, "-", now_ns, "-", sequence.fetch_add(1), ".sst"))
                      .string();
  writer->writer_ = std::make_unique<rocksdb::SstFileWriter>(
      rocksdb::EnvOptions(), env->db()->GetOptions(env->data()), env->data());
  if (rocksdb::Status s = writer->writer_->Open(writer->path_); !s.ok()) {
    return FromRocksStatus(s, absl::StrCat("creating staged snapshot ", writer->path_));
  }
  return writer;
}

StagedSnapshotWriter::~StagedSnapshotWriter() {
  if (finished_) return;
  writer_.reset();
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

absl::Status StagedSnapshotWriter::Add(absl::string_view key, absl::string_view value) {
  if (finished_) return absl::FailedPreconditionError("staged snapshot already finished");
  if (records_ > 0 && key <= last_key_) {
    return absl::InvalidArgumentError("snapshot records out of order");
  }
  const std::string full = absl::StrCat(prefix_, key);
  if (rocksdb::Status s = writer_->Put(full, rocksdb::Slice(value.data(), value.size())); !s.ok()) {
    return FromRocksStatus(s, absl::StrCat("writing staged snapshot ", path_));
  }
  last_key_.assign(key.data(), key.size());
  ++records_;
  return absl::OkStatus();
}

absl::StatusOr<std::string> StagedSnapshotWriter::Finish() {
  if (records_ == 0) {
    return absl::InvalidArgumentError("an empty snapshot stream (a group always has records)");
  }
  if (rocksdb::Status s = writer_->Finish(); !s.ok()) {
    return FromRocksStatus(s, absl::StrCat("sealing staged snapshot ", path_));
  }
  finished_ = true;
  return path_;
}

void RemoveStaleStagedSnapshots(RocksDbEnv* env) {
  std::error_code error;
  std::filesystem::directory_iterator it(StagingRoot(*env), error);
  if (error) return;  // nothing staged yet
  for (const std::filesystem::directory_entry& entry : it) {
    if (entry.path().filename() == SessionName()) continue;
    std::error_code ignored;
    std::filesystem::remove_all(entry.path(), ignored);
  }
}

}  // namespace ekv::runtime
