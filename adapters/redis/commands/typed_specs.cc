// The table entries of the data commands (commands/typed.cc): arity, write flag and key
// positions come from redis_core's executor table, so the front door and the executor
// cannot disagree; the COMMAND DOCS fields (group, since, summary), the tips and the key
// specifications, the complexity and deprecation are Redis 7.0's.
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
  const char* tips = "";       // CommandSpec::tips
  const char* key_specs = "";  // CommandSpec::key_specs
  const char* complexity = "";
  const char* deprecated_since = "";
  const char* replaced_by = "";
};

// SORT's and SORT_RO's notes and complexity, Redis 7.0's.
#define SORT_PATTERN_NOTES                                                                     \
  "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from " \
  "the content of the key we sort"
#define SORT_STORE_NOTES                                                                   \
  "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear " \
  "anywhere in the argument array"
#define SORT_COMPLEXITY                                                                    \
  "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the " \
  "number of returned elements. When the elements are not sorted, complexity is O(N)."

// The GEO searches' complexity, Redis 7.0's.
#define GEO_RADIUS_COMPLEXITY                                                              \
  "O(N+log(M)) where N is the number of elements inside the bounding box of the circular " \
  "area delimited by center and radius and M is the number of items inside the index."
#define GEO_SEARCH_COMPLEXITY                                                            \
  "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area " \
  "around the shape provided as the filter and M is the number of items inside the shape"

