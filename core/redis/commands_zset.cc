// Sorted-set commands over the records of zset_records.h. Range reads walk the score index
// in order.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/kv/codec.h"
#include "core/kv/status_macros.h"
#include "core/redis/blocking.h"
#include "core/redis/collection.h"
#include "core/redis/numbers.h"
#include "core/redis/random_pick.h"
#include "core/redis/zset_records.h"

namespace ekv::redis_core {
namespace {

using Entry = ZsetEntry;

struct ScoreBound {
  double value = 0;
  bool exclusive = false;
};

std::optional<ScoreBound> ParseScoreBound(absl::string_view text) {
  ScoreBound bound;
  if (!text.empty() && text[0] == '(') {
    bound.exclusive = true;
    text.remove_prefix(1);
  }
  std::optional<double> value = ParseDouble(text);
  if (!value.has_value()) return std::nullopt;
  bound.value = *value;
  return bound;
}

bool AboveMin(double score, const ScoreBound& min) {
  return min.exclusive ? score > min.value : score >= min.value;
}
bool BelowMax(double score, const ScoreBound& max) {
  return max.exclusive ? score < max.value : score <= max.value;
}

struct LexBound {
  enum Kind { kMinusInf, kPlusInf, kValue } kind = kValue;
  std::string value;
  bool exclusive = false;
};

std::optional<LexBound> ParseLexBound(absl::string_view text) {
  LexBound bound;
  if (text == "-") {
    bound.kind = LexBound::kMinusInf;
  } else if (text == "+") {
    bound.kind = LexBound::kPlusInf;
  } else if (!text.empty() && (text[0] == '(' || text[0] == '[')) {
    bound.exclusive = text[0] == '(';
    bound.value = std::string(text.substr(1));
  } else {
    return std::nullopt;
  }
  return bound;
}

bool LexAboveMin(const std::string& member, const LexBound& min) {
  if (min.kind == LexBound::kMinusInf) return true;
  if (min.kind == LexBound::kPlusInf) return false;
  return min.exclusive ? member > min.value : member >= min.value;
}
bool LexBelowMax(const std::string& member, const LexBound& max) {
  if (max.kind == LexBound::kPlusInf) return true;
  if (max.kind == LexBound::kMinusInf) return false;
  return max.exclusive ? member < max.value : member <= max.value;
}

enum class RangeBy { kRank, kScore, kLex };

struct RangeRequest {
  RangeBy by = RangeBy::kRank;
  bool reverse = false;
  bool with_scores = false;
  bool has_limit = false;
  int64_t offset = 0;
  int64_t count = -1;
};

// The members a range selects, or the Redis error that refuses it.
struct RangeSelection {
  std::optional<Reply> error;
  std::vector<Entry> entries;
};

// ZRANGE, its older forms and ZRANGESTORE, after their options are parsed: `key` is the
// source, `first`/`second` the range in the order the client gave them (REV with
// BYSCORE/BYLEX: max first). Checks and errors in Redis's order: options, then the range,
// then the key's type.
absl::StatusOr<RangeSelection> SelectRange(Executor& ex, absl::string_view key,
                                           const std::string& first, const std::string& second,
                                           const RangeRequest& request) {
  RangeSelection out;
  if (request.has_limit && request.by == RangeBy::kRank) {
    out.error = Reply::Error(
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
    return out;
  }
  if (request.with_scores && request.by == RangeBy::kLex) {
    out.error =
        Reply::Error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    return out;
  }
  const std::string& low_arg = request.reverse && request.by != RangeBy::kRank ? second : first;
  const std::string& high_arg = request.reverse && request.by != RangeBy::kRank ? first : second;
  std::optional<int64_t> start;
  std::optional<int64_t> stop;
  std::optional<ScoreBound> min_score;
  std::optional<ScoreBound> max_score;
  std::optional<LexBound> min_lex;
  std::optional<LexBound> max_lex;
  switch (request.by) {
    case RangeBy::kRank:
      start = ParseInt64(first);
      stop = ParseInt64(second);
      if (!start.has_value() || !stop.has_value()) out.error = NotIntegerError();
      break;
    case RangeBy::kScore:
      min_score = ParseScoreBound(low_arg);
      max_score = ParseScoreBound(high_arg);
      if (!min_score.has_value() || !max_score.has_value()) {
        out.error = Reply::Error("ERR min or max is not a float");
      }
      break;
    case RangeBy::kLex:
      min_lex = ParseLexBound(low_arg);
      max_lex = ParseLexBound(high_arg);
      if (!min_lex.has_value() || !max_lex.has_value()) {
        out.error = Reply::Error("ERR min or max not valid string range item");
      }
      break;
  }
  if (out.error.has_value()) return out;
  EKV_KV_ASSIGN_OR_RETURN(Collection zset, LookupCollection(ex, key, Type::kZset));
  if (zset.error.has_value()) {
    out.error = *zset.error;
    return out;
  }
  if (!zset.exists) return out;
  EKV_KV_ASSIGN_OR_RETURN(std::vector<Entry> entries, ZsetAllEntries(ex, key, zset.meta));
  if (request.reverse) std::reverse(entries.begin(), entries.end());
  if (request.by == RangeBy::kRank) {
    const int64_t length = static_cast<int64_t>(entries.size());
    int64_t s = *start < 0 ? length + *start : *start;
    int64_t e = *stop < 0 ? length + *stop : *stop;
    if (s < 0) s = 0;
    if (s > e || s >= length) return out;
    if (e >= length) e = length - 1;
    out.entries.assign(entries.begin() + s, entries.begin() + e + 1);
    return out;
  }
  int64_t skip = request.offset;
  if (request.has_limit && skip < 0) return out;
  for (Entry& entry : entries) {
    const bool in_range =
        request.by == RangeBy::kScore
            ? AboveMin(entry.score, *min_score) && BelowMax(entry.score, *max_score)
            : LexAboveMin(entry.member, *min_lex) && LexBelowMax(entry.member, *max_lex);
    if (!in_range) continue;
    if (skip > 0) {
      --skip;
      continue;
    }
    if (request.count >= 0 && static_cast<int64_t>(out.entries.size()) >= request.count) break;
    out.entries.push_back(std::move(entry));
  }
  return out;
}

absl::StatusOr<Reply> RangeGeneric(Executor& ex, const Args& args, const RangeRequest& request) {
  EKV_KV_ASSIGN_OR_RETURN(RangeSelection selection,
                          SelectRange(ex, args[1], args[2], args[3], request));
  if (selection.error.has_value()) return *selection.error;
  return ZsetEntriesReply(selection.entries, request.with_scores);
}

// Parses [WITHSCORES] [LIMIT offset count] [BYSCORE|BYLEX] [REV] from args[4..] as
// allowed by the command.
std::optional<Reply> ParseRangeOptions(const Args& args, bool allow_by, bool allow_limit,
                                       RangeRequest* request, size_t first_option = 4,
                                       bool allow_withscores = true) {
  for (size_t j = first_option; j < args.size(); ++j) {
    const std::string& opt = args[j];
    const size_t left = args.size() - j - 1;
    if (allow_withscores && absl::EqualsIgnoreCase(opt, "withscores")) {
      request->with_scores = true;
    } else if (allow_limit && absl::EqualsIgnoreCase(opt, "limit") && left >= 2) {
      std::optional<int64_t> offset = ParseInt64(args[j + 1]);
      std::optional<int64_t> count = ParseInt64(args[j + 2]);
      if (!offset.has_value() || !count.has_value()) return NotIntegerError();
      request->has_limit = true;
      request->offset = *offset;
      request->count = *count;
      j += 2;
    } else if (allow_by && absl::EqualsIgnoreCase(opt, "byscore")) {
      request->by = RangeBy::kScore;
    } else if (allow_by && absl::EqualsIgnoreCase(opt, "bylex")) {
      request->by = RangeBy::kLex;
    } else if (allow_by && absl::EqualsIgnoreCase(opt, "rev")) {
      request->reverse = true;
    } else {
      return SyntaxError();
    }
  }
  return std::nullopt;
}

// ZCOUNT and ZLEXCOUNT: the number of `key`'s entries that `matches` accepts (0 for a
// missing key, WRONGTYPE for another type).
template <typename Predicate>
absl::StatusOr<Reply> CountEntries(Executor& ex, absl::string_view key, Predicate matches) {
  EKV_KV_ASSIGN_OR_RETURN(Collection zset, LookupCollection(ex, key, Type::kZset));
  if (zset.error.has_value()) return *zset.error;
  if (!zset.exists) return Reply::Integer(0);
  EKV_KV_ASSIGN_OR_RETURN(std::vector<Entry> entries, ZsetAllEntries(ex, key, zset.meta));
  int64_t count = 0;
  for (const Entry& entry : entries) {
    if (matches(entry)) ++count;
  }
  return Reply::Integer(count);
}

absl::StatusOr<Reply> Pop(Executor& ex, const Args& args, bool max) {
  if (args.size() > 3) return SyntaxError();
  const bool has_count = args.size() == 3;
  int64_t count = 1;
  if (has_count) {
    std::optional<int64_t> parsed = ParseInt64(args[2]);
    if (!parsed.has_value() || *parsed < 0) {
      return Reply::Error("ERR value is out of range, must be positive");
    }
    count = *parsed;
  }
  EKV_KV_ASSIGN_OR_RETURN(Collection zset, LookupCollection(ex, args[1], Type::kZset));
  if (zset.error.has_value()) return *zset.error;
  if (!zset.exists || count == 0) return has_count ? Reply::Pairs({}) : Reply::Array();
  EKV_KV_ASSIGN_OR_RETURN(std::vector<Entry> entries, ZsetAllEntries(ex, args[1], zset.meta));
  if (max) std::reverse(entries.begin(), entries.end());
  if (static_cast<int64_t>(entries.size()) > count) entries.resize(count);
  for (const Entry& entry : entries) {
    ZsetDeleteMember(ex, args[1], zset.meta, entry.member, entry.score);
    --zset.meta.size;
  }
  ex.SaveMeta(args[1], zset.meta);
  Reply reply = ZsetEntriesReply(entries, /*with_scores=*/true);
  // Without a count Redis 7.0 answers one flat [member, score] array in both protocols.
  if (!has_count) reply.kind = Reply::Kind::kArray;
  return reply;
}

absl::StatusOr<Reply> Rank(Executor& ex, const Args& args, bool reverse) {
  EKV_KV_ASSIGN_OR_RETURN(Collection zset, LookupCollection(ex, args[1], Type::kZset));
  if (zset.error.has_value()) return *zset.error;
  if (!zset.exists) return Reply::Nil();
  EKV_KV_ASSIGN_OR_RETURN(std::optional<double> score,
                          ZsetScoreOf(ex, args[1], zset.meta, args[2]));
  if (!score.has_value()) return Reply::Nil();
  // Members before it in the score index: a bounded scan up to its own record.
  const std::string prefix = ElementPrefix(args[1], zset.meta) + kZsetOrderTag;
  EKV_KV_ASSIGN_OR_RETURN(
      Store::Records before,
      ex.store().Scan(prefix, prefix + EncodeScore(*score) + args[2], SIZE_MAX));
  const int64_t rank = static_cast<int64_t>(before.size());
  return Reply::Integer(reverse ? static_cast<int64_t>(zset.meta.size) - 1 - rank : rank);
}

}  // namespace

EKV_REDIS_HANDLER(CmdZAdd) {
  bool nx = false, xx = false, gt = false, lt = false, ch = false, incr = false;
  size_t index = 2;
  for (; index < args.size(); ++index) {
    const std::string& opt = args[index];
    if (absl::EqualsIgnoreCase(opt, "nx")) {
      nx = true;
    } else if (absl::EqualsIgnoreCase(opt, "xx")) {
      xx = true;
    } else if (absl::EqualsIgnoreCase(opt, "gt")) {
      gt = true;
    } else if (absl::EqualsIgnoreCase(opt, "lt")) {
      lt = true;
    } else if (absl::EqualsIgnoreCase(opt, "ch")) {
      ch = true;
    } else if (absl::EqualsIgnoreCase(opt, "incr")) {
      incr = true;
    } else {
      break;
    }
  }
  const size_t elements = args.size() - index;
  if (elements == 0 || elements % 2 != 0) return SyntaxError();
  if (nx && xx) {
    return Reply::Error("ERR XX and NX options at the same time are not compatible");
  }
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    return Reply::Error("ERR GT, LT, and/or NX options at the same time are not compatible");
  }
  if (incr && elements > 2) {
    return Reply::Error("ERR INCR option supports a single increment-element pair");
  }
  std::vector<double> scores;
  for (size_t i = index; i < args.size(); i += 2) {
    std::optional<double> score = ParseDouble(args[i]);
    if (!score.has_value()) return NotFloatError();
    scores.push_back(*score);
  }
  EKV_KV_ASSIGN_OR_RETURN(Collection zset, LookupOrCreate(ex, args[1], Type::kZset));
  if (zset.error.has_value()) return *zset.error;
  int64_t added = 0, updated = 0, processed = 0;
  double last_score = 0;
  if (!(xx && !zset.exists)) {
    for (size_t n = 0; n < scores.size(); ++n) {
      const std::string& member = args[index + 2 * n + 1];
      double score = scores[n];
      std::optional<double> current;
      if (zset.exists || zset.meta.size > 0) {
        EKV_KV_ASSIGN_OR_RETURN(current, ZsetScoreOf(ex, args[1], zset.meta, member));
      }
      if (current.has_value()) {
        if (nx) continue;
        if (incr) {
          score += *current;
          if (std::isnan(score)) return Reply::Error("ERR resulting score is not a number (NaN)");
        }
        if ((lt && score >= *current) || (gt && score <= *current)) continue;
        last_score = score;
        ++processed;
        if (score != *current) {
          ZsetPutMember(ex, args[1], zset.meta, member, current, score);
          ++updated;
        }
      } else {
        if (xx) continue;
        ConvertSortedSetFor(&zset.meta, member);
        ZsetPutMember(ex, args[1], zset.meta, member, std::nullopt, score);
        ++zset.meta.size;
        ++added;
        ++processed;
        last_score = score;
      }
    }
    if (added > 0 || updated > 0) ex.SaveMeta(args[1], zset.meta);
  }
  if (incr) return processed > 0 ? Reply::Double(last_score) : Reply::Nil();
  return Reply::Integer(ch ? added + updated : added);
}

EKV_REDIS_HANDLER(CmdZIncrBy) {
  std::optional<double> delta = ParseDouble(args[2]);
  if (!delta.has_value()) return NotFloatError();
  EKV_KV_ASSIGN_OR_RETURN(Collection zset, LookupOrCreate(ex, args[1], Type::kZset));
  if (zset.error.has_value()) return *zset.error;
  std::optional<double> current;
  if (zset.exists) {
    EKV_KV_ASSIGN_OR_RETURN(current, ZsetScoreOf(ex, args[1], zset.meta, args[3]));
  }
  // A new member's score is the increment itself (Redis: -0 stays -0).
  const double score = current.has_value() ? *current + *delta : *delta;
  if (std::isnan(score)) return Reply::Error("ERR resulting score is not a number (NaN)");
  if (!current.has_value()) ConvertSortedSetFor(&zset.meta, args[3]);
  ZsetPutMember(ex, args[1], zset.meta, args[3], current, score);
  if (!current.has_value()) ++zset.meta.size;
  ex.SaveMeta(args[1], zset.meta);
  return Reply::Double(score);
}

EKV_REDIS_HANDLER(CmdZRem) {
  EKV_KV_ASSIGN_OR_RETURN(Collection zset, LookupCollection(ex, args[1], Type::kZset));
  if (zset.error.has_value()) return *zset.error;
  if (!zset.exists) return Reply::Integer(0);
  int64_t removed = 0;
  for (size_t i = 2; i < args.size(); ++i) {
    EKV_KV_ASSIGN_OR_RETURN(std::optional<double> score,
                            ZsetScoreOf(ex, args[1], zset.meta, args[i]));
    if (!score.has_value()) continue;
    ZsetDeleteMember(ex, args[1], zset.meta, args[i], *score);
    --zset.meta.size;
    ++removed;
  }
  if (removed > 0) ex.SaveMeta(args[1], zset.meta);
  return Reply::Integer(removed);
}

EKV_REDIS_HANDLER(CmdZScore) {
  EKV_KV_ASSIGN_OR_RETURN(Collection zset, LookupCollection(ex, args[1], Type::kZset));
  if (zset.error.has_value()) return *zset.error;
  if (!zset.exists) return Reply::Nil();
  EKV_KV_ASSIGN_OR_RETURN(std::optional<double> score,
                          ZsetScoreOf(ex, args[1], zset.meta, args[2]));
  return score.has_value() ? Reply::Double(*score) : Reply::Nil();
}

EKV_REDIS_HANDLER(CmdZMScore) {
  return ZsetScoresReply(ex, args, [](std::optional<double> score) {
    return score.has_value() ? Reply::Double(*score) : Reply::Nil();
  });
}

EKV_REDIS_HANDLER(CmdZCard) {
  EKV_KV_ASSIGN_OR_RETURN(Collection zset, LookupCollection(ex, args[1], Type::kZset));
  if (zset.error.has_value()) return *zset.error;
  return Reply::Integer(zset.exists ? static_cast<int64_t>(zset.meta.size) : 0);
}

EKV_REDIS_HANDLER(CmdZCount) {
  std::optional<ScoreBound> min = ParseScoreBound(args[2]);
  std::optional<ScoreBound> max = ParseScoreBound(args[3]);
  if (!min.has_value() || !max.has_value()) return Reply::Error("ERR min or max is not a float");
  return CountEntries(ex, args[1], [&](const Entry& entry) {
    return AboveMin(entry.score, *min) && BelowMax(entry.score, *max);
  });
}

EKV_REDIS_HANDLER(CmdZRange) {
  RangeRequest request;
  if (std::optional<Reply> error = ParseRangeOptions(args, true, true, &request)) return *error;
  return RangeGeneric(ex, args, request);
}

EKV_REDIS_HANDLER(CmdZRangeByScore) {
  RangeRequest request;
  request.by = RangeBy::kScore;
  if (std::optional<Reply> error = ParseRangeOptions(args, false, true, &request)) return *error;
  return RangeGeneric(ex, args, request);
}

EKV_REDIS_HANDLER(CmdZRevRange) {
  RangeRequest request;
  request.reverse = true;
  if (std::optional<Reply> error = ParseRangeOptions(args, false, false, &request)) {
    return *error;
  }
  return RangeGeneric(ex, args, request);
}

EKV_REDIS_HANDLER(CmdZRevRangeByScore) {
  RangeRequest request;
  request.by = RangeBy::kScore;
  request.reverse = true;
  if (std::optional<Reply> error = ParseRangeOptions(args, false, true, &request)) return *error;
  return RangeGeneric(ex, args, request);
}

EKV_REDIS_HANDLER(CmdZRangeByLex) {
  RangeRequest request;
  request.by = RangeBy::kLex;
  if (std::optional<Reply> error = ParseRangeOptions(args, false, true, &request)) return *error;
  return RangeGeneric(ex, args, request);
}

EKV_REDIS_HANDLER(CmdZRevRangeByLex) {
  RangeRequest request;
  request.by = RangeBy::kLex;
  request.reverse = true;
  if (std::optional<Reply> error = ParseRangeOptions(args, false, true, &request)) return *error;
  return RangeGeneric(ex, args, request);
}

EKV_REDIS_HANDLER(CmdZRank) { return Rank(ex, args, false); }
EKV_REDIS_HANDLER(CmdZRevRank) { return Rank(ex, args, true); }
EKV_REDIS_HANDLER(CmdZPopMin) { return Pop(ex, args, false); }
EKV_REDIS_HANDLER(CmdZPopMax) { return Pop(ex, args, true); }

namespace {

// Pops up to `count` members with the lowest (or highest) scores from an existing zset,
// reading only those members' order records, and saves its metadata.
absl::StatusOr<std::vector<Entry>> PopEntries(Executor& ex, absl::string_view key, Meta meta,
                                              bool max, uint64_t count) {
  const std::string prefix = ElementPrefix(key, meta) + kZsetOrderTag;
  EKV_KV_ASSIGN_OR_RETURN(Store::Records records,
                          ex.store().Scan(prefix, PrefixEnd(prefix), count, /*reverse=*/max));
  std::vector<Entry> out;
  for (const auto& [engine_key, value] : records) {
    absl::string_view rest = absl::string_view(engine_key).substr(prefix.size());
    if (rest.size() < 8) return absl::DataLossError("redis zset: malformed order record");
    out.push_back({DecodeScore(rest.substr(0, 8)), std::string(rest.substr(8))});
  }
  EKV_KV_RETURN_IF_ERROR(RestoreZeroSigns(ex, key, meta, &out));
  for (const Entry& entry : out) {
    ZsetDeleteMember(ex, key, meta, entry.member, entry.score);
    --meta.size;
  }
  ex.SaveMeta(key, meta);
  return out;
}

// BZPOPMIN/BZPOPMAX once: [key, member, score] from the first non-empty zset (`serving`: a
// blocked client's later run, which skips keys of another type).
absl::StatusOr<Reply> BlockingPop(Executor& ex, const Args& args, bool max, bool serving) {
  BlockTimeout timeout = ParseBlockTimeout(args.back(), ex.now_ms());
  if (timeout.error.has_value()) return *timeout.error;
  for (size_t i = 1; i + 1 < args.size(); ++i) {
    EKV_KV_ASSIGN_OR_RETURN(Collection zset, LookupCollection(ex, args[i], Type::kZset));
    if (zset.error.has_value() && serving) continue;
    if (zset.error.has_value()) return *zset.error;
    if (!zset.exists) continue;
    EKV_KV_ASSIGN_OR_RETURN(std::vector<Entry> popped, PopEntries(ex, args[i], zset.meta, max, 1));
    if (popped.empty()) return absl::DataLossError("redis zset: a counted member is missing");
    return Reply::Array({Reply::Bulk(args[i]), Reply::Bulk(popped.front().member),
                         Reply::Double(popped.front().score)});
  }
  return Reply::NilArray();
}

// ZMPOP (numkeys at args[1]) and BZMPOP (timeout at args[1], numkeys at args[2]):
// [key, [[member, score], ...]] nested in both protocols, as Redis 7.0 answers. `serving`: a
// blocked client's later run, which skips keys of another type.
absl::StatusOr<Reply> MultiPop(Executor& ex, const Args& args, size_t numkeys_index, bool block,
                               bool serving = false) {
  std::optional<int64_t> numkeys = ParseInt64(args[numkeys_index]);
  if (!numkeys.has_value() || *numkeys < 1) {
    return Reply::Error("ERR numkeys should be greater than 0");
  }
  if (*numkeys >= static_cast<int64_t>(args.size())) return SyntaxError();
  const size_t side_index = numkeys_index + static_cast<size_t>(*numkeys) + 1;
  if (side_index >= args.size()) return SyntaxError();
  bool max = false;
  if (absl::EqualsIgnoreCase(args[side_index], "max")) {
    max = true;
  } else if (!absl::EqualsIgnoreCase(args[side_index], "min")) {
    return SyntaxError();
  }
  const MultiPopCount parsed_count = ParseMultiPopCount(args, side_index + 1);
  if (parsed_count.error.has_value()) return *parsed_count.error;
  const int64_t count = parsed_count.count;
  if (block) {
    BlockTimeout timeout = ParseBlockTimeout(args[1], ex.now_ms());
    if (timeout.error.has_value()) return *timeout.error;
  }
  for (size_t i = numkeys_index + 1; i < side_index; ++i) {
    EKV_KV_ASSIGN_OR_RETURN(Collection zset, LookupCollection(ex, args[i], Type::kZset));
    if (zset.error.has_value() && serving) continue;
    if (zset.error.has_value()) return *zset.error;
    if (!zset.exists) continue;
    EKV_KV_ASSIGN_OR_RETURN(std::vector<Entry> popped,
                            PopEntries(ex, args[i], zset.meta, max, static_cast<uint64_t>(count)));
    std::vector<Reply> pairs;
    for (const Entry& entry : popped) {
      pairs.push_back(Reply::Array({Reply::Bulk(entry.member), Reply::Double(entry.score)}));
    }
    return Reply::Array({Reply::Bulk(args[i]), Reply::Array(std::move(pairs))});
  }
  return Reply::NilArray();
}

}  // namespace

EKV_REDIS_HANDLER(CmdZMPop) { return MultiPop(ex, args, 1, false); }
EKV_REDIS_HANDLER(CmdBZPopMin) { return BlockingPop(ex, args, false, false); }
EKV_REDIS_HANDLER(CmdBZPopMax) { return BlockingPop(ex, args, true, false); }
EKV_REDIS_HANDLER(CmdBZMPop) { return MultiPop(ex, args, 2, true); }
EKV_REDIS_HANDLER(CmdServeBZPopMin) { return BlockingPop(ex, args, false, true); }
EKV_REDIS_HANDLER(CmdServeBZPopMax) { return BlockingPop(ex, args, true, true); }
EKV_REDIS_HANDLER(CmdServeBZMPop) { return MultiPop(ex, args, 2, true, true); }

namespace {

enum class RemoveBy { kRank, kScore, kLex };

// ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX: the range is parsed before the key is
// looked up, as Redis does (a bad range on a missing key is still an error).
absl::StatusOr<Reply> RemoveRange(Executor& ex, const Args& args, RemoveBy by) {
  std::optional<int64_t> start;
  std::optional<int64_t> stop;
  std::optional<ScoreBound> min_score;
  std::optional<ScoreBound> max_score;
  std::optional<LexBound> min_lex;
  std::optional<LexBound> max_lex;
  switch (by) {
    case RemoveBy::kRank:
      start = ParseInt64(args[2]);
      stop = ParseInt64(args[3]);
      if (!start.has_value() || !stop.has_value()) return NotIntegerError();
      break;
    case RemoveBy::kScore:
      min_score = ParseScoreBound(args[2]);
      max_score = ParseScoreBound(args[3]);
      if (!min_score.has_value() || !max_score.has_value()) {
        return Reply::Error("ERR min or max is not a float");
      }
      break;
    case RemoveBy::kLex:
      min_lex = ParseLexBound(args[2]);
      max_lex = ParseLexBound(args[3]);
      if (!min_lex.has_value() || !max_lex.has_value()) {
        return Reply::Error("ERR min or max not valid string range item");
      }
      break;
  }
  EKV_KV_ASSIGN_OR_RETURN(Collection zset, LookupCollection(ex, args[1], Type::kZset));
  if (zset.error.has_value()) return *zset.error;
  if (!zset.exists) return Reply::Integer(0);
  std::vector<Entry> doomed;
  if (by == RemoveBy::kScore) {
    // Only the window of the score index between the bounds is read.
    EKV_KV_ASSIGN_OR_RETURN(
        std::vector<Entry> window,
        ZsetEntriesInScoreRange(ex, args[1], zset.meta, min_score->value, max_score->value));
    for (Entry& entry : window) {
      if (AboveMin(entry.score, *min_score) && BelowMax(entry.score, *max_score)) {
        doomed.push_back(std::move(entry));
      }
    }
  } else {
    EKV_KV_ASSIGN_OR_RETURN(std::vector<Entry> entries, ZsetAllEntries(ex, args[1], zset.meta));
    if (by == RemoveBy::kRank) {
      const int64_t length = static_cast<int64_t>(entries.size());
      int64_t s = *start < 0 ? length + *start : *start;
      int64_t e = *stop < 0 ? length + *stop : *stop;
      if (s < 0) s = 0;
      if (s > e || s >= length) return Reply::Integer(0);
      if (e >= length) e = length - 1;
      doomed.assign(entries.begin() + s, entries.begin() + e + 1);
    } else {
      for (Entry& entry : entries) {
        if (LexAboveMin(entry.member, *min_lex) && LexBelowMax(entry.member, *max_lex)) {
          doomed.push_back(std::move(entry));
        }
      }
    }
  }
  for (const Entry& entry : doomed) {
    ZsetDeleteMember(ex, args[1], zset.meta, entry.member, entry.score);
    --zset.meta.size;
  }
  if (!doomed.empty()) ex.SaveMeta(args[1], zset.meta);
  return Reply::Integer(static_cast<int64_t>(doomed.size()));
}

}  // namespace

EKV_REDIS_HANDLER(CmdZRemRangeByRank) { return RemoveRange(ex, args, RemoveBy::kRank); }
EKV_REDIS_HANDLER(CmdZRemRangeByScore) { return RemoveRange(ex, args, RemoveBy::kScore); }
EKV_REDIS_HANDLER(CmdZRemRangeByLex) { return RemoveRange(ex, args, RemoveBy::kLex); }

EKV_REDIS_HANDLER(CmdZLexCount) {
  std::optional<LexBound> min = ParseLexBound(args[2]);
  std::optional<LexBound> max = ParseLexBound(args[3]);
  if (!min.has_value() || !max.has_value()) {
    return Reply::Error("ERR min or max not valid string range item");
  }
  return CountEntries(ex, args[1], [&](const Entry& entry) {
    return LexAboveMin(entry.member, *min) && LexBelowMax(entry.member, *max);
  });
}

// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]: ZRANGE's
// selection stored in dst (deleted when the selection is empty).
EKV_REDIS_HANDLER(CmdZRangeStore) {
  RangeRequest request;
  if (std::optional<Reply> error = ParseRangeOptions(args, true, true, &request,
                                                     /*first_option=*/5,
                                                     /*allow_withscores=*/false)) {
    return *error;
  }
  EKV_KV_ASSIGN_OR_RETURN(RangeSelection selection,
                          SelectRange(ex, args[2], args[3], args[4], request));
  if (selection.error.has_value()) return *selection.error;
  EKV_KV_RETURN_IF_ERROR(ZsetStore(ex, args[1], selection.entries));
  return Reply::Integer(static_cast<int64_t>(selection.entries.size()));
}

EKV_REDIS_HANDLER(CmdZRandMember) {
  const RandomCount parsed = ParseRandomCount(args, "withscores");
  if (parsed.error.has_value()) return *parsed.error;
  EKV_KV_ASSIGN_OR_RETURN(Collection zset, LookupCollection(ex, args[1], Type::kZset));
  if (!parsed.has_count) {
    if (!zset.exists && !zset.error.has_value()) return Reply::Nil();
  } else if (!zset.exists && !zset.error.has_value()) {
    return Reply::Array();
  }
  if (zset.error.has_value()) return *zset.error;
  EKV_KV_ASSIGN_OR_RETURN(std::vector<Entry> entries, ZsetAllEntries(ex, args[1], zset.meta));
  if (entries.empty()) return absl::DataLossError("redis zset: a live set without members");
  if (!parsed.has_count) return Reply::Bulk(entries[ex.NextRandom() % entries.size()].member);
  // A count covering the set answers it whole, highest score first, as Redis 7.0 does.
  if (parsed.count > 0 && static_cast<uint64_t>(parsed.count) >= entries.size()) {
    std::reverse(entries.begin(), entries.end());
  }
  std::vector<Entry> picked;
  for (size_t index : PickRandomIndexes(ex, entries.size(), parsed.count)) {
    picked.push_back(entries[index]);
  }
  return ZsetEntriesReply(picked, parsed.with);
}

}  // namespace ekv::redis_core
