// The connection, server, auth, protocol-limit, pub/sub and data-type replies of ekv's Redis front
// door (RedisServer over a fake backend) against a real redis-server 7.0: the same bytes
// go to both, over the same number of connections, and every reply must be byte-identical
// (a few, such as HELLO's connection id, are compared with that field masked). Needs
// /usr/bin/redis-server (Debian redis-server, scripts/install-deps.sh): without it the
// test fails rather than skips.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "adapters/redis/acl_catalog.h"
#include "adapters/redis/acl_file.h"
#include "adapters/redis/command_table.h"
#include "adapters/redis/lua/lua_script_runner.h"
#include "adapters/redis/redis_server.h"
#include "core/redis/rdb_payload.h"
#include "gtest/gtest.h"
#include "tests/redis/differential_script.h"
#include "tests/redis/fake_backend.h"
#include "tests/redis/real_redis.h"
#include "tests/redis/resp_client.h"

namespace ekv::redis::differential {
namespace {

TEST_F(DifferentialTest, UnknownCommandsArityAndSubcommands) {
  const std::string long_arg(200, 'q');
  Compare({
      Cmd({"foo"}),
      Cmd({"foo", "a", "b"}),
      Cmd({"FOO", long_arg, long_arg}),
      Cmd({"foo", std::string("a\0b", 3), "c"}),
      Cmd({long_arg}),
      Cmd({"CLIENT"}),
      Cmd({"CLIENT", "x"}),
      Cmd({"client", "bogus", "a"}),
      Cmd({"CONFIG"}),
      Cmd({"CONFIG", "x"}),
      Cmd({"PUBSUB"}),
      Cmd({"PUBSUB", "x"}),
      Cmd({"PUBSUB", "channels", "a", "b"}),
      Cmd({"PUBSUB", "numpat", "a"}),
      Cmd({"PUBSUB", "help", "a"}),
      Cmd({"CLIENT", "SETNAME"}),
      Cmd({"CLIENT", "ID", "x"}),
      Cmd({"CLIENT", "GETNAME", "x"}),
      Cmd({"CONFIG", "GET"}),
      Cmd({"CONFIG", "SET", "timeout"}),
      Cmd({"CONFIG", "RESETSTAT", "x"}),
      Cmd({"TIME", "x"}),
      Cmd({"RESET", "x"}),
      Cmd({"AUTH"}),
      Cmd({"PUBLISH", "a"}),
      Cmd({"SUBSCRIBE"}),
      Cmd({"PSUBSCRIBE"}),
      Cmd({"CLIENT", "KILL"}),
      Cmd({"COMMAND", "GETKEYS", "get", "a"}),
      Cmd({"COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"}),
      Cmd({"COMMAND", "GETKEYS", "del", "a", "b", "c"}),
      Cmd({"COMMAND", "GETKEYS", "get"}),
      Cmd({"COMMAND", "GETKEYS", "foo", "a"}),
      Cmd({"COMMAND", "GETKEYS", "get", "a", "b"}),
      Cmd({"COMMAND", "GETKEYS", "set", "a"}),
      Cmd({"COMMAND", "GETKEYS", "echo", "x"}),
      Cmd({"COMMAND", "GETKEYS", "ping", "x"}),
  });
}

// COMMAND GETKEYSANDFLAGS: each key with its key spec's flags, or the flags Redis's
// getkeys_proc gives (SET with and without GET, BITFIELD read-only or not: variable_flags
// specs; SORT's STORE), a container's subcommand by its own specs, in RESP2 and RESP3 (a
// set); COMMAND GETKEYS's checks in Redis's order (a command without keys before the arity).
TEST_F(DifferentialTest, CommandGetKeysAndFlags) {
  Compare({
      Cmd({"COMMAND", "GETKEYSANDFLAGS", "set", "k1", "v1"}),
      Cmd({"COMMAND", "GETKEYSANDFLAGS", "set", "k1", "v1", "GET"}),
      Cmd({"COMMAND", "GETKEYSANDFLAGS", "mset", "k1", "v1", "k2", "v2"}),
      Cmd({"COMMAND", "GETKEYSANDFLAGS", "LMOVE", "k1", "k2", "left", "right"}),
      Cmd({"COMMAND", "GETKEYSANDFLAGS", "sort", "k1", "store", "k2"}),
      Cmd({"COMMAND", "GETKEYSANDFLAGS", "sort_ro", "k1", "by", "w*"}),
      Cmd({"COMMAND", "GETKEYSANDFLAGS", "bitfield", "k", "get", "u8", "0"}),
      Cmd({"COMMAND", "GETKEYSANDFLAGS", "bitfield", "k", "incrby", "u8", "0", "1"}),
      Cmd({"COMMAND", "GETKEYSANDFLAGS", "zunionstore", "d", "2", "a", "b"}),
      Cmd({"COMMAND", "GETKEYSANDFLAGS", "xread", "STREAMS", "s1", "s2", "0", "0"}),
      Cmd({"COMMAND", "GETKEYSANDFLAGS", "eval", "return 1", "0"}),
      Cmd({"COMMAND", "GETKEYSANDFLAGS", "get"}),
      Cmd({"COMMAND", "GETKEYSANDFLAGS", "nosuch", "a"}),
      Cmd({"COMMAND", "GETKEYSANDFLAGS", "ping", "x"}),
      Cmd({"COMMAND", "GETKEYSANDFLAGS"}),
      Cmd({"COMMAND", "GETKEYS", "echo"}),
      Cmd({"COMMAND", "GETKEYSANDFLAGS", "memory", "usage", "k"}),
      Cmd({"COMMAND", "GETKEYSANDFLAGS", "object", "encoding", "k"}),
      Cmd({"COMMAND", "GETKEYSANDFLAGS", "xgroup", "create", "s", "g", "$"}),
      Cmd({"COMMAND", "GETKEYSANDFLAGS", "xinfo", "stream", "s"}),
      Cmd({"COMMAND", "GETKEYS", "xinfo", "stream"}),
      Cmd({"COMMAND", "GETKEYS", "config", "get", "x"}),
      Cmd({"COMMAND", "GETKEYS", "object", "nosuch", "k"}),
      Cmd({"COMMAND", "GETKEYS", "set", "k1", "v1", "GET"}),
      Cmd({"HELLO", "3"}),
      Cmd({"COMMAND", "GETKEYSANDFLAGS", "LMOVE", "k1", "k2", "left", "right"}),
      Cmd({"COMMAND", "GETKEYSANDFLAGS", "set", "k1", "v1"}),
  });
}

TEST_F(DifferentialTest, ClientConfigAuthWithoutPassword) {
  Compare({
      Cmd({"CLIENT", "GETNAME"}),
      Cmd({"CLIENT", "SETNAME", "worker-1"}),
      Cmd({"CLIENT", "GETNAME"}),
      Cmd({"CLIENT", "SETNAME", "bad name"}),
      Cmd({"CLIENT", "SETNAME", "bad\nname"}),
      Cmd({"CLIENT", "SETNAME", ""}),
      Cmd({"CLIENT", "GETNAME"}),
      Cmd({"CLIENT", "NO-EVICT", "on"}),
      Cmd({"CLIENT", "NO-EVICT", "maybe"}),
      Cmd({"CLIENT", "KILL", "ID", "999999"}),
      Cmd({"CLIENT", "KILL", "1.2.3.4:5"}),
      Cmd({"CLIENT", "KILL", "ID", "x"}),
      Cmd({"CLIENT", "KILL", "ID", "0"}),
      Cmd({"CLIENT", "KILL", "foo", "bar"}),
      Cmd({"CLIENT", "KILL", "ADDR", "1.2.3.4:5"}),
      Cmd({"CLIENT", "KILL", "ID", "1", "SKIPME"}),
      Cmd({"CLIENT", "KILL", "TYPE", "wrong_type"}),
      Cmd({"CLIENT", "KILL", "USER", "wrong_user"}),
      Cmd({"CLIENT", "KILL", "TYPE", "master"}),
      Cmd({"CLIENT", "KILL", "TYPE", "replica"}),
      Cmd({"CLIENT", "KILL", "TYPE", "pubsub"}),
      Cmd({"CLIENT", "KILL", "TYPE", "normal", "ID", "999999"}),
      Cmd({"CLIENT", "KILL", "USER", "default", "ID", "999999"}),
      Cmd({"CLIENT", "KILL", "SKIPME", "maybe"}),
      Cmd({"CLIENT", "LIST", "TYPE", "x"}),
      Cmd({"CLIENT", "LIST", "ID", "x"}),
      Cmd({"CLIENT", "LIST", "ID", "0"}),
      Cmd({"CLIENT", "LIST", "ID", "-5", "999999"}),
      Cmd({"CLIENT", "LIST", "TYPE", "master"}),
      Cmd({"CONFIG", "GET", "maxclients"}),
      Cmd({"CONFIG", "GET", "timeout"}),
      Cmd({"CONFIG", "GET", "proto-max-bulk-len"}),
      Cmd({"CONFIG", "GET", "save"}),
      Cmd({"CONFIG", "GET", "appendonly"}),
      Cmd({"CONFIG", "GET", "requirepass"}),
      Cmd({"config", "get", "nosuch"}),
      Cmd({"CONFIG", "GET", "MAXCLIENTS"}),
      Cmd({"CONFIG", "SET", "foo", "1"}),
      Cmd({"CONFIG", "SET", "maxclients", "abc"}),
      Cmd({"CONFIG", "SET", "timeout", "0"}),
      Cmd({"CONFIG", "SET", "maxclients", "10000"}),
      Cmd({"CONFIG", "SET", "proto-max-bulk-len", "abc"}),
      Cmd({"CONFIG", "SET", "proto-max-bulk-len", "1000"}),
      Cmd({"CONFIG", "SET", "proto-max-bulk-len", "2mb"}),
      Cmd({"CONFIG", "GET", "proto-max-bulk-len"}),
      Cmd({"CONFIG", "SET", "proto-max-bulk-len", "512MB"}),
      Cmd({"CONFIG", "GET", "proto-max*"}),
      Cmd({"CONFIG", "RESETSTAT"}),
      Cmd({"AUTH", "x"}),
      Cmd({"AUTH", "a", "b"}),
      Cmd({"AUTH", "default", "anything"}),
      Cmd({"AUTH", "x", "y", "z"}),
      Cmd({"HELLO", "2", "AUTH", "default", "x"}),
      Cmd({"HELLO", "3", "SETNAME", "n3"}),
      Cmd({"CLIENT", "GETNAME"}),
      Cmd({"CLIENT", "NO-EVICT", "off"}),
      Cmd({"HELLO", "2", "AUTH", "nobody", "x"}),
      Cmd({"HELLO", "2", "SETNAME", "a b"}),
      Cmd({"SELECT", "0"}),
      Cmd({"RESET"}),
      Cmd({"CLIENT", "GETNAME"}),
      Cmd({"QUIT"}),
  });
}

// The encoding thresholds ekv's layout follows (core/redis/layout.h), against redis-server
// run with redis.conf's values: CONFIG GET answers them, CONFIG SET accepts only them.
TEST_F(DifferentialTest, EncodingThresholdsInConfig) {
  std::vector<Step> script;
  for (const char* name :
       {"hash-max-listpack-entries", "hash-max-listpack-value", "hash-max-ziplist-entries",
        "hash-max-ziplist-value", "zset-max-listpack-entries", "zset-max-listpack-value",
        "zset-max-ziplist-entries", "zset-max-ziplist-value", "set-max-intset-entries",
        "list-max-listpack-size", "list-max-ziplist-size", "list-compress-depth"}) {
    script.push_back(Cmd({"CONFIG", "GET", name}));
  }
  // One name per GET: Redis answers several in its dictionary's order.
  script.push_back(Cmd({"CONFIG", "GET", "SET-MAX-INTSET-ENTRIES"}));
  script.push_back(Cmd({"CONFIG", "SET", "hash-max-listpack-entries", "128"}));
  script.push_back(Cmd({"CONFIG", "SET", "set-max-intset-entries", "512", "timeout", "0"}));
  script.push_back(Cmd({"CONFIG", "GET", "hash-max-listpack-entries"}));
  script.push_back(Cmd({"HELLO", "3"}));
  script.push_back(Cmd({"CONFIG", "GET", "zset-max-listpack-value"}));
  Compare(script, "", kRedisConfDefaults);
}

TEST_F(DifferentialTest, RequirePass) {
  Compare(
      {
          Cmd({"foo", "a"}),
          Cmd({"GET"}),
          Cmd({"GET", "a"}),
          Cmd({"PING"}),
          Cmd({"CLIENT", "ID"}),
          Cmd({"SUBSCRIBE", "a"}),
          Cmd({"HELLO", "3"}),
          Cmd({"HELLO", "3", "AUTH", "default", "bad"}),
          Cmd({"AUTH", "bad"}),
          Cmd({"AUTH", "default", "bad"}),
          Cmd({"AUTH", "someone", "sekret"}),
          Cmd({"AUTH", "x", "y", "z"}),
          Cmd({"AUTH", "sekret"}),
          Cmd({"GET", "a"}),
          Cmd({"RESET"}),
          Cmd({"GET", "a"}),
          Cmd({"HELLO", "2", "AUTH", "default", "sekret"}),
          Cmd({"GET", "a"}),
          Cmd({"RESET"}),
          Cmd({"AUTH", "default", "sekret"}),
          Cmd({"PING"}),
          // Before AUTH, Redis bounds a request: at most 10 arguments of 16 KB.
          Raw(1, "*11\r\n", true),
          Raw(2, "*2\r\n$16385\r\n", true),
          Raw(3, EncodeCommand({"AUTH", "sekret"}) + "*11\r\n", false),
          On(4, {"QUIT"}),
      },
      "sekret");
}

TEST_F(DifferentialTest, ProtocolErrorsAndLimits) {
  Compare({
      Cmd({"PING"}),
      Raw(0, "*2\r\n$536870913\r\n", true),
      Raw(1, "*2147483648\r\n", true),
      Raw(2, "*1\r\n$-5\r\n", true),
      Raw(3, "*1\r\nfoo\r\n", true),
      Raw(4, "PING \"a\r\n", true),
      Raw(5, "*abc\r\n", true),
      Raw(6, "PING\r\nECHO 'x'y\r\n", false),
  });
}

TEST_F(DifferentialTest, PubSubResp2) {
  Compare({
      Cmd({"SUBSCRIBE", "news", "sport"}, 2),
      Cmd({"GET", "x"}),
      Cmd({"GET"}),
      Cmd({"foo"}),
      Cmd({"HELLO", "2"}),
      Cmd({"PING"}),
      Cmd({"PING", "x"}),
      Cmd({"SUBSCRIBE", "news"}),
      On(1, {"PUBLISH", "news", "hello"}),
      Read(0),
      Cmd({"PSUBSCRIBE", "n*", "s?ort", "[xy]ews"}, 3),
      // One matching pattern: Redis 7.0 orders several by its hash table.
      On(1, {"PUBLISH", "news", "two"}),
      Read(0, 2),
      On(1, {"PUBLISH", "nothing", "three"}),
      Read(0),
      On(1, {"PUBLISH", "nobody", ""}),
      Read(0),
      On(1, {"PUBSUB", "CHANNELS", "n*"}),
      On(1, {"PUBSUB", "NUMSUB", "news", "sport", "none"}),
      On(1, {"PUBSUB", "NUMSUB"}),
      On(1, {"PUBSUB", "NUMPAT"}),
      On(1, {"PUBSUB", "SHARDCHANNELS"}),
      On(1, {"PUBSUB", "SHARDNUMSUB", "news"}),
      Cmd({"UNSUBSCRIBE", "news", "never"}, 2),
      Cmd({"PUNSUBSCRIBE", "n*"}),
      On(1, {"PUBLISH", "sport", "four"}),
      Read(0, 2),
      Cmd({"UNSUBSCRIBE"}),
      Cmd({"UNSUBSCRIBE"}),
      Cmd({"PUNSUBSCRIBE", "s?ort"}),
      Cmd({"PUNSUBSCRIBE"}),
      Cmd({"PUNSUBSCRIBE"}),
      Cmd({"GET", "x"}),
      Cmd({"SUBSCRIBE", "again"}),
      Cmd({"RESET"}),
      Cmd({"GET", "x"}),
      On(1, {"PUBLISH", "again", "nobody"}),
      On(2, {"SUBSCRIBE", "bye"}),
      On(2, {"QUIT"}),
      On(1, {"PUBSUB", "NUMSUB", "bye"}),
  });
}

TEST_F(DifferentialTest, ServerCommandsResp3) {
  Compare({
      Cmd({"HELLO", "3"}),
      Cmd({"CLIENT", "GETNAME"}),
      Cmd({"CLIENT", "SETNAME", "r3"}),
      Cmd({"CLIENT", "GETNAME"}),
      Cmd({"INFO", "nosuch"}),
      Cmd({"CLIENT", "LIST", "TYPE", "master"}),
      Cmd({"CONFIG", "GET", "maxclients"}),
      Cmd({"CONFIG", "GET", "nosuch"}),
      Cmd({"CONFIG", "SET", "foo", "1"}),
      Cmd({"PUBSUB", "NUMSUB", "a"}),
      Cmd({"PUBSUB", "CHANNELS"}),
      Cmd({"COMMAND", "GETKEYS", "get", "a"}),
      Cmd({"AUTH", "x"}),
      Cmd({"foo", "bar"}),
      Cmd({"CLIENT", "x"}),
      Cmd({"RESET"}),
      Cmd({"CLIENT", "GETNAME"}),
  });
}

TEST_F(DifferentialTest, PubSubResp3) {
  Compare({
      Cmd({"HELLO", "3"}),
      Cmd({"SUBSCRIBE", "news"}),
      Cmd({"GET", "x"}),
      Cmd({"PING"}),
      On(1, {"PUBLISH", "news", "hello"}),
      Read(0),
      Cmd({"PSUBSCRIBE", "ne*"}),
      On(1, {"PUBLISH", "news", "both"}),
      Read(0, 2),
      Cmd({"UNSUBSCRIBE"}),
      Cmd({"UNSUBSCRIBE"}),
      Cmd({"PUNSUBSCRIBE"}),
      Cmd({"PUNSUBSCRIBE"}),
      Cmd({"HELLO", "2"}),
      Cmd({"UNSUBSCRIBE"}),
  });
}

// ---- data types: the commands redis_core's executor runs (the fake backend runs the
// same executor a group runs). Orders that Redis leaves to its encodings (hash fields
// in insertion order, set members in hash order) are avoided: fields are inserted in
// sorted order and set replies are checked on integer members or one member.

const std::string kWrongType = "a-string";

TEST_F(DifferentialTest, Strings) {
  Compare({
      Cmd({"SET", "s", "hello"}),
      Cmd({"APPEND", "s", " world"}),
      Cmd({"APPEND", "new", "x"}),
      Cmd({"GET", "s"}),
      Cmd({"STRLEN", "s"}),
      Cmd({"GETRANGE", "s", "0", "4"}),
      Cmd({"GETRANGE", "s", "-5", "-1"}),
      Cmd({"GETRANGE", "s", "5", "1"}),
      Cmd({"SETRANGE", "s", "6", "there"}),
      Cmd({"SETRANGE", "pad", "3", "x"}),
      Cmd({"GET", "pad"}),
      Cmd({"SETRANGE", "s", "-1", "x"}),
      Cmd({"INCR", "n"}),
      Cmd({"INCRBY", "n", "41"}),
      Cmd({"DECR", "n"}),
      Cmd({"DECRBY", "n", "10"}),
      Cmd({"INCRBY", "n", "x"}),
      Cmd({"INCR", "s"}),
      Cmd({"SET", "max", "9223372036854775807"}),
      Cmd({"INCR", "max"}),
      Cmd({"INCRBYFLOAT", "f", "10.5"}),
      Cmd({"INCRBYFLOAT", "f", "0.1"}),
      Cmd({"INCRBYFLOAT", "f", "-5e3"}),
      Cmd({"INCRBYFLOAT", "f", "abc"}),
      Cmd({"SETNX", "s", "x"}),
      Cmd({"SETNX", "nx", "x"}),
      Cmd({"GETSET", "nx", "y"}),
      Cmd({"GETDEL", "nx"}),
      Cmd({"GETDEL", "nx"}),
      Cmd({"SET", "k", "v", "NX"}),
      Cmd({"SET", "k", "w", "NX"}),
      Cmd({"SET", "k", "w", "XX", "GET"}),
      Cmd({"SET", "nope", "w", "XX"}),
      Cmd({"SET", "k", "v", "NX", "XX"}),
      Cmd({"SET", "k", "v", "EX", "0"}),
      Cmd({"SETEX", "k", "100", "v"}),
      Cmd({"TTL", "k"}),
      Cmd({"SETEX", "k", "-1", "v"}),
      Cmd({"PSETEX", "k", "100000", "v"}),
      Cmd({"GETEX", "k", "PERSIST"}),
      Cmd({"TTL", "k"}),
      Cmd({"GETEX", "k", "EX", "50"}),
      Cmd({"TTL", "k"}),
      Cmd({"GETEX", "k", "EX"}),
      Cmd({"MSET", "a", "1", "b", "2", "c", "3"}),
      Cmd({"MGET", "a", "b", "nope", "c"}),
      Cmd({"MSETNX", "a", "1", "z", "2"}),
      Cmd({"MSETNX", "y", "1", "z", "2"}),
      Cmd({"MSETNX", "y", "1", "z"}),
      Cmd({"MSET", "a"}),
      Cmd({"HSET", kWrongType, "f", "v"}),
      Cmd({"GET", kWrongType}),
      Cmd({"APPEND", kWrongType, "x"}),
      Cmd({"MGET", kWrongType, "a"}),
  });
}

TEST_F(DifferentialTest, KeysAndExpiry) {
  Compare({
      Cmd({"SET", "k", "v"}),
      Cmd({"TYPE", "k"}),
      Cmd({"TYPE", "nope"}),
      Cmd({"TTL", "k"}),
      Cmd({"PTTL", "k"}),
      Cmd({"TTL", "nope"}),
      Cmd({"PTTL", "nope"}),
      Cmd({"EXPIRE", "k", "100"}),
      Cmd({"TTL", "k"}),
      Cmd({"EXPIRE", "k", "50", "GT"}),
      Cmd({"EXPIRE", "k", "50", "LT"}),
      Cmd({"TTL", "k"}),
      Cmd({"EXPIRE", "k", "10", "NX"}),
      Cmd({"EXPIRE", "k", "10", "XX"}),
      Cmd({"EXPIRE", "k", "10", "NX", "XX"}),
      Cmd({"EXPIRE", "k", "10", "FOO"}),
      Cmd({"EXPIRE", "k", "abc"}),
      Cmd({"EXPIRE", "nope", "10"}),
      Cmd({"PERSIST", "k"}),
      Cmd({"PERSIST", "k"}),
      Cmd({"TTL", "k"}),
      Cmd({"EXPIREAT", "k", "4000000000"}),
      Cmd({"EXPIRETIME", "k"}),
      Cmd({"PEXPIRETIME", "k"}),
      Cmd({"PEXPIREAT", "k", "4000000000123"}),
      Cmd({"PEXPIRETIME", "k"}),
      Cmd({"EXPIRETIME", "nope"}),
      Cmd({"PERSIST", "k"}),
      Cmd({"EXPIRETIME", "k"}),
      Cmd({"PEXPIRE", "k", "100"}),
      After(400, {"GET", "k"}),
      Cmd({"EXISTS", "k"}),
      Cmd({"TTL", "k"}),
      Cmd({"RPUSH", "l", "a"}),
      Cmd({"PEXPIRE", "l", "100"}),
      After(400, {"LLEN", "l"}),
      Cmd({"TYPE", "l"}),
      Cmd({"EXPIRE", "k2", "-1"}),
      Cmd({"SET", "k2", "v"}),
      Cmd({"EXPIRE", "k2", "-1"}),
      Cmd({"EXISTS", "k2"}),
      Cmd({"SET", "a", "1"}),
      Cmd({"RPUSH", "b", "x"}),
      Cmd({"EXISTS", "a", "b", "nope", "a"}),
      Cmd({"TOUCH", "a", "b", "nope"}),
      Cmd({"DEL", "a", "b", "nope", "a"}),
      Cmd({"UNLINK", "a", "b"}),
      Cmd({"SET", "from", "v"}),
      Cmd({"RENAME", "from", "to"}),
      Cmd({"GET", "to"}),
      Cmd({"RENAME", "from", "to"}),
      Cmd({"SET", "other", "w"}),
      Cmd({"RENAMENX", "to", "other"}),
      Cmd({"RENAMENX", "to", "fresh"}),
      Cmd({"TYPE", "fresh"}),
  });
}

TEST_F(DifferentialTest, Hashes) {
  Compare({
      Cmd({"HSET", "h", "a", "1", "b", "2"}),
      Cmd({"HSET", "h", "b", "3", "c", "4"}),
      Cmd({"HSET", "h", "a"}),
      Cmd({"HGET", "h", "b"}),
      Cmd({"HGET", "h", "nope"}),
      Cmd({"HGET", "nope", "a"}),
      Cmd({"HMGET", "h", "a", "nope", "c"}),
      Cmd({"HGETALL", "h"}),
      Cmd({"HKEYS", "h"}),
      Cmd({"HVALS", "h"}),
      Cmd({"HLEN", "h"}),
      Cmd({"HEXISTS", "h", "a"}),
      Cmd({"HEXISTS", "h", "z"}),
      Cmd({"HSTRLEN", "h", "a"}),
      Cmd({"HSETNX", "h", "a", "x"}),
      Cmd({"HSETNX", "h", "d", "x"}),
      Cmd({"HMSET", "h", "e", "5"}),
      Cmd({"HMSET", "h", "e"}),
      Cmd({"HINCRBY", "h", "a", "10"}),
      Cmd({"HINCRBY", "h", "new", "-3"}),
      Cmd({"HINCRBY", "h", "d", "1"}),
      Cmd({"HINCRBY", "h", "a", "x"}),
      Cmd({"HINCRBYFLOAT", "h", "a", "0.5"}),
      Cmd({"HINCRBYFLOAT", "h", "d", "1"}),
      Cmd({"HDEL", "h", "a", "nope", "b"}),
      Cmd({"HLEN", "h"}),
      Cmd({"TYPE", "h"}),
      Cmd({"HDEL", "h", "c", "d", "e", "new"}),
      Cmd({"EXISTS", "h"}),
      Cmd({"HGETALL", "h"}),
      Cmd({"SET", kWrongType, "x"}),
      Cmd({"HSET", kWrongType, "f", "v"}),
      Cmd({"HGET", kWrongType, "f"}),
      Cmd({"HGETALL", kWrongType}),
      Cmd({"HELLO", "3"}),
      Cmd({"HSET", "h3", "a", "1", "b", "2"}),
      Cmd({"HGETALL", "h3"}),
      Cmd({"HGET", "h3", "nope"}),
      Cmd({"HMGET", "h3", "a", "nope"}),
      Cmd({"HGETALL", "nope"}),
  });
}

TEST_F(DifferentialTest, Lists) {
  Compare({
      Cmd({"LPUSH", "l", "c", "b", "a"}),
      Cmd({"RPUSH", "l", "d", "e"}),
      Cmd({"LRANGE", "l", "0", "-1"}),
      Cmd({"LRANGE", "l", "1", "2"}),
      Cmd({"LRANGE", "l", "-2", "100"}),
      Cmd({"LRANGE", "l", "5", "1"}),
      Cmd({"LRANGE", "l", "x", "1"}),
      Cmd({"LLEN", "l"}),
      Cmd({"LLEN", "nope"}),
      Cmd({"LINDEX", "l", "0"}),
      Cmd({"LINDEX", "l", "-1"}),
      Cmd({"LINDEX", "l", "99"}),
      Cmd({"LSET", "l", "1", "B"}),
      Cmd({"LSET", "l", "99", "x"}),
      Cmd({"LSET", "nope", "0", "x"}),
      Cmd({"LPUSHX", "nope", "x"}),
      Cmd({"RPUSHX", "nope", "x"}),
      Cmd({"LPUSHX", "l", "z"}),
      Cmd({"RPUSHX", "l", "a", "a"}),
      Cmd({"LRANGE", "l", "0", "-1"}),
      Cmd({"LREM", "l", "1", "a"}),
      Cmd({"LREM", "l", "-1", "a"}),
      Cmd({"LREM", "l", "0", "nope"}),
      Cmd({"LRANGE", "l", "0", "-1"}),
      Cmd({"LINSERT", "l", "BEFORE", "c", "x"}),
      Cmd({"LINSERT", "l", "AFTER", "c", "y"}),
      Cmd({"LINSERT", "l", "AFTER", "nope", "y"}),
      Cmd({"LINSERT", "l", "MIDDLE", "c", "y"}),
      Cmd({"LINSERT", "nope", "BEFORE", "c", "x"}),
      Cmd({"LRANGE", "l", "0", "-1"}),
      Cmd({"RPUSH", "p", "a", "b", "c", "b", "a", "b"}),
      Cmd({"LPOS", "p", "b"}),
      Cmd({"LPOS", "p", "b", "RANK", "2"}),
      Cmd({"LPOS", "p", "b", "RANK", "-1"}),
      Cmd({"LPOS", "p", "b", "COUNT", "0"}),
      Cmd({"LPOS", "p", "b", "COUNT", "2", "MAXLEN", "3"}),
      Cmd({"LPOS", "p", "nope"}),
      Cmd({"LPOS", "p", "b", "RANK", "0"}),
      Cmd({"LTRIM", "p", "1", "-2"}),
      Cmd({"LRANGE", "p", "0", "-1"}),
      Cmd({"LTRIM", "p", "5", "1"}),
      Cmd({"EXISTS", "p"}),
      Cmd({"LPOP", "l"}),
      Cmd({"RPOP", "l"}),
      Cmd({"LPOP", "l", "2"}),
      Cmd({"RPOP", "l", "0"}),
      Cmd({"LPOP", "l", "-1"}),
      Cmd({"LPOP", "nope"}),
      Cmd({"LPOP", "nope", "2"}),
      Cmd({"RPOP", "l", "100"}),
      Cmd({"EXISTS", "l"}),
      Cmd({"SET", kWrongType, "x"}),
      Cmd({"LPUSH", kWrongType, "x"}),
      Cmd({"LRANGE", kWrongType, "0", "-1"}),
      Cmd({"LLEN", kWrongType}),
      Cmd({"HELLO", "3"}),
      Cmd({"LPOP", "nope"}),
      Cmd({"LPOP", "nope", "2"}),
      Cmd({"LINDEX", "nope", "0"}),
  });
}

TEST_F(DifferentialTest, Sets) {
  Compare({
      Cmd({"SADD", "s", "3", "1", "2", "1"}),
      Cmd({"SADD", "s", "2", "4"}),
      Cmd({"SMEMBERS", "s"}),
      Cmd({"SCARD", "s"}),
      Cmd({"SCARD", "nope"}),
      Cmd({"SISMEMBER", "s", "1"}),
      Cmd({"SISMEMBER", "s", "9"}),
      Cmd({"SMISMEMBER", "s", "1", "9", "4"}),
      Cmd({"SREM", "s", "1", "9"}),
      Cmd({"SMEMBERS", "s"}),
      Cmd({"SADD", "one", "only"}),
      Cmd({"SRANDMEMBER", "one"}),
      Cmd({"SRANDMEMBER", "one", "5"}),
      Cmd({"SRANDMEMBER", "one", "-2"}),
      Cmd({"SRANDMEMBER", "nope"}),
      Cmd({"SRANDMEMBER", "nope", "3"}),
      Cmd({"SRANDMEMBER", "one", "x"}),
      Cmd({"SPOP", "one"}),
      Cmd({"SPOP", "one"}),
      Cmd({"EXISTS", "one"}),
      Cmd({"SPOP", "nope", "2"}),
      Cmd({"SPOP", "s", "-1"}),
      Cmd({"SPOP", "s", "10"}),
      Cmd({"EXISTS", "s"}),
      Cmd({"SMEMBERS", "nope"}),
      Cmd({"SET", kWrongType, "x"}),
      Cmd({"SADD", kWrongType, "x"}),
      Cmd({"SISMEMBER", kWrongType, "x"}),
      Cmd({"HELLO", "3"}),
      Cmd({"SADD", "s3", "5", "6"}),
      Cmd({"SMEMBERS", "s3"}),
      Cmd({"SMEMBERS", "nope"}),
      Cmd({"SMISMEMBER", "s3", "5", "0"}),
  });
}

TEST_F(DifferentialTest, SortedSets) {
  Compare({
      Cmd({"ZADD", "z", "1", "a", "2", "b", "3", "c"}),
      Cmd({"ZADD", "z", "1.5", "d", "2", "b"}),
      Cmd({"ZADD", "z", "CH", "5", "a", "6", "e"}),
      Cmd({"ZADD", "z", "NX", "9", "a"}),
      Cmd({"ZADD", "z", "XX", "0.5", "a"}),
      Cmd({"ZADD", "z", "GT", "CH", "0.1", "a"}),
      Cmd({"ZADD", "z", "LT", "CH", "0.1", "a"}),
      Cmd({"ZADD", "z", "INCR", "2", "a"}),
      Cmd({"ZADD", "z", "NX", "XX", "1", "a"}),
      Cmd({"ZADD", "z", "GT", "LT", "1", "a"}),
      Cmd({"ZADD", "z", "INCR", "1", "a", "2", "b"}),
      Cmd({"ZADD", "z", "x", "a"}),
      Cmd({"ZADD", "z", "1"}),
      Cmd({"ZSCORE", "z", "a"}),
      Cmd({"ZSCORE", "z", "nope"}),
      Cmd({"ZMSCORE", "z", "a", "nope", "b"}),
      Cmd({"ZINCRBY", "z", "0.25", "b"}),
      Cmd({"ZINCRBY", "z", "x", "b"}),
      Cmd({"ZCARD", "z"}),
      Cmd({"ZCOUNT", "z", "1", "3"}),
      Cmd({"ZCOUNT", "z", "(1", "+inf"}),
      Cmd({"ZCOUNT", "z", "x", "3"}),
      Cmd({"ZRANGE", "z", "0", "-1"}),
      Cmd({"ZRANGE", "z", "0", "-1", "WITHSCORES"}),
      Cmd({"ZRANGE", "z", "1", "2", "REV"}),
      Cmd({"ZRANGE", "z", "(1", "3", "BYSCORE"}),
      Cmd({"ZRANGE", "z", "3", "(1", "BYSCORE", "REV", "WITHSCORES"}),
      Cmd({"ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "2"}),
      Cmd({"ZRANGE", "z", "0", "1", "LIMIT", "1", "2"}),
      Cmd({"ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES"}),
      Cmd({"ZRANGEBYSCORE", "z", "2", "3", "LIMIT", "0", "1"}),
      Cmd({"ZREVRANGE", "z", "0", "1", "WITHSCORES"}),
      Cmd({"ZRANK", "z", "b"}),
      Cmd({"ZREVRANK", "z", "b"}),
      Cmd({"ZRANK", "z", "nope"}),
      Cmd({"ZREM", "z", "a", "nope"}),
      Cmd({"ZPOPMIN", "z"}),
      Cmd({"ZPOPMAX", "z", "2"}),
      Cmd({"ZPOPMIN", "nope"}),
      Cmd({"ZPOPMIN", "z", "-1"}),
      Cmd({"ZRANGE", "z", "0", "-1", "WITHSCORES"}),
      Cmd({"ZADD", "inf", "-inf", "low", "+inf", "high", "0", "zero"}),
      Cmd({"ZRANGE", "inf", "0", "-1", "WITHSCORES"}),
      Cmd({"ZSCORE", "inf", "high"}),
      Cmd({"ZADD", "frac", "0.1", "x"}),
      Cmd({"ZSCORE", "frac", "x"}),
      Cmd({"SET", kWrongType, "x"}),
      Cmd({"ZADD", kWrongType, "1", "x"}),
      Cmd({"ZSCORE", kWrongType, "x"}),
      Cmd({"HELLO", "3"}),
      Cmd({"ZSCORE", "frac", "x"}),
      Cmd({"ZSCORE", "inf", "low"}),
      Cmd({"ZMSCORE", "inf", "zero", "nope"}),
      Cmd({"ZRANGE", "inf", "0", "-1", "WITHSCORES"}),
      Cmd({"ZPOPMIN", "inf"}),
      Cmd({"ZPOPMAX", "inf", "1"}),
      Cmd({"ZINCRBY", "frac", "1", "x"}),
      Cmd({"ZRANK", "nope", "x"}),
  });
}

// ACL users (--redis_users_file): the same ACL file for redis-server's aclfile and for ekv,
// the same AUTH / HELLO AUTH / RESET script, byte-identical replies (NOAUTH, WRONGPASS for
// a wrong password, a disabled user and an unknown one; nopass users; several passwords).
TEST_F(DifferentialTest, AclUsersFromTheSameFile) {
  const std::string acl_text =
      "user default on >defpw ~* &* +@all\n"
      "user alice on >alicepw >alt ~* &* +@all\n"
      "user bob off >bobpw ~* &* +@all\n"
      "user carol on nopass ~* &* +@all\n";
  absl::StatusOr<AclFile> users = ParseAclFile(acl_text);
  ASSERT_TRUE(users.ok()) << users.status();
  ASSERT_TRUE(users->defines_default);
  const std::vector<Step> script = {
      Cmd({"GET", "k"}),
      Cmd({"AUTH", "wrong"}),
      Cmd({"AUTH", "alice", "wrong"}),
      Cmd({"AUTH", "bob", "bobpw"}),
      Cmd({"AUTH", "nobody", "x"}),
      Cmd({"GET", "k"}),
      Cmd({"AUTH", "alice", "alicepw"}),
      Cmd({"SET", "k", "v"}),
      Cmd({"GET", "k"}),
      Cmd({"AUTH", "alice", "alt"}),
      Cmd({"AUTH", "alice", "wrong"}),
      Cmd({"GET", "k"}),
      Cmd({"RESET"}),
      Cmd({"GET", "k"}),
      On(1, {"HELLO", "3"}),
      On(1, {"HELLO", "3", "AUTH", "bob", "bobpw"}),
      On(1, {"HELLO", "3", "AUTH", "alice", "nope"}),
      On(1, {"HELLO", "2", "AUTH", "carol", "anything"}),
      On(1, {"GET", "k"}),
      On(2, {"AUTH", "default", "defpw"}),
      On(2, {"GET", "k"}),
      On(3, {"AUTH", "defpw"}),
      On(3, {"AUTH", "carol", ""}),
      On(3, {"GET", "k"}),
  };
  Compare(script, "", {}, acl_text);
}

// Per-command, per-key and per-channel ACL rules (acl_rules.h): one ACL file for
// redis-server's aclfile and for ekv, users restricted by category, command, key pattern
// and channel pattern, rules applied left to right; every NOPERM (and what is allowed)
// byte for byte, inside MULTI too (a refused command aborts EXEC).
TEST_F(DifferentialTest, AclRulesPerCommandKeyAndChannel) {
  const std::string acl_text =
      "user default on nopass ~* &* +@all\n"
      "user reader on >rpw ~app:* +@read -@dangerous\n"
      "user writer on >wpw ~app:* %RW~tmp:? +@all -del -@hash -client &news.*\n"
      "user none on >npw\n"
      "user keys on >kpw +@all -@write +set resetkeys ~a* ~b[0-9] allchannels\n"
      "user later on >x reset on >lpw +get +@keyspace -type ~*\n"
      "user mixed on >mpw +@all -@read +get ~* &chan\n";
  absl::StatusOr<AclFile> users = ParseAclFile(acl_text);
  ASSERT_TRUE(users.ok()) << users.status();
  EXPECT_TRUE(users->users.Find("default")->permissions.AllowsEverything());  // never checked
  EXPECT_EQ(users->users.users().size(), 7u);
  const std::vector<Step> script = {
      // Seed data as the default user (full access).
      On(0, {"MSET", "app:1", "one", "other", "x", "tmp:1", "t", "a1", "v"}),
      On(0, {"HSET", "app:h", "f", "v"}),
      // reader: @read minus @dangerous, keys app:* only.
      On(1, {"AUTH", "reader", "rpw"}),
      On(1, {"GET", "app:1"}),
      On(1, {"GET", "other"}),
      On(1, {"MGET", "app:1", "other"}),
      On(1, {"MGET", "app:1", "app:2"}),
      On(1, {"SET", "app:1", "v"}),
      On(1, {"HGET", "app:h", "f"}),
      On(1, {"EXISTS", "app:1", "app:h"}),
      On(1, {"KEYS", "*"}),
      On(1, {"PING"}),
      On(1, {"CLIENT", "LIST"}),
      On(1, {"CONFIG", "GET", "maxclients"}),
      On(1, {"COMMAND", "COUNT"}),
      On(1, {"PUBLISH", "news.1", "x"}),
      On(1, {"HELLO", "2"}),
      // writer: everything but DEL, @hash and CLIENT; keys app:* and tmp:?; news.* channels.
      On(2, {"AUTH", "writer", "wpw"}),
      On(2, {"SET", "app:2", "two"}),
      On(2, {"SET", "tmp:2", "two"}),
      On(2, {"SET", "tmp:22", "two"}),
      On(2, {"MSET", "app:3", "a", "tmp:3", "b"}),
      On(2, {"MSET", "app:3", "a", "nope", "b"}),
      On(2, {"DEL", "app:2"}),
      On(2, {"UNLINK", "app:2"}),
      On(2, {"HGET", "app:h", "f"}),
      On(2, {"CLIENT", "ID"}),
      On(2, {"client", "setname", "x"}),
      On(2, {"PUBLISH", "news.sport", "goal"}),
      On(2, {"PUBLISH", "weather", "rain"}),
      On(2, {"SUBSCRIBE", "news.a", "weather"}),
      On(2, {"PSUBSCRIBE", "news.?"}),
      On(2, {"PSUBSCRIBE", "news.*"}, 1),
      On(2, {"PUNSUBSCRIBE"}),
      On(2, {"SUBSCRIBE", "news.a"}),
      On(2, {"UNSUBSCRIBE"}),
      On(2, {"MULTI"}),
      On(2, {"SET", "app:4", "x"}),
      On(2, {"DEL", "app:4"}),
      On(2, {"EXEC"}),
      On(2, {"EXISTS", "app:4"}),
      On(2, {"MULTI"}),
      On(2, {"GET", "secret"}),
      On(2, {"EXEC"}),
      // none: no rules, no permissions; AUTH, HELLO, RESET and QUIT still run.
      On(3, {"AUTH", "none", "npw"}),
      On(3, {"PING"}),
      On(3, {"GET", "app:1"}),
      On(3, {"ECHO", "x"}),
      On(3, {"HELLO", "3", "AUTH", "none", "npw"}),
      On(3, {"SELECT", "0"}),
      On(3, {"RESET"}),
      On(3, {"GET", "app:1"}),
      // keys: -@write then +set; keys a* and b<digit> after resetkeys; all channels.
      On(4, {"AUTH", "keys", "kpw"}),
      On(4, {"SET", "a9", "1"}),
      On(4, {"SET", "b1", "1"}),
      On(4, {"SET", "bx", "1"}),
      On(4, {"INCR", "a9"}),
      On(4, {"GET", "a1"}),
      On(4, {"GET", "zzz"}),
      On(4, {"PUBLISH", "anything", "x"}),
      // later: reset in the middle of the line starts over.
      On(5, {"AUTH", "later", "x"}),
      On(5, {"AUTH", "later", "lpw"}),
      On(5, {"GET", "app:1"}),
      On(5, {"EXISTS", "other"}),
      On(5, {"TYPE", "other"}),
      On(5, {"TTL", "other"}),
      On(5, {"SET", "k", "v"}),
      // mixed: +@all -@read +get; one literal channel.
      On(6, {"AUTH", "mixed", "mpw"}),
      On(6, {"GET", "app:1"}),
      On(6, {"STRLEN", "app:1"}),
      On(6, {"SET", "z", "1"}),
      On(6, {"PUBLISH", "chan", "x"}),
      On(6, {"PUBLISH", "chan2", "x"}),
      On(6, {"PSUBSCRIBE", "chan"}),
      On(6, {"PUNSUBSCRIBE"}),
      // Back to the default user: everything again.
      On(6, {"AUTH", "default", "anything"}),
      On(6, {"STRLEN", "app:1"}),
  };
  Compare(script, "", {}, acl_text);
}

TEST(AclFileTest, RefusesWhatEkvCannotEnforce) {
  EXPECT_FALSE(ParseAclFile("user alice on >pw %R~app:* +@all\n").ok());  // read-only keys
  EXPECT_FALSE(ParseAclFile("user alice on >pw +select|0\n").ok());       // first-argument rules
  EXPECT_FALSE(ParseAclFile("user alice on >pw +client|nosuch\n").ok());
  EXPECT_FALSE(ParseAclFile("user alice on >pw +nosuchcommand\n").ok());
  EXPECT_FALSE(ParseAclFile("user alice on >pw +@nosuchcategory\n").ok());
  EXPECT_FALSE(ParseAclFile("user alice on >pw ~* ~app:*\n").ok());  // as Redis refuses it
  EXPECT_FALSE(ParseAclFile("user alice on >pw &* &news\n").ok());
  EXPECT_FALSE(ParseAclFile("user alice on >pw (~x +get)\n").ok());  // selectors
  EXPECT_FALSE(ParseAclFile("user a on >x\nuser a on >y\n").ok());
  EXPECT_FALSE(ParseAclFile("alice on >pw\n").ok());
  absl::StatusOr<AclFile> secret_in_error = ParseAclFile("user alice on >pw s3cret\n");
  ASSERT_FALSE(secret_in_error.ok());
  EXPECT_EQ(secret_in_error.status().message().find("s3cret"), std::string::npos)
      << secret_in_error.status();
  // Subcommand rules, users without a password (nobody can log in as them) and a default
  // user with several passwords are Redis's too.
  absl::StatusOr<AclFile> file = ParseAclFile(
      "# comment\n\nuser alice on >a >b allkeys allcommands -client|kill\nuser bob off >c\n"
      "user carol on\nuser default on >d1 >d2 ~* +@all\n");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(file->defines_default);
  EXPECT_EQ(file->users.users().size(), 4u);
  const AclUser* alice = file->users.Find("alice");
  ASSERT_NE(alice, nullptr);
  EXPECT_TRUE(alice->Accepts("a"));
  EXPECT_TRUE(alice->Accepts("b"));
  EXPECT_FALSE(alice->Accepts("c"));
  EXPECT_TRUE(alice->permissions.AllowsCommand("client|id"));
  EXPECT_FALSE(alice->permissions.AllowsCommand("client|kill"));
  // No channel rule: alice's PUBLISH and SUBSCRIBE are checked (and refused), as in Redis 7.
  EXPECT_FALSE(alice->permissions.AllowsEverything());
  EXPECT_FALSE(file->users.Find("bob")->Accepts("c"));   // off
  EXPECT_FALSE(file->users.Find("carol")->Accepts(""));  // no password
  EXPECT_TRUE(file->users.Find("default")->Accepts("d2"));
  EXPECT_FALSE(file->users.DefaultIsOpen());
  // Only hashes are kept: no line ACL LIST or SAVE prints holds a password.
  EXPECT_EQ(file->users.FileText().find(">a"), std::string::npos) << file->users.FileText();
  EXPECT_EQ(file->users.Find("alice")->Describe(), "user alice on #" + AclPasswordHash("a") + " #" +
                                                       AclPasswordHash("b") +
                                                       " ~* resetchannels +@all -client|kill");
}

// MULTI/EXEC/DISCARD/WATCH/UNWATCH: QUEUED, EXECABORT after a command refused while
// queuing, errors inside EXEC's array, WATCH aborting with a null array after a write
// from another connection, in RESP2 and RESP3.
// EVAL and friends (commands/scripting.cc, adapters/redis/lua): every Lua type returned, the
// reply conversions both ways, script and redis.call errors with their "script: <sha>, on
// @user_script:N." suffix, pcall, error_reply, EVALSHA/NOSCRIPT and SCRIPT.
TEST_F(DifferentialTest, Scripting) {
  const std::string loaded = "return 'loaded'";
  const std::string sha = "a0c38691e46e8d1d1d1f1e6e0e3e3f1e2c2b8a0a";  // unknown to both
  Compare({
      Cmd({"eval", "return 1", "0"}),
      Cmd({"eval", "return 'x'", "0"}),
      Cmd({"eval", "return {1,2,nil,3}", "0"}),
      Cmd({"eval", "return {1, 2.5, -3.7}", "0"}),
      Cmd({"eval", "return 3.9", "0"}),
      Cmd({"eval", "return 1e20", "0"}),
      Cmd({"eval", "return true", "0"}),
      Cmd({"eval", "return false", "0"}),
      Cmd({"eval", "return nil", "0"}),
      Cmd({"eval", "return {ok='fine'}", "0"}),
      Cmd({"eval", "return {err='bad thing'}", "0"}),
      Cmd({"eval", "return {err='-x y'}", "0"}),
      Cmd({"eval", "return redis.error_reply('My err')", "0"}),
      Cmd({"eval", "return redis.error_reply('x')", "0"}),
      Cmd({"eval", "return redis.status_reply('S')", "0"}),
      Cmd({"eval", "return {1,'a',{2,{3}},true,false}", "0"}),
      Cmd({"eval", "return KEYS", "2", "a", "b", "c"}),
      Cmd({"eval", "return ARGV", "1", "a", "b", "c"}),
      Cmd({"eval", "return redis.sha1hex('abc')", "0"}),
      Cmd({"eval", "math.randomseed(0) return {tostring(math.random()), math.random(100)}", "0"}),
      // errors raised by the script and by redis.call
      Cmd({"eval", "error('boom')", "0"}),
      Cmd({"eval", "error({err='tabled'})", "0"}),
      Cmd({"eval", "error()", "0"}),
      Cmd({"eval", "return foo", "0"}),
      Cmd({"eval", "foo = 1", "0"}),
      Cmd({"eval", "string.x = 1 return 1", "0"}),
      Cmd({"eval", "return os", "0"}),
      Cmd({"eval", "return redis.call('nosuch')", "0"}),
      Cmd({"eval", "return redis.call('get')", "0"}),
      Cmd({"eval", "return redis.call()", "0"}),
      Cmd({"eval", "return redis.call('get', {})", "0"}),
      Cmd({"eval", "return redis.call('multi')", "0"}),
      Cmd({"eval", "return redis.call('eval', 'return 1', '0')", "0"}),
      Cmd({"eval", "return (", "0"}),
      Cmd({"set", "s", "abc"}),
      Cmd({"eval", "return redis.call('incr', KEYS[1])", "1", "s"}),
      Cmd({"eval", "local x = 1\nreturn redis.call('incr', KEYS[1])", "1", "s"}),
      Cmd({"eval", "return redis.pcall('incr', KEYS[1])", "1", "s"}),
      Cmd({"eval", "local r = redis.pcall('incr', KEYS[1]) return r['err']", "1", "s"}),
      Cmd({"eval", "return redis.pcall('nosuch')", "0"}),
      Cmd({"eval", "return redis.call('lpush', KEYS[1], 'x')", "1", "s"}),
      // data through redis.call, each reply type converted into Lua and back
      Cmd({"eval", "return redis.call('set', KEYS[1], ARGV[1])", "1", "k", "v"}),
      Cmd({"eval", "return redis.call('get', KEYS[1])", "1", "k"}),
      Cmd({"eval", "return redis.call('get', KEYS[1])", "1", "nokey"}),
      Cmd({"eval", "return type(redis.call('get', KEYS[1]))", "1", "nokey"}),
      Cmd({"eval", "return redis.call('ping')", "0"}),
      Cmd({"eval", "return redis.call('set', KEYS[1], 0.1)", "1", "f"}),
      Cmd({"get", "f"}),
      Cmd({"eval",
           "redis.call('rpush', KEYS[1], 'a', 'b') return redis.call('lrange', KEYS[1], 0, -1)",
           "1", "l"}),
      Cmd({"eval", "redis.call('hset', KEYS[1], 'f', 'v') return redis.call('hgetall', KEYS[1])",
           "1", "h"}),
      Cmd({"eval",
           "redis.call('zadd', KEYS[1], 1.5, 'm') return redis.call('zscore', KEYS[1], 'm')", "1",
           "z"}),
      Cmd({"eval", "return redis.call('incrbyfloat', KEYS[1], 1.5)", "1", "n"}),
      Cmd({"eval", "return redis.call('lpop', KEYS[1], 5)", "1", "nolist"}),
      // a script that fails after writing keeps its writes
      Cmd({"eval", "redis.call('set', KEYS[1], 'x') error('after')", "1", "w"}),
      Cmd({"get", "w"}),
      // numkeys and arity
      Cmd({"eval", "return 1", "-1"}),
      Cmd({"eval", "return 1", "2", "a"}),
      Cmd({"eval", "return 1", "x"}),
      Cmd({"eval", "return 1"}),
      Cmd({"evalsha", sha, "x"}),
      // read-only scripts
      Cmd({"eval_ro", "return redis.call('set', 'a', 'b')", "0"}),
      Cmd({"eval_ro", "return redis.call('get', KEYS[1])", "1", "k"}),
      // the cache
      Cmd({"evalsha", sha, "0"}),
      Cmd({"evalsha", "abc", "0"}),
      Cmd({"script", "load", loaded}),
      Cmd({"evalsha", "b534286061d4b9e4026607613b95c06c06015ae8", "0"}),
      Cmd({"evalsha", "B534286061D4B9E4026607613B95C06C06015AE8", "0"}),
      Cmd({"script", "load", "return ("}),
      Cmd({"script", "exists", "b534286061d4b9e4026607613b95c06c06015ae8", sha}),
      Cmd({"script", "flush"}),
      Cmd({"script", "exists", "b534286061d4b9e4026607613b95c06c06015ae8"}),
      Cmd({"evalsha", "b534286061d4b9e4026607613b95c06c06015ae8", "0"}),
      Cmd({"eval", "return 'cached by eval'", "0"}),
      Cmd({"script", "exists", "14a0ec5969ac10dc856a79479466fd953463f052"}),
      Cmd({"script", "flush", "async"}),
      Cmd({"script", "flush", "sync"}),
      Cmd({"script", "flush", "x"}),
      Cmd({"script", "load"}),
      Cmd({"script", "exists"}),
      Cmd({"script", "kill"}),
      Cmd({"script", "foo"}),
      Cmd({"script"}),
      // RESP3: nil and false are nulls, the rest as in RESP2
      Cmd({"hello", "3"}),
      Cmd({"eval", "return {1, false, {ok='s'}, 'b'}", "0"}),
      Cmd({"eval", "return nil", "0"}),
      Cmd({"eval", "return redis.call('hgetall', KEYS[1])", "1", "h"}),
  });
}

// Precompiled Lua bytecode is never loaded (Redis 7.0 compiles every chunk as text, so the
// ESC that starts bytecode is a lexer error), neither as the script body nor through
// loadstring or load; what reaches files or swaps environments is absent, string.dump stays.
TEST_F(DifferentialTest, ScriptsCannotLoadBytecodeOrReachFiles) {
  const std::string dumped = "local s = string.dump(function() return 1 end) ";
  std::vector<Step> steps = {
      Cmd({"eval", "\x1bLuaQ", "0"}),
      Cmd({"eval", "\x1b", "0"}),
      Cmd({"eval", std::string("\x1bLuaQ\x00\x01\x04\x08", 9), "0"}),
      Cmd({"script", "load", "\x1bLuaQ"}),
      Cmd({"eval", "return loadstring(string.dump(function() return 1 end))()", "0"}),
      Cmd({"eval", dumped + "local f, e = loadstring(s) return {tostring(f), e}", "0"}),
      Cmd({"eval", dumped + "local f, e = loadstring(s, 'bc') return {tostring(f), e}", "0"}),
      Cmd({"eval", dumped + "return {pcall(loadstring, s)}", "0"}),
      Cmd({"eval",
           dumped + "local i = 0 local f, e = load(function() i = i + 1 if i == 1 then return s "
                    "end end) return {tostring(f), e}",
           "0"}),
      Cmd({"eval",
           dumped + "local i = 0 local f, e = load(function() i = i + 1 if i == 1 then return "
                    "s:sub(1, 1) elseif i == 2 then return s:sub(2) end end) return {tostring(f), "
                    "e}",
           "0"}),
      Cmd({"eval", "local f, e = loadstring('\\27Lua') return {tostring(f), e}", "0"}),
      Cmd({"eval", "local f, e = loadstring(' \\27Lua', 'sp') return {tostring(f), e}", "0"}),
      // source text still loads; load's and loadstring's errors as Lua 5.1 reports them
      Cmd({"eval", "return loadstring('return 7')()", "0"}),
      Cmd({"eval",
           "local p = {'return ', '8'} local i = 0 "
           "return load(function() i = i + 1 return p[i] end)()",
           "0"}),
      Cmd({"eval", "local f, e = loadstring('return (', 'x') return {tostring(f), e}", "0"}),
      Cmd({"eval", "local f, e = load(function() return {} end) return e", "0"}),
      Cmd({"eval", "return {pcall(load, 'x')}", "0"}),
      Cmd({"eval", "return {pcall(loadstring)}", "0"}),
      Cmd({"eval", "return type(string.dump)", "0"}),
      Cmd({"eval", "return string.sub(string.dump(function() return 1 end), 2, 4)", "0"}),
      Cmd({"eval", "return {pcall(string.dump, type)}", "0"}),
      Cmd({"eval", "return {type(load), type(loadstring), type(collectgarbage)}", "0"}),
  };
  for (const char* gone : {"setfenv", "getfenv", "newproxy", "dofile", "loadfile", "require",
                           "module", "package", "os", "io", "debug", "print"}) {
    steps.push_back(Cmd({"eval", std::string("return type(") + gone + ")", "0"}));
    steps.push_back(Cmd({"eval", std::string("return type(_G.") + gone + ")", "0"}));
  }
  Compare(steps);
}

// Lua helpers for the cmsgpack and struct comparisons: `show(...)` answers every value it
// gets as text (numbers with all 17 digits, strings quoted, tables with sorted keys), so a
// reply compares what the script saw, not Redis's number-to-integer conversion.
const char* const kShowValues = R"(
local function dump(v)
  if type(v) == 'number' then return string.format('%.17g', v) end
  if type(v) == 'string' then return string.format('%q', v) end
  if type(v) ~= 'table' then return tostring(v) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return dump(a) < dump(b) end)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = '[' .. dump(k) .. ']=' .. dump(v[k]) end
  return '{' .. table.concat(parts, ',') .. '}'
end
local function show(...)
  local out = {}
  for i = 1, select('#', ...) do out[#out + 1] = dump((select(i, ...))) end
  return out
end
)";

Step Lua(const std::string& body) { return Cmd({"eval", kShowValues + body, "0"}); }

// cmsgpack as Redis 7.0 embeds it: the bytes pack chooses (integer widths, float32 or
// float64, str sizes, arrays or maps, the nesting limit), what unpack makes of every format
// and of cut or foreign input, the offsets of unpack_one/unpack_limit, and the errors.
TEST_F(DifferentialTest, ScriptCmsgpack) {
  std::vector<Step> script;
  // Numbers: every integer width at its edges, then the floating ones.
  for (const char* number : {"0",
                             "1",
                             "127",
                             "128",
                             "255",
                             "256",
                             "65535",
                             "65536",
                             "4294967295",
                             "4294967296",
                             "2^53",
                             "2^63 - 2^11",
                             "2^63",
                             "2^64",
                             "-1",
                             "-32",
                             "-33",
                             "-128",
                             "-129",
                             "-32768",
                             "-32769",
                             "-2^31",
                             "-2^31 - 1",
                             "-2^53",
                             "-2^63",
                             "-2^63 - 2^11",
                             "-2^64",
                             "1.5",
                             "0.1",
                             "-0.0",
                             "-2.5",
                             "1/0",
                             "-1/0",
                             "0/0",
                             "1e300",
                             "3.4028234663852886e38",
                             "3.4028235677973366e38",
                             "2^-149",
                             "2^-150",
                             "1e-320",
                             "123456789.5"}) {
    script.push_back(Lua(absl::StrCat("return cmsgpack.pack(", number, ")")));
    script.push_back(
        Lua(absl::StrCat("return show(cmsgpack.unpack(cmsgpack.pack(", number, ")))")));
  }
  // Strings at every header's edge: fixstr to str32.
  for (const int length : {0, 1, 31, 32, 255, 256, 65535, 65536}) {
    script.push_back(Lua(absl::StrCat("local s = cmsgpack.pack(string.rep('a', ", length,
                                      ")) return {#s, s:sub(1, 6)}")));
    script.push_back(Lua(absl::StrCat("local s = string.rep('b', ", length,
                                      ") return cmsgpack.unpack(cmsgpack.pack(s)) == s")));
  }
  // Tables: arrays (keys exactly 1..n), maps (anything else), nesting and its limit.
  for (const char* table :
       {"{}",
        "{1, 2, 3}",
        "{1, nil, 3}",
        "{nil, 2}",
        "{a = 1}",
        "{1, 2, x = 3}",
        "{[0] = 1}",
        "{[1.5] = 1}",
        "{[-1] = 1}",
        "{[2^31] = 1}",
        "{[2^31 - 1] = 1}",
        "{[2] = 'b', [1] = 'a'}",
        "{true, false, 'x', 1.5, -7}",
        "{{}, {{}}, {a = {b = {}}}}",
        "{[true] = 1, [false] = 2}",
        "{['1'] = 1}",
        "{f = function() end}",
        "{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}",
        "{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}",
        "{a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9,j=10,k=11,l=12,m=13,n=14,o=15}",
        "{a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9,j=10,k=11,l=12,m=13,n=14,o=15,p=16}"}) {
    script.push_back(Lua(absl::StrCat("return cmsgpack.pack(", table, ")")));
    script.push_back(Lua(absl::StrCat("return show(cmsgpack.unpack(cmsgpack.pack(", table, ")))")));
  }
  script.push_back(
      Lua("local t = {} for i = 1, 70000 do t[i] = i % 3 end "
          "local s = cmsgpack.pack(t) return {#s, s:sub(1, 8)}"));
  script.push_back(
      Lua("local t = {} for i = 1, 70000 do t['k' .. i] = i end "
          "local s = cmsgpack.pack(t) return {#s, s:sub(1, 5), "
          "#show(cmsgpack.unpack(s))}"));
  for (const int depth : {15, 16, 17, 20}) {
    script.push_back(Lua(absl::StrCat("local t = 'leaf' for i = 1, ", depth,
                                      " do t = {t} end return cmsgpack.pack(t)")));
  }
  script.push_back(Lua("local t = {1} t[2] = t return cmsgpack.pack(t)"));
  script.push_back(Lua("local t = {} t.self = t return cmsgpack.pack(t)"));
  script.push_back(
      Lua("return cmsgpack.pack(setmetatable({1, 2}, {__index = function() "
          "return 'meta' end}))"));
  // Other types are nil; several arguments are one stream.
  script.push_back(Lua("return cmsgpack.pack(nil)"));
  script.push_back(Lua("return cmsgpack.pack(print, coroutine.create(function() end))"));
  script.push_back(Lua("return cmsgpack.pack(1, 'a', {}, nil, true)"));
  script.push_back(Lua("return show(cmsgpack.unpack(cmsgpack.pack(1, 'a', {2}, nil, true)))"));
  script.push_back(Lua("return cmsgpack.pack()"));
  // Every format unpack reads, including ones pack never writes.
  for (const char* bytes : {"",
                            "\\192",
                            "\\194\\195",
                            "\\204\\255",
                            "\\208\\128",
                            "\\205\\255\\255",
                            "\\209\\128\\0",
                            "\\206\\255\\255\\255\\255",
                            "\\210\\128\\0\\0\\0",
                            "\\207\\255\\255\\255\\255\\255\\255\\255\\255",
                            "\\207\\128\\0\\0\\0\\0\\0\\0\\0",
                            "\\211\\128\\0\\0\\0\\0\\0\\0\\0",
                            "\\211\\255\\255\\255\\255\\255\\255\\255\\254",
                            "\\202\\63\\192\\0\\0",
                            "\\202\\127\\192\\0\\0",
                            "\\203\\64\\9\\33\\251\\84\\68\\45\\24",
                            "\\217\\3abc",
                            "\\218\\0\\3abc",
                            "\\219\\0\\0\\0\\3abc",
                            "\\220\\0\\2\\1\\2",
                            "\\221\\0\\0\\0\\1\\7",
                            "\\222\\0\\1\\161k\\1",
                            "\\223\\0\\0\\0\\1\\1\\2",
                            "\\146\\1\\2",
                            "\\130\\1\\2\\3\\4",
                            "\\255\\224\\127",
                            "\\163abc",
                            "\\145\\192",
                            "\\147\\192\\192\\5",
                            "\\129\\161a\\192",
                            "123"}) {
    script.push_back(Lua(absl::StrCat("return show(cmsgpack.unpack('", bytes, "'))")));
  }
  // Cut input, foreign formats (bin, ext, fixext, 0xc1), keys Lua refuses.
  for (const char* bytes : {"\\204",
                            "\\205\\1",
                            "\\206\\1\\2\\3",
                            "\\207\\1",
                            "\\211",
                            "\\202\\0\\0",
                            "\\203\\0",
                            "\\217",
                            "\\217\\5ab",
                            "\\218\\0",
                            "\\218\\0\\9ab",
                            "\\219\\0\\0\\0",
                            "\\219\\0\\0\\1\\0abc",
                            "\\220\\0",
                            "\\220\\0\\3\\1",
                            "\\221\\0\\0\\0\\2\\1",
                            "\\222\\0\\1\\1",
                            "\\223\\0\\0\\0\\1",
                            "\\146\\1",
                            "\\129\\1",
                            "\\165ab",
                            "\\1\\2\\204",
                            "\\193",
                            "\\196\\1a",
                            "\\197\\0\\1a",
                            "\\198\\0\\0\\0\\1a",
                            "\\199\\1\\1a",
                            "\\212\\1\\1",
                            "\\216\\1",
                            "\\1\\196\\1a",
                            "\\145\\193",
                            "\\129\\192\\1",
                            "\\129\\203\\255\\248\\0\\0\\0\\0\\0\\0\\1"}) {
    script.push_back(Lua(absl::StrCat("return show(cmsgpack.unpack('", bytes, "'))")));
  }
  // Offsets: unpack_one and unpack_limit return the next one first (-1 at the end).
  const std::string stream = "local s = cmsgpack.pack(1, 'two', {3}, {x = 4}, nil, 6.5) ";
  for (const char* call : {"cmsgpack.unpack_one(s)",
                           "cmsgpack.unpack_one(s, 0)",
                           "cmsgpack.unpack_one(s, 1)",
                           "cmsgpack.unpack_one(s, 5)",
                           "cmsgpack.unpack_one(s, #s - 5)",
                           "cmsgpack.unpack_one(s, #s)",
                           "cmsgpack.unpack_one(s, #s + 1)",
                           "cmsgpack.unpack_one(s, -1)",
                           "cmsgpack.unpack_one(s, 2)",
                           "cmsgpack.unpack_one(s, 1.9)",
                           "cmsgpack.unpack_one(s, '3')",
                           "cmsgpack.unpack_one(s, 'x')",
                           "cmsgpack.unpack_one()",
                           "cmsgpack.unpack_one('')",
                           "cmsgpack.unpack_limit(s, 2)",
                           "cmsgpack.unpack_limit(s, 2, 1)",
                           "cmsgpack.unpack_limit(s, 100)",
                           "cmsgpack.unpack_limit(s, 100, 5)",
                           "cmsgpack.unpack_limit(s, 0)",
                           "cmsgpack.unpack_limit(s, 0, 0)",
                           "cmsgpack.unpack_limit(s, 0, 1)",
                           "cmsgpack.unpack_limit(s, 0, #s)",
                           "cmsgpack.unpack_limit(s, -1)",
                           "cmsgpack.unpack_limit(s, -3, 2)",
                           "cmsgpack.unpack_limit(s, 1, -2)",
                           "cmsgpack.unpack_limit(s, 1, #s + 7)",
                           "cmsgpack.unpack_limit(s)",
                           "cmsgpack.unpack_limit(s, 'x')",
                           "cmsgpack.unpack(s, 99)",
                           "cmsgpack.unpack()",
                           "cmsgpack.unpack({})",
                           "cmsgpack.unpack(s:sub(1, -2))"}) {
    script.push_back(Lua(absl::StrCat(stream, "return show(", call, ")")));
  }
  script.push_back(
      Lua("local s, o, n = cmsgpack.pack(1, 2, 3), 0, 0 "
          "while o ~= -1 do o = cmsgpack.unpack_one(s, o) n = n + 1 end "
          "return n"));
  // Too many values at once, and nesting deeper than the Lua stack.
  script.push_back(Lua("return #{cmsgpack.unpack(string.rep('\\1', 7000))}"));
  script.push_back(Lua("return #{cmsgpack.unpack(string.rep('\\1', 9000))}"));
  script.push_back(Lua("return show(cmsgpack.unpack(string.rep('\\145', 5000) .. '\\1'))"));
  script.push_back(Lua("return show(cmsgpack.unpack(string.rep('\\129\\1', 5000) .. '\\1'))"));
  script.push_back(
      Lua("return #{cmsgpack.pack(unpack((function() local t = {} for i = 1, "
          "5000 do t[i] = i end return t end)()))}"));
  // The module table: read-only, with Redis's metadata, and no cmsgpack_safe.
  script.push_back(
      Lua("return {cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, "
          "cmsgpack._DESCRIPTION}"));
  script.push_back(Lua("cmsgpack.pack = nil return 1"));
  script.push_back(Lua("cmsgpack.extra = 1 return 1"));
  script.push_back(Lua("return type(cmsgpack_safe)"));
  Compare(script);
}

// struct as Redis 7.0 embeds it: every option with both byte orders and alignments, sizes
// past 8 bytes, numbers out of an integer's range, unpack's positions, and the errors.
TEST_F(DifferentialTest, ScriptStruct) {
  std::vector<Step> script;
  for (const char* pack : {"'b', -1",
                           "'B', 255",
                           "'B', 256",
                           "'b', 200",
                           "'h', -2",
                           "'>h', -2",
                           "'<H', 513",
                           "'>H', 513",
                           "'l', -3",
                           "'>l', -3",
                           "'L', 2^40 + 5",
                           "'>L', 2^40 + 5",
                           "'T', 7",
                           "'i', -5",
                           "'>i', 16909060",
                           "'<i', 16909060",
                           "'I', 4294967295",
                           "'i3', -2",
                           "'>i3', 65536",
                           "'I1', 300",
                           "'i0', 5",
                           "'>I16', 1",
                           "'<i16', -1",
                           "'>i32', -2",
                           "'<I9', 2^63",
                           "'i8', 2.9",
                           "'i8', -2.9",
                           "'>L', 2^63",
                           "'>L', 2^64",
                           "'>L', 2^64 * 4",
                           "'>L', 1/0",
                           "'>L', -1/0",
                           "'>L', 0/0",
                           "'>l', -2^63",
                           "'>l', -2^70",
                           "'>L', -1",
                           "'B', '12'",
                           "'f', 1.5",
                           "'>f', 1.5",
                           "'f', 0.1",
                           "'f', 1e39",
                           "'f', -1e39",
                           "'f', 3.4028235e38",
                           "'f', 3.40282356e38",
                           "'f', 0/0",
                           "'d', 0.1",
                           "'>d', -2.5",
                           "'d', 1/0",
                           "'x'",
                           "'xxb', 1",
                           "'bxh', 1, 2",
                           "'!bh', 1, 2",
                           "'!4 b d', 1, 2",
                           "'!8 b d', 1, 2",
                           "'!2 b i', 1, 2",
                           "'!8 b i3', 1, 2",
                           "'! b l b T', 1, 2, 3, 4",
                           "'!1 b d', 1, 2",
                           "'<>b', 1",
                           "'> h < h', 1, 1",
                           "'c3', 'abc'",
                           "'c3', 'abcdef'",
                           "'c0', 'hello'",
                           "'c0', ''",
                           "'s', 'a'",
                           "'s', 'a\\0b'",
                           "'bc2s', 1, 'xy', 'z'",
                           "'c', 'q'",
                           "'!4 b c3 i', 1, 'abc', 2",
                           "''",
                           "'   '",
                           "'i'",
                           "'i', 1, 2",
                           "'c300', string.rep('z', 300)"}) {
    script.push_back(Lua(absl::StrCat("return struct.pack(", pack, ")")));
  }
  for (const char* bad : {"'c5', 'ab'", "'s', nil", "'i'", "'ii', 1", "'bb', 1", "'d'", "'f', 'x'",
                          "'z', 1", "'i33', 1", "'i99999999999', 1", "'!3 b', 1", "'!0 b', 1",
                          "'c', 1", "'\\200', 1", "nil", "'b', {}", "'bc3', 1, 'ab'"}) {
    script.push_back(Lua(absl::StrCat("return struct.pack(", bad, ")")));
  }
  // A pack larger than the luaL_Buffer (the arguments it would read past sit below it).
  script.push_back(
      Lua("local s = struct.pack('c9000 b', string.rep('q', 9000), 7) "
          "return {#s, s:sub(-2)}"));
  script.push_back(Lua("return struct.pack('c9000 b c0', string.rep('q', 9000), 7)"));
  for (const char* unpack : {"'b', '\\255'",
                             "'B', '\\255'",
                             "'h', '\\1\\2'",
                             "'>h', '\\255\\254'",
                             "'<H', '\\1\\2'",
                             "'l', '\\255\\255\\255\\255\\255\\255\\255\\255'",
                             "'>L', '\\255\\255\\255\\255\\255"
                             "\\255\\255\\255'",
                             "'T', '\\1\\0\\0\\0\\0\\0\\0\\0'",
                             "'i', '\\1\\2\\3\\4'",
                             "'>i', '\\128\\0\\0\\0'",
                             "'I', '\\128\\0\\0\\0'",
                             "'i3', '\\255\\255\\255'",
                             "'>I3', '\\1\\2\\3'",
                             "'<i9', string.rep('\\255', 9)",
                             "'<i9', '\\128' .. "
                             "string.rep('\\0', 8)",
                             "'<i10', '\\0\\0\\0\\0\\0\\0\\0\\128\\0\\0'",
                             "'>i9', '\\1' .. string.rep('\\0', 8)",
                             "'>I16', string.rep('\\1', 16)",
                             "'<i32', string.rep('\\128', 32)",
                             "'i0', ''",
                             "'f', struct.pack('f', 1.5)",
                             "'>f', '\\127\\192\\0\\0'",
                             "'d', struct.pack('d', 0.1)",
                             "'>d', struct.pack('>d', -3)",
                             "'c3', 'abcd'",
                             "'c0', 'abc'",
                             "'b c0', '\\3abcd'",
                             "'B c0', '\\0'",
                             "'c1 c0', '3abc'",
                             "'c1 c0', 'xabc'",
                             "'b c0', '\\255abc'",
                             "'s', 'ab\\0cd'",
                             "'s s', 'a\\0b\\0'",
                             "'s', 'ab'",
                             "'x b', '\\1\\2'",
                             "'!4 b i', '\\1\\0\\0\\0\\2\\0"
                             "\\0\\0'",
                             "'!8 b d', struct.pack('!8 b d', 1, 2)",
                             "'b', 'ab', 2",
                             "'b', 'ab', 3",
                             "'', 'ab', 3",
                             "'', 'ab', 7",
                             "'', 'ab', -5",
                             "'b', 'ab', -1",
                             "'b', 'ab', 0",
                             "'b', 'ab', 1.7",
                             "'<>b', '\\1'",
                             "'z', 'a'",
                             "'i33', ''",
                             "'b', ''",
                             "'i', 'abc'",
                             "'!3 b', 'a'",
                             "'\\200', 'a'",
                             "nil, 'a'",
                             "'b'",
                             "'b', 'a', 'x'"}) {
    script.push_back(Lua(absl::StrCat("return show(struct.unpack(", unpack, "))")));
  }
  for (const char* size : {"''",      "'b'",  "'i'",  "'i7'",    "'!8 b d'", "'!4 b d'", "'! b T'",
                           "'bxhxl'", "'c5'", "'c0'", "'s'",     "'z'",      "'5'",      "'?'",
                           "'i40'",   "'!6'", "'<>'", "'  b  '", "nil",      "'b\\0i'"}) {
    script.push_back(Lua(absl::StrCat("return struct.size(", size, ")")));
  }
  script.push_back(Lua("struct.pack = nil return 1"));
  script.push_back(Lua("struct.extra = 1 return 1"));
  Compare(script);
}

// EVAL and EVALSHA queued in MULTI run at EXEC with the other commands, their errors in
// their slots as Redis 7.0 puts them there (numkeys, NOSCRIPT, compile and runtime errors).
TEST_F(DifferentialTest, ScriptsInTransactions) {
  const std::string later = "return 'later'";
  const std::string later_sha = ScriptSha1Hex(later);
  const std::string loaded = "return {'loaded', ARGV[1]}";
  const std::string loaded_sha = ScriptSha1Hex(loaded);
  std::string loaded_sha_upper = loaded_sha;
  for (char& c : loaded_sha_upper) c = static_cast<char>(toupper(c));
  Compare({
      Cmd({"SCRIPT", "FLUSH"}),  // ekv's cache is the process's: empty it for each run
      Cmd({"MULTI"}),
      Cmd({"SET", "k", "1"}),
      Cmd({"EVAL", "return redis.call('incr', KEYS[1])", "1", "k"}),
      Cmd({"eval", "redis.call('rpush', KEYS[2], ARGV[1]) return redis.call('get', KEYS[1])", "2",
           "k", "l", "v"}),
      Cmd({"LRANGE", "l", "0", "-1"}),
      Cmd({"EXEC"}),
      // Errors at EXEC, each in its slot; the other commands run.
      Cmd({"MULTI"}),
      Cmd({"EVAL", "error('boom')", "0"}),
      Cmd({"EVAL", "return (", "0"}),
      Cmd({"EVAL", "return 1", "x"}),
      Cmd({"EVAL", "return 1", "-1"}),
      Cmd({"EVAL", "return 1", "5", "a"}),
      Cmd({"EVALSHA", "abc", "x"}),
      Cmd({"EVALSHA", later_sha, "x"}),
      Cmd({"EVALSHA", later_sha, "0"}),
      Cmd({"EVAL", "return redis.call('multi')", "0"}),
      Cmd({"EVAL", "return redis.call('lpush', KEYS[1], 'x')", "1", "k"}),
      Cmd({"INCR", "k"}),
      Cmd({"EXEC"}),
      // An EVAL of the same EXEC caches its body for the EVALSHAs after it, not before.
      Cmd({"MULTI"}),
      Cmd({"EVALSHA", later_sha, "0"}),
      Cmd({"EVAL", later, "0"}),
      Cmd({"EVALSHA", later_sha, "0"}),
      Cmd({"EXEC"}),
      Cmd({"SCRIPT", "EXISTS", later_sha}),
      Cmd({"SCRIPT", "LOAD", loaded}),
      Cmd({"MULTI"}),
      Cmd({"EVALSHA", loaded_sha, "0", "a"}),
      Cmd({"EVALSHA", loaded_sha_upper, "1", "k", "b"}),
      Cmd({"EVALSHA_RO", loaded_sha, "0", "c"}),
      Cmd({"EVAL_RO", "return redis.call('set', KEYS[1], 'x')", "1", "k"}),
      Cmd({"EVAL_RO", "return redis.call('get', KEYS[1])", "1", "k"}),
      Cmd({"EXEC"}),
      // A script that fails after writing keeps its writes, also inside EXEC.
      Cmd({"MULTI"}),
      Cmd({"EVAL", "redis.call('set', KEYS[1], 'x') error('after')", "1", "w2"}),
      Cmd({"GET", "w2"}),
      Cmd({"EXEC"}),
      // Wrong arity while queuing: EXEC aborts and nothing runs.
      Cmd({"MULTI"}),
      Cmd({"EVAL", "return redis.call('set', 'never', 1)"}),
      Cmd({"EVAL", "return redis.call('set', KEYS[1], 1)", "1", "never"}),
      Cmd({"EXEC"}),
      Cmd({"EXISTS", "never"}),
      // WATCH: a changed key aborts EXEC before the script runs.
      Cmd({"WATCH", "w"}),
      On(1, {"SET", "w", "1"}),
      Cmd({"MULTI"}),
      Cmd({"EVAL", "return redis.call('incr', KEYS[1])", "1", "w"}),
      Cmd({"EXEC"}),
      Cmd({"GET", "w"}),
      Cmd({"WATCH", "w"}),
      Cmd({"MULTI"}),
      Cmd({"EVAL", "return redis.call('incr', KEYS[1])", "1", "w"}),
      Cmd({"EXEC"}),
      // RESP3 shapes inside EXEC's array.
      Cmd({"HELLO", "3"}),
      Cmd({"HSET", "h", "f", "v"}),
      Cmd({"MULTI"}),
      Cmd({"EVAL", "return {1, false, {ok='s'}, 'b'}", "0"}),
      Cmd({"EVAL", "return redis.call('hgetall', KEYS[1])", "1", "h"}),
      Cmd({"EVAL", "return nil", "0"}),
      Cmd({"EXEC"}),
  });
}

// SCRIPT LOAD, EXISTS, FLUSH and KILL queued in MULTI answer at EXEC in their slots, in
// command order with the scripts of the same EXEC (a LOAD before an EVALSHA serves it, a
// FLUSH empties the cache for what follows), as Redis 7.0 runs them; a bad subcommand or
// arity refuses the transaction while queuing; an EXEC aborted by WATCH changes no cache.
TEST_F(DifferentialTest, ScriptSubcommandsInTransactions) {
  const std::string one = "return 1";
  const std::string one_sha = ScriptSha1Hex(one);
  const std::string get = "return redis.call('get', KEYS[1])";
  const std::string get_sha = ScriptSha1Hex(get);
  const std::string three = "return 3";
  const std::string three_sha = ScriptSha1Hex(three);
  const std::string unknown_sha(40, 'f');
  Compare({
      Cmd({"SCRIPT", "FLUSH"}),  // ekv's cache is the process's: empty it for each run
      Cmd({"MULTI"}),
      Cmd({"SCRIPT", "LOAD", one}),
      Cmd({"SCRIPT", "EXISTS", one_sha, unknown_sha}),
      Cmd({"EVALSHA", one_sha, "0"}),
      Cmd({"SCRIPT", "FLUSH"}),
      Cmd({"SCRIPT", "EXISTS", one_sha}),
      Cmd({"EVALSHA", one_sha, "0"}),
      Cmd({"SCRIPT", "LOAD", "return +"}),
      Cmd({"SCRIPT", "KILL"}),
      Cmd({"SCRIPT", "FLUSH", "x"}),
      Cmd({"SCRIPT", "flush", "ASYNC"}),
      Cmd({"SET", "k", "v"}),
      Cmd({"script", "load", get}),
      Cmd({"EVALSHA", get_sha, "1", "k"}),
      Cmd({"EVAL", three, "0"}),
      Cmd({"SCRIPT", "EXISTS", three_sha, get_sha}),
      Cmd({"EXEC"}),
      Cmd({"SCRIPT", "EXISTS", one_sha, get_sha, three_sha}),
      // Refused while queuing: EXEC aborts and nothing runs.
      Cmd({"MULTI"}),
      Cmd({"SCRIPT", "FLUSH"}),
      Cmd({"SCRIPT", "bogus"}),
      Cmd({"SCRIPT", "EXISTS"}),
      Cmd({"SCRIPT", "LOAD"}),
      Cmd({"SCRIPT", "LOAD", one, "extra"}),
      Cmd({"SCRIPT", "KILL", "x"}),
      Cmd({"SCRIPT"}),
      Cmd({"EXEC"}),
      Cmd({"SCRIPT", "EXISTS", get_sha}),
      // A transaction of SCRIPT commands only, with and without a WATCH.
      Cmd({"MULTI"}),
      Cmd({"SCRIPT", "LOAD", one}),
      Cmd({"SCRIPT", "EXISTS", one_sha}),
      Cmd({"EXEC"}),
      Cmd({"WATCH", "w"}),
      Cmd({"MULTI"}),
      Cmd({"SCRIPT", "FLUSH", "SYNC"}),
      Cmd({"SCRIPT", "EXISTS", one_sha}),
      Cmd({"EXEC"}),
      Cmd({"SCRIPT", "EXISTS", one_sha}),
      // Aborted by WATCH: neither the LOAD nor the FLUSH ran.
      Cmd({"SCRIPT", "LOAD", one}),
      Cmd({"WATCH", "w"}),
      On(1, {"SET", "w", "1"}),
      Cmd({"MULTI"}),
      Cmd({"SCRIPT", "LOAD", three}),
      Cmd({"SCRIPT", "FLUSH"}),
      Cmd({"EXEC"}),
      Cmd({"SCRIPT", "EXISTS", one_sha, three_sha}),
      // RESP3 shapes.
      Cmd({"HELLO", "3"}),
      Cmd({"MULTI"}),
      Cmd({"SCRIPT", "EXISTS", one_sha, three_sha}),
      Cmd({"SCRIPT", "LOAD", three}),
      Cmd({"GET", "k"}),
      Cmd({"SCRIPT", "KILL"}),
      Cmd({"EXEC"}),
  });
}

// MONITOR: the lines a monitor gets, byte for byte but the time and the client's address
// (masked): which commands are shown (not refused ones, not administrative ones, EXEC's
// queued commands only when they ran), AUTH/HELLO credentials redacted, arguments quoted
// as sdscatrepr quotes them, the monitor's own PING shown after its +PONG, RESET ending it.
// Not compared: the commands a script calls (ekv runs them in the key's group, where no
// monitor is; Redis shows them as "[0 lua]").
TEST_F(DifferentialTest, Monitor) {
  const ReplyMask mask = [](std::string reply) {
    static const std::regex kStamp("^\\+[0-9]+\\.[0-9]{6} \\[0 [^\\]]*\\] ");
    return std::regex_replace(reply, kStamp, "+<time> [0 <client>] ");
  };
  const std::string odd_value = std::string("line\nbreak\ttab\x01\xff\a\b\r", 17);
  Compare(
      {
          On(1, {"MONITOR"}),
          Cmd({"SET", "foo", "bar"}),
          Cmd({"GET", "foo"}),
          Read(1, 2),
          Cmd({"SET", "q\"uo\\te", odd_value}),
          Read(1),
          Cmd({"GET"}),
          Cmd({"NOSUCH", "x"}),
          Cmd({"CONFIG", "GET", "maxmemory"}),
          Cmd({"CLIENT", "KILL", "ID", "999999"}),
          Cmd({"LPUSH", "foo", "x"}),
          Read(1),
          Cmd({"AUTH", "not-real"}),
          Cmd({"AUTH", "someone", "not-a-password"}),
          Cmd({"HELLO", "2", "AUTH", "someone", "not-a-password"}),
          Cmd({"HELLO", "2", "SETNAME", "visible"}),
          Read(1, 4),
          Cmd({"MULTI"}),
          Cmd({"SET", "k", "v"}),
          Cmd({"INCR", "n"}),
          Cmd({"EXEC"}),
          Read(1, 4),
          Cmd({"MULTI"}),
          Cmd({"NOSUCH"}),
          Cmd({"EXEC"}),
          Read(1, 2),
          Cmd({"WATCH", "w"}),
          On(2, {"SET", "w", "1"}),
          Cmd({"MULTI"}),
          Cmd({"SET", "w", "2"}),
          Cmd({"EXEC"}),
          Read(1, 4),
          Step{0,
               EncodeCommand({"SET", "a", "1"}) + EncodeCommand({"SET", "b", "2"}) +
                   EncodeCommand({"MGET", "a", "b"}),
               3, false},
          Read(1, 3),
          Cmd({"EVAL", "return 1", "0"}),
          Read(1),
          On(1, {"PING"}, 2),
          On(1, {"GET", "foo"}),
          On(1, {"SET", "foo", "1"}),
          On(1, {"RESET"}),
          Cmd({"SET", "after", "reset"}),
          On(1, {"PING"}),
      },
      "", {}, "", false, mask);
}

// A MULTI of thousands of commands (Redis has no limit; its own suite queues 10,000 XADDs
// in one): every one QUEUED, EXEC's array holds every reply.
TEST_F(DifferentialTest, ATransactionOfThousandsOfCommands) {
  std::string queue;
  for (int i = 0; i < 3000; ++i) {
    queue += EncodeCommand({"INCR", "counter"});
    queue += EncodeCommand({"RPUSH", "list", std::to_string(i)});
  }
  Compare({
      Cmd({"MULTI"}),
      Step{0, queue, 6000, false},
      Cmd({"EXEC"}),
      Cmd({"GET", "counter"}),
      Cmd({"LLEN", "list"}),
      Cmd({"LRANGE", "list", "2995", "-1"}),
  });
}

// PFADD, PFCOUNT, PFMERGE: replies and the HLL's bytes (GET), sparse opcodes through the
// promotion to dense, the cached cardinality in the header, merges, the estimate of unions,
// errors for other types and corrupted HLLs, and TTLs kept by every write.
TEST_F(DifferentialTest, HyperLogLog) {
  std::vector<Step> script = {
      Cmd({"PFADD", "h"}),
      Cmd({"GET", "h"}),
      Cmd({"PFCOUNT", "h"}),
      Cmd({"GET", "h"}),
      Cmd({"PFADD", "h", "a", "b", "c"}),
      Cmd({"PFADD", "h", "a"}),
      Cmd({"PFADD", "h", ""}),
      Cmd({"GET", "h"}),
      Cmd({"PFCOUNT", "h"}),
      Cmd({"GETRANGE", "h", "8", "15"}),
      Cmd({"PFCOUNT", "h"}),
      Cmd({"PFADD", "h", "a"}),
      Cmd({"GETRANGE", "h", "15", "15"}),
      Cmd({"PFADD", "h", "zz"}),
      Cmd({"GETRANGE", "h", "15", "15"}),
  };
  // A sparse HLL growing in batches, its opcodes compared after each, until it turns dense.
  for (int batch = 0; batch < 24; ++batch) {
    std::vector<std::string> add = {"PFADD", "grow"};
    for (int i = 0; i < 40; ++i) add.push_back("e" + std::to_string(batch * 40 + i));
    script.push_back(Cmd(add));
    script.push_back(Cmd({"PFCOUNT", "grow"}));
    script.push_back(Cmd({"STRLEN", "grow"}));
    script.push_back(Cmd({"GET", "grow"}));
  }
  std::vector<std::string> big = {"PFADD", "big"};
  for (int i = 0; i < 5000; ++i) big.push_back("x" + std::to_string(i));
  const std::vector<Step> rest = {
      Cmd(big),
      Cmd({"GET", "big"}),
      Cmd({"PFCOUNT", "big"}),
      Cmd({"PFADD", "small", "1", "2", "3", "4", "5"}),
      Cmd({"PFMERGE", "m", "h", "small"}),
      Cmd({"GET", "m"}),
      Cmd({"PFCOUNT", "m"}),
      Cmd({"PFMERGE", "m2", "small", "big"}),
      Cmd({"GET", "m2"}),
      Cmd({"PFCOUNT", "m2"}),
      Cmd({"PFMERGE", "small", "grow"}),
      Cmd({"GET", "small"}),
      Cmd({"PFCOUNT", "h", "small", "big", "nokey"}),
      Cmd({"PFCOUNT", "nokey", "nokey2"}),
      Cmd({"PFCOUNT", "nokey"}),
      Cmd({"PFMERGE", "fresh"}),
      Cmd({"GET", "fresh"}),
      Cmd({"PFMERGE", "fresh2", "nokey"}),
      Cmd({"GET", "fresh2"}),
      // Keys of other types and strings that are no HLL.
      Cmd({"SET", "s", "not an hll"}),
      Cmd({"PFADD", "s", "a"}),
      Cmd({"PFCOUNT", "s"}),
      Cmd({"PFCOUNT", "h", "s"}),
      Cmd({"PFMERGE", "s", "h"}),
      Cmd({"PFMERGE", "h", "s"}),
      Cmd({"LPUSH", "l", "x"}),
      Cmd({"PFADD", "l", "a"}),
      Cmd({"PFCOUNT", "l"}),
      Cmd({"PFMERGE", "m", "l"}),
      Cmd({"PFADD"}),
      Cmd({"PFCOUNT"}),
      Cmd({"PFMERGE"}),
      // Corrupted HLLs (Redis's own suite: opcodes past the registers, broken magic, an
      // unknown encoding, a sparse HLL marked dense).
      Cmd({"PFADD", "c1", "a", "b", "c"}),
      Cmd({"APPEND", "c1", "hello"}),
      Cmd({"PFCOUNT", "c1"}),
      Cmd({"PFADD", "c1", "d"}),
      Cmd({"PFADD", "c2", "a", "b", "c"}),
      Cmd({"SETRANGE", "c2", "0", "0123"}),
      Cmd({"PFCOUNT", "c2"}),
      Cmd({"PFADD", "c3", "a", "b", "c"}),
      Cmd({"SETRANGE", "c3", "4", "x"}),
      Cmd({"PFCOUNT", "c3"}),
      Cmd({"PFADD", "c4", "a", "b", "c"}),
      Cmd({"SETRANGE", "c4", "4", std::string(1, '\0')}),
      Cmd({"PFCOUNT", "c4"}),
      Cmd({"PFADD", "c5", "a", "b", "c"}),
      Cmd({"SETRANGE", "c5", "17", std::string(1, '\x7f')}),
      Cmd({"PFCOUNT", "c5"}),
      Cmd({"PFMERGE", "c6", "c5"}),
      // TTLs survive PFADD, PFCOUNT's cache write and PFMERGE.
      Cmd({"PFADD", "ttl", "a"}),
      Cmd({"EXPIRE", "ttl", "1000"}),
      Cmd({"PFADD", "ttl", "b"}),
      Cmd({"TTL", "ttl"}),
      Cmd({"PFCOUNT", "ttl"}),
      Cmd({"TTL", "ttl"}),
      Cmd({"PFMERGE", "ttl", "h"}),
      Cmd({"TTL", "ttl"}),
      Cmd({"TYPE", "ttl"}),
  };
  script.insert(script.end(), rest.begin(), rest.end());
  Compare(script);
}

TEST_F(DifferentialTest, Transactions) {
  Compare({
      Cmd({"EXEC"}),
      Cmd({"DISCARD"}),
      Cmd({"MULTI", "x"}),
      Cmd({"MULTI"}),
      Cmd({"MULTI"}),
      Cmd({"SET", "t", "1"}),
      Cmd({"INCR", "t"}),
      Cmd({"LPUSH", "t", "x"}),
      Cmd({"GET", "t"}),
      Cmd({"PING"}),
      Cmd({"ECHO", "hi"}),
      Cmd({"EXEC"}),
      Cmd({"EXEC"}),
      // Refused while queuing: EXEC aborts, nothing ran.
      Cmd({"MULTI"}),
      Cmd({"SET", "never", "1"}),
      Cmd({"NOSUCHCOMMAND", "a"}),
      Cmd({"EXEC"}),
      Cmd({"GET", "never"}),
      Cmd({"MULTI"}),
      Cmd({"SET", "never", "1"}),
      Cmd({"GET"}),
      Cmd({"EXEC"}),
      Cmd({"EXISTS", "never"}),
      // Runtime errors (syntax, wrong type) stay in EXEC's array; the rest runs.
      Cmd({"MULTI"}),
      Cmd({"SET", "r", "1", "BADOPTION"}),
      Cmd({"SET", "r", "2"}),
      Cmd({"INCRBY", "r", "notanumber"}),
      Cmd({"EXEC"}),
      Cmd({"GET", "r"}),
      // DISCARD and RESET drop the queue.
      Cmd({"MULTI"}),
      Cmd({"SET", "d", "1"}),
      Cmd({"DISCARD"}),
      Cmd({"EXEC"}),
      Cmd({"GET", "d"}),
      Cmd({"MULTI"}),
      Cmd({"SET", "d", "1"}),
      Cmd({"RESET"}),
      Cmd({"EXEC"}),
      Cmd({"EXISTS", "d"}),
      // An empty transaction.
      Cmd({"MULTI"}),
      Cmd({"EXEC"}),
      // WATCH inside MULTI is refused without aborting the transaction.
      Cmd({"MULTI"}),
      Cmd({"WATCH", "w"}),
      Cmd({"SET", "w", "0"}),
      Cmd({"EXEC"}),
      // A write from another connection between WATCH and EXEC aborts it.
      Cmd({"WATCH", "w", "w", "other"}),
      On(1, {"SET", "w", "1"}),
      Cmd({"MULTI"}),
      Cmd({"SET", "w", "2"}),
      Cmd({"EXEC"}),
      Cmd({"GET", "w"}),
      // Nothing changed: EXEC runs (and forgets the WATCH).
      Cmd({"WATCH", "w"}),
      Cmd({"GET", "w"}),
      Cmd({"MULTI"}),
      Cmd({"INCR", "w"}),
      Cmd({"EXEC"}),
      On(1, {"SET", "w", "5"}),
      Cmd({"MULTI"}),
      Cmd({"INCR", "w"}),
      Cmd({"EXEC"}),
      // Writes by the watcher itself before MULTI count as changes too.
      Cmd({"WATCH", "w"}),
      Cmd({"SET", "w", "10"}),
      Cmd({"MULTI"}),
      Cmd({"INCR", "w"}),
      Cmd({"EXEC"}),
      // UNWATCH forgets; DEL of a missing key is no change; a watched type change is.
      Cmd({"WATCH", "w"}),
      Cmd({"UNWATCH"}),
      On(1, {"SET", "w", "20"}),
      Cmd({"MULTI"}),
      Cmd({"INCR", "w"}),
      Cmd({"UNWATCH"}),
      Cmd({"EXEC"}),
      Cmd({"WATCH", "h"}),
      On(1, {"HSET", "h", "f", "v"}),
      Cmd({"MULTI"}),
      Cmd({"HGET", "h", "f"}),
      Cmd({"EXEC"}),
      // An empty transaction still checks its WATCH.
      Cmd({"WATCH", "e"}),
      On(1, {"SET", "e", "1"}),
      Cmd({"MULTI"}),
      Cmd({"EXEC"}),
      Cmd({"WATCH", "e"}),
      Cmd({"MULTI"}),
      Cmd({"EXEC"}),
      // RESP3: the aborted EXEC is a null, the replies keep their RESP3 shapes.
      Cmd({"HELLO", "3"}),
      Cmd({"WATCH", "w"}),
      On(1, {"SET", "w", "30"}),
      Cmd({"MULTI"}),
      Cmd({"GET", "w"}),
      Cmd({"EXEC"}),
      Cmd({"MULTI"}),
      Cmd({"HGETALL", "h"}),
      Cmd({"GET", "missing"}),
      Cmd({"ZADD", "z", "1.5", "m"}),
      Cmd({"ZSCORE", "z", "m"}),
      Cmd({"EXEC"}),
  });
}

// SCAN, KEYS, DBSIZE, RANDOMKEY where Redis's reply does not depend on its hash order:
// an empty database, one matching key, counts, and the errors.
TEST_F(DifferentialTest, Keyspace) {
  Compare({
      Cmd({"DBSIZE"}),
      Cmd({"RANDOMKEY"}),
      Cmd({"KEYS", "*"}),
      Cmd({"SCAN", "0"}),
      Cmd({"SET", "a", "1"}),
      Cmd({"DBSIZE"}),
      Cmd({"RANDOMKEY"}),
      Cmd({"KEYS", "*"}),
      Cmd({"SCAN", "0"}),
      Cmd({"HSET", "h", "f", "v"}),
      Cmd({"LPUSH", "l", "x"}),
      Cmd({"SADD", "s", "m"}),
      Cmd({"ZADD", "z", "1", "m"}),
      Cmd({"SET", "ex", "1", "PX", "1"}),
      Cmd({"HSET", "hx", "f", "v"}),
      Cmd({"PEXPIRE", "hx", "1"}),
      After(50, {"GET", "ex"}),
      Cmd({"HGET", "hx", "f"}),
      Cmd({"DBSIZE"}),
      Cmd({"KEYS", "h"}),
      Cmd({"KEYS", "h*"}),
      Cmd({"KEYS", "[h]"}),
      Cmd({"KEYS", "[^ahlsz]*"}),
      Cmd({"KEYS", "\\z"}),
      Cmd({"KEYS", "*z*"}),
      Cmd({"KEYS", "nomatch*"}),
      Cmd({"SCAN", "0", "MATCH", "h", "COUNT", "100"}),
      Cmd({"SCAN", "0", "COUNT", "100", "TYPE", "zset"}),
      Cmd({"SCAN", "0", "TYPE", "string", "COUNT", "100"}),
      Cmd({"SCAN", "0", "TYPE", "LIST", "COUNT", "100"}),
      Cmd({"SCAN", "0", "type", "hash", "match", "*", "count", "100"}),
      Cmd({"SCAN", "0", "MATCH", "s", "COUNT", "100", "MATCH", "l"}),
      Cmd({"SCAN", "x"}),
      Cmd({"SCAN", "0", "COUNT", "0"}),
      Cmd({"SCAN", "0", "COUNT", "x"}),
      Cmd({"SCAN", "0", "FOO", "bar"}),
      Cmd({"SCAN", "0", "MATCH"}),
      Cmd({"SCAN"}),
      Cmd({"KEYS"}),
      Cmd({"DBSIZE", "x"}),
      Cmd({"RANDOMKEY", "x"}),
      Cmd({"HELLO", "3"}),
      Cmd({"SCAN", "0", "MATCH", "z", "COUNT", "100"}),
      Cmd({"KEYS", "a"}),
  });
}

// FLUSHDB and FLUSHALL: their argument forms and errors, every type of key gone (more keys
// than one step of ekv's walk deletes), keys written afterwards present.
TEST_F(DifferentialTest, FlushdbAndFlushall) {
  std::vector<std::string> mset = {"MSET"};
  for (int i = 0; i < 2500; ++i) {
    mset.push_back(absl::StrCat("k", i));
    mset.push_back("v");
  }
  std::vector<Step> script = {
      Cmd({"FLUSHDB"}),
      Cmd(mset),
      Cmd({"HSET", "h", "f", "v"}),
      Cmd({"RPUSH", "l", "x"}),
      Cmd({"SADD", "s", "m"}),
      Cmd({"ZADD", "z", "1", "m"}),
      Cmd({"SET", "t", "1", "EX", "100"}),
      Cmd({"DBSIZE"}),
      Cmd({"FLUSHDB"}),
      Cmd({"DBSIZE"}),
      Cmd({"KEYS", "*"}),
      Cmd({"GET", "k0"}),
      Cmd({"HGET", "h", "f"}),
      Cmd({"LRANGE", "l", "0", "-1"}),
      Cmd({"SMEMBERS", "s"}),
      Cmd({"ZRANGE", "z", "0", "-1"}),
      Cmd({"TTL", "t"}),
      Cmd({"HSET", "h", "g", "w"}),
      Cmd({"HGETALL", "h"}),
      Cmd({"SET", "a", "1"}),
      Cmd({"FLUSHALL"}),
      Cmd({"DBSIZE"}),
      Cmd({"SET", "a", "2"}),
      Cmd({"GET", "a"}),
      Cmd({"FLUSHDB", "ASYNC"}),
      Cmd({"FLUSHDB", "sync"}),
      Cmd({"FLUSHALL", "async"}),
      Cmd({"FLUSHALL", "SYNC"}),
      Cmd({"DBSIZE"}),
      Cmd({"FLUSHDB", "bad"}),
      Cmd({"FLUSHDB", "ASYNC", "x"}),
      Cmd({"FLUSHDB", "SYNC", "SYNC"}),
      Cmd({"FLUSHALL", "foo"}),
      Cmd({"FLUSHALL", "async", "async"}),
      // Inside MULTI: queued, run in the queue's order (ekv: between the atomic parts).
      Cmd({"SET", "old", "1"}),
      Cmd({"MULTI"}),
      Cmd({"SET", "a", "1"}),
      Cmd({"FLUSHDB"}),
      Cmd({"RPUSH", "l", "x"}),
      Cmd({"FLUSHALL", "bad"}),
      Cmd({"FLUSHDB", "ASYNC", "x"}),
      Cmd({"GET", "a"}),
      Cmd({"GET", "old"}),
      Cmd({"LRANGE", "l", "0", "-1"}),
      Cmd({"EXEC"}),
      Cmd({"KEYS", "*"}),
      Cmd({"MULTI"}),
      Cmd({"FLUSHALL", "SYNC"}),
      Cmd({"EXEC"}),
      Cmd({"DBSIZE"}),
      // A watched key changed by another connection: nothing runs.
      Cmd({"SET", "w", "1"}),
      Cmd({"WATCH", "w"}),
      On(1, {"SET", "w", "2"}),
      Cmd({"MULTI"}),
      Cmd({"FLUSHDB"}),
      Cmd({"SET", "x", "1"}),
      Cmd({"EXEC"}),
      Cmd({"GET", "w"}),
      Cmd({"EXISTS", "x"}),
      Cmd({"HELLO", "3"}),
      Cmd({"FLUSHALL"}),
      Cmd({"FLUSHDB", "x"}),
      Cmd({"MULTI"}),
      Cmd({"SET", "a", "1"}),
      Cmd({"FLUSHDB", "x"}),
      Cmd({"FLUSHDB"}),
      Cmd({"EXEC"}),
  };
  Compare(script);
}

// SINTER/SUNION/SDIFF and the STORE forms, where the reply has at most one member (Redis
// answers larger sets in its hash order) or is a count.
TEST_F(DifferentialTest, SetAlgebra) {
  Compare({
      Cmd({"SADD", "s1", "a", "b", "c"}),
      Cmd({"SADD", "s2", "b", "c", "d"}),
      Cmd({"SADD", "s3", "c", "x"}),
      Cmd({"SINTER", "s1", "s2", "s3"}),
      Cmd({"SINTER", "s1", "nope"}),
      Cmd({"SDIFF", "s1", "s2"}),
      Cmd({"SDIFF", "nope", "s1"}),
      Cmd({"SUNIONSTORE", "u", "s1", "s2", "s3"}),
      Cmd({"SCARD", "u"}),
      Cmd({"SISMEMBER", "u", "x"}),
      Cmd({"SINTERSTORE", "i", "s1", "s2"}),
      Cmd({"SMISMEMBER", "i", "a", "b", "c", "d"}),
      Cmd({"SDIFFSTORE", "d", "s1", "s2"}),
      Cmd({"SMEMBERS", "d"}),
      Cmd({"SET", "str", "v"}),
      Cmd({"SINTERSTORE", "str", "s1", "nope"}),
      Cmd({"EXISTS", "str"}),
      Cmd({"SUNIONSTORE", "d", "s1"}),
      Cmd({"SCARD", "d"}),
      Cmd({"SINTER", "s1", "str"}),
      Cmd({"SUNION", "str"}),
      Cmd({"SDIFFSTORE", "x", "str"}),
      Cmd({"SINTER"}),
      Cmd({"SUNIONSTORE", "d"}),
      Cmd({"HELLO", "3"}),
      Cmd({"SDIFF", "s1", "s2"}),
      Cmd({"SINTER", "s1", "nope"}),
  });
}

// LMOVE, RPOPLPUSH and LMPOP: the non-blocking forms of BLMOVE, BRPOPLPUSH and BLMPOP.
TEST_F(DifferentialTest, ListMovesAndMultiPop) {
  Compare({
      Cmd({"RPUSH", "l", "a", "b", "c"}),
      Cmd({"LMOVE", "l", "l", "LEFT", "RIGHT"}),
      Cmd({"LRANGE", "l", "0", "-1"}),
      Cmd({"LMOVE", "l", "m", "right", "left"}),
      Cmd({"LMOVE", "l", "m", "RIGHT", "RIGHT"}),
      Cmd({"LRANGE", "m", "0", "-1"}),
      Cmd({"LMOVE", "l", "m", "UP", "LEFT"}),
      Cmd({"LMOVE", "l", "m", "LEFT", "DOWN"}),
      Cmd({"LMOVE", "nope", "m", "LEFT", "LEFT"}),
      Cmd({"SET", kWrongType, "x"}),
      Cmd({"LMOVE", "nope", kWrongType, "LEFT", "LEFT"}),
      Cmd({"LMOVE", "m", kWrongType, "LEFT", "LEFT"}),
      Cmd({"LMOVE", kWrongType, "m", "LEFT", "LEFT"}),
      Cmd({"RPOPLPUSH", "m", "m"}),
      Cmd({"RPOPLPUSH", "l", "n"}),
      Cmd({"EXISTS", "l"}),
      Cmd({"RPOPLPUSH", "l", "n"}),
      Cmd({"LRANGE", "n", "0", "-1"}),
      Cmd({"RPUSH", "p", "1", "2", "3", "4", "5"}),
      Cmd({"LMPOP", "2", "nope", "p", "LEFT"}),
      Cmd({"LMPOP", "2", "nope", "p", "RIGHT", "COUNT", "2"}),
      Cmd({"LMPOP", "1", "p", "left", "count", "100"}),
      Cmd({"LMPOP", "1", "p", "LEFT"}),
      Cmd({"LMPOP", "0", "p", "LEFT"}),
      Cmd({"LMPOP", "-1", "p", "LEFT"}),
      Cmd({"LMPOP", "x", "p", "LEFT"}),
      Cmd({"LMPOP", "3", "p", "LEFT"}),
      Cmd({"LMPOP", "1", "p", "UP"}),
      Cmd({"LMPOP", "1", "p", "LEFT", "COUNT", "0"}),
      Cmd({"LMPOP", "1", "p", "LEFT", "COUNT", "x"}),
      Cmd({"LMPOP", "1", "p", "LEFT", "COUNT"}),
      Cmd({"LMPOP", "1", "p", "LEFT", "COUNT", "1", "COUNT", "2"}),
      Cmd({"LMPOP", "1", "p", "LEFT", "EXTRA"}),
      Cmd({"LMPOP", "2", "m", kWrongType, "LEFT"}),
      Cmd({"LMPOP", "2", kWrongType, "m", "LEFT"}),
      Cmd({"LMPOP", "1"}),
      Cmd({"HELLO", "3"}),
      Cmd({"LMPOP", "1", "nope", "LEFT"}),
      Cmd({"LMPOP", "1", "m", "LEFT"}),
      Cmd({"LMOVE", "nope", "m", "LEFT", "LEFT"}),
  });
}

// BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP: the immediate answers, argument errors,
// timeouts (nil array, or nil for the moves; RESP3 null), clients woken by another
// connection's push in arrival order, and the non-blocking behaviour inside MULTI.
TEST_F(DifferentialTest, BlockingLists) {
  Compare({
      Cmd({"RPUSH", "bl", "a", "b", "c"}),
      Cmd({"BLPOP", "nope", "bl", "0"}),
      Cmd({"BRPOP", "bl", "0"}),
      Cmd({"BLPOP", "nope", "0.01"}),
      Cmd({"BRPOP", "nope", "nope2", ".02"}),
      Cmd({"BLPOP", "nope", "abc"}),
      Cmd({"BLPOP", "nope", ""}),
      Cmd({"BLPOP", "nope", "-1"}),
      Cmd({"BLPOP", "nope", "1e30"}),
      Cmd({"BLPOP", "nope", "inf"}),
      Cmd({"BLPOP", "nope", "-inf"}),
      Cmd({"BLPOP", "nope", "nan"}),
      Cmd({"BLPOP", "nope", " 1"}),
      Cmd({"BLPOP", "bl", "-1"}),
      Cmd({"SET", kWrongType, "x"}),
      Cmd({"BLPOP", kWrongType, "0"}),
      Cmd({"BLPOP", "nope", kWrongType, "bl", "0"}),
      Cmd({"BLPOP", "bl", kWrongType, "0"}),
      Cmd({"BLPOP", "bl"}),
      Cmd({"BRPOPLPUSH", "nope", "dst", "0.01"}),
      Cmd({"BRPOPLPUSH", "nope", "dst", "x"}),
      Cmd({"BLMOVE", "nope", "dst", "LEFT", "RIGHT", "0.01"}),
      Cmd({"BLMOVE", "nope", "dst", "UP", "RIGHT", "x"}),
      Cmd({"BLMOVE", "nope", "dst", "LEFT", "RIGHT", "x"}),
      Cmd({"RPUSH", "src", "1", "2"}),
      Cmd({"BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"}),
      Cmd({"BRPOPLPUSH", "src", "dst", "0"}),
      Cmd({"LRANGE", "dst", "0", "-1"}),
      Cmd({"BLMOVE", "dst", kWrongType, "LEFT", "LEFT", "0"}),
      Cmd({"BLMPOP", "0.01", "2", "nope", "nope2", "LEFT"}),
      Cmd({"BLMPOP", "0", "2", "nope", "dst", "RIGHT", "COUNT", "5"}),
      Cmd({"BLMPOP", "x", "1", "dst", "LEFT"}),
      Cmd({"BLMPOP", "x", "0", "dst", "LEFT"}),
      Cmd({"BLMPOP", "x", "1", "dst", "UP"}),
      Cmd({"BLMPOP", "x", "1", "dst", "LEFT", "COUNT", "0"}),
      Cmd({"BLMPOP", "-1", "1", "dst", "LEFT"}),
      Cmd({"BLMPOP", "0", "5", "dst", "LEFT"}),
      // Woken by a push from another connection.
      On(1, {"BLPOP", "w1", "w2", "0"}, 0),
      After(300, {"RPUSH", "w2", "x", "y"}),
      Read(1),
      Cmd({"LRANGE", "w2", "0", "-1"}),
      // Two clients on one key: served in the order they blocked.
      On(1, {"BRPOP", "w3", "0"}, 0),
      {2, EncodeCommand({"BRPOP", "w3", "0"}), 0, false, 300},
      After(300, {"RPUSH", "w3", "a", "b", "c"}),
      Read(1),
      Read(2),
      Cmd({"LRANGE", "w3", "0", "-1"}),
      On(1, {"BLMOVE", "w4", "w5", "LEFT", "RIGHT", "0"}, 0),
      After(300, {"LPUSH", "w4", "v"}),
      Read(1),
      Cmd({"LRANGE", "w5", "0", "-1"}),
      Cmd({"EXISTS", "w4"}),
      On(1, {"BLMPOP", "0", "2", "w6", "w7", "RIGHT", "COUNT", "2"}, 0),
      After(300, {"RPUSH", "w7", "1", "2", "3"}),
      Read(1),
      // A client woken by LMOVE's destination; a timeout after blocking.
      On(1, {"BRPOPLPUSH", "w8", "w9", "0"}, 0),
      After(300, {"LMOVE", "w7", "w8", "LEFT", "LEFT"}),
      Read(1),
      Cmd({"LRANGE", "w9", "0", "-1"}),
      On(1, {"BLPOP", "w10", "0.3"}),
      // -0.0001 s rounds up to 0 ms (forever), as does a timeout past the clock's range.
      On(1, {"BLPOP", "w11", "-0.0001"}, 0),
      After(300, {"RPUSH", "w11", "v"}),
      Read(1),
      // Under a millisecond rounds up: it times out rather than waiting forever.
      On(1, {"BLPOP", "w12", "0.0001"}),
      On(1, {"BZPOPMIN", "w12", "0.0009"}),
      On(1, {"BLMOVE", "w12", "w13", "LEFT", "LEFT", "0.00001"}),
      On(1, {"BLPOP", "w11", "9223372036854775"}, 0),
      After(300, {"RPUSH", "w11", "v"}),
      Read(1),
      // Inside MULTI the blocking forms do not block.
      Cmd({"MULTI"}),
      Cmd({"BLPOP", "nope", "0"}),
      Cmd({"BRPOPLPUSH", "nope", "x", "0"}),
      Cmd({"BLMPOP", "0", "1", "nope", "LEFT"}),
      Cmd({"RPUSH", "m", "1"}),
      Cmd({"BLPOP", "m", "0"}),
      Cmd({"BLPOP", "m", "x"}),
      Cmd({"EXEC"}),
      Cmd({"HELLO", "3"}),
      Cmd({"BLPOP", "nope", "0.01"}),
      Cmd({"BRPOPLPUSH", "nope", "dst", "0.01"}),
      Cmd({"BLMPOP", "0.01", "1", "nope", "LEFT"}),
      Cmd({"RPUSH", "r3", "a"}),
      Cmd({"BLPOP", "r3", "0"}),
      Cmd({"MULTI"}),
      Cmd({"BLPOP", "nope", "0"}),
      Cmd({"EXEC"}),
  });
}

// A client blocked on several keys is served from the key a write signalled first (Redis
// 7.0 serves the ready keys in signal order), not from the first of its keys with data.
TEST_F(DifferentialTest, BlockedPopsAnswerFromTheSignalledKey) {
  Compare({
      On(1, {"BLPOP", "sa", "sb", "0"}, 0),
      AfterBlocked(1, {"MULTI"}),
      Cmd({"RPUSH", "sb", "x"}),
      Cmd({"RPUSH", "sa", "y"}),
      Cmd({"EXEC"}),
      Read(1),
      Cmd({"DEL", "sa", "sb"}),
      On(1, {"BLMPOP", "0", "2", "sa", "sb", "LEFT", "COUNT", "5"}, 0),
      AfterBlocked(1, {"MULTI"}),
      Cmd({"RPUSH", "sb", "x1", "x2"}),
      Cmd({"RPUSH", "sa", "y1", "y2"}),
      Cmd({"EXEC"}),
      Read(1),
      Cmd({"DEL", "sa", "sb"}),
      On(1, {"BZPOPMIN", "sa", "sb", "0"}, 0),
      AfterBlocked(1, {"MULTI"}),
      Cmd({"ZADD", "sb", "1", "x"}),
      Cmd({"ZADD", "sa", "1", "y"}),
      Cmd({"EXEC"}),
      Read(1),
      Cmd({"DEL", "sa", "sb"}),
      On(1, {"BZMPOP", "0", "2", "sa", "sb", "MAX", "COUNT", "2"}, 0),
      AfterBlocked(1, {"MULTI"}),
      Cmd({"ZADD", "sb", "1", "x", "2", "z"}),
      Cmd({"ZADD", "sa", "1", "y"}),
      Cmd({"EXEC"}),
      Read(1),
      // Two clients on two keys: each served from the key signalled for it.
      Cmd({"DEL", "sa", "sb"}),
      On(1, {"BRPOP", "sa", "sb", "0"}, 0),
      On(2, {"BRPOP", "sb", "sa", "0"}, 0),
      AfterBlocked(2, {"MULTI"}),
      Cmd({"RPUSH", "sa", "1"}),
      Cmd({"RPUSH", "sb", "2"}),
      Cmd({"EXEC"}),
      Read(1),
      Read(2),
  });
}

// A blocked client is served only from a key of its type: a key that became a string
// while it waited (pushed, deleted and set in one EXEC) leaves it blocked, and the next
// push serves it. A move whose destination became another type is answered WRONGTYPE.
TEST_F(DifferentialTest, BlockedClientsWaitThroughAKeyOfAnotherType) {
  Compare({
      On(1, {"BLPOP", "wt1", "0"}, 0),
      After(300, {"MULTI"}),
      Cmd({"LPUSH", "wt1", "a"}),
      Cmd({"DEL", "wt1"}),
      Cmd({"SET", "wt1", "foo"}),
      Cmd({"EXEC"}),
      After(300, {"DEL", "wt1"}),
      Cmd({"LPUSH", "wt1", "b"}),
      Read(1),
      Cmd({"EXISTS", "wt1"}),
      On(1, {"BLMPOP", "0", "2", "wt2", "wt3", "RIGHT"}, 0),
      After(300, {"MULTI"}),
      Cmd({"RPUSH", "wt2", "a"}),
      Cmd({"DEL", "wt2"}),
      Cmd({"SADD", "wt2", "m"}),
      Cmd({"EXEC"}),
      After(300, {"RPUSH", "wt3", "c"}),
      Read(1),
      On(1, {"BZPOPMIN", "wt4", "0"}, 0),
      After(300, {"MULTI"}),
      Cmd({"ZADD", "wt4", "1", "a"}),
      Cmd({"DEL", "wt4"}),
      Cmd({"HSET", "wt4", "f", "v"}),
      Cmd({"EXEC"}),
      After(300, {"DEL", "wt4"}),
      Cmd({"ZADD", "wt4", "2", "b"}),
      Read(1),
      Cmd({"SET", "wt6", "x"}),
      On(1, {"BLMOVE", "wt5", "wt6", "LEFT", "RIGHT", "0"}, 0),
      After(300, {"RPUSH", "wt5", "v"}),
      Read(1),
      Cmd({"LRANGE", "wt5", "0", "-1"}),
  });
}

// ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX.
TEST_F(DifferentialTest, SortedSetRangesByScoreAndLex) {
  Compare({
      Cmd({"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"}),
      Cmd({"ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e"}),
      Cmd({"ZREVRANGEBYSCORE", "z", "+inf", "-inf"}),
      Cmd({"ZREVRANGEBYSCORE", "z", "(4", "2", "WITHSCORES"}),
      Cmd({"ZREVRANGEBYSCORE", "z", "4", "1", "LIMIT", "1", "2"}),
      Cmd({"ZREVRANGEBYSCORE", "z", "x", "1"}),
      Cmd({"ZREVRANGEBYSCORE", "z", "4", "1", "BYLEX"}),
      Cmd({"ZREVRANGEBYSCORE", "nope", "4", "1"}),
      Cmd({"ZRANGEBYLEX", "lex", "-", "+"}),
      Cmd({"ZRANGEBYLEX", "lex", "[b", "(e"}),
      Cmd({"ZRANGEBYLEX", "lex", "-", "+", "LIMIT", "1", "2"}),
      Cmd({"ZRANGEBYLEX", "lex", "b", "+"}),
      Cmd({"ZREVRANGEBYLEX", "lex", "+", "-"}),
      Cmd({"ZREVRANGEBYLEX", "lex", "(e", "[b", "LIMIT", "0", "2"}),
      Cmd({"ZRANGEBYLEX", "nope", "-", "+"}),
      Cmd({"SET", kWrongType, "x"}),
      Cmd({"ZRANGEBYLEX", kWrongType, "-", "+"}),
      Cmd({"ZREVRANGEBYSCORE", kWrongType, "1", "0"}),
      Cmd({"HELLO", "3"}),
      Cmd({"ZREVRANGEBYSCORE", "z", "4", "1", "WITHSCORES"}),
      Cmd({"ZREVRANGEBYLEX", "lex", "+", "-"}),
  });
}

// ZMPOP, BZPOPMIN, BZPOPMAX, BZMPOP.
TEST_F(DifferentialTest, SortedSetPops) {
  Compare({
      Cmd({"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5.5", "e"}),
      Cmd({"ZMPOP", "1", "z", "MIN"}),
      Cmd({"ZMPOP", "2", "nope", "z", "MAX", "COUNT", "2"}),
      Cmd({"ZMPOP", "1", "nope", "MIN"}),
      Cmd({"ZMPOP", "0", "z", "MIN"}),
      Cmd({"ZMPOP", "1", "z", "UP"}),
      Cmd({"ZMPOP", "1", "z", "MIN", "COUNT", "0"}),
      Cmd({"ZMPOP", "1", "z", "MIN", "COUNT", "1", "x"}),
      Cmd({"ZMPOP", "4", "z", "MIN"}),
      Cmd({"BZPOPMIN", "nope", "z", "0"}),
      Cmd({"BZPOPMAX", "z", "0"}),
      Cmd({"BZPOPMIN", "nope", "0.01"}),
      Cmd({"BZPOPMAX", "nope", "x"}),
      Cmd({"SET", kWrongType, "x"}),
      Cmd({"BZPOPMIN", kWrongType, "0"}),
      Cmd({"ZMPOP", "1", kWrongType, "MIN"}),
      Cmd({"BZMPOP", "0.01", "1", "nope", "MIN"}),
      Cmd({"BZMPOP", "x", "1", "nope", "MIN"}),
      Cmd({"BZMPOP", "x", "1", "nope", "UP"}),
      Cmd({"ZADD", "y", "1", "p", "2", "q"}),
      Cmd({"BZMPOP", "0", "1", "y", "MAX", "COUNT", "9"}),
      Cmd({"EXISTS", "y"}),
      On(1, {"BZPOPMIN", "w", "0"}, 0),
      After(300, {"ZADD", "w", "7", "m", "3", "n"}),
      Read(1),
      On(1, {"BZMPOP", "0", "1", "w2", "MAX", "COUNT", "3"}, 0),
      After(300, {"ZADD", "w2", "1", "a", "2", "b"}),
      Read(1),
      Cmd({"MULTI"}),
      Cmd({"BZPOPMAX", "nope", "0"}),
      Cmd({"BZMPOP", "0", "1", "nope", "MIN"}),
      Cmd({"EXEC"}),
      Cmd({"HELLO", "3"}),
      Cmd({"ZADD", "z3", "1.5", "a", "2", "b"}),
      Cmd({"BZPOPMIN", "z3", "0"}),
      Cmd({"ZMPOP", "1", "z3", "MIN"}),
      Cmd({"BZPOPMIN", "nope", "0.01"}),
      Cmd({"BZMPOP", "0.01", "1", "nope", "MIN"}),
  });
}

// ZUNION/ZINTER/ZDIFF and their STORE forms: sets as inputs, WEIGHTS, AGGREGATE,
// WITHSCORES, infinities, the destination among the inputs, and every argument error in
// Redis's order (numkeys, types, options).
TEST_F(DifferentialTest, SortedSetAlgebra) {
  Compare({
      Cmd({"ZADD", "z1", "1", "a", "2", "b", "3", "c"}),
      Cmd({"ZADD", "z2", "10", "b", "20", "c", "30", "d"}),
      Cmd({"SADD", "s", "c", "e"}),
      Cmd({"ZUNION", "2", "z1", "z2"}),
      Cmd({"ZUNION", "3", "z1", "z2", "s", "WITHSCORES"}),
      Cmd({"ZUNION", "2", "z1", "z2", "WEIGHTS", "2", "0.5", "WITHSCORES"}),
      Cmd({"ZUNION", "2", "z1", "z2", "AGGREGATE", "MIN", "WITHSCORES"}),
      Cmd({"ZUNION", "2", "z1", "z2", "aggregate", "max", "withscores", "weights", "1", "-1"}),
      Cmd({"ZINTER", "2", "z1", "z2", "WITHSCORES"}),
      Cmd({"ZINTER", "3", "z1", "z2", "s", "WITHSCORES"}),
      Cmd({"ZINTER", "2", "z1", "nope"}),
      Cmd({"ZDIFF", "2", "z1", "z2", "WITHSCORES"}),
      Cmd({"ZDIFF", "2", "z2", "s"}),
      Cmd({"ZDIFF", "1", "nope"}),
      Cmd({"ZUNIONSTORE", "dst", "2", "z1", "z2"}),
      Cmd({"ZRANGE", "dst", "0", "-1", "WITHSCORES"}),
      Cmd({"ZINTERSTORE", "dst", "2", "z1", "z2", "WEIGHTS", "1", "2"}),
      Cmd({"ZRANGE", "dst", "0", "-1", "WITHSCORES"}),
      Cmd({"ZDIFFSTORE", "dst", "2", "z1", "dst"}),
      Cmd({"ZRANGE", "dst", "0", "-1", "WITHSCORES"}),
      Cmd({"ZINTERSTORE", "dst", "2", "z1", "nope"}),
      Cmd({"EXISTS", "dst"}),
      Cmd({"SET", kWrongType, "x"}),
      Cmd({"ZUNIONSTORE", kWrongType, "1", "z1"}),
      Cmd({"TYPE", kWrongType}),
      Cmd({"ZADD", "inf1", "+inf", "m"}),
      Cmd({"ZADD", "inf2", "-inf", "m"}),
      Cmd({"ZUNION", "2", "inf1", "inf2", "WITHSCORES"}),
      Cmd({"ZUNION", "1", "inf1", "WEIGHTS", "0", "WITHSCORES"}),
      // Errors.
      Cmd({"ZUNION", "0", "z1"}),
      Cmd({"ZUNION", "-1", "z1"}),
      Cmd({"ZUNION", "x", "z1"}),
      Cmd({"ZUNION", "3", "z1", "z2"}),
      Cmd({"ZUNION", "2", "z1", kWrongType}),
      Cmd({"ZUNION", "2", "z1", kWrongType, "BOGUS"}),
      Cmd({"ZUNION", "2", "z1", "z2", "WEIGHTS", "1"}),
      Cmd({"ZUNION", "2", "z1", "z2", "WEIGHTS", "1", "x"}),
      Cmd({"ZUNION", "2", "z1", "z2", "AGGREGATE", "AVG"}),
      Cmd({"ZUNION", "2", "z1", "z2", "AGGREGATE"}),
      Cmd({"ZDIFF", "2", "z1", "z2", "WEIGHTS", "1", "1"}),
      Cmd({"ZDIFF", "2", "z1", "z2", "AGGREGATE", "SUM"}),
      Cmd({"ZUNIONSTORE", "dst", "2", "z1", "z2", "WITHSCORES"}),
      Cmd({"ZINTERSTORE", "dst", "0", "z1"}),
      Cmd({"ZDIFFSTORE", "dst", "0", "z1"}),
      Cmd({"ZUNION", "1"}),
      Cmd({"ZUNIONSTORE", "dst", "1"}),
      Cmd({"ZDIFF"}),
      Cmd({"HELLO", "3"}),
      Cmd({"ZUNION", "2", "z1", "z2", "WITHSCORES"}),
      Cmd({"ZINTER", "2", "z1", "z2"}),
      Cmd({"ZDIFF", "2", "z1", "z2", "WITHSCORES"}),
  });
}

// ZRANGESTORE, ZLEXCOUNT, ZREMRANGEBYRANK/SCORE/LEX.
TEST_F(DifferentialTest, SortedSetStoreCountAndRemoveRanges) {
  Compare({
      Cmd({"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"}),
      Cmd({"ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e"}),
      Cmd({"ZRANGESTORE", "dst", "z", "1", "3"}),
      Cmd({"ZRANGE", "dst", "0", "-1", "WITHSCORES"}),
      Cmd({"ZRANGESTORE", "dst", "z", "(2", "+inf", "BYSCORE", "LIMIT", "1", "2"}),
      Cmd({"ZRANGE", "dst", "0", "-1", "WITHSCORES"}),
      Cmd({"ZRANGESTORE", "dst", "lex", "[d", "-", "BYLEX", "REV"}),
      Cmd({"ZRANGE", "dst", "0", "-1"}),
      Cmd({"ZRANGESTORE", "dst", "z", "10", "20"}),
      Cmd({"EXISTS", "dst"}),
      Cmd({"ZRANGESTORE", "dst", "nope", "0", "-1"}),
      Cmd({"ZRANGESTORE", "dst", "z", "0", "-1", "WITHSCORES"}),
      Cmd({"ZRANGESTORE", "dst", "z", "0", "-1", "LIMIT", "0", "1"}),
      Cmd({"ZRANGESTORE", "dst", "z", "x", "1"}),
      Cmd({"ZRANGESTORE", "dst", "z", "0"}),
      Cmd({"SET", kWrongType, "x"}),
      Cmd({"ZRANGESTORE", "dst", kWrongType, "0", "-1"}),
      Cmd({"ZRANGESTORE", kWrongType, "z", "0", "0"}),
      Cmd({"TYPE", kWrongType}),
      Cmd({"ZLEXCOUNT", "lex", "-", "+"}),
      Cmd({"ZLEXCOUNT", "lex", "[b", "(d"}),
      Cmd({"ZLEXCOUNT", "lex", "(e", "+"}),
      Cmd({"ZLEXCOUNT", "lex", "b", "+"}),
      Cmd({"ZLEXCOUNT", "nope", "-", "+"}),
      Cmd({"ZLEXCOUNT", kWrongType, "-", "+"}),
      Cmd({"ZLEXCOUNT", "lex", "-"}),
      Cmd({"ZREMRANGEBYRANK", "z", "0", "1"}),
      Cmd({"ZRANGE", "z", "0", "-1"}),
      Cmd({"ZREMRANGEBYRANK", "z", "5", "9"}),
      Cmd({"ZREMRANGEBYRANK", "z", "x", "1"}),
      Cmd({"ZREMRANGEBYSCORE", "z", "(3", "4"}),
      Cmd({"ZRANGE", "z", "0", "-1"}),
      Cmd({"ZREMRANGEBYSCORE", "z", "x", "4"}),
      Cmd({"ZREMRANGEBYSCORE", "nope", "x", "4"}),
      Cmd({"ZREMRANGEBYSCORE", "nope", "0", "4"}),
      Cmd({"ZREMRANGEBYSCORE", "z", "-inf", "+inf"}),
      Cmd({"EXISTS", "z"}),
      Cmd({"ZREMRANGEBYLEX", "lex", "[b", "(d"}),
      Cmd({"ZRANGE", "lex", "0", "-1"}),
      Cmd({"ZREMRANGEBYLEX", "lex", "b", "(d"}),
      Cmd({"ZREMRANGEBYLEX", kWrongType, "-", "+"}),
      Cmd({"ZREMRANGEBYRANK", kWrongType, "0", "1"}),
      Cmd({"ZREMRANGEBYSCORE", kWrongType, "0", "1"}),
      Cmd({"ZREMRANGEBYLEX", "lex", "-", "+"}),
      Cmd({"EXISTS", "lex"}),
      Cmd({"ZREMRANGEBYRANK", "lex", "0"}),
  });
}

// ZRANDMEMBER and HRANDFIELD where Redis's answer is not random (one member, a count
// covering the whole collection, zero), and their argument errors.
TEST_F(DifferentialTest, RandomMembersAndFields) {
  Compare({
      Cmd({"ZADD", "z", "1", "a", "2.5", "b", "3", "c"}),
      Cmd({"ZADD", "one", "7", "m"}),
      Cmd({"ZRANDMEMBER", "one"}),
      Cmd({"ZRANDMEMBER", "one", "1"}),
      Cmd({"ZRANDMEMBER", "one", "-3", "WITHSCORES"}),
      Cmd({"ZRANDMEMBER", "z", "5"}),
      Cmd({"ZRANDMEMBER", "z", "3", "withscores"}),
      Cmd({"ZRANDMEMBER", "z", "0"}),
      Cmd({"ZRANDMEMBER", "nope"}),
      Cmd({"ZRANDMEMBER", "nope", "3"}),
      Cmd({"ZRANDMEMBER", "z", "x"}),
      Cmd({"ZRANDMEMBER", "z", "1", "WITHVALUES"}),
      Cmd({"ZRANDMEMBER", "z", "1", "WITHSCORES", "x"}),
      Cmd({"ZRANDMEMBER", "z", "-9223372036854775808"}),
      Cmd({"ZRANDMEMBER", "z", "9223372036854775807", "WITHSCORES"}),
      Cmd({"HSET", "h", "f1", "v1", "f2", "v2"}),
      Cmd({"HSET", "h1", "only", "v"}),
      Cmd({"HRANDFIELD", "h1"}),
      Cmd({"HRANDFIELD", "h1", "-2", "WITHVALUES"}),
      Cmd({"HRANDFIELD", "h", "2"}),
      Cmd({"HRANDFIELD", "h", "10", "WITHVALUES"}),
      Cmd({"HRANDFIELD", "h", "0"}),
      Cmd({"HRANDFIELD", "nope"}),
      Cmd({"HRANDFIELD", "nope", "-1"}),
      Cmd({"HRANDFIELD", "h", "1.5"}),
      Cmd({"HRANDFIELD", "h", "1", "WITHSCORES"}),
      Cmd({"SET", kWrongType, "x"}),
      Cmd({"HRANDFIELD", kWrongType}),
      Cmd({"HRANDFIELD", kWrongType, "0"}),
      Cmd({"ZRANDMEMBER", kWrongType, "1"}),
      Cmd({"ZRANDMEMBER"}),
      Cmd({"HELLO", "3"}),
      Cmd({"ZRANDMEMBER", "z", "3", "WITHSCORES"}),
      Cmd({"HRANDFIELD", "h", "2", "WITHVALUES"}),
      Cmd({"ZRANDMEMBER", "nope"}),
  });
}

// SMOVE and SINTERCARD.
TEST_F(DifferentialTest, SetMoveAndInterCard) {
  Compare({
      Cmd({"SADD", "s1", "a", "b", "c"}),
      Cmd({"SADD", "s2", "c", "d"}),
      Cmd({"SMOVE", "s1", "s2", "a"}),
      Cmd({"SMISMEMBER", "s1", "a", "b"}),
      Cmd({"SMISMEMBER", "s2", "a", "c"}),
      Cmd({"SMOVE", "s1", "s2", "c"}),
      Cmd({"SCARD", "s2"}),
      Cmd({"SMOVE", "s1", "s2", "zzz"}),
      Cmd({"SMOVE", "s1", "s1", "b"}),
      Cmd({"SMOVE", "s1", "s1", "zzz"}),
      Cmd({"SMOVE", "s1", "new", "b"}),
      Cmd({"EXISTS", "s1"}),
      Cmd({"SMEMBERS", "new"}),
      Cmd({"SET", kWrongType, "x"}),
      Cmd({"SMOVE", "nope", kWrongType, "a"}),
      Cmd({"SMOVE", kWrongType, "s2", "a"}),
      Cmd({"SMOVE", "s2", kWrongType, "a"}),
      Cmd({"SMOVE", "s2", "x"}),
      Cmd({"SADD", "i1", "a", "b", "c", "d"}),
      Cmd({"SADD", "i2", "b", "c", "d", "e"}),
      Cmd({"SINTERCARD", "2", "i1", "i2"}),
      Cmd({"SINTERCARD", "2", "i1", "i2", "LIMIT", "2"}),
      Cmd({"SINTERCARD", "2", "i1", "i2", "limit", "0"}),
      Cmd({"SINTERCARD", "1", "i1"}),
      Cmd({"SINTERCARD", "2", "i1", "nope"}),
      Cmd({"SINTERCARD", "2", "nope", kWrongType}),
      Cmd({"SINTERCARD", "0", "i1"}),
      Cmd({"SINTERCARD", "x", "i1"}),
      Cmd({"SINTERCARD", "3", "i1", "i2"}),
      Cmd({"SINTERCARD", "2", "i1", "i2", "LIMIT", "-1"}),
      Cmd({"SINTERCARD", "2", "i1", "i2", "LIMIT", "x"}),
      Cmd({"SINTERCARD", "2", "i1", "i2", "LIMIT"}),
      Cmd({"SINTERCARD", "1", "i1", "BOGUS"}),
      Cmd({"SINTERCARD", "1"}),
  });
}

// ZINTERCARD over sorted sets and sets, LIMIT, and its errors in Redis 7.0's order.
TEST_F(DifferentialTest, SortedSetInterCard) {
  Compare({
      Cmd({"ZADD", "za", "1", "a", "2", "b", "3", "c", "4", "d"}),
      Cmd({"ZADD", "zb", "5", "b", "6", "c", "7", "d", "8", "e"}),
      Cmd({"SADD", "sc", "c", "d", "x"}),
      Cmd({"ZINTERCARD", "2", "za", "zb"}),
      Cmd({"ZINTERCARD", "3", "za", "zb", "sc"}),
      Cmd({"ZINTERCARD", "2", "za", "zb", "LIMIT", "2"}),
      Cmd({"ZINTERCARD", "2", "za", "zb", "limit", "0"}),
      Cmd({"ZINTERCARD", "2", "za", "zb", "LIMIT", "10"}),
      Cmd({"ZINTERCARD", "2", "za", "zb", "LIMIT", "1", "LIMIT", "3"}),
      Cmd({"ZINTERCARD", "1", "za"}),
      Cmd({"ZINTERCARD", "2", "za", "nope"}),
      Cmd({"ZINTERCARD", "1", "nope"}),
      Cmd({"SET", kWrongType, "x"}),
      Cmd({"ZINTERCARD", "2", "nope", kWrongType}),
      Cmd({"ZINTERCARD", "1", kWrongType, "LIMIT", "x"}),
      Cmd({"ZINTERCARD", "1", "za", "LIMIT", "x"}),
      Cmd({"ZINTERCARD", "1", "za", "LIMIT", "-1"}),
      Cmd({"ZINTERCARD", "1", "za", "LIMIT"}),
      Cmd({"ZINTERCARD", "1", "za", "WITHSCORES"}),
      Cmd({"ZINTERCARD", "1", "za", "WEIGHTS", "1"}),
      Cmd({"ZINTERCARD", "1", "za", "AGGREGATE", "SUM"}),
      Cmd({"ZINTERCARD", "0", "za"}),
      Cmd({"ZINTERCARD", "-1", "za"}),
      Cmd({"ZINTERCARD", "x", "za"}),
      Cmd({"ZINTERCARD", "3", "za", "zb"}),
      Cmd({"ZINTERCARD", "1"}),
      Cmd({"MULTI"}),
      Cmd({"ZINTERCARD", "2", "za", "zb"}),
      Cmd({"ZINTERCARD", "0", "za"}),
      Cmd({"EXEC"}),
  });
}

// HINCRBYFLOAT refuses an infinite increment first (before the key's type or the field's
// value); INCRBYFLOAT answers it as an overflowing sum.
TEST_F(DifferentialTest, InfiniteFloatIncrements) {
  Compare({
      Cmd({"HINCRBYFLOAT", "h", "f", "inf"}),
      Cmd({"HINCRBYFLOAT", "h", "f", "+inf"}),
      Cmd({"HINCRBYFLOAT", "h", "f", "-Infinity"}),
      Cmd({"HINCRBYFLOAT", "h", "f", "nan"}),
      Cmd({"EXISTS", "h"}),
      Cmd({"SET", kWrongType, "x"}),
      Cmd({"HINCRBYFLOAT", kWrongType, "f", "inf"}),
      Cmd({"HSET", "h", "s", "abc", "big", "1e308"}),
      Cmd({"HINCRBYFLOAT", "h", "s", "-inf"}),
      Cmd({"HINCRBYFLOAT", "h", "s", "1"}),
      Cmd({"HINCRBYFLOAT", "h", "big", "1e308"}),
      Cmd({"INCRBYFLOAT", "n", "inf"}),
      Cmd({"INCRBYFLOAT", kWrongType, "inf"}),
      Cmd({"SET", "n", "1e308"}),
      Cmd({"INCRBYFLOAT", "n", "1e308"}),
  });
}

// SMOVE of a member the destination already has changes only the source: a WATCH on the
// destination still lets EXEC run; one on the source aborts it.
TEST_F(DifferentialTest, SetMoveTouchesOnlyWhatChanged) {
  Compare({
      Cmd({"SADD", "src", "a", "b"}),
      Cmd({"SADD", "dst", "a"}),
      Cmd({"WATCH", "dst"}),
      Cmd({"MULTI"}),
      Cmd({"SADD", "dst", "c"}),
      On(1, {"SMOVE", "src", "dst", "a"}),
      Cmd({"EXEC"}),
      Cmd({"SMEMBERS", "src"}),
      Cmd({"SCARD", "dst"}),
      Cmd({"WATCH", "src"}),
      Cmd({"MULTI"}),
      Cmd({"SADD", "dst", "d"}),
      On(1, {"SMOVE", "src", "dst", "a"}),
      On(1, {"SMOVE", "src", "dst", "b"}),
      Cmd({"EXEC"}),
      Cmd({"SCARD", "dst"}),
      Cmd({"EXISTS", "src"}),
  });
}

// SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP: ranges in bytes and bits, negative and
// clamped ends, missing keys, TTLs kept or dropped, and the argument errors.
TEST_F(DifferentialTest, BitOperations) {
  Compare({
      Cmd({"SETBIT", "b", "7", "1"}),
      Cmd({"SETBIT", "b", "7", "1"}),
      Cmd({"SETBIT", "b", "100", "1"}),
      Cmd({"GET", "b"}),
      Cmd({"GETBIT", "b", "7"}),
      Cmd({"GETBIT", "b", "6"}),
      Cmd({"GETBIT", "b", "100000"}),
      Cmd({"GETBIT", "nope", "3"}),
      Cmd({"SETBIT", "b", "7", "0"}),
      Cmd({"STRLEN", "b"}),
      Cmd({"SETBIT", "b", "-1", "1"}),
      Cmd({"SETBIT", "b", "x", "1"}),
      Cmd({"SETBIT", "b", "4294967296", "1"}),
      Cmd({"SETBIT", "b", "1", "2"}),
      Cmd({"SETBIT", "b", "1", "x"}),
      Cmd({"GETBIT", "b", "-1"}),
      Cmd({"SET", "s", "foobar"}),
      Cmd({"BITCOUNT", "s"}),
      Cmd({"BITCOUNT", "s", "0", "0"}),
      Cmd({"BITCOUNT", "s", "1", "1"}),
      Cmd({"BITCOUNT", "s", "1", "1", "BYTE"}),
      Cmd({"BITCOUNT", "s", "5", "30", "BIT"}),
      Cmd({"BITCOUNT", "s", "-2", "-1"}),
      Cmd({"BITCOUNT", "s", "-1", "-2"}),
      Cmd({"BITCOUNT", "s", "-100", "100"}),
      Cmd({"BITCOUNT", "s", "3", "1"}),
      Cmd({"BITCOUNT", "s", "0"}),
      Cmd({"BITCOUNT", "s", "0", "1", "WORD"}),
      Cmd({"BITCOUNT", "s", "x", "1"}),
      Cmd({"BITCOUNT", "nope"}),
      Cmd({"BITCOUNT", "nope", "x", "y"}),
      Cmd({"SET", "p", std::string("\xff\xf0\x00", 3)}),
      Cmd({"BITPOS", "p", "0"}),
      Cmd({"BITPOS", "p", "1"}),
      Cmd({"BITPOS", "p", "1", "2"}),
      Cmd({"BITPOS", "p", "0", "0", "0"}),
      Cmd({"BITPOS", "p", "0", "0"}),
      Cmd({"BITPOS", "p", "1", "7", "15", "BIT"}),
      Cmd({"BITPOS", "p", "0", "3", "-1", "BIT"}),
      Cmd({"BITPOS", "p", "0", "12", "BIT"}),
      Cmd({"BITPOS", "p", "1", "-1"}),
      Cmd({"BITPOS", "p", "1", "2", "1"}),
      Cmd({"SET", "ones", std::string("\xff\xff", 2)}),
      Cmd({"BITPOS", "ones", "0"}),
      Cmd({"BITPOS", "ones", "0", "0"}),
      Cmd({"BITPOS", "ones", "0", "0", "-1"}),
      Cmd({"BITPOS", "ones", "0", "3", "BIT"}),
      Cmd({"BITPOS", "nope", "1"}),
      Cmd({"BITPOS", "nope", "0"}),
      Cmd({"BITPOS", "p", "2"}),
      Cmd({"BITPOS", "p", "x"}),
      Cmd({"BITPOS", "p", "1", "x"}),
      Cmd({"BITPOS", "p", "1", "0", "1", "BOGUS"}),
      Cmd({"BITPOS", "p", "1", "0", "1", "BIT", "x"}),
      Cmd({"SET", "e", ""}),
      Cmd({"BITPOS", "e", "0"}),
      Cmd({"BITCOUNT", "e", "0", "-1"}),
      Cmd({"SET", "k1", "foobar"}),
      Cmd({"SET", "k2", "abcdef"}),
      Cmd({"BITOP", "AND", "dest", "k1", "k2"}),
      Cmd({"GET", "dest"}),
      Cmd({"BITOP", "or", "dest", "k1", "k2", "nope"}),
      Cmd({"GET", "dest"}),
      Cmd({"BITOP", "XOR", "dest", "k1", "b"}),
      Cmd({"GET", "dest"}),
      Cmd({"BITOP", "NOT", "dest", "k1"}),
      Cmd({"GET", "dest"}),
      Cmd({"SET", "withttl", "x", "EX", "100"}),
      Cmd({"BITOP", "AND", "withttl", "k1"}),
      Cmd({"TTL", "withttl"}),
      Cmd({"SETBIT", "ttl2", "1", "1"}),
      Cmd({"EXPIRE", "ttl2", "100"}),
      Cmd({"SETBIT", "ttl2", "2", "1"}),
      Cmd({"TTL", "ttl2"}),
      Cmd({"BITOP", "AND", "dest", "nope", "nope2"}),
      Cmd({"EXISTS", "dest"}),
      Cmd({"BITOP", "NOT", "dest", "k1", "k2"}),
      Cmd({"BITOP", "NAND", "dest", "k1"}),
      Cmd({"BITOP", "AND", "dest"}),
      Cmd({"RPUSH", "list", "a"}),
      Cmd({"SETBIT", "list", "1", "1"}),
      Cmd({"GETBIT", "list", "1"}),
      Cmd({"BITCOUNT", "list"}),
      Cmd({"BITPOS", "list", "1"}),
      Cmd({"BITOP", "AND", "dest", "k1", "list"}),
      Cmd({"BITOP", "AND", "list", "k1"}),
      Cmd({"TYPE", "list"}),
  });
}

// HSCAN, SSCAN, ZSCAN over collections small enough that Redis answers them in one page
// (cursor 0) in their stored order: hash fields and zset members inserted in byte order,
// sets of small integers (intsets, sorted numerically).
TEST_F(DifferentialTest, CollectionScans) {
  Compare({
      Cmd({"HSET", "h", "a1", "x", "a2", "y", "b1", "z"}),
      Cmd({"HSCAN", "h", "0"}),
      Cmd({"HSCAN", "h", "0", "MATCH", "a*"}),
      Cmd({"HSCAN", "h", "0", "COUNT", "100", "MATCH", "*1"}),
      Cmd({"HSCAN", "h", "0", "MATCH", "zzz"}),
      Cmd({"SADD", "s", "1", "2", "3"}),
      Cmd({"SSCAN", "s", "0"}),
      Cmd({"SSCAN", "s", "0", "MATCH", "2"}),
      Cmd({"ZADD", "z", "1", "a", "2.5", "b", "-3", "c"}),
      Cmd({"ZSCAN", "z", "0", "MATCH", "[ab]"}),
      Cmd({"ZSCAN", "z", "0", "MATCH", "c"}),
      Cmd({"HSCAN", "nope", "0"}),
      Cmd({"HSCAN", "nope", "0", "BOGUS"}),
      Cmd({"HSCAN", "h", "x"}),
      Cmd({"HSCAN", "nope", "x"}),
      Cmd({"HSCAN", "h", "0", "COUNT", "0"}),
      Cmd({"HSCAN", "h", "0", "COUNT", "x"}),
      Cmd({"HSCAN", "h", "0", "COUNT"}),
      Cmd({"HSCAN", "h", "0", "TYPE", "string"}),
      Cmd({"SSCAN", "h", "0"}),
      Cmd({"ZSCAN", "s", "0"}),
      Cmd({"HSCAN", "z", "0"}),
      Cmd({"HSCAN", "h"}),
      Cmd({"HELLO", "3"}),
      Cmd({"HSCAN", "h", "0", "MATCH", "b*"}),
      Cmd({"ZSCAN", "z", "0", "MATCH", "a"}),
  });
}

// COPY of strings (with TTL), lists, hashes, sets and sorted sets; REPLACE, DB and the
// errors.
TEST_F(DifferentialTest, Copy) {
  Compare({
      Cmd({"SET", "s", "v", "EX", "100"}),
      Cmd({"COPY", "s", "s2"}),
      Cmd({"GET", "s2"}),
      Cmd({"TTL", "s2"}),
      Cmd({"COPY", "s", "s2"}),
      Cmd({"RPUSH", "l", "a", "b", "c"}),
      Cmd({"COPY", "l", "s2"}),
      Cmd({"COPY", "l", "s2", "REPLACE"}),
      Cmd({"LRANGE", "s2", "0", "-1"}),
      Cmd({"TYPE", "s2"}),
      Cmd({"RPUSH", "s2", "d"}),
      Cmd({"LLEN", "l"}),
      Cmd({"HSET", "h", "f", "v", "g", "w"}),
      Cmd({"COPY", "h", "h2", "DB", "0"}),
      Cmd({"HGETALL", "h2"}),
      Cmd({"SADD", "set", "m"}),
      Cmd({"PEXPIRE", "set", "100000"}),
      Cmd({"COPY", "set", "set2"}),
      Cmd({"SMEMBERS", "set2"}),
      Cmd({"TTL", "set2"}),
      Cmd({"ZADD", "z", "1", "a", "2", "b"}),
      Cmd({"COPY", "z", "z2", "replace"}),
      Cmd({"ZRANGE", "z2", "0", "-1", "WITHSCORES"}),
      Cmd({"ZINCRBY", "z2", "5", "a"}),
      Cmd({"ZSCORE", "z", "a"}),
      Cmd({"COPY", "z", "s", "REPLACE"}),
      Cmd({"TYPE", "s"}),
      Cmd({"TTL", "s"}),
      Cmd({"COPY", "nope", "x"}),
      Cmd({"COPY", "s", "s"}),
      Cmd({"COPY", "nope", "nope"}),
      Cmd({"COPY", "s", "x", "DB", "99"}),
      Cmd({"COPY", "s", "x", "DB", "x"}),
      Cmd({"COPY", "s", "x", "DB"}),
      Cmd({"COPY", "s", "x", "BOGUS"}),
      Cmd({"COPY", "s"}),
  });
}

// CLIENT REPLY: OFF drops every reply until ON, SKIP drops the next command's (also one of
// several pipelined together), SKIP while OFF changes nothing, RESET ends OFF; errors.
TEST_F(DifferentialTest, ClientReply) {
  Compare({
      Cmd({"CLIENT", "REPLY", "OFF"}, 0),
      Cmd({"SET", "k", "1"}, 0),
      Cmd({"INCR", "k"}, 0),
      Cmd({"CLIENT", "REPLY", "SKIP"}, 0),
      Cmd({"CLIENT", "REPLY", "ON"}),
      Cmd({"GET", "k"}),
      Cmd({"CLIENT", "REPLY", "SKIP"}, 0),
      Cmd({"INCR", "k"}, 0),
      Cmd({"GET", "k"}),
      {0,
       EncodeCommand({"CLIENT", "REPLY", "SKIP"}) + EncodeCommand({"INCR", "k"}) +
           EncodeCommand({"INCR", "k"}) + EncodeCommand({"GET", "k"}),
       2},
      Cmd({"CLIENT", "REPLY", "SKIP"}, 0),
      Cmd({"CLIENT", "REPLY", "SKIP"}, 0),
      Cmd({"GET", "nosuch"}, 0),
      Cmd({"PING"}),
      Cmd({"CLIENT", "REPLY", "SKIP"}, 0),
      Cmd({"NOSUCH"}, 0),
      Cmd({"PING", "after-error"}),
      Cmd({"CLIENT", "REPLY", "OFF"}, 0),
      Cmd({"RESET"}),
      Cmd({"PING"}),
      Cmd({"CLIENT", "REPLY", "MAYBE"}),
      Cmd({"CLIENT", "REPLY"}),
      Cmd({"CLIENT", "REPLY", "ON", "x"}),
      Cmd({"HELLO", "3"}),
      Cmd({"CLIENT", "REPLY", "SKIP"}, 0),
      Cmd({"HGETALL", "nosuch"}, 0),
      Cmd({"CLIENT", "REPLY", "ON"}),
  });
}

// (P)(UN)SUBSCRIBE's confirmations are written even while CLIENT REPLY is OFF or SKIP
// (Redis 7.0 pushes them: CLIENT_PUSHING), RESP2 and RESP3; messages arrive too, other
// replies stay silent (the Tcl suite's "PubSub messages with CLIENT REPLY OFF").
TEST_F(DifferentialTest, SubscribeConfirmationsIgnoreClientReplyOff) {
  Compare({
      Cmd({"CLIENT", "REPLY", "OFF"}, 0),
      Cmd({"SUBSCRIBE", "ch", "ch2"}, 2),
      Cmd({"PSUBSCRIBE", "c*"}),
      On(1, {"PUBLISH", "ch", "hello"}),
      Read(0, 2),
      Cmd({"UNSUBSCRIBE", "ch"}),
      Cmd({"PUNSUBSCRIBE"}),
      Cmd({"UNSUBSCRIBE"}),
      Cmd({"UNSUBSCRIBE"}),
      Cmd({"PING"}, 0),
      Cmd({"CLIENT", "REPLY", "ON"}),
      Cmd({"CLIENT", "REPLY", "SKIP"}, 0),
      Cmd({"SUBSCRIBE", "ch"}),
      Cmd({"UNSUBSCRIBE"}),
      Cmd({"HELLO", "3"}),
      Cmd({"CLIENT", "REPLY", "OFF"}, 0),
      Cmd({"SUBSCRIBE", "ch"}),
      Cmd({"PSUBSCRIBE", "c*"}),
      On(1, {"PUBLISH", "ch", "hi"}),
      Read(0, 2),
      Cmd({"SET", "k", "v"}, 0),
      Cmd({"PUNSUBSCRIBE", "c*"}),
      Cmd({"UNSUBSCRIBE", "ch"}),
      Cmd({"CLIENT", "REPLY", "ON"}),
      Cmd({"GET", "k"}),
  });
}

// Keyspace notifications: CONFIG GET/SET of notify-keyspace-events as Redis prints and
// refuses them, and the events of each kind of write -- decided by what the write changed
// (SREM of an absent member: none; a collection emptied: "del" after), "new" before a created
// key's first event, masks by class, K and E channels, through MULTI/EXEC, a script and a
// pipelined run -- to a RESP2 and a RESP3 pattern subscriber (connections 1 and 2). Run a
// second time with multi-key commands over several groups (RENAME, SMOVE, SUNIONSTORE...).
TEST_F(DifferentialTest, KeyspaceNotifications) {
  std::vector<Step> script = {
      Cmd({"CONFIG", "GET", "notify-keyspace-events"}),
      Cmd({"CONFIG", "SET", "notify-keyspace-events", "gKE"}),
      Cmd({"CONFIG", "GET", "notify-keyspace-events"}),
      Cmd({"CONFIG", "SET", "notify-keyspace-events", "$lshzxeKE"}),
      Cmd({"CONFIG", "GET", "notify-keyspace-events"}),
      Cmd({"CONFIG", "SET", "notify-keyspace-events", "KA"}),
      Cmd({"CONFIG", "GET", "notify-keyspace-events"}),
      Cmd({"CONFIG", "SET", "notify-keyspace-events", "EAmnd"}),
      Cmd({"CONFIG", "GET", "notify-keyspace-events"}),
      Cmd({"CONFIG", "SET", "notify-keyspace-events", "KEZ"}),
      Cmd({"CONFIG", "GET", "notify-keyspace-events"}),
      Cmd({"CONFIG", "SET", "notify-keyspace-events", ""}),
      Cmd({"CONFIG", "GET", "notify-keyspace-events"}),
      On(1, {"PSUBSCRIBE", "*"}),
      On(2, {"HELLO", "3"}),
      On(2, {"PSUBSCRIBE", "__key*"}),
      Cmd({"SET", "quiet", "1"}),  // notifications off: nothing
      Cmd({"CONFIG", "SET", "notify-keyspace-events", "KEAn"}),
  };
  // A write and the `messages` each subscriber gets (2 per event: K and E).
  auto notify = [&](std::vector<std::string> args, int messages, int replies = 1) {
    script.push_back(Cmd(std::move(args), replies));
    script.push_back(Read(1, messages));
    script.push_back(Read(2, messages));
  };
  notify({"SET", "foo", "bar"}, 4);
  notify({"SET", "foo", "baz", "EX", "100"}, 4);
  notify({"SET", "foo", "x", "NX"}, 0);
  notify({"EXPIRE", "foo", "100"}, 2);
  notify({"PERSIST", "foo"}, 2);
  notify({"PERSIST", "foo"}, 0);
  notify({"RENAME", "foo", "k2"}, 6);
  notify({"LPUSH", "mylist", "a", "b"}, 4);
  notify({"RPOP", "mylist"}, 2);
  notify({"LPOP", "mylist"}, 4);
  notify({"RPUSH", "l2", "a", "b", "c"}, 4);
  notify({"LMOVE", "l2", "l3", "LEFT", "RIGHT"}, 6);
  notify({"LTRIM", "l2", "5", "6"}, 4);
  notify({"SADD", "myset", "a", "b"}, 4);
  notify({"SADD", "myset", "a"}, 0);
  notify({"SREM", "myset", "x"}, 0);
  notify({"SREM", "myset", "a"}, 2);
  notify({"SMOVE", "myset", "s2", "b"}, 8);
  notify({"SUNIONSTORE", "dst", "s2"}, 4);
  notify({"SINTERSTORE", "dst", "nothere"}, 2);
  notify({"SINTERSTORE", "dst", "nothere"}, 0);
  notify({"ZADD", "myz", "1", "a"}, 4);
  notify({"ZADD", "myz", "INCR", "1", "a"}, 2);
  notify({"ZINCRBY", "myz", "1", "a"}, 2);
  notify({"ZREM", "myz", "x"}, 0);
  notify({"ZPOPMIN", "myz"}, 4);
  notify({"HSET", "h", "f", "1", "g", "2"}, 4);
  notify({"HINCRBY", "h", "f", "2"}, 2);
  notify({"HDEL", "h", "f", "g"}, 4);
  notify({"INCR", "n"}, 4);
  notify({"INCRBYFLOAT", "n", "1.5"}, 2);
  notify({"APPEND", "n", "x"}, 2);
  notify({"SETRANGE", "n", "0", "y"}, 2);
  notify({"INCR", "n"}, 0);  // an error: no event
  notify({"MSET", "m1", "1", "m2", "2"}, 8);
  notify({"DEL", "m1", "m2", "nothere"}, 4);
  notify({"GETDEL", "k2"}, 2);
  notify({"COPY", "n", "n2"}, 4);
  notify({"EXPIRE", "n", "-1"}, 2);
  notify({"SET", "e", "1"}, 4);
  notify({"GETEX", "e", "PX", "100000"}, 2);
  notify({"GETEX", "e", "PERSIST"}, 2);
  notify({"GETEX", "e"}, 0);
  // Masks: only list events, keyspace channel only; then only "new" keyevents.
  script.push_back(Cmd({"CONFIG", "SET", "notify-keyspace-events", "Kl"}));
  notify({"SET", "foo", "bar"}, 0);
  notify({"LPUSH", "mylist", "a"}, 1);
  script.push_back(Cmd({"CONFIG", "SET", "notify-keyspace-events", "En"}));
  notify({"SET", "fresh", "1"}, 1);
  notify({"SET", "fresh", "2"}, 0);
  // MULTI/EXEC, a script, a pipelined run.
  script.push_back(Cmd({"CONFIG", "SET", "notify-keyspace-events", "KEA"}));
  script.push_back(Cmd({"MULTI"}));
  script.push_back(Cmd({"INCR", "t1"}));
  script.push_back(Cmd({"SADD", "t2", "x"}));
  notify({"EXEC"}, 4);
  notify({"EVAL", "redis.call('set', KEYS[1], 'v') return redis.call('del', KEYS[1])", "1", "sk"},
         4);
  script.push_back({0,
                    EncodeCommand({"SET", "p1", "1"}) + EncodeCommand({"INCR", "p1"}) +
                        EncodeCommand({"LPUSH", "p2", "x"}),
                    3});
  script.push_back(Read(1, 6));
  script.push_back(Read(2, 6));
  // More kinds of writes (KEA): element edits, STORE forms, a same-key move, NX forms that
  // change nothing, a read-only BITFIELD.
  script.push_back(Cmd({"CONFIG", "SET", "notify-keyspace-events", "KEA"}));
  notify({"RPUSH", "l", "a", "b", "c", "d"}, 2);
  notify({"LSET", "l", "0", "x"}, 2);
  notify({"LINSERT", "l", "before", "x", "y"}, 2);
  notify({"LREM", "l", "1", "y"}, 2);
  notify({"LTRIM", "l", "0", "1"}, 2);
  notify({"HSET", "h", "f", "1"}, 2);
  notify({"HINCRBYFLOAT", "h", "f", "1.5"}, 2);
  notify({"HSETNX", "h", "f", "2"}, 0);
  notify({"HSETNX", "h", "g", "2"}, 2);
  notify({"SETBIT", "b", "7", "1"}, 2);
  notify({"BITFIELD", "b", "set", "u8", "0", "255"}, 2);
  notify({"BITFIELD", "b", "get", "u8", "0"}, 0);
  notify({"ZADD", "z", "1", "a", "2", "b", "3", "c"}, 2);
  notify({"ZREMRANGEBYSCORE", "z", "0", "1"}, 2);
  notify({"ZREMRANGEBYRANK", "z", "0", "0"}, 2);
  notify({"ZRANGESTORE", "z2", "z", "0", "-1"}, 2);
  notify({"ZUNIONSTORE", "z3", "2", "z", "z2"}, 2);
  notify({"SADD", "s", "1", "2", "3"}, 2);  // an intset: SPOP answers in its order
  notify({"SPOP", "s", "5"}, 4);
  notify({"SORT", "l", "alpha", "store", "so"}, 2);
  notify({"BITOP", "or", "bo", "b"}, 2);
  notify({"COPY", "l", "lc"}, 2);
  notify({"PSETEX", "pk", "100000", "v"}, 4);
  notify({"EXPIRE", "pk", "200", "gt"}, 2);
  notify({"RPOPLPUSH", "l", "l"}, 4);
  notify({"LMOVE", "l", "l2", "right", "left"}, 4);
  notify({"ZPOPMAX", "z", "10"}, 4);
  notify({"RENAMENX", "lc", "l2"}, 0);
  notify({"RENAMENX", "lc", "newl"}, 4);
  script.push_back(Cmd({"CONFIG", "SET", "notify-keyspace-events", ""}));
  Compare(script);
}

// CLIENT UNBLOCK: its checks and words, 0 for a client that is not blocked, and a blocked
// client answered as by its timeout or with the UNBLOCKED error. Connection 1's id is the
// same on both servers' side of the script: it is asked for first.
TEST_F(DifferentialTest, ClientUnblock) {
  Compare({
      Cmd({"CLIENT", "UNBLOCK"}),
      Cmd({"CLIENT", "UNBLOCK", "1", "2", "3"}),
      Cmd({"CLIENT", "UNBLOCK", "x"}),
      Cmd({"CLIENT", "UNBLOCK", "1", "foo"}),
      Cmd({"CLIENT", "UNBLOCK", "x", "foo"}),
      Cmd({"CLIENT", "UNBLOCK", "999999", "ERROR"}),
      Cmd({"CLIENT", "UNBLOCK", "-1", "timeout"}),
  });
}

// CLIENT UNBLOCK of a blocked client (its id differs between the servers, so this talks to
// each directly): answered as by its timeout (a null array, BLMOVE's too) or with the
// UNBLOCKED error, 1 for the unblocker, 0 once the client no longer waits.
TEST(ClientUnblockTest, BlockedClientAnsweredAsRedisAnswersIt) {
  BothServers both;
  ASSERT_TRUE(both.Ready());
  auto transcript = [](int port) {
    RespClient unblocker(port);
    RespClient blocked(port);
    std::string id = blocked.Call({"CLIENT", "ID"});
    id = id.substr(1, id.size() - 3);  // ":<id>\r\n"
    std::vector<std::string> out;
    for (const std::vector<std::string>& command :
         std::vector<std::vector<std::string>>{{"BLPOP", "ub1", "0"},
                                               {"BLMOVE", "ub2", "ub3", "LEFT", "RIGHT", "0"},
                                               {"BZPOPMIN", "ub4", "100"}}) {
      for (const char* reason : {"TIMEOUT", "ERROR"}) {
        blocked.Send(command);
        // Retried until the client blocked (the unblocker's 0 is not part of the transcript).
        std::string answer;
        for (int attempt = 0; attempt < 200; ++attempt) {
          answer = unblocker.Call({"CLIENT", "UNBLOCK", id, reason});
          if (answer != ":0\r\n") break;
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        out.push_back(answer);
        out.push_back(blocked.ReadReply(std::chrono::seconds(20)));
        out.push_back(unblocker.Call({"CLIENT", "UNBLOCK", id, reason}));
      }
    }
    out.push_back(blocked.Call({"PING"}));
    return out;
  };
  const std::vector<std::string> want = transcript(both.redis.port());
  const std::vector<std::string> got = transcript(both.ekv.port());
  EXPECT_EQ(got, want);
  ASSERT_EQ(want.size(), 19u);
  EXPECT_EQ(want[4], "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
}

// MEMORY: the options' checks and words, nil for a missing key, HELP and PURGE as Redis's.
// (The byte count of an existing key is ekv's estimate, not Redis's allocator's: checked by
// ExecutorCommandsTest.MemoryUsageGrowsWithTheValue.)
TEST_F(DifferentialTest, MemoryUsageOptionsAndMissingKeys) {
  Compare({
      Cmd({"MEMORY", "USAGE", "nope"}),
      Cmd({"MEMORY", "USAGE", "nope", "SAMPLES", "0"}),
      Cmd({"MEMORY", "usage", "nope", "samples", "7"}),
      Cmd({"MEMORY", "USAGE"}),
      Cmd({"MEMORY"}),
      Cmd({"MEMORY", "USAGE", "nope", "SAMPLES", "x"}),
      Cmd({"MEMORY", "USAGE", "nope", "SAMPLES", "-1"}),
      Cmd({"MEMORY", "USAGE", "nope", "SAMPLES"}),
      Cmd({"MEMORY", "USAGE", "nope", "BOGUS", "1"}),
      Cmd({"MEMORY", "BOGUS"}),
      Cmd({"MEMORY", "HELP"}),
      Cmd({"MEMORY", "HELP", "x"}),
      Cmd({"MEMORY", "PURGE"}),
      Cmd({"MEMORY", "PURGE", "x"}),
      Cmd({"RPUSH", "l", "a", "b"}),
      Cmd({"MEMORY", "USAGE", "l", "SAMPLES", "x"}),
      Cmd({"HELLO", "3"}),
      Cmd({"MEMORY", "USAGE", "nope"}),
      Cmd({"MEMORY", "HELP"}),
  });
}

// LCS: the string, LEN, IDX with MINMATCHLEN / WITHMATCHLEN, missing keys and errors, in
// RESP2 and RESP3 (IDX answers a map).
TEST_F(DifferentialTest, LongestCommonSubsequence) {
  Compare({
      Cmd({"MSET", "key1", "ohmytext", "key2", "mynewtext"}),
      Cmd({"LCS", "key1", "key2"}),
      Cmd({"LCS", "key1", "key2", "LEN"}),
      Cmd({"LCS", "key1", "key2", "IDX"}),
      Cmd({"LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4"}),
      Cmd({"LCS", "key1", "key2", "IDX", "MINMATCHLEN", "-4", "WITHMATCHLEN"}),
      Cmd({"LCS", "key1", "nope"}),
      Cmd({"LCS", "nope", "nope2", "IDX"}),
      Cmd({"LCS", "key1", "key1", "withmatchlen", "idx"}),
      Cmd({"LCS", "key1", "key2", "LEN", "IDX"}),
      Cmd({"LCS", "key1", "key2", "MINMATCHLEN"}),
      Cmd({"LCS", "key1", "key2", "MINMATCHLEN", "x"}),
      Cmd({"LCS", "key1", "key2", "BOGUS"}),
      Cmd({"RPUSH", "list", "a"}),
      Cmd({"LCS", "key1", "list"}),
      Cmd({"LCS", "list", "key1", "BOGUS"}),
      Cmd({"LCS", "key1"}),
      Cmd({"HELLO", "3"}),
      Cmd({"LCS", "key1", "key2", "IDX", "WITHMATCHLEN"}),
  });
}

// OBJECT ENCODING/REFCOUNT/FREQ/IDLETIME/HELP for every type (encodings as a fresh write
// would get them), and MOVE, refused as a server with one database refuses it.
TEST_F(DifferentialTest, ObjectAndMove) {
  const std::string long_value(65, 'x');
  Compare({
      Cmd({"SET", "s", "123"}),
      Cmd({"OBJECT", "ENCODING", "s"}),
      Cmd({"OBJECT", "REFCOUNT", "s"}),
      Cmd({"OBJECT", "FREQ", "s"}),
      // (OBJECT IDLETIME of a live key is not compared: Redis's LRU clock ticks in whole
      // seconds, so it answers 1 when a tick falls between SET and OBJECT on a slow run.)
      Cmd({"object", "encoding", "s"}),
      Cmd({"SET", "t", "abc"}),
      Cmd({"OBJECT", "ENCODING", "t"}),
      Cmd({"OBJECT", "REFCOUNT", "t"}),
      Cmd({"SET", "big", "12345678901234567890123"}),
      Cmd({"OBJECT", "ENCODING", "big"}),
      Cmd({"SET", "raw", long_value}),
      Cmd({"OBJECT", "ENCODING", "raw"}),
      Cmd({"SET", "n", "99999"}),
      Cmd({"OBJECT", "REFCOUNT", "n"}),
      Cmd({"SET", "neg", "-5"}),
      Cmd({"OBJECT", "ENCODING", "neg"}),
      Cmd({"OBJECT", "REFCOUNT", "neg"}),
      Cmd({"SET", "sp", " 5"}),
      Cmd({"OBJECT", "ENCODING", "sp"}),
      Cmd({"OBJECT", "ENCODING", "nokey"}),
      Cmd({"OBJECT", "REFCOUNT", "nokey"}),
      Cmd({"OBJECT", "FREQ", "nokey"}),
      Cmd({"OBJECT", "IDLETIME", "nokey"}),
      Cmd({"RPUSH", "l", "a"}),
      Cmd({"OBJECT", "ENCODING", "l"}),
      Cmd({"OBJECT", "REFCOUNT", "l"}),
      Cmd({"SADD", "ints", "1", "2", "-3"}),
      Cmd({"OBJECT", "ENCODING", "ints"}),
      Cmd({"SADD", "strs", "1", "a"}),
      Cmd({"OBJECT", "ENCODING", "strs"}),
      Cmd({"HSET", "h", "f", "v"}),
      Cmd({"OBJECT", "ENCODING", "h"}),
      Cmd({"HSET", "hbig", "f", long_value}),
      Cmd({"OBJECT", "ENCODING", "hbig"}),
      Cmd({"ZADD", "z", "1", "a"}),
      Cmd({"OBJECT", "ENCODING", "z"}),
      Cmd({"ZADD", "zbig", "1", long_value}),
      Cmd({"OBJECT", "ENCODING", "zbig"}),
      Cmd({"OBJECT", "HELP"}),
      Cmd({"OBJECT", "help", "x"}),
      Cmd({"OBJECT", "ENCODING"}),
      Cmd({"OBJECT", "ENCODING", "s", "x"}),
      Cmd({"OBJECT", "FOO"}),
      Cmd({"OBJECT", "FOO", "s"}),
      Cmd({"OBJECT"}),
      Cmd({"MOVE", "s", "0"}),
      Cmd({"MOVE", "nokey", "0"}),
      Cmd({"MOVE", "s", "16"}),
      Cmd({"MOVE", "s", "-1"}),
      Cmd({"MOVE", "s", "abc"}),
      Cmd({"MOVE", "s", "99999999999"}),
      Cmd({"MOVE", "s"}),
      Cmd({"GET", "s"}),
      Cmd({"HELLO", "3"}),
      Cmd({"OBJECT", "ENCODING", "nokey"}),
      Cmd({"OBJECT", "ENCODING", "z"}),
  });
}

// BITFIELD and BITFIELD_RO: every type width edge, # offsets, the three OVERFLOW modes on
// SET and INCRBY, reads past the end, key creation, and the errors in Redis's order.
TEST_F(DifferentialTest, Bitfield) {
  Compare({
      Cmd({"BITFIELD", "bf"}),
      Cmd({"EXISTS", "bf"}),
      Cmd({"BITFIELD", "bf", "GET", "u8", "0"}),
      Cmd({"EXISTS", "bf"}),
      Cmd({"BITFIELD", "bf", "SET", "i8", "0", "-100", "GET", "u8", "0", "GET", "i8", "0"}),
      Cmd({"GET", "bf"}),
      Cmd({"BITFIELD", "bf", "INCRBY", "i5", "100", "1", "GET", "u4", "0"}),
      Cmd({"BITFIELD", "bf", "SET", "u8", "#1", "255", "GET", "u8", "#1", "GET", "i16", "#0"}),
      Cmd({"STRLEN", "bf"}),
      Cmd({"BITFIELD", "bf", "INCRBY", "u2", "102", "1", "INCRBY", "u2", "102", "1", "INCRBY", "u2",
           "102", "1", "INCRBY", "u2", "102", "1"}),
      Cmd({"BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1", "INCRBY", "u2", "102",
           "1", "INCRBY", "u2", "102", "-5"}),
      Cmd({"BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "u2", "102", "4", "INCRBY", "u2", "102",
           "1", "OVERFLOW", "WRAP", "INCRBY", "u2", "102", "4"}),
      Cmd({"BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "i8", "0", "1000", "GET", "i8", "0", "SET",
           "i8", "0", "-1000", "GET", "i8", "0"}),
      Cmd({"BITFIELD", "bf", "OVERFLOW", "FAIL", "SET", "i8", "0", "1000", "SET", "u8", "0", "-1",
           "SET", "u8", "0", "7"}),
      Cmd({"BITFIELD", "bf", "SET", "u8", "0", "-1", "GET", "u8", "0", "SET", "i4", "0", "9"}),
      Cmd({"BITFIELD",
           "bf",
           "SET",
           "i64",
           "8",
           "-9223372036854775808",
           "GET",
           "i64",
           "8",
           "INCRBY",
           "i64",
           "8",
           "-1",
           "OVERFLOW",
           "SAT",
           "INCRBY",
           "i64",
           "8",
           "9223372036854775807",
           "INCRBY",
           "i64",
           "8",
           "1"}),
      Cmd({"BITFIELD",
           "bf",
           "SET",
           "u63",
           "3",
           "9223372036854775807",
           "GET",
           "u63",
           "3",
           "INCRBY",
           "u63",
           "3",
           "1",
           "OVERFLOW",
           "SAT",
           "INCRBY",
           "u63",
           "3",
           "-1",
           "INCRBY",
           "u63",
           "3",
           "-9223372036854775808"}),
      Cmd({"BITFIELD", "bf", "GET", "i1", "0", "GET", "u1", "0", "GET", "i64", "1000", "GET", "u8",
           "#10000"}),
      Cmd({"BITFIELD", "new", "OVERFLOW", "FAIL", "INCRBY", "u8", "100", "1000"}),
      Cmd({"STRLEN", "new"}),
      Cmd({"BITFIELD_RO", "bf", "GET", "u8", "0", "GET", "i8", "#1"}),
      Cmd({"BITFIELD_RO", "nokey", "GET", "u8", "0"}),
      Cmd({"BITFIELD_RO", "bf", "SET", "u8", "0", "1"}),
      Cmd({"BITFIELD_RO", "bf", "INCRBY", "u8", "0", "1", "GET", "u8", "0"}),
      Cmd({"BITFIELD_RO", "bf"}),
      Cmd({"BITFIELD", "bf", "GET", "u64", "0"}),
      Cmd({"BITFIELD", "bf", "GET", "i65", "0"}),
      Cmd({"BITFIELD", "bf", "GET", "i0", "0"}),
      Cmd({"BITFIELD", "bf", "GET", "x8", "0"}),
      Cmd({"BITFIELD", "bf", "GET", "i", "0"}),
      Cmd({"BITFIELD", "bf", "GET", "u08", "0"}),
      Cmd({"BITFIELD", "bf", "GET", "u8", "-1"}),
      Cmd({"BITFIELD", "bf", "GET", "u8", "#-1"}),
      Cmd({"BITFIELD", "bf", "GET", "u8", "x"}),
      Cmd({"BITFIELD", "bf", "GET", "u8", "4294967296"}),
      Cmd({"BITFIELD", "bf", "GET", "u8", "4294967295"}),
      Cmd({"BITFIELD", "bf", "SET", "u8", "0", "x"}),
      Cmd({"BITFIELD", "bf", "SET", "u8", "0"}),
      Cmd({"BITFIELD", "bf", "GET", "u8"}),
      Cmd({"BITFIELD", "bf", "BOGUS", "u8", "0"}),
      Cmd({"BITFIELD", "bf", "OVERFLOW", "NOPE", "GET", "u8", "0"}),
      Cmd({"BITFIELD", "bf", "OVERFLOW"}),
      Cmd({"BITFIELD", "bf", "GET", "x8", "0", "BOGUS"}),
      Cmd({"BITFIELD", "bf", "GET", "u8", "0", "OVERFLOW", "WRAP"}),
      Cmd({"RPUSH", "list", "a"}),
      Cmd({"BITFIELD", "list", "GET", "u8", "0"}),
      Cmd({"BITFIELD", "list", "SET", "u8", "0", "1"}),
      Cmd({"BITFIELD_RO", "list", "GET", "u8", "0"}),
      Cmd({"BITFIELD_RO", "list", "SET", "u8", "0", "1"}),
      Cmd({"BITFIELD"}),
      Cmd({"SET", "ttl", "ab", "EX", "100"}),
      Cmd({"BITFIELD", "ttl", "SET", "u8", "16", "99"}),
      Cmd({"TTL", "ttl"}),
      Cmd({"GET", "ttl"}),
      Cmd({"HELLO", "3"}),
      Cmd({"BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "u2", "102", "4", "GET", "u2", "102"}),
  });
}

namespace dump_restore {

std::string Payload(const std::string& body_without_footer, uint16_t version = 10) {
  std::string out = body_without_footer;
  out.push_back(static_cast<char>(version & 0xff));
  out.push_back(static_cast<char>(version >> 8));
  const uint64_t crc = redis_core::Crc64Jones(0, out);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  return out;
}

// The elements of a flat RESP2 array of bulk strings (nullopt: not one).
std::optional<std::vector<std::string>> Bulks(const std::string& reply) {
  if (reply.empty() || reply[0] != '*') return std::nullopt;
  size_t pos = reply.find("\r\n");
  const long count = std::stol(reply.substr(1, pos - 1));
  pos += 2;
  std::vector<std::string> out;
  for (long i = 0; i < count; ++i) {
    if (pos >= reply.size() || reply[pos] != '$') return std::nullopt;
    const size_t eol = reply.find("\r\n", pos);
    const size_t len = std::stoul(reply.substr(pos + 1, eol - pos - 1));
    out.push_back(reply.substr(eol + 2, len));
    pos = eol + 2 + len + 2;
  }
  return out;
}

// A bulk reply's bytes.
std::string BulkOf(const std::string& reply) {
  const size_t eol = reply.find("\r\n");
  if (reply.empty() || reply[0] != '$' || eol == std::string::npos) return "";
  const long len = std::stol(reply.substr(1, eol - 1));
  if (len < 0) return "";
  return reply.substr(eol + 2, len);
}

// How a key reads back, independent of set and hash order.
std::string ReadBack(RespClient& client, const std::string& type, const std::string& key) {
  if (type == "string") return client.Call({"GET", key});
  if (type == "list") return client.Call({"LRANGE", key, "0", "-1"});
  if (type == "zset") return client.Call({"ZRANGE", key, "0", "-1", "WITHSCORES"});
  const std::string reply = client.Call({type == "set" ? "SMEMBERS" : "HGETALL", key});
  std::optional<std::vector<std::string>> items = Bulks(reply);
  if (!items.has_value()) return "<not an array: " + reply + ">";
  std::vector<std::string> units;
  for (size_t i = 0; i < items->size(); i += type == "set" ? 1 : 2) {
    units.push_back(type == "set" ? (*items)[i] : (*items)[i] + "=" + (*items)[i + 1]);
  }
  std::sort(units.begin(), units.end());
  return absl::StrJoin(units, "\n");
}

struct Case {
  std::string key;
  std::string type;
  std::vector<std::string> create;
};

std::vector<Case> Cases() {
  std::vector<Case> cases;
  auto add = [&](std::string key, std::string type, std::vector<std::string> create) {
    cases.push_back({std::move(key), std::move(type), std::move(create)});
  };
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"s-word", "hello"},
           {"s-int8", "-7"},
           {"s-int16", "300"},
           {"s-int32", "70000"},
           {"s-int64", "12345678901"},
           {"s-empty", ""},
           {"s-lzf", std::string(54, 'a')},
           {"s-lzf2", absl::StrCat(std::string(40, 'x'), "abcabcabcabcabcabc")}}) {
    add(key, "string", {"SET", key, value});
  }
  std::string noise;
  for (int i = 0; i < 5000; ++i) noise.push_back(static_cast<char>((i * 7919 + i / 13) & 0xff));
  add("s-big", "string", {"SET", "s-big", noise});
  // LZF in redis-server's payloads: a long repetitive string, a list's listpacks, a small
  // hash's listpack, a plain hash's long values.
  add("s-long-repeat", "string", {"SET", "s-long-repeat", std::string(30000, 'r')});
  add("l-repeat", "list",
      {"RPUSH", "l-repeat", "repeat-repeat", "repeat-repeat", "repeat-repeat", "repeat-repeat"});
  add("h-lp-repeat", "hash",
      {"HSET", "h-lp-repeat", "field-1", "value-value-value", "field-2", "value-value-value"});
  add("h-plain-repeat", "hash",
      {"HSET", "h-plain-repeat", "f", std::string(500, 'w'), "g", std::string(90, 'x')});
  add("l-small", "list", {"RPUSH", "l-small", "a", "1", "-5000", "3000000000"});
  std::vector<std::string> big_list = {"RPUSH", "l-big"};
  for (int i = 0; i < 1000; ++i)
    big_list.push_back(absl::StrCat("element-", i % 17 == 0 ? i * 1000 : i));
  add("l-big", "list", big_list);
  add("l-huge-element", "list", {"RPUSH", "l-huge-element", "x", std::string(10000, 'q'), noise});
  add("set-int16", "set", {"SADD", "set-int16", "1", "2", "3", "-40"});
  add("set-int32", "set", {"SADD", "set-int32", "1", "70000"});
  add("set-int64", "set", {"SADD", "set-int64", "5000000000", "-3"});
  add("set-strings", "set", {"SADD", "set-strings", "a", "b", "c"});
  std::vector<std::string> big_set = {"SADD", "set-big"};
  std::vector<std::string> int_set = {"SADD", "set-600-ints"};
  for (int i = 0; i < 600; ++i) {
    big_set.push_back(absl::StrCat("member:", i));
    int_set.push_back(absl::StrCat(i * 3));
  }
  add("set-big", "set", big_set);
  add("set-600-ints", "set", int_set);
  add("h-small", "hash", {"HSET", "h-small", "f", "v", "num", "12", "neg", "-70000"});
  add("h-long-value", "hash", {"HSET", "h-long-value", "f", std::string(100, 'v'), "g", "1"});
  std::vector<std::string> big_hash = {"HSET", "h-big"};
  for (int i = 0; i < 300; ++i) {
    big_hash.push_back(absl::StrCat("field", i));
    big_hash.push_back(absl::StrCat("value", i * 11));
  }
  add("h-big", "hash", big_hash);
  add("z-small", "zset",
      {"ZADD", "z-small", "1.5", "a", "2", "b", "-inf", "c", "1e300", "d", "-0.125", "e"});
  add("z-long-member", "zset", {"ZADD", "z-long-member", "1", std::string(100, 'm'), "2", "n"});
  std::vector<std::string> big_zset = {"ZADD", "z-big"};
  for (int i = 0; i < 300; ++i) {
    big_zset.push_back(absl::StrCat(i * 0.37 - 20));
    big_zset.push_back(absl::StrCat("zm", i));
  }
  add("z-big", "zset", big_zset);
  return cases;
}

}  // namespace dump_restore

// Errors and options of RESTORE and DUMP of strings, byte for byte (ekv's string payloads
// are Redis's for short strings).
TEST_F(DifferentialTest, DumpRestoreErrorsAndStrings) {
  using dump_restore::Payload;
  const std::string hello = Payload(std::string("\x00\x05hello", 7));
  const std::string stream = Payload(std::string("\x0f\x00", 2));      // a stream: unsupported
  const std::string empty_list = Payload(std::string("\x12\x00", 2));  // no quicklist node
  const std::string truncated = Payload(std::string("\x00\x09hel", 5));
  std::string bad_crc = hello;
  bad_crc.back() ^= 1;
  Compare({
      Cmd({"SET", "s", "hello"}),
      Cmd({"DUMP", "s"}),
      Cmd({"DUMP", "missing"}),
      Cmd({"SET", "n", "300"}),
      Cmd({"DUMP", "n"}),
      Cmd({"SET", "neg", "-7"}),
      Cmd({"DUMP", "neg"}),
      Cmd({"SET", "big", "12345678901"}),
      Cmd({"DUMP", "big"}),
      Cmd({"RESTORE", "s", "0", hello}),
      Cmd({"RESTORE", "s", "x", "garbage"}),
      Cmd({"RESTORE", "s2", "0", hello}),
      Cmd({"GET", "s2"}),
      Cmd({"RESTORE", "s2", "0", hello, "REPLACE"}),
      Cmd({"RESTORE", "s3", "x", hello}),
      Cmd({"RESTORE", "s3", "-1", hello}),
      Cmd({"RESTORE", "s3", "0", "garbage"}),
      Cmd({"RESTORE", "s3", "0", bad_crc}),
      Cmd({"RESTORE", "s3", "0", Payload(std::string("\x00\x05hello", 7), 11)}),
      Cmd({"RESTORE", "s3", "0", stream}),
      Cmd({"RESTORE", "s3", "0", empty_list}),
      Cmd({"RESTORE", "s3", "0", truncated}),
      Cmd({"RESTORE", "s3", "0", hello, "BOGUS"}),
      Cmd({"RESTORE", "s3", "0", hello, "IDLETIME", "-1"}),
      Cmd({"RESTORE", "s3", "0", hello, "IDLETIME", "x"}),
      Cmd({"RESTORE", "s3", "0", hello, "FREQ", "256"}),
      Cmd({"RESTORE", "s3", "0", hello, "FREQ", "-1"}),
      Cmd({"RESTORE", "s3", "0", hello, "IDLETIME", "5", "FREQ", "3"}),
      Cmd({"RESTORE", "s3", "0", hello, "IDLETIME"}),
      Cmd({"EXISTS", "s3"}),
      Cmd({"RESTORE", "s3", "0", hello, "idletime", "10"}),
      Cmd({"RESTORE", "s4", "100000", hello}),
      Cmd({"TTL", "s4"}),
      Cmd({"RESTORE", "s5", "1", hello, "ABSTTL"}),
      Cmd({"EXISTS", "s5"}),
      Cmd({"RESTORE", "s", "1", hello, "ABSTTL", "REPLACE"}),
      Cmd({"EXISTS", "s"}),
      Cmd({"RESTORE", "s6", "0"}),
      Cmd({"DUMP"}),
  });
}

// A listpack of short strings (each at most 63 bytes), as a payload's blob.
std::string SmallListpack(const std::vector<std::string>& items) {
  std::string body;
  for (const std::string& item : items) {
    std::string entry(1, static_cast<char>(0x80 | item.size()));
    entry += item;
    entry.push_back(static_cast<char>(entry.size()));  // backlen
    body += entry;
  }
  body.push_back(static_cast<char>(0xff));
  std::string lp;
  const uint32_t total = static_cast<uint32_t>(6 + body.size());
  for (int i = 0; i < 4; ++i) lp.push_back(static_cast<char>((total >> (8 * i)) & 0xff));
  lp.push_back(static_cast<char>(items.size() & 0xff));
  lp.push_back(static_cast<char>(items.size() >> 8));
  return lp + body;
}

// Redis 7.0 RESTOREs a listpack hash or sorted set and an intset that hold a key twice
// (sanitize-dump-payload no, its default, does not look for duplicates) and answers OK;
// HGET, ZSCORE and SISMEMBER find the first. Plain and ziplist forms with duplicates are
// "Bad data format". (HLEN, SCARD and HGETALL are not compared: Redis keeps both entries,
// ekv the first; RestoreDuplicatesTest checks ekv's counts.)
TEST_F(DifferentialTest, RestoreWithDuplicatesAsRedis) {
  using dump_restore::Payload;
  auto blob = [](char type, const std::string& bytes) {
    return Payload(std::string(1, type) + std::string(1, static_cast<char>(bytes.size())) + bytes);
  };
  const std::string hash = blob(16, SmallListpack({"f", "v1", "g", "x", "f", "v2"}));
  const std::string zset = blob(17, SmallListpack({"m", "1", "m", "2", "n", "3"}));
  std::string intset("\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x01\x00\x02\x00", 14);
  const std::string set = blob(11, intset);
  // A plain hash (type 4) with the field twice: refused.
  const std::string lp = SmallListpack({"z", "one", "y", "two", "x", "three"});
  const std::string listpack =
      Payload(std::string(1, 16) + std::string(1, static_cast<char>(lp.size())) + lp);
  const std::string plain = Payload(std::string("\x04\x02\x01f\x01a\x01f\x01b", 10));
  Compare({
      Cmd({"RESTORE", "h", "0", hash}),
      Cmd({"HGET", "h", "f"}),
      Cmd({"HGET", "h", "g"}),
      Cmd({"TYPE", "h"}),
      Cmd({"RESTORE", "z", "0", zset}),
      Cmd({"ZSCORE", "z", "m"}),
      Cmd({"ZSCORE", "z", "n"}),
      Cmd({"RESTORE", "s", "0", set}),
      Cmd({"SISMEMBER", "s", "1"}),
      Cmd({"SISMEMBER", "s", "2"}),
      Cmd({"RESTORE", "p", "0", plain}),
      Cmd({"EXISTS", "p"}),
  });
}

// After such a RESTORE ekv holds each field, member or number once (the first), and every
// count agrees with what the reads return: HLEN, ZCARD and SCARD are the distinct count
// (Redis 7.0 counts the listpack's entries, 3 here, while HGETALL returns the repeated
// field twice; with sanitize-dump-payload yes it refuses the payload), the key's DUMP
// has no duplicate, and deleting the fields one by one empties it.
TEST(RestoreDuplicatesTest, CountsAreOfDistinctFieldsAndMembers) {
  using dump_restore::Payload;
  auto blob = [](char type, const std::string& bytes) {
    return Payload(std::string(1, type) + std::string(1, static_cast<char>(bytes.size())) + bytes);
  };
  const std::string hash = blob(16, SmallListpack({"f", "v1", "g", "x", "f", "v2"}));
  const std::string zset = blob(17, SmallListpack({"m", "1", "m", "2", "n", "3"}));
  const std::string set =
      blob(11, std::string("\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x01\x00\x02\x00", 14));
  for (const bool detached : {false, true}) {
    EkvServer ekv({}, detached);
    ASSERT_TRUE(ekv.started);
    RespClient client(ekv.port());
    ASSERT_EQ(client.Call({"RESTORE", "h", "0", hash}), "+OK\r\n");
    ASSERT_EQ(client.Call({"RESTORE", "z", "0", zset}), "+OK\r\n");
    ASSERT_EQ(client.Call({"RESTORE", "s", "0", set}), "+OK\r\n");
    EXPECT_EQ(client.Call({"HLEN", "h"}), ":2\r\n");
    EXPECT_EQ(client.Call({"HGETALL", "h"}), "*4\r\n$1\r\nf\r\n$2\r\nv1\r\n$1\r\ng\r\n$1\r\nx\r\n");
    EXPECT_EQ(client.Call({"ZCARD", "z"}), ":2\r\n");
    EXPECT_EQ(client.Call({"ZRANGE", "z", "0", "-1", "WITHSCORES"}),
              "*4\r\n$1\r\nm\r\n$1\r\n1\r\n$1\r\nn\r\n$1\r\n3\r\n");
    EXPECT_EQ(client.Call({"ZCOUNT", "z", "-inf", "+inf"}), ":2\r\n");
    EXPECT_EQ(client.Call({"SCARD", "s"}), ":2\r\n");
    EXPECT_EQ(client.Call({"SMEMBERS", "s"}), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    // The DUMP of what ekv holds has each once: RESTOREd again it counts the same.
    const std::string again = dump_restore::BulkOf(client.Call({"DUMP", "h"}));
    EXPECT_EQ(client.Call({"RESTORE", "h2", "0", again}), "+OK\r\n");
    EXPECT_EQ(client.Call({"HLEN", "h2"}), ":2\r\n");
    EXPECT_EQ(client.Call({"HDEL", "h", "f"}), ":1\r\n");
    EXPECT_EQ(client.Call({"HLEN", "h"}), ":1\r\n");
    EXPECT_EQ(client.Call({"HGET", "h", "f"}), "$-1\r\n");
    EXPECT_EQ(client.Call({"HDEL", "h", "g"}), ":1\r\n");
    EXPECT_EQ(client.Call({"EXISTS", "h"}), ":0\r\n");
    EXPECT_EQ(client.Call({"ZREM", "z", "m", "n"}), ":2\r\n");
    EXPECT_EQ(client.Call({"EXISTS", "z"}), ":0\r\n");
    EXPECT_EQ(client.Call({"SPOP", "s", "5"}), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    EXPECT_EQ(client.Call({"EXISTS", "s"}), ":0\r\n");
  }
}

// DUMP compresses every string of the payload longer than 20 bytes with LZF when that
// saves at least four bytes (string values, listpacks, intsets, plain elements), as Redis
// 7.0 does: the payloads are byte-identical. (Hashes are filled in field order, the order
// ekv keeps them; Redis keeps a small hash in insertion order and a big one in its dict's
// order. Lists are built by RPUSH, whose quicklist nodes ekv's DUMP reproduces.)
TEST_F(DifferentialTest, DumpCompressesWithLzfAsRedis) {
  std::string noise;
  for (int i = 0; i < 300; ++i) noise.push_back(static_cast<char>((i * 7919 + i / 13) & 0xff));
  std::vector<std::string> long_list = {"RPUSH", "l-long"};
  std::vector<std::string> long_zset = {"ZADD", "z-long"};
  std::vector<std::string> int_set = {"SADD", "set-ints"};
  std::vector<std::string> nodes_list = {"RPUSH", "l-nodes"};  // several 8 KB nodes
  for (int i = 0; i < 3000; ++i) nodes_list.push_back(absl::StrCat("e-", i, i % 3 ? "" : "-x"));
  nodes_list.push_back(std::string(300, 'y'));
  nodes_list.push_back(std::string(9000, 'z'));
  nodes_list.push_back("tail");
  for (int i = 0; i < 400; ++i) {
    long_list.push_back(absl::StrCat("element-", i % 7));
    long_zset.push_back(absl::StrCat(i % 50));
    long_zset.push_back(absl::StrCat("member-with-a-long-common-prefix-", i));
    int_set.push_back(absl::StrCat(i * 2));
  }
  Compare({
      Cmd({"SET", "s20", std::string(20, 'a')}),
      Cmd({"DUMP", "s20"}),
      Cmd({"SET", "s21", std::string(21, 'a')}),
      Cmd({"DUMP", "s21"}),
      Cmd({"SET", "s-repeat", absl::StrCat(std::string(40, 'x'), "abcabcabcabcabcabc")}),
      Cmd({"DUMP", "s-repeat"}),
      Cmd({"SET", "s-long", std::string(20000, 'z')}),
      Cmd({"DUMP", "s-long"}),
      Cmd({"SET", "s-noise", noise}),
      Cmd({"DUMP", "s-noise"}),
      Cmd({"SET", "s-text", "the quick brown fox jumps over the lazy dog; the quick brown fox"}),
      Cmd({"DUMP", "s-text"}),
      Cmd({"RPUSH", "l-small", "aaaaaaaaaa", "aaaaaaaaaa", "aaaaaaaaaa"}),
      Cmd({"DUMP", "l-small"}),
      Cmd(long_list),
      Cmd({"DUMP", "l-long"}),
      Cmd(nodes_list),
      Cmd({"DUMP", "l-nodes"}),
      Cmd({"RPUSH", "l-big-element", "x", std::string(5000, 'q'), noise}),
      Cmd({"DUMP", "l-big-element"}),
      Cmd({"HSET", "h-lp", "f1", "value-value-value", "f2", "value-value-value", "f3", "v"}),
      Cmd({"DUMP", "h-lp"}),
      Cmd({"HSET", "h-plain", "a", std::string(100, 'v')}),  // one field: no dict order
      Cmd({"DUMP", "h-plain"}),
      Cmd({"ZADD", "z-lp", "1", "member-member-member", "2", "member-member-member2"}),
      Cmd({"DUMP", "z-lp"}),
      Cmd(long_zset),
      Cmd({"DUMP", "z-long"}),
      Cmd(int_set),
      Cmd({"DUMP", "set-ints"}),
      Cmd({"SADD", "set-one-long", std::string(70, 'm')}),
      Cmd({"DUMP", "set-one-long"}),
  });
}

// Values of every type and encoding class DUMPed by redis-server 7.0 RESTORE into ekv
// and read back equal, and ekv's DUMPs RESTORE into redis-server the same way.
TEST(DumpRestoreInteropTest, EveryTypeAndEncodingBothWays) {
  BothServers both;
  ASSERT_TRUE(both.Ready());
  RespClient to_redis(both.redis.port());
  RespClient to_ekv(both.ekv.port());
  for (const dump_restore::Case& c : dump_restore::Cases()) {
    ASSERT_EQ(to_redis.Call(c.create), to_ekv.Call(c.create)) << c.key;
    const std::string want = dump_restore::ReadBack(to_redis, c.type, c.key);
    ASSERT_EQ(dump_restore::ReadBack(to_ekv, c.type, c.key), want) << c.key;
    // redis-server -> ekv
    const std::string from_redis = dump_restore::BulkOf(to_redis.Call({"DUMP", c.key}));
    ASSERT_FALSE(from_redis.empty()) << c.key;
    EXPECT_EQ(to_ekv.Call({"RESTORE", "r:" + c.key, "0", from_redis}), "+OK\r\n")
        << c.key << " payload " << absl::BytesToHexString(from_redis.substr(0, 64));
    EXPECT_EQ(dump_restore::ReadBack(to_ekv, c.type, "r:" + c.key), want) << c.key;
    EXPECT_EQ(to_ekv.Call({"TYPE", "r:" + c.key}), "+" + c.type + "\r\n");
    // ekv -> redis-server
    const std::string from_ekv = dump_restore::BulkOf(to_ekv.Call({"DUMP", c.key}));
    ASSERT_FALSE(from_ekv.empty()) << c.key;
    EXPECT_EQ(to_redis.Call({"RESTORE", "e:" + c.key, "0", from_ekv}), "+OK\r\n")
        << c.key << " payload " << absl::BytesToHexString(from_ekv.substr(0, 64));
    EXPECT_EQ(dump_restore::ReadBack(to_redis, c.type, "e:" + c.key), want) << c.key;
    EXPECT_EQ(to_redis.Call({"OBJECT", "ENCODING", "e:" + c.key}),
              to_redis.Call({"OBJECT", "ENCODING", c.key}))
        << c.key << ": ekv's DUMP picks the encoding Redis had";
  }
}

// A list's DUMP depends on its quicklist's nodes (8 KB listpacks), and Redis's nodes
// depend on the list's history; ekv writes the nodes an RPUSH of the elements leaves. The
// two agree for every list Redis holds in one node, whatever built or edited it (LPUSH,
// LSET, LINSERT, LREM, LTRIM, pops, moves), and for a list of several nodes changed only
// at its tail (RPUSH, RPOP, LMOVE ... RIGHT): those payloads are byte-identical.
TEST_F(DifferentialTest, DumpOfListsAsRedisInOneNodeOrEditedAtTheTail) {
  std::vector<std::string> lpush = {"LPUSH", "l"};
  for (const char* e : {"a", "0", "127", "128", "-4096", "4095", "-32768", "32767", "8388607",
                        "-8388608", "2147483647", "-2147483648", "9223372036854775807",
                        "9223372036854775808", "-0", "007", " 1", ""}) {
    lpush.push_back(e);
  }
  lpush.push_back(std::string(63, 'x'));
  lpush.push_back(std::string(64, 'y'));
  lpush.push_back(std::string(4096, 'z'));
  std::vector<std::string> tail = {"RPUSH", "t"};  // several nodes
  std::vector<std::string> more = {"RPUSH", "t"};
  std::vector<std::string> src = {"RPUSH", "src"};
  for (int i = 0; i < 1500; ++i) {
    tail.push_back(absl::StrCat(std::string(i % 23, 'e'), i));
    more.push_back(absl::StrCat(i * 7919 % 100000));
    src.push_back(absl::StrCat("moved-", i));
  }
  Compare({
      Cmd(lpush),
      Cmd({"DUMP", "l"}),
      Cmd({"RPUSH", "l", "tail-1", "55"}),
      Cmd({"LPUSH", "l", "head-1"}),
      Cmd({"DUMP", "l"}),
      Cmd({"LSET", "l", "3", "now-a-string"}),
      Cmd({"LSET", "l", "5", "12"}),
      Cmd({"LSET", "l", "-1", std::string(100, 'w')}),
      Cmd({"DUMP", "l"}),
      Cmd({"LINSERT", "l", "BEFORE", "a", "before-a"}),
      Cmd({"LINSERT", "l", "AFTER", "127", "-1"}),
      Cmd({"DUMP", "l"}),
      Cmd({"RPUSH", "l", "dup", "x", "dup", "y", "dup"}),
      Cmd({"LREM", "l", "2", "dup"}),
      Cmd({"DUMP", "l"}),
      Cmd({"LREM", "l", "-1", "dup"}),
      Cmd({"LREM", "l", "0", "-4096"}),
      Cmd({"DUMP", "l"}),
      Cmd({"LPOP", "l", "2"}),
      Cmd({"RPOP", "l"}),
      Cmd({"DUMP", "l"}),
      Cmd({"LTRIM", "l", "1", "-2"}),
      Cmd({"DUMP", "l"}),
      Cmd({"RPOPLPUSH", "l", "l"}),
      Cmd({"LMOVE", "l", "l2", "LEFT", "LEFT"}),
      Cmd({"LPUSHX", "l2", "9"}),
      Cmd({"RPUSHX", "l2", "10"}),
      Cmd({"DUMP", "l"}),
      Cmd({"DUMP", "l2"}),
      Cmd(tail),
      Cmd({"DUMP", "t"}),
      Cmd({"RPOP", "t", "300"}),
      Cmd({"DUMP", "t"}),
      Cmd(more),
      Cmd({"RPOP", "t"}),
      Cmd({"DUMP", "t"}),
      Cmd(src),
      Cmd({"LMOVE", "src", "t", "LEFT", "RIGHT"}),
      Cmd({"RPOPLPUSH", "src", "t2"}),
      Cmd({"LMOVE", "src", "t2", "RIGHT", "RIGHT"}),
      Cmd({"DUMP", "t"}),
      Cmd({"DUMP", "t2"}),
  });
}

// A hash of at most 128 fields of at most 64 bytes is a listpack in Redis, its fields in
// the order they were first set, and so in ekv (HashInsertionOrder has other orders): it
// DUMPs byte-identically, values of every listpack encoding included.
TEST_F(DifferentialTest, DumpOfHashesFilledInFieldOrderAsRedis) {
  std::vector<std::string> full = {"HSET", "full"};
  for (int i = 0; i < 128; ++i) {
    full.push_back(absl::StrFormat("f%03d", i));
    full.push_back(absl::StrCat(i * 1000 - 64000));
  }
  Compare({
      Cmd({"HSET", "h",
           "a",    "1",
           "b",    "-4096",
           "c",    "32767",
           "d",    "-8388608",
           "e",    "2147483647",
           "f",    "9223372036854775807",
           "g",    "9223372036854775808",
           "h",    "-0",
           "i",    "007",
           "j",    std::string(64, 'v'),
           "k",    ""}),
      Cmd({"DUMP", "h"}),
      Cmd({"HSET", "h", "c", "now-a-string", "a", std::string(60, 'w')}),
      Cmd({"HINCRBY", "h", "b", "5000"}),
      Cmd({"HINCRBYFLOAT", "h", "e", "0.5"}),
      Cmd({"DUMP", "h"}),
      Cmd({"HDEL", "h", "d", "k"}),
      Cmd({"HSETNX", "h", "l", "new-last"}),
      Cmd({"HINCRBY", "h", "m", "-7"}),
      Cmd({"HINCRBYFLOAT", "h", "n", "2.25"}),
      Cmd({"HMSET", "h", "o", "x", "a", "1"}),
      Cmd({"DUMP", "h"}),
      Cmd({"HSET", "plain", std::string(65, 'f'), "v"}),  // one field: no dict order
      Cmd({"DUMP", "plain"}),
      Cmd(full),
      Cmd({"DUMP", "full"}),
      Cmd({"OBJECT", "ENCODING", "full"}),
  });
}

// Sorted sets and intsets have one order (score then member; number), so their DUMPs are
// Redis's whatever built them, scores in each form a listpack stores them included:
// integers up to 2^62 (-0 as 0, 1e17 as an integer), the rest as %.17g text.
TEST_F(DifferentialTest, DumpOfSortedSetsAndIntsetsAsRedis) {
  Compare({
      Cmd({"ZADD",
           "z",
           "0.1",
           "a",
           "-0",
           "b",
           "0",
           "c",
           "1e15",
           "d",
           "4503599627370496",
           "e",
           "-4503599627370495",
           "f",
           "3.0",
           "g",
           "-inf",
           "h",
           "+inf",
           "i",
           "1e-300",
           "j"}),
      Cmd({"DUMP", "z"}),
      Cmd({"ZADD", "z", "1e17", "k", "4611686018427387904", "l", "-4611686018427387904", "m",
           "4611686018427387905000", "n", "-1e19", "o"}),
      Cmd({"DUMP", "z"}),
      Cmd({"ZINCRBY", "z", "0.2", "a"}),
      Cmd({"ZADD", "z", "-1", "d", "5", "new"}),
      Cmd({"ZREM", "z", "e"}),
      Cmd({"DUMP", "z"}),
      Cmd({"SADD", "s", "32767", "-32768", "5", "1", "3"}),
      Cmd({"DUMP", "s"}),
      Cmd({"SADD", "s", "32768"}),
      Cmd({"DUMP", "s"}),
      Cmd({"SADD", "s", "-2147483649"}),
      Cmd({"SREM", "s", "5"}),
      Cmd({"DUMP", "s"}),
  });
}

// The payloads that depend on history ekv does not keep: a list of several nodes changed
// at its head or in the middle (Redis's nodes are where its pushes and edits left them).
// Both sides RESTORE the other's payload to the same value, and ekv's payload is exactly
// Redis's for the same value built canonically (RPUSH in order): the node boundaries are
// the only difference. (A small hash's insertion order is kept: HashInsertionOrder.)
TEST(DumpRestoreInteropTest, HistoryDependentPayloadsRoundTrip) {
  BothServers both;
  ASSERT_TRUE(both.Ready());
  RespClient to_redis(both.redis.port());
  RespClient to_ekv(both.ekv.port());
  struct HistoryCase {
    std::string key;
    std::string type;
    std::vector<std::vector<std::string>> build;
  };
  std::vector<std::vector<std::string>> lpushes;
  std::vector<std::string> rpush = {"RPUSH", "l-edited"};
  for (int i = 0; i < 2000; ++i) {
    lpushes.push_back({"LPUSH", "l-lpush", absl::StrCat(std::string(i % 31, 'p'), i)});
    rpush.push_back(absl::StrCat(std::string(i % 17, 'r'), i));
  }
  const std::vector<HistoryCase> cases = {
      {"l-lpush", "list", lpushes},
      {"l-edited",
       "list",
       {rpush,
        {"LSET", "l-edited", "700", std::string(3000, 's')},
        {"LINSERT", "l-edited", "BEFORE", "5", "inserted"},
        {"LREM", "l-edited", "0", "rrrrrrrrrrrr12"},
        {"LPOP", "l-edited", "3"}}},
  };
  for (const HistoryCase& c : cases) {
    for (const std::vector<std::string>& command : c.build) {
      ASSERT_EQ(to_redis.Call(command), to_ekv.Call(command)) << c.key;
    }
    const std::string want = dump_restore::ReadBack(to_redis, c.type, c.key);
    ASSERT_EQ(dump_restore::ReadBack(to_ekv, c.type, c.key), want) << c.key;
    const std::string from_redis = dump_restore::BulkOf(to_redis.Call({"DUMP", c.key}));
    const std::string from_ekv = dump_restore::BulkOf(to_ekv.Call({"DUMP", c.key}));
    ASSERT_FALSE(from_redis.empty()) << c.key;
    ASSERT_FALSE(from_ekv.empty()) << c.key;
    EXPECT_NE(from_redis, from_ekv) << c.key << ": the history no longer shows; update the docs";
    EXPECT_EQ(to_ekv.Call({"RESTORE", "r:" + c.key, "0", from_redis}), "+OK\r\n") << c.key;
    EXPECT_EQ(dump_restore::ReadBack(to_ekv, c.type, "r:" + c.key), want) << c.key;
    EXPECT_EQ(to_redis.Call({"RESTORE", "e:" + c.key, "0", from_ekv}), "+OK\r\n") << c.key;
    EXPECT_EQ(dump_restore::ReadBack(to_redis, c.type, "e:" + c.key), want) << c.key;
    // The same value built canonically in Redis DUMPs as ekv's.
    std::vector<std::string> canonical;
    const std::string order = c.type == "list" ? to_ekv.Call({"LRANGE", c.key, "0", "-1"})
                                               : to_ekv.Call({"HGETALL", c.key});
    std::optional<std::vector<std::string>> items = dump_restore::Bulks(order);
    ASSERT_TRUE(items.has_value()) << order;
    canonical = {c.type == "list" ? "RPUSH" : "HSET", "c:" + c.key};
    canonical.insert(canonical.end(), items->begin(), items->end());
    to_redis.Call(canonical);
    EXPECT_EQ(dump_restore::BulkOf(to_redis.Call({"DUMP", "c:" + c.key})), from_ekv) << c.key;
  }
}

// Redis 7.0 keeps a hash of at most 128 fields, each field and value at most 64 bytes, as
// a listpack in insertion order (an updated field keeps its place, a deleted and re-added
// one goes to the end) and converts it to a hashtable once over either bound, never
// back. ekv answers such a hash in the same order (layout.h): HGETALL, HKEYS, HVALS, HSCAN
// (one page, cursor 0, whatever COUNT), HRANDFIELD of the whole hash, DUMP byte for byte,
// OBJECT ENCODING, in RESP2 and RESP3, and after COPY, RENAME and RESTORE.
TEST_F(DifferentialTest, HashInsertionOrder) {
  const std::string v64(64, 'v');
  const std::string v65(65, 'w');
  const std::string f70(70, 'f');
  std::vector<std::string> reverse_128 = {"HSET", "big"};
  for (int i = 127; i >= 0; --i) {
    reverse_128.push_back(absl::StrCat("field", i));
    reverse_128.push_back(absl::StrCat(i * 7 - 300));
  }
  Compare(
      {
          Cmd({"HSET", "h", "b", "1", "a", "2", "c", "3"}),
          Cmd({"HGETALL", "h"}),
          Cmd({"HSET", "h", "a", "9"}),
          Cmd({"HKEYS", "h"}),
          Cmd({"HDEL", "h", "b"}),
          Cmd({"HSET", "h", "b", "4", "zz", "-12345678901"}),
          Cmd({"HGETALL", "h"}),
          Cmd({"HVALS", "h"}),
          Cmd({"HSETNX", "h", "d", "x"}),
          Cmd({"HSETNX", "h", "a", v65}),
          Cmd({"OBJECT", "ENCODING", "h"}),
          Cmd({"HINCRBY", "h", "e", "5"}),
          Cmd({"HINCRBYFLOAT", "h", "f", "1.5"}),
          Cmd({"HINCRBY", "h", "a", "1"}),
          Cmd({"HGETALL", "h"}),
          Cmd({"HSCAN", "h", "0"}),
          Cmd({"HSCAN", "h", "0", "COUNT", "1"}),
          Cmd({"HSCAN", "h", "5", "COUNT", "2", "MATCH", "[abz]*"}),
          Cmd({"HRANDFIELD", "h", "100"}),
          Cmd({"HRANDFIELD", "h", "8", "WITHVALUES"}),
          Cmd({"DUMP", "h"}),
          Cmd({"OBJECT", "ENCODING", "h"}),
          Cmd({"COPY", "h", "hcopy"}),
          Cmd({"HGETALL", "hcopy"}),
          Cmd({"RENAME", "hcopy", "hmoved"}),
          Cmd({"HKEYS", "hmoved"}),
          Cmd({"DUMP", "hmoved"}),
          // 64 bytes fit a listpack; 65 convert it for good, also after the long value goes.
          Cmd({"HSET", "h64", "x", "1", "y", v64, "w", "2"}),
          Cmd({"OBJECT", "ENCODING", "h64"}),
          Cmd({"HGETALL", "h64"}),
          Cmd({"HSET", "h64", "y", v65}),
          Cmd({"OBJECT", "ENCODING", "h64"}),
          Cmd({"HDEL", "h64", "y", "w"}),
          Cmd({"OBJECT", "ENCODING", "h64"}),
          Cmd({"HGETALL", "h64"}),
          Cmd({"HINCRBY", "hf", f70, "1"}),
          Cmd({"OBJECT", "ENCODING", "hf"}),
          Cmd({"HSET", "hf2", f70, "1"}),
          Cmd({"OBJECT", "ENCODING", "hf2"}),
          Cmd({"HINCRBYFLOAT", "hf3", "a", "1"}),
          Cmd({"HINCRBYFLOAT", "hf3", f70, "1"}),
          Cmd({"OBJECT", "ENCODING", "hf3"}),
          // 128 fields stay a listpack; the 129th converts it; removing fields keeps it so.
          Cmd(reverse_128),
          Cmd({"OBJECT", "ENCODING", "big"}),
          Cmd({"HGETALL", "big"}),
          Cmd({"HSCAN", "big", "0", "COUNT", "3", "MATCH", "field1?"}),
          Cmd({"DUMP", "big"}),
          Cmd({"HSET", "big", "field0", "updated"}),
          Cmd({"OBJECT", "ENCODING", "big"}),
          Cmd({"HSET", "big", "one-more", "x"}),
          Cmd({"OBJECT", "ENCODING", "big"}),
          Cmd({"HDEL", "big", "one-more", "field5", "field6"}),
          Cmd({"HLEN", "big"}),
          Cmd({"OBJECT", "ENCODING", "big"}),
          Cmd({"DEL", "big"}),
          Cmd({"HSET", "big", "again", "1", "small", "2"}),
          Cmd({"OBJECT", "ENCODING", "big"}),
          Cmd({"HGETALL", "big"}),
          Cmd({"HELLO", "3"}),
          Cmd({"HGETALL", "h"}),
          Cmd({"HRANDFIELD", "h", "100", "WITHVALUES"}),
          Cmd({"HSCAN", "h", "0", "MATCH", "*"}),
          Cmd({"HKEYS", "h"}),
      },
      "", kRedisConfDefaults);
}

// DUMP of small hashes byte for byte, and RESTORE keeping a payload's order: Redis's own
// listpack and a plain hash payload (type 4) of a few fields load as listpacks.
TEST_F(DifferentialTest, HashDumpRestoreOrder) {
  using dump_restore::Payload;
  // A plain hash (type 4) with fields "z", "a", "m".
  const std::string lp = SmallListpack({"z", "one", "y", "two", "x", "three"});
  const std::string listpack =
      Payload(std::string(1, 16) + std::string(1, static_cast<char>(lp.size())) + lp);
  const std::string plain =
      Payload(std::string("\x04\x03\x01z\x01"
                          "1\x01"
                          "a\x01"
                          "2\x01m\x01"
                          "3",
                          14));
  Compare(
      {
          Cmd({"HSET", "h1", "only", "v"}),
          Cmd({"DUMP", "h1"}),
          Cmd({"HSET", "h2", "z", "-1", "y", "70000", "x", "9223372036854775807", "w", "text"}),
          Cmd({"DUMP", "h2"}),
          Cmd({"HSET", "h2", "y", "changed"}),
          Cmd({"HDEL", "h2", "z"}),
          Cmd({"HSET", "h2", "z", "back"}),
          Cmd({"DUMP", "h2"}),
          Cmd({"RESTORE", "plain", "0", plain}),
          Cmd({"HGETALL", "plain"}),
          Cmd({"OBJECT", "ENCODING", "plain"}),
          Cmd({"HSET", "plain", "b", "4"}),
          Cmd({"DUMP", "plain"}),
          Cmd({"RESTORE", "lp", "0", listpack}),
          Cmd({"HGETALL", "lp"}),
          Cmd({"DUMP", "lp"}),
          Cmd({"HGETALL", "copy2"}),
      },
      "", kRedisConfDefaults);
}

// Sets of at most 512 integers are intsets in Redis 7.0, answered in numeric order.
TEST_F(DifferentialTest, IntsetOrder) {
  std::vector<std::string> ints_600 = {"SADD", "many"};
  for (int i = 600; i > 0; --i) ints_600.push_back(absl::StrCat(i * 13 % 1001));
  Compare({
      Cmd({"SADD", "s", "10", "9", "-1", "100", "3", "-20", "9223372036854775807"}),
      Cmd({"SMEMBERS", "s"}),
      Cmd({"SSCAN", "s", "0"}),
      Cmd({"SSCAN", "s", "3", "COUNT", "1"}),
      Cmd({"SSCAN", "s", "0", "MATCH", "1*"}),
      Cmd({"SADD", "t", "9", "100", "8", "-1"}),
      Cmd({"SINTER", "s", "t"}),
      Cmd({"SUNION", "s", "t"}),
      Cmd({"SDIFF", "s", "t"}),
      Cmd({"SRANDMEMBER", "s", "50"}),
      Cmd({"SINTERSTORE", "st", "t", "s"}),
      Cmd({"SMEMBERS", "st"}),
      Cmd({"DUMP", "s"}),
      Cmd({"OBJECT", "ENCODING", "s"}),
      Cmd({"SPOP", "t", "10"}),
      Cmd({"SADD", "lead0", "010", "2", "1"}),
      Cmd({"OBJECT", "ENCODING", "lead0"}),
      // (After SREM of "010" Redis keeps a hashtable in its own order: not compared.)
      Cmd(ints_600),
      Cmd({"OBJECT", "ENCODING", "many"}),
      Cmd({"SCARD", "many"}),
      Cmd({"HELLO", "3"}),
      Cmd({"SMEMBERS", "s"}),
      Cmd({"SUNION", "s", "st"}),
  });
}

// A small sorted set is a listpack in Redis 7.0: ZSCAN answers it whole in score order,
// and a score of -0 is stored as text "0"; a skiplist keeps -0. Computed replies (ZINCRBY
// of a new member, ZUNION) keep the sign.
TEST_F(DifferentialTest, SortedSetNegativeZeroAndScanOrder) {
  const std::string m70(70, 'm');
  std::vector<std::string> big = {"ZADD", "big"};
  for (int i = 0; i < 130; ++i) {
    big.push_back(absl::StrCat(i));
    big.push_back(absl::StrCat("m", i));
  }
  Compare({
      Cmd({"ZADD", "z", "3", "a", "1", "b", "2", "c", "-0", "m"}),
      Cmd({"ZSCAN", "z", "0"}),
      Cmd({"ZSCAN", "z", "7", "COUNT", "1"}),
      Cmd({"ZSCORE", "z", "m"}),
      Cmd({"ZMSCORE", "z", "m", "a"}),
      Cmd({"ZRANGE", "z", "0", "-1", "WITHSCORES"}),
      Cmd({"ZINCRBY", "z", "-0", "new"}),
      Cmd({"ZSCORE", "z", "new"}),
      Cmd({"ZADD", "z", "INCR", "-0", "new2"}),
      Cmd({"ZSCORE", "z", "new2"}),
      Cmd({"ZINCRBY", "z", "-0", "m"}),
      Cmd({"DUMP", "z"}),
      Cmd({"OBJECT", "ENCODING", "z"}),
      Cmd(big),
      Cmd({"OBJECT", "ENCODING", "big"}),
      Cmd({"ZADD", "big", "-0", "neg"}),
      Cmd({"ZSCORE", "big", "neg"}),
      Cmd({"ZINCRBY", "big", "-0", "neg2"}),
      Cmd({"ZSCORE", "big", "neg2"}),
      Cmd({"ZRANGEBYSCORE", "big", "-1", "0", "WITHSCORES"}),
      Cmd({"ZRANGE", "big", "0", "2", "WITHSCORES"}),
      Cmd({"ZPOPMIN", "big", "2"}),
      Cmd({"ZSCAN", "big", "0", "MATCH", "neg*", "COUNT", "1000"}),
      Cmd({"ZREMRANGEBYRANK", "big", "10", "-1"}),
      Cmd({"OBJECT", "ENCODING", "big"}),
      Cmd({"ZADD", "long", "-0", m70}),
      Cmd({"ZSCORE", "long", m70}),
      Cmd({"OBJECT", "ENCODING", "long"}),
      Cmd({"ZUNIONSTORE", "u", "1", "long", "WEIGHTS", "-1"}),
      Cmd({"ZSCORE", "u", m70}),
      Cmd({"ZADD", "five", "0", "a"}),
      Cmd({"ZUNION", "1", "five", "WEIGHTS", "-1", "WITHSCORES"}),
      Cmd({"ZUNIONSTORE", "u2", "1", "five", "WEIGHTS", "-1"}),
      Cmd({"ZSCORE", "u2", "a"}),
      Cmd({"HELLO", "3"}),
      Cmd({"ZSCORE", "z", "m"}),
      Cmd({"ZSCORE", "big", "neg"}),
      Cmd({"ZINCRBY", "z", "-0", "new3"}),
      Cmd({"ZSCAN", "z", "0"}),
  });
}

// COMMAND INFO, byte for byte as Redis 7.0 answers it (flags in Redis's order, key
// positions, ACL categories, tips, key specifications), for every command of ekv's own table
// (CommandTable::Default), so a command added there is checked too. A container command (Redis
// lists subcommands for it: CLIENT, CONFIG, ...) is compared by name and arity only: Redis keeps
// its flags on the subcommands.
TEST(CommandInfoTest, FlagsKeysAndCategoriesAsRedis) {
  BothServers both;
  ASSERT_TRUE(both.Ready());
  RespClient to_redis(both.redis.port());
  RespClient to_ekv(both.ekv.port());
  size_t compared = 0;
  for (const auto& [name, spec] : CommandTable::Default().specs()) {
    const std::string want = to_redis.Call({"COMMAND", "INFO", name});
    ASSERT_EQ(want.substr(0, 9), "*1\r\n*10\r\n") << name << ": " << want;
    const std::string got = to_ekv.Call({"COMMAND", "INFO", name});
    const std::string subcommands =
        to_redis.Call({"COMMAND", "LIST", "FILTERBY", "PATTERN", name + "|*"});
    if (subcommands != "*0\r\n") {
      const std::string head = absl::StrCat("$", name.size(), "\r\n", name, "\r\n:", spec.arity);
      EXPECT_NE(want.find(head), std::string::npos) << name << ": " << want;
      EXPECT_NE(got.find(head), std::string::npos) << name << ": " << got;
      continue;
    }
    // The whole reply: flags, key positions, categories, tips, key specifications.
    EXPECT_EQ(got, want) << name;
    ++compared;
  }
  EXPECT_GT(compared, 150u) << "the table's commands, but the containers";
  // The subcommands ekv serves (SubcommandSpecs), byte for byte, by their full names; a
  // container lists exactly those (Redis lists its own in its hash order: compared as
  // sets of names).
  size_t subcommands = 0;
  for (const auto& [name, spec] : CommandTable::Default().specs()) {
    for (const CommandSpec* sub : CommandTable::Default().SubcommandsOf(name)) {
      EXPECT_EQ(to_ekv.Call({"COMMAND", "INFO", sub->name}),
                to_redis.Call({"COMMAND", "INFO", sub->name}));
      const std::string docs = to_ekv.Call({"COMMAND", "DOCS", sub->name});
      EXPECT_NE(docs.find(absl::StrCat("$", sub->name.size(), "\r\n", sub->name, "\r\n")),
                std::string::npos)
          << docs;
      EXPECT_NE(to_ekv.Call({"COMMAND", "INFO", name})
                    .find(absl::StrCat("*10\r\n$", sub->name.size(), "\r\n", sub->name, "\r\n")),
                std::string::npos)
          << name << " lists " << sub->name;
      ++subcommands;
    }
  }
  EXPECT_GT(subcommands, 60u);
  EXPECT_EQ(to_ekv.Call({"COMMAND", "INFO", "config|get", "get|key", "config|get|key"}),
            to_redis.Call({"COMMAND", "INFO", "config|get", "get|key", "config|get|key"}));
  EXPECT_EQ(to_ekv.Call({"COMMAND", "DOCS", "config|get", "get|key"}).substr(0, 4), "*2\r\n");
  // Every subcommand Redis 7.0 has of a container ekv serves is in the table exactly when
  // the container's handler serves it (else it answers "unknown subcommand").
  for (const AclCatalogEntry& entry : AclCatalogEntries()) {
    const size_t bar = entry.name.find('|');
    if (bar == absl::string_view::npos) continue;
    const std::string container(entry.name.substr(0, bar));
    if (CommandTable::Default().Find(container) == nullptr) continue;
    std::vector<std::string> command = {container, std::string(entry.name.substr(bar + 1))};
    while (static_cast<int>(command.size()) < std::abs(entry.arity)) command.push_back("0");
    const bool served = CommandTable::Default().FindSubcommand(entry.name) != nullptr;
    // Those that would change the server's state are known to be served; the rest are asked.
    static const std::set<std::string> kStateful = {
        "acl|load",        "acl|save",         "acl|deluser",      "acl|setuser", "client|kill",
        "client|reply",    "client|no-evict",  "config|resetstat", "config|set",  "function|flush",
        "function|delete", "function|restore", "script|flush",     "script|kill", "function|kill",
        "client|unblock",  "client|setname"};
    if (kStateful.count(std::string(entry.name))) {
      EXPECT_TRUE(served) << entry.name;
      continue;
    }
    RespClient probe(both.ekv.port());
    const std::string reply = probe.Call(command);
    EXPECT_EQ(reply.find("unknown subcommand") == std::string::npos, served)
        << entry.name << ": " << reply;
  }
  // COMMAND DOCS: the complexity and the deprecation fields as Redis 7.0's, byte for byte
  // (ekv keeps neither the arguments nor the history; its summaries are its own).
  for (const auto& [name, spec] : CommandTable::Default().specs()) {
    const std::string want = to_redis.Call({"COMMAND", "DOCS", name});
    const std::string got = to_ekv.Call({"COMMAND", "DOCS", name});
    const size_t from = want.find("$10\r\ncomplexity\r\n");
    size_t to = std::string::npos;  // what follows: history, arguments or subcommands
    for (const char* next :
         {"$7\r\nhistory\r\n", "$9\r\narguments\r\n", "$11\r\nsubcommands\r\n"}) {
      to = std::min(to, want.find(next, from == std::string::npos ? 0 : from));
    }
    if (from == std::string::npos) {  // Redis gives none (MONITOR): neither may ekv
      EXPECT_EQ(got.find("$10\r\ncomplexity\r\n"), std::string::npos) << name << ": " << got;
      continue;
    }
    const std::string fields = want.substr(from, to == std::string::npos ? to : to - from);
    EXPECT_NE(got.find(fields), std::string::npos) << name << ": want " << fields << " in " << got;
  }
  // COMMAND LIST FILTERBY: the same commands as Redis's (Redis lists them in its hash
  // order: compared sorted), subcommands those of them ekv serves.
  std::set<std::string> containers;
  const std::optional<std::vector<std::string>> all =
      dump_restore::Bulks(to_redis.Call({"COMMAND", "LIST"}));
  ASSERT_TRUE(all.has_value());
  for (const std::string& name : *all) {
    if (const size_t bar = name.find('|'); bar != std::string::npos) {
      containers.insert(name.substr(0, bar));
    }
  }
  EXPECT_TRUE(containers.count("client") && containers.count("object")) << "COMMAND LIST";
  for (const std::vector<std::string>& filter :
       std::vector<std::vector<std::string>>{{"ACLCAT", "keyspace"},     {"ACLCAT", "read"},
                                             {"ACLCAT", "write"},        {"ACLCAT", "set"},
                                             {"ACLCAT", "sortedset"},    {"ACLCAT", "list"},
                                             {"ACLCAT", "hash"},         {"ACLCAT", "String"},
                                             {"ACLCAT", "bitmap"},       {"ACLCAT", "pubsub"},
                                             {"ACLCAT", "fast"},         {"ACLCAT", "slow"},
                                             {"ACLCAT", "blocking"},     {"ACLCAT", "dangerous"},
                                             {"ACLCAT", "connection"},   {"ACLCAT", "transaction"},
                                             {"ACLCAT", "scripting"},    {"PATTERN", "z*store"},
                                             {"PATTERN", "*GET*"},       {"PATTERN", "?pop"},
                                             {"ACLCAT", "stream"},       {"PATTERN", "config*"},
                                             {"PATTERN", "CONFIG|*re*"}, {"PATTERN", "cl*help"},
                                             {"ACLCAT", "admin"},        {"PATTERN", "*"}}) {
    std::vector<std::string> command = {"COMMAND", "LIST", "FILTERBY"};
    command.insert(command.end(), filter.begin(), filter.end());
    const std::optional<std::vector<std::string>> redis_names =
        dump_restore::Bulks(to_redis.Call(command));
    const std::optional<std::vector<std::string>> ekv_names =
        dump_restore::Bulks(to_ekv.Call(command));
    ASSERT_TRUE(redis_names.has_value() && ekv_names.has_value()) << absl::StrJoin(command, " ");
    std::vector<std::string> want;
    for (const std::string& name : *redis_names) {
      if (CommandTable::Default().FindByFullName(name) != nullptr) want.push_back(name);
    }
    std::sort(want.begin(), want.end());
    EXPECT_FALSE(want.empty()) << absl::StrJoin(command, " ");
    std::vector<std::string> got = *ekv_names;
    std::sort(got.begin(), got.end());
    EXPECT_EQ(absl::StrJoin(got, " "), absl::StrJoin(want, " ")) << absl::StrJoin(command, " ");
  }
  // RESP3 (sets and maps), and a few commands together.
  ASSERT_EQ(to_redis.Call({"HELLO", "3"}).substr(0, 1), "%");
  ASSERT_EQ(to_ekv.Call({"HELLO", "3"}).substr(0, 1), "%");
  for (const std::vector<std::string>& command :
       std::vector<std::vector<std::string>>{{"COMMAND", "INFO", "set", "lmove", "zunionstore"},
                                             {"COMMAND", "INFO", "eval", "keys", "nosuch"},
                                             {"COMMAND", "INFO", "getex", "sort_ro_x", "ping"}}) {
    EXPECT_EQ(to_ekv.Call(command), to_redis.Call(command)) << absl::StrJoin(command, " ");
  }
}

// COMMAND GETKEYS finds keys by the key specifications, numkeys included, as Redis 7.0;
// COMMAND LIST's filters where the answer has at most one name (Redis lists in hash order).
TEST_F(DifferentialTest, CommandGetkeysAndList) {
  Compare({
      Cmd({"COMMAND", "LIST", "FILTERBY", "PATTERN", "getdel"}),
      Cmd({"COMMAND", "LIST", "FILTERBY", "PATTERN", "ZRANGEST*"}),
      Cmd({"COMMAND", "LIST", "FILTERBY", "PATTERN", "nosuch*"}),
      Cmd({"COMMAND", "LIST", "FILTERBY", "MODULE", "json"}),
      Cmd({"COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"}),
      Cmd({"COMMAND", "LIST", "FILTERBY", "ACLCAT", "geo", "FILTERBY", "PATTERN", "lpushx"}),
      Cmd({"COMMAND", "LIST", "FILTERBY"}),
      Cmd({"COMMAND", "LIST", "FILTERBY", "ACLCAT"}),
      Cmd({"COMMAND", "LIST", "FILTERBY", "NAME", "get"}),
      Cmd({"COMMAND", "LIST", "foo"}),
      Cmd({"COMMAND", "LIST", "FILTERBY", "PATTERN", "get", "x"}),
      Cmd({"COMMAND", "GETKEYS", "GET", "k"}),
      Cmd({"COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"}),
      Cmd({"COMMAND", "GETKEYS", "LMOVE", "src", "dst", "LEFT", "RIGHT"}),
      Cmd({"COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"}),
      Cmd({"COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "x", "a"}),
      Cmd({"COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "5", "a"}),
      Cmd({"COMMAND", "GETKEYS", "LMPOP", "2", "a", "b", "LEFT"}),
      Cmd({"COMMAND", "GETKEYS", "BLMPOP", "0", "1", "a", "LEFT", "COUNT", "2"}),
      Cmd({"COMMAND", "GETKEYS", "EVAL", "return 1", "2", "k1", "k2", "a"}),
      Cmd({"COMMAND", "GETKEYS", "EVAL", "return 1", "0"}),
      Cmd({"COMMAND", "GETKEYS", "EVALSHA", "abc", "1", "k"}),
      Cmd({"COMMAND", "GETKEYS", "BLPOP", "a", "b", "0"}),
      Cmd({"COMMAND", "GETKEYS", "SINTERCARD", "2", "a", "b", "LIMIT", "1"}),
      Cmd({"COMMAND", "GETKEYS", "ZINTER", "2", "a", "b", "WITHSCORES"}),
      Cmd({"COMMAND", "GETKEYS", "SET", "k", "v", "GET"}),
      Cmd({"COMMAND", "GETKEYS", "DEL", "a", "b", "c"}),
      Cmd({"COMMAND", "GETKEYS", "PING"}),
      Cmd({"COMMAND", "GETKEYS", "GET"}),
      Cmd({"COMMAND", "GETKEYS", "NOSUCH", "k"}),
      Cmd({"COMMAND", "GETKEYS", "WATCH", "a", "b"}),
      Cmd({"COMMAND", "GETKEYS", "LCS", "a", "b"}),
      Cmd({"COMMAND", "GETKEYS", "RENAME", "a", "b"}),
      Cmd({"COMMAND", "GETKEYS", "BITOP", "AND", "d", "a", "b"}),
      Cmd({"COMMAND", "GETKEYS", "OBJECT", "ENCODING", "k"}),
      Cmd({"COMMAND", "GETKEYS", "SORT", "a", "STORE", "b", "GET", "c", "BY", "d"}),
      Cmd({"COMMAND", "GETKEYS", "sort", "a", "limit", "store", "1", "store", "x", "store"}),
      Cmd({"COMMAND", "GETKEYS", "SORT", "a", "GET", "store", "BY", "w", "LIMIT", "0", "1"}),
      Cmd({"COMMAND", "GETKEYS", "SORT_RO", "a", "STORE", "b"}),
      Cmd({"COMMAND", "INFO", "sort", "sort_ro"}),
  });
}

// SORT and SORT_RO over lists, sets (intsets: an order Redis fixes) and sorted sets: numeric
// and ALPHA, ASC/DESC, LIMIT edges, BY a constant (no sort: the collection's own order),
// STORE (a list; an empty result deletes the destination), the errors and their order, and
// a script's SORT of a set, which Redis sorts.
TEST_F(DifferentialTest, SortWithoutPatterns) {
  Compare({
      Cmd({"RPUSH", "l", "3", "10", "-2.5", "1e2", "7", "0", " 4", "3"}),
      Cmd({"SORT", "l"}),
      Cmd({"SORT", "l", "DESC"}),
      Cmd({"SORT", "l", "ALPHA"}),
      Cmd({"SORT", "l", "alpha", "desc"}),
      Cmd({"SORT", "l", "LIMIT", "1", "3"}),
      Cmd({"SORT", "l", "LIMIT", "-5", "2"}),
      Cmd({"SORT", "l", "LIMIT", "6", "100"}),
      Cmd({"SORT", "l", "LIMIT", "8", "1"}),
      Cmd({"SORT", "l", "LIMIT", "100", "-1"}),
      Cmd({"SORT", "l", "LIMIT", "2", "0"}),
      Cmd({"SORT", "l", "LIMIT", "2", "-7"}),
      Cmd({"SORT", "l", "BY", "nosort"}),
      Cmd({"SORT", "l", "BY", "nosort", "DESC"}),
      Cmd({"SORT", "l", "BY", "nosort", "LIMIT", "2", "3"}),
      Cmd({"SORT", "l", "BY", "nosort", "DESC", "LIMIT", "2", "3"}),
      Cmd({"SORT", "l", "BY", "nosort", "DESC", "LIMIT", "20", "3"}),
      Cmd({"SORT", "l", "GET", "#", "GET", "#"}),
      Cmd({"SORT", "l", "GET", "nostar"}),
      Cmd({"SORT_RO", "l", "DESC", "LIMIT", "0", "2"}),
      Cmd({"SORT", "l", "STORE", "dst"}),
      Cmd({"LRANGE", "dst", "0", "-1"}),
      Cmd({"TYPE", "dst"}),
      Cmd({"SORT", "l", "STORE", "l"}),
      Cmd({"LRANGE", "l", "0", "-1"}),
      Cmd({"SORT", "l", "LIMIT", "0", "0", "STORE", "dst"}),
      Cmd({"EXISTS", "dst"}),
      Cmd({"SORT", "nosuch"}),
      Cmd({"SORT", "nosuch", "STORE", "dst"}),
      Cmd({"SORT_RO", "nosuch", "BY", "nosort"}),
      Cmd({"RPUSH", "words", "pear", "apple", "Fig", "banana", "apple"}),
      Cmd({"SORT", "words"}),
      Cmd({"SORT", "words", "ALPHA"}),
      Cmd({"SORT", "words", "ALPHA", "DESC", "LIMIT", "1", "2"}),
      Cmd({"RPUSH", "nan", "nan"}),
      Cmd({"SORT", "nan"}),
      Cmd({"RPUSH", "empty", ""}),
      Cmd({"SORT", "empty"}),
      Cmd({"SADD", "s", "5", "-1", "300", "42", "7"}),
      Cmd({"SORT", "s"}),
      Cmd({"SORT", "s", "DESC", "LIMIT", "1", "2"}),
      Cmd({"SORT", "s", "BY", "nosort"}),
      Cmd({"SORT", "s", "ALPHA"}),
      Cmd({"SORT", "s", "BY", "nosort", "STORE", "sdst"}),
      Cmd({"LRANGE", "sdst", "0", "-1"}),
      Cmd({"EVAL", "return redis.call('sort', KEYS[1], 'by', 'nosort')", "1", "s"}),
      Cmd({"SADD", "sw", "kiwi", "apple", "mango"}),
      Cmd({"SORT", "sw", "ALPHA"}),
      Cmd({"SORT", "sw"}),
      Cmd({"SORT", "sw", "BY", "nosort", "STORE", "swdst"}),
      Cmd({"LRANGE", "swdst", "0", "-1"}),
      Cmd({"ZADD", "z", "3", "c", "1", "a", "2", "b", "2", "bb", "-1", "z"}),
      Cmd({"SORT", "z", "ALPHA"}),
      Cmd({"SORT", "z", "ALPHA", "DESC"}),
      Cmd({"SORT", "z", "BY", "nosort"}),
      Cmd({"SORT", "z", "BY", "nosort", "DESC"}),
      Cmd({"SORT", "z", "BY", "nosort", "LIMIT", "1", "2"}),
      Cmd({"SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "2"}),
      Cmd({"SORT", "z", "BY", "nosort", "LIMIT", "9", "2"}),
      Cmd({"SORT", "z"}),
      Cmd({"ZADD", "zn", "5", "10", "4", "9", "3", "8"}),
      Cmd({"SORT", "zn"}),
      Cmd({"SORT", "zn", "BY", "nosort", "STORE", "zdst"}),
      Cmd({"LRANGE", "zdst", "0", "-1"}),
      Cmd({"SET", "str", "x"}),
      Cmd({"SORT", "str"}),
      Cmd({"SORT", "str", "BOGUS"}),
      Cmd({"SORT", "l", "LIMIT", "x", "1"}),
      Cmd({"SORT", "l", "LIMIT", "1"}),
      Cmd({"SORT", "l", "STORE"}),
      Cmd({"SORT", "l", "BY"}),
      Cmd({"SORT", "l", "GET"}),
      Cmd({"SORT_RO", "l", "STORE", "dst"}),
      Cmd({"SORT"}),
      Cmd({"HSET", "h", "f", "v"}),
      Cmd({"SORT", "h", "LIMIT", "0", "1"}),
      Cmd({"HELLO", "3"}),
      Cmd({"SORT", "l", "LIMIT", "0", "2"}),
      Cmd({"SORT", "l", "GET", "nostar", "LIMIT", "0", "1"}),
      // Last: Redis leaves errno at ERANGE after an out-of-range weight, and its later
      // numeric SORTs see that stale errno and fail too (ekv does not copy that).
      Cmd({"RPUSH", "big", "1e400"}),
      Cmd({"SORT", "big"}),
  });
}

// BY and GET patterns: weights from strings and hash fields ("->"), missing weights (0, or
// first with ALPHA), GET "#", missing values (nil, or "" when stored), a "->" without a
// field, and a multi-key STORE. One group: every key a pattern names lives with the
// sorted key (the refusal across groups is SortPatternsAcrossGroupsAreRefused).
TEST_F(DifferentialTest, SortWithPatterns) {
  Compare(
      {
          Cmd({"RPUSH", "ids", "1", "2", "3", "4", "5"}),
          Cmd({"MSET", "w_1", "50", "w_2", "10", "w_3", "30", "w_5", "-1"}),
          Cmd({"MSET", "name_1", "one", "name_2", "two", "name_4", "four", "name_5", "five"}),
          Cmd({"HSET", "obj_1", "age", "40", "nick", "ann"}),
          Cmd({"HSET", "obj_2", "age", "20", "nick", "bob"}),
          Cmd({"HSET", "obj_3", "age", "20"}),
          Cmd({"HSET", "obj_4", "age", "x", "nick", "dan"}),
          Cmd({"SORT", "ids", "BY", "w_*"}),
          Cmd({"SORT", "ids", "BY", "w_*", "DESC"}),
          Cmd({"SORT", "ids", "BY", "w_*", "GET", "#", "GET", "name_*"}),
          Cmd({"SORT", "ids", "BY", "w_*", "LIMIT", "1", "2", "GET", "name_*"}),
          Cmd({"SORT", "ids", "BY", "name_*", "ALPHA"}),
          Cmd({"SORT", "ids", "BY", "name_*", "ALPHA", "DESC"}),
          Cmd({"SORT", "ids", "BY", "obj_*->age", "GET", "obj_*->nick"}),
          Cmd({"SORT", "ids", "BY", "obj_*->nick", "ALPHA", "GET", "#", "GET", "obj_*->age"}),
          Cmd({"SORT", "ids", "BY", "obj_*->nosuch", "GET", "obj_*->"}),
          Cmd({"SORT", "ids", "GET", "obj_*->age", "GET", "w_*->x", "GET", "ids"}),
          Cmd({"SORT", "ids", "BY", "nosort", "BY", "w_*"}),
          Cmd({"SORT", "ids", "BY", "w_*", "GET", "name_*", "STORE", "out"}),
          Cmd({"LRANGE", "out", "0", "-1"}),
          Cmd({"SORT", "ids", "BY", "nosort", "GET", "name_*", "GET", "#", "STORE", "out"}),
          Cmd({"LRANGE", "out", "0", "-1"}),
          Cmd({"SORT_RO", "ids", "BY", "w_*", "GET", "name_*", "DESC", "LIMIT", "0", "3"}),
          Cmd({"SADD", "tags", "5", "3", "1"}),
          Cmd({"SORT", "tags", "BY", "w_*", "GET", "name_*"}),
          Cmd({"ZADD", "zids", "1", "3", "2", "1", "3", "2"}),
          Cmd({"SORT", "zids", "BY", "w_*", "GET", "#", "GET", "w_*"}),
          Cmd({"SORT", "zids", "BY", "nosort", "GET", "name_*"}),
          Cmd({"SORT", "ids", "BY", "obj_*->age"}),
          Cmd({"SET", "w_4", "abc"}),
          Cmd({"SORT", "ids", "BY", "w_*"}),
          Cmd({"SORT", "ids", "BY", "w_*", "ALPHA", "GET", "w_*"}),
          Cmd({"HELLO", "3"}),
          Cmd({"SORT", "ids", "BY", "w_*", "ALPHA", "GET", "name_*"}),
      },
      "", {}, "", /*one_group_only=*/true);
}

// Keys a BY or GET pattern derives that the command does not name are read only where
// the sorted key lives; run over several groups (here: a STORE to another group's key),
// the command refuses them with Redis Cluster's words, and writes nothing.
TEST(SortPatternsAcrossGroupsTest, RefusedWithRedisClusterWords) {
  EkvServer ekv({}, /*detached_multi_key=*/true);
  ASSERT_TRUE(ekv.started);
  RespClient client(ekv.port());
  EXPECT_EQ(client.Call({"RPUSH", "ids", "2", "1"}), ":2\r\n");
  EXPECT_EQ(client.Call({"MSET", "w_1", "5", "w_2", "1"}), "+OK\r\n");
  // One key: runs in its group, patterns included.
  EXPECT_EQ(client.Call({"SORT", "ids", "BY", "w_*", "GET", "w_*"}),
            "*2\r\n$1\r\n1\r\n$1\r\n5\r\n");
  // Two keys (run as over two groups): the patterns' keys are refused.
  EXPECT_EQ(client.Call({"SORT", "ids", "BY", "w_*", "STORE", "dst"}),
            "-ERR BY option of SORT denied in Cluster mode.\r\n");
  EXPECT_EQ(client.Call({"SORT", "ids", "GET", "w_*", "STORE", "dst"}),
            "-ERR GET option of SORT denied in Cluster mode.\r\n");
  EXPECT_EQ(client.Call({"EXISTS", "dst"}), ":0\r\n");
  // "#", a constant BY and a pattern without '*' name no key: they work there.
  EXPECT_EQ(client.Call({"SORT", "ids", "BY", "nosort", "GET", "#", "GET", "x", "STORE", "dst"}),
            ":4\r\n");
  EXPECT_EQ(client.Call({"LRANGE", "dst", "0", "-1"}),
            "*4\r\n$1\r\n2\r\n$0\r\n\r\n$1\r\n1\r\n$0\r\n\r\n");
}

// INFO commandstats as name -> "calls,rejected,failed" (usec is each server's own timing);
// a line of another form is kept under "<unparsed>".
std::map<std::string, std::string> CommandStatsCounts(const std::string& info) {
  static const std::regex kLine(
      "cmdstat_([^:]+):calls=([0-9]+),usec=[0-9]+,usec_per_call=[0-9]+\\.[0-9]{2},"
      "rejected_calls=([0-9]+),failed_calls=([0-9]+)\r");
  std::map<std::string, std::string> out;
  for (const std::string& line : std::vector<std::string>(absl::StrSplit(info, '\n'))) {
    std::smatch match;
    if (std::regex_match(line, match, kLine)) {
      out[match[1]] = absl::StrCat(match[2].str(), ",", match[3].str(), ",", match[4].str());
    } else if (absl::StartsWith(line, "cmdstat_")) {
      out["<unparsed>"] += line;
    }
  }
  return out;
}

// INFO commandstats and errorstats: the same commands give the same calls, rejected_calls
// (arity, NOAUTH-free refusals) and failed_calls (error replies) per command, subcommands
// as "client|id", usec_per_call with two decimals, and the same error counts per prefix;
// CONFIG RESETSTAT empties both. (usec differs: each server's own timing.)
TEST(InfoCommandStatsTest, CountsAsRedis) {
  BothServers both;
  ASSERT_TRUE(both.Ready());
  std::map<std::string, std::string> counts[2];
  std::string errors[2];
  std::map<std::string, std::string> after_reset[2];
  const int ports[2] = {both.redis.port(), both.ekv.port()};
  for (int side = 0; side < 2; ++side) {
    RespClient client(ports[side]);
    for (const std::vector<std::string>& command :
         std::vector<std::vector<std::string>>{{"CONFIG", "RESETSTAT"},
                                               {"SET", "a", "1"},
                                               {"GET", "a"},
                                               {"GET", "a"},
                                               {"GET"},
                                               {"LPUSH", "a", "x"},
                                               {"INCR", "a"},
                                               {"INCRBY", "a", "x"},
                                               {"NOSUCH", "x"},
                                               {"CLIENT", "ID"},
                                               {"HSET", "h", "f", "v"},
                                               {"HGET", "h", "f"},
                                               {"EXISTS", "a", "h"},
                                               {"SORT", "h"},
                                               {"INFO", "server"}}) {
      client.Call(command);
    }
    const std::string info = client.Call({"INFO", "commandstats"});
    counts[side] = CommandStatsCounts(info);
    EXPECT_NE(info.find("# Commandstats\r\n"), std::string::npos) << info;
    errors[side] = client.Call({"INFO", "errorstats"});
    client.Call({"CONFIG", "RESETSTAT"});
    after_reset[side] = CommandStatsCounts(client.Call({"INFO", "commandstats"}));
  }
  EXPECT_EQ(counts[1], counts[0]);
  EXPECT_EQ(counts[0].count("client|id"), 1u);
  EXPECT_EQ(errors[1], errors[0]);
  EXPECT_NE(errors[0].find("errorstat_WRONGTYPE:count=2"), std::string::npos) << errors[0];
  EXPECT_EQ(after_reset[1], after_reset[0]);  // RESETSTAT itself, counted after it ran
  EXPECT_EQ(after_reset[0].size(), 1u);
}

// INFO stats fields whose value ekv shares with an idle redis-server 7.0.
TEST(InfoStatsTest, FieldsAsAnIdleRedis) {
  BothServers both;
  ASSERT_TRUE(both.Ready());
  for (const char* field : {"migrate_cached_sockets"}) {
    std::string lines[2];
    const int ports[2] = {both.redis.port(), both.ekv.port()};
    for (int side = 0; side < 2; ++side) {
      RespClient client(ports[side]);
      const std::string info = client.Call({"INFO", "stats"});
      const size_t at = info.find(absl::StrCat("\n", field, ":"));
      lines[side] = at == std::string::npos ? "<missing> in " + info
                                            : info.substr(at + 1, info.find('\r', at) - at - 1);
    }
    EXPECT_EQ(lines[1], lines[0]);
  }
}

// The commands an EXEC runs count in INFO commandstats as calls (failed when they answer
// an error) and in errorstats, as in Redis; queued ones that never run (DISCARD, an EXEC
// aborted by WATCH or EXECABORT) do not.
TEST(InfoCommandStatsTest, CommandsRunByExecCountAsRedis) {
  BothServers both;
  ASSERT_TRUE(both.Ready());
  std::map<std::string, std::string> counts[2];
  std::string errors[2];
  const int ports[2] = {both.redis.port(), both.ekv.port()};
  for (int side = 0; side < 2; ++side) {
    RespClient client(ports[side]);
    RespClient other(ports[side]);
    client.Call({"CONFIG", "RESETSTAT"});
    for (const std::vector<std::string>& command :
         std::vector<std::vector<std::string>>{{"MULTI"},
                                               {"SET", "a", "1"},
                                               {"INCR", "a"},
                                               {"LPUSH", "a", "x"},
                                               {"GET", "a"},
                                               {"HSET", "h", "f", "v"},
                                               {"EXEC"},
                                               {"MULTI"},
                                               {"GET", "a"},
                                               {"DISCARD"},
                                               {"WATCH", "a"},
                                               {"MULTI"},
                                               {"INCR", "a"},
                                               {"SET", "b", "1"}}) {
      client.Call(command);
    }
    other.Call({"SET", "a", "5"});
    client.Call({"EXEC"});  // aborted: a changed
    for (const std::vector<std::string>& command :
         std::vector<std::vector<std::string>>{{"MULTI"},
                                               {"GET", "a"},
                                               {"NOSUCH"},
                                               {"EXEC"},
                                               {"MULTI"},
                                               {"ZADD", "z", "1", "m"},
                                               {"ZINCRBY", "z", "x", "m"},
                                               {"EXEC"}}) {
      client.Call(command);
    }
    counts[side] = CommandStatsCounts(client.Call({"INFO", "commandstats"}));
    errors[side] = client.Call({"INFO", "errorstats"});
  }
  EXPECT_EQ(counts[1], counts[0]);
  EXPECT_EQ(counts[0]["incr"], "1,0,0") << "the EXEC that ran counts it, the aborted one not";
  EXPECT_EQ(errors[1], errors[0]);
}

// Blocking commands in INFO commandstats and errorstats as Redis 7.0 counts them: the call
// when it runs (ekv's blocking commands always pass through the blocked-client path, even
// one served at once), a failure when its answer is an error, and one for CLIENT UNBLOCK
// (Redis's updateStatsOnUnblock); the UNBLOCKED and WRONGTYPE errors in errorstats.
TEST(InfoCommandStatsTest, BlockedCommandsCountAsRedis) {
  BothServers both;
  ASSERT_TRUE(both.Ready());
  std::map<std::string, std::string> counts[2];
  std::string errors[2];
  const int ports[2] = {both.redis.port(), both.ekv.port()};
  for (int side = 0; side < 2; ++side) {
    RespClient client(ports[side]);
    RespClient blocked(ports[side]);
    client.Call({"CONFIG", "RESETSTAT"});
    client.Call({"LPUSH", "list", "foo"});
    EXPECT_EQ(client.Call({"BRPOP", "list", "0"}), "*2\r\n$4\r\nlist\r\n$3\r\nfoo\r\n") << side;
    client.Call({"SET", "str", "x"});
    EXPECT_EQ(client.Call({"BLPOP", "str", "0"}).substr(0, 10), "-WRONGTYPE") << side;
    EXPECT_EQ(client.Call({"BLPOP", "empty", "0.01"}), "*-1\r\n") << side;
    const std::string id = blocked.Call({"CLIENT", "ID"});
    ASSERT_EQ(id.substr(0, 1), ":") << id;
    ASSERT_TRUE(blocked.Send({"BLPOP", "list1", "0"}));
    // Waits until it is blocked (INFO's calls are left out of the comparison).
    for (int i = 0; i < 1000; ++i) {
      if (client.Call({"INFO", "clients"}).find("blocked_clients:1\r\n") != std::string::npos) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const std::string unblocked =
        client.Call({"CLIENT", "UNBLOCK", id.substr(1, id.size() - 3), "ERROR"});
    ASSERT_EQ(unblocked, ":1\r\n") << side;
    EXPECT_EQ(blocked.ReadReply().substr(0, 10), "-UNBLOCKED") << side;
    counts[side] = CommandStatsCounts(client.Call({"INFO", "commandstats"}));
    counts[side].erase("info");  // the waits above
    errors[side] = client.Call({"INFO", "errorstats"});
    errors[side] +=
        client.Call({"INFO", "stats"}).find("total_error_replies:2\r\n") != std::string::npos
            ? "total 2"
            : "total other";
  }
  EXPECT_EQ(counts[1], counts[0]);
  EXPECT_EQ(counts[0]["brpop"], "1,0,0");
  EXPECT_EQ(counts[0]["blpop"], "3,0,2") << "WRONGTYPE and the CLIENT UNBLOCK";
  EXPECT_EQ(counts[0]["client|unblock"], "1,0,1") << "it made an error reply";
  EXPECT_EQ(errors[1], errors[0]);
}

// The Lua libraries Redis scripts use, cjson and bit (Debian's lua-cjson and lua-bitop, the
// versions Redis 7.0 bundles): encoding, decoding, their errors, 32-bit operations, and
// both read-only as the other libraries.
TEST_F(DifferentialTest, ScriptLibrariesCjsonAndBit) {
  auto eval = [](const std::string& body) { return Cmd({"EVAL", body, "0"}); };
  Compare({
      eval("return cjson.encode({1, 2, 3, 'a'})"),
      eval("return cjson.encode({a = {b = 1.5}})"),
      eval("return cjson.encode({})"),
      eval("return cjson.encode('quote\" and \\\\ and /')"),
      eval("return cjson.encode(1/3)"),
      eval("return cjson.encode(cjson.decode('{\"a\":[1,2.5,true,null,\"x\"]}'))"),
      eval("return cjson.decode('[1,2,{\"x\":\"y\"}]')[3].x"),
      eval("return cjson.decode('12.5')"),
      eval("return type(cjson.decode('null'))"),
      eval("return cjson.decode('{bad')"),
      eval("return cjson.encode(function() end)"),
      eval("return {cjson.decode('[1,2,3]')[2], #cjson.decode('[1,2,3]')}"),
      eval("return bit.band(0xff, 0x0f)"),
      eval("return bit.bor(1, 2, 4)"),
      eval("return bit.bxor(5, 3)"),
      eval("return bit.bnot(0)"),
      eval("return bit.lshift(1, 40)"),
      eval("return bit.rshift(-1, 28)"),
      eval("return bit.arshift(-256, 4)"),
      eval("return bit.tobit(2^32 + 1)"),
      eval("return bit.tohex(255)"),
      eval("return bit.tohex(-1, -4)"),
      eval("return bit.rol(1, 33)"),
      eval("return bit.bswap(0x12345678)"),
      eval("cjson.encode = nil"),
      eval("bit.band = nil"),
      eval("cjson = 1"),
  });
}

// redis.call with nearly a full Lua C stack of arguments (7999 values unpacked: the limit
// is 8000 slots): Redis 7.0 pops the arguments before it pushes the reply, so the call
// answers; the same for pcall, an error reply, and an argument of a wrong type last.
TEST_F(DifferentialTest, ScriptCallsWithNearlyAFullStackOfArguments) {
  const std::string fill = "local a = {} for i = 1, 7999 do a[i] = 1 end ";
  Compare({
      Cmd({"EVAL", fill + "return redis.call('lpush', 'l', unpack(a))", "0"}),
      Cmd({"EVAL", fill + "return redis.pcall('rpush', 'l', unpack(a))", "0"}),
      Cmd({"EVAL", fill + "return redis.pcall('hset', 'l', unpack(a))", "0"}),
      Cmd({"EVAL", fill + "a[7999] = {} return redis.pcall('rpush', 'l', unpack(a))", "0"}),
      Cmd({"EVAL",
           "local a = {} for i = 1, 7997 do a[i] = 'x' end "
           "return redis.call('mset', unpack(a))",
           "0"}),
      Cmd({"LLEN", "l"}),
  });
}

// A blocked client is woken by SORT ... STORE into its key and by a script that pushes to
// a key it declares, not only by the list and sorted-set commands (the timeouts, 3 s, are
// shorter than the blocked clients' safety-net recheck, so a missed notice shows as nil).
TEST_F(DifferentialTest, BlockedClientsWokenBySortStoreAndScripts) {
  Compare({
      Cmd({"RPUSH", "sortsrc", "b", "c", "a"}),
      On(1, {"BLPOP", "sorted", "3"}, 0),
      After(300, {"SORT", "sortsrc", "ALPHA", "STORE", "sorted"}),
      Read(1),
      On(1, {"BLMPOP", "3", "1", "sorted", "RIGHT"}, 0),
      After(300, {"DEL", "sorted"}),
      Cmd({"SORT", "sortsrc", "DESC", "ALPHA", "LIMIT", "0", "2", "store", "sorted"}),
      Read(1),
      On(1, {"BRPOP", "scripted", "3"}, 0),
      After(300, {"EVAL", "redis.call('rpush', KEYS[1], 'x', 'y') return 1", "1", "scripted"}),
      Read(1),
      On(1, {"BZPOPMIN", "zscripted", "3"}, 0),
      Cmd({"SCRIPT", "LOAD", "return redis.call('zadd', KEYS[1], 1, 'm')"}),
      After(300, {"EVALSHA", "c395c01fea75db29acc1acb1fcc3561de491e906", "1", "zscripted"}),
      Read(1),
  });
}

// Redis 7.0's script shebang ("#!lua flags=no-writes"): the engine, options and flags
// checked in Redis's words (quotes split as sdssplitargs), line numbers kept past the
// shebang, no-writes making a script read-only and EVAL_RO refusing one without it, for
// EVAL, EVALSHA and SCRIPT LOAD.
TEST_F(DifferentialTest, ScriptShebangs) {
  const std::string no_writes_set = "#!lua flags=no-writes\nreturn redis.call('set', KEYS[1], 1)";
  Compare({
      Cmd({"EVAL", "#!lua\nreturn 1", "0"}),
      Cmd({"EVAL", "#!lua\r\nreturn 2", "0"}),
      Cmd({"EVAL", "#!not-lua\nreturn 1", "0"}),
      Cmd({"EVAL", "#!lua badger=data\nreturn 1", "0"}),
      Cmd({"EVAL", "#!lua flags=allow-oom,what?\nreturn 1", "0"}),
      Cmd({"EVAL", "#!lua flags=allow-oom,,no-writes\nreturn 1", "0"}),
      Cmd({"EVAL", "#!lua", "0"}),
      Cmd({"EVAL", "#!lua flags=\nreturn 3", "0"}),
      Cmd({"EVAL", "#!lua \"flags=no-writes\"\nreturn 4", "0"}),
      Cmd({"EVAL", "#!lua 'unterminated\nreturn 1", "0"}),
      Cmd({"EVAL", "#!lua \"a\"b\nreturn 1", "0"}),
      Cmd({"EVAL", "#!\nreturn 1", "0"}),
      Cmd({"EVAL",
           "#!lua flags=no-writes,allow-stale,no-cluster,allow-cross-slot-keys\n"
           "return redis.call('get', KEYS[1])",
           "1", "x"}),
      Cmd({"EVAL", "#!lua\nreturn redis.call('set', KEYS[1], 'v')", "1", "x"}),
      Cmd({"EVAL", no_writes_set, "1", "x"}),
      Cmd({"EVAL", "#!lua flags=no-writes\nreturn redis.pcall('del', KEYS[1])", "1", "x"}),
      Cmd({"EVAL", "#!lua flags=no-writes\n\nerror('at line three')", "0"}),
      Cmd({"EVAL", "#!lua\nreturn +", "0"}),
      Cmd({"EVAL_RO", "#!lua\nreturn 1", "0"}),
      Cmd({"EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", "1", "x"}),
      Cmd({"EVAL_RO", "#!python\nreturn 1", "0"}),
      Cmd({"SCRIPT", "LOAD", "#!py\nreturn 1"}),
      Cmd({"SCRIPT", "LOAD", no_writes_set}),
      Cmd({"EVALSHA", "3ff54d083a2a7fd184c071b9e59dc304f9499be0", "1", "x"}),
      Cmd({"EVALSHA_RO", "3ff54d083a2a7fd184c071b9e59dc304f9499be0", "1", "x"}),
      Cmd({"SCRIPT", "LOAD", "#!lua\nreturn redis.call('set', KEYS[1], 2)"}),
      Cmd({"EVALSHA_RO", "558c7a7e77ad5bc65d5dd198d3383e07351b189f", "1", "x"}),
      Cmd({"EVALSHA", "558c7a7e77ad5bc65d5dd198d3383e07351b189f", "1", "x"}),
      Cmd({"GET", "x"}),
  });
}

// The node's own commands (CONFIG, CLIENT, ECHO...) and the keyspace walks (DBSIZE, KEYS,
// SCAN, RANDOMKEY, FLUSHALL) are queued inside MULTI and run by EXEC in their places, as
// Redis runs them: errors in their slots, nothing run when WATCH aborts, in RESP2 and RESP3.
TEST_F(DifferentialTest, ServerCommandsInTransactions) {
  Compare({
      Cmd({"MULTI"}),
      Cmd({"SET", "foo", "bar"}),
      Cmd({"CONFIG", "SET", "proto-max-bulk-len", "bla"}),
      Cmd({"CONFIG", "SET", "proto-max-bulk-len", "2000000"}),
      Cmd({"CONFIG", "GET", "proto-max-bulk-len"}),
      Cmd({"CLIENT", "SETNAME", "queued-name"}),
      Cmd({"CLIENT", "GETNAME"}),
      Cmd({"DBSIZE"}),
      Cmd({"KEYS", "*"}),
      Cmd({"INCR", "foo"}),
      Cmd({"SCAN", "0"}),
      Cmd({"RANDOMKEY"}),
      Cmd({"EXEC"}),
      Cmd({"CONFIG", "GET", "proto-max-bulk-len"}),
      Cmd({"CLIENT", "GETNAME"}),
      // WATCH aborts: the queued CONFIG SET does not run.
      Cmd({"WATCH", "foo"}),
      On(1, {"SET", "foo", "changed"}),
      Cmd({"MULTI"}),
      Cmd({"CONFIG", "SET", "proto-max-bulk-len", "3000000"}),
      Cmd({"GET", "foo"}),
      Cmd({"EXEC"}),
      Cmd({"CONFIG", "GET", "proto-max-bulk-len"}),
      // A FLUSHALL in the middle, then the node's commands.
      Cmd({"MSET", "a", "a", "b", "b"}),
      Cmd({"MULTI"}),
      Cmd({"DBSIZE"}),
      Cmd({"FLUSHALL"}),
      Cmd({"ECHO", "hi"}),
      Cmd({"DBSIZE"}),
      Cmd({"CONFIG", "SET", "proto-max-bulk-len", "536870912"}),
      Cmd({"EXEC"}),
      // RESP3: the node's replies in their protocol inside the array.
      Cmd({"HELLO", "3"}),
      Cmd({"MULTI"}),
      Cmd({"CLIENT", "SETNAME", ""}),
      Cmd({"CLIENT", "GETNAME"}),
      Cmd({"CONFIG", "GET", "proto-max-bulk-len"}),
      Cmd({"HSET", "h", "f", "v"}),
      Cmd({"HGETALL", "h"}),
      Cmd({"EXEC"}),
      // Refused while queuing (arity, an unknown subcommand): EXECABORT, nothing runs.
      Cmd({"MULTI"}),
      Cmd({"CONFIG", "SET", "proto-max-bulk-len", "1000000"}),
      Cmd({"CONFIG"}),
      Cmd({"EXEC"}),
      Cmd({"MULTI"}),
      Cmd({"CONFIG", "SET", "proto-max-bulk-len", "1000000"}),
      Cmd({"CLIENT", "NOSUCH"}),
      Cmd({"EXEC"}),
      Cmd({"CONFIG", "GET", "proto-max-bulk-len"}),
  });
}

// Redis 7.0 looks a container's subcommand up before anything runs (processCommand's
// lookupCommand): an unknown subcommand or a subcommand's wrong arity is refused at once
// -- before AUTH, and while MULTI queues, where it aborts EXEC -- whether the container is
// one of the node's commands (CONFIG, CLIENT, COMMAND, PUBSUB, ACL) or runs in the group
// (OBJECT, MEMORY) or against the script cache (SCRIPT). A subcommand's own runtime
// errors stay in EXEC's array.
TEST_F(DifferentialTest, SubcommandsCheckedWhileQueuing) {
  const std::string long_sub(200, 's');
  std::vector<Step> script;
  const std::vector<std::vector<std::string>> refused = {
      {"CONFIG", "GET"},
      {"OBJECT", "FOO", "k"},
      {"OBJECT"},
      {"OBJECT", "ENCODING"},
      {"OBJECT", "help", "x"},
      {"CLIENT"},
      {"CLIENT", "SETNAME"},
      {"CLIENT", "FOO"},
      {"client", "nosuch", "a", "b"},
      {"MEMORY", "USAGE"},
      {"memory", "bogus"},
      {"SCRIPT", "FOO"},
      {"SCRIPT", "LOAD"},
      {"COMMAND", "FOO"},
      {"COMMAND", "COUNT", "x"},
      {"PUBSUB", "NUMPAT", "x"},
      {"ACL", "WHOAMI", "x"},
      {"ACL", "FOO"},
      {"CONFIG", long_sub},
      {"CONFIG", std::string("a\0b", 3)},
      {"CONFIG", "a\r\nb"},
  };
  for (const std::vector<std::string>& args : refused) {
    script.push_back(Cmd(args));  // outside MULTI: the same words
    script.push_back(Cmd({"MULTI"}));
    script.push_back(Cmd({"SET", "never", "1"}));
    script.push_back(Cmd(args));
    script.push_back(Cmd({"EXEC"}));
  }
  script.push_back(Cmd({"EXISTS", "never"}));
  // Known subcommands with the right arity queue; their own errors land in EXEC's array.
  for (Step step : std::vector<Step>{
           Cmd({"SET", "k", "v"}),
           Cmd({"MULTI"}),
           Cmd({"OBJECT", "ENCODING", "k"}),
           Cmd({"OBJECT", "ENCODING", "missing"}),
           Cmd({"OBJECT", "HELP"}),
           Cmd({"MEMORY", "USAGE", "missing"}),
           Cmd({"PUBSUB", "CHANNELS", "a", "b"}),
           Cmd({"CONFIG", "GET", "maxclients"}),
           Cmd({"ACL", "CAT", "nosuchcategory"}),
           Cmd({"SCRIPT", "EXISTS", "abc"}),
           Cmd({"EXEC"}),
       }) {
    script.push_back(std::move(step));
  }
  Compare(script);
}

// SAVE and SHUTDOWN (Redis's no-multi commands; ekv serves neither) inside MULTI: refused
// with Redis's words, after its arity check, and EXEC aborts.
TEST_F(DifferentialTest, NoMultiCommandsRefusedWhileQueuing) {
  Compare({
      Cmd({"MULTI"}),
      Cmd({"SET", "foo", "bar"}),
      Cmd({"SAVE"}),
      Cmd({"EXEC"}),
      Cmd({"MULTI"}),
      Cmd({"SET", "foo", "bar"}),
      Cmd({"shutdown", "nosave"}),
      Cmd({"EXEC"}),
      Cmd({"MULTI"}),
      Cmd({"SAVE", "x"}),
      Cmd({"SYNC"}),
      Cmd({"EXEC"}),
      Cmd({"GET", "foo"}),
      // A CONFIG SET that fails at EXEC stays in its slot (maxmemory: ekv accepts only 0,
      // no limit, as it evicts nothing).
      Cmd({"CONFIG", "SET", "maxmemory", "bla"}),
      Cmd({"CONFIG", "SET", "maxmemory", "-1"}),
      Cmd({"CONFIG", "SET", "maxmemory", "0"}),
      Cmd({"CONFIG", "GET", "maxmemory"}),
      Cmd({"MULTI"}),
      Cmd({"SET", "foo", "bar"}),
      Cmd({"CONFIG", "SET", "maxmemory", "bla"}),
      Cmd({"EXEC"}),
  });
}

TEST_F(DifferentialTest, SubcommandsCheckedBeforeAuth) {
  Compare(
      {
          Cmd({"CLIENT", "FOO"}),
          Cmd({"CONFIG", "GET"}),
          Cmd({"OBJECT", "ENCODING"}),
          Cmd({"CLIENT", "ID"}),
          Cmd({"MULTI"}),
          Cmd({"AUTH", "sekret"}),
          Cmd({"MULTI"}),
          Cmd({"CLIENT", "FOO"}),
          Cmd({"EXEC"}),
      },
      "sekret");
}

// SUBSCRIBE and its kin queue in MULTI as Redis 7.0 queues them: EXEC runs them in their
// places, its array holding one confirmation per channel (more elements than its header
// counts), a PING after them answers as a subscriber's, and the connection leaves EXEC
// subscribed (RESP2: only the subscriber's commands then).
TEST_F(DifferentialTest, SubscribeInTransactionsResp2) {
  Compare({
      Cmd({"MULTI"}),
      Cmd({"PING", "before"}),
      Cmd({"SET", "k", "v"}),
      Cmd({"SUBSCRIBE", "a", "b"}),
      Cmd({"GET", "k"}),
      Cmd({"PING"}),
      Cmd({"PING", "x"}),
      Cmd({"EXEC"}, 2),
      On(1, {"PUBLISH", "a", "hello"}),
      Read(0),
      Cmd({"GET", "k"}),
      Cmd({"MULTI"}),
      Cmd({"UNSUBSCRIBE", "a", "b"}, 2),
      Cmd({"GET", "k"}),
      Cmd({"MULTI"}),
      Cmd({"PSUBSCRIBE", "p*"}),
      Cmd({"PING"}),
      Cmd({"PUNSUBSCRIBE", "p*"}),
      Cmd({"PING"}),
      Cmd({"UNSUBSCRIBE"}),
      Cmd({"PUNSUBSCRIBE", "q*"}),
      Cmd({"EXEC"}),
      On(1, {"PUBLISH", "pa", "nobody"}),
      // A WATCH abort runs nothing: no subscription.
      Cmd({"WATCH", "k"}),
      On(1, {"SET", "k", "changed"}),
      Cmd({"MULTI"}),
      Cmd({"SUBSCRIBE", "never"}),
      Cmd({"EXEC"}),
      On(1, {"PUBSUB", "NUMSUB", "never"}),
      Cmd({"GET", "k"}),
      // Refused while queuing (arity): EXECABORT, nothing subscribed.
      Cmd({"MULTI"}),
      Cmd({"SUBSCRIBE", "never"}),
      Cmd({"PSUBSCRIBE"}),
      Cmd({"EXEC"}),
      On(1, {"PUBSUB", "NUMSUB", "never"}),
      Cmd({"PING"}),
  });
}

TEST_F(DifferentialTest, SubscribeInTransactionsResp3) {
  Compare({
      Cmd({"HELLO", "3"}),
      Cmd({"MULTI"}),
      Cmd({"SUBSCRIBE", "a", "b"}),
      Cmd({"PING"}),
      Cmd({"PSUBSCRIBE", "p*"}),
      Cmd({"UNSUBSCRIBE", "a"}),
      Cmd({"HSET", "h", "f", "v"}),
      Cmd({"HGETALL", "h"}),
      Cmd({"EXEC"}, 2),
      On(1, {"PUBLISH", "b", "hello"}),
      Read(0),
      On(1, {"PUBLISH", "pq", "there"}),
      Read(0),
      Cmd({"GET", "x"}),
      Cmd({"MULTI"}),
      Cmd({"UNSUBSCRIBE", "b"}),
      Cmd({"PUNSUBSCRIBE", "p*"}),
      Cmd({"PING"}),
      Cmd({"EXEC"}),
      On(1, {"PUBLISH", "b", "nobody"}),
      Cmd({"PING"}),
  });
}

// redis.setresp(3): redis.call's replies reach the script as RESP3 converts them to Lua
// (null nil, double {double=}, map {map=}, set {set=}, WITHSCORES pairs as two-element
// arrays), and a returned boolean is a RESP3 boolean (:1/:0 to a RESP2 client). Returned
// {map=}, {set=}, {big_number=}, {verbatim_string=} tables are replies in either mode.
// Maps and sets come out in lua_next order, Redis's too (the same Lua 5.1 tables). Run
// from a RESP2 and a RESP3 client.
TEST_F(DifferentialTest, ScriptRespVersions) {
  const std::vector<std::vector<std::string>> scripts = {
      {"redis.setresp(3) return redis.call('hgetall', KEYS[1])", "1", "h"},
      {"redis.setresp(2) return redis.call('hgetall', KEYS[1])", "1", "h"},
      {"redis.setresp(3) local m = redis.call('hgetall', KEYS[1]) return {type(m), m.map.f1, "
       "m.map.f3}",
       "1", "h"},
      {"redis.setresp(3) return redis.call('get', 'missing')", "0"},
      {"redis.setresp(3) return {type(redis.call('get', 'missing')), 1}", "0"},
      {"redis.setresp(2) return {type(redis.call('get', 'missing')), 1}", "0"},
      {"redis.setresp(3) return redis.call('zscore', KEYS[1], 'm')", "1", "z"},
      {"redis.setresp(3) local d = redis.call('zscore', KEYS[1], 'm') return {type(d), "
       "tostring(d.double)}",
       "1", "z"},
      {"redis.setresp(2) return redis.call('zscore', KEYS[1], 'm')", "1", "z"},
      {"redis.setresp(3) return redis.call('zrange', KEYS[1], 0, -1, 'WITHSCORES')", "1", "z"},
      {"redis.setresp(3) return redis.call('smembers', KEYS[1])", "1", "s"},
      {"redis.setresp(3) local s = redis.call('smembers', KEYS[1]) return {type(s.set), "
       "tostring(s.set['2'])}",
       "1", "s"},
      {"redis.setresp(3) return redis.call('exists', KEYS[1])", "1", "s"},
      {"redis.setresp(3) return redis.pcall('incr', KEYS[1])", "1", "h"},
      {"redis.setresp(3) return redis.call('set', 'k', 'v')", "0"},
      {"redis.setresp(3) return true", "0"},
      {"redis.setresp(3) return false", "0"},
      {"redis.setresp(3) return {true, false, 1}", "0"},
      {"redis.setresp(3) redis.setresp(2) return false", "0"},
      {"redis.setresp(2.5) return redis.call('get', 'missing')", "0"},
      {"return {map={a=1, b='x', c={1, 2}}}", "0"},
      {"return {map={}}", "0"},
      {"return {set={a=true, b=true, c=true}}", "0"},
      {"return {big_number='123456789012345678901234567890'}", "0"},
      {"return {big_number='123\r\n123'}", "0"},
      {"return {verbatim_string={format='txt', string='hello'}}", "0"},
      {"return {verbatim_string={format='markdown', string='cut'}}", "0"},
      {"return {verbatim_string={format='m', string='padded'}}", "0"},
      {"return {verbatim_string={format='txt'}}", "0"},
      {"return {double=1.5}", "0"},
      {"redis.setresp(3) return {map={k=redis.call('zscore', KEYS[1], 'm')}}", "1", "z"},
      {"redis.setresp()", "0"},
      {"redis.setresp(2, 3)", "0"},
      {"redis.setresp(4)", "0"},
      {"redis.setresp('x')", "0"},
      {"return redis.pcall('ping', redis.setresp(1))", "0"},
  };
  std::vector<Step> steps = {
      Cmd({"HSET", "h", "f1", "v1", "f2", "v2", "f3", "v3"}),
      Cmd({"ZADD", "z", "1.5", "m", "2", "n"}),
      Cmd({"SADD", "s", "1", "2", "3"}),
  };
  for (const char* hello : {"2", "3"}) {
    steps.push_back(Cmd({"HELLO", hello}));
    for (const std::vector<std::string>& script : scripts) {
      std::vector<std::string> args = {"EVAL"};
      args.insert(args.end(), script.begin(), script.end());
      steps.push_back(Cmd(std::move(args)));
    }
  }
  Compare(steps);
}

// SORT's BY patterns and GET need access to every key (Redis 7.0's sortCommandGeneric):
// a user with key patterns gets Redis's error where the option parse meets them -- alone,
// pipelined, in EXEC's slot, and from a script -- while a constant BY, LIMIT and STORE
// still work and an earlier syntax or LIMIT error comes first.
TEST_F(DifferentialTest, SortPatternsNeedAccessToEveryKey) {
  const std::string acl_text =
      "user lim on >pw ~x* &* +@all\n"
      "user every on >pw ~* &* +@all\n";
  const std::string pipelined = testing::EncodeCommand({"SORT", "x_ids", "BY", "w_*"}) +
                                testing::EncodeCommand({"SORT", "x_ids", "DESC"}) +
                                testing::EncodeCommand({"SORT", "x_ids", "GET", "#"});
  Compare(
      {
          Cmd({"AUTH", "lim", "pw"}),
          Cmd({"RPUSH", "x_ids", "2", "1", "3"}),
          Cmd({"SORT", "x_ids"}),
          Cmd({"SORT", "x_ids", "BY", "nosort"}),
          Cmd({"SORT", "x_ids", "BY", "w_*"}),
          Cmd({"SORT", "x_ids", "GET", "#"}),
          Cmd({"SORT", "x_ids", "DESC", "ALPHA", "BY", "w_*->f"}),
          Cmd({"SORT", "x_ids", "LIMIT", "a", "b", "BY", "w_*"}),
          Cmd({"SORT", "x_ids", "LIMIT", "0", "1", "BY", "w_*"}),
          Cmd({"SORT", "x_ids", "foo", "BY", "w_*"}),
          Cmd({"SORT", "x_ids", "BY", "nosort", "GET", "#"}),
          Cmd({"SORT_RO", "x_ids", "BY", "w_*"}),
          Cmd({"SORT_RO", "x_ids", "STORE", "x_dst", "BY", "w_*"}),
          Cmd({"SORT", "x_ids", "STORE", "x_dst", "GET", "#"}),
          Cmd({"EXISTS", "x_dst"}),
          Cmd({"SORT", "x_ids", "STORE", "x_dst"}),
          Raw(0, pipelined, false),
          Read(0, 2),
          Cmd({"MULTI"}),
          Cmd({"SORT", "x_ids", "BY", "w_*"}),
          Cmd({"RPUSH", "x_ids", "0"}),
          Cmd({"SORT", "x_ids"}),
          Cmd({"EXEC"}),
          Cmd({"EVAL", "return redis.pcall('sort', KEYS[1], 'BY', 'w_*')", "1", "x_ids"}),
          Cmd({"EVAL", "return redis.call('sort', KEYS[1], 'GET', '#')", "1", "x_ids"}),
          Cmd({"EVAL", "return redis.call('sort', KEYS[1], 'BY', 'nosort')", "1", "x_ids"}),
          On(1, {"AUTH", "every", "pw"}),
          On(1, {"SORT", "x_ids", "BY", "w_*", "GET", "#"}),
          On(1, {"EVAL", "return redis.call('sort', KEYS[1], 'GET', '#')", "1", "x_ids"}),
      },
      "", {}, acl_text);
}

// A Redis command ekv does not serve, called from a script: Redis 7.0's lookup and arity
// checks by its own table, then "not allowed" (these are all noscript in Redis).
TEST_F(DifferentialTest, ScriptCallsOfCommandsEkvDoesNotServe) {
  std::vector<Step> steps;
  for (const char* body :
       {"return redis.pcall('cluster','reset','hard')", "return redis.pcall('cluster','foo')",
        "return redis.pcall('cluster')", "return redis.pcall('save')",
        "return redis.pcall('SAVE','x')", "return redis.pcall('bgsave')",
        "return redis.pcall('shutdown')", "return redis.pcall('monitor')",
        "return redis.pcall('latency','doctor')", "return redis.call('cluster','reset','hard')",
        "return redis.pcall('nosuchcommand')", "return redis.pcall('config|get','x')"}) {
    steps.push_back(Cmd({"EVAL", body, "0"}));
  }
  Compare(steps);
}

// redis.acl_check_cmd and the ACL check of every redis.call run where the script runs (in
// the group, at apply time) against the calling user's rules, which the request carries:
// Redis 7.0's answers and words, for EVAL and for EVAL queued in MULTI.
TEST_F(DifferentialTest, ScriptAclChecks) {
  const std::string acl_text =
      "user bob on >123 ~x* &news* -@all +@scripting +set +publish +config|get +multi +exec\n";
  auto check = [](const std::string& body) { return Cmd({"EVAL", body, "0"}); };
  Compare(
      {
          Cmd({"AUTH", "bob", "123"}),
          Cmd({"EVAL", "return redis.acl_check_cmd('set','xx',1)", "1", "xx"}),
          Cmd({"EVAL", "return redis.acl_check_cmd('hset','xx','f',1)", "1", "xx"}),
          check("return redis.acl_check_cmd('set','yy',1)"),
          check("return redis.acl_check_cmd('SET','xy','1')"),
          check("return redis.acl_check_cmd('invalid-cmd','arg')"),
          check("return redis.acl_check_cmd('config','get','x')"),
          check("return redis.acl_check_cmd('config','set','x','y')"),
          check("return redis.acl_check_cmd('config','nosuch')"),
          check("return redis.acl_check_cmd('config|get','x')"),
          check("return redis.acl_check_cmd('config')"),
          check("return redis.acl_check_cmd('publish','news1','m')"),
          check("return redis.acl_check_cmd('publish','other','m')"),
          check("return redis.acl_check_cmd('xadd','xs','*','f','v')"),
          check("return redis.acl_check_cmd('auth','a')"),
          check("return redis.acl_check_cmd()"),
          check("return redis.acl_check_cmd('get', {})"),
          check("return redis.pcall('acl_check_cmd')"),
          // redis.call refused by the user's rules: command, then key.
          check("return redis.call('get','xx')"),
          check("return redis.pcall('get','xx')"),
          check("return redis.call('set','yy','1')"),
          check("return redis.call('set','xy','1')"),
          check("return redis.pcall('set','yz','1')"),
          // A container's subcommand is looked up, then its arity checked, before the ACL.
          check("return redis.call('object','foo','k')"),
          check("return redis.pcall('object','encoding')"),
          check("return redis.call('memory','usage')"),
          check("return redis.call('object')"),
          Cmd({"MULTI"}),
          check("return redis.acl_check_cmd('set','yy',1)"),
          check("return redis.call('set','yy','1')"),
          check("return redis.acl_check_cmd('set','xx',1)"),
          Cmd({"EXEC"}),
          // The default user may run everything.
          On(1, {"EVAL", "return redis.acl_check_cmd('set','yy',1)", "0"}),
          On(1, {"EVAL", "return redis.acl_check_cmd('nosuch')", "0"}),
          On(1, {"GET", "xy"}),
      },
      "", {}, acl_text);
}

// The ACL key check covers every key Redis 7.0 finds for a command: SORT's STORE
// destination (found by its getkeys_proc), the keys after a numkeys (EVAL, ZUNIONSTORE,
// LMPOP, SINTERCARD), keyword-started keys (XREAD-style specs are not served; GEORADIUS is
// not either), not only the legacy first..last positions.
TEST_F(DifferentialTest, AclKeyCheckFindsKeysAsRedis) {
  const std::string acl_text =
      "user default on nopass ~* &* +@all\n"
      "user app on >apw ~app:* +@all\n";
  Compare(
      {
          On(0, {"RPUSH", "app:l", "3", "1", "2"}),
          On(0, {"ZADD", "app:z", "1", "m"}),
          On(0, {"ZADD", "other", "1", "n"}),
          On(1, {"AUTH", "app", "apw"}),
          On(1, {"SORT", "app:l", "STORE", "app:sorted"}),
          On(1, {"SORT", "app:l", "STORE", "other"}),
          On(1, {"SORT", "app:l", "STORE", "app:x", "STORE", "other"}),
          On(1, {"SORT", "app:l", "STORE", "other", "STORE", "app:x"}),
          On(1, {"SORT", "app:l", "LIMIT", "0", "1"}),
          On(1, {"EVAL", "return 1", "1", "app:k"}),
          On(1, {"EVAL", "return 1", "2", "app:k", "other"}),
          On(1, {"EVAL", "return 1", "0", "other"}),
          On(1, {"ZUNIONSTORE", "app:u", "2", "app:z", "other"}),
          On(1, {"ZUNIONSTORE", "app:u", "1", "app:z", "WEIGHTS", "2"}),
          On(1, {"ZUNIONSTORE", "other", "1", "app:z"}),
          On(1, {"LMPOP", "2", "app:l", "other", "LEFT"}),
          On(1, {"LMPOP", "1", "app:l", "LEFT"}),
          On(1, {"SINTERCARD", "2", "app:s", "other"}),
          On(1, {"ZUNIONSTORE", "app:u", "x", "app:z"}),
          On(1, {"LRANGE", "app:sorted", "0", "-1"}),
          On(0, {"EXISTS", "other", "app:x"}),
      },
      "", {}, acl_text);
}

// INFO memory counts the scripts cached (Redis 7.0's number_of_cached_scripts): SCRIPT
// LOAD and EVAL add, a body twice counts once, SCRIPT FLUSH (SYNC or ASYNC) empties.
TEST(InfoScriptCacheTest, NumberOfCachedScriptsAsRedis) {
  BothServers both;
  ASSERT_TRUE(both.Ready());
  auto cached = [](RespClient& client) {
    static const std::regex kLine("number_of_cached_scripts:([0-9]+)\r");
    const std::string info = client.Call({"INFO", "memory"});
    std::smatch match;
    return std::regex_search(info, match, kLine) ? match[1].str() : "<missing in " + info + ">";
  };
  std::vector<std::string> seen[2];
  const int ports[2] = {both.redis.port(), both.ekv.port()};
  for (int side = 0; side < 2; ++side) {
    RespClient client(ports[side]);
    client.Call({"SCRIPT", "FLUSH"});
    seen[side].push_back(cached(client));
    for (int j = 0; j < 5; ++j) client.Call({"SCRIPT", "LOAD", absl::StrCat("return ", j)});
    client.Call({"SCRIPT", "LOAD", "return 1"});
    client.Call({"EVAL", "return 'new'", "0"});
    client.Call({"EVAL", "return +", "0"});
    seen[side].push_back(cached(client));
    client.Call({"SCRIPT", "FLUSH", "ASYNC"});
    seen[side].push_back(cached(client));
  }
  EXPECT_EQ(seen[1], seen[0]);
  EXPECT_EQ(seen[0], (std::vector<std::string>{"0", "6", "0"}));
}

// The read-only globals resist the metatable tricks as in Redis 7.0: setmetatable on _G or
// a library table, and writing the metatable getmetatable(_G) answers, fail with "Attempt
// to modify a readonly table"; setmetatable on the script's own tables still works.
TEST_F(DifferentialTest, ScriptGlobalsResistMetatableTricks) {
  auto eval = [](const std::string& body) { return Cmd({"EVAL", body, "0"}); };
  Compare({
      eval("setmetatable(_G, {})"),
      eval("local g = getmetatable(_G)\ng.__index = {}"),
      eval("local g = getmetatable(_G) return type(g)"),
      eval("local g = getmetatable(_G) rawset(g, '__index', {})"),
      eval("setmetatable(redis, {})"),
      eval("setmetatable(string, nil)"),
      eval("local t = setmetatable({}, {__index = function() return 7 end}) return t.x"),
      eval("return pcall(setmetatable, _G, {})"),
      eval("return setmetatable(1, {})"),
      eval("return setmetatable({}, 1)"),
      eval("local t = setmetatable({}, {__metatable = 'locked'}) setmetatable(t, {})"),
  });
}

// Redis 7.0 fails EXEC when a key that was live when WATCHed has expired since (no
// command touched it); a key already expired, or without a TTL, or with one still ahead,
// does not; DISCARD and UNWATCH forget it. RESP2 and RESP3 nulls.
TEST_F(DifferentialTest, WatchedKeysThatExpireFailExec) {
  Compare({
      Cmd({"SET", "wx", "foo", "PX", "200"}),
      Cmd({"WATCH", "wx"}),
      After(500, {"MULTI"}),
      Cmd({"PING"}),
      Cmd({"EXEC"}),
      Cmd({"SET", "wy", "foo", "PX", "1"}),
      After(100, {"WATCH", "wy"}),
      Cmd({"MULTI"}),
      Cmd({"PING"}),
      Cmd({"EXEC"}),
      Cmd({"SET", "wz", "v"}),
      Cmd({"SET", "ww", "v", "EX", "100"}),
      Cmd({"WATCH", "wz", "ww", "nokey"}),
      Cmd({"MULTI"}),
      Cmd({"PING"}),
      Cmd({"EXEC"}),
      Cmd({"SET", "wd", "v", "PX", "200"}),
      Cmd({"WATCH", "wd"}),
      After(500, {"MULTI"}),
      Cmd({"DISCARD"}),
      Cmd({"MULTI"}),
      Cmd({"PING"}),
      Cmd({"EXEC"}),
      Cmd({"SET", "wu", "v", "PX", "200"}),
      Cmd({"WATCH", "wu"}),
      Cmd({"UNWATCH"}),
      After(500, {"MULTI"}),
      Cmd({"PING"}),
      Cmd({"EXEC"}),
      Cmd({"HELLO", "3"}),
      Cmd({"SET", "wr", "v", "PX", "200"}),
      Cmd({"WATCH", "wr"}),
      After(500, {"MULTI"}),
      Cmd({"SET", "other", "1"}),
      Cmd({"EXEC"}),
      Cmd({"EXISTS", "other"}),
  });
}

// Redis 7 functions: FUNCTION LOAD's checks and errors (metadata, names, engines, the load
// API's globals, register_function's arguments and flags), FCALL / FCALL_RO (keys and
// arguments as the function's two arguments, errors naming the function, no-writes),
// DELETE, FLUSH, LIST in both protocols, STATS, DUMP's bytes and RESTORE's policies, KILL,
// HELP. Functions outlive FLUSHALL in both servers, so the script starts and ends with
// FUNCTION FLUSH. One library at a time where Redis's dict order would show.
TEST_F(DifferentialTest, Functions) {
  const std::string lib =
      "#!lua name=mylib\n"
      "redis.register_function('echo', function(keys, args) return {keys, args} end)\n"
      "redis.register_function{function_name='getter', callback=function(keys, args)\n"
      "  return redis.call('get', keys[1]) end, flags={'no-writes', 'allow-stale'},\n"
      "  description='reads a key'}\n"
      "redis.register_function('setter', function(keys, args)\n"
      "  return redis.call('set', keys[1], args[1]) end)\n"
      "redis.register_function('boom', function(keys, args)\n"
      "  error('boom') end)\n";
  // One function: FUNCTION LIST shows a library's functions in Redis's dict order.
  const std::string solo =
      "#!lua name=mylib\n"
      "redis.register_function{function_name='getter', callback=function(keys, args)\n"
      "  return redis.call('get', keys[1]) end, flags={'no-writes', 'allow-stale'},\n"
      "  description='reads a key'}\n";
  auto load = [](std::string code) { return Cmd({"FUNCTION", "LOAD", std::move(code)}); };
  auto body = [](const std::string& statement) { return "#!lua name=lib2\n" + statement + "\n"; };
  Compare({
      Cmd({"FUNCTION", "FLUSH"}),
      load(lib),
      load(lib),
      Cmd({"FUNCTION", "LOAD", "REPLACE", lib}),
      Cmd({"FUNCTION", "LOAD", "BOGUS", lib}),
      Cmd({"FUNCTION", "LOAD", "REPLACE"}),
      Cmd({"FCALL", "echo", "2", "k1", "k2", "a1", "a2"}),
      Cmd({"FCALL", "ECHO", "0"}),
      Cmd({"FCALL", "setter", "1", "fk", "v1"}),
      Cmd({"FCALL", "getter", "1", "fk"}),
      Cmd({"FCALL_RO", "getter", "1", "fk"}),
      Cmd({"FCALL_RO", "setter", "1", "fk", "v2"}),
      Cmd({"FCALL", "boom", "0"}),
      Cmd({"FCALL", "missing", "0"}),
      Cmd({"FCALL", "echo", "x"}),
      Cmd({"FCALL", "echo", "3", "a"}),
      Cmd({"FCALL", "echo", "-1"}),
      Cmd({"FUNCTION", "LOAD", "REPLACE", solo}),
      Cmd({"FUNCTION", "LIST"}),
      Cmd({"FUNCTION", "LIST", "WITHCODE"}),
      Cmd({"FUNCTION", "LIST", "LIBRARYNAME", "my*"}),
      Cmd({"FUNCTION", "LIST", "LIBRARYNAME", "other*"}),
      Cmd({"FUNCTION", "LIST", "LIBRARYNAME"}),
      Cmd({"FUNCTION", "LIST", "BAD"}),
      Cmd({"FUNCTION", "STATS"}),
      Cmd({"FUNCTION", "LOAD", "REPLACE", lib}),
      Cmd({"FUNCTION", "STATS"}),
      Cmd({"FUNCTION", "DUMP"}),
      Cmd({"FUNCTION", "KILL"}),
      Cmd({"FUNCTION", "HELP"}),
      Cmd({"FUNCTION", "NOPE"}),
      Cmd({"FUNCTION", "FLUSH", "BAD"}),
      Cmd({"FUNCTION", "FLUSH", "SYNC", "X"}),
      // a second library may not take a function name (any case) another one has
      load("#!lua name=lib2\nredis.register_function('ECHO', function() return 1 end)"),
      Cmd({"FLUSHALL"}),
      // functions are no keys: FLUSHALL keeps them, the keyspace does not show them
      Cmd({"DBSIZE"}),
      Cmd({"KEYS", "*"}),
      Cmd({"SCAN", "0"}),
      Cmd({"RANDOMKEY"}),
      Cmd({"FCALL", "echo", "0"}),
      Cmd({"FUNCTION", "DELETE", "nosuch"}),
      Cmd({"FUNCTION", "DELETE", "mylib"}),
      Cmd({"FCALL", "echo", "0"}),
      Cmd({"FUNCTION", "LIST"}),
      // load errors, in Redis's order of checks
      load("return 1"),
      load("#!lua name=x"),
      load("#!lua\nredis.register_function('f', function() end)"),
      load("#!lua name=a name=b\n"),
      load("#!lua name=a foo=b\n"),
      load("#!lua name=bad-name\n"),
      load("#!lua name=\n"),
      load("#!py name=p\n"),
      load("#!LUA name=upper\nredis.register_function('up', function() return 'up' end)"),
      Cmd({"FCALL", "up", "0"}),
      Cmd({"FUNCTION", "DELETE", "upper"}),
      load(body("return +")),
      load(body("local x = 1")),
      load(body("error('at load')")),
      load(body("error({err='TABLED at load'})")),
      load(body("return math.random()")),
      load(body("return redis.call('ping')")),
      load(body("return redis.setresp(3)")),
      load(body("redis.register_function('f')")),
      load(body("redis.register_function(1, 2, 3)")),
      load(body("redis.register_function({}, function() end)")),
      load(body("redis.register_function('f', 'x')")),
      load(body("redis.register_function('bad name', function() end)")),
      load(body("redis.register_function('', function() end)")),
      load(body("redis.register_function('f', function() end) "
                "redis.register_function('f', function() end)")),
      load(body("redis.register_function('x')")),
      load(body("redis.register_function({function_name='f'})")),
      load(body("redis.register_function({callback=function() end})")),
      load(body("redis.register_function({function_name='f', callback=1})")),
      load(body("redis.register_function({function_name=1, callback=function() end})")),
      load(body("redis.register_function({function_name='f', callback=function() end, "
                "flags='no-writes'})")),
      load(body("redis.register_function({function_name='f', callback=function() end, "
                "flags={'bad-flag'}})")),
      load(body("redis.register_function({function_name='f', callback=function() end, "
                "other=1})")),
      load(body("redis.register_function({function_name='f', callback=function() end, "
                "description=function() end})")),
      load(body("redis.register_function{function_name='f', callback=function() end, "
                "flags={'No-Writes', 'allow-oom', 'no-cluster', 'allow-cross-slot-keys'}}")),
      Cmd({"FUNCTION", "LIST"}),
      Cmd({"FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "lib2"}),
      // the library's redis table outlives its load, but registers nothing then
      Cmd({"FUNCTION", "LOAD", "REPLACE",
           body("local lib = redis\n"
                "redis.register_function('f', function() lib.register_function('g', "
                "function() end) end)\n"
                "redis.register_function('v', function() return {redis.REDIS_VERSION, "
                "redis.REDIS_VERSION_NUM, type(KEYS)} end)\n"
                "redis.register_function('w', function() lib.x = 1 end)")}),
      Cmd({"FCALL", "f", "0"}),
      Cmd({"FCALL", "v", "0"}),
      Cmd({"FCALL", "w", "0"}),
      Cmd({"FUNCTION", "FLUSH", "ASYNC"}),
      Cmd({"FUNCTION", "LIST"}),
      Cmd({"FUNCTION", "STATS"}),
      Cmd({"HELLO", "3"}),
      load(solo),
      Cmd({"FUNCTION", "LIST"}),
      Cmd({"FUNCTION", "LOAD", "REPLACE", lib}),
      Cmd({"FUNCTION", "STATS"}),
      Cmd({"FCALL", "echo", "1", "k", "a"}),
      Cmd({"FUNCTION", "FLUSH"}),
  });
}

// FUNCTION and FCALL inside MULTI run at EXEC in their places: the EXEC's FUNCTION LOAD is
// what its later FCALL calls, its FUNCTION DELETE what a later FCALL misses, around data
// commands of the same EXEC.
TEST_F(DifferentialTest, FunctionsInTransactions) {
  const std::string lib =
      "#!lua name=txlib\n"
      "redis.register_function('incr2', function(keys, args)\n"
      "  redis.call('incr', keys[1]) return redis.call('incr', keys[1]) end)\n"
      "redis.register_function{function_name='peek', flags={'no-writes'},\n"
      "  callback=function(keys) return redis.call('get', keys[1]) end}\n";
  Compare({
      Cmd({"FUNCTION", "FLUSH"}),
      Cmd({"MULTI"}),
      Cmd({"FCALL", "incr2", "1", "n"}),
      Cmd({"FUNCTION", "LOAD", lib}),
      Cmd({"SET", "n", "10"}),
      Cmd({"FCALL", "incr2", "1", "n"}),
      Cmd({"FCALL_RO", "peek", "1", "n"}),
      Cmd({"FCALL_RO", "incr2", "1", "n"}),
      Cmd({"INCR", "n"}),
      Cmd({"FUNCTION", "DELETE", "txlib"}),
      Cmd({"FCALL", "peek", "1", "n"}),
      Cmd({"FUNCTION", "LIST"}),
      Cmd({"EXEC"}),
      Cmd({"GET", "n"}),
      Cmd({"FUNCTION", "FLUSH"}),
  });
}

// FUNCTION DUMP and RESTORE: the payload's bytes (one library, and an empty one), the
// policies (APPEND refuses an existing library, REPLACE swaps it, FLUSH drops the others),
// and the payload checks.
TEST_F(DifferentialTest, FunctionDumpAndRestore) {
  const std::string one =
      "#!lua name=one\nredis.register_function('f1', function() return 'one' end)";
  const std::string one_v2 =
      "#!lua name=one\nredis.register_function('f1', function() return 'one v2' end)";
  // Long enough for the code to be LZF-compressed in the payload.
  const std::string two = "#!lua name=two\n-- " + std::string(200, 'x') +
                          "\nredis.register_function('f2', function() return 'two' end)";
  // A payload as FUNCTION DUMP writes it (opcode 245 and the code per library, RDB version
  // 10, CRC-64): the DUMP replies compared below show ekv and Redis write the same bytes.
  auto payload = [](const std::vector<std::string>& codes) {
    std::string out;
    for (const std::string& code : codes) {
      out.push_back(static_cast<char>(245));
      redis_core::AppendRdbString(&out, code);
    }
    out.append("\x0a\x00", 2);
    const uint64_t crc = redis_core::Crc64Jones(0, out);
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
    return out;
  };
  std::string bad_crc = payload({one});
  bad_crc.back() ^= 1;
  std::string not_a_function = payload({});
  not_a_function.insert(0, "\x00\x01x", 3);
  not_a_function = not_a_function.substr(0, not_a_function.size() - 8);
  {
    const uint64_t crc = redis_core::Crc64Jones(0, not_a_function);
    for (int i = 0; i < 8; ++i) {
      not_a_function.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
    }
  }
  Compare({
      Cmd({"FUNCTION", "FLUSH"}),
      Cmd({"FUNCTION", "DUMP"}),
      Cmd({"FUNCTION", "LOAD", one}),
      Cmd({"FUNCTION", "DUMP"}),
      Cmd({"FUNCTION", "FLUSH"}),
      Cmd({"FUNCTION", "LOAD", two}),
      Cmd({"FUNCTION", "DUMP"}),
      Cmd({"FUNCTION", "RESTORE", "garbage"}),
      Cmd({"FUNCTION", "RESTORE", payload({one}), "BAD"}),
      Cmd({"FUNCTION", "RESTORE", payload({one}), "FLUSH", "more"}),
      Cmd({"FUNCTION", "RESTORE", bad_crc}),
      Cmd({"FUNCTION", "RESTORE", not_a_function}),
      Cmd({"FUNCTION", "RESTORE", payload({"#!lua name=bad\nreturn 1"})}),
      Cmd({"FUNCTION", "RESTORE", payload({one, one_v2})}),
      Cmd({"FUNCTION", "RESTORE", payload({})}),
      Cmd({"FUNCTION", "RESTORE", payload({one})}),
      Cmd({"FCALL", "f1", "0"}),
      Cmd({"FUNCTION", "RESTORE", payload({one_v2})}),
      Cmd({"FUNCTION", "RESTORE", payload({one_v2}), "APPEND"}),
      Cmd({"FCALL", "f1", "0"}),
      Cmd({"FUNCTION", "RESTORE", payload({one_v2}), "REPLACE"}),
      Cmd({"FCALL", "f1", "0"}),
      Cmd({"FCALL", "f2", "0"}),
      Cmd({"FUNCTION", "RESTORE",
           payload({"#!lua name=three\nredis.register_function('F2', function() end)"}),
           "REPLACE"}),
      Cmd({"FUNCTION", "RESTORE", payload({one}), "FLUSH"}),
      Cmd({"FCALL", "f1", "0"}),
      Cmd({"FCALL", "f2", "0"}),
      Cmd({"FUNCTION", "FLUSH"}),
  });
}

}  // namespace
}  // namespace ekv::redis::differential
