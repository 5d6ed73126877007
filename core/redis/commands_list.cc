// List commands. A list is the element records at indexes [head, tail) (layout.h): pushes
// and pops at either end, LINDEX and LSET touch one record; LREM and LINSERT rewrite the
// list (O(n)), as they are O(n) in Redis too.
#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/kv/status_macros.h"
#include "core/redis/blocking.h"
#include "core/redis/collection.h"
#include "core/redis/list_range.h"
#include "core/redis/numbers.h"
#include "core/util/assert.h"

namespace ekv::redis_core {
namespace {

std::string IndexKey(Executor& ex, absl::string_view key, const Meta& meta, uint64_t index) {
  return ex.ElementKey(key, meta, EncodeIndex(index));
}

absl::StatusOr<Reply> Push(Executor& ex, const Args& args, bool left, bool only_if_exists) {
  EKV_KV_ASSIGN_OR_RETURN(Collection list, LookupOrCreate(ex, args[1], Type::kList));
  if (list.error.has_value()) return *list.error;
  if (only_if_exists && !list.exists) return Reply::Integer(0);
  for (size_t i = 2; i < args.size(); ++i) {
    if (left) {
      --list.meta.head;
      ex.store().Put(IndexKey(ex, args[1], list.meta, list.meta.head), args[i]);
    } else {
      ex.store().Put(IndexKey(ex, args[1], list.meta, list.meta.tail), args[i]);
      ++list.meta.tail;
    }
    ++list.meta.size;
  }
  ex.SaveMeta(args[1], list.meta);
  return Reply::Integer(static_cast<int64_t>(list.meta.size));
}

// Replaces the whole list with `elements` (same version, indexes from the same head).
void Rewrite(Executor& ex, absl::string_view key, Meta meta,
             const std::vector<std::string>& elements) {
  for (uint64_t i = meta.head; i < meta.tail; ++i) ex.store().Delete(IndexKey(ex, key, meta, i));
  meta.tail = meta.head;
  for (const std::string& element : elements) {
    ex.store().Put(IndexKey(ex, key, meta, meta.tail), element);
    ++meta.tail;
  }
  meta.size = elements.size();
  ex.SaveMeta(key, meta);
}

// Pops up to n elements from one end of an existing list (in pop order) and saves its
// metadata (an emptied list is removed).
absl::StatusOr<std::vector<std::string>> PopN(Executor& ex, absl::string_view key, Meta meta,
                                              bool left, uint64_t n) {
  n = std::min<uint64_t>(n, meta.size);
  std::vector<std::string> popped;
  if (left) {
    EKV_KV_ASSIGN_OR_RETURN(popped, ListRange(ex, key, meta, 0, n));
    for (uint64_t i = 0; i < n; ++i) ex.store().Delete(IndexKey(ex, key, meta, meta.head + i));
    meta.head += n;
  } else {
    EKV_KV_ASSIGN_OR_RETURN(popped, ListRange(ex, key, meta, meta.size - n, n));
    std::reverse(popped.begin(), popped.end());
    for (uint64_t i = 0; i < n; ++i) ex.store().Delete(IndexKey(ex, key, meta, meta.tail - 1 - i));
    meta.tail -= n;
  }
  EKV_ASSERT(popped.size() == n, "list ", key, ": metadata counts ", meta.size,
             " elements but fewer records exist");
  meta.size -= n;
  ex.SaveMeta(key, meta);
  return popped;
}

Reply BulkArray(const std::vector<std::string>& elements) {
  std::vector<Reply> out;
  out.reserve(elements.size());
  for (const std::string& element : elements) out.push_back(Reply::Bulk(element));
  return Reply::Array(std::move(out));
}

absl::StatusOr<Reply> Pop(Executor& ex, const Args& args, bool left) {
  if (args.size() > 3) {
    return Reply::Error(
        absl::StrCat("ERR wrong number of arguments for '", left ? "lpop" : "rpop", "' command"));
  }
  const bool has_count = args.size() == 3;
  int64_t count = 1;
  if (has_count) {
    std::optional<int64_t> parsed = ParseInt64(args[2]);
    if (!parsed.has_value() || *parsed < 0) {
      return Reply::Error("ERR value is out of range, must be positive");
    }
    count = *parsed;
  }
  EKV_KV_ASSIGN_OR_RETURN(Collection list, LookupCollection(ex, args[1], Type::kList));
  if (list.error.has_value()) return *list.error;
  if (!list.exists) return has_count ? Reply::NilArray() : Reply::Nil();
  if (has_count && count == 0) return Reply::Array();
  EKV_KV_ASSIGN_OR_RETURN(std::vector<std::string> popped,
                          PopN(ex, args[1], list.meta, left, static_cast<uint64_t>(count)));
  if (!has_count) return Reply::Bulk(popped.front());
  return BulkArray(popped);
}

// Redis's index normalization: negative counts from the end.
int64_t Normalize(int64_t index, int64_t length) { return index < 0 ? length + index : index; }

absl::StatusOr<std::vector<std::string>> All(Executor& ex, absl::string_view key,
                                             const Meta& meta) {
  return ListRange(ex, key, meta, 0, meta.size);
}

}  // namespace

EKV_REDIS_HANDLER(CmdLPush) { return Push(ex, args, true, false); }
EKV_REDIS_HANDLER(CmdRPush) { return Push(ex, args, false, false); }
EKV_REDIS_HANDLER(CmdLPushX) { return Push(ex, args, true, true); }
EKV_REDIS_HANDLER(CmdRPushX) { return Push(ex, args, false, true); }
EKV_REDIS_HANDLER(CmdLPop) { return Pop(ex, args, true); }
EKV_REDIS_HANDLER(CmdRPop) { return Pop(ex, args, false); }

EKV_REDIS_HANDLER(CmdLRange) {
  std::optional<int64_t> start = ParseInt64(args[2]);
  std::optional<int64_t> stop = ParseInt64(args[3]);
  if (!start.has_value() || !stop.has_value()) return NotIntegerError();
  EKV_KV_ASSIGN_OR_RETURN(Collection list, LookupCollection(ex, args[1], Type::kList));
  if (list.error.has_value()) return *list.error;
  if (!list.exists) return Reply::Array();
  const int64_t length = static_cast<int64_t>(list.meta.size);
  int64_t s = Normalize(*start, length);
  int64_t e = Normalize(*stop, length);
  if (s < 0) s = 0;
  if (s > e || s >= length) return Reply::Array();
  if (e >= length) e = length - 1;
  EKV_KV_ASSIGN_OR_RETURN(std::vector<std::string> elements,
                          ListRange(ex, args[1], list.meta, s, e - s + 1));
  std::vector<Reply> out;
  for (const std::string& element : elements) out.push_back(Reply::Bulk(element));
  return Reply::Array(std::move(out));
}

EKV_REDIS_HANDLER(CmdLLen) {
  EKV_KV_ASSIGN_OR_RETURN(Collection list, LookupCollection(ex, args[1], Type::kList));
  if (list.error.has_value()) return *list.error;
  return Reply::Integer(list.exists ? static_cast<int64_t>(list.meta.size) : 0);
}

EKV_REDIS_HANDLER(CmdLIndex) {
  std::optional<int64_t> index = ParseInt64(args[2]);
  if (!index.has_value()) return NotIntegerError();
  EKV_KV_ASSIGN_OR_RETURN(Collection list, LookupCollection(ex, args[1], Type::kList));
  if (list.error.has_value()) return *list.error;
  if (!list.exists) return Reply::Nil();
  const int64_t i = Normalize(*index, static_cast<int64_t>(list.meta.size));
  if (i < 0 || i >= static_cast<int64_t>(list.meta.size)) return Reply::Nil();
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> value,
                          ex.store().Get(IndexKey(ex, args[1], list.meta, list.meta.head + i)));
  return value.has_value() ? Reply::Bulk(*value) : Reply::Nil();
}

