#include "core/redis/stream_records.h"

#include <utility>

#include "core/kv/codec.h"
#include "core/kv/status_macros.h"
#include "core/redis/collection.h"
#include "core/redis/stream_listpack.h"

namespace ekv::redis_core {
namespace {

constexpr char kStateTag = 's';
constexpr char kEntryTag = 'i';
constexpr char kNodeTag = 'n';

std::string EncodeEntry(const std::vector<std::string>& fields) {
  std::string out;
  kv::AppendVarint64(&out, fields.size() / 2);
  for (const std::string& field : fields) kv::AppendLengthPrefixed(&out, field);
  return out;
}

absl::StatusOr<std::vector<std::string>> DecodeEntry(absl::string_view bytes) {
  kv::ByteReader reader(bytes);
  EKV_KV_ASSIGN_OR_RETURN(uint64_t pairs, reader.ReadVarint64());
  if (pairs > bytes.size()) return absl::DataLossError("stream entry is malformed");
  std::vector<std::string> fields;
  for (uint64_t i = 0; i < 2 * pairs; ++i) {
    EKV_KV_ASSIGN_OR_RETURN(absl::string_view field, reader.ReadLengthPrefixed());
    fields.emplace_back(field);
  }
  EKV_KV_RETURN_IF_ERROR(reader.ExpectEnd("stream entry"));
  return fields;
}

void AppendId(std::string* out, StreamId id) {
  kv::AppendVarint64(out, id.ms);
  kv::AppendVarint64(out, id.seq);
}

absl::StatusOr<StreamId> ReadId(kv::ByteReader* reader) {
  EKV_KV_ASSIGN_OR_RETURN(uint64_t ms, reader->ReadVarint64());
  EKV_KV_ASSIGN_OR_RETURN(uint64_t seq, reader->ReadVarint64());
  return StreamId{ms, seq};
}

}  // namespace

std::string Stream::Subkey(char tag, StreamId id) const {
  std::string out(1, tag);
  out += EncodeStreamId(id);
  return out;
}

std::string Stream::RecordKey(char tag, StreamId id) const {
  return ex_.ElementKey(key_, meta_, Subkey(tag, id));
}

std::string Stream::TagEnd(char tag) const {
  return PrefixEnd(ex_.ElementKey(key_, meta_, std::string(1, tag)));
}

absl::Status Stream::Load() {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                          ex_.store().Get(ex_.ElementKey(key_, meta_, std::string(1, kStateTag))));
  if (!bytes.has_value()) return absl::OkStatus();
  kv::ByteReader reader(*bytes);
  EKV_KV_ASSIGN_OR_RETURN(state_.last_id, ReadId(&reader));
  EKV_KV_ASSIGN_OR_RETURN(state_.max_deleted, ReadId(&reader));
  EKV_KV_ASSIGN_OR_RETURN(state_.entries_added, reader.ReadVarint64());
  return reader.ExpectEnd("stream state");
}

absl::StatusOr<LoadedStream> LoadStream(Executor& ex, const std::string& key, bool create) {
  LoadedStream out;
  EKV_KV_ASSIGN_OR_RETURN(Collection c, LookupCollection(ex, key, Type::kStream));
  if (c.error.has_value()) {
    out.error = *c.error;
    return out;
  }
  if (!c.exists && !create) return out;
  out.stream.emplace(ex, key, c.exists ? c.meta : ex.NewMeta(Type::kStream));
  if (c.exists) EKV_KV_RETURN_IF_ERROR(out.stream->Load());
  return out;
}

void Stream::Save(bool touch) {
  std::string bytes;
  AppendId(&bytes, state_.last_id);
  AppendId(&bytes, state_.max_deleted);
  kv::AppendVarint64(&bytes, state_.entries_added);
  ex_.store().Put(ex_.ElementKey(key_, meta_, std::string(1, kStateTag)), std::move(bytes));
  ex_.SaveMeta(key_, meta_, touch);
}

