// Set commands. Members are element records with empty values (layout.h), in byte order,
// answered in Redis's intset order when they would form one (set_order.h);
// SPOP and SRANDMEMBER choose with the request's deterministic random sequence: a small
// set, or a count that is a large part of the set, reads the members (O(count) then); a
// few picks from a big set seek for each (set_sample.h), O(count log n).
#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "core/kv/status_macros.h"
#include "core/redis/collection.h"
#include "core/redis/numbers.h"
#include "core/redis/set_order.h"
#include "core/redis/set_sample.h"

namespace ekv::redis_core {
namespace {

absl::StatusOr<bool> IsMember(Executor& ex, absl::string_view key, const Meta& meta,
                              absl::string_view member) {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> value,
                          ex.store().Get(ex.ElementKey(key, meta, member)));
  return value.has_value();
}

absl::StatusOr<std::vector<std::string>> Members(Executor& ex, absl::string_view key,
                                                 const Meta& meta) {
  EKV_KV_ASSIGN_OR_RETURN(Store::Records records, ex.Elements(key, meta));
  std::vector<std::string> out;
  out.reserve(records.size());
  for (auto& [member, value] : records) out.push_back(std::move(member));
  InIntsetOrder(&out);
  return out;
}

// Sets up to this size are read whole by SPOP / SRANDMEMBER (a constant cost).
constexpr uint64_t kReadWholeSetMax = 128;

// Whether `picks` from a set of `size` members should read it whole: a small set, or
// picks that are a large part of it (reading costs O(picks) then, as Redis 7.0 copies the
// set for SRANDMEMBER counts above a third of it).
bool ReadsWholeSet(uint64_t size, uint64_t picks) {
  return size <= kReadWholeSetMax || picks >= size / 3;
}

}  // namespace

EKV_REDIS_HANDLER(CmdSAdd) {
  EKV_KV_ASSIGN_OR_RETURN(Collection set, LookupOrCreate(ex, args[1], Type::kSet));
  if (set.error.has_value()) return *set.error;
  int64_t added = 0;
  for (size_t i = 2; i < args.size(); ++i) {
    const std::string element = ex.ElementKey(args[1], set.meta, args[i]);
    EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> old, ex.store().Get(element));
    if (old.has_value()) continue;
    ex.store().Put(element, "");
    ++set.meta.size;
    ++added;
  }
  if (added > 0) ex.SaveMeta(args[1], set.meta);
  return Reply::Integer(added);
}

EKV_REDIS_HANDLER(CmdSRem) {
  EKV_KV_ASSIGN_OR_RETURN(Collection set, LookupCollection(ex, args[1], Type::kSet));
  if (set.error.has_value()) return *set.error;
  if (!set.exists) return Reply::Integer(0);
  int64_t removed = 0;
  for (size_t i = 2; i < args.size(); ++i) {
    const std::string element = ex.ElementKey(args[1], set.meta, args[i]);
    EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> old, ex.store().Get(element));
    if (!old.has_value()) continue;
    ex.store().Delete(element);
    --set.meta.size;
    ++removed;
  }
  if (removed > 0) ex.SaveMeta(args[1], set.meta);
  return Reply::Integer(removed);
}

EKV_REDIS_HANDLER(CmdSMembers) {
  EKV_KV_ASSIGN_OR_RETURN(Collection set, LookupCollection(ex, args[1], Type::kSet));
  if (set.error.has_value()) return *set.error;
  std::vector<Reply> out;
  if (set.exists) {
    EKV_KV_ASSIGN_OR_RETURN(std::vector<std::string> members, Members(ex, args[1], set.meta));
    for (const std::string& member : members) out.push_back(Reply::Bulk(member));
  }
  return Reply::Set(std::move(out));
}

EKV_REDIS_HANDLER(CmdSIsMember) {
  EKV_KV_ASSIGN_OR_RETURN(Collection set, LookupCollection(ex, args[1], Type::kSet));
  if (set.error.has_value()) return *set.error;
  if (!set.exists) return Reply::Integer(0);
  EKV_KV_ASSIGN_OR_RETURN(bool member, IsMember(ex, args[1], set.meta, args[2]));
  return Reply::Integer(member ? 1 : 0);
}

