-- Runtime tables every service has: the transactional outbox, the inbox, the business date.

CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    topic       text        NOT NULL,
    key         text        NOT NULL,
    ce_id       uuid        NOT NULL UNIQUE,
    headers     jsonb       NOT NULL,
    payload     bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Processed CloudEvents ids per consumer, written in the transaction of the effect (exactly-once effects).
CREATE TABLE inbox (
    consumer     text        NOT NULL,
    ce_id        text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, ce_id)
);

-- The business date this service last saw on clock.events (PREMIUMS_CLOCK=simulated).
CREATE TABLE business_clock (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    business_date date NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Daily work done, so a replayed BusinessDateAdvanced never runs a job twice (idempotent per job and day).
CREATE TABLE daily_runs (
    job           text NOT NULL,
    business_date date NOT NULL,
    finished_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job, business_date)
);
