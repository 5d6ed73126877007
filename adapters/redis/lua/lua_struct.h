// struct for the script Lua state: Roberto Ierusalimschy's struct library as Redis 7.0
// embeds it (deps/lua/src/lua_struct.c), our code with its observable behaviour on the
// 64-bit little-endian machines Redis and ekv run on:
//  - formats: '>' big / '<' little endian (little by default), '!n' maximum alignment
//    (8 by default for '!'; 1 until set), 'x' a pad byte, b/B h/H l/L T (1, 2, 8, 8
//    bytes), i/In (n bytes, 4 by default, at most 32), f/d, 'cn' n chars ('c0': the whole
//    string when packing, the previous number as the length when unpacking), 's' a
//    zero-terminated string, ' ' ignored;
//  - struct.pack(fmt, ...), struct.unpack(fmt, data [,pos]) (the values, then the next
//    position), struct.size(fmt);
//  - numbers become integers as x86-64 converts doubles (truncation; out-of-range values
//    as its cvttsd2si does), so pack answers what redis-server answers for any number.
// Everything is a pure function of its arguments (deterministic on every replica).
#pragma once

extern "C" {
#include "lua.h"
}

namespace ekv::redis {

// Pushes the struct module table (pack, unpack, size). A lua_CFunction for lua_call.
int OpenLuaStruct(lua_State* L);

}  // namespace ekv::redis
