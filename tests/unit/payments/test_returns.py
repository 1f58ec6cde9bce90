"""Returns (R5.9, R5.10, D10): plain-language reasons, and which returns may be retried."""

from __future__ import annotations

import pytest
from premiums_payments.adapters.sandbox_bank import RETURN_CODES
from premiums_payments.domain.returns import RETURN_REASONS, retry_eligible, return_reason


@pytest.mark.parametrize("code", ["R01", "R09"])
def test_d10_r01_and_r09_on_a_monthly_payment_may_be_retried(code: str) -> None:
    assert retry_eligible(code, binder=False)


@pytest.mark.parametrize("code", ["R01", "R09"])
def test_d10_r5_11_a_binder_is_never_retried(code: str) -> None:
    assert not retry_eligible(code, binder=True)


@pytest.mark.parametrize("code", ["R02", "R03", "R04", "R07", "R08", "R10", "R16", "R20", "R29"])
def test_r5_9_other_return_codes_are_never_retried_automatically(code: str) -> None:
    assert not retry_eligible(code, binder=False)


@pytest.mark.parametrize("code", sorted(set(RETURN_CODES.values())))
def test_r5_9_every_sandbox_return_has_a_plain_language_reason(code: str) -> None:
    reason = return_reason(code)
    assert reason == RETURN_REASONS[code]
    assert code not in reason and reason.endswith(".")


def test_an_unknown_return_code_still_reads_as_a_sentence() -> None:
    assert return_reason("R99") == "Your bank returned the payment (bank code R99)."
