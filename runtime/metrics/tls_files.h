// TLS for a node's client ports (--tls_cert_file, --tls_key_file, --tls_ca_file): the
// public gRPC API (gRPC's own TLS), the metrics endpoint and the console (httplib's
// SSLServer over Debian's OpenSSL). Node-to-node Raft traffic is not covered.
//
// The files are PEM. The key file must be readable by its owner only (ReadSecretFile,
// runtime/secrets): a node refuses to start rather than serve with a leaked key. The CA
// file is what the node trusts when it connects to other nodes' HTTPS endpoints (the
// console fetching their status); clients use the same CA to trust the node.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace ekv::runtime::metrics {

struct TlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;  // optional
  bool enabled() const { return !cert_file.empty(); }
};

// OK for no TLS at all, or a cert and a key that exist and can be read, a key file that
// only its owner can read, and a CA file (if given) that can be read. The message names the
// flag and the file.
absl::Status ValidateTlsFiles(const TlsFiles& files);

// The whole file; its error names `path`. For the certificates: the key is read with
// ReadSecretFile.
absl::StatusOr<std::string> ReadPemFile(const std::string& path);

// An httplib server for `files`: plain HTTP when TLS is off, else HTTPS with the cert and
// key (an error when OpenSSL rejects them).
absl::StatusOr<std::unique_ptr<httplib::Server>> NewHttpServer(const TlsFiles& files);

}  // namespace ekv::runtime::metrics
