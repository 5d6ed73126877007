// The element records of a sorted set (layout.h) and the helpers every sorted-set command
// shares: two records per member, 'm' member -> 8-byte score for point lookups and
// 'o' score-order member -> "" for ordered reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/redis/executor.h"

namespace ekv::redis_core {

// The first byte of a member's subkeys: its score record and its score-order record.
inline constexpr char kZsetMemberTag = 'm';
inline constexpr char kZsetOrderTag = 'o';

// The exact score (bit for bit, -0 kept) in a member record; the order record holds the
// order-preserving form (layout.h EncodeScore).
std::string EncodeDouble(double value);
double DecodeDouble(absl::string_view bytes);

struct ZsetEntry {
  double score = 0;
  std::string member;
  bool operator==(const ZsetEntry&) const = default;
};

// The score of `member`, nullopt when it is not in the set.
absl::StatusOr<std::optional<double>> ZsetScoreOf(Executor& ex, absl::string_view key,
                                                  const Meta& meta, absl::string_view member);
// The reply of a command that reads several members' scores (ZMSCORE, GEOPOS, GEOHASH):
// args[1] the sorted set (WRONGTYPE for another type), args[2...] the members; an array of
// reply_of(score) per member, the score nullopt when it is not a member (or no set).
absl::StatusOr<Reply> ZsetScoresReply(Executor& ex, const Args& args,
                                      absl::FunctionRef<Reply(std::optional<double>)> reply_of);
// Adds or moves `member` (old_score: its current score, nullopt when new). The caller
// keeps meta.size and records a conversion (ConvertSortedSetFor) first: a compact sorted
// set stores -0 as 0, as Redis's listpack does.
void ZsetPutMember(Executor& ex, absl::string_view key, const Meta& meta, absl::string_view member,
                   std::optional<double> old_score, double score);
// Records Redis 7.0's conversion to a skiplist (zsetAdd) before `member` is added.
inline void ConvertSortedSetFor(Meta* meta, absl::string_view member) {
  ConvertIf(meta, meta->size + 1 > kMaxListpackEntries || member.size() > kMaxListpackValue);
}
void ZsetDeleteMember(Executor& ex, absl::string_view key, const Meta& meta,
                      absl::string_view member, double score);
// The score index encodes -0 as 0 (they sort together); a skiplist sorted set keeps -0
// (Redis answers "-0"), so a zero read from the index takes its sign from the member
// record: one lookup per zero score, none in a compact set (which stores no -0).
absl::Status RestoreZeroSigns(Executor& ex, absl::string_view key, const Meta& meta,
                              std::vector<ZsetEntry>* entries);
// Every member in (score, member) order.
absl::StatusOr<std::vector<ZsetEntry>> ZsetAllEntries(Executor& ex, absl::string_view key,
                                                      const Meta& meta);
// The members whose scores lie in [min_score, max_score] (bounds inclusive; the caller
// filters exclusive ones), in (score, member) order: one bounded walk of the score index.
absl::StatusOr<std::vector<ZsetEntry>> ZsetEntriesInScoreRange(Executor& ex, absl::string_view key,
                                                               const Meta& meta, double min_score,
                                                               double max_score);
// Replaces whatever `destination` holds with a new sorted set of `entries` (distinct
// members), or deletes it when `entries` is empty: the STORE forms.
absl::Status ZsetStore(Executor& ex, absl::string_view destination,
                       const std::vector<ZsetEntry>& entries);
// `entries` as a reply: members, or member/score pairs (RESP3 nested) with scores.
Reply ZsetEntriesReply(const std::vector<ZsetEntry>& entries, bool with_scores);

}  // namespace ekv::redis_core
