-- Lua workload of the Kiln benchmark: recursion, closures, tables, strings,
-- metatables and sorting. It raises no error and uses no coroutine: in the
-- wasm build, Lua's longjmp aborts (see wasi-compat/setjmp.h). Deterministic output; iterates string-keyed tables
-- only in sorted order (Lua's string hash seed varies between runs).
local n = tonumber(arg and arg[1]) or 10

local function fib(k) if k < 2 then return k end return fib(k - 1) + fib(k - 2) end
print("fib", fib(20 + n // 2))

-- n-queens by backtracking
local function queens(size)
  local cols, d1, d2, count = {}, {}, {}, 0
  local function place(r)
    if r > size then count = count + 1 return end
    for c = 1, size do
      if not cols[c] and not d1[r + c] and not d2[r - c + size] then
        cols[c], d1[r + c], d2[r - c + size] = true, true, true
        place(r + 1)
        cols[c], d1[r + c], d2[r - c + size] = nil, nil, nil
      end
    end
  end
  place(1)
  return count
end
print("queens", queens(6 + n // 4))

-- vectors with metatables
local Vec = {}
Vec.__index = Vec
Vec.__add = function(a, b) return setmetatable({x = a.x + b.x, y = a.y + b.y}, Vec) end
Vec.__mul = function(a, s) return setmetatable({x = a.x * s, y = a.y * s}, Vec) end
function Vec.new(x, y) return setmetatable({x = x, y = y}, Vec) end
function Vec:len2() return self.x * self.x + self.y * self.y end
local acc = Vec.new(0, 0)
for i = 1, 20000 * n do acc = acc + Vec.new(i % 7, i % 11) * 0.5 end
print("vec", acc.x, acc.y, acc:len2())

-- strings: build, format, pattern matching, gsub
local words = {}
local seed = 42
local function rnd(m) seed = (seed * 1103515245 + 12345) % 2147483648 return seed % m end
local syll = {"ka", "ki", "lo", "wa", "sm", "fi", "re", "cl", "ay", "gl", "az", "em", "be", "r"}
for i = 1, 3000 * n do
  local parts = {}
  for j = 1, 1 + rnd(4) do parts[j] = syll[1 + rnd(#syll)] end
  words[i] = table.concat(parts)
end
local text = table.concat(words, " ")
local freq = {}
for w in text:gmatch("%a+") do freq[w] = (freq[w] or 0) + 1 end
local keys = {}
for k in pairs(freq) do keys[#keys + 1] = k end
table.sort(keys, function(a, b) if freq[a] ~= freq[b] then return freq[a] > freq[b] end return a < b end)
for i = 1, 5 do io.write(string.format("%s=%d ", keys[i], freq[keys[i]])) end
print(#keys)
local replaced, count = text:gsub("(k%a)(%a*)", "%2%1")
print("gsub", count, #replaced, replaced:sub(1, 40))

-- sorting records
local recs = {}
for i = 1, 20000 * n do recs[i] = {id = i, key = rnd(100000), name = words[1 + (i % #words)]} end
table.sort(recs, function(a, b) if a.key ~= b.key then return a.key < b.key end return a.id < b.id end)
local h = 0
for i = 1, #recs, 97 do h = (h * 31 + recs[i].id) % 1000000007 end
print("sort", recs[1].key, recs[#recs].key, h)

-- closures: an iterator built from upvalues (no coroutines: a coroutine
-- yield unwinds with longjmp, which the wasm build does not have)
local function gen(m) local i = 0 return function() i = i + 1 if i <= m then return i * i % 1009 end end end
local sum = 0
for v in gen(50000 * n) do sum = sum + v end
print("closures", sum)
