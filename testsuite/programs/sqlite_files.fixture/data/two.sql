SELECT 'after reopening:', count(*) FROM fruit;
UPDATE fruit SET qty = qty * 2 WHERE price < 1;
DELETE FROM numbers WHERE n % 7 != 0;
SELECT name, qty FROM fruit ORDER BY qty DESC, name;
SELECT count(*), min(n), max(n) FROM numbers;
VACUUM;
PRAGMA integrity_check;
