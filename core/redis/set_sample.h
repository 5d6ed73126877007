// Random members of a big set without reading the whole set (SPOP, SRANDMEMBER): each pick
// is a few seeks through the element layout (layout.h: members are element records in
// byte order), driven by the request's deterministic random sequence (Executor::NextRandom),
// so every replica and the simulator pick the same members.
//
// A pick walks down the members' byte trie: the set's first and last members bound it;
// after their common prefix, one next byte is drawn uniformly between theirs (or the
// prefix itself, when it is a member), and the bounds narrow to the first and last member
// with that byte (two seeks); until one member is left (or kMaxSampleLevels levels, then
// the lower bound). A byte no member has picks the member after it. Each level is a few
// seeks, O(log n) engine work each, so `count` picks cost O(count * depth * log n), never
// O(n). Every member can be picked, but not with equal chance: members of a sparse branch
// of the trie are likelier than those of a crowded one, and a member after a gap likelier
// still. Redis's own choice is not uniform either (dictGetFairRandomKey samples buckets);
// clients rely on "a member", not on uniformity.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/redis/executor.h"

namespace ekv::redis_core {

inline constexpr int kMaxSampleLevels = 32;

// One member of the non-empty set `key` (version `meta`), as its pending writes leave it.
absl::StatusOr<std::string> RandomSetMember(Executor& ex, absl::string_view key, const Meta& meta);

}  // namespace ekv::redis_core
