-- Issue 3: returns and NOCs, guest identity, staff channels, closed enrollments, idempotency purge, NACHA files.

ALTER TABLE payments
    ADD COLUMN binder            boolean NOT NULL DEFAULT false,
    ADD COLUMN entry_description text    NOT NULL DEFAULT 'HLTH PREM',
    ADD COLUMN payment_type      text    NOT NULL DEFAULT 'S',
    ADD COLUMN reinitiation_of   text,
    ADD COLUMN check_number      text,
    ADD COLUMN tel_authorization jsonb,
    ADD COLUMN return_code       text,
    ADD COLUMN returned_on       date,
    ADD COLUMN nacha_file        text;
CREATE INDEX payments_to_file ON payments (business_date) WHERE method = 'ach_debit' AND nacha_file IS NULL;

-- What the bank told us (returns, NOCs), as it arrived: the same return may arrive twice (DOMAIN §7.3).
CREATE TABLE bank_reports (
    id           bigserial PRIMARY KEY,
    payment_id   text NOT NULL REFERENCES payments,
    kind         text NOT NULL CHECK (kind IN ('return', 'noc')),
    code         text NOT NULL,
    effective_on date NOT NULL,
    processed_on date,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bank_reports_due ON bank_reports (effective_on) WHERE processed_on IS NULL;

-- One row per (payment, code): the dedupe of returns and NOCs.
CREATE TABLE payment_returns (
    payment_id  text NOT NULL REFERENCES payments,
    return_code text NOT NULL,
    returned_on date NOT NULL,
    PRIMARY KEY (payment_id, return_code)
);
CREATE TABLE bank_notices (
    payment_id  text NOT NULL REFERENCES payments,
    change_code text NOT NULL,
    received_on date NOT NULL,
    PRIMARY KEY (payment_id, change_code)
);

-- Identity for guest payments (R4.2), from enrollment.events (the system of record).
CREATE TABLE member_identity (
    member_id     text PRIMARY KEY,
    date_of_birth date        NOT NULL,
    zip           text        NOT NULL,
    as_of         timestamptz NOT NULL
);
CREATE TABLE enrollment_identity (
    enrollment_id   text PRIMARY KEY,
    member_id       text NOT NULL,
    billing_account text NOT NULL
);
CREATE INDEX enrollment_identity_billing ON enrollment_identity (billing_account);
CREATE TABLE guest_mismatches (
    member_id    text        NOT NULL,
    attempted_at timestamptz NOT NULL
);
CREATE INDEX guest_mismatches_member ON guest_mismatches (member_id, attempted_at);

-- Enrollments coverage cancelled or terminated (coverage.events): no new payments.
CREATE TABLE enrollment_closures (
    enrollment_id text PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('cancelled_no_binder', 'terminated')),
    effective_on  date NOT NULL
);

ALTER TABLE idempotency_keys ADD COLUMN business_date date;