// Every executor command the front door serves, by name.
const std::vector<Docs>& AllDocs() {
  static const std::vector<Docs>* docs = new std::vector<Docs>{
      {"append", "string", "2.0.0", true, "Appends a string to the value of a key.", "",
       "RW insert|i1|r0,1,0",
       "O(1). The amortized time complexity is O(1) assuming the appended value is small and the "
       "already present value is of any size, since the dynamic string library used by Redis will "
       "double the free space available on every reallocation."},
      {"blmove", "list", "6.2.0", false,
       "Pops an element from a list, pushes it to another list and returns it. Blocks until an "
       "element is available otherwise.",
       "", "RW access delete|i1|r0,1,0;RW insert|i2|r0,1,0", "O(1)"},
      {"blmpop", "list", "7.0.0", false,
       "Pops the first element from one of multiple lists. Blocks until an element is available "
       "otherwise.",
       "", "RW access delete|i2|n0,1,1",
       "O(N+M) where N is the number of provided keys and M is the number of elements returned."},
      {"blpop", "list", "2.0.0", false,
       "Removes and returns the first element in a list. Blocks until an element is available "
       "otherwise.",
       "", "RW access delete|i1|r-2,1,0", "O(N) where N is the number of provided keys."},
      {"brpop", "list", "2.0.0", false,
       "Removes and returns the last element in a list. Blocks until an element is available "
       "otherwise.",
       "", "RW access delete|i1|r-2,1,0", "O(N) where N is the number of provided keys."},
      {"brpoplpush", "list", "2.2.0", false,
       "Pops an element from a list, pushes it to another list and returns it. Block until an "
       "element is available otherwise.",
       "", "RW access delete|i1|r0,1,0;RW insert|i2|r0,1,0", "O(1)", "6.2.0",
       "`BLMOVE` with the `RIGHT` and `LEFT` arguments"},
      {"bzmpop", "sorted-set", "7.0.0", false,
       "Removes and returns a member by score from one or more sorted sets. Blocks until a "
       "member is available otherwise.",
       "", "RW access delete|i2|n0,1,1",
       "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements "
       "in the sorted set, and M being the number of elements popped."},
      {"bzpopmax", "sorted-set", "5.0.0", true,
       "Removes and returns the member with the highest score from one or more sorted sets. "
       "Blocks until a member available otherwise.",
       "", "RW access delete|i1|r-2,1,0",
       "O(log(N)) with N being the number of elements in the sorted set."},
      {"bzpopmin", "sorted-set", "5.0.0", true,
       "Removes and returns the member with the lowest score from one or more sorted sets. "
       "Blocks until a member is available otherwise.",
       "", "RW access delete|i1|r-2,1,0",
       "O(log(N)) with N being the number of elements in the sorted set."},
      {"decr", "string", "1.0.0", true, "Decrements the integer value of a key by one.", "",
       "RW access update|i1|r0,1,0", "O(1)"},
      {"decrby", "string", "1.0.0", true, "Decrements a number from the integer value of a key.",
       "", "RW access update|i1|r0,1,0", "O(1)"},
      {"del", "generic", "1.0.0", false, "Deletes one or more keys.",
       "request_policy:multi_shard response_policy:agg_sum", "RM delete|i1|r-1,1,0",
       "O(N) where N is the number of keys that will be removed. When a key to remove holds a "
       "value other than a string, the individual complexity for this key is O(M) where M is the "
       "number of elements in the list, set, sorted set or hash. Removing a single key that holds "
       "a string value is O(1)."},
      {"exists", "generic", "1.0.0", true, "Determines whether one or more keys exist.",
       "request_policy:multi_shard response_policy:agg_sum", "RO|i1|r-1,1,0",
       "O(N) where N is the number of keys to check."},
      {"expire", "generic", "1.0.0", true, "Sets the expiration time of a key in seconds.", "",
       "RW update|i1|r0,1,0", "O(1)"},
      {"expireat", "generic", "1.2.0", true,
       "Sets the expiration time of a key to a Unix timestamp.", "", "RW update|i1|r0,1,0", "O(1)"},
      {"expiretime", "generic", "7.0.0", true,
       "Returns the expiration time of a key as a Unix timestamp.", "", "RO access|i1|r0,1,0",
       "O(1)"},
      {"get", "string", "1.0.0", true, "Returns the string value of a key.", "",
       "RO access|i1|r0,1,0", "O(1)"},
      {"getdel", "string", "6.2.0", true,
       "Returns the string value of a key after deleting the key.", "",
       "RW access delete|i1|r0,1,0", "O(1)"},
      {"getex", "string", "6.2.0", true,
       "Returns the string value of a key after setting its expiration time.", "",
       "RW access update|i1|r0,1,0|RW and UPDATE because it changes the TTL", "O(1)"},
      {"getrange", "string", "2.4.0", false, "Returns a substring of the string stored at a key.",
       "", "RO access|i1|r0,1,0",
       "O(N) where N is the length of the returned string. The complexity is ultimately determined "
       "by the returned length, but because creating a substring from an existing string is very "
       "cheap, it can be considered O(1) for small strings."},
      {"getset", "string", "1.0.0", true,
       "Returns the previous string value of a key after setting it to a new value.", "",
       "RW access update|i1|r0,1,0", "O(1)", "6.2.0", "`SET` with the `!GET` argument"},
      {"hdel", "hash", "2.0.0", true, "Deletes one or more fields and their values from a hash.",
       "", "RW delete|i1|r0,1,0", "O(N) where N is the number of fields to be removed."},
      {"hexists", "hash", "2.0.0", true, "Determines whether a field exists in a hash.", "",
       "RO|i1|r0,1,0", "O(1)"},
      {"hget", "hash", "2.0.0", true, "Returns the value of a field in a hash.", "",
       "RO access|i1|r0,1,0", "O(1)"},
      {"hgetall", "hash", "2.0.0", false, "Returns all fields and values in a hash.",
       "nondeterministic_output_order", "RO access|i1|r0,1,0",
       "O(N) where N is the size of the hash."},
      {"hincrby", "hash", "2.0.0", true,
       "Increments the integer value of a field in a hash by a number.", "",
       "RW access update|i1|r0,1,0", "O(1)"},
      {"hincrbyfloat", "hash", "2.6.0", true,
       "Increments the floating point value of a field by a number.", "",
       "RW access update|i1|r0,1,0", "O(1)"},
      {"hkeys", "hash", "2.0.0", false, "Returns all fields in a hash.",
       "nondeterministic_output_order", "RO access|i1|r0,1,0",
       "O(N) where N is the size of the hash."},
      {"hlen", "hash", "2.0.0", true, "Returns the number of fields in a hash.", "", "RO|i1|r0,1,0",
       "O(1)"},
      {"hmget", "hash", "2.0.0", true, "Returns the values of all fields in a hash.", "",
       "RO access|i1|r0,1,0", "O(N) where N is the number of fields being requested."},
      {"hmset", "hash", "2.0.0", true, "Sets the values of multiple fields.", "",
       "RW update|i1|r0,1,0", "O(N) where N is the number of fields being set.", "4.0.0",
       "`HSET` with multiple field-value pairs"},
      {"hset", "hash", "2.0.0", true, "Creates or modifies the value of a field in a hash.", "",
       "RW update|i1|r0,1,0",
       "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command "
       "is called with multiple field/value pairs."},
      {"hsetnx", "hash", "2.0.0", true,
       "Sets the value of a field in a hash only when the field doesn't exist.", "",
       "RW insert|i1|r0,1,0", "O(1)"},
      {"hstrlen", "hash", "3.2.0", true, "Returns the length of the value of a field.", "",
       "RO|i1|r0,1,0", "O(1)"},
      {"hvals", "hash", "2.0.0", false, "Returns all values in a hash.",
       "nondeterministic_output_order", "RO access|i1|r0,1,0",
       "O(N) where N is the size of the hash."},
      {"incr", "string", "1.0.0", true, "Increments the integer value of a key by one.", "",
       "RW access update|i1|r0,1,0", "O(1)"},
      {"incrby", "string", "1.0.0", true, "Increments the integer value of a key by a number.", "",
       "RW access update|i1|r0,1,0", "O(1)"},
      {"incrbyfloat", "string", "2.6.0", true,
       "Increment the floating point value of a key by a number.", "", "RW access update|i1|r0,1,0",
       "O(1)"},
      {"lindex", "list", "1.0.0", false, "Returns an element from a list by its index.", "",
       "RO access|i1|r0,1,0",
       "O(N) where N is the number of elements to traverse to get to the element at index. This "
       "makes asking for the first or the last element of the list O(1)."},
      {"linsert", "list", "2.2.0", false,
       "Inserts an element before or after another element in a list.", "", "RW insert|i1|r0,1,0",
       "O(N) where N is the number of elements to traverse before seeing the value pivot. This "
       "means that inserting somewhere on the left end on the list (head) can be considered O(1) "
       "and inserting somewhere on the right end (tail) is O(N)."},
      {"llen", "list", "1.0.0", true, "Returns the length of a list.", "", "RO|i1|r0,1,0", "O(1)"},
      {"lmove", "list", "6.2.0", false,
       "Returns an element after popping it from one list and pushing it to another.", "",
       "RW access delete|i1|r0,1,0;RW insert|i2|r0,1,0", "O(1)"},
      {"lmpop", "list", "7.0.0", false,
       "Returns multiple elements from a list after removing them.", "",
       "RW access delete|i1|n0,1,1",
       "O(N+M) where N is the number of provided keys and M is the number of elements returned."},
      {"lpop", "list", "1.0.0", true, "Returns the first elements in a list after removing it.", "",
       "RW access delete|i1|r0,1,0", "O(N) where N is the number of elements returned"},
      {"lpos", "list", "6.0.6", false, "Returns the index of matching elements in a list.", "",
       "RO access|i1|r0,1,0",
       "O(N) where N is the number of elements in the list, for the average case. When searching "
       "for elements near the head or the tail of the list, or when the MAXLEN option is provided, "
       "the command may run in constant time."},
      {"lpush", "list", "1.0.0", true, "Prepends one or more elements to a list.", "",
       "RW insert|i1|r0,1,0",
       "O(1) for each element added, so O(N) to add N elements when the command is called with "
       "multiple arguments."},
      {"lpushx", "list", "2.2.0", true,
       "Prepends one or more elements to a list only when the list exists.", "",
       "RW insert|i1|r0,1,0",
       "O(1) for each element added, so O(N) to add N elements when the command is called with "
       "multiple arguments."},
      {"lrange", "list", "1.0.0", false, "Returns a range of elements from a list.", "",
       "RO access|i1|r0,1,0",
       "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end "
       "(HEAD or TAIL) for large lists; and N is the number of elements in the specified range."},
      {"lrem", "list", "1.0.0", false, "Removes elements from a list.", "", "RW delete|i1|r0,1,0",
       "O(N+M) where N is the length of the list and M is the number of elements removed."},
      {"lset", "list", "1.0.0", false, "Sets the value of an element in a list by its index.", "",
       "RW update|i1|r0,1,0",
       "O(N) where N is the length of the list. Setting either the first or the last element of "
       "the list is O(1)."},
      {"ltrim", "list", "1.0.0", false, "Removes elements from both ends a list.", "",
       "RW delete|i1|r0,1,0",
       "O(N) where N is the number of elements to be removed by the operation."},
      {"memory", "server", "4.0.0", false, "A container for memory diagnostics commands.", "", "",
       "Depends on subcommand."},
      {"mget", "string", "1.0.0", true,
       "Atomically returns the string values of one or more keys (ekv: one read per key).",
       "request_policy:multi_shard", "RO access|i1|r-1,1,0",
       "O(N) where N is the number of keys to retrieve."},
      {"mset", "string", "1.0.1", false,
       "Sets the string values of one or more keys (ekv: one write per key, not atomic across "
       "groups).",
       "request_policy:multi_shard response_policy:all_succeeded", "OW update|i1|r-1,2,0",
       "O(N) where N is the number of keys to set."},
      {"move", "generic", "1.0.0", true,
       "Moves a key to another database (ekv: only database 0 exists, so it is refused).", "",
       "RW access update|i1|r0,1,0", "O(1)"},
      {"msetnx", "string", "1.0.1", false,
       "Sets the string values of one or more keys only when all keys don't exist.",
       "request_policy:multi_shard response_policy:agg_min", "OW insert|i1|r-1,2,0",
       "O(N) where N is the number of keys to set."},
      {"object", "generic", "2.2.3", false,
       "A container for object introspection commands (ENCODING FREQ IDLETIME REFCOUNT HELP).", "",
       "", "Depends on subcommand."},
      {"persist", "generic", "2.2.0", true, "Removes the expiration time of a key.", "",
       "RW update|i1|r0,1,0", "O(1)"},
      {"pfadd", "hyperloglog", "2.8.9", true,
       "Adds the specified elements to the specified HyperLogLog.", "", "RW insert|i1|r0,1,0",
       "O(1) to add every element."},
      {"pfcount", "hyperloglog", "2.8.9", false,
       "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
       "",
       "RW access|i1|r-1,1,0|RW because it may change the internal representation of the key, and "
       "propagate to replicas",
       "O(1) with a very small average constant time when called with a single key. O(N) with N "
       "being the number of keys, and much bigger constant times, when called with multiple "
       "keys."},
      {"pfmerge", "hyperloglog", "2.8.9", false,
       "Merge N different HyperLogLogs into a single one.", "",
       "RW access insert|i1|r0,1,0;RO access|i2|r-1,1,0",
       "O(N) to merge N HyperLogLogs, but with high constant times."},
      {"pexpire", "generic", "2.6.0", true, "Sets the expiration time of a key in milliseconds.",
       "", "RW update|i1|r0,1,0", "O(1)"},
      {"pexpireat", "generic", "2.6.0", true,
       "Sets the expiration time of a key to a Unix milliseconds timestamp.", "",
       "RW update|i1|r0,1,0", "O(1)"},
      {"pexpiretime", "generic", "7.0.0", true,
       "Returns the expiration time of a key as a Unix milliseconds timestamp.", "",
       "RO access|i1|r0,1,0", "O(1)"},
      {"psetex", "string", "2.6.0", false,
       "Sets both string value and expiration time in milliseconds of a key.", "",
       "OW update|i1|r0,1,0", "O(1)"},
      {"pttl", "generic", "2.6.0", true, "Returns the expiration time in milliseconds of a key.",
       "nondeterministic_output", "RO access|i1|r0,1,0", "O(1)"},
      {"rename", "generic", "1.0.0", false,
       "Renames a key and overwrites the destination (keys must share a group).", "",
       "RW access delete|i1|r0,1,0;OW update|i2|r0,1,0", "O(1)"},
      {"renamenx", "generic", "1.0.0", true,
       "Renames a key only when the target key name doesn't exist (keys must share a group).", "",
       "RW access delete|i1|r0,1,0;OW insert|i2|r0,1,0", "O(1)"},
      {"rpop", "list", "1.0.0", true, "Returns and removes the last elements of a list.", "",
       "RW access delete|i1|r0,1,0", "O(N) where N is the number of elements returned"},
      {"rpoplpush", "list", "1.2.0", false,
       "Returns the last element of a list after removing and pushing it to another list.", "",
       "RW access delete|i1|r0,1,0;RW insert|i2|r0,1,0", "O(1)", "6.2.0",
       "`LMOVE` with the `RIGHT` and `LEFT` arguments"},
      {"rpush", "list", "1.0.0", true, "Appends one or more elements to a list.", "",
       "RW insert|i1|r0,1,0",
       "O(1) for each element added, so O(N) to add N elements when the command is called with "
       "multiple arguments."},
      {"rpushx", "list", "2.2.0", true, "Appends an element to a list only when the list exists.",
       "", "RW insert|i1|r0,1,0",
       "O(1) for each element added, so O(N) to add N elements when the command is called with "
       "multiple arguments."},
      {"sadd", "set", "1.0.0", true, "Adds one or more members to a set.", "",
       "RW insert|i1|r0,1,0",
       "O(1) for each element added, so O(N) to add N elements when the command is called with "
       "multiple arguments."},
      {"scard", "set", "1.0.0", true, "Returns the number of members in a set.", "", "RO|i1|r0,1,0",
       "O(1)"},
      {"sdiff", "set", "1.0.0", false, "Returns the difference of multiple sets.",
       "nondeterministic_output_order", "RO access|i1|r-1,1,0",
       "O(N) where N is the total number of elements in all given sets."},
      {"sdiffstore", "set", "1.0.0", false,
       "Stores the difference of multiple sets in a key (keys must share a group).", "",
       "OW update|i1|r0,1,0;RO access|i2|r-1,1,0",
       "O(N) where N is the total number of elements in all given sets."},
      {"set", "string", "1.0.0", false, "Sets the string value of a key, ignoring its type.", "",
       "RW access update variable_flags|i1|r0,1,0|RW and ACCESS due to the optional `GET` "
       "argument",
       "O(1)"},
      {"setex", "string", "2.0.0", false, "Sets the string value and expiration time of a key.", "",
       "OW update|i1|r0,1,0", "O(1)"},
      {"setnx", "string", "1.0.0", true,
       "Set the string value of a key only when the key doesn't exist.", "", "OW insert|i1|r0,1,0",
       "O(1)"},
      {"setrange", "string", "2.2.0", false,
       "Overwrites a part of a string value with another by an offset.", "", "RW update|i1|r0,1,0",
       "O(1), not counting the time taken to copy the new string in place. Usually, this string is "
       "very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being "
       "the length of the value argument."},
      {"sinter", "set", "1.0.0", false, "Returns the intersect of multiple sets.",
       "nondeterministic_output_order", "RO access|i1|r-1,1,0",
       "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of "
       "sets."},
      {"sinterstore", "set", "1.0.0", false,
       "Stores the intersect of multiple sets in a key (keys must share a group).", "",
       "RW update|i1|r0,1,0;RO access|i2|r-1,1,0",
       "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of "
       "sets."},
      {"sismember", "set", "1.0.0", true, "Determines whether a member belongs to a set.", "",
       "RO|i1|r0,1,0", "O(1)"},
      {"smembers", "set", "1.0.0", false, "Returns all members of a set.",
       "nondeterministic_output_order", "RO access|i1|r0,1,0",
       "O(N) where N is the set cardinality."},
      {"smismember", "set", "6.2.0", true, "Determines whether multiple members belong to a set.",
       "", "RO access|i1|r0,1,0",
       "O(N) where N is the number of elements being checked for membership"},
      {"spop", "set", "1.0.0", true,
       "Returns one or more random members from a set after removing them.",
       "nondeterministic_output", "RW access delete|i1|r0,1,0",
       "Without the count argument O(1), otherwise O(N) where N is the value of the passed count."},
      {"srandmember", "set", "1.0.0", false, "Get one or multiple random members from a set.",
       "nondeterministic_output", "RO access|i1|r0,1,0",
       "Without the count argument O(1), otherwise O(N) where N is the absolute value of the "
       "passed count."},
      {"srem", "set", "1.0.0", true, "Removes one or more members from a set.", "",
       "RW delete|i1|r0,1,0", "O(N) where N is the number of members to be removed."},
      {"strlen", "string", "2.2.0", true, "Returns the length of a string value.", "",
       "RO|i1|r0,1,0", "O(1)"},
      {"sunion", "set", "1.0.0", false, "Returns the union of multiple sets.",
       "nondeterministic_output_order", "RO access|i1|r-1,1,0",
       "O(N) where N is the total number of elements in all given sets."},
      {"sunionstore", "set", "1.0.0", false,
       "Stores the union of multiple sets in a key (keys must share a group).", "",
       "OW update|i1|r0,1,0;RO access|i2|r-1,1,0",
       "O(N) where N is the total number of elements in all given sets."},
      {"touch", "generic", "3.2.1", true,
       "Returns the number of existing keys out of those specified.",
       "request_policy:multi_shard response_policy:agg_sum", "RO|i1|r-1,1,0",
       "O(N) where N is the number of keys that will be touched."},
      {"ttl", "generic", "1.0.0", true, "Returns the expiration time in seconds of a key.",
       "nondeterministic_output", "RO access|i1|r0,1,0", "O(1)"},
      {"type", "generic", "1.0.0", true, "Determines the type of value stored at a key.", "",
       "RO|i1|r0,1,0", "O(1)"},
      {"unlink", "generic", "4.0.0", true, "Asynchronously deletes one or more keys.",
       "request_policy:multi_shard response_policy:agg_sum", "RM delete|i1|r-1,1,0",
       "O(1) for each key removed regardless of its size. Then the command does O(N) work in a "
       "different thread in order to reclaim memory, where N is the number of allocations the "
       "deleted objects where composed of."},
      {"xack", "stream", "5.0.0", true,
       "Marks a pending message as correctly processed, effectively removing it from the pending "
       "entries list of the consumer group. Return value of the command is the number of messages "
       "successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.",
       "", "RW update|i1|r0,1,0", "O(1) for each message ID processed."},
      {"xadd", "stream", "5.0.0", true, "Appends a new entry to a stream",
       "nondeterministic_output",
       "RW update|i1|r0,1,0|UPDATE instead of INSERT because of the optional trimming feature",
       "O(1) when adding a new entry, O(N) when trimming where N being the number of entries "
       "evicted."},
      {"xautoclaim", "stream", "6.2.0", true,
       "Changes (or acquires) ownership of messages in a consumer group, as if the messages were "
       "delivered to the specified consumer.",
       "nondeterministic_output", "RW delete|i1|r0,1,0", "O(1) if COUNT is small."},
      {"xclaim", "stream", "5.0.0", true,
       "Changes (or acquires) ownership of a message in a consumer group, as if the message was "
       "delivered to the specified consumer.",
       "nondeterministic_output", "RW update|i1|r0,1,0",
       "O(log N) with N being the number of messages in the PEL of the consumer group."},
      {"xdel", "stream", "5.0.0", true,
       "Removes the specified entries from the stream. Returns the number of items actually "
       "deleted, that may be different from the number of IDs passed in case certain IDs do not "
       "exist.",
       "", "RW delete|i1|r0,1,0",
       "O(1) for each single item to delete in the stream, regardless of the stream size."},
      {"xgroup", "stream", "5.0.0", false, "A container for consumer groups commands", "", "",
       "Depends on subcommand."},
      {"xinfo", "stream", "5.0.0", false, "A container for stream introspection commands", "", "",
       "Depends on subcommand."},
      {"xlen", "stream", "5.0.0", true, "Return the number of entries in a stream", "",
       "RO|i1|r0,1,0", "O(1)"},
      {"xpending", "stream", "5.0.0", false,
       "Return information and entries from a stream consumer group pending entries list, that "
       "are messages fetched but never acknowledged.",
       "nondeterministic_output", "RO access|i1|r0,1,0",
       "O(N) with N being the number of elements returned, so asking for a small fixed number of "
       "entries per call is O(1). O(M), where M is the total number of entries scanned when used "
       "with the IDLE filter. When the command returns just the summary and the list of consumers "
       "is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every "
       "consumer."},
      {"xrange", "stream", "5.0.0", false,
       "Return a range of elements in a stream, with IDs matching the specified IDs interval", "",
       "RO access|i1|r0,1,0",
       "O(N) with N being the number of elements being returned. If N is constant (e.g. always "
       "asking for the first 10 elements with COUNT), you can consider it O(1)."},
      {"xread", "stream", "5.0.0", false,
       "Return never seen elements in multiple streams, with IDs greater than the ones reported "
       "by the caller for each stream. Can block.",
       "", "RO access|kSTREAMS,1|r-1,1,2",
       "For each stream mentioned: O(N) with N being the number of elements being returned, it "
       "means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, "
       "XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new "
       "data."},
      {"xreadgroup", "stream", "5.0.0", false,
       "Return new entries from a stream using a consumer group, or access the history of the "
       "pending entries for a given consumer. Can block.",
       "", "RO access|kSTREAMS,4|r-1,1,2",
       "For each stream mentioned: O(M) with M being the number of elements returned. If M is "
       "constant (e.g. always asking for the first 10 elements with COUNT), you can consider it "
       "O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to "
       "serve the N clients blocked on the stream getting new data."},
      {"xrevrange", "stream", "5.0.0", false,
       "Return a range of elements in a stream, with IDs matching the specified IDs interval, in "
       "reverse order (from greater to smaller IDs) compared to XRANGE",
       "", "RO access|i1|r0,1,0",
       "O(N) with N being the number of elements returned. If N is constant (e.g. always asking "
       "for the first 10 elements with COUNT), you can consider it O(1)."},
      {"xsetid", "stream", "5.0.0", true, "An internal command for replicating stream values", "",
       "RW update|i1|r0,1,0", "O(1)"},
      {"xtrim", "stream", "5.0.0", false,
       "Trims the stream to (approximately if '~' is passed) a certain size",
       "nondeterministic_output", "RW delete|i1|r0,1,0",
       "O(N), with N being the number of evicted entries. Constant times are very small however, "
       "since entries are organized in macro nodes containing multiple entries that can be "
       "released with a single deallocation."},
      {"zadd", "sorted-set", "1.2.0", true,
       "Adds one or more members to a sorted set, or updates their scores.", "",
       "RW update|i1|r0,1,0",
       "O(log(N)) for each item added, where N is the number of elements in the sorted set."},
      {"zcard", "sorted-set", "1.2.0", true, "Returns the number of members in a sorted set.", "",
       "RO|i1|r0,1,0", "O(1)"},
      {"zcount", "sorted-set", "2.0.0", true,
       "Returns the count of members in a sorted set that have scores within a range.", "",
       "RO access|i1|r0,1,0", "O(log(N)) with N being the number of elements in the sorted set."},
      {"zincrby", "sorted-set", "1.2.0", true, "Increments the score of a member in a sorted set.",
       "", "RW access update|i1|r0,1,0",
       "O(log(N)) where N is the number of elements in the sorted set."},
      {"zmscore", "sorted-set", "6.2.0", true,
       "Returns the score of one or more members in a sorted set.", "", "RO access|i1|r0,1,0",
       "O(N) where N is the number of members being requested."},
      {"zmpop", "sorted-set", "7.0.0", false,
       "Returns the highest- or lowest-scoring members from one or more sorted sets after "
       "removing them.",
       "", "RW access delete|i1|n0,1,1",
       "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements "
       "in the sorted set, and M being the number of elements popped."},
      {"zpopmax", "sorted-set", "5.0.0", true,
       "Returns the highest-scoring members from a sorted set after removing them.", "",
       "RW access delete|i1|r0,1,0",
       "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number "
       "of elements popped."},
      {"zpopmin", "sorted-set", "5.0.0", true,
       "Returns the lowest-scoring members from a sorted set after removing them.", "",
       "RW access delete|i1|r0,1,0",
       "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number "
       "of elements popped."},
      {"zrange", "sorted-set", "1.2.0", false,
       "Returns members in a sorted set within a range of indexes.", "", "RO access|i1|r0,1,0",
       "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
       "elements returned."},
      {"zrangebylex", "sorted-set", "2.8.9", false,
       "Returns members in a sorted set within a lexicographical range.", "", "RO access|i1|r0,1,0",
       "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
       "elements being returned. If M is constant (e.g. always asking for the first 10 elements "
       "with LIMIT), you can consider it O(log(N)).",
       "6.2.0", "`ZRANGE` with the `BYLEX` argument"},
      {"zrangebyscore", "sorted-set", "1.0.5", false,
       "Returns members in a sorted set within a range of scores.", "", "RO access|i1|r0,1,0",
       "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
       "elements being returned. If M is constant (e.g. always asking for the first 10 elements "
       "with LIMIT), you can consider it O(log(N)).",
       "6.2.0", "`ZRANGE` with the `BYSCORE` argument"},
      {"zrank", "sorted-set", "2.0.0", true,
       "Returns the index of a member in a sorted set ordered by ascending scores.", "",
       "RO access|i1|r0,1,0", "O(log(N))"},
      {"zrem", "sorted-set", "1.2.0", true, "Removes one or more members from a sorted set.", "",
       "RW delete|i1|r0,1,0",
       "O(M*log(N)) with N being the number of elements in the sorted set and M the number of "
       "elements to be removed."},
      {"zrevrange", "sorted-set", "1.2.0", false,
       "Returns members in a sorted set within a range of indexes in reverse order.", "",
       "RO access|i1|r0,1,0",
       "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
       "elements returned.",
       "6.2.0", "`ZRANGE` with the `REV` argument"},
      {"zrevrangebylex", "sorted-set", "2.8.9", false,
       "Returns members in a sorted set within a lexicographical range in reverse order.", "",
       "RO access|i1|r0,1,0",
       "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
       "elements being returned. If M is constant (e.g. always asking for the first 10 elements "
       "with LIMIT), you can consider it O(log(N)).",
       "6.2.0", "`ZRANGE` with the `REV` and `BYLEX` arguments"},
      {"zrevrangebyscore", "sorted-set", "2.2.0", false,
       "Returns members in a sorted set within a range of scores in reverse order.", "",
       "RO access|i1|r0,1,0",
       "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
       "elements being returned. If M is constant (e.g. always asking for the first 10 elements "
       "with LIMIT), you can consider it O(log(N)).",
       "6.2.0", "`ZRANGE` with the `REV` and `BYSCORE` arguments"},
      {"zrevrank", "sorted-set", "2.0.0", true,
       "Returns the index of a member in a sorted set ordered by descending scores.", "",
       "RO access|i1|r0,1,0", "O(log(N))"},
      {"zscore", "sorted-set", "1.2.0", true, "Returns the score of a member in a sorted set.", "",
       "RO access|i1|r0,1,0", "O(1)"},
      {"hrandfield", "hash", "6.2.0", false, "Returns one or more random fields from a hash.",
       "nondeterministic_output", "RO access|i1|r0,1,0",
       "O(N) where N is the number of fields returned"},
      {"smove", "set", "1.0.0", true,
       "Moves a member from one set to another (keys must share a group).", "",
       "RW access delete|i1|r0,1,0;RW insert|i2|r0,1,0", "O(1)"},
      {"sintercard", "set", "7.0.0", false,
       "Returns the number of members of the intersect of multiple sets.", "",
       "RO access|i1|n0,1,1",
       "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of "
       "sets."},
      {"zdiff", "sorted-set", "6.2.0", false,
       "Returns the difference between multiple sorted sets.", "", "RO access|i1|n0,1,1",
       "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N "
       "is the size of the first set, and K is the size of the result set."},
      {"zdiffstore", "sorted-set", "6.2.0", false,
       "Stores the difference of multiple sorted sets in a key (keys must share a group).", "",
       "OW update|i1|r0,1,0;RO access|i2|n0,1,1",
       "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N "
       "is the size of the first set, and K is the size of the result set."},
      {"zinter", "sorted-set", "6.2.0", false, "Returns the intersect of multiple sorted sets.", "",
       "RO access|i1|n0,1,1",
       "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the "
       "number of input sorted sets and M being the number of elements in the resulting sorted "
       "set."},
      {"zintercard", "sorted-set", "7.0.0", false,
       "Returns the number of members of the intersect of multiple sorted sets.", "",
       "RO access|i1|n0,1,1",
       "O(N*K) worst case with N being the smallest input sorted set, K being the number of "
       "input sorted sets."},
      {"zinterstore", "sorted-set", "2.0.0", false,
       "Stores the intersect of multiple sorted sets in a key (keys must share a group).", "",
       "OW update|i1|r0,1,0;RO access|i2|n0,1,1",
       "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the "
       "number of input sorted sets and M being the number of elements in the resulting sorted "
       "set."},
      {"zlexcount", "sorted-set", "2.8.9", true,
       "Returns the number of members in a sorted set within a lexicographical range.", "",
       "RO access|i1|r0,1,0", "O(log(N)) with N being the number of elements in the sorted set."},
      {"zrandmember", "sorted-set", "6.2.0", false,
       "Returns one or more random members from a sorted set.", "nondeterministic_output",
       "RO access|i1|r0,1,0", "O(N) where N is the number of elements returned"},
      {"zrangestore", "sorted-set", "6.2.0", false,
       "Stores a range of members from sorted set in a key (keys must share a group).", "",
       "OW update|i1|r0,1,0;RO access|i2|r0,1,0",
       "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
       "elements stored into the destination key."},
      {"zremrangebylex", "sorted-set", "2.8.9", false,
       "Removes members in a sorted set within a lexicographical range.", "", "RW delete|i1|r0,1,0",
       "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
       "elements removed by the operation."},
      {"zremrangebyrank", "sorted-set", "2.0.0", false,
       "Removes members in a sorted set within a range of indexes.", "", "RW delete|i1|r0,1,0",
       "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
       "elements removed by the operation."},
      {"zremrangebyscore", "sorted-set", "1.2.0", false,
       "Removes members in a sorted set within a range of scores.", "", "RW delete|i1|r0,1,0",
       "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
       "elements removed by the operation."},
      {"zunion", "sorted-set", "6.2.0", false, "Returns the union of multiple sorted sets.", "",
       "RO access|i1|n0,1,1",
       "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being "
       "the number of elements in the resulting sorted set."},
      {"zunionstore", "sorted-set", "2.0.0", false,
       "Stores the union of multiple sorted sets in a key (keys must share a group).", "",
       "OW update|i1|r0,1,0;RO access|i2|n0,1,1",
       "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being "
       "the number of elements in the resulting sorted set."},
      {"geoadd", "geo", "3.2.0", false,
       "Add one or more geospatial items in the geospatial index represented using a sorted set",
       "", "RW update|i1|r0,1,0",
       "O(log(N)) for each item added, where N is the number of elements in the sorted set."},
      {"geodist", "geo", "3.2.0", false,
       "Returns the distance between two members of a geospatial index", "", "RO access|i1|r0,1,0",
       "O(log(N))"},
      {"geohash", "geo", "3.2.0", false,
       "Returns members of a geospatial index as standard geohash strings", "",
       "RO access|i1|r0,1,0",
       "O(log(N)) for each member requested, where N is the number of elements in the sorted set."},
      {"geopos", "geo", "3.2.0", false,
       "Returns longitude and latitude of members of a geospatial index", "", "RO access|i1|r0,1,0",
       "O(N) where N is the number of members requested."},
      {"georadius", "geo", "3.2.0", false,
       "Query a sorted set representing a geospatial index to fetch members matching a given "
       "maximum distance from a point",
       "", "RO access|i1|r0,1,0;OW update|kSTORE,6|r0,1,0;OW update|kSTOREDIST,6|r0,1,0",
       GEO_RADIUS_COMPLEXITY, "6.2.0",
       "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument"},
      {"georadius_ro", "geo", "3.2.10", false, "A read-only variant for GEORADIUS", "",
       "RO access|i1|r0,1,0", GEO_RADIUS_COMPLEXITY, "6.2.0",
       "`GEOSEARCH` with the `BYRADIUS` argument"},
      {"georadiusbymember", "geo", "3.2.0", false,
       "Query a sorted set representing a geospatial index to fetch members matching a given "
       "maximum distance from a member",
       "", "RO access|i1|r0,1,0;OW update|kSTORE,5|r0,1,0;OW update|kSTOREDIST,5|r0,1,0",
       GEO_RADIUS_COMPLEXITY, "6.2.0",
       "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments"},
      {"georadiusbymember_ro", "geo", "3.2.10", false, "A read-only variant for GEORADIUSBYMEMBER",
       "", "RO access|i1|r0,1,0", GEO_RADIUS_COMPLEXITY, "6.2.0",
       "`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments"},
      {"geosearch", "geo", "6.2.0", false,
       "Query a sorted set representing a geospatial index to fetch members inside an area of a "
       "box or a circle.",
       "", "RO access|i1|r0,1,0", GEO_SEARCH_COMPLEXITY},
      {"geosearchstore", "geo", "6.2.0", false,
       "Query a sorted set representing a geospatial index to fetch members inside an area of a "
       "box or a circle, and store the result in another key (keys must share a group).",
       "", "OW update|i1|r0,1,0;RO access|i2|r0,1,0", GEO_SEARCH_COMPLEXITY},
      {"bitcount", "bitmap", "2.6.0", false,
       "Counts the number of set bits (population counting) in a string.", "",
       "RO access|i1|r0,1,0", "O(N)"},
      {"bitfield", "bitmap", "3.2.0", false,
       "Performs arbitrary bitfield integer operations on strings.", "",
       "RW access update variable_flags|i1|r0,1,0|This command allows both access and modification "
       "of the key",
       "O(1) for each subcommand specified"},
      {"bitfield_ro", "bitmap", "6.0.0", true,
       "Performs arbitrary read-only bitfield integer operations on strings.", "",
       "RO access|i1|r0,1,0", "O(1) for each subcommand specified"},
      {"bitop", "bitmap", "2.6.0", false,
       "Performs bitwise operations on multiple strings, and stores the result.", "",
       "OW update|i2|r0,1,0;RO access|i3|r-1,1,0", "O(N)"},
      {"bitpos", "bitmap", "2.8.7", false, "Finds the first set (1) or clear (0) bit in a string.",
       "", "RO access|i1|r0,1,0", "O(N)"},
      {"getbit", "bitmap", "2.2.0", true, "Returns a bit value by offset.", "",
       "RO access|i1|r0,1,0", "O(1)"},
      {"setbit", "bitmap", "2.2.0", false,
       "Sets or clears the bit at offset of the string value. Creates the key if it doesn't "
       "exist.",
       "", "RW access update|i1|r0,1,0", "O(1)"},
      {"dump", "generic", "2.6.0", false,
       "Returns a serialized representation of the value stored at a key.",
       "nondeterministic_output", "RO access|i1|r0,1,0",
       "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of "
       "Redis objects composing the value and M their average size. For small string values the "
       "time complexity is thus O(1)+O(1*M) where M is small, so simply O(1)."},
      {"restore", "generic", "2.6.0", false,
       "Creates a key from the serialized representation of a value.", "", "OW update|i1|r0,1,0",
       "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, "
       "where N is the number of Redis objects composing the value and M their average size. For "
       "small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply "
       "O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting "
       "values into sorted sets is O(log(N))."},
      {"copy", "generic", "6.2.0", false,
       "Copies the value of a key to a new key (keys must share a group).", "",
       "RO access|i1|r0,1,0;OW update|i2|r0,1,0",
       "O(N) worst case for collections, where N is the number of nested items. O(1) for string "
       "values."},
      {"hscan", "hash", "2.8.0", false, "Iterates over fields and values of a hash.",
       "nondeterministic_output", "RO access|i1|r0,1,0",
       "O(1) for every call. O(N) for a complete iteration, including enough command calls for the "
       "cursor to return back to 0. N is the number of elements inside the collection.."},
      {"lcs", "string", "7.0.0", false,
       "Finds the longest common substring (keys must share a group).", "", "RO access|i1|r1,1,0",
       "O(N*M) where N and M are the lengths of s1 and s2, respectively"},
      {"sort", "generic", "1.0.0", false, "Sort the elements in a list, set or sorted set", "",
       "RO access|i1|r0,1,0;RO access|u|u|" SORT_PATTERN_NOTES ";OW update|u|u|" SORT_STORE_NOTES,
       SORT_COMPLEXITY},
      {"sort_ro", "generic", "7.0.0", false,
       "Sort the elements in a list, set or sorted set. Read-only variant of SORT.", "",
       "RO access|i1|r0,1,0;RO access|u|u|" SORT_PATTERN_NOTES, SORT_COMPLEXITY},
      {"sscan", "set", "2.8.0", false, "Iterates over members of a set.", "nondeterministic_output",
       "RO access|i1|r0,1,0",
       "O(1) for every call. O(N) for a complete iteration, including enough command calls for the "
       "cursor to return back to 0. N is the number of elements inside the collection.."},
      {"zscan", "sorted-set", "2.8.0", false, "Iterates over members and scores of a sorted set.",
       "nondeterministic_output", "RO access|i1|r0,1,0",
       "O(1) for every call. O(N) for a complete iteration, including enough command calls for the "
       "cursor to return back to 0. N is the number of elements inside the collection.."},
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
                                                                             "zremrangebylex",
                                                                             "xdel",
                                                                             "xack",
                                                                             "xreadgroup",
                                                                             "xclaim",
                                                                             "xautoclaim",
                                                                             "xtrim"};
  return kNoDenyOom->count(name) == 0;
}

