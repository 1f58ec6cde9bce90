-- Contacts learned from enrollment.events (EnrollmentSubmitted, MemberContactChanged).
CREATE TABLE members (
    member_id  text PRIMARY KEY,
    first_name text NOT NULL,
    last_name  text NOT NULL,
    email      text,
    phone      text,
    language   text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'es')),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The delivery log. One row per (member, notice, subject entity): the unique dedupe_key makes a notice
-- exist once whatever Kafka redelivers; the sender moves it from pending to sent or failed.
CREATE TABLE notifications (
    notification_id   text PRIMARY KEY,
    member_id         text        NOT NULL,
    kind              text        NOT NULL,
    dedupe_key        text        NOT NULL UNIQUE,
    channel           text        NOT NULL DEFAULT 'email',
    facts             jsonb       NOT NULL,
    triggered_by      text        NOT NULL,
    correlation_id    text,
    status            text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts          integer     NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    language          text,
    subject           text,
    provider_response text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    sent_at           timestamptz
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_member ON notifications (member_id, created_at);