EKV_REDIS_HANDLER(CmdSMIsMember) {
  EKV_KV_ASSIGN_OR_RETURN(Collection set, LookupCollection(ex, args[1], Type::kSet));
  if (set.error.has_value()) return *set.error;
  std::vector<Reply> out;
  for (size_t i = 2; i < args.size(); ++i) {
    bool member = false;
    if (set.exists) {
      EKV_KV_ASSIGN_OR_RETURN(member, IsMember(ex, args[1], set.meta, args[i]));
    }
    out.push_back(Reply::Integer(member ? 1 : 0));
  }
  return Reply::Array(std::move(out));
}

EKV_REDIS_HANDLER(CmdSCard) {
  EKV_KV_ASSIGN_OR_RETURN(Collection set, LookupCollection(ex, args[1], Type::kSet));
  if (set.error.has_value()) return *set.error;
  return Reply::Integer(set.exists ? static_cast<int64_t>(set.meta.size) : 0);
}

EKV_REDIS_HANDLER(CmdSPop) {
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
  EKV_KV_ASSIGN_OR_RETURN(Collection set, LookupCollection(ex, args[1], Type::kSet));
  if (set.error.has_value()) return *set.error;
  if (!set.exists) return has_count ? Reply::Set({}) : Reply::Nil();
  if (has_count && count == 0) return Reply::Set({});
  std::vector<Reply> popped;
  if (!ReadsWholeSet(set.meta.size, static_cast<uint64_t>(count))) {
    for (int64_t i = 0; i < count; ++i) {
      EKV_KV_ASSIGN_OR_RETURN(std::string member, RandomSetMember(ex, args[1], set.meta));
      ex.store().Delete(ex.ElementKey(args[1], set.meta, member));
      popped.push_back(Reply::Bulk(std::move(member)));
      --set.meta.size;
    }
    ex.SaveMeta(args[1], set.meta);
    if (!has_count) return popped.front();
    return Reply::Set(std::move(popped));
  }
  EKV_KV_ASSIGN_OR_RETURN(std::vector<std::string> members, Members(ex, args[1], set.meta));
  // A count covering the whole set pops it in member order, as Redis returns the whole
  // set in its own order rather than a random one.
  const bool all = has_count && static_cast<uint64_t>(count) >= members.size();
  for (int64_t i = 0; i < count && !members.empty(); ++i) {
    const size_t pick = all ? 0 : ex.NextRandom() % members.size();
    ex.store().Delete(ex.ElementKey(args[1], set.meta, members[pick]));
    popped.push_back(Reply::Bulk(members[pick]));
    members.erase(members.begin() + static_cast<std::ptrdiff_t>(pick));
    --set.meta.size;
  }
  ex.SaveMeta(args[1], set.meta);
  if (!has_count) return popped.front();
  return Reply::Set(std::move(popped));
}

