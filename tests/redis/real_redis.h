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

class RealRedis {
 public:
  // `extra` are more redis-server arguments, e.g. {"--requirepass", "x"}.
  explicit RealRedis(std::vector<std::string> extra = {}) : port_(FreePort()) {
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
                                     ""};
    for (std::string& arg : extra) args.push_back(std::move(arg));
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
  ~RealRedis() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 300; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  RealRedis(const RealRedis&) = delete;
  RealRedis& operator=(const RealRedis&) = delete;

  // Waits (generously: a loaded machine) until it accepts connections.
  bool WaitReady() {
    for (int i = 0; i < 1000; ++i) {
      RespClient probe(port_);
      if (probe.connected() && !probe.Call({"PING"}).empty()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  int port() const { return port_; }

 private:
  int port_;
  pid_t pid_ = -1;
};

}  // namespace ekv::redis::testing
