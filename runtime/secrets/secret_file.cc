#include "runtime/secrets/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ekv::runtime {
namespace {

// Closes the descriptor on every return path.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  const int fd_;
};

absl::Status CannotRead(const std::string& path, int error) {
  return absl::InvalidArgumentError(absl::StrCat("cannot read ", path, ": ", std::strerror(error)));
}

}  // namespace

absl::StatusOr<std::string> ReadSecretFile(const std::string& path, absl::string_view what) {
  // O_NONBLOCK: opening a FIFO named by mistake must not hang the startup; it is refused
  // below as not a regular file.
  const FileDescriptor fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) return CannotRead(path, errno);
  struct stat file_stat;
  if (fstat(fd.get(), &file_stat) != 0) return CannotRead(path, errno);
  if (!S_ISREG(file_stat.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a regular file"));
  }
  if ((file_stat.st_mode & (S_IRGRP | S_IROTH)) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s is readable by users other than its owner (mode %04o); refusing %s others can "
        "read (chmod 600 it)",
        path, file_stat.st_mode & 07777, what));
  }
  if (static_cast<size_t>(file_stat.st_size) > kMaxSecretFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s is larger than %d bytes", path, kMaxSecretFileBytes));
  }
  std::string contents;
  char buffer[8192];
  for (;;) {
    const ssize_t n = read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return CannotRead(path, errno);
    }
    if (n == 0) break;
    // The file may have grown since fstat.
    if (contents.size() + static_cast<size_t>(n) > kMaxSecretFileBytes) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s is larger than %d bytes", path, kMaxSecretFileBytes));
    }
    contents.append(buffer, static_cast<size_t>(n));
  }
  return contents;
}

}  // namespace ekv::runtime
