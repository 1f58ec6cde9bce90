-- Issue 4: the grace ladder, termination and reinstatement live on the enrollment (R2.7, R2.8, R2.10).
ALTER TABLE enrollments
    ADD COLUMN ladder_month     text,
    ADD COLUMN notice_level     integer NOT NULL DEFAULT 0,
    ADD COLUMN notice_pay_by    date,
    ADD COLUMN second_notice_on date,
    ADD COLUMN end_date         date,
    ADD COLUMN termination_reason text,
    ADD COLUMN terminated_on    date,
    ADD COLUMN reinstate_by     date;

-- A payment made while the enrollment waited for its binder is a binder payment (D7: its return cancels).
ALTER TABLE payments_received ADD COLUMN binder boolean NOT NULL DEFAULT false,
                              ADD COLUMN returned_on date;

CREATE INDEX enrollments_open ON enrollments (status) WHERE status IN ('pending_binder', 'active', 'delinquent');

-- R2.10/D8: what a terminated member asked to be reinstated for, and what it costs.
CREATE TABLE reinstatement_requests (
    enrollment_id   text PRIMARY KEY REFERENCES enrollments,
    requested_on    date NOT NULL,
    requested_by    text NOT NULL,
    months          text[] NOT NULL,
    monthly_premium numeric(12, 2) NOT NULL,
    amount_required numeric(12, 2) NOT NULL,
    pay_by          date NOT NULL,
    reinstated_on   date
);
