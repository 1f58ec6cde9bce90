"""Field types and the base class every event model shares (ARCHITECTURE §2 field conventions)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer, StringConstraints, WithJsonSchema

CENT = Decimal("0.01")


def _two_decimals(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("money must be a finite amount")
    if value != value.quantize(CENT, rounding=ROUND_HALF_UP):
        raise ValueError("money has at most two decimals")
    return value.quantize(CENT)


Money = Annotated[
    Decimal,
    AfterValidator(_two_decimals),
    PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["312.40"]}),
]
"""Money is a JSON string with two decimals, `Decimal` in Python, never a float."""

CoverageMonth = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
"""A coverage month, `YYYY-MM`."""


def coverage_month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


class Event(BaseModel):
    """An event body. Unknown fields are ignored so producers can add optional fields (contracts only grow)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    topic: ClassVar[str]
    version: ClassVar[int] = 1

    @classmethod
    def ce_type(cls) -> str:
        return f"{cls.topic.split('.', 1)[0]}.{cls.__name__}.v{cls.version}"
