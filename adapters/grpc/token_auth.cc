#include "adapters/grpc/token_auth.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "runtime/secrets/secret_file.h"

namespace ekv::adapters {
namespace {

bool ConstantTimeEquals(grpc::string_ref given, const std::string& expected) {
  // The length is not secret (it is the token format's), the contents are.
  unsigned char differ = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given.data()[i]) : 0;
    differ |= g ^ static_cast<unsigned char>(expected[i]);
  }
  return differ == 0;
}

class TokenAuthProcessor final : public grpc::AuthMetadataProcessor {
 public:
  explicit TokenAuthProcessor(std::string token) : expected_(BearerValue(token)) {}

  // Cheap and non-blocking: runs on gRPC's own thread, not a separate pool.
  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext*,
                       OutputMetadata* consumed, OutputMetadata*) override {
    auto it = auth_metadata.find("authorization");
    if (it == auth_metadata.end()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "missing authorization metadata (authorization: Bearer <token>)");
    }
    if (!ConstantTimeEquals(it->second, expected_)) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid bearer token");
    }
    // Consumed: handlers never see the credential.
    consumed->emplace(std::string(it->first.data(), it->first.size()),
                      std::string(it->second.data(), it->second.size()));
    return grpc::Status::OK;
  }

 private:
  const std::string expected_;
};

}  // namespace

std::string BearerValue(const std::string& token) { return absl::StrCat("Bearer ", token); }

absl::StatusOr<std::string> ReadAuthTokenFile(const std::string& path) {
  absl::StatusOr<std::string> contents = runtime::ReadSecretFile(path, "a token");
  if (!contents.ok()) return contents.status();
  std::string token(absl::StripAsciiWhitespace(*contents));
  if (token.empty()) return absl::InvalidArgumentError(absl::StrCat(path, " holds no token"));
  if (token.find_first_of(" \t\r\n") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": a token is one word, no spaces"));
  }
  return token;
}

std::shared_ptr<grpc::AuthMetadataProcessor> NewTokenAuthProcessor(std::string token) {
  return std::make_shared<TokenAuthProcessor>(std::move(token));
}

}  // namespace ekv::adapters
