// Where DynamoDB tables and items live in ekv's RawKV keyspace, and the order-preserving
// encoding of key attribute values that makes Query a range scan.
//
// Layout (docs/architecture.md, "DynamoDB front door"):
//   kDynamoPrefix "t" <table name>                      -> table metadata (TableSchema)
//   kDynamoPrefix "i" <table id, 8 bytes big-endian> [<partition hash, 4 bytes>]
//                 <hash key encoded> [<range key encoded>] -> one item (item_codec.h)
// The partition hash (KeyLayout::kHashed, every table created since it exists) spreads a
// table's partitions evenly over its key space, which CreateTable cuts at hash boundaries
// and places over the groups (place_key_space.h); one partition stays contiguous, so a
// Query is one key range in one route. Tables created before it (KeyLayout::kUnhashed) keep
// their keys without it.
//   kDynamoPrefix "x" <ClientRequestToken>               -> a transaction's idempotency record
//   kDynamoPrefix "s" <table id, 8 bytes big-endian>     -> the table's counts (table_stats.h)
// kDynamoPrefix starts with a NUL byte, which Redis and RawKV users practically never
// begin a key with; the table id (not the name) scopes items, so a table deleted and
// created again under the same name never sees the old table's leftovers.
//
// Encodings (bytewise order of the encoding == DynamoDB's order of the values, and no
// encoding is a prefix of another, so a hash key never runs into its range key):
//   S, B: the bytes with 0x00 escaped as 00 FF, then the terminator 00 01.
//   N:    0x02 for zero; 0x03 <exponent + 0x8000, 2 bytes> <digit + 1 ...> 0x00 for
//         positives; 0x01 and the bitwise complement of the positive form of |x| for
//         negatives (larger magnitude sorts first). Digits carry no trailing zeros, so a
//         shorter digit string that is a prefix of a longer one is the smaller number, and
//         the terminator 0x00 sorts below every digit byte.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapters/dynamo/attribute_value.h"

namespace ekv::dynamo {

// The reserved prefix of every key the DynamoDB front door writes.
inline const std::string& DynamoPrefix() {
  static const std::string* prefix = new std::string("\0ddb", 4);
  return *prefix;
}

std::string TableMetaKey(absl::string_view table_name);
// Every table's metadata key starts with this.
std::string TableMetaPrefix();
// Every item key of table `table_id` starts with this.
std::string ItemPrefix(uint64_t table_id);

// How a table's (or index's) keys are laid out under its prefix. Stored in the table's
// metadata; never changes for a table.
enum class KeyLayout : int {
  kUnhashed = 0,  // prefix <hash key> [<range key>] (tables created before kHashed)
  kHashed = 1,    // prefix <PartitionHash, 4 bytes big-endian> <hash key> [<range key>]
};
inline constexpr size_t kPartitionHashBytes = 4;
// A stable 32-bit hash of an encoded partition key (EncodeKeyValue's bytes). Stored in
// keys: it must never change.
uint32_t PartitionHash(absl::string_view encoded_hash_key);
// The prefix every key of one partition starts with: ItemPrefix(id), the hash under
// kHashed, then the encoded partition key.
std::string PartitionPrefix(uint64_t id, KeyLayout layout, absl::string_view encoded_hash_key);
// ItemPrefix(id) followed by `hash` as 4 big-endian bytes: under kHashed, every key of a
// partition whose hash is >= `hash` sorts at or after it (parallel Scan segments and
// placement cut the key space here).
std::string HashBoundary(uint64_t id, uint32_t hash);
// The record of a TransactWriteItems ClientRequestToken (kDynamoPrefix "x" <token>),
// replicated like items so that a retry through any node finds it.
std::string TransactionTokenKey(absl::string_view token);
// The record of table `table_id`'s ItemCount and sizes (table_stats.h).
std::string TableStatsKey(uint64_t table_id);

// The order-preserving encoding of a key attribute value (S, N or B; others are an error).
absl::StatusOr<std::string> EncodeKeyValue(const AttributeValue& value);
// The encoding of every S or B value that begins with `prefix` starts with this.
std::string EncodeBytesPrefix(absl::string_view prefix);

// The least key greater than every key that starts with `prefix` ("" if none is: the
// scan then runs to the end of the keyspace).
std::string PrefixEnd(absl::string_view prefix);

}  // namespace ekv::dynamo
