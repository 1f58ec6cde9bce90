"""The catalogue N1-N15 (DOMAIN §6): trigger → notice kind, dedupe keys, facts; rendering in en and es (D14)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from importlib.resources import files
from typing import Any

import pytest
from premiums_contracts.events import (
    AccountDelinquent,
    AutopayCancelled,
    AutopayChanged,
    AutopayDraftScheduled,
    AutopayEnrolled,
    AutopaySuspended,
    BankAccountChanged,
    CoverageReinstated,
    CoverageTerminated,
    EnrollmentCancelledNoBinder,
    InvoiceIssued,
    PaymentReturned,
)
from premiums_notifications.domain import catalogue
from premiums_notifications.domain.catalogue import BillFacts, Notice, PaymentFacts
from premiums_notifications.domain.kinds import KINDS
from premiums_notifications.domain.reminders import OpenBill
from premiums_notifications.renderer import render

MEMBER, ENROLLMENT = "100000000001", "RefID100200"


def _delinquent(notice: str = "past_due_warning") -> AccountDelinquent:
    return AccountDelinquent(
        enrollment_id=ENROLLMENT,
        member_id=MEMBER,
        first_unpaid_month="2027-01",
        amount_past_due=Decimal("624.80"),
        pay_by=date(2027, 1, 23),
        notice=notice,  # type: ignore[arg-type]
    )


def _returned(code: str = "R01", retry: bool = True) -> PaymentReturned:
    return PaymentReturned(
        payment_id="pay-9",
        enrollment_id=ENROLLMENT,
        amount=Decimal("312.40"),
        return_code=code,
        return_reason="x",
        returned_on=date(2027, 1, 25),
        retry_eligible=retry,
    )


def _draft(changed: bool) -> AutopayDraftScheduled:
    return AutopayDraftScheduled(
        mandate_id="mdt-1",
        enrollment_id=ENROLLMENT,
        coverage_month="2027-03",
        draft_date=date(2027, 2, 22),
        amount=Decimal("330.00"),
        amount_changed=changed,
        previous_amount=Decimal("312.40") if changed else None,
    )


def every_notice() -> list[Notice]:
    invoice: dict[str, Any] = {
        "invoice_id": "inv-2",
        "enrollment_id": ENROLLMENT,
        "member_id": MEMBER,
        "coverage_month": "2027-03",
        "due_date": date(2027, 2, 23),
        "amount_due": Decimal("312.40"),
        "past_due": Decimal("0.00"),
        "total_due": Decimal("312.40"),
    }
    return [
        catalogue.invoice_notice(InvoiceIssued(**invoice, binder=True)),
        catalogue.not_effectuated(
            EnrollmentCancelledNoBinder(
                enrollment_id=ENROLLMENT, member_id=MEMBER, coverage_start=date(2027, 2, 1), reason="binder unpaid"
            )
        ),
        catalogue.invoice_notice(InvoiceIssued(**invoice, binder=False)),
        catalogue.due_date_reminder(
            OpenBill(MEMBER, ENROLLMENT, "2027-03", date(2027, 2, 23), "312.40", binder=False), 5
        ),
        catalogue.upcoming_draft(_draft(changed=False), MEMBER),
        catalogue.delinquency_warning(_delinquent()),
        catalogue.delinquency_warning(_delinquent("termination_warning_2")),
        catalogue.terminated(
            CoverageTerminated(
                enrollment_id=ENROLLMENT,
                member_id=MEMBER,
                end_date=date(2027, 1, 31),
                reason="non-payment",
                reinstate_by=date(2027, 4, 30),
            )
        ),
        catalogue.reinstated(
            CoverageReinstated(enrollment_id=ENROLLMENT, member_id=MEMBER, paid_through=date(2027, 5, 31))
        ),
        catalogue.autopay_enrolled(
            AutopayEnrolled(
                mandate_id="mdt-1", enrollment_id=ENROLLMENT, member_id=MEMBER, account_last4="4321", draft_day=22
            )
        ),
        catalogue.autopay_changed(
            AutopayChanged(
                mandate_id="mdt-1",
                enrollment_id=ENROLLMENT,
                member_id=MEMBER,
                account_last4="9876",
                reason="new account",
            ),
            "ce-1",
        ),
        catalogue.autopay_cancelled(
            AutopayCancelled(mandate_id="mdt-1", enrollment_id=ENROLLMENT, member_id=MEMBER, reason="member request")
        ),
        catalogue.autopay_suspended(
            AutopaySuspended(
                mandate_id="mdt-1", enrollment_id=ENROLLMENT, member_id=MEMBER, return_code="R02", reason="closed"
            ),
            "ce-2",
        ),
        catalogue.upcoming_draft(_draft(changed=True), MEMBER),
        catalogue.payment_returned(
            _returned(), MEMBER, PaymentFacts("ach_debit", "2027-02", "4321", "7KQ2"), BillFacts()
        ),
        catalogue.payment_returned(
            _returned("R01", retry=False),
            MEMBER,
            PaymentFacts("check"),
            BillFacts(date(2027, 1, 23), Decimal("312.40")),
        ),
        catalogue.bank_account_changed(
            BankAccountChanged(
                instrument_token="tok-1", enrollment_id=ENROLLMENT, change_code="C01", account_last4="5555"
            ),
            MEMBER,
            "ce-3",
        ),
    ]


def test_the_catalogue_maps_each_trigger_to_its_notice_n1_to_n15() -> None:
    kinds = [n.kind for n in every_notice()]
    assert kinds == [
        "N1",
        "N1C",
        "N3",
        "N5",
        "N5",
        "N6",
        "N7",
        "N8",
        "N9",
        "N10",
        "N11",
        "N11",
        "N11",
        "N12",
        "N13",
        "N14",
        "N15",
    ]


def test_n6_n7_each_warning_of_a_delinquency_has_its_own_key_and_a_redelivery_the_same() -> None:
    keys = {
        catalogue.delinquency_warning(_delinquent(n)).dedupe_key
        for n in ("past_due_warning", "termination_warning_1", "termination_warning_2")
    }
    assert len(keys) == 3
    assert (
        catalogue.delinquency_warning(_delinquent()).dedupe_key
        == catalogue.delinquency_warning(_delinquent()).dedupe_key
    )


def test_every_dedupe_key_names_its_kind_and_member_and_they_are_all_different() -> None:
    notices = every_notice()
    assert all(n.dedupe_key.startswith(f"{n.kind}:{MEMBER}:") for n in notices)
    assert len({n.dedupe_key for n in notices}) == len(notices)


def test_n12_goes_out_only_when_the_draft_amount_changed_otherwise_the_n5_upcoming_draft() -> None:
    assert catalogue.upcoming_draft(_draft(changed=True), MEMBER).kind == "N12"
    assert catalogue.upcoming_draft(_draft(changed=False), MEMBER).kind == "N5"


def test_n13_says_a_retry_is_scheduled_for_r01_and_the_account_is_disabled_for_r02() -> None:
    n01 = catalogue.payment_returned(_returned("R01"), MEMBER, PaymentFacts(), BillFacts())
    n02 = catalogue.payment_returned(_returned("R02", retry=False), MEMBER, PaymentFacts(), BillFacts())
    assert n01.facts["retry_scheduled"] and not n01.facts["account_disabled"]
    assert not n02.facts["retry_scheduled"] and n02.facts["account_disabled"]
    assert n01.facts["return_reason"] == "insufficient_funds" and n02.facts["return_reason"] == "account_closed"


def test_n14_a_returned_check_is_its_own_notice() -> None:
    assert catalogue.payment_returned(_returned(), MEMBER, PaymentFacts("money_order"), BillFacts()).kind == "N14"


@pytest.mark.parametrize("language", ["en", "es"])
def test_d14_every_notice_renders_in_both_languages_with_subject_text_html_and_customer_service(language: str) -> None:
    for notice in every_notice():
        rendered = render(notice.kind, language, {**notice.facts, "first_name": "Ana", "last_name": "Rivera"})
        assert rendered.subject and "\n" not in rendered.subject, notice.kind
        assert "1-877-623-6765" in rendered.text and "TTY 711" in rendered.text, notice.kind
        assert f'<html lang="{language}">' in rendered.html and "<table" in rendered.html, notice.kind
        assert "<pre" not in rendered.html and "1-877-623-6765" in rendered.sms, notice.kind


def test_n6_in_spanish_states_the_amount_the_month_and_the_deadline_in_spanish() -> None:
    notice = catalogue.delinquency_warning(_delinquent())
    rendered = render("N6", "es", {**notice.facts, "first_name": "Ana", "last_name": "Rivera"})
    assert rendered.subject == "Aviso de pago vencido: pague $624.80 antes del 23 de enero de 2027"
    assert "enero de 2027" in rendered.text and "$624.80" in rendered.html
    english = render("N6", "en", {**notice.facts, "first_name": "Ana", "last_name": "Rivera"})
    assert english.subject == "Past due warning: pay $624.80 by January 23, 2027"


def test_n13_in_plain_language_names_the_reason_and_the_retry() -> None:
    notice = catalogue.payment_returned(_returned(), MEMBER, PaymentFacts("ach_debit", "2027-02", "4321"), BillFacts())
    text = render("N13", "en", {**notice.facts, "first_name": "Ana", "last_name": "Rivera"}).text
    assert "not enough money in the account" in text and "try this payment again" in text
    assert "February 2027 is unpaid again" in text and "account ****4321 because" in text


def test_n8_tells_the_member_the_reinstatement_deadline() -> None:
    notice = every_notice()[7]
    for language, phrase in (("en", "April 30, 2027"), ("es", "30 de abril de 2027")):
        assert phrase in render("N8", language, {**notice.facts, "first_name": "Ana", "last_name": "R"}).text


def test_html_escapes_facts_that_came_from_outside() -> None:
    notice = every_notice()[7]
    facts = {**notice.facts, "reason": "<img src=x onerror=alert(1)>", "first_name": "<b>Ana</b>", "last_name": "R"}
    html = render("N8", "en", facts).html
    assert "<img" not in html and "&lt;img" in html and "&lt;b&gt;Ana" in html


def test_d14_every_notice_kind_has_a_template_in_english_and_spanish() -> None:
    templates = files("premiums_notifications") / "templates"
    for language in ("en", "es"):
        assert {f"{kind}.jinja" for kind in KINDS} <= {t.name for t in (templates / language).iterdir()}


@pytest.mark.parametrize("language", ["en", "es"])
def test_d14_remembered_words_give_each_notice_its_own_dates_and_amounts(language: str) -> None:
    """The words macros remember their answers across notices; each notice still gets its own facts."""
    facts = {
        "product": "health",
        "past_due": "0.00",
        "amount_due": "219.32",
        "enrollment_id": ENROLLMENT,
        "billing_account": "732941272",
        "first_name": "Ana",
        "last_name": "Rivera",
    }
    january = render(
        "N3", language, {**facts, "due_date": "2026-12-23", "coverage_month": "2027-01", "total_due": "219.32"}
    )
    february = render(
        "N3", language, {**facts, "due_date": "2027-01-23", "coverage_month": "2027-02", "total_due": "7.00"}
    )
    again = render(
        "N3", language, {**facts, "due_date": "2026-12-23", "coverage_month": "2027-01", "total_due": "219.32"}
    )
    assert again == january and february != january
    assert ("2027" in february.subject) and ("7.00" in february.subject) and ("219.32" not in february.subject)
    assert ("enero" if language == "es" else "January") in february.subject
