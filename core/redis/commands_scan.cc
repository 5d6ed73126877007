// HSCAN, SSCAN, ZSCAN key cursor [MATCH pattern] [COUNT count] (Redis 7.0
// scanGenericCommand). A collection's elements are walked in subkey order and the cursor
// is the number of elements already walked, so a page needs no state anywhere and every
// replica answers alike. What that promises: an element present for the whole walk and
// never preceded by a removal is returned exactly once; one removed mid-walk can make the
// walk skip as many later elements as were removed before the cursor (Redis promises at
// least once under any changes; see docs/architecture.md). MATCH filters the fields /
// members of a page after it is read, as Redis does, so a page may come back empty with a
// non-zero cursor.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/kv/status_macros.h"
#include "core/redis/collection.h"
#include "core/redis/glob.h"
#include "core/redis/hash_fields.h"
#include "core/redis/numbers.h"
#include "core/redis/set_order.h"
#include "core/redis/zset_records.h"

namespace ekv::redis_core {
namespace {

// A page never walks more elements than this, whatever COUNT says.
constexpr uint64_t kMaxScanPage = 100'000;

Reply ScanReply(uint64_t next_cursor, std::vector<Reply> elements) {
  return Reply::Array({Reply::Bulk(absl::StrCat(next_cursor)), Reply::Array(std::move(elements))});
}

// The whole scan of a collection Redis keeps compact (nullopt: not compact, page it).
absl::StatusOr<std::optional<std::vector<Reply>>> WholeCompact(Executor& ex, absl::string_view key,
                                                               const Meta& meta, Type type,
                                                               bool use_pattern,
                                                               const std::string& pattern) {
  std::vector<Reply> out;
  auto matches = [&](absl::string_view item) { return !use_pattern || GlobMatch(pattern, item); };
  if (type == Type::kHash && IsCompact(meta)) {
    EKV_KV_ASSIGN_OR_RETURN(auto fields, HashFieldsInOrder(ex, key, meta));
    for (auto& [field, value] : fields) {
      if (!matches(field)) continue;
      out.push_back(Reply::Bulk(std::move(field)));
      out.push_back(Reply::Bulk(std::move(value)));
    }
    return std::optional<std::vector<Reply>>(std::move(out));
  }
  if (type == Type::kZset && IsCompact(meta)) {
    EKV_KV_ASSIGN_OR_RETURN(std::vector<ZsetEntry> entries, ZsetAllEntries(ex, key, meta));
    for (ZsetEntry& entry : entries) {
      if (!matches(entry.member)) continue;
      out.push_back(Reply::Bulk(std::move(entry.member)));
      out.push_back(Reply::Bulk(FormatScore(entry.score)));
    }
    return std::optional<std::vector<Reply>>(std::move(out));
  }
  if (type == Type::kSet && meta.size <= kMaxIntsetEntries) {
    EKV_KV_ASSIGN_OR_RETURN(Store::Records records, ex.Elements(key, meta));
    std::vector<std::string> members;
    for (auto& [member, ignored] : records) members.push_back(std::move(member));
    if (!InIntsetOrder(&members)) return std::optional<std::vector<Reply>>();
    for (std::string& member : members) {
      if (matches(member)) out.push_back(Reply::Bulk(std::move(member)));
    }
    return std::optional<std::vector<Reply>>(std::move(out));
  }
  return std::optional<std::vector<Reply>>();
}

absl::StatusOr<Reply> ScanCollection(Executor& ex, const Args& args, Type type) {
  uint64_t cursor = 0;
  if (!absl::SimpleAtoi(args[2], &cursor) || args[2].empty() || args[2][0] == '+' ||
      args[2][0] == ' ') {
    return Reply::Error("ERR invalid cursor");
  }
  EKV_KV_ASSIGN_OR_RETURN(Collection collection, LookupCollection(ex, args[1], type));
  // A missing key answers the empty scan before the options are looked at, as Redis does.
  if (!collection.exists && !collection.error.has_value()) return ScanReply(0, {});
  if (collection.error.has_value()) return *collection.error;
  int64_t count = 10;
  std::string pattern;
  bool use_pattern = false;
  for (size_t i = 3; i < args.size();) {
    const size_t left = args.size() - i;
    if (absl::EqualsIgnoreCase(args[i], "count") && left >= 2) {
      std::optional<int64_t> parsed = ParseInt64(args[i + 1]);
      if (!parsed.has_value()) return NotIntegerError();
      if (*parsed < 1) return SyntaxError();
      count = *parsed;
      i += 2;
    } else if (absl::EqualsIgnoreCase(args[i], "match") && left >= 2) {
      pattern = args[i + 1];
      use_pattern = pattern != "*";
      i += 2;
    } else {
      return SyntaxError();
    }
  }
  const Meta& meta = collection.meta;
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::vector<Reply>> whole,
                          WholeCompact(ex, args[1], meta, type, use_pattern, pattern));
  if (whole.has_value()) return ScanReply(0, *std::move(whole));
  const uint64_t page = std::min<uint64_t>(static_cast<uint64_t>(count), kMaxScanPage);
  if (cursor >= meta.size) return ScanReply(0, {});
  // Sorted sets walk their member records ('m'), never the score index.
  const std::string from = type == Type::kZset ? std::string(1, kZsetMemberTag) : "";
  EKV_KV_ASSIGN_OR_RETURN(Store::Records records, ex.Elements(args[1], meta, from, cursor + page));
  std::vector<Reply> out;
  uint64_t walked = 0;
  for (size_t i = static_cast<size_t>(std::min<uint64_t>(cursor, records.size()));
       i < records.size(); ++i) {
    absl::string_view subkey = records[i].first;
    if (type == Type::kZset) {
      if (subkey.empty() || subkey[0] != kZsetMemberTag) break;
      subkey.remove_prefix(1);
    }
    ++walked;
    if (use_pattern && !GlobMatch(pattern, subkey)) continue;
    out.push_back(Reply::Bulk(subkey));
    if (type == Type::kHash) {
      EKV_KV_ASSIGN_OR_RETURN(StoredHashValue value, DecodeHashValue(meta, records[i].second));
      out.push_back(Reply::Bulk(value.value));
    }
    if (type == Type::kZset) {
      EKV_KV_ASSIGN_OR_RETURN(std::optional<double> score, ZsetScoreOf(ex, args[1], meta, subkey));
      if (!score.has_value()) return absl::DataLossError("redis zset: member without a score");
      // Redis sends a small sorted set's scores as strings (its listpack form).
      out.push_back(Reply::Bulk(FormatScore(*score)));
    }
  }
  const uint64_t next = cursor + walked;
  return ScanReply(walked < page || next >= meta.size ? 0 : next, std::move(out));
}

}  // namespace

EKV_REDIS_HANDLER(CmdHScan) { return ScanCollection(ex, args, Type::kHash); }
EKV_REDIS_HANDLER(CmdSScan) { return ScanCollection(ex, args, Type::kSet); }
EKV_REDIS_HANDLER(CmdZScan) { return ScanCollection(ex, args, Type::kZset); }

}  // namespace ekv::redis_core
