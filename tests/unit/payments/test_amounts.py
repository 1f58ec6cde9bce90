"""Payment amounts: positive, dollars and cents, below the `PAYMENTS_MAX_AMOUNT` ceiling."""

from __future__ import annotations

from decimal import Decimal

import pytest
from premiums_payments.domain.amounts import DEFAULT_CEILING, InvalidAmount, parse_ceiling, valid_amount

CEILING = Decimal("5000.00")


def test_a_positive_amount_in_cents_is_accepted_and_kept_to_two_decimals() -> None:
    assert valid_amount(Decimal("312.4"), CEILING) == Decimal("312.40")
    assert str(valid_amount(Decimal("312.4"), CEILING)) == "312.40"


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("0", "more than $0.00"),
        ("-1.00", "more than $0.00"),
        ("NaN", "more than $0.00"),
        ("Infinity", "more than $0.00"),
        ("1.001", "two decimals"),
        ("5000.01", "cannot be more than $5,000.00"),
    ],
)
def test_invalid_amounts_are_refused_in_plain_language(raw: str, words: str) -> None:
    with pytest.raises(InvalidAmount, match=words.replace("$", r"\$").replace(".", r"\.")):
        valid_amount(Decimal(raw), CEILING)


def test_the_ceiling_itself_is_allowed() -> None:
    assert valid_amount(CEILING, CEILING) == CEILING


def test_payments_max_amount_defaults_to_ten_thousand_and_must_be_positive() -> None:
    assert parse_ceiling(None) == DEFAULT_CEILING == Decimal("10000.00")
    assert parse_ceiling("2500") == Decimal("2500")
    for bad in ("0", "-3", "lots"):
        with pytest.raises(InvalidAmount):
            parse_ceiling(bad)


def test_a_huge_amount_is_refused_as_above_the_ceiling_not_a_crash() -> None:
    """Found by the schemathesis fuzz run: 1.79e308 could not be rounded to cents (InvalidOperation, a 500)."""
    with pytest.raises(InvalidAmount, match="cannot be more than"):
        valid_amount(Decimal("1.7976931348623157e+308"), Decimal("10000.00"))
    with pytest.raises(InvalidAmount, match="cannot be more than"):
        valid_amount(Decimal("4.088920949897118e+215"), Decimal("10000.00"))
