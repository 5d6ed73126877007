#include "runtime/storage/rocksdb_env.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "tests/runtime/temp_dir.h"

namespace ekv::runtime {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(RocksDbEnvTest, CreatesTheDirAndItsColumnFamilies) {
  TempDir dir;
  const std::string data_dir = dir.Child("node1/data");  // parents are created too
  absl::StatusOr<std::unique_ptr<RocksDbEnv>> env = RocksDbEnv::Open(data_dir);
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ((*env)->raft_log()->GetName(), "raft_log");
  EXPECT_EQ((*env)->raft_state()->GetName(), "raft_state");
  EXPECT_EQ((*env)->data()->GetName(), "data");
  EXPECT_EQ((*env)->data_dir(), data_dir);
}

TEST(RocksDbEnvTest, ReopenSeesSyncedWrites) {
  TempDir dir;
  {
    auto env = RocksDbEnv::Open(dir.path());
    ASSERT_TRUE(env.ok()) << env.status();
    rocksdb::WriteBatch batch;
    batch.Put((*env)->data(), "k", "v");
    ASSERT_TRUE((*env)->WriteSynced(&batch).ok());
    EXPECT_EQ((*env)->synced_write_count(), 1u);
  }
  auto env = RocksDbEnv::Open(dir.path());
  ASSERT_TRUE(env.ok()) << env.status();
  std::string value;
  ASSERT_TRUE((*env)->db()->Get(rocksdb::ReadOptions(), (*env)->data(), "k", &value).ok());
  EXPECT_EQ(value, "v");
}

TEST(RocksDbEnvTest, RefusesAFileAsDataDir) {
  TempDir dir;
  const std::string file = dir.Child("plain_file");
  std::ofstream(file) << "not a db";
  absl::StatusOr<std::unique_ptr<RocksDbEnv>> env = RocksDbEnv::Open(file);
  ASSERT_FALSE(env.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(env.status())) << env.status();
  EXPECT_THAT(std::string(env.status().message()),
              AllOf(HasSubstr(file), HasSubstr("not a directory")));
  // A path below a file cannot be created either.
  env = RocksDbEnv::Open(file + "/below");
  ASSERT_FALSE(env.ok());
  EXPECT_THAT(std::string(env.status().message()), HasSubstr(file + "/below"));
}

// What Open says of a data dir it may not write, empty when it says the right thing.
std::string UnwritableDirComplaint(const std::string& data_dir) {
  absl::StatusOr<std::unique_ptr<RocksDbEnv>> env = RocksDbEnv::Open(data_dir);
  if (env.ok()) return "opened a dir it may not write";
  const std::string message(env.status().message());
  if (!absl::IsFailedPrecondition(env.status()) || message.find(data_dir) == std::string::npos ||
      message.find("not writable") == std::string::npos) {
    return "unexpected status: " + env.status().ToString();
  }
  return "";
}

TEST(RocksDbEnvTest, RefusesAnUnwritableDir) {
  TempDir dir;
  const std::string data_dir = dir.Child("read_only");
  ASSERT_EQ(::mkdir(data_dir.c_str(), 0500), 0);
  if (::geteuid() != 0) {
    EXPECT_EQ(UnwritableDirComplaint(data_dir), "");
    return;
  }
  // Root ignores directory permissions (CI runs as root): open it as nobody, in a child
  // process, which may pass through the temp dir but not write below it.
  ASSERT_EQ(::chmod(dir.path().c_str(), 0711), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) _exit(2);
    const std::string complaint = UnwritableDirComplaint(data_dir);
    if (!complaint.empty()) std::fprintf(stderr, "%s\n", complaint.c_str());
    _exit(complaint.empty() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died: status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "as nobody (2: could not drop to nobody)";
}

TEST(RocksDbEnvTest, MissingDirWithoutCreateIfMissingIsNotFound) {
  TempDir dir;
  RocksDbEnvOptions options;
  options.create_if_missing = false;
  absl::StatusOr<std::unique_ptr<RocksDbEnv>> env = RocksDbEnv::Open(dir.Child("gone"), options);
  ASSERT_FALSE(env.ok());
  EXPECT_TRUE(absl::IsNotFound(env.status())) << env.status();
  // An existing but empty dir has no DB either: RocksDB reports it.
  env = RocksDbEnv::Open(dir.path(), options);
  ASSERT_FALSE(env.ok());
  EXPECT_THAT(std::string(env.status().message()), HasSubstr(dir.path()));
}

TEST(RocksDbEnvTest, SecondOpenInTheSameProcessReportsTheLock) {
  TempDir dir;
  auto first = RocksDbEnv::Open(dir.path());
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<RocksDbEnv>> second = RocksDbEnv::Open(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
  EXPECT_THAT(
      std::string(second.status().message()),
      AllOf(HasSubstr(dir.path()), HasSubstr("locked by another process"), HasSubstr("LOCK")));
  first->reset();  // closing releases the lock
  EXPECT_TRUE(RocksDbEnv::Open(dir.path()).ok());
}

// Another process holds the fcntl lock RocksDB takes on <dir>/LOCK, as a second ekv node
// on the same dir would.
TEST(RocksDbEnvTest, DirLockedByAnotherProcessIsReported) {
  TempDir dir;
  { ASSERT_TRUE(RocksDbEnv::Open(dir.path()).ok()); }  // creates the DB and its LOCK file
  const std::string lock_file = dir.Child("LOCK");
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Only async-signal-safe calls in the child of a multi-threaded parent.
    const int fd = ::open(lock_file.c_str(), O_RDWR);
    struct flock lock = {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    const char result = (fd >= 0 && ::fcntl(fd, F_SETLK, &lock) == 0) ? 'y' : 'n';
    if (::write(ready[1], &result, 1) != 1) ::_exit(1);
    ::pause();  // until killed
    ::_exit(0);
  }
  char result = 0;
  ASSERT_EQ(::read(ready[0], &result, 1), 1);
  ASSERT_EQ(result, 'y') << "child could not lock " << lock_file;
  absl::StatusOr<std::unique_ptr<RocksDbEnv>> env = RocksDbEnv::Open(dir.path());
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  ASSERT_FALSE(env.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(env.status())) << env.status();
  EXPECT_THAT(std::string(env.status().message()),
              AllOf(HasSubstr(dir.path()), HasSubstr("locked by another process")));
  // The lock died with the process.
  EXPECT_TRUE(RocksDbEnv::Open(dir.path()).ok());
}

}  // namespace
}  // namespace ekv::runtime
