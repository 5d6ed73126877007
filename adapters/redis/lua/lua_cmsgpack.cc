// Lua raises errors by longjmp, so nothing here holds a C++ object with a destructor across
// a Lua call: the encoder's buffer is a Lua userdata (kept alive through a registry
// reference), the decoder reads the argument string in place. Where Redis's library checks
// the Lua stack (luaL_checkstack), this does too, with the same messages and in the same
// order, so a stream of too many values fails the same way.
#include "adapters/redis/lua/lua_cmsgpack.h"

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

// Tables nested this deep are encoded as nil (which also ends a cycle of references).
constexpr int kMaxNesting = 16;

// ---- encoding ----

struct Encoder {
  lua_State* L;
  int ref;  // registry reference of the userdata holding `data`
  unsigned char* data;
  size_t len;
  size_t cap;
};

void Append(Encoder* e, const void* bytes, size_t n) {
  if (e->cap - e->len < n) {
    const size_t cap = (e->len + n) * 2;
    luaL_checkstack(e->L, 1, "in function mp_buf_append");
    auto* grown = static_cast<unsigned char*>(lua_newuserdata(e->L, cap));
    if (e->len > 0) std::memcpy(grown, e->data, e->len);
    luaL_unref(e->L, LUA_REGISTRYINDEX, e->ref);
    e->ref = luaL_ref(e->L, LUA_REGISTRYINDEX);
    e->data = grown;
    e->cap = cap;
  }
  std::memcpy(e->data + e->len, bytes, n);
  e->len += n;
}

// `tag`, then the low `width` bytes of `value`, most significant first.
void AppendTagged(Encoder* e, unsigned char tag, uint64_t value, int width) {
  unsigned char out[9];
  out[0] = tag;
  for (int i = 0; i < width; ++i) {
    out[1 + i] = static_cast<unsigned char>(value >> (8 * (width - 1 - i)));
  }
  Append(e, out, 1 + static_cast<size_t>(width));
}

void EncodeBytes(Encoder* e, const char* s, size_t len) {
  if (len < 32) {
    const unsigned char tag = 0xa0 | static_cast<unsigned char>(len);
    Append(e, &tag, 1);
  } else if (len <= 0xff) {
    AppendTagged(e, 0xd9, len, 1);
  } else if (len <= 0xffff) {
    AppendTagged(e, 0xda, len, 2);
  } else {
    AppendTagged(e, 0xdb, len & 0xffffffffu, 4);  // str32 keeps the low 32 bits, as Redis
  }
  Append(e, s, len);
}

void EncodeInteger(Encoder* e, int64_t n) {
  if (n >= 0) {
    const auto u = static_cast<uint64_t>(n);
    if (u <= 0x7f) {
      const auto tag = static_cast<unsigned char>(u);
      Append(e, &tag, 1);
    } else if (u <= 0xff) {
      AppendTagged(e, 0xcc, u, 1);
    } else if (u <= 0xffff) {
      AppendTagged(e, 0xcd, u, 2);
    } else if (u <= 0xffffffffu) {
      AppendTagged(e, 0xce, u, 4);
    } else {
      AppendTagged(e, 0xcf, u, 8);
    }
    return;
  }
  const auto bits = static_cast<uint64_t>(n);
  if (n >= -32) {
    const auto tag = static_cast<unsigned char>(bits);  // negative fixint: 0xe0..0xff
    Append(e, &tag, 1);
  } else if (n >= -128) {
    AppendTagged(e, 0xd0, bits, 1);
  } else if (n >= -32768) {
    AppendTagged(e, 0xd1, bits, 2);
  } else if (n >= -2147483648LL) {
    AppendTagged(e, 0xd2, bits, 4);
  } else {
    AppendTagged(e, 0xd3, bits, 8);
  }
}

// A float32 when converting to float and back gives the same double (infinities too),
// else a float64; NaN is never equal to itself, so it is always a float64.
void EncodeFloating(Encoder* e, double d) {
  const bool fits_float = std::isinf(d) || (std::fabs(d) <= 3.4028234663852886e38 &&
                                            static_cast<double>(static_cast<float>(d)) == d);
  if (fits_float) {
    AppendTagged(e, 0xca, std::bit_cast<uint32_t>(static_cast<float>(d)), 4);
  } else {
    AppendTagged(e, 0xcb, std::bit_cast<uint64_t>(d), 8);
  }
}

