/* A minimal `lua` front end for the benchmark: runs the Lua script read from
 * standard input with the standard libraries, `arg` set to the command-line
 * arguments (also passed as `...`). The Lua sources are not in this repo:
 * they come from the pinned `lua-src` crate (see bench/sources/Cargo.toml).
 * Written to build against every Lua from 5.1 to 5.5 (the large module links them all). */
#include <stdio.h>
#include <stdlib.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

int main(int argc, char **argv) {
  size_t cap = 1 << 16, len = 0, r;
  char *src = malloc(cap);
  while ((r = fread(src + len, 1, cap - len, stdin)) > 0) {
    len += r;
    if (len == cap) src = realloc(src, cap *= 2);
  }
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lua_createtable(L, argc, 0);
  for (int i = 0; i < argc; i++) { lua_pushstring(L, argv[i]); lua_rawseti(L, -2, i); }
  lua_setglobal(L, "arg");
  if (luaL_loadbuffer(L, src, len, "=stdin") != 0) {
    fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
    return 1;
  }
  for (int i = 1; i < argc; i++) lua_pushstring(L, argv[i]);
  if (lua_pcall(L, argc - 1, 0, 0) != 0) {
    fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
    return 1;
  }
  lua_close(L);
  fflush(stdout);
  return 0;
}
