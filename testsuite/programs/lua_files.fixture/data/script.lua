-- Lua's io and os libraries on granted directories: /data is read-write,
-- /ro read-only. Everything printed is deterministic (sorted, no times).
local data, ro = arg[1], arg[2]

-- write, then read back in several ways
local f = assert(io.open(data .. "/out.txt", "w"))
for i = 1, 5 do f:write(string.format("line %d: %s\n", i, string.rep("*", i))) end
f:close()
f = assert(io.open(data .. "/out.txt"))
local all = f:read("a")
f:close()
print("wrote " .. #all .. " bytes: " .. all:gsub("\n", "|"))
local n = 0
for _ in io.lines(data .. "/out.txt") do n = n + 1 end
print("lines: " .. n)

-- append, seek, overwrite in place
f = assert(io.open(data .. "/out.txt", "a"))
f:write("appended\n")
f:close()
f = assert(io.open(data .. "/out.txt", "r+"))
print("size: " .. f:seek("end"))
f:seek("set", 5)
print("at 5: " .. f:read(4))
f:seek("set", 0)
f:write("LINE")
print("position after write: " .. f:seek())
f:close()
for l in io.lines(data .. "/out.txt") do io.write("> ", l, "\n") end

-- a CSV file from the fixture
local total, items = 0, {}
for l in io.lines(data .. "/input.csv") do
  local name, qty, price = l:match("^(%w+),(%d+),([%d.]+)$")
  if name then
    total = total + tonumber(qty) * tonumber(price)
    items[#items + 1] = name
  end
end
table.sort(items)
print(string.format("%d items (%s), total %.2f", #items, table.concat(items, " "), total))

-- word frequencies, written to a file and read back
local counts = {}
for l in io.lines(data .. "/words.txt") do
  for w in l:gmatch("%a+") do counts[w] = (counts[w] or 0) + 1 end
end
local words = {}
for w in pairs(counts) do words[#words + 1] = w end
table.sort(words, function(a, b) return counts[a] > counts[b] or (counts[a] == counts[b] and a < b) end)
f = assert(io.open(data .. "/freq.txt", "w"))
for i = 1, 4 do f:write(words[i], " ", counts[words[i]], "\n") end
f:close()
io.write("top words: ")
for l in io.lines(data .. "/freq.txt") do io.write(l, "; ") end
print()

-- renaming and removing
print("rename:", os.rename(data .. "/freq.txt", data .. "/top.txt"))
print("reopen old name:", io.open(data .. "/freq.txt"))
print("remove:", os.remove(data .. "/top.txt"))
print("remove again:", os.remove(data .. "/top.txt"))

-- what the grants refuse
print("read-only grant, read:", io.open(ro .. "/notes.txt"):read("l"))
print("read-only grant, write:", io.open(ro .. "/notes.txt", "w"))
print("read-only grant, create:", io.open(ro .. "/new.txt", "w"))
print("read-only grant, remove:", os.remove(ro .. "/notes.txt"))
print("escape with ..:", io.open(data .. "/../ro/notes.txt", "r"))
print("not granted:", io.open("/etc/passwd"))
