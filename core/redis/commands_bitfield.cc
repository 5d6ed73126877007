// BITFIELD and BITFIELD_RO (Redis 7.0 bitfieldGeneric): GET / SET / INCRBY of signed
// (i1..i64) or unsigned (u1..u63) integers at any bit offset ("#n" means n * width),
// with OVERFLOW WRAP (default) | SAT | FAIL applying to the operations after it.
// Everything is parsed before anything runs, in Redis's order of checks (operation and
// its argument count, type, offset, value); BITFIELD_RO refuses anything but GET after
// parsing. Any SET or INCRBY creates the key (zero bytes up to the highest bit written),
// even when FAIL then refuses every one of them, as Redis does. Bits are numbered from
// the most significant bit of the first byte; bits past the end read as zero. A string
// grown past ekv's value limit (kv::kMaxValueBytes) is refused as SETBIT refuses it.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "core/kv/status_macros.h"
#include "core/redis/executor.h"
#include "core/redis/numbers.h"
#include "core/redis/string_lookup.h"

namespace ekv::redis_core {
namespace {

enum class Op { kGet, kSet, kIncrBy };
enum class Overflow { kWrap, kSat, kFail };

struct FieldOp {
  Op op = Op::kGet;
  Overflow overflow = Overflow::kWrap;
  bool is_signed = false;
  uint64_t bits = 0;
  uint64_t offset = 0;
  int64_t value = 0;
};

// Redis accepts bit offsets whose byte is below proto-max-bulk-len (512 MB).
constexpr int64_t kMaxBulkBytes = int64_t{512} * 1024 * 1024;

uint64_t GetUnsigned(absl::string_view bytes, uint64_t offset, uint64_t bits) {
  uint64_t value = 0;
  for (uint64_t j = 0; j < bits; ++j, ++offset) {
    const uint64_t byte = offset >> 3;
    const uint64_t bit =
        byte < bytes.size() ? (static_cast<uint8_t>(bytes[byte]) >> (7 - (offset & 7))) & 1 : 0;
    value = (value << 1) | bit;
  }
  return value;
}

int64_t GetSigned(absl::string_view bytes, uint64_t offset, uint64_t bits) {
  uint64_t value = GetUnsigned(bytes, offset, bits);
  if (bits < 64 && (value & (uint64_t{1} << (bits - 1)))) value |= ~uint64_t{0} << bits;
  return static_cast<int64_t>(value);
}

void SetUnsigned(std::string& bytes, uint64_t offset, uint64_t bits, uint64_t value) {
  for (uint64_t j = 0; j < bits; ++j, ++offset) {
    const uint64_t bit = (value >> (bits - 1 - j)) & 1;
    const uint8_t mask = static_cast<uint8_t>(1u << (7 - (offset & 7)));
    uint8_t byte = static_cast<uint8_t>(bytes[offset >> 3]);
    byte = bit ? (byte | mask) : (byte & ~mask);
    bytes[offset >> 3] = static_cast<char>(byte);
  }
}

// Redis's checkUnsignedBitfieldOverflow: 0 (fits), 1 (over), -1 (under); *limit is the
// wrapped or saturated value when it does not fit.
int UnsignedOverflow(uint64_t value, int64_t incr, uint64_t bits, Overflow overflow,
                     uint64_t* limit) {
  const uint64_t max = bits == 64 ? UINT64_MAX : (uint64_t{1} << bits) - 1;
  const int64_t max_incr = static_cast<int64_t>(max - value);
  const int64_t min_incr = static_cast<int64_t>(0 - value);
  auto wrap = [&] { *limit = (value + static_cast<uint64_t>(incr)) & ~(~uint64_t{0} << bits); };
  if (value > max || (incr > 0 && incr > max_incr)) {
    if (overflow == Overflow::kWrap) wrap();
    if (overflow == Overflow::kSat) *limit = max;
    return 1;
  }
  if (incr < 0 && incr < min_incr) {
    if (overflow == Overflow::kWrap) wrap();
    if (overflow == Overflow::kSat) *limit = 0;
    return -1;
  }
  return 0;
}

// Redis's checkSignedBitfieldOverflow.
int SignedOverflow(int64_t value, int64_t incr, uint64_t bits, Overflow overflow, int64_t* limit) {
  const int64_t max = bits == 64 ? INT64_MAX : (int64_t{1} << (bits - 1)) - 1;
  const int64_t min = -max - 1;
  // May wrap, but is used only once `value` is known to be in range (as in Redis).
  const int64_t max_incr = static_cast<int64_t>(static_cast<uint64_t>(max) - value);
  const int64_t min_incr = static_cast<int64_t>(static_cast<uint64_t>(min) - value);
  auto wrap = [&] {
    uint64_t c = static_cast<uint64_t>(value) + static_cast<uint64_t>(incr);
    if (bits < 64) {
      const uint64_t mask = ~uint64_t{0} << bits;
      c = (c & (uint64_t{1} << (bits - 1))) ? (c | mask) : (c & ~mask);
    }
    *limit = static_cast<int64_t>(c);
  };
  if (value > max || (bits != 64 && incr > max_incr) ||
      (value >= 0 && incr > 0 && incr > max_incr)) {
    if (overflow == Overflow::kWrap) wrap();
    if (overflow == Overflow::kSat) *limit = max;
    return 1;
  }
  if (value < min || (bits != 64 && incr < min_incr) ||
      (value < 0 && incr < 0 && incr < min_incr)) {
    if (overflow == Overflow::kWrap) wrap();
    if (overflow == Overflow::kSat) *limit = min;
    return -1;
  }
  return 0;
}

absl::StatusOr<Reply> Bitfield(Executor& ex, const Args& args, bool read_only_command) {
  std::vector<FieldOp> ops;
  Overflow overflow = Overflow::kWrap;
  bool read_only = true;
  uint64_t highest_write_bit = 0;
  for (size_t j = 2; j < args.size(); ++j) {
    const size_t remaining = args.size() - j - 1;
    FieldOp op;
    if (absl::EqualsIgnoreCase(args[j], "get") && remaining >= 2) {
      op.op = Op::kGet;
    } else if (absl::EqualsIgnoreCase(args[j], "set") && remaining >= 3) {
      op.op = Op::kSet;
    } else if (absl::EqualsIgnoreCase(args[j], "incrby") && remaining >= 3) {
      op.op = Op::kIncrBy;
    } else if (absl::EqualsIgnoreCase(args[j], "overflow") && remaining >= 1) {
      const std::string& kind = args[++j];
      if (absl::EqualsIgnoreCase(kind, "wrap")) {
        overflow = Overflow::kWrap;
      } else if (absl::EqualsIgnoreCase(kind, "sat")) {
        overflow = Overflow::kSat;
      } else if (absl::EqualsIgnoreCase(kind, "fail")) {
        overflow = Overflow::kFail;
      } else {
        return Reply::Error("ERR Invalid OVERFLOW type specified");
      }
      continue;
    } else {
      return SyntaxError();
    }
    // The type: i1..i64 or u1..u63.
    const std::string& type = args[j + 1];
    std::optional<int64_t> bits;
    if (!type.empty() && (type[0] == 'i' || type[0] == 'I' || type[0] == 'u' || type[0] == 'U')) {
      op.is_signed = type[0] == 'i' || type[0] == 'I';
      bits = ParseInt64(absl::string_view(type).substr(1));
    }
    if (!bits.has_value() || *bits < 1 || (op.is_signed && *bits > 64) ||
        (!op.is_signed && *bits > 63)) {
      return Reply::Error(
          "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported "
          "but i64 is.");
    }
    op.bits = static_cast<uint64_t>(*bits);
    // The offset, "#n" meaning n * bits.
    absl::string_view offset_text = args[j + 2];
    const bool times_width = !offset_text.empty() && offset_text[0] == '#';
    if (times_width) offset_text.remove_prefix(1);
    std::optional<int64_t> offset = ParseInt64(offset_text);
    if (offset.has_value() && times_width) {
      // Redis multiplies without an overflow check; beyond 2^63 / 64 the product would
      // be out of range anyway.
      *offset = *offset > INT64_MAX / 64 || *offset < INT64_MIN / 64 ? -1 : *offset * *bits;
    }
    if (!offset.has_value() || *offset < 0 || (*offset >> 3) >= kMaxBulkBytes) {
      return Reply::Error("ERR bit offset is not an integer or out of range");
    }
    op.offset = static_cast<uint64_t>(*offset);
    if (op.op != Op::kGet) {
      read_only = false;
      std::optional<int64_t> value = ParseInt64(args[j + 3]);
      if (!value.has_value()) return NotIntegerError();
      op.value = *value;
      highest_write_bit = std::max(highest_write_bit, op.offset + op.bits - 1);
    }
    op.overflow = overflow;
    ops.push_back(op);
    j += op.op == Op::kGet ? 2 : 3;
  }
  EKV_KV_ASSIGN_OR_RETURN(StringLookup current, LookupString(ex, args[1]));
  if (!read_only && read_only_command) {
    return Reply::Error("ERR BITFIELD_RO only supports the GET subcommand");
  }
  if (current.error.has_value()) return *current.error;
  std::string bytes = current.value.has_value() ? current.value->value : "";
  if (!read_only) {
    const uint64_t byte = highest_write_bit >> 3;
    if (byte >= kv::kMaxValueBytes) return StringTooBigError();
    if (bytes.size() <= byte) bytes.resize(byte + 1, '\0');
  }
  std::vector<Reply> replies;
  for (const FieldOp& op : ops) {
    if (op.op == Op::kGet) {
      replies.push_back(Reply::Integer(
          op.is_signed ? GetSigned(bytes, op.offset, op.bits)
                       : static_cast<int64_t>(GetUnsigned(bytes, op.offset, op.bits))));
      continue;
    }
    int64_t reply = 0;
    uint64_t stored = 0;
    int over = 0;
    if (op.is_signed) {
      const int64_t old = GetSigned(bytes, op.offset, op.bits);
      int64_t wrapped = 0;
      int64_t next = 0;
      if (op.op == Op::kIncrBy) {
        over = SignedOverflow(old, op.value, op.bits, op.overflow, &wrapped);
        next = over ? wrapped
                    : static_cast<int64_t>(static_cast<uint64_t>(old) +
                                           static_cast<uint64_t>(op.value));
        reply = next;
      } else {
        next = op.value;
        over = SignedOverflow(next, 0, op.bits, op.overflow, &wrapped);
        if (over) next = wrapped;
        reply = old;
      }
      stored = static_cast<uint64_t>(next);
    } else {
      const uint64_t old = GetUnsigned(bytes, op.offset, op.bits);
      uint64_t wrapped = 0;
      uint64_t next = 0;
      if (op.op == Op::kIncrBy) {
        over = UnsignedOverflow(old, op.value, op.bits, op.overflow, &wrapped);
        next = over ? wrapped : old + static_cast<uint64_t>(op.value);
        reply = static_cast<int64_t>(next);
      } else {
        next = static_cast<uint64_t>(op.value);
        over = UnsignedOverflow(next, 0, op.bits, op.overflow, &wrapped);
        if (over) next = wrapped;
        reply = static_cast<int64_t>(old);
      }
      stored = next;
    }
    if (over != 0 && op.overflow == Overflow::kFail) {
      replies.push_back(Reply::Nil());
      continue;
    }
    replies.push_back(Reply::Integer(reply));
    SetUnsigned(bytes, op.offset, op.bits, stored);
  }
  if (!read_only) {
    ex.SetString(args[1], std::move(bytes),
                 current.value.has_value() ? current.value->expire_ms : 0);
  }
  return Reply::Array(std::move(replies));
}

}  // namespace

EKV_REDIS_HANDLER(CmdBitfield) { return Bitfield(ex, args, /*read_only_command=*/false); }
EKV_REDIS_HANDLER(CmdBitfieldRo) { return Bitfield(ex, args, /*read_only_command=*/true); }

}  // namespace ekv::redis_core
