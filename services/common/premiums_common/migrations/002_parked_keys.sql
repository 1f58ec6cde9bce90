-- Keys held behind a dead-lettered record (ARCHITECTURE §6): later records of the same key wait in the
-- dead-letter topic too, in order, until `premiums dlq replay` brings them back. `held` counts them.
CREATE TABLE parked_keys (
    consumer  text        NOT NULL,
    topic     text        NOT NULL,
    key       text        NOT NULL,
    held      integer     NOT NULL CHECK (held > 0),
    parked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, topic, key)
);
