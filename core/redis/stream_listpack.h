// The bytes Redis 7.0 spends on a stream node's listpack (t_stream.c streamAppendItem,
// listpack.c lpEncodeGetType and lpEncodeBacklen), so that ekv's nodes close where
// Redis's do: XADD starts a node when the tail node's listpack bytes plus the new entry's
// field and value lengths reach stream-node-max-bytes (4096), or when the tail node has had
// stream-node-max-entries (100) entries appended.
//
// A node's listpack: a 6-byte header, the master entry (count of live entries, count of
// deleted ones, the number of fields, the first entry's field names, a 0 terminator), then
// per entry its flags, id deltas from the node's first id, the number of fields and the
// field names unless they are the master's ("same fields"), the values, and the count of
// the entry's elements; a 1-byte end. Every element is its encoding plus a back-length;
// a string that is a canonical 64-bit integer is stored as that integer. Only appends
// change the size (a deleted entry is flagged in place), except the two counts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/redis/stream_id.h"

namespace ekv::redis_core {

inline constexpr uint64_t kStreamNodeMaxBytes = 4096;  // stream-node-max-bytes

// One listpack element (encoding and back-length) holding `value` / `text`.
uint64_t ListpackIntegerBytes(int64_t value);
uint64_t ListpackStringBytes(absl::string_view text);

// A new node's bytes without its two counts: header, end, and the master entry's number
// of fields, field names and terminator. `fields`: the first entry's field, value, ...
uint64_t NodeBaseBytes(const std::vector<std::string>& fields);
// The master entry's field names of a node whose first entry had `fields`.
std::vector<std::string> MasterFields(const std::vector<std::string>& fields);
// The bytes entry `id` with `fields` adds to a node whose first id is `master` and whose
// master fields are `master_fields`.
uint64_t EntryBytes(StreamId master, const std::vector<std::string>& master_fields, StreamId id,
                    const std::vector<std::string>& fields);
// lpBytes of a node: its bytes without the counts, and the counts.
uint64_t NodeBytes(uint64_t base, uint64_t live, uint64_t deleted);
// streamAppendItem's test: whether an entry with `fields` starts a new node after a tail
// node of `node_bytes`.
bool EntryOverflowsNode(uint64_t node_bytes, const std::vector<std::string>& fields);

}  // namespace ekv::redis_core
