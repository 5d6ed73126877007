// A key's whole value as one byte string: what a single command whose keys live in
// several groups moves between them (coordinator_redis_cross.cc). The group answers the
// internal read `ekv-snapshot key` with it (nil when the key is absent or expired) and
// replaces a key with the internal write `ekv-restore key [snapshot]` (no snapshot:
// delete). Neither is in the front door's table nor callable from scripts.
//
// Encoding: [u8 type][varint expire_ms] then, for a string, its value (length-prefixed);
// for a collection, varints size, head, tail, the record count and each record's subkey
// and value (length-prefixed), in subkey order (layout.h), then, when either is set, the
// varints flags and next_seq (absent in snapshots of ekv before encodings were tracked).
// Deterministic: two snapshots of the same state are the same bytes, so a coordinator can tell
// "unchanged" by comparing them. O(size) of the key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/redis/layout.h"

namespace ekv::redis_core {

inline constexpr absl::string_view kSnapshotCommand = "ekv-snapshot";
inline constexpr absl::string_view kRestoreCommand = "ekv-restore";

struct KeySnapshot {
  Type type = Type::kNone;  // kString or a collection type
  uint64_t expire_ms = 0;   // 0: none
  std::string string_value;
  Meta meta;  // collections: size, head, tail (the version is the restorer's)
  std::vector<std::pair<std::string, std::string>> records;  // (subkey, value)
  // Spelled out: Meta has no operator== of its own (clang 14 will not default one here).
  bool operator==(const KeySnapshot& other) const {
    return type == other.type && expire_ms == other.expire_ms &&
           string_value == other.string_value && meta.type == other.meta.type &&
           meta.version_ts == other.meta.version_ts && meta.version_seq == other.meta.version_seq &&
           meta.size == other.meta.size && meta.expire_ms == other.meta.expire_ms &&
           meta.head == other.meta.head && meta.tail == other.meta.tail &&
           meta.flags == other.meta.flags && meta.next_seq == other.meta.next_seq &&
           records == other.records;
  }
};

class Executor;

std::string EncodeKeySnapshot(const KeySnapshot& snapshot);
absl::StatusOr<KeySnapshot> DecodeKeySnapshot(absl::string_view bytes);

// What `key` holds now through `ex` (nullopt: absent or expired).
absl::StatusOr<std::optional<KeySnapshot>> SnapshotKey(Executor& ex, absl::string_view key);
// Makes `key` hold `snapshot` (nullopt: nothing), whatever it held; touches it.
absl::Status RestoreKey(Executor& ex, absl::string_view key,
                        const std::optional<KeySnapshot>& snapshot);

// The blocked clients' later runs (blocking.h ServeFormOf, "ekv-serve-blpop"...): no client or
// script may name them either, but they name their keys as the client commands do, so a
// run whose keys live in several groups goes over the groups like any command.
inline bool IsServeForm(absl::string_view name) {
  return name.size() > 10 && name.substr(0, 10) == "ekv-serve-";
}

// True for the group's internal commands (ekv-stamp, ekv-keys, ekv-snapshot, ekv-restore),
// which no client or script may name.
inline bool IsInternalCommand(absl::string_view name) {
  return name.size() > 4 && name.substr(0, 4) == "ekv-" && !IsServeForm(name);
}

}  // namespace ekv::redis_core
