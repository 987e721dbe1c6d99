CREATE TABLE fruit(name TEXT PRIMARY KEY, qty INTEGER, price REAL);
INSERT INTO fruit VALUES ('apple', 3, 0.5), ('pear', 10, 0.25), ('plum', 7, 1.5);
BEGIN;
INSERT INTO fruit VALUES ('fig', 1, 3.0);
COMMIT;
BEGIN;
DELETE FROM fruit;
ROLLBACK;
CREATE TABLE numbers(n INTEGER);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000)
INSERT INTO numbers SELECT x FROM c;
CREATE INDEX numbers_mod ON numbers(n % 7);
SELECT name, qty, printf('%.2f', qty * price) FROM fruit ORDER BY name;
SELECT count(*), sum(n) FROM numbers;
PRAGMA journal_mode;
