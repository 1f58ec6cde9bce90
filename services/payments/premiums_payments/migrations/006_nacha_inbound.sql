-- Issue 3: the bank's return and NOC files (R5.9, R5.14, ARCHITECTURE §5).

-- A return or NOC names the debit by its trace number alone, so each filed debit keeps its trace, and the
-- sequence part (7 digits) is unique across files until it wraps.
CREATE SEQUENCE nacha_trace_sequence MINVALUE 1 MAXVALUE 9999999 CYCLE;
ALTER TABLE payments ADD COLUMN trace_number text;
CREATE INDEX payments_trace_number ON payments (trace_number) WHERE trace_number IS NOT NULL;

-- A NOC's corrected data may hold an account number: it is sealed by the vault, like the account itself.
ALTER TABLE bank_reports
    ADD COLUMN corrected_key_id text,
    ADD COLUMN corrected_data   bytea;

-- The last NOC applied to a vaulted account: its change code and the business date it was applied.
ALTER TABLE bank_accounts
    ADD COLUMN corrected_by text,
    ADD COLUMN corrected_on date;

-- Every inbound bank file, by its content: read once whatever its name; a refused file and any entry that
-- could not be applied are listed for staff in `problems` (never with an account number).
CREATE TABLE bank_files (
    sha256      text PRIMARY KEY,
    file_name   text        NOT NULL,
    received_on date        NOT NULL,
    outcome     text        NOT NULL CHECK (outcome IN ('read', 'rejected')),
    returns     integer     NOT NULL,
    notices     integer     NOT NULL,
    problems    jsonb       NOT NULL,
    read_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bank_files_received ON bank_files (received_on);
