// String commands over RedisBackend: GET, SET, DEL, EXISTS, MGET, MSET, STRLEN.
//
// Storage layout: a Redis string is the RawKV value of the same key (database 0 only),
// so a value written by `SET k v` is what gRPC RawGet(k) returns and vice versa. Types
// that need more than one record (hashes, lists, TTLs) will need a layout of their own
// (docs/architecture.md, "Redis front door").
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapters/redis/command_table.h"
#include "adapters/redis/resp_parser.h"
#include "adapters/redis/resp_writer.h"

namespace ekv::redis {

void GetCommand(CommandContext context) {
  const int protocol = context.connection->protocol;
  context.backend->Get(std::move(context.args[1]),
                       [reply = std::move(context.reply),
                        protocol](absl::StatusOr<std::optional<std::string>> value) {
                         if (!value.ok()) return reply(BackendErrorReply(value.status()));
                         RespWriter writer(protocol);
                         if (value->has_value()) {
                           writer.Bulk(**value);
                         } else {
                           writer.Null();
                         }
                         reply(writer.Take());
                       });
}

namespace {

enum SetFlag : uint32_t {
  kSetNx = 1 << 0,
  kSetXx = 1 << 1,
  kSetGet = 1 << 2,
  kSetKeepTtl = 1 << 3,
  kSetEx = 1 << 4,
  kSetPx = 1 << 5,
  kSetExAt = 1 << 6,
  kSetPxAt = 1 << 7,
};

bool IsOption(absl::string_view arg, absl::string_view option) {
  return absl::EqualsIgnoreCase(arg, option);
}

// Parses SET's options exactly as Redis 7.0 does (parseExtendedStringArgumentsOrReply and
// getExpireMillisecondsOrReply), so malformed requests get Redis's errors. Returns the
// error reply, or "" with *flags set.
std::string ParseSetOptions(const std::vector<std::string>& args, uint32_t* flags,
                            std::string* unsupported) {
  constexpr uint32_t kAnyExpiry = kSetEx | kSetPx | kSetExAt | kSetPxAt;
  const std::string* expire = nullptr;
  bool expire_in_seconds = false;
  for (size_t j = 3; j < args.size(); ++j) {
    const std::string& opt = args[j];
    const bool has_next = j + 1 < args.size();
    if (IsOption(opt, "NX") && !(*flags & kSetXx)) {
      *flags |= kSetNx;
    } else if (IsOption(opt, "XX") && !(*flags & kSetNx)) {
      *flags |= kSetXx;
    } else if (IsOption(opt, "GET")) {
      *flags |= kSetGet;
    } else if (IsOption(opt, "KEEPTTL") && !(*flags & kAnyExpiry)) {
      *flags |= kSetKeepTtl;
    } else if (IsOption(opt, "EX") && !(*flags & (kSetKeepTtl | kSetExAt | kSetPx | kSetPxAt)) &&
               has_next) {
      *flags |= kSetEx;
      expire = &args[++j];
      expire_in_seconds = true;
    } else if (IsOption(opt, "PX") && !(*flags & (kSetKeepTtl | kSetEx | kSetExAt | kSetPxAt)) &&
               has_next) {
      *flags |= kSetPx;
      expire = &args[++j];
      expire_in_seconds = false;
    } else if (IsOption(opt, "EXAT") && !(*flags & (kSetKeepTtl | kSetEx | kSetPx | kSetPxAt)) &&
               has_next) {
      *flags |= kSetExAt;
      expire = &args[++j];
      expire_in_seconds = true;
    } else if (IsOption(opt, "PXAT") && !(*flags & (kSetKeepTtl | kSetEx | kSetExAt | kSetPx)) &&
               has_next) {
      *flags |= kSetPxAt;
      expire = &args[++j];
      expire_in_seconds = false;
    } else {
      return ErrorReply("ERR syntax error");
    }
    if (unsupported->empty() && (*flags & ~kSetKeepTtl) != 0) {
      *unsupported = absl::AsciiStrToUpper(opt);
    }
  }
  if (expire != nullptr) {
    long long amount = 0;
    if (!ParseRedisInt64(*expire, &amount)) {
      return ErrorReply("ERR value is not an integer or out of range");
    }
    if (amount <= 0 ||
        (expire_in_seconds && amount > std::numeric_limits<long long>::max() / 1000)) {
      return ErrorReply("ERR invalid expire time in 'set' command");
    }
  }
  return "";
}

}  // namespace

void SetCommand(CommandContext context) {
  uint32_t flags = 0;
  std::string unsupported;
  if (std::string error = ParseSetOptions(context.args, &flags, &unsupported); !error.empty()) {
    return context.reply(std::move(error));
  }
  // NX, XX and GET need an atomic read-modify-write and the expiry options a TTL; the
  // coordinator offers neither to raw keys yet, and emulating them with a read then a
  // write would lose races silently. KEEPTTL is exact as a plain SET: no raw key has a
  // TTL (nothing can set one), so there is nothing to keep.
  if (!unsupported.empty()) {
    return context.reply(
        ErrorReply(absl::StrCat("ERR SET option ", unsupported, " is not supported by ekv yet")));
  }
  context.backend->Put(std::move(context.args[1]), std::move(context.args[2]),
                       [reply = std::move(context.reply)](absl::Status status) {
                         reply(status.ok() ? SimpleStringReply("OK") : BackendErrorReply(status));
                       });
}

void DelCommand(CommandContext context) {
  std::vector<std::string> keys(std::make_move_iterator(context.args.begin() + 1),
                                std::make_move_iterator(context.args.end()));
  context.backend->DeleteExisting(
      std::move(keys), [reply = std::move(context.reply)](absl::StatusOr<int64_t> deleted) {
        reply(deleted.ok() ? IntegerReply(*deleted) : BackendErrorReply(deleted.status()));
      });
}

void ExistsCommand(CommandContext context) {
  // A key named twice counts twice, as in Redis.
  std::vector<std::string> keys(std::make_move_iterator(context.args.begin() + 1),
                                std::make_move_iterator(context.args.end()));
  context.backend->GetMany(std::move(keys),
                           [reply = std::move(context.reply)](
                               absl::StatusOr<std::vector<std::optional<std::string>>> values) {
                             if (!values.ok()) return reply(BackendErrorReply(values.status()));
                             int64_t count = 0;
                             for (const auto& value : *values) count += value.has_value() ? 1 : 0;
                             reply(IntegerReply(count));
                           });
}

void MgetCommand(CommandContext context) {
  const int protocol = context.connection->protocol;
  std::vector<std::string> keys(std::make_move_iterator(context.args.begin() + 1),
                                std::make_move_iterator(context.args.end()));
  context.backend->GetMany(
      std::move(keys), [reply = std::move(context.reply),
                        protocol](absl::StatusOr<std::vector<std::optional<std::string>>> values) {
        if (!values.ok()) return reply(BackendErrorReply(values.status()));
        RespWriter writer(protocol);
        writer.ArrayHeader(values->size());
        for (const auto& value : *values) {
          if (value.has_value()) {
            writer.Bulk(*value);
          } else {
            writer.Null();
          }
        }
        reply(writer.Take());
      });
}

void MsetCommand(CommandContext context) {
  if (context.args.size() % 2 != 1) {
    return context.reply(ErrorReply("ERR wrong number of arguments for 'mset' command"));
  }
  // The last value of a key named twice wins, as in Redis; the backend gets distinct keys.
  std::map<std::string, std::string> last;
  for (size_t i = 1; i + 1 < context.args.size(); i += 2) {
    last[std::move(context.args[i])] = std::move(context.args[i + 1]);
  }
  std::vector<std::pair<std::string, std::string>> pairs(std::make_move_iterator(last.begin()),
                                                         std::make_move_iterator(last.end()));
  context.backend->PutMany(
      std::move(pairs), [reply = std::move(context.reply)](absl::Status status) {
        reply(status.ok() ? SimpleStringReply("OK") : BackendErrorReply(status));
      });
}

void StrlenCommand(CommandContext context) {
  context.backend->Get(
      std::move(context.args[1]),
      [reply = std::move(context.reply)](absl::StatusOr<std::optional<std::string>> value) {
        if (!value.ok()) return reply(BackendErrorReply(value.status()));
        reply(IntegerReply(value->has_value() ? static_cast<int64_t>((*value)->size()) : 0));
      });
}

}  // namespace ekv::redis
