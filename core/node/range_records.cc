#include "core/node/range_records.h"

#include <algorithm>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "core/kv/codec.h"
#include "core/kv/key_codec.h"
#include "core/kv/records.h"
#include "core/kv/status_macros.h"
#include "core/redis/layout.h"
#include "core/route/route.h"
#include "core/util/assert.h"

namespace ekv::node {
namespace {

constexpr size_t kElementLengthBytes = 4;  // layout.h: 'r' 'E' u32 len key ...

bool InRange(absl::string_view user_key, absl::string_view start, absl::string_view end) {
  return start <= user_key && route::KeyBeforeEnd(user_key, end);
}

// The smallest string of exactly `length` bytes that is >= `bound`; nullopt if none.
std::optional<std::string> SmallestOfLengthAtLeast(absl::string_view bound, size_t length) {
  if (bound.size() <= length) {
    std::string out(bound);
    out.resize(length, '\0');
    return out;
  }
  // Every string of this length that starts with bound[0, length) is a prefix of `bound`
  // and so sorts before it: the answer is the next string of this length.
  std::string out(bound.substr(0, length));
  for (size_t i = out.size(); i > 0; --i) {
    unsigned char byte = static_cast<unsigned char>(out[i - 1]);
    if (byte != 0xff) {
      out[i - 1] = static_cast<char>(byte + 1);
      return out;
    }
    out[i - 1] = '\0';
  }
  return std::nullopt;  // every byte was 0xff
}

void AddMvccSpan(std::vector<EngineKeySpan>* spans, char prefix, absl::string_view start,
                 absl::string_view end) {
  EngineKeySpan span;
  span.begin = std::string(1, prefix) + kv::EncodeUserKey(start);
  span.end =
      end.empty() ? kv::NamespaceEnd(prefix) : std::string(1, prefix) + kv::EncodeUserKey(end);
  spans->push_back(std::move(span));
}

void AddRawKeySpan(std::vector<EngineKeySpan>* spans, std::string (*tagged)(absl::string_view),
                   absl::string_view start, absl::string_view end) {
  EngineKeySpan span;
  span.begin = tagged(start);
  span.end = end.empty() ? redis_core::PrefixEnd(tagged("")) : tagged(end);
  spans->push_back(std::move(span));
}

// One span per key length present in the element namespace.
absl::Status AddElementSpans(const kv::EngineReader& engine, absl::string_view start,
                             absl::string_view end, std::vector<EngineKeySpan>* spans) {
  const std::string namespace_start = redis_core::ElementNamespaceStart();
  std::unique_ptr<kv::EngineIterator> it =
      engine.NewIterator({namespace_start, redis_core::ElementNamespaceEnd()});
  for (it->SeekToFirst(); it->Valid();) {
    absl::string_view key = it->key();
    if (key.size() < namespace_start.size() + kElementLengthBytes) {
      return absl::DataLossError(absl::StrCat("redis element key ", route::FormatKey(key),
                                              " is too short to hold a key length"));
    }
    const std::string length_prefix(key.substr(0, namespace_start.size() + kElementLengthBytes));
    const std::optional<redis_core::ParsedElementKey> parsed = redis_core::ParseElementKey(key);
    if (!parsed.has_value()) {
      return absl::DataLossError(
          absl::StrCat("redis element key ", route::FormatKey(key), " is malformed"));
    }
    const size_t length = parsed->user_key.size();
    const std::string after_length = redis_core::PrefixEnd(length_prefix);
    std::optional<std::string> low = SmallestOfLengthAtLeast(start, length);
    if (low.has_value()) {
      EngineKeySpan span{length_prefix + *low, after_length};
      if (!end.empty()) {
        std::optional<std::string> high = SmallestOfLengthAtLeast(end, length);
        if (high.has_value()) span.end = length_prefix + *high;
      }
      if (span.begin < span.end) spans->push_back(std::move(span));
    }
    if (after_length.empty()) break;
    it->Seek(after_length);
  }
  return it->status();
}

}  // namespace

absl::StatusOr<std::vector<EngineKeySpan>> RangeRecordSpans(const kv::EngineReader& engine,
                                                            absl::string_view start,
                                                            absl::string_view end) {
  std::vector<EngineKeySpan> spans;
  if (route::RangeIsEmpty(start, end)) return spans;
  // In engine key order: 'd' < 'l' < 'r' ('E' < 'M' < 'T') < 's' < 'x'.
  AddMvccSpan(&spans, kv::kDataPrefix, start, end);
  AddMvccSpan(&spans, kv::kLockPrefix, start, end);
  EKV_KV_RETURN_IF_ERROR(AddElementSpans(engine, start, end, &spans));
  AddRawKeySpan(&spans, &redis_core::MetaKey, start, end);
  AddRawKeySpan(&spans, &redis_core::TouchKey, start, end);
  AddMvccSpan(&spans, kv::kTxnStatusPrefix, start, end);
  AddMvccSpan(&spans, kv::kExpiryPrefix, start, end);
  for (size_t i = 0; i < spans.size(); ++i) {
    EKV_ASSERT(spans[i].begin < spans[i].end, "range span ", i, " is empty or inverted");
    EKV_ASSERT(i == 0 || spans[i - 1].end <= spans[i].begin, "range spans overlap at ", i);
  }
  return spans;
}

bool IsRangeRecord(absl::string_view engine_key, absl::string_view start, absl::string_view end) {
  if (engine_key.empty()) return false;
  absl::string_view rest = engine_key.substr(1);
  switch (engine_key[0]) {
    case kv::kDataPrefix:
    case kv::kTxnStatusPrefix:
    case kv::kExpiryPrefix: {
      absl::StatusOr<std::string> user_key = kv::DecodeUserKey(&rest);
      return user_key.ok() && rest.size() == kv::kTimestampSuffixBytes &&
             InRange(*user_key, start, end);
    }
    case kv::kLockPrefix: {
      absl::StatusOr<std::string> user_key = kv::DecodeLockKey(engine_key);
      return user_key.ok() && InRange(*user_key, start, end);
    }
    case kv::kRedisPrefix: {
      if (rest.empty()) return false;
      if (rest[0] == redis_core::MetaKey("")[1] || rest[0] == redis_core::TouchKey("")[1]) {
        return InRange(rest.substr(1), start, end);
      }
      std::optional<redis_core::ParsedElementKey> parsed = redis_core::ParseElementKey(engine_key);
      return parsed.has_value() && InRange(parsed->user_key, start, end);
    }
    default:
      return false;  // meta and anything unknown belong to the group
  }
}

std::string EncodeExportRange(const ExportRangeRequest& request) {
  std::string out;
  kv::AppendLengthPrefixed(&out, request.start);
  kv::AppendLengthPrefixed(&out, request.end);
  kv::AppendLengthPrefixed(&out, request.cursor);
  kv::AppendVarint64(&out, request.max_bytes);
  return out;
}

absl::StatusOr<ExportRangeRequest> DecodeExportRange(absl::string_view bytes) {
  kv::ByteReader reader(bytes);
  ExportRangeRequest request;
  EKV_KV_ASSIGN_OR_RETURN(absl::string_view start, reader.ReadLengthPrefixed());
  EKV_KV_ASSIGN_OR_RETURN(absl::string_view end, reader.ReadLengthPrefixed());
  EKV_KV_ASSIGN_OR_RETURN(absl::string_view cursor, reader.ReadLengthPrefixed());
  EKV_KV_ASSIGN_OR_RETURN(request.max_bytes, reader.ReadVarint64());
  EKV_KV_RETURN_IF_ERROR(reader.ExpectEnd("export range request"));
  request.start = std::string(start);
  request.end = std::string(end);
  request.cursor = std::string(cursor);
  return request;
}

absl::StatusOr<RangeChunk> ExportRangeChunk(const kv::EngineReader& engine,
                                            const ExportRangeRequest& request) {
  if (request.max_bytes == 0 || request.max_bytes > kMaxRangeChunkBytes) {
    return absl::InvalidArgumentError(absl::StrCat("export range: max_bytes is ", request.max_bytes,
                                                   "; expected 1..", kMaxRangeChunkBytes));
  }
  if (route::RangeIsEmpty(request.start, request.end)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "export range: ", route::FormatRange(request.start, request.end), " is empty"));
  }
  EKV_KV_ASSIGN_OR_RETURN(std::vector<EngineKeySpan> spans,
                          RangeRecordSpans(engine, request.start, request.end));
  RangeChunk chunk;
  chunk.from_cursor = request.cursor;
  uint64_t bytes = 0;
  for (const EngineKeySpan& span : spans) {
    if (span.end <= request.cursor) continue;
    std::unique_ptr<kv::EngineIterator> it =
        engine.NewIterator({std::max(span.begin, request.cursor), span.end});
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const uint64_t size = it->key().size() + it->value().size();
      if (!chunk.records.empty() && bytes + size > request.max_bytes) {
        chunk.next_cursor = std::string(it->key());
        return chunk;
      }
      bytes += size;
      chunk.records.emplace_back(std::string(it->key()), std::string(it->value()));
    }
    EKV_KV_RETURN_IF_ERROR(it->status());
  }
  return chunk;  // next_cursor "": complete
}

