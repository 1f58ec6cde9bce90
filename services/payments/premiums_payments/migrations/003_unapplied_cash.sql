-- Unapplied cash (R4.8): a mail payment we cannot match to one open enrollment waits in suspense.
ALTER TABLE payments
    ALTER COLUMN enrollment_id DROP NOT NULL,
    ALTER COLUMN member_id DROP NOT NULL,
    DROP CONSTRAINT payments_status_check,
    ADD CONSTRAINT payments_status_check CHECK (status IN ('unapplied', 'accepted', 'cleared', 'returned')),
    ADD COLUMN unapplied_reason text,
    ADD COLUMN applied_by       text,
    ADD COLUMN applied_at       timestamptz;
CREATE INDEX payments_unapplied ON payments (received_at) WHERE status = 'unapplied';
