// cmsgpack for the script Lua state: MessagePack as Redis 7.0 embeds it (lua-cmsgpack
// 0.4.0 in deps/lua), our code with its observable behaviour:
//  - cmsgpack.pack(v1, ...) encodes each argument and concatenates them. A number that is
//    an integer in int64 range takes the smallest (u)int format (positive values unsigned),
//    any other number a float32 when that is exact, else a float64; a string is always
//    str (fixstr/str8/16/32, never bin); a table whose keys are exactly 1..n is an array
//    (the empty table too), any other table a map in lua_next order; nil, functions and
//    every other type are nil; a table nested 16 deep is encoded as nil.
//  - cmsgpack.unpack(s) returns every value of the stream; unpack_one(s [,offset]) and
//    unpack_limit(s, limit [,offset]) return the next offset first (-1 at the end), then
//    the values. uint64 values wrap to int64 (as Redis pushes them); bin, ext and fixext
//    are "Bad data format in input.", a cut value "Missing bytes in input.".
// Everything is a pure function of its arguments (deterministic on every replica).
#pragma once

extern "C" {
#include "lua.h"
}

namespace ekv::redis {

// Pushes the cmsgpack module table (pack, unpack, unpack_one, unpack_limit and Redis's
// _NAME/_VERSION/_COPYRIGHT/_DESCRIPTION fields). A lua_CFunction for lua_call.
int OpenLuaCmsgpack(lua_State* L);

}  // namespace ekv::redis
