"""notifications' composition root."""

from __future__ import annotations

import os
from pathlib import Path

from premiums_common.consumer import EventConsumer, Handler
from premiums_common.service import Service
from premiums_common.settings import Settings
from premiums_contracts.events import (
    AccountDelinquent,
    AutopayCancelled,
    AutopayChanged,
    AutopayDraftScheduled,
    AutopayEnrolled,
    AutopaySuspended,
    BankAccountChanged,
    CoverageActivated,
    CoverageReinstated,
    CoverageTerminated,
    EnrollmentCancelledNoBinder,
    EnrollmentSubmitted,
    Event,
    InvoiceIssued,
    MemberContactChanged,
    PaymentApplied,
    PaymentReturned,
    PaymentSubmitted,
)
from premiums_contracts.topics import AUTOPAY_EVENTS, COVERAGE_EVENTS, ENROLLMENT_EVENTS, PAYMENTS_EVENTS

from premiums_notifications import handlers
from premiums_notifications.api import router
from premiums_notifications.channels import Channel, LocalSmsSink, PrintQueue, SmsChannel
from premiums_notifications.email import SmtpChannel
from premiums_notifications.renderer import RenderPool
from premiums_notifications.sender import Sender

CONSUMED_TOPICS = [ENROLLMENT_EVENTS.name, PAYMENTS_EVENTS.name, COVERAGE_EVENTS.name, AUTOPAY_EVENTS.name]

HANDLERS: dict[type[Event], Handler] = {
    EnrollmentSubmitted: handlers.enrollment_submitted,
    MemberContactChanged: handlers.contact_changed,
    InvoiceIssued: handlers.invoice_issued,
    CoverageActivated: handlers.coverage_activated,
    EnrollmentCancelledNoBinder: handlers.cancelled_no_binder,
    PaymentApplied: handlers.payment_applied,
    AccountDelinquent: handlers.account_delinquent,
    CoverageTerminated: handlers.coverage_terminated,
    CoverageReinstated: handlers.coverage_reinstated,
    PaymentSubmitted: handlers.payment_submitted,
    PaymentReturned: handlers.payment_returned,
    BankAccountChanged: handlers.bank_account_changed,
    AutopayEnrolled: handlers.autopay_enrolled,
    AutopayChanged: handlers.autopay_changed,
    AutopayCancelled: handlers.autopay_cancelled,
    AutopaySuspended: handlers.autopay_suspended,
    AutopayDraftScheduled: handlers.draft_scheduled,
}


def local_folder(settings: Settings) -> Path:
    """`.local/` beside the Maildir locally; `PREMIUMS_SMS_DIR` / `PREMIUMS_PRINT_DIR` move each channel."""
    return Path(settings.maildir).parent if settings.maildir else Path(".local")


def build_channels(settings: Settings) -> dict[str, Channel]:
    local = local_folder(settings)
    return {
        "email": SmtpChannel(settings.smtp_host, settings.smtp_port, connections=settings.smtp_connections),
        "sms": SmsChannel(LocalSmsSink(Path(os.environ.get("PREMIUMS_SMS_DIR", local / "sms")))),
        "print": PrintQueue(Path(os.environ.get("PREMIUMS_PRINT_DIR", local / "print"))),
    }


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
            HANDLERS,
            unit_of_work=handlers.notices_per_batch,
            batch_handlers={
                InvoiceIssued: handlers.invoices_issued,
                PaymentApplied: handlers.payments_applied,
                PaymentSubmitted: handlers.payments_submitted,
            },
        )
    )
    service.daily("notifications.reminders", handlers.send_reminders)
    sender = Sender(
        lambda: service.pool,
        service.source,
        build_channels(service.settings),
        database_url=service.settings.database_url,
        renderer=RenderPool(service.settings.render_workers),
    )
    service.background.append(sender.run)
    service.include(router)
    service.finish_http()
    return service
