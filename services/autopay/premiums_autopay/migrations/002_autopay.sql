-- AutoPay: mandates (by instrument token only, never an account number), their Reg E / Nacha authorization
-- records, and every draft asked of payments (D9, D10, R4.3–R4.6, R5.9–R5.11).

ALTER TABLE billing_state
    ADD COLUMN binder         boolean NOT NULL DEFAULT true,
    ADD COLUMN draft_on       date,
    ADD COLUMN delinquent_pay_by date;

CREATE TABLE mandates (
    mandate_id        text PRIMARY KEY,
    enrollment_id     text NOT NULL,
    member_id         text NOT NULL,
    instrument_token  text NOT NULL,
    account_last4     text NOT NULL,
    account_type      text,
    channel           text NOT NULL CHECK (channel IN ('portal', 'paper')),
    sec_code          text NOT NULL CHECK (sec_code IN ('WEB', 'PPD')),
    payment_type      text NOT NULL CHECK (payment_type IN ('R', 'S')),
    status            text NOT NULL CHECK (status IN ('pending_validation', 'active', 'suspended', 'revoked', 'cancelled')),
    status_reason     text,
    flag              text,
    draft_day         integer NOT NULL CHECK (draft_day BETWEEN 1 AND 28),
    last_draft_amount numeric(12, 2),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- R4.5: one live mandate per billing account (enrollment; health and dental are separate enrollments).
CREATE UNIQUE INDEX mandates_one_live_per_enrollment ON mandates (enrollment_id)
    WHERE status IN ('pending_validation', 'active', 'suspended');
CREATE INDEX mandates_by_token ON mandates (instrument_token);

-- Reg E 1005.10(b) and Nacha: what was authorized, when, how, and from where; one row per (re-)authorization.
CREATE TABLE mandate_authorizations (
    id                          bigserial PRIMARY KEY,
    mandate_id                  text NOT NULL REFERENCES mandates (mandate_id),
    authorization_text_version  text NOT NULL,
    authorized_at               timestamptz NOT NULL,
    authorized_by               text NOT NULL,
    channel                     text NOT NULL,
    sec_code                    text NOT NULL,
    instrument_token            text NOT NULL,
    account_last4               text NOT NULL,
    ip_address                  text,
    user_agent                  text
);

-- Every draft. attempt 0 is the month's draft (monthly or binder), attempt 1 its single automatic retry
-- (D10): the unique constraint is what makes a replayed draft day, a restart or a second replica harmless.
CREATE TABLE drafts (
    draft_id          text PRIMARY KEY,  -- the RequestPayment request_id
    mandate_id        text NOT NULL REFERENCES mandates (mandate_id),
    enrollment_id     text NOT NULL,
    coverage_month    text NOT NULL,
    attempt           integer NOT NULL CHECK (attempt IN (0, 1)),
    kind              text NOT NULL CHECK (kind IN ('monthly', 'binder', 'retry')),
    amount            numeric(12, 2) NOT NULL CHECK (amount > 0),
    draft_on          date NOT NULL,
    instrument_token  text NOT NULL,
    sec_code          text NOT NULL,
    payment_type      text NOT NULL,
    reinitiation_of   text,
    status            text NOT NULL CHECK (status IN ('scheduled', 'requested', 'submitted', 'returned', 'skipped', 'cancelled')),
    payment_id        text UNIQUE,
    return_code       text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT drafts_once_per_mandate_month UNIQUE (mandate_id, coverage_month, attempt)
);
CREATE INDEX drafts_scheduled ON drafts (draft_on) WHERE status = 'scheduled';
CREATE INDEX drafts_by_enrollment ON drafts (enrollment_id, draft_on);