absl::StatusOr<std::vector<StreamEntry>> Stream::Range(StreamId lo, StreamId hi, uint64_t count,
                                                       bool reverse) {
  std::vector<StreamEntry> out;
  if (lo > hi) return out;
  // Entry keys are exactly tag + 16 bytes: hi's key followed by a NUL bounds them above.
  std::string end = RecordKey(kEntryTag, hi);
  end.push_back('\0');
  EKV_KV_ASSIGN_OR_RETURN(
      Store::Records records,
      ex_.store().Scan(RecordKey(kEntryTag, lo), end, count == 0 ? SIZE_MAX : count, reverse));
  const size_t prefix = RecordKey(kEntryTag, lo).size() - 16;
  for (const auto& [record_key, value] : records) {
    StreamEntry entry;
    entry.id = DecodeStreamId(absl::string_view(record_key).substr(prefix));
    EKV_KV_ASSIGN_OR_RETURN(entry.fields, DecodeEntry(value));
    out.push_back(std::move(entry));
  }
  return out;
}

absl::StatusOr<std::optional<StreamId>> Stream::Edge(bool first) {
  EKV_KV_ASSIGN_OR_RETURN(std::vector<StreamEntry> edge,
                          Range(StreamId{}, kMaxStreamId, 1, /*reverse=*/!first));
  if (edge.empty()) return std::optional<StreamId>();
  return std::optional<StreamId>(edge.front().id);
}

absl::StatusOr<std::optional<Stream::Node>> Stream::NodeAtOrBefore(StreamId id) {
  std::string end = RecordKey(kNodeTag, id);
  end.push_back('\0');
  EKV_KV_ASSIGN_OR_RETURN(
      Store::Records records,
      ex_.store().Scan(ex_.ElementKey(key_, meta_, std::string(1, kNodeTag)), end, 1, true));
  if (records.empty()) return std::optional<Node>();
  Node node;
  const std::string& record_key = records.front().first;
  node.first = DecodeStreamId(absl::string_view(record_key).substr(record_key.size() - 16));
  kv::ByteReader reader(records.front().second);
  EKV_KV_ASSIGN_OR_RETURN(node.live, reader.ReadVarint64());
  EKV_KV_ASSIGN_OR_RETURN(node.total, reader.ReadVarint64());
  EKV_KV_ASSIGN_OR_RETURN(node.last, ReadId(&reader));
  if (!reader.empty()) {
    node.sized = true;
    EKV_KV_ASSIGN_OR_RETURN(node.base, reader.ReadVarint64());
    EKV_KV_ASSIGN_OR_RETURN(uint64_t fields, reader.ReadVarint64());
    if (fields > records.front().second.size()) return absl::DataLossError("stream node");
    for (uint64_t i = 0; i < fields; ++i) {
      EKV_KV_ASSIGN_OR_RETURN(absl::string_view field, reader.ReadLengthPrefixed());
      node.master_fields.emplace_back(field);
    }
  }
  EKV_KV_RETURN_IF_ERROR(reader.ExpectEnd("stream node"));
  return std::optional<Node>(node);
}

absl::StatusOr<std::optional<Stream::Node>> Stream::FirstNode() {
  EKV_KV_ASSIGN_OR_RETURN(
      Store::Records records,
      ex_.store().Scan(ex_.ElementKey(key_, meta_, std::string(1, kNodeTag)), TagEnd(kNodeTag), 1));
  if (records.empty()) return std::optional<Node>();
  const std::string& record_key = records.front().first;
  return NodeAtOrBefore(
      DecodeStreamId(absl::string_view(record_key).substr(record_key.size() - 16)));
}

void Stream::SaveNode(const Node& node) {
  if (node.live == 0) {
    ex_.store().Delete(RecordKey(kNodeTag, node.first));
    return;
  }
  std::string bytes;
  kv::AppendVarint64(&bytes, node.live);
  kv::AppendVarint64(&bytes, node.total);
  AppendId(&bytes, node.last);
  if (node.sized) {
    kv::AppendVarint64(&bytes, node.base);
    kv::AppendVarint64(&bytes, node.master_fields.size());
    for (const std::string& field : node.master_fields) kv::AppendLengthPrefixed(&bytes, field);
  }
  ex_.store().Put(RecordKey(kNodeTag, node.first), std::move(bytes));
}

