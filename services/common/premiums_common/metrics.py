"""Prometheus metrics every service exposes on `/metrics`."""

from prometheus_client import Counter, Histogram

EVENTS_HANDLED = Counter("premiums_events_handled_total", "Events handled", ["consumer", "ce_type"])
DEAD_LETTERS = Counter("premiums_dead_letters_total", "Records sent to a dead-letter topic", ["consumer", "topic"])
HTTP_REQUESTS = Histogram("premiums_http_request_seconds", "HTTP request latency", ["method", "route", "status"])