// Lua 5.1 numbers are doubles: an integral one in int64 range (-0 included, which becomes
// 0) is encoded as an integer.
void EncodeNumber(Encoder* e, double d) {
  if (std::isfinite(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
      std::trunc(d) == d) {
    EncodeInteger(e, static_cast<int64_t>(d));
  } else {
    EncodeFloating(e, d);
  }
}

void EncodeTop(Encoder* e, int level);

// True when the table on top has exactly the keys 1..n (n >= 0), each a number that is a
// positive integer within C int range.
bool IsArray(lua_State* L) {
  const int top = lua_gettop(L);
  luaL_checkstack(L, 2, "in function table_is_an_array");
  int count = 0;
  double max = 0;
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    lua_pop(L, 1);
    const bool index = lua_type(L, -1) == LUA_TNUMBER && lua_tonumber(L, -1) > 0 &&
                       lua_tonumber(L, -1) <= INT_MAX &&
                       std::trunc(lua_tonumber(L, -1)) == lua_tonumber(L, -1);
    if (!index) {
      lua_settop(L, top);
      return false;
    }
    max = std::fmax(max, lua_tonumber(L, -1));
    ++count;
  }
  lua_settop(L, top);
  return max == count;
}

void EncodeArray(Encoder* e, int level) {
  lua_State* L = e->L;
  const size_t len = lua_objlen(L, -1);
  if (len <= 15) {
    const unsigned char tag = 0x90 | static_cast<unsigned char>(len);
    Append(e, &tag, 1);
  } else if (len <= 0xffff) {
    AppendTagged(e, 0xdc, len, 2);
  } else {
    AppendTagged(e, 0xdd, len & 0xffffffffu, 4);
  }
  luaL_checkstack(L, 1, "in function mp_encode_lua_table_as_array");
  for (size_t i = 1; i <= len; ++i) {
    lua_pushnumber(L, static_cast<lua_Number>(i));
    lua_gettable(L, -2);  // not raw: an __index metamethod answers, as in Redis
    EncodeTop(e, level + 1);
  }
}

void EncodeMap(Encoder* e, int level) {
  lua_State* L = e->L;
  luaL_checkstack(L, 3, "in function mp_encode_lua_table_as_map");
  size_t count = 0;
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    lua_pop(L, 1);
    ++count;
  }
  if (count <= 15) {
    const unsigned char tag = 0x80 | static_cast<unsigned char>(count);
    Append(e, &tag, 1);
  } else if (count <= 0xffff) {
    AppendTagged(e, 0xde, count, 2);
  } else {
    AppendTagged(e, 0xdf, count & 0xffffffffu, 4);
  }
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    lua_pushvalue(L, -2);
    EncodeTop(e, level + 1);  // the key
    EncodeTop(e, level + 1);  // the value
  }
}

// Encodes the value on top of the stack and pops it.
void EncodeTop(Encoder* e, int level) {
  lua_State* L = e->L;
  int type = lua_type(L, -1);
  if (type == LUA_TTABLE && level == kMaxNesting) type = LUA_TNIL;
  switch (type) {
    case LUA_TSTRING: {
      size_t len = 0;
      const char* s = lua_tolstring(L, -1, &len);
      EncodeBytes(e, s, len);
      break;
    }
    case LUA_TBOOLEAN: {
      const unsigned char tag = lua_toboolean(L, -1) ? 0xc3 : 0xc2;
      Append(e, &tag, 1);
      break;
    }
    case LUA_TNUMBER:
      EncodeNumber(e, lua_tonumber(L, -1));
      break;
    case LUA_TTABLE:
      if (IsArray(L)) {
        EncodeArray(e, level);
      } else {
        EncodeMap(e, level);
      }
      break;
    default: {
      const unsigned char tag = 0xc0;
      Append(e, &tag, 1);
      break;
    }
  }
  lua_pop(L, 1);
}

