"""autopay's composition root."""

from __future__ import annotations

from premiums_common.consumer import EventConsumer
from premiums_common.service import Service
from premiums_common.settings import Settings
from premiums_contracts.events import CoverageActivated, InvoiceIssued, PaymentSubmitted
from premiums_contracts.topics import COVERAGE_EVENTS, PAYMENTS_EVENTS

from premiums_autopay import handlers
from premiums_autopay.api import router

CONSUMED_TOPICS = [COVERAGE_EVENTS.name, PAYMENTS_EVENTS.name]


def build(settings: Settings | None = None) -> Service:
    service = Service(
        settings or Settings.from_env("autopay"),
        package="premiums_autopay",
        title="autopay",
        description="AutoPay mandates and the monthly draft schedule.",
    )
    service.consume(
        EventConsumer(
            "autopay",
            CONSUMED_TOPICS,
            {
                InvoiceIssued: handlers.invoice_issued,
                PaymentSubmitted: handlers.payment_submitted,
                CoverageActivated: handlers.coverage_activated,
            },
        )
    )
    service.include(router)
    service.finish_http()
    return service
