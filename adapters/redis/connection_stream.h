// ConnectionStream: the bytes of one Redis connection, plaintext or TLS (OpenSSL), on a
// non-blocking socket the event loop owns. TlsContext holds the server's certificate and
// key (--tls_cert_file/--tls_key_file), loaded once at startup.
//
// TLS runs inside the loop thread: the handshake happens implicitly in the first reads
// and writes (SSL_set_accept_state), so a slow or silent client never blocks anyone.
// A client that speaks plaintext to a TLS port fails the handshake and is closed.
//
// Level-triggered epoll and TLS: OpenSSL may hold decrypted bytes the socket no longer
// signals. ReadSome therefore drains everything OpenSSL has buffered (at most one record,
// 16 KiB, beyond its budget), so the socket's readability stays the truth about pending
// input.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace ekv::redis {

class TlsContext {
 public:
  // A server context for the PEM files; an error names the file OpenSSL refused.
  static absl::StatusOr<std::unique_ptr<TlsContext>> FromFiles(const std::string& cert_file,
                                                               const std::string& key_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  SSL_CTX* get() const { return ctx_; }

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

class ConnectionStream {
 public:
  // `tls` null: plaintext. The stream does not own `fd`.
  ConnectionStream(int fd, const TlsContext* tls);
  ~ConnectionStream();
  ConnectionStream(const ConnectionStream&) = delete;
  ConnectionStream& operator=(const ConnectionStream&) = delete;

  enum class Status { kOk, kWouldBlock, kClosed };
  // Appends to `input` about `budget` bytes at most (see above); kOk when any came.
  Status ReadSome(std::string* input, size_t budget);
  // Writes a prefix of [data, data + size); `written` gets its length.
  Status WriteSome(const char* data, size_t size, size_t* written);
  // The TLS handshake (or a renegotiation) waits for the socket to become writable:
  // the loop must watch EPOLLOUT and retry the read then.
  bool read_wants_write() const { return read_wants_write_; }
  bool tls() const { return ssl_ != nullptr; }

 private:
  const int fd_;
  SSL* ssl_ = nullptr;
  bool read_wants_write_ = false;
};

}  // namespace ekv::redis
