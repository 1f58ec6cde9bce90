"""payments' composition root."""

from __future__ import annotations

import os
from pathlib import Path

from premiums_common.consumer import EventConsumer
from premiums_common.service import Service
from premiums_common.settings import Settings
from premiums_contracts.events import (
    CoverageReinstated,
    CoverageTerminated,
    EnrollmentCancelledNoBinder,
    EnrollmentSubmitted,
    InvoiceIssued,
    MemberContactChanged,
    ReinstatementRequested,
    RequestPayment,
)
from premiums_contracts.topics import COVERAGE_EVENTS, ENROLLMENT_EVENTS, PAYMENTS_COMMANDS

from premiums_payments.adapters.gateway import BankGateway
from premiums_payments.adapters.nacha import NachaGateway
from premiums_payments.adapters.sandbox_bank import SandboxGateway
from premiums_payments.adapters.vault import Vault
from premiums_payments.api import router
from premiums_payments.handlers import Payments
from premiums_payments.monitoring import return_rate_gauges

# enrollment.events is consumed for guest identity (R4.2): straight from the system of record.
CONSUMED_TOPICS = [COVERAGE_EVENTS.name, PAYMENTS_COMMANDS.name, ENROLLMENT_EVENTS.name]


def bank_gateway(vault: Vault) -> BankGateway:
    """`PREMIUMS_BANK_GATEWAY`: `sandbox` (default) or `nacha` (files under `PREMIUMS_BANK_DIR`: debits go to
    `outbound/`, the bank's return and NOC files are read from `inbound/`)."""
    choice = os.environ.get("PREMIUMS_BANK_GATEWAY", "sandbox")
    if choice == "nacha":
        folder = Path(os.environ.get("PREMIUMS_BANK_DIR", ".local/bank"))
        return NachaGateway(vault, folder / "outbound", inbound=folder / "inbound")
    if choice != "sandbox":
        raise ValueError(f"PREMIUMS_BANK_GATEWAY must be 'sandbox' or 'nacha', not {choice!r}")
    return SandboxGateway(vault)


def build(settings: Settings | None = None) -> Service:
    service = Service(
        settings or Settings.from_env("payments"),
        package="premiums_payments",
        title="payments",
        description="Where money enters: the member portal, guests, staff, AutoPay drafts, the bank.",
    )
    vault = Vault(service.settings.data_key)
    payments = Payments(service, vault, bank_gateway(vault))
    service.app.state.payments = payments
    service.consume(
        EventConsumer(
            "payments",
            CONSUMED_TOPICS,
            {
                InvoiceIssued: payments.invoice_issued,
                RequestPayment: payments.payment_requested,
                EnrollmentCancelledNoBinder: payments.enrollment_cancelled,
                CoverageTerminated: payments.coverage_terminated,
                CoverageReinstated: payments.coverage_reinstated,
                ReinstatementRequested: payments.reinstatement_requested,
                EnrollmentSubmitted: payments.enrollment_submitted,
                MemberContactChanged: payments.member_contact_changed,
            },
            batch_handlers={InvoiceIssued: payments.invoices_issued},
        )
    )
    service.daily("settlement", payments.settle)
    service.daily("idempotency-purge", payments.purge_idempotency_keys)
    service.scrape_hooks.append(return_rate_gauges(service.clock))
    service.include(router)
    service.finish_http()
    return service
