"""ACH returns (R5.9, R5.10, D10): what a return code means in plain language and whether it may be retried."""

from __future__ import annotations

RETURN_REASONS = {
    "R01": "Your bank returned the payment because the account did not have enough money in it.",
    "R02": "Your bank returned the payment because the account is closed.",
    "R03": "Your bank returned the payment because it could not find an account with that number.",
    "R04": "Your bank returned the payment because the account number is not valid.",
    "R05": "Your bank returned the payment because the debit was not authorized for this kind of account.",
    "R06": "The payment was returned at our bank's request.",
    "R07": "Your bank returned the payment because you withdrew your authorization.",
    "R08": "Your bank returned the payment because a stop payment was placed on it.",
    "R09": "Your bank returned the payment because the money in the account was not yet available.",
    "R10": "Your bank returned the payment because it was reported as not authorized.",
    "R11": "Your bank returned the payment because it did not match what you authorized.",
    "R16": "Your bank returned the payment because the account is frozen.",
    "R20": "Your bank returned the payment because the account does not allow this kind of withdrawal.",
    "R29": "Your bank returned the payment because the account holder said it was not authorized.",
}
RETRYABLE = frozenset({"R01", "R09"})


def return_reason(code: str) -> str:
    """R5.9: the reason a member reads in the N13 notice, never a bare code."""
    return RETURN_REASONS.get(code, f"Your bank returned the payment (bank code {code}).")


def retry_eligible(code: str, *, binder: bool) -> bool:
    """D10/R5.10/R5.11: only R01 and R09 may be retried, and a binder never is."""
    return code in RETRYABLE and not binder


UNAUTHORIZED = frozenset({"R05", "R07", "R10", "R11", "R29", "R51"})
ADMINISTRATIVE = frozenset({"R02", "R03", "R04"})
RATE_THRESHOLDS = {"unauthorized": 0.005, "administrative": 0.03, "overall": 0.15}
"""R5.12: Nacha return-rate thresholds over the prior 60 days of debits."""


def return_rates(debits: int, returned_codes: list[str]) -> dict[str, float]:
    """R5.12: unauthorized, administrative and overall return rates as fractions of debit volume."""
    if debits == 0:
        return dict.fromkeys(RATE_THRESHOLDS, 0.0)
    return {
        "unauthorized": sum(code in UNAUTHORIZED for code in returned_codes) / debits,
        "administrative": sum(code in ADMINISTRATIVE for code in returned_codes) / debits,
        "overall": len(returned_codes) / debits,
    }
