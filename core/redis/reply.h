// Reply: one Redis reply as the executor (executor.h) produces it, independent of the
// wire protocol. The front door encodes it as RESP2 or RESP3 (adapters/redis); the
// shapes that differ between the two (null, double, map, set) are kept apart here so the
// encoder can pick each protocol's form, as Redis 7.0 does.
//
// Encoding (for the group reply): [u8 kind][fields]; strings length-prefixed, integers
// zigzag varints, doubles as 8 bytes; arrays a varint count then the elements. Nesting
// is bounded by kMaxReplyDepth when decoding.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ekv::redis_core {

inline constexpr int kMaxReplyDepth = 8;

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
  };
  Kind kind = Kind::kNil;
  std::string text;  // kStatus, kError, kBulk
  int64_t integer = 0;
  double number = 0;
  std::vector<Reply> elements;  // kArray, kMap (2n), kSet

  static Reply Status(absl::string_view text);
  static Reply Ok() { return Status("OK"); }
  static Reply Error(absl::string_view text);
  static Reply Integer(int64_t value);
  static Reply Bulk(absl::string_view bytes);
  static Reply Nil();
  static Reply NilArray();
  static Reply Double(double value);
  static Reply Array(std::vector<Reply> elements = {});
  static Reply Map(std::vector<Reply> flat_pairs);
  static Reply Set(std::vector<Reply> elements);
  static Reply Pairs(std::vector<Reply> flat_pairs);

  bool is_error() const { return kind == Kind::kError; }
  bool operator==(const Reply&) const = default;
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
