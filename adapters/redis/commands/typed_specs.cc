// The table entries of the data commands (commands/typed.cc): arity, write flag and key
// positions come from redis_core's executor table, so the front door and the executor
// cannot disagree; the COMMAND DOCS fields (group, since, summary) are Redis 7.0's.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "adapters/redis/command_table.h"
#include "core/redis/blocking.h"
#include "core/redis/executor.h"
#include "core/util/assert.h"

namespace ekv::redis {
namespace {

struct Docs {
  const char* name;
  const char* group;
  const char* since;
  bool fast;
  const char* summary;
};

// Every executor command the front door serves, by name.
const std::vector<Docs>& AllDocs() {
  static const std::vector<Docs>* docs = new std::vector<Docs>{
      {"append", "string", "2.0.0", true, "Appends a string to the value of a key."},
      {"blmove", "list", "6.2.0", false,
       "Pops an element from a list, pushes it to another list and returns it. Blocks until an "
       "element is available otherwise."},
      {"blmpop", "list", "7.0.0", false,
       "Pops the first element from one of multiple lists. Blocks until an element is available "
       "otherwise."},
      {"blpop", "list", "2.0.0", false,
       "Removes and returns the first element in a list. Blocks until an element is available "
       "otherwise."},
      {"brpop", "list", "2.0.0", false,
       "Removes and returns the last element in a list. Blocks until an element is available "
       "otherwise."},
      {"brpoplpush", "list", "2.2.0", false,
       "Pops an element from a list, pushes it to another list and returns it. Block until an "
       "element is available otherwise."},
      {"bzmpop", "sorted-set", "7.0.0", false,
       "Removes and returns a member by score from one or more sorted sets. Blocks until a "
       "member is available otherwise."},
      {"bzpopmax", "sorted-set", "5.0.0", true,
       "Removes and returns the member with the highest score from one or more sorted sets. "
       "Blocks until a member available otherwise."},
      {"bzpopmin", "sorted-set", "5.0.0", true,
       "Removes and returns the member with the lowest score from one or more sorted sets. "
       "Blocks until a member is available otherwise."},
      {"decr", "string", "1.0.0", true, "Decrements the integer value of a key by one."},
      {"decrby", "string", "1.0.0", true, "Decrements a number from the integer value of a key."},
      {"del", "generic", "1.0.0", false, "Deletes one or more keys."},
      {"exists", "generic", "1.0.0", true, "Determines whether one or more keys exist."},
      {"expire", "generic", "1.0.0", true, "Sets the expiration time of a key in seconds."},
      {"expireat", "generic", "1.2.0", true,
       "Sets the expiration time of a key to a Unix timestamp."},
      {"expiretime", "generic", "7.0.0", true,
       "Returns the expiration time of a key as a Unix timestamp."},
      {"get", "string", "1.0.0", true, "Returns the string value of a key."},
      {"getdel", "string", "6.2.0", true,
       "Returns the string value of a key after deleting the key."},
      {"getex", "string", "6.2.0", true,
       "Returns the string value of a key after setting its expiration time."},
      {"getrange", "string", "2.4.0", false, "Returns a substring of the string stored at a key."},
      {"getset", "string", "1.0.0", true,
       "Returns the previous string value of a key after setting it to a new value."},
      {"hdel", "hash", "2.0.0", true, "Deletes one or more fields and their values from a hash."},
      {"hexists", "hash", "2.0.0", true, "Determines whether a field exists in a hash."},
      {"hget", "hash", "2.0.0", true, "Returns the value of a field in a hash."},
      {"hgetall", "hash", "2.0.0", false, "Returns all fields and values in a hash."},
      {"hincrby", "hash", "2.0.0", true,
       "Increments the integer value of a field in a hash by a number."},
      {"hincrbyfloat", "hash", "2.6.0", true,
       "Increments the floating point value of a field by a number."},
      {"hkeys", "hash", "2.0.0", false, "Returns all fields in a hash."},
      {"hlen", "hash", "2.0.0", true, "Returns the number of fields in a hash."},
      {"hmget", "hash", "2.0.0", true, "Returns the values of all fields in a hash."},
      {"hmset", "hash", "2.0.0", true, "Sets the values of multiple fields."},
      {"hset", "hash", "2.0.0", true, "Creates or modifies the value of a field in a hash."},
      {"hsetnx", "hash", "2.0.0", true,
       "Sets the value of a field in a hash only when the field doesn't exist."},
      {"hstrlen", "hash", "3.2.0", true, "Returns the length of the value of a field."},
      {"hvals", "hash", "2.0.0", false, "Returns all values in a hash."},
      {"incr", "string", "1.0.0", true, "Increments the integer value of a key by one."},
      {"incrby", "string", "1.0.0", true, "Increments the integer value of a key by a number."},
      {"incrbyfloat", "string", "2.6.0", true,
       "Increment the floating point value of a key by a number."},
      {"lindex", "list", "1.0.0", false, "Returns an element from a list by its index."},
      {"linsert", "list", "2.2.0", false,
       "Inserts an element before or after another element in a list."},
      {"llen", "list", "1.0.0", true, "Returns the length of a list."},
      {"lmove", "list", "6.2.0", false,
       "Returns an element after popping it from one list and pushing it to another."},
      {"lmpop", "list", "7.0.0", false,
       "Returns multiple elements from a list after removing them."},
      {"lpop", "list", "1.0.0", true, "Returns the first elements in a list after removing it."},
      {"lpos", "list", "6.0.6", false, "Returns the index of matching elements in a list."},
      {"lpush", "list", "1.0.0", true, "Prepends one or more elements to a list."},
      {"lpushx", "list", "2.2.0", true,
       "Prepends one or more elements to a list only when the list exists."},
      {"lrange", "list", "1.0.0", false, "Returns a range of elements from a list."},
      {"lrem", "list", "1.0.0", false, "Removes elements from a list."},
      {"lset", "list", "1.0.0", false, "Sets the value of an element in a list by its index."},
      {"ltrim", "list", "1.0.0", false, "Removes elements from both ends a list."},
      {"mget", "string", "1.0.0", true,
       "Atomically returns the string values of one or more keys (ekv: one read per key)."},
      {"mset", "string", "1.0.1", false,
       "Sets the string values of one or more keys (ekv: one write per key, not atomic across "
       "groups)."},
      {"move", "generic", "1.0.0", true,
       "Moves a key to another database (ekv: only database 0 exists, so it is refused)."},
      {"msetnx", "string", "1.0.1", false,
       "Sets the string values of one or more keys only when all keys don't exist."},
      {"object", "generic", "2.2.3", false,
       "A container for object introspection commands (ENCODING FREQ IDLETIME REFCOUNT HELP)."},
      {"persist", "generic", "2.2.0", true, "Removes the expiration time of a key."},
      {"pexpire", "generic", "2.6.0", true, "Sets the expiration time of a key in milliseconds."},
      {"pexpireat", "generic", "2.6.0", true,
       "Sets the expiration time of a key to a Unix milliseconds timestamp."},
      {"pexpiretime", "generic", "7.0.0", true,
       "Returns the expiration time of a key as a Unix milliseconds timestamp."},
      {"psetex", "string", "2.6.0", false,
       "Sets both string value and expiration time in milliseconds of a key."},
      {"pttl", "generic", "2.6.0", true, "Returns the expiration time in milliseconds of a key."},
      {"rename", "generic", "1.0.0", false,
       "Renames a key and overwrites the destination (keys must share a group)."},
      {"renamenx", "generic", "1.0.0", true,
       "Renames a key only when the target key name doesn't exist (keys must share a group)."},
      {"rpop", "list", "1.0.0", true, "Returns and removes the last elements of a list."},
      {"rpoplpush", "list", "1.2.0", false,
       "Returns the last element of a list after removing and pushing it to another list."},
      {"rpush", "list", "1.0.0", true, "Appends one or more elements to a list."},
      {"rpushx", "list", "2.2.0", true, "Appends an element to a list only when the list exists."},
      {"sadd", "set", "1.0.0", true, "Adds one or more members to a set."},
      {"scard", "set", "1.0.0", true, "Returns the number of members in a set."},
      {"sdiff", "set", "1.0.0", false, "Returns the difference of multiple sets."},
      {"sdiffstore", "set", "1.0.0", false,
       "Stores the difference of multiple sets in a key (keys must share a group)."},
      {"set", "string", "1.0.0", false, "Sets the string value of a key, ignoring its type."},
      {"setex", "string", "2.0.0", false, "Sets the string value and expiration time of a key."},
      {"setnx", "string", "1.0.0", true,
       "Set the string value of a key only when the key doesn't exist."},
      {"setrange", "string", "2.2.0", false,
       "Overwrites a part of a string value with another by an offset."},
      {"sinter", "set", "1.0.0", false, "Returns the intersect of multiple sets."},
      {"sinterstore", "set", "1.0.0", false,
       "Stores the intersect of multiple sets in a key (keys must share a group)."},
      {"sismember", "set", "1.0.0", true, "Determines whether a member belongs to a set."},
      {"smembers", "set", "1.0.0", false, "Returns all members of a set."},
      {"smismember", "set", "6.2.0", true, "Determines whether multiple members belong to a set."},
      {"spop", "set", "1.0.0", true,
       "Returns one or more random members from a set after removing them."},
      {"srandmember", "set", "1.0.0", false, "Get one or multiple random members from a set."},
      {"srem", "set", "1.0.0", true, "Removes one or more members from a set."},
      {"strlen", "string", "2.2.0", true, "Returns the length of a string value."},
      {"sunion", "set", "1.0.0", false, "Returns the union of multiple sets."},
      {"sunionstore", "set", "1.0.0", false,
       "Stores the union of multiple sets in a key (keys must share a group)."},
      {"touch", "generic", "3.2.1", true,
       "Returns the number of existing keys out of those specified."},
      {"ttl", "generic", "1.0.0", true, "Returns the expiration time in seconds of a key."},
      {"type", "generic", "1.0.0", true, "Determines the type of value stored at a key."},
      {"unlink", "generic", "4.0.0", true, "Asynchronously deletes one or more keys."},
      {"zadd", "sorted-set", "1.2.0", true,
       "Adds one or more members to a sorted set, or updates their scores."},
      {"zcard", "sorted-set", "1.2.0", true, "Returns the number of members in a sorted set."},
      {"zcount", "sorted-set", "2.0.0", true,
       "Returns the count of members in a sorted set that have scores within a range."},
      {"zincrby", "sorted-set", "1.2.0", true, "Increments the score of a member in a sorted set."},
      {"zmscore", "sorted-set", "6.2.0", true,
       "Returns the score of one or more members in a sorted set."},
      {"zmpop", "sorted-set", "7.0.0", false,
       "Returns the highest- or lowest-scoring members from one or more sorted sets after "
       "removing them."},
      {"zpopmax", "sorted-set", "5.0.0", true,
       "Returns the highest-scoring members from a sorted set after removing them."},
      {"zpopmin", "sorted-set", "5.0.0", true,
       "Returns the lowest-scoring members from a sorted set after removing them."},
      {"zrange", "sorted-set", "1.2.0", false,
       "Returns members in a sorted set within a range of indexes."},
      {"zrangebylex", "sorted-set", "2.8.9", false,
       "Returns members in a sorted set within a lexicographical range."},
      {"zrangebyscore", "sorted-set", "1.0.5", false,
       "Returns members in a sorted set within a range of scores."},
      {"zrank", "sorted-set", "2.0.0", true,
       "Returns the index of a member in a sorted set ordered by ascending scores."},
      {"zrem", "sorted-set", "1.2.0", true, "Removes one or more members from a sorted set."},
      {"zrevrange", "sorted-set", "1.2.0", false,
       "Returns members in a sorted set within a range of indexes in reverse order."},
      {"zrevrangebylex", "sorted-set", "2.8.9", false,
       "Returns members in a sorted set within a lexicographical range in reverse order."},
      {"zrevrangebyscore", "sorted-set", "2.2.0", false,
       "Returns members in a sorted set within a range of scores in reverse order."},
      {"zrevrank", "sorted-set", "2.0.0", true,
       "Returns the index of a member in a sorted set ordered by descending scores."},
      {"zscore", "sorted-set", "1.2.0", true, "Returns the score of a member in a sorted set."},
      {"hrandfield", "hash", "6.2.0", false, "Returns one or more random fields from a hash."},
      {"smove", "set", "1.0.0", true,
       "Moves a member from one set to another (keys must share a group)."},
      {"sintercard", "set", "7.0.0", false,
       "Returns the number of members of the intersect of multiple sets."},
      {"zdiff", "sorted-set", "6.2.0", false,
       "Returns the difference between multiple sorted sets."},
      {"zdiffstore", "sorted-set", "6.2.0", false,
       "Stores the difference of multiple sorted sets in a key (keys must share a group)."},
      {"zinter", "sorted-set", "6.2.0", false, "Returns the intersect of multiple sorted sets."},
      {"zinterstore", "sorted-set", "2.0.0", false,
       "Stores the intersect of multiple sorted sets in a key (keys must share a group)."},
      {"zlexcount", "sorted-set", "2.8.9", true,
       "Returns the number of members in a sorted set within a lexicographical range."},
      {"zrandmember", "sorted-set", "6.2.0", false,
       "Returns one or more random members from a sorted set."},
      {"zrangestore", "sorted-set", "6.2.0", false,
       "Stores a range of members from sorted set in a key (keys must share a group)."},
      {"zremrangebylex", "sorted-set", "2.8.9", false,
       "Removes members in a sorted set within a lexicographical range."},
      {"zremrangebyrank", "sorted-set", "2.0.0", false,
       "Removes members in a sorted set within a range of indexes."},
      {"zremrangebyscore", "sorted-set", "1.2.0", false,
       "Removes members in a sorted set within a range of scores."},
      {"zunion", "sorted-set", "6.2.0", false, "Returns the union of multiple sorted sets."},
      {"zunionstore", "sorted-set", "2.0.0", false,
       "Stores the union of multiple sorted sets in a key (keys must share a group)."},
      {"bitcount", "bitmap", "2.6.0", false,
       "Counts the number of set bits (population counting) in a string."},
      {"bitfield", "bitmap", "3.2.0", false,
       "Performs arbitrary bitfield integer operations on strings."},
      {"bitfield_ro", "bitmap", "6.0.0", true,
       "Performs arbitrary read-only bitfield integer operations on strings."},
      {"bitop", "bitmap", "2.6.0", false,
       "Performs bitwise operations on multiple strings, and stores the result."},
      {"bitpos", "bitmap", "2.8.7", false, "Finds the first set (1) or clear (0) bit in a string."},
      {"getbit", "bitmap", "2.2.0", true, "Returns a bit value by offset."},
      {"setbit", "bitmap", "2.2.0", false,
       "Sets or clears the bit at offset of the string value. Creates the key if it doesn't "
       "exist."},
      {"dump", "generic", "2.6.0", false,
       "Returns a serialized representation of the value stored at a key."},
      {"restore", "generic", "2.6.0", false,
       "Creates a key from the serialized representation of a value."},
      {"copy", "generic", "6.2.0", false,
       "Copies the value of a key to a new key (keys must share a group)."},
      {"hscan", "hash", "2.8.0", false, "Iterates over fields and values of a hash."},
      {"lcs", "string", "7.0.0", false,
       "Finds the longest common substring (keys must share a group)."},
      {"sscan", "set", "2.8.0", false, "Iterates over members of a set."},
      {"zscan", "sorted-set", "2.8.0", false, "Iterates over members and scores of a sorted set."},
  };
  return *docs;
}

// Writes Redis 7.0 does not flag denyoom (they only remove, move or re-time data).
bool DeniedOnOom(const std::string& name) {
  static const std::set<std::string>* kNoDenyOom = new std::set<std::string>{"getdel",
                                                                             "getex",
                                                                             "del",
                                                                             "unlink",
                                                                             "rename",
                                                                             "renamenx",
                                                                             "move",
                                                                             "expire",
                                                                             "pexpire",
                                                                             "expireat",
                                                                             "pexpireat",
                                                                             "persist",
                                                                             "lpop",
                                                                             "rpop",
                                                                             "lrem",
                                                                             "ltrim",
                                                                             "lmpop",
                                                                             "blpop",
                                                                             "brpop",
                                                                             "blmpop",
                                                                             "hdel",
                                                                             "srem",
                                                                             "spop",
                                                                             "smove",
                                                                             "zrem",
                                                                             "zpopmin",
                                                                             "zpopmax",
                                                                             "bzpopmin",
                                                                             "bzpopmax",
                                                                             "zmpop",
                                                                             "bzmpop",
                                                                             "zremrangebyscore",
                                                                             "zremrangebyrank",
                                                                             "zremrangebylex"};
  return kNoDenyOom->count(name) == 0;
}

// Blocking commands a script may not call in Redis 7.0 (BLMPOP and BZMPOP it may: they
// do not block there).
bool NoScript(const std::string& name) {
  return name == "blpop" || name == "brpop" || name == "blmove" || name == "brpoplpush" ||
         name == "bzpopmin" || name == "bzpopmax";
}

std::string AclCategory(const std::string& group) {
  if (group == "generic") return "@keyspace";
  if (group == "sorted-set") return "@sortedset";
  return "@" + group;
}

}  // namespace

std::vector<CommandSpec> TypedCommandSpecs() {
  std::vector<CommandSpec> specs;
  for (const Docs& docs : AllDocs()) {
    const redis_core::CommandInfo* info = redis_core::FindCommand(docs.name);
    EKV_ASSERT(info != nullptr, "no executor handler for ", docs.name);
    CommandSpec spec;
    spec.name = docs.name;
    spec.arity = info->arity;
    uint32_t flags = info->write ? kFlagWrite : kFlagReadOnly;
    if (info->write && DeniedOnOom(docs.name)) flags |= kFlagDenyOom;
    if (NoScript(docs.name)) flags |= kFlagNoScript;
    if (docs.fast) flags |= kFlagFast;
    if (info->numkeys_index != 0) flags |= kFlagMovableKeys;
    const bool blocking = redis_core::IsBlockingCommand(docs.name);
    if (blocking) flags |= kFlagBlocking;
    spec.flags = flags;
    spec.first_key = info->first_key;
    spec.last_key = info->last_key;
    spec.key_step = info->key_step;
    spec.group = docs.group;
    spec.since = docs.since;
    spec.summary = docs.summary;
    spec.acl_categories = {info->write ? "@write" : "@read", AclCategory(docs.group),
                           docs.fast ? "@fast" : "@slow"};
    if (blocking) spec.acl_categories.push_back("@blocking");
    if (spec.name == "restore") spec.acl_categories.push_back("@dangerous");
    spec.handler = blocking ? &BlockingCommand : &TypedCommand;
    specs.push_back(std::move(spec));
  }
  return specs;
}

}  // namespace ekv::redis
