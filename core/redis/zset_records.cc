#include "core/redis/zset_records.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/kv/codec.h"
#include "core/kv/status_macros.h"
#include "core/redis/collection.h"

namespace ekv::redis_core {
namespace {

std::string MemberSubkey(absl::string_view member) {
  return absl::StrCat(absl::string_view(&kZsetMemberTag, 1), member);
}
std::string OrderSubkey(double score, absl::string_view member) {
  return absl::StrCat(absl::string_view(&kZsetOrderTag, 1), EncodeScore(score), member);
}

absl::StatusOr<std::vector<ZsetEntry>> DecodeOrderRecords(const Store::Records& records,
                                                          size_t prefix_size) {
  std::vector<ZsetEntry> out;
  out.reserve(records.size());
  for (const auto& [engine_key, value] : records) {
    absl::string_view rest = absl::string_view(engine_key).substr(prefix_size);
    if (rest.size() < 8) return absl::DataLossError("redis zset: malformed order record");
    out.push_back({DecodeScore(rest.substr(0, 8)), std::string(rest.substr(8))});
  }
  return out;
}

}  // namespace

std::string EncodeDouble(double value) {
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(bits));
  std::string out;
  kv::AppendFixed64BigEndian(&out, bits);
  return out;
}

double DecodeDouble(absl::string_view bytes) {
  uint64_t bits = kv::DecodeFixed64BigEndian(bytes);
  double value = 0;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

absl::StatusOr<std::optional<double>> ZsetScoreOf(Executor& ex, absl::string_view key,
                                                  const Meta& meta, absl::string_view member) {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                          ex.store().Get(ex.ElementKey(key, meta, MemberSubkey(member))));
  if (!bytes.has_value()) return std::optional<double>();
  if (bytes->size() != 8) return absl::DataLossError("redis zset: malformed score record");
  return std::optional<double>(DecodeDouble(*bytes));
}

absl::StatusOr<Reply> ZsetScoresReply(Executor& ex, const Args& args,
                                      absl::FunctionRef<Reply(std::optional<double>)> reply_of) {
  EKV_KV_ASSIGN_OR_RETURN(Collection zset, LookupCollection(ex, args[1], Type::kZset));
  if (zset.error.has_value()) return *zset.error;
  std::vector<Reply> out;
  for (size_t i = 2; i < args.size(); ++i) {
    std::optional<double> score;
    if (zset.exists) {
      EKV_KV_ASSIGN_OR_RETURN(score, ZsetScoreOf(ex, args[1], zset.meta, args[i]));
    }
    out.push_back(reply_of(score));
  }
  return Reply::Array(std::move(out));
}

void ZsetPutMember(Executor& ex, absl::string_view key, const Meta& meta, absl::string_view member,
                   std::optional<double> old_score, double score) {
  // A listpack keeps scores as text, where Redis 7.0's d2string writes -0 as "0".
  if (IsCompact(meta) && score == 0) score = 0.0;
  if (old_score.has_value()) {
    ex.store().Delete(ex.ElementKey(key, meta, OrderSubkey(*old_score, member)));
  }
  ex.store().Put(ex.ElementKey(key, meta, MemberSubkey(member)), EncodeDouble(score));
  ex.store().Put(ex.ElementKey(key, meta, OrderSubkey(score, member)), "");
}

void ZsetDeleteMember(Executor& ex, absl::string_view key, const Meta& meta,
                      absl::string_view member, double score) {
  ex.store().Delete(ex.ElementKey(key, meta, MemberSubkey(member)));
  ex.store().Delete(ex.ElementKey(key, meta, OrderSubkey(score, member)));
}

absl::Status RestoreZeroSigns(Executor& ex, absl::string_view key, const Meta& meta,
                              std::vector<ZsetEntry>* entries) {
  if (IsCompact(meta)) return absl::OkStatus();  // a listpack holds no -0
  for (ZsetEntry& entry : *entries) {
    if (entry.score != 0) continue;
    EKV_KV_ASSIGN_OR_RETURN(std::optional<double> exact, ZsetScoreOf(ex, key, meta, entry.member));
    if (!exact.has_value()) return absl::DataLossError("redis zset: order record without member");
    entry.score = *exact;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ZsetEntry>> ZsetAllEntries(Executor& ex, absl::string_view key,
                                                      const Meta& meta) {
  const std::string prefix = ElementPrefix(key, meta) + kZsetOrderTag;
  EKV_KV_ASSIGN_OR_RETURN(Store::Records records,
                          ex.store().Scan(prefix, PrefixEnd(prefix), SIZE_MAX));
  EKV_KV_ASSIGN_OR_RETURN(std::vector<ZsetEntry> entries,
                          DecodeOrderRecords(records, prefix.size()));
  EKV_KV_RETURN_IF_ERROR(RestoreZeroSigns(ex, key, meta, &entries));
  return entries;
}

absl::StatusOr<std::vector<ZsetEntry>> ZsetEntriesInScoreRange(Executor& ex, absl::string_view key,
                                                               const Meta& meta, double min_score,
                                                               double max_score) {
  if (min_score > max_score) return std::vector<ZsetEntry>();
  const std::string prefix = ElementPrefix(key, meta) + kZsetOrderTag;
  EKV_KV_ASSIGN_OR_RETURN(Store::Records records,
                          ex.store().Scan(prefix + EncodeScore(min_score),
                                          PrefixEnd(prefix + EncodeScore(max_score)), SIZE_MAX));
  EKV_KV_ASSIGN_OR_RETURN(std::vector<ZsetEntry> entries,
                          DecodeOrderRecords(records, prefix.size()));
  EKV_KV_RETURN_IF_ERROR(RestoreZeroSigns(ex, key, meta, &entries));
  return entries;
}

absl::Status ZsetStore(Executor& ex, absl::string_view destination,
                       const std::vector<ZsetEntry>& entries) {
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found old, ex.Lookup(destination));
  ex.DeleteKey(destination, old);
  if (entries.empty()) return absl::OkStatus();
  Meta meta = ex.NewMeta(Type::kZset);
  // Redis 7.0 zsetConvertToListpackIfNeeded: a small result becomes a listpack.
  ConvertIf(&meta, entries.size() > kMaxListpackEntries);
  for (const ZsetEntry& entry : entries) ConvertIf(&meta, entry.member.size() > kMaxListpackValue);
  for (const ZsetEntry& entry : entries) {
    ZsetPutMember(ex, destination, meta, entry.member, std::nullopt, entry.score);
  }
  meta.size = entries.size();
  ex.SaveMeta(destination, meta);
  return absl::OkStatus();
}

Reply ZsetEntriesReply(const std::vector<ZsetEntry>& entries, bool with_scores) {
  std::vector<Reply> out;
  out.reserve(entries.size() * (with_scores ? 2 : 1));
  for (const ZsetEntry& entry : entries) {
    out.push_back(Reply::Bulk(entry.member));
    if (with_scores) out.push_back(Reply::Double(entry.score));
  }
  return with_scores ? Reply::Pairs(std::move(out)) : Reply::Array(std::move(out));
}

}  // namespace ekv::redis_core