std::string EncodeIngestRange(const IngestRangeRequest& request) {
  std::string out;
  kv::AppendVarint64(&out, request.route_id);
  kv::AppendVarint64(&out, request.move_catalog_version);
  kv::AppendLengthPrefixed(&out, request.start);
  kv::AppendLengthPrefixed(&out, request.end);
  kv::AppendLengthPrefixed(&out, request.from_cursor);
  kv::AppendLengthPrefixed(&out, request.to_cursor);
  kv::AppendVarint64(&out, request.records.size());
  for (const RawRecord& record : request.records) {
    kv::AppendLengthPrefixed(&out, record.first);
    kv::AppendLengthPrefixed(&out, record.second);
  }
  return out;
}

absl::StatusOr<IngestRangeRequest> DecodeIngestRange(absl::string_view bytes) {
  kv::ByteReader reader(bytes);
  IngestRangeRequest request;
  EKV_KV_ASSIGN_OR_RETURN(request.route_id, reader.ReadVarint64());
  EKV_KV_ASSIGN_OR_RETURN(request.move_catalog_version, reader.ReadVarint64());
  EKV_KV_ASSIGN_OR_RETURN(absl::string_view start, reader.ReadLengthPrefixed());
  EKV_KV_ASSIGN_OR_RETURN(absl::string_view end, reader.ReadLengthPrefixed());
  EKV_KV_ASSIGN_OR_RETURN(absl::string_view from, reader.ReadLengthPrefixed());
  EKV_KV_ASSIGN_OR_RETURN(absl::string_view to, reader.ReadLengthPrefixed());
  EKV_KV_ASSIGN_OR_RETURN(uint64_t count, reader.ReadVarint64());
  // Each record takes at least two bytes (two length prefixes).
  if (count > reader.remaining() / 2) {
    return absl::DataLossError(absl::StrCat("ingest range claims ", count, " records but only ",
                                            reader.remaining(), " bytes remain"));
  }
  request.records.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    EKV_KV_ASSIGN_OR_RETURN(absl::string_view key, reader.ReadLengthPrefixed());
    EKV_KV_ASSIGN_OR_RETURN(absl::string_view value, reader.ReadLengthPrefixed());
    request.records.emplace_back(std::string(key), std::string(value));
  }
  EKV_KV_RETURN_IF_ERROR(reader.ExpectEnd("ingest range request"));
  request.start = std::string(start);
  request.end = std::string(end);
  request.from_cursor = std::string(from);
  request.to_cursor = std::string(to);
  return request;
}

