-- The trace of the event that queued a notice: the delivery joins it (one trace from payment to email).
ALTER TABLE notifications ADD COLUMN traceparent text;
