-- The vault: the only place full account numbers exist, encrypted (AES-GCM) with the key named by key_id.
CREATE TABLE bank_accounts (
    instrument_token   text PRIMARY KEY,
    member_id          text        NOT NULL,
    routing_number     text        NOT NULL,
    account_ciphertext bytea       NOT NULL,
    key_id             text        NOT NULL,
    account_last4      text        NOT NULL,
    account_type       text        NOT NULL CHECK (account_type IN ('checking', 'savings')),
    holder_name        text        NOT NULL,
    validated_at       timestamptz NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bank_accounts_member ON bank_accounts (member_id);

CREATE TABLE payments (
    payment_id          text PRIMARY KEY,
    confirmation_number text        NOT NULL UNIQUE,
    request_id          text UNIQUE,
    enrollment_id       text        NOT NULL,
    member_id           text        NOT NULL,
    amount              numeric(12, 2) NOT NULL CHECK (amount > 0),
    channel             text        NOT NULL,
    method              text        NOT NULL,
    sec_code            text,
    instrument_token    text REFERENCES bank_accounts,
    account_last4       text,
    coverage_month      text,
    received_at         timestamptz NOT NULL,
    business_date       date        NOT NULL,
    settles_on          date,
    status              text        NOT NULL CHECK (status IN ('accepted', 'cleared', 'returned')),
    cleared_on          date,
    correlation_id      text
);
CREATE INDEX payments_enrollment ON payments (enrollment_id);
CREATE INDEX payments_to_settle ON payments (settles_on) WHERE status = 'accepted';

-- Idempotency-Key records (ARCHITECTURE §3), kept at least 120 days.
CREATE TABLE idempotency_keys (
    principal    text        NOT NULL,
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    status_code  integer     NOT NULL,
    response     jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);

-- What coverage has billed, from coverage.events: which member owns an enrollment and what is due.
CREATE TABLE enrollment_dues (
    enrollment_id   text PRIMARY KEY,
    member_id       text    NOT NULL,
    billing_account text,
    coverage_month  text    NOT NULL,
    due_date        date    NOT NULL,
    total_due       numeric(12, 2) NOT NULL,
    binder          boolean NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
