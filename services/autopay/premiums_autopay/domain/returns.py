"""What a returned AutoPay draft does (D10, R5.9–R5.11): retry, suspend, revoke or flag the mandate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum

from premiums_common.banking_days import add_banking_days

RETRY_AFTER_BANKING_DAYS = 3
MAX_REINITIATIONS = 2
REINITIATION_WINDOW_DAYS = 180


class ReturnAction(Enum):
    RETRY = "retry"  # R01/R09: reinitiate once, if the policy allows (retry_decision)
    SUSPEND = "suspend"  # the account cannot take debits: ask for new bank details
    REVOKE = "revoke"  # the authorization is gone: never debit again without a new one
    FLAG = "flag"  # keep the mandate, ask the member (R08 stop payment)
    NONE = "none"  # file/operational codes: nothing changes on the mandate


_ACTIONS = {
    "R01": ReturnAction.RETRY,
    "R09": ReturnAction.RETRY,
    "R02": ReturnAction.SUSPEND,
    "R03": ReturnAction.SUSPEND,
    "R04": ReturnAction.SUSPEND,
    "R16": ReturnAction.SUSPEND,
    "R20": ReturnAction.SUSPEND,
    "R05": ReturnAction.REVOKE,
    "R07": ReturnAction.REVOKE,
    "R10": ReturnAction.REVOKE,
    "R29": ReturnAction.REVOKE,
    "R08": ReturnAction.FLAG,
}

_REASONS = {
    "R02": "the bank account is closed",
    "R03": "the bank could not find the account",
    "R04": "the account number is not valid",
    "R16": "the bank account is frozen",
    "R20": "the account cannot take debits",
    "R05": "the bank says the debit was not authorized",
    "R07": "the account holder revoked the authorization at the bank",
    "R10": "the account holder told the bank the debit was not authorized",
    "R29": "the account holder (a business account) told the bank the debit was not authorized",
    "R08": "the account holder stopped this payment",
}


def action_for(return_code: str) -> ReturnAction:
    """R5.9 table: the mandate action for an ACH return code."""
    return _ACTIONS.get(return_code.upper(), ReturnAction.NONE)


def plain_reason(return_code: str) -> str:
    return _REASONS.get(return_code.upper(), f"the bank returned the draft ({return_code})")


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    why: str
    on: date | None = None


def retry_decision(
    *,
    return_code: str,
    returned_on: date,
    is_binder: bool,
    is_reinitiation: bool,
    coverage_ended: bool,
    pay_by: date | None,
    reinitiations_in_window: int,
) -> RetryDecision:
    """D10/R5.10/R5.11: retry an R01/R09 draft once, 3 banking days after the return, inside the window.

    Never a binder (R5.11), never a retry of a retry (one automatic retry), never once coverage ended or
    past the delinquency deadline, never beyond 2 reinitiations in 180 days (Nacha 2.12.4).
    """
    if action_for(return_code) is not ReturnAction.RETRY:
        return RetryDecision(False, f"{return_code} is never retried automatically")
    if is_binder:
        return RetryDecision(False, "a binder payment is never retried")
    if is_reinitiation:
        return RetryDecision(False, "the draft was already retried once")
    if coverage_ended:
        return RetryDecision(False, "coverage has ended")
    if reinitiations_in_window >= MAX_REINITIATIONS:
        return RetryDecision(False, "already reinitiated twice in 180 days")
    on = add_banking_days(returned_on, RETRY_AFTER_BANKING_DAYS)
    if pay_by is not None and returned_on <= pay_by < on:  # a deadline already past belongs to an earlier episode
        return RetryDecision(False, "the retry would fall after the delinquency deadline")
    return RetryDecision(True, "R01/R09 retried once", on)
