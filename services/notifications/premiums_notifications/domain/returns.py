"""ACH return codes in plain language (R5.9, N13) and what the system does about each."""

from __future__ import annotations

REASONS = {
    "R01": "insufficient_funds",
    "R09": "insufficient_funds",
    "R02": "account_closed",
    "R03": "account_not_found",
    "R04": "account_not_found",
    "R12": "account_not_found",
    "R13": "account_not_found",
    "R28": "account_not_found",
    "R05": "not_authorized",
    "R07": "authorization_revoked",
    "R08": "payment_stopped",
    "R10": "not_authorized",
    "R11": "not_authorized",
    "R29": "not_authorized",
    "R16": "account_frozen",
    "R20": "non_transaction_account",
}

# R5.9 / D10: codes after which the stored account or the AutoPay mandate is disabled.
DISABLES_ACCOUNT = frozenset({"R02", "R03", "R04", "R07", "R10", "R16", "R20"})


def return_reason(return_code: str) -> str:
    """The plain-language reason key the templates translate (N13); unknown codes read as "bank refused"."""
    return REASONS.get(return_code.upper(), "bank_refused")


def account_disabled(return_code: str) -> bool:
    """R5.9: R02/R03/R04/R07/R10/R16/R20 disable the stored account or mandate; the member must act."""
    return return_code.upper() in DISABLES_ACCOUNT


def is_check(method: str | None) -> bool:
    """N14: a check or money order from the lockbox came back unpaid (otherwise N13, an ACH return)."""
    return method in ("check", "money_order")
