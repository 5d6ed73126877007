// The order Redis 7.0 answers a set in when it can be known: a set of at most 512
// members that are all integers (string2ll) is an intset, kept in numeric order, and
// SMEMBERS, SSCAN, SUNION, SDIFF, SINTER over intsets, SRANDMEMBER and SPOP of the whole
// set answer in that order. Any other set is a hashtable whose order is Redis's own; ekv
// answers those in byte order. Redis never turns a hashtable back into an intset, but
// since that order is unspecified anyway, the numeric order is as good as any.
#pragma once

#include <string>
#include <vector>

namespace ekv::redis_core {

// Sorts `members` numerically and returns true when they would form an intset; else
// leaves them as they are and returns false.
bool InIntsetOrder(std::vector<std::string>* members);

}  // namespace ekv::redis_core
