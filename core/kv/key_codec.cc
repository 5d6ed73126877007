#include "core/kv/key_codec.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/kv/codec.h"
#include "core/util/assert.h"

namespace ekv::kv {
namespace {

constexpr char kEscape = '\x00';
constexpr char kEscapedZero = '\xff';
constexpr char kTerminator = '\x01';

std::string PrefixedKey(char prefix, absl::string_view user_key, size_t extra_bytes) {
  std::string key;
  key.reserve(1 + user_key.size() + 2 + extra_bytes);
  key.push_back(prefix);
  AppendEncodedUserKey(&key, user_key);
  return key;
}

}  // namespace

void AppendEncodedUserKey(std::string* dst, absl::string_view user_key) {
  for (char c : user_key) {
    dst->push_back(c);
    if (c == kEscape) dst->push_back(kEscapedZero);
  }
  dst->push_back(kEscape);
  dst->push_back(kTerminator);
}

std::string EncodeUserKey(absl::string_view user_key) {
  std::string out;
  out.reserve(user_key.size() + 2);
  AppendEncodedUserKey(&out, user_key);
  return out;
}

absl::StatusOr<std::string> DecodeUserKey(absl::string_view* input) {
  std::string user_key;
  for (size_t i = 0; i < input->size(); ++i) {
    char c = (*input)[i];
    if (c != kEscape) {
      user_key.push_back(c);
      continue;
    }
    if (i + 1 == input->size()) break;
    char next = (*input)[++i];
    if (next == kTerminator) {
      input->remove_prefix(i + 1);
      return user_key;
    }
    if (next != kEscapedZero) {
      return absl::DataLossError(absl::StrCat("encoded user key: byte 0x00 followed by 0x",
                                              absl::Hex(static_cast<uint8_t>(next)),
                                              ", expected 0xff or 0x01"));
    }
    user_key.push_back(kEscape);
  }
  return absl::DataLossError("encoded user key: missing 0x00 0x01 terminator");
}

std::string DataKey(absl::string_view user_key, Timestamp commit_ts) {
  std::string key = PrefixedKey(kDataPrefix, user_key, kTimestampSuffixBytes);
  AppendFixed64BigEndian(&key, ~commit_ts);
  return key;
}

std::string DataKeyPrefix(absl::string_view user_key) {
  return PrefixedKey(kDataPrefix, user_key, 0);
}

std::string DataKeyPrefixEnd(absl::string_view user_key) {
  return EncodedUserKeySuccessor(DataKeyPrefix(user_key));
}

absl::StatusOr<DecodedDataKey> DecodeDataKey(absl::string_view key) {
  if (key.empty() || key[0] != kDataPrefix) {
    return absl::DataLossError("data key: missing 'd' namespace prefix");
  }
  key.remove_prefix(1);
  absl::StatusOr<std::string> user_key = DecodeUserKey(&key);
  if (!user_key.ok()) return user_key.status();
  if (key.size() != kTimestampSuffixBytes) {
    return absl::DataLossError(
        absl::StrCat("data key: expected an 8-byte timestamp suffix, got ", key.size(), " bytes"));
  }
  return DecodedDataKey{*std::move(user_key), ~DecodeFixed64BigEndian(key)};
}

absl::string_view VersionedKeyPrefix(absl::string_view key) {
  EKV_ASSERT(key.size() > kTimestampSuffixBytes, "versioned key too short: ", key.size());
  return key.substr(0, key.size() - kTimestampSuffixBytes);
}

Timestamp VersionedKeyTimestamp(absl::string_view key) {
  EKV_ASSERT(key.size() > kTimestampSuffixBytes, "versioned key too short: ", key.size());
  return ~DecodeFixed64BigEndian(key.substr(key.size() - kTimestampSuffixBytes));
}

std::string LockKey(absl::string_view user_key) { return PrefixedKey(kLockPrefix, user_key, 0); }

absl::StatusOr<std::string> DecodeLockKey(absl::string_view key) {
  if (key.empty() || key[0] != kLockPrefix) {
    return absl::DataLossError("lock key: missing 'l' namespace prefix");
  }
  key.remove_prefix(1);
  absl::StatusOr<std::string> user_key = DecodeUserKey(&key);
  if (!user_key.ok()) return user_key.status();
  if (!key.empty()) return absl::DataLossError("lock key: trailing bytes after the user key");
  return user_key;
}

std::string TxnStatusKey(absl::string_view user_key, Timestamp start_ts) {
  std::string key = PrefixedKey(kTxnStatusPrefix, user_key, kTimestampSuffixBytes);
  AppendFixed64BigEndian(&key, ~start_ts);
  return key;
}

std::string ExpiryKey(absl::string_view user_key, Timestamp commit_ts) {
  std::string key = PrefixedKey(kExpiryPrefix, user_key, kTimestampSuffixBytes);
  AppendFixed64BigEndian(&key, ~commit_ts);
  return key;
}

std::string MetaKey(absl::string_view name) {
  return absl::StrCat(std::string(1, kMetaPrefix), name);
}

std::string NamespaceEnd(char prefix) {
  EKV_ASSERT(prefix != '\xff', "namespace prefix 0xff has no successor byte");
  return std::string(1, static_cast<char>(prefix + 1));
}

std::string EncodedUserKeySuccessor(absl::string_view key_ending_in_encoded_user_key) {
  EKV_ASSERT(key_ending_in_encoded_user_key.size() >= 2 &&
                 key_ending_in_encoded_user_key.substr(key_ending_in_encoded_user_key.size() - 2) ==
                     absl::string_view("\x00\x01", 2),
             "key does not end in an encoded user key terminator");
  std::string successor(key_ending_in_encoded_user_key);
  successor.back() = static_cast<char>(kTerminator + 1);
  return successor;
}

}  // namespace ekv::kv
