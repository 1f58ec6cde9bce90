-- Issue 8: a request claims its Idempotency-Key by inserting the key's row first, one statement instead of an
-- advisory lock and a read. A concurrent request with the same key waits on the row until the first commits
-- (then sees its response) or rolls back (then claims the key itself). The response is written in the same
-- transaction as the claim, so no committed row lacks it.
ALTER TABLE idempotency_keys
    ALTER COLUMN status_code DROP NOT NULL,
    ALTER COLUMN response DROP NOT NULL;
