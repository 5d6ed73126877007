// Lua raises errors by longjmp, so nothing here holds a C++ object with a destructor across
// a Lua call: pack builds its result in a luaL_Buffer (as Redis's library does, above a nil
// that separates the arguments from the buffer, so a missing argument reads that nil: "got
// nil" for the first one missing, as redis-server answers).
#include "adapters/redis/lua/lua_struct.h"

#include <bit>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>

extern "C" {
#include "lauxlib.h"
}

namespace ekv::redis {
namespace {

constexpr int kMaxIntSize = 32;  // the largest 'in'
// '!' without a number: the x86-64 alignment of double (and more than sizeof(int)).
constexpr int kDefaultMaxAlign = 8;
// The sizes of C's types on the LP64 machines Redis runs on.
constexpr size_t kShortSize = 2;
constexpr size_t kLongSize = 8;
constexpr size_t kSizeTSize = 8;
constexpr int kIntSize = 4;

enum Endian { kBig = 0, kLittle = 1 };

struct Header {
  int endian = kLittle;  // the machine's order, little on x86-64 and arm64
  int align = 1;
};

bool IsDigit(int c) { return c >= '0' && c <= '9'; }
bool IsLower(int c) { return c >= 'a' && c <= 'z'; }
bool IsAlnum(int c) { return IsDigit(c) || IsLower(c) || (c >= 'A' && c <= 'Z'); }
// b B h H l L T i I: integers, signed when the letter is lower case.
bool IsIntegerOption(int opt) {
  switch (opt) {
    case 'b':
    case 'B':
    case 'h':
    case 'H':
    case 'l':
    case 'L':
    case 'T':
    case 'i':
    case 'I':
      return true;
    default:
      return false;
  }
}

// The number at *fmt (moved past it), or `fallback` when none is there.
int ReadCount(lua_State* L, const char** fmt, int fallback) {
  if (!IsDigit(**fmt)) return fallback;
  int value = 0;
  do {
    const int digit = **fmt - '0';
    if (value > INT_MAX / 10 || value * 10 > INT_MAX - digit) {
      luaL_error(L, "integral size overflow");
    }
    value = value * 10 + digit;
    ++*fmt;
  } while (IsDigit(**fmt));
  return value;
}

// The size of option `opt` (reading its count from *fmt); 0 for options with no data.
size_t OptionSize(lua_State* L, int opt, const char** fmt) {
  switch (opt) {
    case 'B':
    case 'b':
    case 'x':
      return 1;
    case 'H':
    case 'h':
      return kShortSize;
    case 'L':
    case 'l':
      return kLongSize;
    case 'T':
      return kSizeTSize;
    case 'f':
      return sizeof(float);
    case 'd':
      return sizeof(double);
    case 'c':
      return static_cast<size_t>(ReadCount(L, fmt, 1));
    case 'i':
    case 'I': {
      const int size = ReadCount(L, fmt, kIntSize);
      if (size > kMaxIntSize) {
        luaL_error(L, "integral size %d is larger than limit of %d", size, kMaxIntSize);
      }
      return static_cast<size_t>(size);
    }
    default:
      return 0;
  }
}

// Padding before an item of `size` at offset `pos`: aligned to min(size, h.align). The
// arithmetic is the library's own, also for sizes that are not powers of 2 (i3, i5...).
size_t Padding(size_t pos, const Header& h, int opt, size_t size) {
  if (size == 0 || opt == 'c') return 0;
  if (size > static_cast<size_t>(h.align)) size = static_cast<size_t>(h.align);
  return static_cast<size_t>(static_cast<int>((size - (pos & (size - 1))) & (size - 1)));
}

// ' ', '>', '<' and '!n'; anything else is an invalid option of argument 1.
void ControlOption(lua_State* L, int opt, const char** fmt, Header* h) {
  switch (opt) {
    case ' ':
      return;
    case '>':
      h->endian = kBig;
      return;
    case '<':
      h->endian = kLittle;
      return;
    case '!': {
      const int align = ReadCount(L, fmt, kDefaultMaxAlign);
      if (align <= 0 || (align & (align - 1)) != 0) {
        luaL_error(L, "alignment %d is not a power of 2", align);
      }
      h->align = align;
      return;
    }
    default:
      luaL_argerror(L, 1, lua_pushfstring(L, "invalid format option '%c'", opt));
  }
}

// A double as x86-64 code compiled by GCC converts it to uint64_t (what redis-server does
// with `(unsigned long)n`): negative values through int64_t (saturating at INT64_MIN), NaN
// to 2^63, values from 2^64 up (infinity too) to 0.
uint64_t ToUnsigned(double n) {
  constexpr double kTwo63 = 9223372036854775808.0;
  constexpr uint64_t kIndefinite = uint64_t{1} << 63;  // cvttsd2si's "out of range"
  if (std::isnan(n)) return kIndefinite;
  if (n < 0) {
    return n >= -kTwo63 ? static_cast<uint64_t>(static_cast<int64_t>(n)) : kIndefinite;
  }
  if (n < kTwo63) return static_cast<uint64_t>(n);
  if (n < 2 * kTwo63) return static_cast<uint64_t>(n);
  return 0;
}

// A double to float as cvtsd2ss rounds it (to nearest; beyond FLT_MAX's rounding range,
// infinity), without the C++ undefined behaviour of an out-of-range conversion.
float ToFloat(double d) {
  constexpr double kFloatMax = 3.4028234663852886e38;
  constexpr double kRoundsToInfinity = 3.4028235677973366e38;  // FLT_MAX + half its ulp
  if (std::isfinite(d) && std::fabs(d) > kFloatMax) {
    const float max = std::fabs(d) < kRoundsToInfinity ? 3.4028234663852886e38f : INFINITY;
    return d < 0 ? -max : max;
  }
  return static_cast<float>(d);
}

// The low `size` bytes of `value` (zeros beyond 8) in `endian` order.
void AddInteger(luaL_Buffer* b, uint64_t value, int endian, size_t size) {
  char bytes[kMaxIntSize];
  for (size_t i = 0; i < size; ++i) {
    const char byte = static_cast<char>(i < 8 ? (value >> (8 * i)) & 0xff : 0);
    bytes[endian == kLittle ? i : size - 1 - i] = byte;
  }
  luaL_addlstring(b, bytes, size);
}

// The `size` bytes at `data` in `endian` order as a number; beyond 8 bytes only the
// least significant 8 count, and the sign mask shifts by (size*8-1) mod 64 as x86's shl.
lua_Number ReadInteger(const char* data, int endian, bool is_signed, size_t size) {
  uint64_t value = 0;
  for (size_t i = 0; i < size; ++i) {
    const size_t at = endian == kBig ? i : size - 1 - i;
    value = (value << 8) | static_cast<unsigned char>(data[at]);
  }
  if (!is_signed) return static_cast<lua_Number>(value);
  const uint64_t mask = ~uint64_t{0} << ((size * 8 - 1) & 63);
  if ((value & mask) != 0) value |= mask;
  return static_cast<lua_Number>(static_cast<int64_t>(value));
}

int Pack(lua_State* L) {
  const char* fmt = luaL_checkstring(L, 1);
  Header h;
  int arg = 2;
  size_t total = 0;
  lua_pushnil(L);  // separates the arguments from the buffer's stack slots
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  while (*fmt != '\0') {
    const int opt = static_cast<unsigned char>(*fmt++);
    size_t size = OptionSize(L, opt, &fmt);
    const size_t padding = Padding(total, h, opt, size);
    total += padding;
    for (size_t i = 0; i < padding; ++i) luaL_addchar(&b, '\0');
    if (IsIntegerOption(opt)) {
      AddInteger(&b, ToUnsigned(luaL_checknumber(L, arg++)), h.endian, size);
      total += size;
      continue;
    }
    switch (opt) {
      case 'x':
        luaL_addchar(&b, '\0');
        break;
      case 'f':
        AddInteger(&b, std::bit_cast<uint32_t>(ToFloat(luaL_checknumber(L, arg++))), h.endian,
                   size);
        break;
      case 'd':
        AddInteger(&b, std::bit_cast<uint64_t>(luaL_checknumber(L, arg++)), h.endian, size);
        break;
      case 'c':
      case 's': {
        size_t len = 0;
        const char* s = luaL_checklstring(L, arg++, &len);
        if (size == 0) size = len;
        // The library names the argument after this one (it has already moved on).
        luaL_argcheck(L, len >= size, arg, "string too short");
        luaL_addlstring(&b, s, size);
        if (opt == 's') {
          luaL_addchar(&b, '\0');
          ++size;
        }
        break;
      }
      default:
        ControlOption(L, opt, &fmt, &h);
    }
    total += size;
  }
  luaL_pushresult(&b);
  return 1;
}

int Unpack(lua_State* L) {
  const char* fmt = luaL_checkstring(L, 1);
  size_t len = 0;
  const char* data = luaL_checklstring(L, 2, &len);
  // As a size_t: a negative position is huge, so it passes this check and then finds the
  // data too short.
  size_t pos = static_cast<size_t>(luaL_optinteger(L, 3, 1));
  luaL_argcheck(L, pos > 0, 3, "offset must be 1 or greater");
  --pos;
  int results = 0;
  Header h;
  while (*fmt != '\0') {
    const int opt = static_cast<unsigned char>(*fmt++);
    size_t size = OptionSize(L, opt, &fmt);
    pos += Padding(pos, h, opt, size);
    luaL_argcheck(L, size <= len && pos <= len - size, 2, "data string too short");
    luaL_checkstack(L, 2, "too many results");
    if (IsIntegerOption(opt)) {
      lua_pushnumber(L, ReadInteger(data + pos, h.endian, IsLower(opt), size));
      ++results;
      pos += size;
      continue;
    }
    switch (opt) {
      case 'x':
        break;
      case 'f':
        lua_pushnumber(L, std::bit_cast<float>(static_cast<uint32_t>(
                              ReadInteger(data + pos, h.endian, false, size))));
        ++results;
        break;
      case 'd': {
        uint64_t bits = 0;
        for (size_t i = 0; i < 8; ++i) {
          const size_t at = h.endian == kBig ? i : 7 - i;
          bits = (bits << 8) | static_cast<unsigned char>(data[pos + at]);
        }
        lua_pushnumber(L, std::bit_cast<double>(bits));
        ++results;
        break;
      }
      case 'c':
        if (size == 0) {
          // 'c0': the previous result (a number, or a string that reads as one) is the length.
          if (results == 0 || lua_isnumber(L, -1) == 0) {
            luaL_error(L, "format 'c0' needs a previous size");
          }
          size = static_cast<size_t>(ToUnsigned(lua_tonumber(L, -1)));
          lua_pop(L, 1);
          --results;
          luaL_argcheck(L, size <= len && pos <= len - size, 2, "data string too short");
        }
        lua_pushlstring(L, data + pos, size);
        ++results;
        break;
      case 's': {
        const void* end = std::memchr(data + pos, '\0', len - pos);
        if (end == nullptr) luaL_error(L, "unfinished string in data");
        size = static_cast<size_t>(static_cast<const char*>(end) - (data + pos)) + 1;
        lua_pushlstring(L, data + pos, size - 1);
        ++results;
        break;
      }
      default:
        ControlOption(L, opt, &fmt, &h);
    }
    pos += size;
  }
  lua_pushinteger(L, static_cast<lua_Integer>(pos + 1));  // the next position
  return results + 1;
}

int Size(lua_State* L) {
  const char* fmt = luaL_checkstring(L, 1);
  size_t pos = 0;
  Header h;
  while (*fmt != '\0') {
    const int opt = static_cast<unsigned char>(*fmt++);
    const size_t size = OptionSize(L, opt, &fmt);
    pos += Padding(pos, h, opt, size);
    if (opt == 's') {
      luaL_argerror(L, 1, "option 's' has no fixed size");
    } else if (opt == 'c' && size == 0) {
      luaL_argerror(L, 1, "option 'c0' has no fixed size");
    }
    // Letters and digits that are no option count as nothing here (pack and unpack refuse
    // them); the rest must be a control option.
    if (!IsAlnum(opt)) ControlOption(L, opt, &fmt, &h);
    pos += size;
  }
  lua_pushinteger(L, static_cast<lua_Integer>(pos));
  return 1;
}

}  // namespace

int OpenLuaStruct(lua_State* L) {
  lua_newtable(L);
  lua_pushcfunction(L, Pack);
  lua_setfield(L, -2, "pack");
  lua_pushcfunction(L, Unpack);
  lua_setfield(L, -2, "unpack");
  lua_pushcfunction(L, Size);
  lua_setfield(L, -2, "size");
  return 1;
}

}  // namespace ekv::redis
