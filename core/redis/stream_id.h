// Stream entry ids (<ms>-<seq>, two u64) as Redis 7.0 parses, prints and orders them
// (t_stream.c streamGenericParseIDOrReply, streamIncrID, streamDecrID), and their 16-byte
// big-endian form, whose byte order is their numeric order (the element keys, layout.h).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace ekv::redis_core {

struct StreamId {
  uint64_t ms = 0;
  uint64_t seq = 0;
  auto operator<=>(const StreamId&) const = default;
  bool operator==(const StreamId&) const = default;
  bool IsZero() const { return ms == 0 && seq == 0; }
};

inline constexpr StreamId kMaxStreamId{UINT64_MAX, UINT64_MAX};

// Redis's words for an id that does not parse.
inline constexpr absl::string_view kInvalidStreamIdError =
    "ERR Invalid stream ID specified as stream command argument";

struct ParsedStreamId {
  StreamId id;
  // False for "<ms>-*" (the sequence is for XADD to choose; id.seq is 0 then).
  bool seq_given = true;
};
// Parses "<ms>[-<seq>]" (a missing sequence is `missing_seq`), "-" (0-0) and "+" (the
// largest id) unless `strict`, and "<ms>-*" when `allow_auto_seq`. Numbers as Redis's
// string2ull reads them. nullopt: kInvalidStreamIdError.
std::optional<ParsedStreamId> ParseStreamId(absl::string_view text, uint64_t missing_seq,
                                            bool strict, bool allow_auto_seq = false);

std::string FormatStreamId(StreamId id);  // "<ms>-<seq>"
std::string EncodeStreamId(StreamId id);  // 16 bytes, big-endian ms then seq
StreamId DecodeStreamId(absl::string_view bytes);

// The next / previous id; false (id unchanged) at the largest / smallest.
bool IncrStreamId(StreamId* id);
bool DecrStreamId(StreamId* id);

}  // namespace ekv::redis_core
