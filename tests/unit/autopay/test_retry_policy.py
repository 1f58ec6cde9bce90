"""D10 / R5.9–R5.11: what each ACH return code does to an AutoPay draft and its mandate."""

from __future__ import annotations

from datetime import date

import pytest
from premiums_autopay.domain.returns import RetryDecision, ReturnAction, action_for, retry_decision
from premiums_common.banking_days import add_banking_days

FRIDAY = date(2027, 3, 19)
WEDNESDAY = date(2027, 3, 24)


def decide(code: str = "R01", **overrides: object) -> RetryDecision:
    facts: dict[str, object] = {
        "return_code": code,
        "returned_on": WEDNESDAY,
        "is_binder": False,
        "is_reinitiation": False,
        "coverage_ended": False,
        "pay_by": None,
        "reinitiations_in_window": 0,
    }
    facts.update(overrides)
    return retry_decision(**facts)  # type: ignore[arg-type]


@pytest.mark.parametrize("code", ["R01", "R09"])
def test_d10_r01_and_r09_are_retried_once_three_banking_days_later(code: str) -> None:
    decision = decide(code)
    assert decision.retry and decision.on == date(2027, 3, 29)  # Wed → Thu, Fri, Mon


@pytest.mark.parametrize("code", ["R02", "R03", "R04", "R16", "R20"])
def test_r5_9_closed_missing_invalid_frozen_or_non_transaction_accounts_suspend_the_mandate(code: str) -> None:
    assert action_for(code) is ReturnAction.SUSPEND
    assert not decide(code).retry


@pytest.mark.parametrize("code", ["R05", "R07", "R10", "R29"])
def test_r5_9_unauthorized_or_revoked_debits_revoke_the_mandate(code: str) -> None:
    assert action_for(code) is ReturnAction.REVOKE
    assert not decide(code).retry


def test_r5_9_a_stopped_payment_flags_the_mandate_and_is_not_retried() -> None:
    assert action_for("R08") is ReturnAction.FLAG
    assert not decide("R08").retry


@pytest.mark.parametrize("code", ["R06", "R11", "R17", "R24"])
def test_other_codes_leave_the_mandate_alone_and_are_not_retried(code: str) -> None:
    assert action_for(code) is ReturnAction.NONE
    assert not decide(code).retry


def test_r5_11_a_binder_is_never_retried() -> None:
    assert not decide(is_binder=True).retry


def test_d10_a_retry_that_is_returned_again_is_not_retried_again() -> None:
    assert not decide(is_reinitiation=True).retry


def test_d10_no_retry_once_coverage_has_ended() -> None:
    assert not decide(coverage_ended=True).retry


def test_d10_no_retry_after_the_delinquency_deadline() -> None:
    assert not decide(pay_by=date(2027, 3, 26)).retry
    assert decide(pay_by=date(2027, 3, 29)).retry


def test_d10_a_deadline_from_an_earlier_cured_delinquency_does_not_block_the_retry() -> None:
    assert decide(pay_by=date(2027, 2, 23)).retry


def test_r5_10_never_more_than_two_reinitiations_in_180_days() -> None:
    assert decide(reinitiations_in_window=1).retry
    assert not decide(reinitiations_in_window=2).retry


def test_banking_days_skip_weekends() -> None:
    assert add_banking_days(FRIDAY, 3) == date(2027, 3, 24)
    assert add_banking_days(date(2027, 3, 20), 1) == date(2027, 3, 22)  # Saturday → Monday
    assert add_banking_days(WEDNESDAY, 0) == WEDNESDAY
