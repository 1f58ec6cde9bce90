"""autopay's composition root."""

from __future__ import annotations

import os

from premiums_common.consumer import EventConsumer
from premiums_common.service import Service
from premiums_common.settings import Settings
from premiums_contracts.events import (
    AccountDelinquent,
    BankAccountChanged,
    CoverageActivated,
    CoverageReinstated,
    CoverageTerminated,
    EnrollmentCancelledNoBinder,
    InvoiceIssued,
    PaymentReturned,
    PaymentSubmitted,
)
from premiums_contracts.topics import COVERAGE_EVENTS, PAYMENTS_EVENTS

from premiums_autopay.adapters.payments_client import PaymentsClient
from premiums_autopay.api import router
from premiums_autopay.domain.drafts import DEFAULT_DRAFT_DAY
from premiums_autopay.handlers import COVERAGE_STATUS, Autopay

CONSUMED_TOPICS = [COVERAGE_EVENTS.name, PAYMENTS_EVENTS.name]


def draft_day_from_env() -> int:
    day = int(os.environ.get("AUTOPAY_DRAFT_DAY", DEFAULT_DRAFT_DAY))
    if not 1 <= day <= 28:
        raise ValueError(f"AUTOPAY_DRAFT_DAY must be between 1 and 28, not {day}")
    return day


def build(settings: Settings | None = None) -> Service:
    service = Service(
        settings or Settings.from_env("autopay"),
        package="premiums_autopay",
        title="autopay",
        description="AutoPay mandates and the monthly draft schedule.",
    )
    autopay = Autopay(service.source, service.clock, draft_day_from_env())
    service.app.state.autopay = autopay
    service.app.state.payments_client = PaymentsClient()
    service.consume(
        EventConsumer(
            "autopay",
            CONSUMED_TOPICS,
            {
                InvoiceIssued: autopay.invoice_issued,
                PaymentSubmitted: autopay.payment_submitted,
                PaymentReturned: autopay.payment_returned,
                BankAccountChanged: autopay.bank_account_changed,
                CoverageActivated: autopay.coverage_event,
                CoverageTerminated: autopay.coverage_event,
                EnrollmentCancelledNoBinder: autopay.coverage_event,
                CoverageReinstated: autopay.coverage_event,
                AccountDelinquent: autopay.account_delinquent,
            },
            batch_handlers={
                InvoiceIssued: autopay.invoices_issued,
                PaymentSubmitted: autopay.payments_submitted,
                AccountDelinquent: autopay.accounts_delinquent,
                **dict.fromkeys(COVERAGE_STATUS, autopay.coverage_changed),
            },
        )
    )
    service.daily("autopay.drafts", autopay.draft_day_job)
    service.include(router)
    service.finish_http()
    return service
