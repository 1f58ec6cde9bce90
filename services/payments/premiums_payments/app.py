"""payments' composition root."""

from __future__ import annotations

from premiums_common.consumer import EventConsumer
from premiums_common.service import Service
from premiums_common.settings import Settings
from premiums_contracts.events import InvoiceIssued, RequestPayment
from premiums_contracts.topics import COVERAGE_EVENTS, PAYMENTS_COMMANDS

from premiums_payments.adapters.sandbox_bank import SandboxGateway
from premiums_payments.adapters.vault import Vault
from premiums_payments.api import router
from premiums_payments.handlers import Payments

CONSUMED_TOPICS = [COVERAGE_EVENTS.name, PAYMENTS_COMMANDS.name]


def build(settings: Settings | None = None) -> Service:
    service = Service(
        settings or Settings.from_env("payments"),
        package="premiums_payments",
        title="payments",
        description="Where money enters: the member portal, guests, staff, AutoPay drafts, the bank.",
    )
    payments = Payments(service, Vault(service.settings.data_key), SandboxGateway())
    service.app.state.payments = payments
    service.consume(
        EventConsumer(
            "payments",
            CONSUMED_TOPICS,
            {InvoiceIssued: payments.invoice_issued, RequestPayment: payments.payment_requested},
        )
    )
    service.daily("settlement", payments.settle)
    service.include(router)
    service.finish_http()
    return service
