#include "adapters/redis/connection_stream.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "core/util/assert.h"

namespace ekv::redis {
namespace {

// One TLS record carries at most this much plaintext.
constexpr size_t kTlsRecordBytes = 16 * 1024;

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsContext>> TlsContext::FromFiles(const std::string& cert_file,
                                                                  const std::string& key_file) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return absl::InternalError("OpenSSL: " + OpenSslError());
  std::unique_ptr<TlsContext> context(new TlsContext(ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Output buffers grow and compact between retries of one write: the retry passes the
  // same bytes at another address, and a partial write lets the loop move on.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("OpenSSL refused the certificate ", cert_file, ": ", OpenSslError()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("OpenSSL refused the key ", key_file, " for ",
                                                   cert_file, ": ", OpenSslError()));
  }
  return context;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

ConnectionStream::ConnectionStream(int fd, const TlsContext* tls) : fd_(fd) {
  if (tls == nullptr) return;
  ssl_ = SSL_new(tls->get());
  EKV_ASSERT(ssl_ != nullptr, "SSL_new failed");
  EKV_ASSERT(SSL_set_fd(ssl_, fd) == 1, "SSL_set_fd failed");
  SSL_set_accept_state(ssl_);
}

ConnectionStream::~ConnectionStream() {
  if (ssl_ == nullptr) return;
  // Best effort close_notify; never waits for the peer's.
  ERR_clear_error();
  if (SSL_is_init_finished(ssl_)) SSL_shutdown(ssl_);
  SSL_free(ssl_);
  ERR_clear_error();
}

ConnectionStream::Status ConnectionStream::ReadSome(std::string* input, size_t budget) {
  if (ssl_ == nullptr) {
    const size_t old_size = input->size();
    input->resize(old_size + budget);
    const ssize_t n = read(fd_, input->data() + old_size, budget);
    input->resize(old_size + (n > 0 ? static_cast<size_t>(n) : 0));
    if (n > 0) return Status::kOk;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      return Status::kWouldBlock;
    }
    return Status::kClosed;  // EOF or a reset
  }
  read_wants_write_ = false;
  size_t total = 0;
  // Past the budget only while OpenSSL still holds bytes the socket will not signal again.
  while (total < budget || SSL_has_pending(ssl_) == 1) {
    const size_t old_size = input->size();
    input->resize(old_size + kTlsRecordBytes);
    ERR_clear_error();
    const int n = SSL_read(ssl_, input->data() + old_size, static_cast<int>(kTlsRecordBytes));
    input->resize(old_size + (n > 0 ? static_cast<size_t>(n) : 0));
    if (n > 0) {
      total += static_cast<size_t>(n);
      continue;
    }
    const int error = SSL_get_error(ssl_, n);
    if (error == SSL_ERROR_WANT_READ) break;
    if (error == SSL_ERROR_WANT_WRITE) {
      read_wants_write_ = true;
      break;
    }
    // A failed handshake (plaintext, an untrusted or broken client), close_notify, EOF.
    return total > 0 ? Status::kOk : Status::kClosed;
  }
  return total > 0 ? Status::kOk : Status::kWouldBlock;
}

ConnectionStream::Status ConnectionStream::WriteSome(const char* data, size_t size,
                                                     size_t* written) {
  *written = 0;
  if (ssl_ == nullptr) {
    const ssize_t n = send(fd_, data, size, MSG_NOSIGNAL);
    if (n >= 0) {
      *written = static_cast<size_t>(n);
      return Status::kOk;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Status::kWouldBlock;
    return Status::kClosed;
  }
  ERR_clear_error();
  const int n = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(size, 1 << 30)));
  if (n > 0) {
    *written = static_cast<size_t>(n);
    return Status::kOk;
  }
  const int error = SSL_get_error(ssl_, n);
  // WANT_READ: the handshake waits for the client; its bytes wake the loop's read side.
  if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) return Status::kWouldBlock;
  return Status::kClosed;
}

}  // namespace ekv::redis
