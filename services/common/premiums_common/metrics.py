"""Prometheus metrics every service exposes on `/metrics`."""

from prometheus_client import Counter, Histogram

EVENTS_HANDLED = Counter("premiums_events_handled_total", "Events handled", ["consumer", "ce_type"])
DEAD_LETTERS = Counter("premiums_dead_letters_total", "Records sent to a dead-letter topic", ["consumer", "topic"])
BATCH_SIZE = Histogram(
    "premiums_consumer_batch_records",
    "Records per consumed batch",
    ["consumer"],
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000),
)
BATCH_SECONDS = Histogram("premiums_consumer_batch_seconds", "Time to process one consumed batch", ["consumer"])
HTTP_REQUESTS = Histogram("premiums_http_request_seconds", "HTTP request latency", ["method", "route", "status"])
NOTICES_SENT = Counter("premiums_notices_sent_total", "Notices delivered to members", ["kind", "channel"])
