// Bit commands on strings: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP (Redis 7.0 bitops.c).
// Bit 0 is the most significant bit of the first byte; a missing key is an endless run of
// zero bits. Ranges, their clamping and the order of checks follow Redis 7.0 exactly
// (BITCOUNT and BITPOS look the key up before parsing their range, so a missing key
// answers 0 / -1 whatever the range says). SETBIT past ekv's value limit
// (kv::kMaxValueBytes) is refused; Redis's own limit (512 MB) keeps its error text.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "core/kv/status_macros.h"
#include "core/redis/numbers.h"
#include "core/redis/string_lookup.h"

namespace ekv::redis_core {
namespace {

// Redis accepts bit offsets below 2^32 (512 MB, proto-max-bulk-len, in bits).
constexpr int64_t kMaxBitOffset = (int64_t{512} * 1024 * 1024 * 8) - 1;

std::optional<uint64_t> ParseBitOffset(absl::string_view text) {
  std::optional<int64_t> offset = ParseInt64(text);
  if (!offset.has_value() || *offset < 0 || *offset > kMaxBitOffset) return std::nullopt;
  return static_cast<uint64_t>(*offset);
}

Reply BitOffsetError() { return Reply::Error("ERR bit offset is not an integer or out of range"); }

bool BitAt(absl::string_view bytes, uint64_t bit) {
  const uint64_t byte = bit >> 3;
  if (byte >= bytes.size()) return false;
  return (static_cast<uint8_t>(bytes[byte]) >> (7 - (bit & 7))) & 1;
}

// A [start, end] range of BITCOUNT/BITPOS in bytes or bits, resolved against the
// string's length as Redis resolves it: the inclusive bit range it covers, or empty.
struct BitRange {
  bool empty = false;
  uint64_t first_bit = 0;
  uint64_t last_bit = 0;
};

BitRange ResolveRange(int64_t start, int64_t end, bool in_bits, int64_t length_bytes) {
  const int64_t total = in_bits ? length_bytes * 8 : length_bytes;
  if (start < 0) start += total;
  if (end < 0) end += total;
  start = std::max<int64_t>(start, 0);
  end = std::max<int64_t>(end, 0);
  end = std::min<int64_t>(end, total - 1);
  BitRange range;
  if (start > end) {
    range.empty = true;
    return range;
  }
  range.first_bit = in_bits ? static_cast<uint64_t>(start) : static_cast<uint64_t>(start) * 8;
  range.last_bit = in_bits ? static_cast<uint64_t>(end) : static_cast<uint64_t>(end) * 8 + 7;
  return range;
}

// BYTE (false) or BIT (true); nullopt for anything else.
std::optional<bool> ParseUnit(absl::string_view text) {
  if (absl::EqualsIgnoreCase(text, "bit")) return true;
  if (absl::EqualsIgnoreCase(text, "byte")) return false;
  return std::nullopt;
}

uint64_t CountBits(absl::string_view bytes, uint64_t first_bit, uint64_t last_bit) {
  uint64_t count = 0;
  uint64_t bit = first_bit;
  // Whole bytes at a time once aligned.
  while (bit <= last_bit && (bit & 7) != 0) count += BitAt(bytes, bit++);
  while (bit + 7 <= last_bit) {
    count += std::popcount(static_cast<uint8_t>(bytes[bit >> 3]));
    bit += 8;
  }
  while (bit <= last_bit) count += BitAt(bytes, bit++);
  return count;
}

std::optional<uint64_t> FindBit(absl::string_view bytes, bool wanted, uint64_t first_bit,
                                uint64_t last_bit) {
  const uint8_t skip = wanted ? 0x00 : 0xFF;  // a byte with no wanted bit
  uint64_t bit = first_bit;
  while (bit <= last_bit) {
    if ((bit & 7) == 0 && bit + 7 <= last_bit && static_cast<uint8_t>(bytes[bit >> 3]) == skip) {
      bit += 8;
      continue;
    }
    if (BitAt(bytes, bit) == wanted) return bit;
    ++bit;
  }
  return std::nullopt;
}

}  // namespace

EKV_REDIS_HANDLER(CmdSetBit) {
  std::optional<uint64_t> offset = ParseBitOffset(args[2]);
  if (!offset.has_value()) return BitOffsetError();
  std::optional<int64_t> on = ParseInt64(args[3]);
  if (!on.has_value() || (*on != 0 && *on != 1)) {
    return Reply::Error("ERR bit is not an integer or out of range");
  }
  EKV_KV_ASSIGN_OR_RETURN(StringLookup current, LookupString(ex, args[1]));
  if (current.error.has_value()) return *current.error;
  const uint64_t byte = *offset >> 3;
  if (byte >= kv::kMaxValueBytes) return StringTooBigError();
  std::string value = current.value.has_value() ? current.value->value : "";
  if (value.size() <= byte) value.resize(byte + 1, '\0');
  const uint8_t mask = static_cast<uint8_t>(1u << (7 - (*offset & 7)));
  const bool old = (static_cast<uint8_t>(value[byte]) & mask) != 0;
  if (*on == 1) {
    value[byte] = static_cast<char>(static_cast<uint8_t>(value[byte]) | mask);
  } else {
    value[byte] = static_cast<char>(static_cast<uint8_t>(value[byte]) & ~mask);
  }
  // Redis writes (and notifies) even when the bit already had the value.
  ex.SetString(args[1], std::move(value), current.value.has_value() ? current.value->expire_ms : 0);
  return Reply::Integer(old ? 1 : 0);
}

EKV_REDIS_HANDLER(CmdGetBit) {
  std::optional<uint64_t> offset = ParseBitOffset(args[2]);
  if (!offset.has_value()) return BitOffsetError();
  EKV_KV_ASSIGN_OR_RETURN(StringLookup current, LookupString(ex, args[1]));
  if (current.error.has_value()) return *current.error;
  if (!current.value.has_value()) return Reply::Integer(0);
  return Reply::Integer(BitAt(current.value->value, *offset) ? 1 : 0);
}

EKV_REDIS_HANDLER(CmdBitCount) {
  EKV_KV_ASSIGN_OR_RETURN(StringLookup current, LookupString(ex, args[1]));
  if (current.error.has_value()) return *current.error;
  if (!current.value.has_value()) return Reply::Integer(0);
  const std::string& bytes = current.value->value;
  const int64_t length = static_cast<int64_t>(bytes.size());
  if (args.size() == 2) {
    return Reply::Integer(length == 0 ? 0
                                      : static_cast<int64_t>(CountBits(bytes, 0, length * 8 - 1)));
  }
  if (args.size() != 4 && args.size() != 5) return SyntaxError();
  std::optional<int64_t> start = ParseInt64(args[2]);
  std::optional<int64_t> end = ParseInt64(args[3]);
  if (!start.has_value() || !end.has_value()) return NotIntegerError();
  bool in_bits = false;
  if (args.size() == 5) {
    std::optional<bool> unit = ParseUnit(args[4]);
    if (!unit.has_value()) return SyntaxError();
    in_bits = *unit;
  }
  // Both ends negative and crossed: Redis answers 0 before clamping.
  if (*start < 0 && *end < 0 && *start > *end) return Reply::Integer(0);
  const BitRange range = ResolveRange(*start, *end, in_bits, length);
  if (range.empty) return Reply::Integer(0);
  return Reply::Integer(static_cast<int64_t>(CountBits(bytes, range.first_bit, range.last_bit)));
}

EKV_REDIS_HANDLER(CmdBitPos) {
  std::optional<int64_t> bit = ParseInt64(args[2]);
  if (!bit.has_value()) return NotIntegerError();
  if (*bit != 0 && *bit != 1) return Reply::Error("ERR The bit argument must be 1 or 0.");
  EKV_KV_ASSIGN_OR_RETURN(StringLookup current, LookupString(ex, args[1]));
  if (current.error.has_value()) return *current.error;
  if (!current.value.has_value()) return Reply::Integer(*bit == 1 ? -1 : 0);
  const std::string& bytes = current.value->value;
  const int64_t length = static_cast<int64_t>(bytes.size());
  if (args.size() > 6) return SyntaxError();
  int64_t start = 0;
  int64_t end = length - 1;
  bool in_bits = false;
  bool end_given = false;
  if (args.size() >= 4) {
    std::optional<int64_t> parsed_start = ParseInt64(args[3]);
    if (!parsed_start.has_value()) return NotIntegerError();
    start = *parsed_start;
    if (args.size() == 6) {
      std::optional<bool> unit = ParseUnit(args[5]);
      if (!unit.has_value()) return SyntaxError();
      in_bits = *unit;
    }
    if (args.size() >= 5) {
      std::optional<int64_t> parsed_end = ParseInt64(args[4]);
      if (!parsed_end.has_value()) return NotIntegerError();
      end = *parsed_end;
      end_given = true;
    } else {
      end = in_bits ? length * 8 + 7 : length - 1;
    }
  }
  const BitRange range = ResolveRange(start, end, in_bits, length);
  if (range.empty) return Reply::Integer(-1);
  std::optional<uint64_t> found = FindBit(bytes, *bit == 1, range.first_bit, range.last_bit);
  if (found.has_value()) return Reply::Integer(static_cast<int64_t>(*found));
  // No set bit: none. No clear bit: the string continues with zeros past its end, unless
  // the client bounded the range itself.
  if (*bit == 1 || end_given) return Reply::Integer(-1);
  return Reply::Integer(static_cast<int64_t>(range.last_bit + 1));
}

EKV_REDIS_HANDLER(CmdBitOp) {
  enum class Op { kAnd, kOr, kXor, kNot };
  Op op;
  if (absl::EqualsIgnoreCase(args[1], "and")) {
    op = Op::kAnd;
  } else if (absl::EqualsIgnoreCase(args[1], "or")) {
    op = Op::kOr;
  } else if (absl::EqualsIgnoreCase(args[1], "xor")) {
    op = Op::kXor;
  } else if (absl::EqualsIgnoreCase(args[1], "not")) {
    op = Op::kNot;
  } else {
    return SyntaxError();
  }
  if (op == Op::kNot && args.size() != 4) {
    return Reply::Error("ERR BITOP NOT must be called with a single source key.");
  }
  std::vector<std::string> sources;
  size_t max_length = 0;
  for (size_t i = 3; i < args.size(); ++i) {
    EKV_KV_ASSIGN_OR_RETURN(StringLookup source, LookupString(ex, args[i]));
    if (source.error.has_value()) return *source.error;
    sources.push_back(source.value.has_value() ? source.value->value : "");
    max_length = std::max(max_length, sources.back().size());
  }
  std::string result(max_length, '\0');
  for (size_t b = 0; b < max_length; ++b) {
    auto byte_of = [&](size_t s) -> uint8_t {
      return b < sources[s].size() ? static_cast<uint8_t>(sources[s][b]) : 0;
    };
    uint8_t out = byte_of(0);
    if (op == Op::kNot) out = static_cast<uint8_t>(~out);
    for (size_t s = 1; s < sources.size(); ++s) {
      if (op == Op::kAnd) out &= byte_of(s);
      if (op == Op::kOr) out |= byte_of(s);
      if (op == Op::kXor) out ^= byte_of(s);
    }
    result[b] = static_cast<char>(out);
  }
  const std::string& destination = args[2];
  if (max_length == 0) {
    EKV_KV_ASSIGN_OR_RETURN(Executor::Found old, ex.Lookup(destination));
    if (old.type != Type::kNone) ex.DeleteKey(destination, old);
    return Reply::Integer(0);
  }
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found old, ex.Lookup(destination));  // lock check
  (void)old;
  ex.SetString(destination, std::move(result), 0);
  return Reply::Integer(static_cast<int64_t>(max_length));
}

}  // namespace ekv::redis_core