EKV_REDIS_HANDLER(CmdLSet) {
  std::optional<int64_t> index = ParseInt64(args[2]);
  if (!index.has_value()) return NotIntegerError();
  EKV_KV_ASSIGN_OR_RETURN(Collection list, LookupCollection(ex, args[1], Type::kList));
  if (list.error.has_value()) return *list.error;
  if (!list.exists) return Reply::Error("ERR no such key");
  const int64_t i = Normalize(*index, static_cast<int64_t>(list.meta.size));
  if (i < 0 || i >= static_cast<int64_t>(list.meta.size)) {
    return Reply::Error("ERR index out of range");
  }
  ex.store().Put(IndexKey(ex, args[1], list.meta, list.meta.head + i), args[3]);
  ex.SaveMeta(args[1], list.meta);
  return Reply::Ok();
}

EKV_REDIS_HANDLER(CmdLRem) {
  std::optional<int64_t> count = ParseInt64(args[2]);
  if (!count.has_value()) return NotIntegerError();
  EKV_KV_ASSIGN_OR_RETURN(Collection list, LookupCollection(ex, args[1], Type::kList));
  if (list.error.has_value()) return *list.error;
  if (!list.exists) return Reply::Integer(0);
  EKV_KV_ASSIGN_OR_RETURN(std::vector<std::string> elements, All(ex, args[1], list.meta));
  const bool from_tail = *count < 0;
  uint64_t limit = *count == 0 ? UINT64_MAX
                   : from_tail ? static_cast<uint64_t>(-(*count + 1)) + 1
                               : static_cast<uint64_t>(*count);
  if (from_tail) std::reverse(elements.begin(), elements.end());
  std::vector<std::string> kept;
  int64_t removed = 0;
  for (std::string& element : elements) {
    if (limit > 0 && element == args[3]) {
      --limit;
      ++removed;
      continue;
    }
    kept.push_back(std::move(element));
  }
  if (removed == 0) return Reply::Integer(0);
  if (from_tail) std::reverse(kept.begin(), kept.end());
  Rewrite(ex, args[1], list.meta, kept);
  return Reply::Integer(removed);
}

