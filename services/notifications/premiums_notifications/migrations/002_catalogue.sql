-- Issue 6: the whole catalogue, several channels, preferences and reminders.

-- One notice per (dedupe key, channel): the same notice may go by e-mail and on paper, each exactly once.
ALTER TABLE notifications DROP CONSTRAINT notifications_dedupe_key_key;
ALTER TABLE notifications ADD CONSTRAINT notifications_once_per_channel UNIQUE (dedupe_key, channel);
ALTER TABLE notifications ADD CONSTRAINT notifications_channel CHECK (channel IN ('email', 'sms', 'print'));

-- D14: what the member chose (language, channels, paper, reminders); absent means the defaults.
CREATE TABLE preferences (
    member_id         text PRIMARY KEY,
    language          text CHECK (language IN ('en', 'es')),
    channels          text[]      NOT NULL DEFAULT '{email}',
    paperless         boolean     NOT NULL DEFAULT true,
    reminders_opt_out boolean     NOT NULL DEFAULT false,
    updated_by        text        NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Whose enrollment is it: events without a member_id (autopay drafts, NOCs, returns) are addressed from here.
CREATE TABLE enrollments (
    enrollment_id   text PRIMARY KEY,
    member_id       text NOT NULL,
    billing_account text,
    product         text,
    plan_name       text
);

-- Bills issued (InvoiceIssued), so reminders know what is due when (D13).
CREATE TABLE bills (
    enrollment_id  text    NOT NULL,
    coverage_month text    NOT NULL,
    member_id      text    NOT NULL,
    due_date       date    NOT NULL,
    total_due      numeric(12, 2) NOT NULL,
    binder         boolean NOT NULL,
    PRIMARY KEY (enrollment_id, coverage_month)
);
CREATE INDEX bills_due ON bills (due_date);

-- Payments seen (PaymentSubmitted / PaymentApplied / PaymentReturned): a month with a payment that was not
-- returned is paid and gets no reminder (D13). Either event may arrive first.
CREATE TABLE payments (
    payment_id          text PRIMARY KEY,
    enrollment_id       text          NOT NULL,
    method              text,
    coverage_month      text,
    amount              numeric(12, 2),
    account_last4       text,
    confirmation_number text,
    months_paid         text[]        NOT NULL DEFAULT '{}',
    returned            boolean       NOT NULL DEFAULT false
);
CREATE INDEX payments_enrollment ON payments (enrollment_id);

-- Enrollments on AutoPay get the upcoming-draft notice instead of reminders (D13).
CREATE TABLE autopay (
    enrollment_id text PRIMARY KEY,
    mandate_id    text    NOT NULL,
    active        boolean NOT NULL
);
