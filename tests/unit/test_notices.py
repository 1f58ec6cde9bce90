"""The notice catalogue (DOMAIN §6: N1, N2, N4) and the renderer (D14: English and Spanish)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from premiums_contracts.events import CoverageActivated, InvoiceIssued, PaymentSubmitted
from premiums_notifications.domain.catalogue import binder_invoice, coverage_activated, payment_confirmation
from premiums_notifications.renderer import render

CONFIRMATION = "7KQ2-M9XD-4RA"


def _payment(payment_id: str = "pay-1", **changes: Any) -> PaymentSubmitted:
    fields: dict[str, Any] = {
        "payment_id": payment_id,
        "confirmation_number": CONFIRMATION,
        "enrollment_id": "RefID100200",
        "member_id": "100000000001",
        "amount": Decimal("312.40"),
        "channel": "portal",
        "method": "ach_debit",
        "account_last4": "1234",
        "received_at": datetime(2026, 4, 22, 18, 30, tzinfo=UTC),
        "business_date": date(2026, 4, 22),
        "coverage_month": "2026-05",
    }
    return PaymentSubmitted.model_validate({**fields, **changes})


def _invoice(binder: bool, **changes: Any) -> InvoiceIssued:
    fields: dict[str, Any] = {
        "invoice_id": "inv-1",
        "enrollment_id": "RefID100200",
        "member_id": "100000000001",
        "coverage_month": "2026-02",
        "due_date": date(2026, 1, 23),
        "amount_due": Decimal("312.40"),
        "past_due": Decimal("0.00"),
        "total_due": Decimal("312.40"),
        "binder": binder,
        "billing_account": "712345678",
        "product": "health",
    }
    return InvoiceIssued.model_validate({**fields, **changes})


def _activated(**changes: Any) -> CoverageActivated:
    fields: dict[str, Any] = {
        "enrollment_id": "RefID100200",
        "member_id": "100000000001",
        "coverage_start": date(2026, 2, 1),
        "paid_through": date(2026, 2, 28),
        "payment_id": "pay-1",
        "plan_name": "ConnectorCare 2B",
        "product": "health",
    }
    return CoverageActivated.model_validate({**fields, **changes})


def _n4_facts(first_name: str = "Ana") -> dict[str, Any]:
    return {**payment_confirmation(_payment()).facts, "first_name": first_name, "last_name": "Silva"}


def test_n4_the_same_payment_delivered_twice_gives_the_same_dedupe_key() -> None:
    first, again = payment_confirmation(_payment()), payment_confirmation(_payment())
    assert first.kind == "N4"
    assert first.dedupe_key == again.dedupe_key


def test_n4_each_payment_has_its_own_dedupe_key_even_for_the_same_month() -> None:
    assert payment_confirmation(_payment("pay-1")).dedupe_key != payment_confirmation(_payment("pay-2")).dedupe_key


def test_n4_facts_carry_confirmation_amount_month_and_last4_received_april_22_2026() -> None:
    notice = payment_confirmation(_payment())
    assert notice.member_id == "100000000001"
    assert notice.facts["confirmation_number"] == CONFIRMATION
    assert notice.facts["amount"] == "312.40"
    assert notice.facts["coverage_month"] == "2026-05"
    assert notice.facts["account_last4"] == "1234"
    assert notice.facts["received_on"] == "2026-04-22"


def test_n1_a_binder_invoice_for_february_2026_due_january_23_2026_is_an_enrollment_bill() -> None:
    notice = binder_invoice(_invoice(binder=True))
    assert notice is not None
    assert notice.kind == "N1"
    assert notice.facts["due_date"] == "2026-01-23"
    assert notice.facts["total_due"] == "312.40"
    assert notice.dedupe_key == binder_invoice(_invoice(binder=True)).dedupe_key  # type: ignore[union-attr]


def test_n1_is_only_for_binder_invoices_not_the_monthly_bill() -> None:
    assert binder_invoice(_invoice(binder=False, coverage_month="2026-03", due_date=date(2026, 2, 23))) is None


def test_n2_welcome_letter_is_once_per_enrollment() -> None:
    first = coverage_activated(_activated())
    replay = coverage_activated(_activated(payment_id="pay-2", paid_through=date(2026, 3, 31)))
    other = coverage_activated(_activated(enrollment_id="RefID100300"))
    assert first.kind == "N2"
    assert first.dedupe_key == replay.dedupe_key
    assert first.dedupe_key != other.dedupe_key
    assert first.facts["coverage_start"] == "2026-02-01"


def test_d14_n4_in_spanish_has_a_spanish_subject_with_the_confirmation_number() -> None:
    rendered = render("N4", "es", _n4_facts())
    assert "Pago recibido" in rendered.subject
    assert CONFIRMATION in rendered.subject
    for body in (rendered.text, rendered.html):
        assert "312.40" in body
        assert "****1234" in body
        assert CONFIRMATION in body
    assert 'lang="es"' in rendered.html


def test_d14_n4_english_and_spanish_differ() -> None:
    english, spanish = render("N4", "en", _n4_facts()), render("N4", "es", _n4_facts())
    assert english.subject != spanish.subject
    assert english.text != spanish.text
    assert "Payment received" in english.subject
    assert 'lang="en"' in english.html


def test_d14_an_unknown_language_falls_back_to_english() -> None:
    assert render("N4", "fr", _n4_facts()) == render("N4", "en", _n4_facts())


def test_n4_html_escapes_a_script_tag_in_the_first_name() -> None:
    rendered = render("N4", "en", _n4_facts(first_name="<script>alert(1)</script>"))
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
