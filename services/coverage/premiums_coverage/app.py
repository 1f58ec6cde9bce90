"""coverage's composition root."""

from __future__ import annotations

from premiums_common.consumer import EventConsumer
from premiums_common.service import Service
from premiums_common.settings import Settings
from premiums_contracts.events import (
    EnrollmentCancelled,
    EnrollmentSubmitted,
    PaymentCleared,
    PaymentReturned,
    PaymentSubmitted,
    PremiumChanged,
)
from premiums_contracts.topics import ENROLLMENT_EVENTS, PAYMENTS_EVENTS

from premiums_coverage.api import router
from premiums_coverage.daily import DailyWork
from premiums_coverage.handlers import CONSUMER, CoverageHandlers
from premiums_coverage.policy import CoveragePolicy

CONSUMED_TOPICS = [ENROLLMENT_EVENTS.name, PAYMENTS_EVENTS.name]


def build(settings: Settings | None = None, policy: CoveragePolicy | None = None) -> Service:
    service = Service(
        settings or Settings.from_env("coverage"),
        package="premiums_coverage",
        title="coverage",
        description="Enrollments, invoices, the premium ledger and the enrollment lifecycle.",
    )
    policy = policy or CoveragePolicy.from_env()
    service.app.state.policy = policy
    handlers = CoverageHandlers(service, policy)
    service.consume(
        EventConsumer(
            CONSUMER,
            CONSUMED_TOPICS,
            {
                EnrollmentSubmitted: handlers.enrollment_submitted,
                EnrollmentCancelled: handlers.enrollment_cancelled,
                PremiumChanged: handlers.premium_changed,
                PaymentSubmitted: handlers.payment_submitted,
                PaymentCleared: handlers.payment_cleared,
                PaymentReturned: handlers.payment_returned,
            },
            batch_handlers={PaymentCleared: handlers.payments_cleared, PaymentSubmitted: handlers.payments_submitted},
        )
    )
    daily = DailyWork(service, policy)
    # Order matters within a date: bill first, then binders, then the ladder sees the day's last state.
    service.daily("coverage.monthly_bill", daily.monthly_bill)
    service.daily("coverage.late_binders", daily.late_binders)
    service.daily("coverage.delinquency", daily.delinquency)
    service.include(router)
    service.finish_http()
    return service
