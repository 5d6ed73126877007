// The field records of a hash (layout.h) as every hash command reads and writes them: a
// tracked hash's value record starts with the field's insertion sequence, so a compact
// hash (Redis 7.0's listpack) answers in insertion order as Redis does, while HSET, HGET
// and HDEL still touch one record per field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/redis/executor.h"

namespace ekv::redis_core {

struct StoredHashValue {
  uint64_t seq = 0;  // 0 in a hash without sequences (not tracked)
  std::string value;
};

// The record's bytes for `value` with insertion sequence `seq` (ignored when untracked).
std::string EncodeHashValue(const Meta& meta, uint64_t seq, absl::string_view value);
absl::StatusOr<StoredHashValue> DecodeHashValue(const Meta& meta, absl::string_view stored);

// The field's value, nullopt when absent.
absl::StatusOr<std::optional<StoredHashValue>> GetHashField(Executor& ex, absl::string_view key,
                                                            const Meta& meta,
                                                            absl::string_view field);
// Sets `field` to `value` (a new field gets the next sequence and counts in meta->size; an
// existing one keeps its place) and records Redis's conversion to a hashtable when the
// field or value is over 64 bytes or the hash over 128 fields. The caller saves the meta.
// Returns whether the field is new.
absl::StatusOr<bool> PutHashField(Executor& ex, absl::string_view key, Meta* meta,
                                  absl::string_view field, absl::string_view value);

// Every (field, value) in Redis's order: insertion order for a compact hash, byte order of
// the fields otherwise (Redis's hashtable order is its own).
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> HashFieldsInOrder(
    Executor& ex, absl::string_view key, const Meta& meta);
// The same for the hash's element records as read (subkey = field, stored value).
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> HashRecordsInOrder(
    const Meta& meta, Store::Records records);

}  // namespace ekv::redis_core
