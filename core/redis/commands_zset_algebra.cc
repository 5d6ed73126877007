// ZUNION, ZINTER, ZDIFF, ZINTERCARD and ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE (Redis 7.0 t_zset.c
// zunionInterDiffGenericCommand). Inputs may be sorted sets or sets (a set member scores
// 1); every key must live in the request's group (CROSSSLOT otherwise, checked by the
// group). Checks in Redis's order: numkeys, the keys' types, then WEIGHTS / AGGREGATE /
// WITHSCORES (ZINTERCARD: LIMIT only). Scores are combined in the order Redis combines them (inputs
// from the smallest to the largest), so float sums agree too; a NaN sum (inf + -inf) becomes 0.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/kv/status_macros.h"
#include "core/redis/collection.h"
#include "core/redis/numbers.h"
#include "core/redis/zset_records.h"

namespace ekv::redis_core {
namespace {

// kInterCard: ZINTERCARD, the intersection's size up to its LIMIT (0: no limit).
enum class ZsetOp { kUnion, kInter, kDiff, kInterCard };
enum class Aggregate { kSum, kMin, kMax };

struct Input {
  std::map<std::string, double> members;  // member -> score (1 for a set's members)
  double weight = 1;
};

// The members of `key` as a sorted-set input; WRONGTYPE unless a zset, a set or absent.
absl::StatusOr<std::optional<Reply>> ReadInput(Executor& ex, const std::string& key, Input* input) {
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found found, ex.Lookup(key));
  if (found.type == Type::kNone) return std::optional<Reply>();
  if (found.type == Type::kZset) {
    EKV_KV_ASSIGN_OR_RETURN(std::vector<ZsetEntry> entries, ZsetAllEntries(ex, key, found.meta));
    for (ZsetEntry& entry : entries) input->members.emplace(std::move(entry.member), entry.score);
    return std::optional<Reply>();
  }
  if (found.type == Type::kSet) {
    EKV_KV_ASSIGN_OR_RETURN(Store::Records records, ex.Elements(key, found.meta));
    for (auto& [member, value] : records) input->members.emplace(std::move(member), 1.0);
    return std::optional<Reply>();
  }
  return std::optional<Reply>(WrongTypeError());
}

void Combine(double* target, double value, Aggregate aggregate) {
  switch (aggregate) {
    case Aggregate::kSum:
      *target += value;
      if (std::isnan(*target)) *target = 0;  // inf + -inf, as Redis resolves it
      break;
    case Aggregate::kMin:
      *target = std::min(*target, value);
      break;
    case Aggregate::kMax:
      *target = std::max(*target, value);
      break;
  }
}

double Weighted(double score, double weight) {
  const double value = score * weight;
  return std::isnan(value) ? 0 : value;  // inf * 0
}

// args[numkeys_index] = numkeys, the keys after it, then the options. `store`: the STORE
// forms (args[1] is the destination; no WITHSCORES).
absl::StatusOr<Reply> ZsetAlgebra(Executor& ex, const Args& args, size_t numkeys_index, ZsetOp op,
                                  bool store) {
  std::optional<int64_t> numkeys = ParseInt64(args[numkeys_index]);
  if (!numkeys.has_value()) return NotIntegerError();
  if (*numkeys < 1) {
    return Reply::Error(absl::StrCat("ERR at least 1 input key is needed for '",
                                     absl::AsciiStrToLower(args[0]), "' command"));
  }
  if (*numkeys > static_cast<int64_t>(args.size() - numkeys_index - 1)) return SyntaxError();
  const size_t count = static_cast<size_t>(*numkeys);
  std::vector<Input> inputs(count);
  for (size_t i = 0; i < count; ++i) {
    EKV_KV_ASSIGN_OR_RETURN(std::optional<Reply> error,
                            ReadInput(ex, args[numkeys_index + 1 + i], &inputs[i]));
    if (error.has_value()) return *error;
  }
  Aggregate aggregate = Aggregate::kSum;
  bool with_scores = false;
  const bool cardinality_only = op == ZsetOp::kInterCard;
  int64_t limit = 0;
  for (size_t j = numkeys_index + 1 + count; j < args.size();) {
    const size_t remaining = args.size() - j;
    if (cardinality_only) {
      if (remaining < 2 || !absl::EqualsIgnoreCase(args[j], "limit")) return SyntaxError();
      // getPositiveLongFromObjectOrReply with its message: one error for both.
      std::optional<int64_t> parsed = ParseInt64(args[j + 1]);
      if (!parsed.has_value() || *parsed < 0) return Reply::Error("ERR LIMIT can't be negative");
      limit = *parsed;
      j += 2;
    } else if (op != ZsetOp::kDiff && remaining >= count + 1 &&
               absl::EqualsIgnoreCase(args[j], "weights")) {
      ++j;
      for (size_t i = 0; i < count; ++i, ++j) {
        std::optional<double> weight = ParseDouble(args[j]);
        if (!weight.has_value()) return Reply::Error("ERR weight value is not a float");
        inputs[i].weight = *weight;
      }
    } else if (op != ZsetOp::kDiff && remaining >= 2 &&
               absl::EqualsIgnoreCase(args[j], "aggregate")) {
      const std::string& how = args[j + 1];
      if (absl::EqualsIgnoreCase(how, "sum")) {
        aggregate = Aggregate::kSum;
      } else if (absl::EqualsIgnoreCase(how, "min")) {
        aggregate = Aggregate::kMin;
      } else if (absl::EqualsIgnoreCase(how, "max")) {
        aggregate = Aggregate::kMax;
      } else {
        return SyntaxError();
      }
      j += 2;
    } else if (!store && absl::EqualsIgnoreCase(args[j], "withscores")) {
      with_scores = true;
      ++j;
    } else {
      return SyntaxError();
    }
  }

  std::map<std::string, double> result;
  if (op == ZsetOp::kDiff) {
    result = inputs[0].members;
    for (size_t i = 1; i < count && !result.empty(); ++i) {
      for (const auto& [member, score] : inputs[i].members) result.erase(member);
    }
  } else {
    // Redis walks the inputs from the smallest (a stable order for equal sizes here).
    std::vector<size_t> order(count);
    for (size_t i = 0; i < count; ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return inputs[a].members.size() < inputs[b].members.size();
    });
    if (op == ZsetOp::kInter || cardinality_only) {
      const Input& smallest = inputs[order[0]];
      for (const auto& [member, score] : smallest.members) {
        if (cardinality_only && limit > 0 && static_cast<int64_t>(result.size()) >= limit) break;
        double total = Weighted(score, smallest.weight);
        bool everywhere = true;
        for (size_t k = 1; k < count && everywhere; ++k) {
          const Input& other = inputs[order[k]];
          auto it = other.members.find(member);
          if (it == other.members.end()) {
            everywhere = false;
          } else {
            Combine(&total, Weighted(it->second, other.weight), aggregate);
          }
        }
        if (everywhere) result.emplace(member, total);
      }
    } else {
      for (size_t k = 0; k < count; ++k) {
        const Input& input = inputs[order[k]];
        for (const auto& [member, score] : input.members) {
          const double value = Weighted(score, input.weight);
          auto [it, inserted] = result.emplace(member, value);
          if (!inserted) Combine(&it->second, value, aggregate);
        }
      }
    }
  }

