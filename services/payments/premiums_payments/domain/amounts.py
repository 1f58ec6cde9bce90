"""Payment amounts (R2.9, D6): positive dollars and cents, never above the configured ceiling."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")
DEFAULT_CEILING = Decimal("10000.00")


class InvalidAmount(ValueError):
    pass


def parse_ceiling(raw: str | None) -> Decimal:
    """`PAYMENTS_MAX_AMOUNT`: a positive amount; unset means $10,000.00."""
    if not raw:
        return DEFAULT_CEILING
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise InvalidAmount("PAYMENTS_MAX_AMOUNT must be an amount such as 10000.00") from exc
    if not value.is_finite() or value <= 0:
        raise InvalidAmount("PAYMENTS_MAX_AMOUNT must be more than 0")
    return value


def valid_amount(value: Decimal, ceiling: Decimal) -> Decimal:
    """More than $0.00, at most two decimals, not above the ceiling."""
    if not value.is_finite() or value <= 0:
        raise InvalidAmount("the amount must be more than $0.00")
    if value > ceiling:  # first: a huge number cannot even be rounded to cents
        raise InvalidAmount(f"the amount cannot be more than ${ceiling:,.2f} in one payment")
    if value != value.quantize(CENT):
        raise InvalidAmount("the amount can have at most two decimals (cents)")
    return value.quantize(CENT)
