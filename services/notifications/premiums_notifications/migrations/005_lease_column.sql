-- A sender's lease has its own column, outside every index, and pages keep room for the new row version: taking
-- a lease is then a heap-only (HOT) update that writes no index entry. It moved `next_attempt_at`, which the
-- `notifications_due` index holds, so every lease wrote a new entry in each of the table's four indexes.
ALTER TABLE notifications ADD COLUMN leased_until timestamptz;
ALTER TABLE notifications SET (fillfactor = 80);
