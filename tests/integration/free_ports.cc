// Ports for test servers, chosen so that nothing else can take them between the choice and
// the server's bind:
//  - below the kernel's ephemeral range (ip_local_port_range), which outgoing connections
//    draw their source ports from: a port handed out by bind(0) is in that range and a
//    busy machine's next connect() may take it before the server starts (seen: a node
//    started seconds after its cluster was planned found its port "in use");
//  - reserved across test processes by a file named for the port, holding the pid of the
//    process that reserved it; a reservation whose process is gone is taken over.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/util/assert.h"
#include "tests/integration/process_cluster.h"

namespace ekv::integration {
namespace {

// The lowest port of the ephemeral range (32768 on Linux unless configured otherwise).
int EphemeralLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  int high = 0;
  if (in >> low >> high && low > 2048) return low;
  return 32768;
}

std::string ReservationDir() {
  const char* base = getenv("TMPDIR");
  const std::string dir =
      absl::StrCat(base != nullptr && *base != '\0' ? base : "/tmp", "/ekv-test-ports");
  mkdir(dir.c_str(), 0700);  // exists already: fine
  return dir;
}

bool ProcessAlive(pid_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

// Creates dir/port holding our pid; takes over a file whose process has exited.
bool Reserve(const std::string& dir, int port) {
  const std::string path = absl::StrCat(dir, "/", port);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      const std::string pid = absl::StrCat(getpid());
      const bool written = write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size());
      close(fd);
      return written;
    }
    if (errno != EEXIST) return false;
    std::ifstream in(path);
    std::string owner_text;
    in >> owner_text;
    int owner = 0;
    // A file still being written by its owner reads empty: leave it to that owner.
    if (!absl::SimpleAtoi(owner_text, &owner) || ProcessAlive(owner)) return false;
    unlink(path.c_str());  // a dead process's reservation; a racing taker loses at O_EXCL
  }
  return false;
}

// Whether a listener could bind 127.0.0.1:port now (as ekv-server does, SO_REUSEADDR).
bool Bindable(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EKV_ASSERT(fd >= 0, "socket failed: ", std::strerror(errno));
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  const bool bound = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return bound;
}

}  // namespace

std::vector<int> PickFreePorts(int count) {
  EKV_ASSERT(count >= 0, "negative port count ", count);
  const int high = EphemeralLow() - 1;
  const int low = std::max(1024, high - 16383);
  const std::string dir = ReservationDir();
  std::mt19937_64 rng(std::random_device{}() ^ static_cast<uint64_t>(getpid()));
  std::uniform_int_distribution<int> pick(low, high);
  std::vector<int> ports;
  for (int tries = 0; static_cast<int>(ports.size()) < count; ++tries) {
    EKV_ASSERT(tries < 100000, "no free port in ", low, "..", high, " after ", tries, " tries");
    const int port = pick(rng);
    if (std::find(ports.begin(), ports.end(), port) != ports.end()) continue;
    if (!Bindable(port) || !Reserve(dir, port)) continue;
    ports.push_back(port);
  }
  return ports;
}

}  // namespace ekv::integration