absl::Status Stream::Append(StreamId id, const std::vector<std::string>& fields) {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<Node> tail, NodeAtOrBefore(kMaxStreamId));
  // streamAppendItem: the tail node takes the entry unless its listpack is full by bytes
  // (tested with the bytes before the entry) or by entries.
  const bool joins =
      tail.has_value() && tail->total < kStreamNodeMaxEntries &&
      !(tail->sized &&
        EntryOverflowsNode(NodeBytes(tail->base, tail->live, tail->total - tail->live), fields));
  Node node;
  if (joins) {
    node = *std::move(tail);
  } else {
    node.first = id;
    node.sized = true;
    node.base = NodeBaseBytes(fields);
    node.master_fields = MasterFields(fields);
  }
  if (node.sized) node.base += EntryBytes(node.first, node.master_fields, id, fields);
  ++node.live;
  ++node.total;
  node.last = id;
  SaveNode(node);
  ex_.store().Put(RecordKey(kEntryTag, id), EncodeEntry(fields));
  ++meta_.size;
  ++state_.entries_added;
  state_.last_id = id;
  return absl::OkStatus();
}

absl::StatusOr<bool> Stream::Delete(StreamId id) {
  const std::string record = RecordKey(kEntryTag, id);
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> old, ex_.store().Get(record));
  if (!old.has_value()) return false;
  ex_.store().Delete(record);
  --meta_.size;
  EKV_KV_ASSIGN_OR_RETURN(std::optional<Node> node, NodeAtOrBefore(id));
  if (!node.has_value() || node->live == 0) {
    return absl::DataLossError("stream entry outside every node");
  }
  --node->live;
  SaveNode(*node);
  return true;
}

absl::StatusOr<std::vector<StreamId>> Stream::HeadIds(StreamId upto, uint64_t count) {
  EKV_KV_ASSIGN_OR_RETURN(std::vector<StreamEntry> entries, Range(StreamId{}, upto, count, false));
  std::vector<StreamId> ids;
  for (const StreamEntry& entry : entries) ids.push_back(entry.id);
  return ids;
}

absl::StatusOr<uint64_t> Stream::TrimEntries(const Trim& trim) {
  uint64_t deleted = 0;
  while (true) {
    if (trim.by_maxlen && meta_.size <= trim.maxlen) break;
    EKV_KV_ASSIGN_OR_RETURN(std::optional<Node> node, FirstNode());
    if (!node.has_value()) break;
    if (trim.limit != 0 && deleted + node->live > trim.limit) break;
    const bool remove_node =
        trim.by_maxlen ? meta_.size - node->live >= trim.maxlen : node->last < trim.minid;
    EKV_KV_ASSIGN_OR_RETURN(std::vector<StreamId> ids, HeadIds(node->last, node->live));
    if (remove_node) {
      for (StreamId id : ids) ex_.store().Delete(RecordKey(kEntryTag, id));
      meta_.size -= ids.size();
      deleted += ids.size();
      node->live = 0;
      SaveNode(*node);
      continue;
    }
    if (trim.approx) break;
    for (StreamId id : ids) {
      if (trim.by_maxlen ? meta_.size <= trim.maxlen : id >= trim.minid) break;
      ex_.store().Delete(RecordKey(kEntryTag, id));
      --meta_.size;
      --node->live;
      ++deleted;
    }
    SaveNode(*node);
    break;
  }
  return deleted;
}

absl::StatusOr<uint64_t> Stream::NodeCount() {
  EKV_KV_ASSIGN_OR_RETURN(Store::Records records,
                          ex_.store().Scan(ex_.ElementKey(key_, meta_, std::string(1, kNodeTag)),
                                           TagEnd(kNodeTag), SIZE_MAX));
  return records.size();
}

Reply StreamEntriesReply(const std::vector<StreamEntry>& entries) {
  std::vector<Reply> out;
  out.reserve(entries.size());
  for (const StreamEntry& entry : entries) {
    std::vector<Reply> fields;
    fields.reserve(entry.fields.size());
    for (const std::string& field : entry.fields) fields.push_back(Reply::Bulk(field));
    out.push_back(
        Reply::Array({Reply::Bulk(FormatStreamId(entry.id)), Reply::Array(std::move(fields))}));
  }
  return Reply::Array(std::move(out));
}

}  // namespace ekv::redis_core