absl::StatusOr<kv::MvccBatch> BuildIngestBatch(const kv::EngineReader& engine,
                                               const IngestRangeRequest& request,
                                               kv::Timestamp* max_ts) {
  *max_ts = 0;
  const std::string what = absl::StrCat("ingest of route ", request.route_id, " ",
                                        route::FormatRange(request.start, request.end));
  if (!request.to_cursor.empty() && request.to_cursor <= request.from_cursor) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": chunk span [", route::FormatKey(request.from_cursor), ", ",
        route::FormatKey(request.to_cursor), ") is empty; expected from_cursor < to_cursor"));
  }
  for (size_t i = 0; i < request.records.size(); ++i) {
    const std::string& key = request.records[i].first;
    if (i > 0 && !(request.records[i - 1].first < key)) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": records are not in strictly increasing key order at ", i));
    }
    if (key < request.from_cursor || (!request.to_cursor.empty() && key >= request.to_cursor) ||
        !IsRangeRecord(key, request.start, request.end)) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": record ", route::FormatKey(key),
          " is not a record of the range inside the chunk's span; expected only what an "
          "export of the range returned"));
    }
  }
  EKV_KV_ASSIGN_OR_RETURN(std::vector<EngineKeySpan> spans,
                          RangeRecordSpans(engine, request.start, request.end));
  kv::MvccBatch batch;
  // Replace, not merge: what the target holds in the span and the chunk lacks was removed
  // on the source (or belongs to an aborted earlier copy).
  for (const EngineKeySpan& span : spans) {
    const std::string& begin = std::max(span.begin, request.from_cursor);
    const std::string& end =
        request.to_cursor.empty() ? span.end : std::min(span.end, request.to_cursor);
    if (begin < end) batch.DeleteRawRange(begin, end);
  }
  for (const RawRecord& record : request.records) {
    batch.PutRawKey(record.first, record.second);
    const char prefix = record.first[0];
    if (prefix == kv::kDataPrefix) {
      *max_ts = std::max(*max_ts, kv::VersionedKeyTimestamp(record.first));
    } else if (prefix == kv::kTxnStatusPrefix) {
      *max_ts = std::max(*max_ts, kv::VersionedKeyTimestamp(record.first));
      absl::StatusOr<kv::TxnStatusRecord> status = kv::DecodeTxnStatusRecord(record.second);
      if (!status.ok()) return status.status();
      *max_ts = std::max(*max_ts, status->commit_ts);
    } else if (prefix == kv::kLockPrefix) {
      absl::StatusOr<kv::LockRecord> lock = kv::DecodeLockRecord(record.second);
      if (!lock.ok()) return lock.status();
      *max_ts = std::max(*max_ts, lock->start_ts);
    }
  }
  return batch;
}