EKV_REDIS_HANDLER(CmdSRandMember) {
  if (args.size() > 3) return SyntaxError();
  const bool has_count = args.size() == 3;
  int64_t count = 1;
  if (has_count) {
    std::optional<int64_t> parsed = ParseInt64(args[2]);
    if (!parsed.has_value()) return NotIntegerError();
    if (*parsed == INT64_MIN) return Reply::Error("ERR value is out of range");
    count = *parsed;
  }
  EKV_KV_ASSIGN_OR_RETURN(Collection set, LookupCollection(ex, args[1], Type::kSet));
  if (set.error.has_value()) return *set.error;
  if (!set.exists) return has_count ? Reply::Array() : Reply::Nil();
  if (has_count && count == 0) return Reply::Array();
  std::vector<Reply> out;
  const uint64_t picks = !has_count  ? 1
                         : count < 0 ? static_cast<uint64_t>(-count)
                                     : static_cast<uint64_t>(count);
  // Repeats allowed (or one member): each pick its own seeks, unless reading the set is
  // cheaper.
  if ((!has_count || count < 0) && !ReadsWholeSet(set.meta.size, picks)) {
    for (uint64_t i = 0; i < picks; ++i) {
      EKV_KV_ASSIGN_OR_RETURN(std::string member, RandomSetMember(ex, args[1], set.meta));
      if (!has_count) return Reply::Bulk(std::move(member));
      out.push_back(Reply::Bulk(std::move(member)));
    }
    return Reply::Array(std::move(out));
  }
  if (has_count && count > 0 && !ReadsWholeSet(set.meta.size, picks)) {
    // Distinct members, fewer than a third of the set: picks until that many differ
    // (a repeat is drawn again; bounded, since most draws are new).
    std::set<std::string> seen;
    const uint64_t max_draws = 20 * picks + 100;
    for (uint64_t draw = 0; draw < max_draws && out.size() < picks; ++draw) {
      EKV_KV_ASSIGN_OR_RETURN(std::string member, RandomSetMember(ex, args[1], set.meta));
      if (seen.insert(member).second) out.push_back(Reply::Bulk(std::move(member)));
    }
    if (out.size() == picks) return Reply::Array(std::move(out));
    out.clear();  // an unlucky or skewed set: fall back to reading it
  }
  EKV_KV_ASSIGN_OR_RETURN(std::vector<std::string> members, Members(ex, args[1], set.meta));
  if (!has_count) return Reply::Bulk(members[ex.NextRandom() % members.size()]);
  if (count < 0) {
    // Repeats allowed: |count| independent picks.
    for (int64_t i = 0; i < -count; ++i) {
      out.push_back(Reply::Bulk(members[ex.NextRandom() % members.size()]));
    }
    return Reply::Array(std::move(out));
  }
  // Redis 7.0 (srandmemberWithCountCommand case 2): a count covering the set answers the
  // whole set in its order.
  if (static_cast<uint64_t>(count) >= members.size()) {
    for (std::string& member : members) out.push_back(Reply::Bulk(std::move(member)));
    return Reply::Array(std::move(out));
  }
  // Distinct members: a deterministic partial shuffle.
  const size_t n = std::min<size_t>(static_cast<size_t>(count), members.size());
  for (size_t i = 0; i < n; ++i) {
    const size_t pick = i + ex.NextRandom() % (members.size() - i);
    std::swap(members[i], members[pick]);
    out.push_back(Reply::Bulk(members[i]));
  }
  return Reply::Array(std::move(out));
}

// SMOVE source destination member (Redis 7.0 smoveCommand): a missing source answers 0
// before the destination's type is checked; source == destination only reports
// membership.
EKV_REDIS_HANDLER(CmdSMove) {
  EKV_KV_ASSIGN_OR_RETURN(Collection source, LookupCollection(ex, args[1], Type::kSet));
  EKV_KV_ASSIGN_OR_RETURN(Collection destination, LookupOrCreate(ex, args[2], Type::kSet));
  if (!source.exists && !source.error.has_value()) return Reply::Integer(0);
  if (source.error.has_value()) return *source.error;
  if (destination.error.has_value()) return *destination.error;
  const std::string& member = args[3];
  EKV_KV_ASSIGN_OR_RETURN(bool present, IsMember(ex, args[1], source.meta, member));
  if (args[1] == args[2]) return Reply::Integer(present ? 1 : 0);
  if (!present) return Reply::Integer(0);
  ex.store().Delete(ex.ElementKey(args[1], source.meta, member));
  --source.meta.size;
  ex.SaveMeta(args[1], source.meta);
  const std::string element = ex.ElementKey(args[2], destination.meta, member);
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> old, ex.store().Get(element));
  // A member the destination already has leaves it untouched, as Redis (which signals only
  // a changed key): a WATCH on the destination does not abort.
  if (!old.has_value()) {
    ex.store().Put(element, "");
    ++destination.meta.size;
    ex.SaveMeta(args[2], destination.meta);
  }
  return Reply::Integer(1);
}

}  // namespace ekv::redis_core
