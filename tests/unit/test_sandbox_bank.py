"""The sandbox bank (ARCHITECTURE §5): the account's last four digits choose the outcome."""

from __future__ import annotations

import pytest
from premiums_payments.adapters.sandbox_bank import SandboxGateway, outcome_for

RETURNS = {
    "0001": "R01",
    "0002": "R02",
    "0003": "R03",
    "0004": "R04",
    "0007": "R07",
    "0008": "R08",
    "0009": "R09",
    "0010": "R10",
    "0016": "R16",
    "0020": "R20",
    "0029": "R29",
}


@pytest.mark.parametrize(("last4", "code"), sorted(RETURNS.items()))
def test_architecture_5_last_four_digits_choose_the_return_code(last4: str, code: str) -> None:
    outcome = outcome_for(last4)
    assert outcome.validates
    assert outcome.return_code == code
    assert outcome.noc_code is None


def test_architecture_5_account_ending_0098_clears_then_sends_noc_c01() -> None:
    outcome = outcome_for("0098")
    assert outcome.validates
    assert outcome.return_code is None
    assert outcome.noc_code == "C01"


def test_architecture_5_account_ending_0099_fails_account_validation() -> None:
    assert not outcome_for("0099").validates
    assert not SandboxGateway().validate_account("011000015", "0099")


@pytest.mark.parametrize("last4", ["0000", "0005", "0006", "0011", "0028", "0030", "0097", "0100", "1234", "9999"])
def test_architecture_5_anything_else_clears(last4: str) -> None:
    outcome = outcome_for(last4)
    assert outcome.validates
    assert outcome.return_code is None
    assert outcome.noc_code is None
    assert SandboxGateway().validate_account("011000015", last4)
