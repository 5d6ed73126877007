#include "adapters/dynamo/transaction_token.h"

#include <nlohmann/json.hpp>

namespace ekv::dynamo {

using nlohmann::json;

std::string EncodeTokenRecord(const TokenRecord& record) {
  return json{{"fingerprint", record.fingerprint}, {"expires", record.expires_seconds}}.dump();
}

std::optional<TokenRecord> DecodeTokenRecord(const std::string& bytes) {
  json parsed = json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object() || !parsed.contains("fingerprint") || !parsed.contains("expires")) {
    return std::nullopt;
  }
  if (!parsed["fingerprint"].is_string() || !parsed["expires"].is_number()) return std::nullopt;
  return TokenRecord{parsed["fingerprint"].get<std::string>(), parsed["expires"].get<double>()};
}

}  // namespace ekv::dynamo
