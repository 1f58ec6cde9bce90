"""notifications' composition root."""

from __future__ import annotations

from premiums_common.consumer import EventConsumer
from premiums_common.service import Service
from premiums_common.settings import Settings
from premiums_contracts.events import (
    CoverageActivated,
    EnrollmentSubmitted,
    InvoiceIssued,
    MemberContactChanged,
    PaymentSubmitted,
)
from premiums_contracts.topics import COVERAGE_EVENTS, ENROLLMENT_EVENTS, PAYMENTS_EVENTS

from premiums_notifications import handlers
from premiums_notifications.api import router
from premiums_notifications.email import SmtpChannel
from premiums_notifications.sender import Sender

CONSUMED_TOPICS = [ENROLLMENT_EVENTS.name, PAYMENTS_EVENTS.name, COVERAGE_EVENTS.name]


def build(settings: Settings | None = None) -> Service:
    service = Service(
        settings or Settings.from_env("notifications"),
        package="premiums_notifications",
        title="notifications",
        description="Every notice a member must get, exactly once, in their language.",
    )
    service.consume(
        EventConsumer(
            "notifications",
            CONSUMED_TOPICS,
            {
                EnrollmentSubmitted: handlers.enrollment_submitted,
                MemberContactChanged: handlers.contact_changed,
                InvoiceIssued: handlers.invoice_issued,
                PaymentSubmitted: handlers.payment_submitted,
                CoverageActivated: handlers.coverage_activated,
            },
        )
    )
    sender = Sender(service, SmtpChannel(service.settings.smtp_host, service.settings.smtp_port))
    service.background.append(sender.run)
    service.include(router)
    service.finish_http()
    return service
