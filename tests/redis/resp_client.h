// RespClient: a minimal blocking Redis client for tests. Sends raw bytes or commands
// (encoded as RESP arrays) and reads whole replies back as their exact bytes, so tests
// can compare replies byte for byte. Every read is bounded by a timeout.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace ekv::redis::testing {

inline std::string EncodeCommand(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& arg : args) {
    out += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
  }
  return out;
}

// Length of the complete reply at the start of `data`, or nullopt if it is incomplete.
inline std::optional<size_t> ReplyLength(const std::string& data, size_t pos = 0) {
  const size_t eol = data.find("\r\n", pos);
  if (eol == std::string::npos || pos >= data.size()) return std::nullopt;
  const char type = data[pos];
  const std::string line = data.substr(pos + 1, eol - pos - 1);
  size_t end = eol + 2;
  switch (type) {
    case '+':
    case '-':
    case ':':
    case '_':
    case ',':
    case '#':
      return end - pos;
    case '$':
    case '=':
    case '!': {
      const long long n = std::stoll(line);
      if (n < 0) return end - pos;
      if (data.size() < end + static_cast<size_t>(n) + 2) return std::nullopt;
      return end + static_cast<size_t>(n) + 2 - pos;
    }
    case '*':
    case '~':
    case '%':
    case '>': {
      long long n = std::stoll(line);
      if (type == '%') n *= 2;
      for (long long i = 0; i < n; ++i) {
        std::optional<size_t> element = ReplyLength(data, end);
        if (!element) return std::nullopt;
        end += *element;
      }
      return end - pos;
    }
    default:
      return std::string::npos;  // not RESP: the caller fails
  }
}

class RespClient {
 public:
  explicit RespClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~RespClient() { close(fd_); }
  RespClient(const RespClient&) = delete;
  RespClient& operator=(const RespClient&) = delete;

  bool connected() const { return connected_; }
  int fd() const { return fd_; }

  bool SendRaw(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }
  bool Send(const std::vector<std::string>& args) { return SendRaw(EncodeCommand(args)); }

  // The next whole reply's bytes; "" on timeout or when the server closed first.
  std::string ReadReply(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (std::optional<size_t> length = ReplyLength(buffer_); length.has_value()) {
        if (*length == std::string::npos) return "<not RESP: " + buffer_ + ">";
        std::string reply = buffer_.substr(0, *length);
        buffer_.erase(0, *length);
        return reply;
      }
      if (!Fill(deadline)) return "";
    }
  }

  std::string Call(const std::vector<std::string>& args) {
    if (!Send(args)) return "";
    return ReadReply();
  }

  // True when the server closed the connection (EOF) within `timeout`, with no more data.
  bool ClosedByServer(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (buffer_.empty()) {
      pollfd p{fd_, POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char chunk[4096];
      const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) return true;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
    return false;
  }

 private:
  bool Fill(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[65536];
    const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

}  // namespace ekv::redis::testing
