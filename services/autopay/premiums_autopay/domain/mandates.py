"""AutoPay mandates: how they are authorized and what they may carry (D9, R4.3, R4.5, R5.1, R5.2, R5.4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

Channel = Literal["portal", "paper"]

ACCOUNT_NUMBER_FIELDS = frozenset({"account_number", "routing_number", "dfi_account_number", "account"})


class MandateRefused(Exception):
    """A mandate that cannot be set up, with the plain-language reason."""


def sec_code_for(channel: Channel) -> tuple[Literal["WEB", "PPD"], Literal["R"]]:
    """D9/R5.1/R5.2: a portal mandate is WEB with payment type R; a signed paper form is PPD."""
    return ("WEB", "R") if channel == "portal" else ("PPD", "R")


def refuse_account_numbers(body: Mapping[str, Any]) -> None:
    """ARCHITECTURE §1: autopay holds instrument tokens only; an account number is never accepted here."""
    if ACCOUNT_NUMBER_FIELDS & set(body):
        raise MandateRefused(
            "AutoPay takes a saved bank account, not account numbers. Save the account first "
            "(POST /v1/bank-accounts) and send its instrument_token."
        )


def initial_status(validated: bool) -> Literal["active", "pending_validation"]:
    """R5.4: a mandate goes live only once its account has been validated."""
    return "active" if validated else "pending_validation"
