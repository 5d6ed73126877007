// The keyspace walk behind SCAN, KEYS, DBSIZE and RANDOMKEY: the internal read
// `ekv-keys lo hi limit pattern type mode` (never in the front door's table) lists, in
// key order, the live keys of this group in [lo, hi) (hi empty: no bound), examining at
// most `limit` keys. It answers [next, result]: `next` the position to go on from (nil
// once [lo, hi) is exhausted); result the matching keys (mode "keys") or their number
// (mode "count"). The front door walks the routes of the catalog one call at a time.
//
// A key is live when its collection metadata is not expired, or else when its string's
// latest version is visible at the group's time (expired strings are invisible, as the
// MVCC expiry rule has it).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "core/kv/status_macros.h"
#include "core/kv/timestamp.h"
#include "core/redis/executor.h"
#include "core/redis/glob.h"

namespace ekv::redis_core {
namespace {

// Whether the scanned version has not expired at the group's time (Store::GetString's rule:
// the expiry record holds expire_ms + 1).
absl::StatusOr<bool> LiveString(Executor& ex, const kv::KvPair& version) {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<kv::Timestamp> expire_ts,
                          ex.store().mvcc().GetExpiry(version.key, version.commit_ts));
  if (!expire_ts.has_value()) return true;
  const uint64_t physical = kv::PhysicalMs(*expire_ts);
  return !ex.Expired(std::max<uint64_t>(physical > 0 ? physical - 1 : 0, 1));
}

}  // namespace

EKV_REDIS_HANDLER(CmdKeyspace) {
  const std::string& lo = args[1];
  const std::string& hi = args[2];
  uint64_t limit = 0;
  if (!absl::SimpleAtoi(args[3], &limit) || limit == 0) {
    return Reply::Error("ERR ekv-keys: bad limit");
  }
  limit = std::min<uint64_t>(limit, kv::kMaxScanLimit);
  const std::string& pattern = args[4];
  const std::string type_filter = absl::AsciiStrToLower(args[5]);
  const bool count_only = args[6] == "count";

  // Strings: the latest version of each key visible at the group's time. Every version is
  // at or below (now_ms, max logical): now_ms is at least the group's newest applied time.
  const kv::Timestamp read_ts = kv::MakeTimestamp(ex.now_ms(), 0xFFFF);
  EKV_KV_ASSIGN_OR_RETURN(std::vector<kv::KvPair> strings,
                          ex.store().mvcc().Scan(lo, hi, limit, read_ts));
  // Collections: their metadata records.
  const std::string meta_prefix = MetaKey("");
  EKV_KV_ASSIGN_OR_RETURN(
      Store::Records metas,
      ex.store().Scan(MetaKey(lo), hi.empty() ? PrefixEnd(meta_prefix) : MetaKey(hi), limit));

  // Merge both, in key order, up to `limit` distinct keys.
  struct Candidate {
    std::string key;
    Type type = Type::kNone;
  };
  std::vector<Candidate> examined;
  size_t s = 0;
  size_t m = 0;
  while (examined.size() < limit && (s < strings.size() || m < metas.size())) {
    const absl::string_view meta_key =
        m < metas.size() ? absl::string_view(metas[m].first).substr(meta_prefix.size()) : "";
    const bool take_string =
        s < strings.size() && (m >= metas.size() || absl::string_view(strings[s].key) <= meta_key);
    const bool take_meta =
        m < metas.size() && (s >= strings.size() || meta_key <= absl::string_view(strings[s].key));
    Candidate candidate;
    candidate.key = take_string ? strings[s].key : std::string(meta_key);
    if (take_meta) {
      EKV_KV_ASSIGN_OR_RETURN(Meta meta, DecodeMeta(metas[m].second));
      if (!ex.Expired(meta.expire_ms)) candidate.type = meta.type;
      ++m;
    }
    if (take_string) {
      if (candidate.type == Type::kNone) {
        EKV_KV_ASSIGN_OR_RETURN(bool live, LiveString(ex, strings[s]));
        if (live) candidate.type = Type::kString;
      }
      ++s;
    }
    examined.push_back(std::move(candidate));
  }
  // More may follow if the merge stopped before both pages were used up, or if a source
  // filled its page (its next record was not read).
  const bool more =
      s < strings.size() || m < metas.size() || strings.size() == limit || metas.size() == limit;
  Reply next = Reply::Nil();
  if (more && !examined.empty()) next = Reply::Bulk(examined.back().key + std::string(1, '\0'));

  std::vector<Reply> keys;
  int64_t count = 0;
  for (const Candidate& candidate : examined) {
    if (candidate.type == Type::kNone) continue;
    // Redis 7 functions' registry is no key of the keyspace (KEYS, SCAN, DBSIZE, RANDOMKEY,
    // FLUSHDB pass over it, as Redis's functions live outside its databases).
    if (candidate.key == kFunctionsRegistryKey) continue;
    if (!type_filter.empty() && type_filter != TypeName(candidate.type)) continue;
    if (!pattern.empty() && !GlobMatch(pattern, candidate.key)) continue;
    ++count;
    if (!count_only) keys.push_back(Reply::Bulk(candidate.key));
  }
  std::vector<Reply> out;
  out.push_back(std::move(next));
  out.push_back(count_only ? Reply::Integer(count) : Reply::Array(std::move(keys)));
  return Reply::Array(std::move(out));
}

}  // namespace ekv::redis_core
