// Reply: one Redis reply as the executor (executor.h) produces it, independent of the
// wire protocol. The front door encodes it as RESP2 or RESP3 (adapters/redis); the
// shapes that differ between the two (null, double, map, set) are kept apart here so the
// encoder can pick each protocol's form, as Redis 7.0 does.
//
// Encoding (for the group reply): [u8 kind][fields]; strings length-prefixed, integers
// zigzag varints, doubles as 8 bytes; arrays a varint count then the elements. Nesting
// is bounded by kMaxReplyDepth when decoding. A top-level reply with keyspace events
// (Reply::events) is followed by [u8 kEventsTrailerTag][count][each event, key], then one
// with script ACL refusals by [u8 kAclDenialsTrailerTag][count][each reason, object].
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ekv::redis_core {

inline constexpr int kMaxReplyDepth = 8;
inline constexpr uint8_t kEventsTrailerTag = 0xE5;
inline constexpr uint8_t kAclDenialsTrailerTag = 0xE6;
inline constexpr size_t kMaxKeyEvents = 1024 * 1024;

// One keyspace notification a write caused (keyspace_events.h): the front door publishes
// it on __keyspace@0__:<key> and __keyevent@0__:<event>.
struct KeyEvent {
  std::string event;  // "set", "lpush", "del", "new"...
  std::string key;
  bool operator==(const KeyEvent&) const = default;
};

// A redis.call a script's caller may not run (Redis's scriptVerifyACL): the front door
// adds it to its ACL LOG with context "lua".
struct ScriptAclDenial {
  std::string reason;  // "command", "key", "channel"
  std::string object;  // the command's full name, the key or the channel
  bool operator==(const ScriptAclDenial&) const = default;
};

struct Reply {
  enum class Kind : uint8_t {
    kStatus = 1,    // +text
    kError = 2,     // -text (text starts with the error code: "ERR ...", "WRONGTYPE ...")
    kInteger = 3,   // :n
    kBulk = 4,      // $bytes
    kNil = 5,       // RESP2 $-1, RESP3 _
    kNilArray = 6,  // RESP2 *-1, RESP3 _ (EXEC aborted by WATCH, BLPOP timeouts)
    kArray = 7,     // *n
    kDouble = 8,    // RESP2 bulk of the %.17g text, RESP3 ,text
    kMap = 9,       // RESP2 flat array of 2n, RESP3 %n; elements alternate key, value
    kSet = 10,      // RESP2 array, RESP3 ~n
    // (member, score) pairs, elements alternating: RESP2 a flat array of 2n, RESP3 an
    // array of n two-element arrays (ZRANGE WITHSCORES, ZPOPMIN with a count).
    kPairs = 11,
    // What only a script returns (redis.setresp(3) false/true, {big_number=},
    // {verbatim_string=}), as Redis 7.0's addReplyBool / addReplyBigNum / addReplyVerbatim:
    kBool = 12,       // integer 0 or 1: RESP2 :0 / :1, RESP3 #f / #t
    kBigNumber = 13,  // text, the digits: RESP2 bulk, RESP3 (text
    kVerbatim = 14,   // text "fmt:content" (fmt 3 bytes): RESP2 bulk of content, RESP3 =
    // (key, value) pairs, elements alternating: RESP2 an array of n two-element arrays,
    // RESP3 a map of n (XREAD's streams).
    kKeyedMap = 15,
    // A double as Redis's addReplyHumanLongDouble writes it (GEOPOS's and WITHCOORD's
    // coordinates), `text` its %.17Lf digits without trailing zeros: RESP2 a bulk of the
    // text, RESP3 ,text.
    kHumanDouble = 16,
  };
  Kind kind = Kind::kNil;
  std::string text;     // kStatus, kError, kBulk, kBigNumber, kVerbatim, kHumanDouble
  int64_t integer = 0;  // kInteger, kBool
  double number = 0;
  std::vector<Reply> elements;  // kArray, kMap (2n), kSet

  // Top level only, not part of what the client sees: the keyspace events of the request's
  // writes, in order, when the request asked for them (RedisRequest::notify_flags), and its
  // scripts' ACL refusals. Kept out of line (allocated at the first non-const access), so
  // every element of a large reply stays one pointer larger, not two vectors.
  std::vector<KeyEvent>& events() { return Trailers().events; }
  const std::vector<KeyEvent>& events() const;
  std::vector<ScriptAclDenial>& acl_denials() { return Trailers().acl_denials; }
  const std::vector<ScriptAclDenial>& acl_denials() const;
  // Without allocating for an empty list:
  void set_events(std::vector<KeyEvent> events);
  void set_acl_denials(std::vector<ScriptAclDenial> denials);
  std::vector<KeyEvent> TakeEvents();
  std::vector<ScriptAclDenial> TakeAclDenials();

  static Reply Status(absl::string_view text);
  static Reply Ok() { return Status("OK"); }
  static Reply Error(absl::string_view text);
  static Reply Integer(int64_t value);
  static Reply Bulk(absl::string_view bytes);
  static Reply Nil();
  static Reply NilArray();
  static Reply Double(double value);
  // kHumanDouble of `value` (FormatLongDouble's text).
  static Reply HumanDouble(double value);
  static Reply Array(std::vector<Reply> elements = {});
  static Reply Map(std::vector<Reply> flat_pairs);
  static Reply Set(std::vector<Reply> elements);
  static Reply Pairs(std::vector<Reply> flat_pairs);
  static Reply KeyedMap(std::vector<Reply> flat_pairs);
  static Reply Bool(bool value);
  static Reply BigNumber(absl::string_view digits);
  // `format` is cut or padded with spaces to 3 bytes, as Redis writes it.
  static Reply Verbatim(absl::string_view format, absl::string_view content);

  bool is_error() const { return kind == Kind::kError; }
  bool operator==(const Reply& other) const;

  Reply() = default;
  Reply(const Reply& other);
  Reply& operator=(const Reply& other);
  Reply(Reply&&) noexcept = default;
  Reply& operator=(Reply&&) noexcept = default;

 private:
  struct TrailerLists {
    std::vector<KeyEvent> events;
    std::vector<ScriptAclDenial> acl_denials;
    bool operator==(const TrailerLists&) const = default;
  };
  TrailerLists& Trailers();
  std::unique_ptr<TrailerLists> trailers_;  // null: both empty
};

// Redis's words for the common errors, exactly as Redis 7.0 writes them.
Reply WrongTypeError();
Reply NotIntegerError();
Reply NotFloatError();
Reply SyntaxError();

std::string EncodeReply(const Reply& reply);
absl::StatusOr<Reply> DecodeReply(absl::string_view bytes);
// A readable rendering for tests and messages: 1, "bulk", nil, [a, b], (error) ERR x.
std::string DebugString(const Reply& reply);

}  // namespace ekv::redis_core
