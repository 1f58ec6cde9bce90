-- The settlement day walks the due debits in keyset pages of (settles_on, payment_id): this index gives each
-- page its start by key, so a page neither sorts every debit still due nor re-reads the ones cleared before it.
CREATE INDEX payments_to_settle_in_order ON payments (settles_on, payment_id) WHERE status = 'accepted';
DROP INDEX payments_to_settle;