EKV_REDIS_HANDLER(CmdLTrim) {
  std::optional<int64_t> start = ParseInt64(args[2]);
  std::optional<int64_t> stop = ParseInt64(args[3]);
  if (!start.has_value() || !stop.has_value()) return NotIntegerError();
  EKV_KV_ASSIGN_OR_RETURN(Collection list, LookupCollection(ex, args[1], Type::kList));
  if (list.error.has_value()) return *list.error;
  if (!list.exists) return Reply::Ok();
  const int64_t length = static_cast<int64_t>(list.meta.size);
  int64_t s = Normalize(*start, length);
  int64_t e = Normalize(*stop, length);
  if (s < 0) s = 0;
  int64_t left_trim = 0;
  int64_t right_trim = 0;
  if (s > e || s >= length) {
    left_trim = length;  // everything goes
  } else {
    if (e >= length) e = length - 1;
    left_trim = s;
    right_trim = length - e - 1;
  }
  for (int64_t i = 0; i < left_trim; ++i) {
    ex.store().Delete(IndexKey(ex, args[1], list.meta, list.meta.head + i));
  }
  for (int64_t i = 0; i < right_trim; ++i) {
    ex.store().Delete(IndexKey(ex, args[1], list.meta, list.meta.tail - 1 - i));
  }
  list.meta.head += left_trim;
  list.meta.tail -= right_trim;
  list.meta.size -= left_trim + right_trim;
  ex.SaveMeta(args[1], list.meta);
  return Reply::Ok();
}

EKV_REDIS_HANDLER(CmdLInsert) {
  bool after = false;
  if (absl::EqualsIgnoreCase(args[2], "after")) {
    after = true;
  } else if (!absl::EqualsIgnoreCase(args[2], "before")) {
    return SyntaxError();
  }
  EKV_KV_ASSIGN_OR_RETURN(Collection list, LookupCollection(ex, args[1], Type::kList));
  if (list.error.has_value()) return *list.error;
  if (!list.exists) return Reply::Integer(0);
  EKV_KV_ASSIGN_OR_RETURN(std::vector<std::string> elements, All(ex, args[1], list.meta));
  auto pivot = std::find(elements.begin(), elements.end(), args[3]);
  if (pivot == elements.end()) return Reply::Integer(-1);
  elements.insert(after ? pivot + 1 : pivot, args[4]);
  Rewrite(ex, args[1], list.meta, elements);
  return Reply::Integer(static_cast<int64_t>(elements.size()));
}

