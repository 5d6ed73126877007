#include "runtime/metrics/tls_files.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "runtime/secrets/secret_file.h"

namespace ekv::runtime::metrics {

absl::StatusOr<std::string> ReadPemFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::stringstream contents;
  contents << in.rdbuf();
  if (contents.str().empty()) return absl::InvalidArgumentError(absl::StrCat(path, " is empty"));
  return contents.str();
}

absl::Status ValidateTlsFiles(const TlsFiles& files) {
  if (files.cert_file.empty() != files.key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert_file and --tls_key_file go together: give both or neither");
  }
  if (!files.enabled()) {
    if (!files.ca_file.empty()) {
      return absl::InvalidArgumentError("--tls_ca_file needs --tls_cert_file and --tls_key_file");
    }
    return absl::OkStatus();
  }
  if (auto cert = ReadPemFile(files.cert_file); !cert.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--tls_cert_file: ", cert.status().message()));
  }
  absl::StatusOr<std::string> key = ReadSecretFile(files.key_file, "a key");
  if (!key.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--tls_key_file: ", key.status().message()));
  }
  if (key->empty())
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_key_file: ", files.key_file, " is empty"));
  if (!files.ca_file.empty()) {
    if (auto ca = ReadPemFile(files.ca_file); !ca.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--tls_ca_file: ", ca.status().message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<httplib::Server>> NewHttpServer(const TlsFiles& files) {
  if (!files.enabled()) return std::make_unique<httplib::Server>();
  auto server =
      std::make_unique<httplib::SSLServer>(files.cert_file.c_str(), files.key_file.c_str());
  if (!server->is_valid()) {
    return absl::InvalidArgumentError(absl::StrCat("OpenSSL refused the certificate ",
                                                   files.cert_file, " with the key ",
                                                   files.key_file, " (not PEM, or not a pair?)"));
  }
  return server;
}

}  // namespace ekv::runtime::metrics
