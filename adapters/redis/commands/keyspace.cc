// SCAN, KEYS, DBSIZE, RANDOMKEY, FLUSHDB, FLUSHALL: walks of the keyspace through the routes of the
// catalog, in key order, one bounded page at a time (the internal read `ekv-keys`, which each
// group's executor answers at a linearizable read point; core/redis/commands_keyspace.cc).
//
// SCAN's cursor is a number, as clients expect (some parse it as a 64-bit integer): this
// server keeps the position (the next key) it stands for in a bounded table, so a cursor
// is valid on the node that issued it while among its kMaxCursors most recent ones.
// Because the walk is in key order, a key present for the whole iteration is returned
// exactly once, a guarantee stronger than Redis's (at least once).
//
// FLUSHDB (and FLUSHALL: ekv has one database) walks the same way and deletes each page's
// keys with one DEL in the group that listed them (O(1) per collection, as DEL is: the
// elements go in background cleanup). Every key that existed when it started is gone when
// it answers; a key another client writes meanwhile may survive (Redis, single-threaded,
// has no such race). The cost is O(keys) for the server; ASYNC and SYNC are the same.
// DynamoDB's tables (the same keyspace, a reserved prefix) are left alone.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "adapters/redis/blocked_clients.h"
#include "adapters/redis/command_table.h"
#include "adapters/redis/reply_writer.h"
#include "adapters/redis/resp_writer.h"
#include "core/redis/executor.h"

