CREATE TABLE enrollments (
    enrollment_id   text PRIMARY KEY,
    member_id       text        NOT NULL,
    billing_account text        NOT NULL,
    product         text        NOT NULL CHECK (product IN ('health', 'dental')),
    plan_id         text        NOT NULL,
    plan_name       text        NOT NULL,
    subsidy         text        NOT NULL CHECK (subsidy IN ('none', 'aptc', 'connectorcare')),
    coverage_start  date        NOT NULL,
    coverage_end    date        NOT NULL,
    monthly_premium numeric(12, 2) NOT NULL,
    aptc_amount     numeric(12, 2) NOT NULL,
    binder_due_date date        NOT NULL,
    status          text        NOT NULL CHECK (status IN
                        ('pending_binder', 'active', 'delinquent', 'terminated', 'cancelled')),
    paid_through    date,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX enrollments_member ON enrollments (member_id);

CREATE TABLE invoices (
    invoice_id     text PRIMARY KEY,
    enrollment_id  text NOT NULL REFERENCES enrollments,
    coverage_month text NOT NULL,
    due_date       date NOT NULL,
    amount_due     numeric(12, 2) NOT NULL,
    past_due       numeric(12, 2) NOT NULL,
    total_due      numeric(12, 2) NOT NULL,
    binder         boolean NOT NULL,
    issued_on      date NOT NULL,
    UNIQUE (enrollment_id, coverage_month)
);

-- The premium ledger: one charge per coverage month, one row per payment received.
CREATE TABLE charges (
    enrollment_id  text NOT NULL REFERENCES enrollments,
    coverage_month text NOT NULL,
    amount         numeric(12, 2) NOT NULL,
    PRIMARY KEY (enrollment_id, coverage_month)
);

CREATE TABLE payments_received (
    payment_id    text PRIMARY KEY,
    enrollment_id text NOT NULL REFERENCES enrollments,
    amount        numeric(12, 2) NOT NULL CHECK (amount > 0),
    accepted_on   date NOT NULL,
    status        text NOT NULL CHECK (status IN ('accepted', 'cleared', 'returned')),
    cleared_on    date
);
CREATE INDEX payments_received_enrollment ON payments_received (enrollment_id);
