"""RFC 9457 problem details: validation errors read as plain "field: message" sentences."""

from __future__ import annotations

from decimal import Decimal

import pytest
from premiums_common.problems import Problem, describe_validation_errors
from pydantic import BaseModel, Field, ValidationError, field_validator


class _Payment(BaseModel):
    amount: Decimal = Field(gt=0)
    routing_number: str

    @field_validator("routing_number")
    @classmethod
    def _nine_digits(cls, value: str) -> str:
        if len(value) != 9:
            raise ValueError("The routing number must be exactly 9 digits.")
        return value


def test_field_message_sentences_with_value_error_prefix_stripped() -> None:
    errors = [
        {"loc": ("body", "amount"), "msg": "Input should be greater than 0"},
        {
            "loc": ("body", "bank_account", "routing_number"),
            "msg": "Value error, The routing number must be exactly 9 digits.",
        },
    ]
    assert describe_validation_errors(errors) == (
        "amount: Input should be greater than 0; "
        "bank_account.routing_number: The routing number must be exactly 9 digits."
    )


def test_real_pydantic_errors_are_described_without_echoing_values() -> None:
    with pytest.raises(ValidationError) as caught:
        _Payment.model_validate({"amount": "-5", "routing_number": "0110"})
    detail = describe_validation_errors(list(caught.value.errors()))
    assert "amount: Input should be greater than 0" in detail
    assert "routing_number: The routing number must be exactly 9 digits." in detail
    assert "Value error" not in detail
    assert "0110" not in detail


def test_query_path_and_header_locations_are_dropped_and_indexes_kept() -> None:
    errors = [
        {"loc": ("query", "month"), "msg": "Field required"},
        {"loc": ("path", "payment_id"), "msg": "String should match pattern"},
        {"loc": ("body", "charges", 0, "amount"), "msg": "Input should be a valid decimal"},
    ]
    assert describe_validation_errors(errors) == (
        "month: Field required; payment_id: String should match pattern; "
        "charges.0.amount: Input should be a valid decimal"
    )


def test_an_error_on_the_whole_body_names_the_request() -> None:
    assert describe_validation_errors([{"loc": ("body",), "msg": "Field required"}]) == "request: Field required"
    assert describe_validation_errors([{}]) == "request: is invalid"


def test_at_most_six_errors_are_described() -> None:
    errors = [{"loc": ("body", f"f{i}"), "msg": "Field required"} for i in range(10)]
    assert describe_validation_errors(errors).count("Field required") == 6


def test_a_problem_carries_status_title_detail_and_extras() -> None:
    problem = Problem(409, "Conflict", "This payment was already made.", payment_id="pay-1")
    assert (problem.status, problem.title, problem.detail, problem.type) == (
        409,
        "Conflict",
        "This payment was already made.",
        "about:blank",
    )
    assert problem.extra == {"payment_id": "pay-1"}
    assert str(problem) == "This payment was already made."
