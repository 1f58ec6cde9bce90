-- What each enrollment owes, learned from coverage.events and payments.events: the amount a future
-- AutoPay draft takes (R4.4: the amount due on the bill, never more than billed).
CREATE TABLE billing_state (
    enrollment_id  text PRIMARY KEY,
    member_id      text NOT NULL,
    coverage_month text NOT NULL,
    due_date       date NOT NULL,
    total_due      numeric(12, 2) NOT NULL,
    paid           numeric(12, 2) NOT NULL DEFAULT 0,
    status         text NOT NULL DEFAULT 'pending_binder',
    updated_at     timestamptz NOT NULL DEFAULT now()
);
