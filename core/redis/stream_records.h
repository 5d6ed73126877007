// A stream's records under its collection version (layout.h), in the spirit of Redis
// 7.0's radix tree of listpack nodes:
//
//   's'                 -> state: last id, max deleted id, entries added (varints)
//   'i' id (16 bytes)   -> an entry: varint pair count, then each field and value
//                          length-prefixed
//   'n' id (16 bytes)   -> a node, keyed by its first (master) id: live entries, entries
//                          ever appended to it, its last appended id (varints), then its
//                          listpack bytes without the counts (varint) and its master
//                          fields (varint count, each length-prefixed); a node written
//                          before ekv sized nodes has neither and closes by count only
//
// The metadata's size is the stream's length. A stream stays when its last entry goes
// (XDEL, XTRIM), as in Redis; only DEL and expiry remove it.
//
// Nodes exist for what Redis's node boundaries decide: XADD/XTRIM with `~` remove only
// whole nodes, XINFO's radix-tree-keys counts them. An entry joins the last node until
// that node has had stream-node-max-entries (100) entries appended (deleted ones count,
// as in Redis) or its listpack bytes plus the entry's field and value lengths reach
// stream-node-max-bytes (4096; the bytes as Redis 7.0 encodes them, stream_listpack.h);
// a node whose entries are all deleted goes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/redis/executor.h"
#include "core/redis/stream_id.h"

namespace ekv::redis_core {

inline constexpr uint64_t kStreamNodeMaxEntries = 100;  // stream-node-max-entries

struct StreamState {
  StreamId last_id;
  StreamId max_deleted;
  uint64_t entries_added = 0;
};

struct StreamEntry {
  StreamId id;
  std::vector<std::string> fields;  // field, value, field, value...
};

// One stream of `key` as a command sees and changes it; Save writes what changed.
class Stream {
 public:
  Stream(Executor& ex, std::string key, Meta meta) : ex_(ex), key_(std::move(key)), meta_(meta) {}
  // Reads the state record (a new stream has none).
  absl::Status Load();
  // Writes the state and the metadata (the key stays when empty). `touch`: WATCH sees the
  // change (Executor::SaveMeta).
  void Save(bool touch = true);

  uint64_t length() const { return meta_.size; }
  const Meta& meta() const { return meta_; }
  StreamState& state() { return state_; }

  // Entries with lo <= id <= hi in id order (reverse: from hi), at most `count` (0: all).
  absl::StatusOr<std::vector<StreamEntry>> Range(StreamId lo, StreamId hi, uint64_t count,
                                                 bool reverse);
  // The first or last entry's id; nullopt when empty.
  absl::StatusOr<std::optional<StreamId>> Edge(bool first);
  // Appends an entry (id above every entry's).
  absl::Status Append(StreamId id, const std::vector<std::string>& fields);
  // Removes the entry `id`; false when there is none.
  absl::StatusOr<bool> Delete(StreamId id);
  // Redis 7.0's streamTrim: whole nodes from the head while the bound allows, then (not
  // approx) single entries of the next node; `limit` (0: none) caps the entries removed.
  struct Trim {
    bool by_maxlen = true;
    uint64_t maxlen = 0;
    StreamId minid;
    bool approx = false;
    uint64_t limit = 0;
  };
  absl::StatusOr<uint64_t> TrimEntries(const Trim& trim);
  // The number of nodes (XINFO's radix-tree-keys).
  absl::StatusOr<uint64_t> NodeCount();

 private:
  struct Node {
    StreamId first;
    uint64_t live = 0;
    uint64_t total = 0;
    StreamId last;
    bool sized = false;  // base and master_fields are known (not in older node records)
    uint64_t base = 0;   // its listpack bytes but the two counts (stream_listpack.h)
    std::vector<std::string> master_fields;
  };
  std::string Subkey(char tag, StreamId id) const;
  std::string RecordKey(char tag, StreamId id) const;
  std::string TagEnd(char tag) const;
  absl::StatusOr<std::optional<Node>> NodeAtOrBefore(StreamId id);
  absl::StatusOr<std::optional<Node>> FirstNode();
  void SaveNode(const Node& node);
  // The ids of the entries from the head up to `upto`, at most `count`.
  absl::StatusOr<std::vector<StreamId>> HeadIds(StreamId upto, uint64_t count);

  Executor& ex_;
  std::string key_;
  Meta meta_;
  StreamState state_;
};

// A stream key as a command finds it: WRONGTYPE, or its stream loaded; no stream when
// the key does not exist, unless `create` (a new empty one, saved only by Save).
struct LoadedStream {
  std::optional<Reply> error;
  std::optional<Stream> stream;
};
absl::StatusOr<LoadedStream> LoadStream(Executor& ex, const std::string& key, bool create = false);

// The reply form of entries: [[id, [field, value...]]...].
Reply StreamEntriesReply(const std::vector<StreamEntry>& entries);

}  // namespace ekv::redis_core
