-- The PostgreSQL peer of a purchase: a hot-row conditional decrement and an order insert
-- in one transaction, committed with synchronous_commit on.
\set buyer random(1, 1000000000)
BEGIN;
UPDATE stock SET n = n - 1 WHERE id = 1 AND n > 0;
INSERT INTO orders (buyer, quantity) VALUES (:buyer, 1);
COMMIT;
