"""D9 / R4.4 / R4.6 / N12: when AutoPay drafts, for how much, and when the member must be told."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from premiums_autopay.domain.drafts import (
    amount_changed,
    binder_draft_date,
    draft_amount,
    draft_date,
    draft_date_after_notice,
    first_draft_date,
)
from premiums_autopay.domain.mandates import MandateRefused, initial_status, refuse_account_numbers, sec_code_for


def test_r4_4_the_draft_is_the_amount_due_including_past_due() -> None:
    assert draft_amount(Decimal("624.80"), Decimal("0")) == Decimal("624.80")


def test_r4_4_nothing_is_drafted_when_the_bill_is_already_paid() -> None:
    assert draft_amount(Decimal("312.40"), Decimal("312.40")) == Decimal("0")
    assert draft_amount(Decimal("312.40"), Decimal("400.00")) == Decimal("0")


def test_r4_4_a_partial_payment_leaves_the_rest_to_draft_and_never_more_than_billed() -> None:
    assert draft_amount(Decimal("312.40"), Decimal("100.00")) == Decimal("212.40")
    assert draft_amount(Decimal("312.40"), Decimal("-50.00")) == Decimal("312.40")


def test_d9_the_draft_is_on_the_22nd_the_day_before_the_23rd_due_date() -> None:
    assert draft_date(date(2027, 4, 23)) == date(2027, 4, 22)
    assert draft_date(date(2027, 4, 23), 15) == date(2027, 4, 15)


def test_d9_a_draft_is_never_after_an_earlier_overridden_due_date() -> None:
    assert draft_date(date(2027, 2, 10)) == date(2027, 2, 10)


def test_n12_the_first_draft_is_not_a_varying_amount() -> None:
    assert not amount_changed(Decimal("312.40"), None)
    assert not amount_changed(Decimal("312.40"), Decimal("312.40"))
    assert amount_changed(Decimal("350.00"), Decimal("312.40"))


def test_n12_a_bill_on_the_1st_leaves_21_days_so_the_22nd_stands() -> None:
    assert draft_date_after_notice(date(2027, 4, 22), date(2027, 4, 1), True) == date(2027, 4, 22)


def test_n12_a_late_bill_with_a_changed_amount_pushes_the_draft_to_10_days_after_the_notice() -> None:
    assert draft_date_after_notice(date(2027, 4, 22), date(2027, 4, 15), True) == date(2027, 4, 25)
    assert draft_date_after_notice(date(2027, 4, 22), date(2027, 4, 15), False) == date(2027, 4, 22)


def test_r4_6_autopay_set_up_before_the_binder_drafts_the_next_day() -> None:
    assert binder_draft_date(date(2027, 1, 10)) == date(2027, 1, 11)


def test_d9_portal_mandates_are_web_recurring_and_paper_forms_are_ppd() -> None:
    assert sec_code_for("portal") == ("WEB", "R")
    assert sec_code_for("paper") == ("PPD", "R")


def test_r5_4_a_mandate_is_active_only_once_its_account_is_validated() -> None:
    assert initial_status(True) == "active"
    assert initial_status(False) == "pending_validation"


@pytest.mark.parametrize("field", ["account_number", "routing_number"])
def test_autopay_refuses_account_numbers_in_plain_words(field: str) -> None:
    with pytest.raises(MandateRefused, match="instrument_token"):
        refuse_account_numbers({"enrollment_id": "RefID1", field: "000123456789"})
    refuse_account_numbers({"enrollment_id": "RefID1", "instrument_token": "tok_1"})


def test_d9_autopay_set_up_before_the_draft_day_drafts_on_it_and_after_it_the_next_day() -> None:
    assert first_draft_date(date(2027, 4, 22), date(2027, 4, 10)) == date(2027, 4, 22)
    assert first_draft_date(date(2027, 4, 22), date(2027, 4, 22)) == date(2027, 4, 23)
    assert first_draft_date(None, date(2027, 4, 10)) == date(2027, 4, 11)