// Blocking commands a script may not call in Redis 7.0 (BLMPOP and BZMPOP it may: they
// do not block there).
bool NoScript(const std::string& name) {
  return name == "blpop" || name == "brpop" || name == "blmove" || name == "brpoplpush" ||
         name == "bzpopmin" || name == "bzpopmax";
}

// "" for a group that is no ACL category (MEMORY's "server": its USAGE is @read @slow).
std::string AclCategory(const std::string& group) {
  if (group == "server") return "";
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
    if (info->numkeys_index != 0 || info->key_finder != nullptr) flags |= kFlagMovableKeys;
    const bool blocking = redis_core::IsBlockingCommand(docs.name);
    if (blocking) flags |= kFlagBlocking;
    spec.flags = flags;
    spec.first_key = info->first_key;
    spec.last_key = info->last_key;
    spec.key_step = info->key_step;
    spec.group = docs.group;
    spec.since = docs.since;
    spec.summary = docs.summary;
    spec.tips = docs.tips;
    spec.key_specs = docs.key_specs;
    spec.complexity = docs.complexity;
    spec.deprecated_since = docs.deprecated_since;
    spec.replaced_by = docs.replaced_by;
    spec.acl_categories = {info->write ? "@write" : "@read"};
    if (const std::string category = AclCategory(docs.group); !category.empty()) {
      spec.acl_categories.push_back(category);
    }
    spec.acl_categories.push_back(docs.fast ? "@fast" : "@slow");
    if (blocking) spec.acl_categories.push_back("@blocking");
    if (spec.name == "restore") spec.acl_categories.push_back("@dangerous");
    if (spec.name == "sort" || spec.name == "sort_ro") {
      // Redis 7.0 files SORT under the types it sorts, not @keyspace.
      spec.acl_categories = {
          info->write ? "@write" : "@read", "@set", "@sortedset", "@list", "@slow", "@dangerous"};
    }
    if (spec.name == "pfcount") {
      // Redis 7.0 calls it readonly (its cache write is replicated as may_replicate, a flag
      // COMMAND INFO hides); ekv runs it as the write it is (commands_hll.cc).
      spec.flags = kFlagReadOnly;
      spec.acl_categories = {"@read", "@hyperloglog", "@slow"};
    }
    spec.get_keys = info->key_finder;
    spec.handler = spec.name == "xread" || spec.name == "xreadgroup" ? &XReadCommand
                   : blocking                                        ? &BlockingCommand
                                                                     : &TypedCommand;
    specs.push_back(std::move(spec));
  }
  return specs;
}

}  // namespace ekv::redis