int Pack(lua_State* L) {
  const int nargs = lua_gettop(L);
  if (nargs == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
  if (lua_checkstack(L, nargs) == 0) {
    return luaL_argerror(L, 0, "Too many arguments for MessagePack pack.");
  }
  Encoder e{L, LUA_NOREF, nullptr, 0, 0};
  for (int i = 1; i <= nargs; ++i) {
    luaL_checkstack(L, 1, "in function mp_check");
    lua_pushvalue(L, i);
    EncodeTop(&e, 0);
    lua_pushlstring(L, reinterpret_cast<const char*>(e.data), e.len);
    e.len = 0;
  }
  luaL_unref(L, LUA_REGISTRYINDEX, e.ref);
  lua_concat(L, nargs);
  return 1;
}

// ---- decoding ----

enum class DecodeError { kNone, kMissingBytes, kBadFormat };

struct Cursor {
  const unsigned char* p;
  size_t left;
  DecodeError error;
};

// The `width` bytes after the tag at c->p, most significant first.
uint64_t ReadBigEndian(const Cursor* c, int width) {
  uint64_t value = 0;
  for (int i = 1; i <= width; ++i) value = (value << 8) | c->p[i];
  return value;
}

void Consume(Cursor* c, size_t n) {
  c->p += n;
  c->left -= n;
}

// Fails the cursor (a cut input) unless `n` bytes are left.
bool Need(Cursor* c, size_t n) {
  if (c->left >= n) return true;
  c->error = DecodeError::kMissingBytes;
  return false;
}

void DecodeValue(lua_State* L, Cursor* c);

void DecodeArray(lua_State* L, Cursor* c, size_t len) {
  lua_newtable(L);
  luaL_checkstack(L, 1, "in function mp_decode_to_lua_array");
  for (size_t i = 1; i <= len; ++i) {
    lua_pushnumber(L, static_cast<lua_Number>(i));
    DecodeValue(L, c);
    if (c->error != DecodeError::kNone) return;
    lua_settable(L, -3);
  }
}

// A nil or NaN key fails in lua_settable ("table index is nil"), as in Redis.
void DecodeMap(lua_State* L, Cursor* c, size_t len) {
  lua_newtable(L);
  for (size_t i = 0; i < len; ++i) {
    DecodeValue(L, c);
    if (c->error != DecodeError::kNone) return;
    DecodeValue(L, c);
    if (c->error != DecodeError::kNone) return;
    lua_settable(L, -3);
  }
}

void DecodeString(lua_State* L, Cursor* c, size_t header, size_t len) {
  if (!Need(c, header + len)) return;
  lua_pushlstring(L, reinterpret_cast<const char*>(c->p + header), len);
  Consume(c, header + len);
}

// Pushes the value at the cursor and moves past it, or sets c->error.
void DecodeValue(lua_State* L, Cursor* c) {
  if (!Need(c, 1)) return;
  luaL_checkstack(L, 1, "too many return values at once; use unpack_one or unpack_limit instead.");
  const unsigned char tag = c->p[0];
  switch (tag) {
    case 0xcc:
      if (!Need(c, 2)) return;
      lua_pushinteger(L, static_cast<lua_Integer>(ReadBigEndian(c, 1)));
      Consume(c, 2);
      return;
    case 0xd0:
      if (!Need(c, 2)) return;
      lua_pushinteger(L, static_cast<int8_t>(ReadBigEndian(c, 1)));
      Consume(c, 2);
      return;
    case 0xcd:
      if (!Need(c, 3)) return;
      lua_pushinteger(L, static_cast<lua_Integer>(ReadBigEndian(c, 2)));
      Consume(c, 3);
      return;
    case 0xd1:
      if (!Need(c, 3)) return;
      lua_pushinteger(L, static_cast<int16_t>(ReadBigEndian(c, 2)));
      Consume(c, 3);
      return;
    case 0xce:
      if (!Need(c, 5)) return;
      lua_pushinteger(L, static_cast<lua_Integer>(ReadBigEndian(c, 4)));
      Consume(c, 5);
      return;
    case 0xd2:
      if (!Need(c, 5)) return;
      lua_pushinteger(L, static_cast<int32_t>(ReadBigEndian(c, 4)));
      Consume(c, 5);
      return;
    case 0xcf:  // uint64 wraps to int64 (Redis pushes it as a lua_Integer)
    case 0xd3:
      if (!Need(c, 9)) return;
      lua_pushnumber(L, static_cast<lua_Number>(static_cast<int64_t>(ReadBigEndian(c, 8))));
      Consume(c, 9);
      return;
    case 0xc0:
      lua_pushnil(L);
      Consume(c, 1);
      return;
    case 0xc2:
    case 0xc3:
      lua_pushboolean(L, tag == 0xc3);
      Consume(c, 1);
      return;
    case 0xca:
      if (!Need(c, 5)) return;
      lua_pushnumber(L, std::bit_cast<float>(static_cast<uint32_t>(ReadBigEndian(c, 4))));
      Consume(c, 5);
      return;
    case 0xcb:
      if (!Need(c, 9)) return;
      lua_pushnumber(L, std::bit_cast<double>(ReadBigEndian(c, 8)));
      Consume(c, 9);
      return;
    case 0xd9:
      if (!Need(c, 2)) return;
      DecodeString(L, c, 2, ReadBigEndian(c, 1));
      return;
    case 0xda:
      if (!Need(c, 3)) return;
      DecodeString(L, c, 3, ReadBigEndian(c, 2));
      return;
    case 0xdb:
      if (!Need(c, 5)) return;
      DecodeString(L, c, 5, ReadBigEndian(c, 4));
      return;
    case 0xdc:
    case 0xde: {
      if (!Need(c, 3)) return;
      const size_t len = ReadBigEndian(c, 2);
      Consume(c, 3);
      if (tag == 0xdc) {
        DecodeArray(L, c, len);
      } else {
        DecodeMap(L, c, len);
      }
      return;
    }
    case 0xdd:
    case 0xdf: {
      if (!Need(c, 5)) return;
      const size_t len = ReadBigEndian(c, 4);
      Consume(c, 5);
      if (tag == 0xdd) {
        DecodeArray(L, c, len);
      } else {
        DecodeMap(L, c, len);
      }
      return;
    }
    default:
      break;
  }
  if (tag < 0x80) {  // positive fixint
    lua_pushinteger(L, tag);
    Consume(c, 1);
  } else if (tag >= 0xe0) {  // negative fixint
    lua_pushinteger(L, static_cast<int8_t>(tag));
    Consume(c, 1);
  } else if ((tag & 0xe0) == 0xa0) {  // fixstr
    DecodeString(L, c, 1, tag & 0x1f);
  } else if ((tag & 0xf0) == 0x90) {  // fixarray
    Consume(c, 1);
    DecodeArray(L, c, tag & 0x0f);
  } else if ((tag & 0xf0) == 0x80) {  // fixmap
    Consume(c, 1);
    DecodeMap(L, c, tag & 0x0f);
  } else {  // 0xc1, bin, ext, fixext: not formats Redis's library reads
    c->error = DecodeError::kBadFormat;
  }
}

// Decodes up to `limit` values from byte `offset` of argument 1. With neither a limit nor
// an offset (cmsgpack.unpack, or unpack_limit(s, 0)) every value, without the offset.
int Unpack(lua_State* L, lua_Integer limit, lua_Integer offset) {
  size_t len = 0;
  const char* s = luaL_checklstring(L, 1, &len);
  const bool everything = limit == 0 && offset == 0;
  if (offset < 0 || limit < 0) {
    // Redis prints the input length where it says "limit".
    return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.",
                      static_cast<int>(offset), static_cast<int>(len));
  }
  if (static_cast<size_t>(offset) > len) {
    return luaL_error(L, "Start offset %d greater than input length %d.", static_cast<int>(offset),
                      static_cast<int>(len));
  }
  if (everything) limit = INT_MAX;
  Cursor c{reinterpret_cast<const unsigned char*>(s) + offset, len - static_cast<size_t>(offset),
           DecodeError::kNone};
  int count = 0;
  for (; c.left > 0 && count < limit; ++count) {
    DecodeValue(L, &c);
    if (c.error == DecodeError::kMissingBytes) return luaL_error(L, "Missing bytes in input.");
    if (c.error == DecodeError::kBadFormat) return luaL_error(L, "Bad data format in input.");
  }
  if (everything) return count;
  luaL_checkstack(L, 1, "in function mp_unpack_full");
  lua_pushinteger(L, c.left == 0 ? -1 : static_cast<lua_Integer>(len - c.left));
  lua_insert(L, 2);  // the offset comes first, right above the input string
  return count + 1;
}