namespace ekv::redis {
namespace {

using redis_core::Reply;
using KeyRange = RedisBackend::KeyRange;

constexpr size_t kMaxCursors = 100'000;          // SCAN positions remembered per process
constexpr uint64_t kWalkPageKeys = 10'000;       // keys examined per page of KEYS/DBSIZE
constexpr size_t kMaxKeysReply = 10'000'000;     // KEYS answers an error beyond this
constexpr uint64_t kRandomKeySample = 1'000;     // RANDOMKEY picks among this many keys
constexpr uint64_t kFlushPageKeys = 1'000;       // keys listed and deleted per step of FLUSHDB
constexpr size_t kFlushBatchBytes = 256 * 1024;  // key bytes per DEL of FLUSHDB (one entry)
// The DynamoDB front door keeps its tables in the same keyspace under this reserved prefix
// (adapters/dynamo/key_codec.h): FLUSHDB leaves them alone, as a Redis FLUSHALL would not
// reach another service's data.
constexpr absl::string_view kDynamoPrefix("\0ddb", 4);

// Cursor number -> the key the walk goes on from. 0 is the start (never stored).
class CursorTable {
 public:
  uint64_t Save(std::string position) {
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t id = next_id_++;
    positions_.emplace(id, std::move(position));
    while (positions_.size() > kMaxCursors) positions_.erase(positions_.begin());
    return id;
  }
  std::optional<std::string> Find(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = positions_.find(id);
    if (it == positions_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::mutex mu_;
  uint64_t next_id_ = 1;                       // guarded by mu_
  std::map<uint64_t, std::string> positions_;  // guarded by mu_; oldest first
};

CursorTable& Cursors() {
  static CursorTable* table = new CursorTable();
  return *table;
}

struct Page {
  std::optional<std::string> next;  // nullopt: the range is exhausted
  Reply result;                     // the keys (an array) or their number
};
using PageDone = std::function<void(absl::StatusOr<Page>)>;

struct WalkFilter {
  std::string pattern;  // empty: every key
  std::string type;     // empty: every type
  bool count_only = false;
};

// One page of [lo, hi) from the group owning lo.
void ListPage(RedisBackend* backend, const std::string& lo, const std::string& hi, uint64_t limit,
              const WalkFilter& filter, PageDone done) {
  redis_core::RedisRequest request =
      MakeRedisRequest({std::string(redis_core::kKeyspaceCommand), lo, hi, absl::StrCat(limit),
                        filter.pattern, filter.type, filter.count_only ? "count" : "keys"});
  // The empty key is no key ekv stores; "\0" is the first one and lives in the same range.
  request.routing_key = lo.empty() ? std::string(1, '\0') : lo;
  backend->Execute(std::move(request), /*write=*/false,
                   [done = std::move(done)](absl::StatusOr<Reply> reply) {
                     if (!reply.ok()) return done(reply.status());
                     if (reply->is_error()) return done(absl::InternalError(reply->text));
                     if (reply->kind != Reply::Kind::kArray || reply->elements.size() != 2) {
                       return done(absl::InternalError("redis: malformed keyspace page"));
                     }
                     Page page;
                     if (reply->elements[0].kind == Reply::Kind::kBulk) {
                       page.next = reply->elements[0].text;
                     }
                     page.result = std::move(reply->elements[1]);
                     done(std::move(page));
                   });
}

// Walks every range from its start, page by page; `on_page` sees each page's result and
// returns false to stop early. `done` is called once at the end.
struct Walk : std::enable_shared_from_this<Walk> {
  RedisBackend* backend = nullptr;
  std::vector<KeyRange> ranges;
  size_t range = 0;
  WalkFilter filter;
  uint64_t page_keys = kWalkPageKeys;
  std::function<bool(Reply&)> on_page;
  std::function<void(absl::Status)> done;

  void Step(std::string position) {
    if (range >= ranges.size()) return done(absl::OkStatus());
    auto self = shared_from_this();
    ListPage(backend, position, ranges[range].end, page_keys, filter,
             [self](absl::StatusOr<Page> page) {
               if (!page.ok()) return self->done(page.status());
               if (!self->on_page(page->result)) return self->done(absl::OkStatus());
               if (page->next.has_value()) return self->Step(*page->next);
               if (++self->range >= self->ranges.size()) return self->done(absl::OkStatus());
               self->Step(self->ranges[self->range].start);
             });
  }
};

void StartWalk(CommandContext& context, WalkFilter filter, uint64_t page_keys,
               std::function<bool(Reply&)> on_page, std::function<void(absl::Status)> done,
               bool shuffle = false) {
  RedisBackend* backend = context.backend;
  backend->ListRanges([backend, filter = std::move(filter), page_keys, on_page = std::move(on_page),
                       done = std::move(done),
                       shuffle](absl::StatusOr<std::vector<KeyRange>> ranges) mutable {
    if (!ranges.ok()) return done(ranges.status());
    auto walk = std::make_shared<Walk>();
    walk->backend = backend;
    walk->ranges = *std::move(ranges);
    if (shuffle) {
      std::shuffle(walk->ranges.begin(), walk->ranges.end(), std::mt19937_64(NextRequestSeed()));
    }
    walk->filter = std::move(filter);
    walk->page_keys = page_keys;
    walk->on_page = std::move(on_page);
    walk->done = std::move(done);
    if (walk->ranges.empty()) return walk->done(absl::OkStatus());
    walk->Step(walk->ranges[0].start);
  });
}

// FLUSHDB's walk: lists a page of the current range, deletes its keys with DELs of at most
// kFlushBatchBytes of names each (they share the range's group: each DEL is one write
// there), then goes on from the page's end. Deleting keys behind the
// position does not move it, so every key present at the start is listed once.
struct Flush : std::enable_shared_from_this<Flush> {
  RedisBackend* backend = nullptr;
  std::vector<KeyRange> ranges;
  size_t range = 0;
  std::function<void(absl::Status)> done;

  void Step(std::string position) {
    auto self = shared_from_this();
    ListPage(backend, position, ranges[range].end, kFlushPageKeys, WalkFilter{},
             [self](absl::StatusOr<Page> page) {
               if (!page.ok()) return self->done(page.status());
               // One DEL per kFlushBatchBytes of key names (keys are up to 8 KiB each).
               auto batches = std::make_shared<std::vector<std::vector<std::string>>>();
               size_t bytes = 0;
               for (Reply& key : page->result.elements) {
                 if (absl::StartsWith(key.text, kDynamoPrefix)) continue;
                 if (batches->empty() || bytes >= kFlushBatchBytes) {
                   batches->push_back({"del"});
                   bytes = 0;
                 }
                 bytes += key.text.size();
                 batches->back().push_back(std::move(key.text));
               }
               self->Delete(std::move(batches), 0, std::move(page->next));
             });
  }

  // Sends batches[i], then the following ones, one at a time; then goes on from `next`.
  void Delete(std::shared_ptr<std::vector<std::vector<std::string>>> batches, size_t i,
              std::optional<std::string> next) {
    if (i >= batches->size()) return GoOn(std::move(next));
    auto self = shared_from_this();
    backend->Execute(MakeRedisRequest(std::move((*batches)[i])), /*write=*/true,
                     [self, batches, i, next](absl::StatusOr<Reply> reply) mutable {
                       if (!reply.ok()) return self->done(reply.status());
                       if (reply->is_error()) return self->done(absl::InternalError(reply->text));
                       self->Delete(std::move(batches), i + 1, std::move(next));
                     });
  }

  // Within this range from `next`, else the next range, else done.
  void GoOn(std::optional<std::string> next) {
    if (next.has_value()) return Step(*std::move(next));
    if (++range >= ranges.size()) return done(absl::OkStatus());
    Step(ranges[range].start);
  }
};

}  // namespace

std::string FlushdbSyntaxError(const std::vector<std::string>& args) {
  // Redis 7.0: one optional ASYNC or SYNC, anything else a syntax error.
  if (args.size() > 2) return "ERR syntax error";
  if (args.size() == 2) {
    const std::string mode = absl::AsciiStrToLower(args[1]);
    if (mode != "async" && mode != "sync") return "ERR syntax error";
  }
  return "";
}

void FlushKeyspace(RedisBackend* backend, std::function<void(absl::Status)> done) {
  backend->ListRanges(
      [backend, done = std::move(done)](absl::StatusOr<std::vector<KeyRange>> ranges) mutable {
        if (!ranges.ok()) return done(ranges.status());
        auto flush = std::make_shared<Flush>();
        flush->backend = backend;
        flush->ranges = *std::move(ranges);
        flush->done = std::move(done);
        if (flush->ranges.empty()) return flush->done(absl::OkStatus());
        flush->Step(flush->ranges[0].start);
      });
}

void FlushdbCommand(CommandContext context) {
  if (std::string error = FlushdbSyntaxError(context.args); !error.empty()) {
    return context.reply(ErrorReply(error));
  }
  // Every blocked consumer group reader is answered (its stream is gone).
  context.connection->ready_keys = KeysMadeReady(context.args);
  FlushKeyspace(context.backend, [reply = std::move(context.reply)](absl::Status status) {
    if (!status.ok()) return reply(BackendErrorReply(status));
    reply(SimpleStringReply("OK"));
  });
}

void KeysCommand(CommandContext context) {
  auto keys = std::make_shared<std::vector<Reply>>();
  auto too_many = std::make_shared<bool>(false);
  const int protocol = context.connection->protocol;
  WalkFilter filter;
  filter.pattern = context.args[1] == "*" ? "" : context.args[1];
  StartWalk(
      context, std::move(filter), kWalkPageKeys,
      [keys, too_many](Reply& page) {
        for (Reply& key : page.elements) keys->push_back(std::move(key));
        *too_many = keys->size() > kMaxKeysReply;
        return !*too_many;
      },
      [keys, too_many, protocol, reply = std::move(context.reply)](absl::Status status) {
        if (!status.ok()) return reply(BackendErrorReply(status));
        if (*too_many) {
          return reply(ErrorReply(
              absl::StrCat("ERR KEYS would answer more than ", kMaxKeysReply, " keys; use SCAN")));
        }
        reply(EncodeReplyFor(protocol, Reply::Array(std::move(*keys))));
      });
}

void DbsizeCommand(CommandContext context) {
  auto count = std::make_shared<int64_t>(0);
  WalkFilter filter;
  filter.count_only = true;
  StartWalk(
      context, std::move(filter), kWalkPageKeys,
      [count](Reply& page) {
        *count += page.integer;
        return true;
      },
      [count, reply = std::move(context.reply)](absl::Status status) {
        if (!status.ok()) return reply(BackendErrorReply(status));
        reply(IntegerReply(*count));
      });
}

// Picks among the first keys of the ranges, tried in random order: uniform within a range's
// sample, not across the whole keyspace as Redis's is.
void RandomkeyCommand(CommandContext context) {
  auto picked = std::make_shared<std::optional<std::string>>();
  const int protocol = context.connection->protocol;
  // One page per range: a range with no key in its first sample is passed over.
  StartWalk(
      context, WalkFilter{}, kRandomKeySample,
      [picked](Reply& page) {
        if (page.elements.empty()) return true;
        std::mt19937_64 rng(NextRequestSeed());
        *picked = page.elements[rng() % page.elements.size()].text;
        return false;
      },
      [picked, protocol, reply = std::move(context.reply)](absl::Status status) {
        if (!status.ok()) return reply(BackendErrorReply(status));
        reply(EncodeReplyFor(protocol, picked->has_value() ? Reply::Bulk(**picked) : Reply::Nil()));
      },
      /*shuffle=*/true);
}

void ScanCommand(CommandContext context) {
  const std::vector<std::string>& args = context.args;
  uint64_t cursor = 0;
  if (!absl::SimpleAtoi(args[1], &cursor)) return context.reply(ErrorReply("ERR invalid cursor"));
  std::string position;
  if (cursor != 0) {
    std::optional<std::string> found = Cursors().Find(cursor);
    if (!found.has_value()) return context.reply(ErrorReply("ERR invalid cursor"));
    position = *std::move(found);
  }
  WalkFilter filter;
  int64_t count = 10;
  for (size_t i = 2; i < args.size(); i += 2) {
    const std::string option = absl::AsciiStrToLower(args[i]);
    if (i + 1 >= args.size()) return context.reply(ErrorReply("ERR syntax error"));
    if (option == "count") {
      if (!absl::SimpleAtoi(args[i + 1], &count)) {
        return context.reply(ErrorReply("ERR value is not an integer or out of range"));
      }
      if (count < 1) return context.reply(ErrorReply("ERR syntax error"));
    } else if (option == "match") {
      filter.pattern = args[i + 1] == "*" ? "" : args[i + 1];
    } else if (option == "type") {
      filter.type = args[i + 1];
    } else {
      return context.reply(ErrorReply("ERR syntax error"));
    }
  }
  const uint64_t limit = std::min<uint64_t>(static_cast<uint64_t>(count), kWalkPageKeys);
  RedisBackend* backend = context.backend;
  const int protocol = context.connection->protocol;
  backend->ListRanges(
      [backend, position = std::move(position), filter = std::move(filter), limit, protocol,
       reply = std::move(context.reply)](absl::StatusOr<std::vector<KeyRange>> ranges) mutable {
        if (!ranges.ok()) return reply(BackendErrorReply(ranges.status()));
        // The range holding the position: the last one starting at or before it.
        const KeyRange* range = nullptr;
        for (const KeyRange& r : *ranges) {
          if (r.start <= position) range = &r;
        }
        if (range == nullptr) return reply(ErrorReply("ERR invalid cursor"));
        const std::string end = range->end;
        ListPage(backend, position, end, limit, filter,
                 [end, protocol, reply = std::move(reply)](absl::StatusOr<Page> page) {
                   if (!page.ok()) return reply(BackendErrorReply(page.status()));
                   // Next: within this range, else the next range, else done (cursor 0).
                   uint64_t next = 0;
                   if (page->next.has_value()) {
                     next = Cursors().Save(*page->next);
                   } else if (!end.empty()) {
                     next = Cursors().Save(end);
                   }
                   std::vector<Reply> out;
                   out.push_back(Reply::Bulk(absl::StrCat(next)));
                   out.push_back(std::move(page->result));
                   reply(EncodeReplyFor(protocol, Reply::Array(std::move(out))));
                 });
      });
}

std::vector<CommandSpec> KeyspaceCommandSpecs() {
  return {
      {"dbsize",
       1,
       kFlagReadOnly | kFlagFast,
       0,
       0,
       0,
       "server",
       "1.0.0",
       "Returns the number of keys in the database.",
       {"@keyspace", "@read", "@fast"},
       &DbsizeCommand,
       "request_policy:all_shards response_policy:agg_sum",
       "",
       "O(1)",
       "",
       ""},
      {"flushall",
       -1,
       kFlagWrite,
       0,
       0,
       0,
       "server",
       "1.0.0",
       "Removes all keys from all databases (ekv has one: as FLUSHDB).",
       {"@keyspace", "@write", "@slow", "@dangerous"},
       &FlushdbCommand,
       "request_policy:all_shards response_policy:all_succeeded",
       "",
       "O(N) where N is the total number of keys in all databases",
       "",
       ""},
      {"flushdb",
       -1,
       kFlagWrite,
       0,
       0,
       0,
       "server",
       "1.0.0",
       "Removes all keys from the current database (a walk deleting every key of every group).",
       {"@keyspace", "@write", "@slow", "@dangerous"},
       &FlushdbCommand,
       "request_policy:all_shards response_policy:all_succeeded",
       "",
       "O(N) where N is the number of keys in the selected database",
       "",
       ""},
      {"keys",
       2,
       kFlagReadOnly,
       0,
       0,
       0,
       "generic",
       "1.0.0",
       "Returns all key names that match a pattern.",
       {"@keyspace", "@read", "@slow", "@dangerous"},
       &KeysCommand,
       "request_policy:all_shards nondeterministic_output_order",
       "",
       "O(N) with N being the number of keys in the database, under the assumption that the key "
       "names in the database and the given pattern have limited length.",
       "",
       ""},
      {"randomkey",
       1,
       kFlagReadOnly,
       0,
       0,
       0,
       "generic",
       "1.0.0",
       "Returns a random key name from the database.",
       {"@keyspace", "@read", "@slow"},
       &RandomkeyCommand,
       "request_policy:all_shards nondeterministic_output",
       "",
       "O(1)",
       "",
       ""},
      {"scan",
       -2,
       kFlagReadOnly,
       0,
       0,
       0,
       "generic",
       "2.8.0",
       "Iterates over the key names in the database (in key order, across every group).",
       {"@keyspace", "@read", "@slow"},
       &ScanCommand,
       "nondeterministic_output request_policy:special",
       "",
       "O(1) for every call. O(N) for a complete iteration, including enough command calls for the "
       "cursor to return back to 0. N is the number of elements inside the collection.",
       "",
       ""},
  };
}

}  // namespace ekv::redis