EKV_REDIS_HANDLER(CmdLPos) {
  int64_t rank = 1;
  int64_t count = -1;  // -1: no COUNT option
  int64_t maxlen = 0;
  for (size_t j = 3; j < args.size(); ++j) {
    const std::string& opt = args[j];
    const bool has_next = j + 1 < args.size();
    if (absl::EqualsIgnoreCase(opt, "RANK") && has_next) {
      std::optional<int64_t> value = ParseInt64(args[++j]);
      if (!value.has_value()) return NotIntegerError();
      if (*value == 0) {
        return Reply::Error(
            "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
            "or use negative to start from the end of the list");
      }
      if (*value == INT64_MIN) {
        return Reply::Error(
            "ERR value is out of range, value must between -9223372036854775807 "
            "and 9223372036854775807");
      }
      rank = *value;
    } else if (absl::EqualsIgnoreCase(opt, "COUNT") && has_next) {
      std::optional<int64_t> value = ParseInt64(args[++j]);
      if (!value.has_value() || *value < 0) return Reply::Error("ERR COUNT can't be negative");
      count = *value;
    } else if (absl::EqualsIgnoreCase(opt, "MAXLEN") && has_next) {
      std::optional<int64_t> value = ParseInt64(args[++j]);
      if (!value.has_value() || *value < 0) return Reply::Error("ERR MAXLEN can't be negative");
      maxlen = *value;
    } else {
      return SyntaxError();
    }
  }
  EKV_KV_ASSIGN_OR_RETURN(Collection list, LookupCollection(ex, args[1], Type::kList));
  if (list.error.has_value()) return *list.error;
  if (!list.exists) return count >= 0 ? Reply::Array() : Reply::Nil();
  EKV_KV_ASSIGN_OR_RETURN(std::vector<std::string> elements, All(ex, args[1], list.meta));
  const int64_t length = static_cast<int64_t>(elements.size());
  const bool reverse = rank < 0;
  int64_t skip = (reverse ? -rank : rank) - 1;
  const int64_t want = count < 0 ? 1 : (count == 0 ? INT64_MAX : count);
  std::vector<Reply> found;
  for (int64_t step = 0; step < length && (maxlen == 0 || step < maxlen); ++step) {
    const int64_t i = reverse ? length - 1 - step : step;
    if (elements[i] != args[2]) continue;
    if (skip > 0) {
      --skip;
      continue;
    }
    found.push_back(Reply::Integer(i));
    if (static_cast<int64_t>(found.size()) >= want) break;
  }
  if (count >= 0) return Reply::Array(std::move(found));
  return found.empty() ? Reply::Nil() : found.front();
}

namespace {

// LEFT or RIGHT (Redis's getListPositionFromObjectOrReply).
std::optional<bool> ParseSide(absl::string_view text) {
  if (absl::EqualsIgnoreCase(text, "left")) return true;
  if (absl::EqualsIgnoreCase(text, "right")) return false;
  return std::nullopt;
}

// LMOVE: one element from one end of `source` to one end of `destination` (the same key
// rotates). Nil when the source does not exist; the destination's type is checked only
// then, as in Redis.
// `serving`: a blocked client's later run (ServeFormOf), for which a source of another type
// is empty.
absl::StatusOr<Reply> Move(Executor& ex, absl::string_view source, absl::string_view destination,
                           bool from_left, bool to_left, bool serving = false) {
  EKV_KV_ASSIGN_OR_RETURN(Collection from, LookupCollection(ex, source, Type::kList));
  if (from.error.has_value() && serving) return Reply::Nil();
  if (from.error.has_value()) return *from.error;
  if (!from.exists) return Reply::Nil();
  EKV_KV_ASSIGN_OR_RETURN(Collection to, LookupCollection(ex, destination, Type::kList));
  if (to.error.has_value()) return *to.error;
  EKV_KV_ASSIGN_OR_RETURN(std::vector<std::string> popped,
                          PopN(ex, source, from.meta, from_left, 1));
  // Looked up again: when source == destination the pop changed (or removed) it.
  EKV_KV_ASSIGN_OR_RETURN(Collection target, LookupOrCreate(ex, destination, Type::kList));
  if (to_left) {
    --target.meta.head;
    ex.store().Put(IndexKey(ex, destination, target.meta, target.meta.head), popped.front());
  } else {
    ex.store().Put(IndexKey(ex, destination, target.meta, target.meta.tail), popped.front());
    ++target.meta.tail;
  }
  ++target.meta.size;
  ex.SaveMeta(destination, target.meta);
  return Reply::Bulk(popped.front());
}

// BLPOP/BRPOP once: the first non-empty list of args[1..n-2] gives one element (`serving`:
// a blocked client's later run, which skips keys of another type).
absl::StatusOr<Reply> BlockingPop(Executor& ex, const Args& args, bool left, bool serving) {
  BlockTimeout timeout = ParseBlockTimeout(args.back(), ex.now_ms());
  if (timeout.error.has_value()) return *timeout.error;
  for (size_t i = 1; i + 1 < args.size(); ++i) {
    EKV_KV_ASSIGN_OR_RETURN(Collection list, LookupCollection(ex, args[i], Type::kList));
    if (list.error.has_value() && serving) continue;
    if (list.error.has_value()) return *list.error;
    if (!list.exists) continue;
    EKV_KV_ASSIGN_OR_RETURN(std::vector<std::string> popped, PopN(ex, args[i], list.meta, left, 1));
    return Reply::Array({Reply::Bulk(args[i]), Reply::Bulk(popped.front())});
  }
  return Reply::NilArray();
}

// LMPOP (numkeys at args[1]) and BLMPOP (timeout at args[1], numkeys at args[2]), in
// Redis 7.0's order of checks: numkeys, side, COUNT, then the timeout. `serving`: a blocked
// client's later run, which skips keys of another type.
absl::StatusOr<Reply> MultiPop(Executor& ex, const Args& args, size_t numkeys_index, bool block,
                               bool serving = false) {
  std::optional<int64_t> numkeys = ParseInt64(args[numkeys_index]);
  if (!numkeys.has_value() || *numkeys < 1) {
    return Reply::Error("ERR numkeys should be greater than 0");
  }
  if (*numkeys >= static_cast<int64_t>(args.size())) return SyntaxError();
  const size_t side_index = numkeys_index + static_cast<size_t>(*numkeys) + 1;
  if (side_index >= args.size()) return SyntaxError();
  std::optional<bool> left = ParseSide(args[side_index]);
  if (!left.has_value()) return SyntaxError();
  const MultiPopCount parsed_count = ParseMultiPopCount(args, side_index + 1);
  if (parsed_count.error.has_value()) return *parsed_count.error;
  const int64_t count = parsed_count.count;
  if (block) {
    BlockTimeout timeout = ParseBlockTimeout(args[1], ex.now_ms());
    if (timeout.error.has_value()) return *timeout.error;
  }
  for (size_t i = numkeys_index + 1; i < side_index; ++i) {
    EKV_KV_ASSIGN_OR_RETURN(Collection list, LookupCollection(ex, args[i], Type::kList));
    if (list.error.has_value() && serving) continue;
    if (list.error.has_value()) return *list.error;
    if (!list.exists) continue;
    EKV_KV_ASSIGN_OR_RETURN(std::vector<std::string> popped,
                            PopN(ex, args[i], list.meta, *left, static_cast<uint64_t>(count)));
    return Reply::Array({Reply::Bulk(args[i]), BulkArray(popped)});
  }
  return Reply::NilArray();
}

}  // namespace

