"""coverage's composition root."""

from __future__ import annotations

from premiums_common.consumer import EventConsumer
from premiums_common.service import Service
from premiums_common.settings import Settings
from premiums_contracts.events import EnrollmentSubmitted, PaymentCleared, PaymentSubmitted
from premiums_contracts.topics import ENROLLMENT_EVENTS, PAYMENTS_EVENTS

from premiums_coverage.api import router
from premiums_coverage.handlers import CoverageHandlers

CONSUMED_TOPICS = [ENROLLMENT_EVENTS.name, PAYMENTS_EVENTS.name]


def build(settings: Settings | None = None) -> Service:
    service = Service(
        settings or Settings.from_env("coverage"),
        package="premiums_coverage",
        title="coverage",
        description="Enrollments, invoices, the premium ledger and the enrollment lifecycle.",
    )
    handlers = CoverageHandlers(service)
    service.consume(
        EventConsumer(
            "coverage",
            CONSUMED_TOPICS,
            {
                EnrollmentSubmitted: handlers.enrollment_submitted,
                PaymentSubmitted: handlers.payment_submitted,
                PaymentCleared: handlers.payment_cleared,
            },
        )
    )
    service.include(router)
    service.finish_http()
    return service
