-- Run on a connection opened read-only (ro:) or read-write. SQLite's WASI
-- build locks a database with a "dot-file" (a directory it creates next to
-- it), so even reading a database that sits in a read-only grant fails
-- (access permission denied, as under wasmtime), while one in a
-- read-write grant reads fine; a read-only connection cannot write.
SELECT k, v FROM seed ORDER BY k;
INSERT INTO seed VALUES ('x', 'y');
