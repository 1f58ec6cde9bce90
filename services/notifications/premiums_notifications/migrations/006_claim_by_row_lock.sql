-- A batch now claims its notices with row locks held until it records their answers (`repository.claim_due`):
-- taking a lock writes no row version, where the lease wrote one per notice. The lease column goes, and so does
-- the free space kept on each page for heap-only lease updates (marking a notice sent changes `status`, which
-- the `notifications_due` index's predicate reads, so that update is never heap-only).
ALTER TABLE notifications DROP COLUMN IF EXISTS leased_until;
ALTER TABLE notifications RESET (fillfactor);