  if (cardinality_only) return Reply::Integer(static_cast<int64_t>(result.size()));
  std::vector<ZsetEntry> entries;
  entries.reserve(result.size());
  for (auto& [member, score] : result) entries.push_back({score, member});
  std::sort(entries.begin(), entries.end(), [](const ZsetEntry& a, const ZsetEntry& b) {
    return a.score != b.score ? a.score < b.score : a.member < b.member;
  });
  if (store) {
    EKV_KV_RETURN_IF_ERROR(ZsetStore(ex, args[1], entries));
    return Reply::Integer(static_cast<int64_t>(entries.size()));
  }
  return ZsetEntriesReply(entries, with_scores);
}

}  // namespace

EKV_REDIS_HANDLER(CmdZUnion) { return ZsetAlgebra(ex, args, 1, ZsetOp::kUnion, false); }
EKV_REDIS_HANDLER(CmdZInter) { return ZsetAlgebra(ex, args, 1, ZsetOp::kInter, false); }
EKV_REDIS_HANDLER(CmdZInterCard) { return ZsetAlgebra(ex, args, 1, ZsetOp::kInterCard, false); }
EKV_REDIS_HANDLER(CmdZDiff) { return ZsetAlgebra(ex, args, 1, ZsetOp::kDiff, false); }
EKV_REDIS_HANDLER(CmdZUnionStore) { return ZsetAlgebra(ex, args, 2, ZsetOp::kUnion, true); }
EKV_REDIS_HANDLER(CmdZInterStore) { return ZsetAlgebra(ex, args, 2, ZsetOp::kInter, true); }
EKV_REDIS_HANDLER(CmdZDiffStore) { return ZsetAlgebra(ex, args, 2, ZsetOp::kDiff, true); }

}  // namespace ekv::redis_core
