// The idempotency record of a TransactWriteItems ClientRequestToken
// (key_codec.h: TransactionTokenKey): the request's fingerprint and when the token frees
// up. Written in the transaction of the request's items (operations/transact_write.cc);
// deleted after it expires by TokenSweeper (token_sweeper.h).
#pragma once

#include <optional>
#include <string>

namespace ekv::dynamo {

// DynamoDB's idempotency window: a token is bound to its request for 10 minutes.
inline constexpr double kTokenLifetimeSeconds = 600;

struct TokenRecord {
  std::string fingerprint;
  double expires_seconds = 0;  // epoch seconds
};

std::string EncodeTokenRecord(const TokenRecord& record);
// nullopt for bytes that are not a token record.
std::optional<TokenRecord> DecodeTokenRecord(const std::string& bytes);

}  // namespace ekv::dynamo
