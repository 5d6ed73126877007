// Bearer-token authentication of the public gRPC API (--grpc_auth_token_file): every call
// (RawKV, TransactionalKV, Distribution, Cluster, reflection) must carry the metadata
// `authorization: Bearer <token>`, or it is answered UNAUTHENTICATED before any handler
// runs. The check is a gRPC AuthMetadataProcessor on the TLS server credentials: a token
// is only accepted over TLS, where it cannot be read off the wire.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/auth_metadata_processor.h"

namespace ekv::adapters {

// The token in `path`: one line, surrounding whitespace dropped. Errors name the file: it
// cannot be read, is readable by every user (a secret others can read), or is empty.
absl::StatusOr<std::string> ReadAuthTokenFile(const std::string& path);

// Checks `authorization: Bearer <token>`, comparing in time independent of where a wrong
// token differs. Never logs or echoes the token.
std::shared_ptr<grpc::AuthMetadataProcessor> NewTokenAuthProcessor(std::string token);

// The metadata value clients send: "Bearer <token>".
std::string BearerValue(const std::string& token);

}  // namespace ekv::adapters
