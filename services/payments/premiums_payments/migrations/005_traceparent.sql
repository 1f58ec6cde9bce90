-- The W3C trace context of the request that accepted a payment: its clearing, return or NOC joins that trace.
ALTER TABLE payments ADD COLUMN traceparent text;