std::string EncodeDeleteRange(const DeleteRangeRequest& request) {
  std::string out;
  kv::AppendLengthPrefixed(&out, request.start);
  kv::AppendLengthPrefixed(&out, request.end);
  kv::AppendVarint64(&out, request.decided_catalog_version);
  return out;
}

absl::StatusOr<DeleteRangeRequest> DecodeDeleteRange(absl::string_view bytes) {
  kv::ByteReader reader(bytes);
  DeleteRangeRequest request;
  EKV_KV_ASSIGN_OR_RETURN(absl::string_view start, reader.ReadLengthPrefixed());
  EKV_KV_ASSIGN_OR_RETURN(absl::string_view end, reader.ReadLengthPrefixed());
  EKV_KV_ASSIGN_OR_RETURN(request.decided_catalog_version, reader.ReadVarint64());
  EKV_KV_RETURN_IF_ERROR(reader.ExpectEnd("delete range request"));
  request.start = std::string(start);
  request.end = std::string(end);
  return request;
}

absl::StatusOr<kv::MvccBatch> BuildDeleteRangeBatch(const kv::EngineReader& engine,
                                                    absl::string_view start,
                                                    absl::string_view end) {
  EKV_KV_ASSIGN_OR_RETURN(std::vector<EngineKeySpan> spans, RangeRecordSpans(engine, start, end));
  kv::MvccBatch batch;
  for (const EngineKeySpan& span : spans) batch.DeleteRawRange(span.begin, span.end);
  return batch;
}

}  // namespace ekv::node