// Keeps only the input string, so the offset can go right above it; without arguments the
// stack stays empty and luaL_checklstring reports "got no value".
void DropExtraArguments(lua_State* L) {
  if (lua_gettop(L) > 1) lua_settop(L, 1);
}

int UnpackAll(lua_State* L) { return Unpack(L, 0, 0); }

int UnpackOne(lua_State* L) {
  const lua_Integer offset = luaL_optinteger(L, 2, 0);
  DropExtraArguments(L);
  return Unpack(L, 1, offset);
}

int UnpackLimit(lua_State* L) {
  const lua_Integer limit = luaL_checkinteger(L, 2);
  const lua_Integer offset = luaL_optinteger(L, 3, 0);
  DropExtraArguments(L);
  return Unpack(L, limit, offset);
}

}  // namespace

int OpenLuaCmsgpack(lua_State* L) {
  lua_newtable(L);
  lua_pushcfunction(L, Pack);
  lua_setfield(L, -2, "pack");
  lua_pushcfunction(L, UnpackAll);
  lua_setfield(L, -2, "unpack");
  lua_pushcfunction(L, UnpackOne);
  lua_setfield(L, -2, "unpack_one");
  lua_pushcfunction(L, UnpackLimit);
  lua_setfield(L, -2, "unpack_limit");
  // The metadata fields Redis's module table carries.
  lua_pushliteral(L, "cmsgpack");
  lua_setfield(L, -2, "_NAME");
  lua_pushliteral(L, "lua-cmsgpack 0.4.0");
  lua_setfield(L, -2, "_VERSION");
  lua_pushliteral(L, "Copyright (C) 2012, Salvatore Sanfilippo");
  lua_setfield(L, -2, "_COPYRIGHT");
  lua_pushliteral(L, "MessagePack C implementation for Lua");
  lua_setfield(L, -2, "_DESCRIPTION");
  return 1;
}

}  // namespace ekv::redis
