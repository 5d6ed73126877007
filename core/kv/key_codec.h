// Layout of kv's key space in an Engine.
//
// One prefix byte names a namespace; everything after it is namespace-specific:
//
//   'd' data     'd' EncodeUserKey(key) Fixed64BE(~commit_ts)  -> VersionRecord (records.h)
//   'l' locks    'l' EncodeUserKey(key)                        -> LockRecord
//   's' status   's' EncodeUserKey(key) Fixed64BE(~start_ts)   -> TxnStatusRecord
//   'm' meta     'm' name                                      -> owner-defined bytes
//   'x' expiry   'x' EncodeUserKey(key) Fixed64BE(~commit_ts)  -> Fixed64BE(expire_ts)
//
// EncodeUserKey is memcomparable: every 0x00 byte becomes 0x00 0xff and the key ends with
// 0x00 0x01. It preserves order (a < b iff Enc(a) < Enc(b)) and is prefix-free (no
// Enc(a) is a proper prefix of Enc(b)), so appending a timestamp cannot reorder keys: the
// versions of one user key are contiguous, ordered by user key first. The inverted
// big-endian timestamp puts the newest version first, so Seek(DataKey(k, read_ts)) lands
// directly on the newest version visible at read_ts.
//
// The meta space is for small per-store records (applied index, HLC ceiling, GC safe
// point); its names are chosen by their owners and are not escaped.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/kv/timestamp.h"

namespace ekv::kv {

inline constexpr char kDataPrefix = 'd';
inline constexpr char kLockPrefix = 'l';
inline constexpr char kMetaPrefix = 'm';
inline constexpr char kTxnStatusPrefix = 's';
// Expiry of one version written with a TTL (kv_state_machine.h): the version at
// (key, commit_ts) reads as absent at read_ts >= expire_ts.
inline constexpr char kExpiryPrefix = 'x';
// Records of the Redis data types other than strings (core/redis/layout.h): unversioned,
// written only by apply-time Redis commands, never seen by RawKV scans or MVCC GC.
inline constexpr char kRedisPrefix = 'r';
inline constexpr size_t kTimestampSuffixBytes = 8;

// Memcomparable user-key encoding.
void AppendEncodedUserKey(std::string* dst, absl::string_view user_key);
std::string EncodeUserKey(absl::string_view user_key);
// Decodes one encoded user key from the front of `*input` and removes it from `*input`.
absl::StatusOr<std::string> DecodeUserKey(absl::string_view* input);

// data: versions.
std::string DataKey(absl::string_view user_key, Timestamp commit_ts);
// The start of user_key's versions (sorts before all of them).
std::string DataKeyPrefix(absl::string_view user_key);
// The smallest key after every version of user_key and before the next user key's.
std::string DataKeyPrefixEnd(absl::string_view user_key);
struct DecodedDataKey {
  std::string user_key;
  Timestamp commit_ts;
};
absl::StatusOr<DecodedDataKey> DecodeDataKey(absl::string_view key);

// Hot-path accessors on a key already known to be a well-formed versioned key (data or
// txn status): the prefix without its timestamp, and the timestamp.
absl::string_view VersionedKeyPrefix(absl::string_view key);
Timestamp VersionedKeyTimestamp(absl::string_view key);

// locks.
std::string LockKey(absl::string_view user_key);
absl::StatusOr<std::string> DecodeLockKey(absl::string_view key);

// transaction status records, by (key, start_ts).
std::string TxnStatusKey(absl::string_view user_key, Timestamp start_ts);

// expiry of the version of user_key at commit_ts.
std::string ExpiryKey(absl::string_view user_key, Timestamp commit_ts);

// meta.
std::string MetaKey(absl::string_view name);

// The first key after every key of a namespace: the namespace is [{prefix}, NamespaceEnd).
std::string NamespaceEnd(char prefix);

// The smallest key greater than every key that starts with an encoded user key, given
// a key that ends in one: bumps the 0x01 terminator to 0x02, a byte pair no encoded key
// contains.
std::string EncodedUserKeySuccessor(absl::string_view key_ending_in_encoded_user_key);

}  // namespace ekv::kv
