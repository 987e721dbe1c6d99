-- SQLite workload of the Kiln benchmark. Data comes from a deterministic
-- linear congruential generator in a recursive CTE (no random()), so every
-- contender prints exactly the same rows. Size: `SELECT n FROM params`.
CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT, city TEXT, score INTEGER);
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER, amount INTEGER, item TEXT, day INTEGER);

WITH RECURSIVE g(i, x) AS (
  SELECT 1, 12345
  UNION ALL
  SELECT i + 1, (x * 1103515245 + 12345) % 2147483648 FROM g WHERE i < (SELECT n FROM params)
)
INSERT INTO customers
SELECT i,
       printf('cust-%05d-%s', i, substr('abcdefghijklmnopqrstuvwxyz', 1 + x % 20, 4 + x % 5)),
       CASE x % 7 WHEN 0 THEN 'Lyon' WHEN 1 THEN 'Oslo' WHEN 2 THEN 'Quito' WHEN 3 THEN 'Perth'
                  WHEN 4 THEN 'Accra' WHEN 5 THEN 'Hanoi' ELSE 'Tartu' END,
       x % 1000
FROM g;

WITH RECURSIVE g(i, x) AS (
  SELECT 1, 67890
  UNION ALL
  SELECT i + 1, (x * 1103515245 + 12345) % 2147483648 FROM g WHERE i < 10 * (SELECT n FROM params)
)
INSERT INTO orders
SELECT i, 1 + x % (SELECT n FROM params), (x / 7) % 50000,
       'item-' || ((x / 13) % 500), (x / 101) % 365
FROM g;

CREATE INDEX orders_customer ON orders(customer);
CREATE INDEX orders_day ON orders(day, amount);

SELECT count(*), sum(amount), min(amount), max(amount) FROM orders;

SELECT c.city, count(*) AS n, sum(o.amount) AS total, round(avg(o.amount), 3)
FROM orders o JOIN customers c ON c.id = o.customer
GROUP BY c.city ORDER BY total DESC;

SELECT c.name, sum(o.amount) AS total
FROM customers c JOIN orders o ON o.customer = c.id
GROUP BY c.id ORDER BY total DESC, c.id LIMIT 5;

SELECT day, count(*), sum(amount) FROM orders WHERE day BETWEEN 100 AND 104 GROUP BY day ORDER BY day;

SELECT item, count(*) AS n FROM orders GROUP BY item ORDER BY n DESC, item LIMIT 5;

SELECT city, name, score, rnk FROM (
  SELECT city, name, score, rank() OVER (PARTITION BY city ORDER BY score DESC, id) AS rnk FROM customers
) WHERE rnk <= 2 ORDER BY city, rnk;

SELECT count(*) FROM customers WHERE name LIKE '%-abc%' OR name GLOB '*xyz*';

BEGIN;
UPDATE orders SET amount = amount + 1 WHERE day % 3 = 0;
DELETE FROM orders WHERE amount < 100;
COMMIT;
SELECT count(*), sum(amount) FROM orders;

SELECT json_object('city', city, 'customers', count(*), 'best', max(score)) FROM customers GROUP BY city ORDER BY city;

SELECT customer, group_concat(id, ',') FROM (SELECT customer, id FROM orders WHERE customer <= 3 ORDER BY id) GROUP BY customer;
