// RealRedis: a real redis-server (Debian redis-server) on a free 127.0.0.1 port, for
// differential tests that send the same bytes to it and to ekv. Stopped (SIGTERM, then
// SIGKILL) by the destructor; dies with the test process (PR_SET_PDEATHSIG).
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "tests/redis/resp_client.h"

namespace ekv::redis::testing {

// A port nobody listens on right now (the kernel's pick for a socket bound to port 0).
inline int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t size = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  close(fd);
  return ntohs(address.sin_port);
}

// A path under /tmp that no other test process uses: ctest runs the tests of one binary
// as concurrent processes, and a shared name let one test's redis-server read another
// test's half-written ACL file.
inline std::string ProcessTempPath(const std::string& name) {
  return "/tmp/ekv-test-" + std::to_string(getpid()) + "-" + name;
}

class RealRedis {
 public:
  // `extra` are more redis-server arguments, e.g. {"--requirepass", "x"}.
  explicit RealRedis(std::vector<std::string> extra = {})
      : extra_(std::move(extra)),
        log_path_(ProcessTempPath("redis-" + std::to_string(++instances_) + ".log")) {
    Spawn();
  }
  ~RealRedis() {
    Stop();
    unlink(log_path_.c_str());
  }
  RealRedis(const RealRedis&) = delete;
  RealRedis& operator=(const RealRedis&) = delete;

  // Whether `reply` (to INFO server) came from our redis-server, not from another test's
  // that took the port first (then ours exits, and WaitReady starts it again elsewhere). An
  // error reply (a test's ACL file that disables the default user) cannot say whose it is:
  // it counts as ours, as a PING answered with an error did before.
  bool Ours(const std::string& reply) const {
    if (reply.empty()) return false;
    if (reply[0] == '-') return true;
    return reply.find("process_id:" + std::to_string(pid_) + "\r\n") != std::string::npos;
  }

  // Waits (generously: a loaded machine) until it accepts connections. A free port can be
  // taken by another process before redis-server binds it; then redis-server exits and is
  // started again on another port. False when it does not come up; Log() says why.
  bool WaitReady() {
    for (int attempt = 0; attempt < 5; ++attempt) {
      for (int i = 0; i < 1500; ++i) {
        RespClient probe(port_);
        if (probe.connected() && Ours(probe.Call({"INFO", "server"}))) return true;
        if (pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == pid_) {
          pid_ = -1;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (pid_ > 0) return false;  // running but never answering: a restart would not help
      if (Log().find("Address already in use") == std::string::npos) return false;
      Spawn();
    }
    return false;
  }
  int port() const { return port_; }
  // What redis-server wrote to its log (its startup errors, e.g. a bad ACL file).
  std::string Log() const {
    std::string text;
    if (FILE* file = fopen(log_path_.c_str(), "r")) {
      char buffer[4096];
      size_t n;
      while ((n = fread(buffer, 1, sizeof(buffer), file)) > 0) text.append(buffer, n);
      fclose(file);
    }
    return text;
  }

 private:
  void Spawn() {
    port_ = FreePort();
    std::vector<std::string> args = {"/usr/bin/redis-server",
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "no",
                                     "--dir",
                                     "/tmp",
                                     "--daemonize",
                                     "no",
                                     "--logfile",
                                     log_path_};
    args.insert(args.end(), extra_.begin(), extra_.end());
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      FILE* quiet = freopen("/dev/null", "w", stdout);  // its startup banner is noise here
      (void)quiet;
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 300; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }

  static inline int instances_ = 0;
  std::vector<std::string> extra_;
  std::string log_path_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace ekv::redis::testing