EKV_REDIS_HANDLER(CmdLMove) {
  std::optional<bool> from = ParseSide(args[3]);
  std::optional<bool> to = ParseSide(args[4]);
  if (!from.has_value() || !to.has_value()) return SyntaxError();
  return Move(ex, args[1], args[2], *from, *to);
}

EKV_REDIS_HANDLER(CmdRPopLPush) { return Move(ex, args[1], args[2], false, true); }

EKV_REDIS_HANDLER(CmdLMPop) { return MultiPop(ex, args, 1, false); }

EKV_REDIS_HANDLER(CmdBLPop) { return BlockingPop(ex, args, true, false); }
EKV_REDIS_HANDLER(CmdBRPop) { return BlockingPop(ex, args, false, false); }
EKV_REDIS_HANDLER(CmdServeBLPop) { return BlockingPop(ex, args, true, true); }
EKV_REDIS_HANDLER(CmdServeBRPop) { return BlockingPop(ex, args, false, true); }

namespace {

absl::StatusOr<Reply> BlockingMove(Executor& ex, const Args& args, bool serving) {
  std::optional<bool> from = ParseSide(args[3]);
  std::optional<bool> to = ParseSide(args[4]);
  if (!from.has_value() || !to.has_value()) return SyntaxError();
  BlockTimeout timeout = ParseBlockTimeout(args[5], ex.now_ms());
  if (timeout.error.has_value()) return *timeout.error;
  return Move(ex, args[1], args[2], *from, *to, serving);
}

absl::StatusOr<Reply> BlockingRPopLPush(Executor& ex, const Args& args, bool serving) {
  BlockTimeout timeout = ParseBlockTimeout(args[3], ex.now_ms());
  if (timeout.error.has_value()) return *timeout.error;
  return Move(ex, args[1], args[2], false, true, serving);
}

}  // namespace

EKV_REDIS_HANDLER(CmdBLMove) { return BlockingMove(ex, args, false); }
EKV_REDIS_HANDLER(CmdServeBLMove) { return BlockingMove(ex, args, true); }
EKV_REDIS_HANDLER(CmdBRPopLPush) { return BlockingRPopLPush(ex, args, false); }
EKV_REDIS_HANDLER(CmdServeBRPopLPush) { return BlockingRPopLPush(ex, args, true); }

EKV_REDIS_HANDLER(CmdBLMPop) { return MultiPop(ex, args, 2, true); }
EKV_REDIS_HANDLER(CmdServeBLMPop) { return MultiPop(ex, args, 2, true, true); }

}  // namespace ekv::redis_core
