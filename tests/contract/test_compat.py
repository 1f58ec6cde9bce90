"""`breaking_changes`: each kind of break is detected; adding optional fields and enum values is fine."""

from __future__ import annotations

import copy
from typing import Any, Literal

from premiums_contracts.compat import breaking_changes
from premiums_contracts.events import ALL_EVENTS
from premiums_contracts.schema import json_schema
from pydantic import BaseModel

OLD: dict[str, Any] = {
    "$defs": {
        "Member": {
            "type": "object",
            "properties": {
                "first_name": {"type": "string"},
                "zip": {"type": "string", "pattern": r"^\d{5}$"},
                "language": {"enum": ["en", "es"], "type": "string", "default": "en"},
            },
            "required": ["first_name", "zip"],
        }
    },
    "type": "object",
    "properties": {
        "payment_id": {"type": "string"},
        "amount": {"type": "string", "pattern": r"^-?\d+\.\d{2}$"},
        "cleared_on": {"type": "string", "format": "date"},
        "status": {"type": "string", "enum": ["cleared", "returned"]},
        "retry_eligible": {"type": "boolean"},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "months": {"type": "array", "items": {"type": "string", "pattern": r"^\d{4}-\d{2}$"}},
        "member": {"$ref": "#/$defs/Member"},
    },
    "required": ["payment_id", "amount", "cleared_on", "status", "retry_eligible", "member"],
}


def changed(edit: Any) -> list[str]:
    new = copy.deepcopy(OLD)
    edit(new)
    return breaking_changes(OLD, new)


def test_identical_schema_is_compatible() -> None:
    assert breaking_changes(OLD, copy.deepcopy(OLD)) == []


def test_every_model_is_compatible_with_itself() -> None:
    for model in ALL_EVENTS:
        assert breaking_changes(json_schema(model), json_schema(model)) == [], model.__name__


def test_removed_field_is_breaking() -> None:
    reasons = changed(lambda s: s["properties"].pop("retry_eligible") and s["required"].remove("retry_eligible"))
    assert any("`retry_eligible` was removed" in r for r in reasons), reasons


def test_removed_optional_field_is_breaking() -> None:
    reasons = changed(lambda s: s["properties"].pop("note"))
    assert any("`note` was removed" in r for r in reasons), reasons


def test_type_change_is_breaking() -> None:
    def edit(s: dict[str, Any]) -> None:
        s["properties"]["amount"] = {"type": "number"}

    reasons = changed(edit)
    assert any("`amount`: type changed from string to number" in r for r in reasons), reasons


def test_new_required_field_is_breaking() -> None:
    def edit(s: dict[str, Any]) -> None:
        s["properties"]["return_code"] = {"type": "string"}
        s["required"].append("return_code")

    reasons = changed(edit)
    assert reasons == ["new property `return_code` is required (a new field must be optional)"]


def test_existing_optional_field_becoming_required_is_breaking() -> None:
    reasons = changed(lambda s: s["required"].append("note"))
    assert any("`note` is newly required" in r for r in reasons), reasons


def test_required_field_becoming_optional_is_breaking() -> None:
    reasons = changed(lambda s: s["required"].remove("cleared_on"))
    assert any("`cleared_on` is no longer required" in r for r in reasons), reasons


def test_removed_enum_value_is_breaking() -> None:
    def edit(s: dict[str, Any]) -> None:
        s["properties"]["status"]["enum"] = ["cleared"]

    reasons = changed(edit)
    assert any("`status`" in r and "'returned'" in r for r in reasons), reasons


def test_added_enum_value_is_compatible() -> None:
    def edit(s: dict[str, Any]) -> None:
        s["properties"]["status"]["enum"] = ["cleared", "returned", "reversed"]

    assert changed(edit) == []


def test_adding_an_optional_field_is_compatible() -> None:
    def edit(s: dict[str, Any]) -> None:
        s["properties"]["member_id"] = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
        s["$defs"]["Member"]["properties"]["middle_name"] = {"type": "string", "default": ""}

    assert changed(edit) == []


def test_pattern_and_format_changes_are_breaking() -> None:
    def edit(s: dict[str, Any]) -> None:
        s["properties"]["amount"]["pattern"] = r"^\d+\.\d{2}$"
        s["properties"]["cleared_on"]["format"] = "date-time"
        s["properties"]["payment_id"]["format"] = "uuid"

    reasons = changed(edit)
    assert any("`amount`: pattern changed" in r for r in reasons), reasons
    assert any("`cleared_on`: format changed from 'date' to 'date-time'" in r for r in reasons), reasons
    assert any("`payment_id`: format 'uuid' added" in r for r in reasons), reasons


def test_becoming_nullable_is_breaking() -> None:
    def edit(s: dict[str, Any]) -> None:
        s["properties"]["payment_id"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}

    reasons = changed(edit)
    assert any("`payment_id`: may now be null" in r for r in reasons), reasons


def test_no_longer_nullable_is_breaking() -> None:
    def edit(s: dict[str, Any]) -> None:
        s["properties"]["note"] = {"type": "string", "default": ""}

    reasons = changed(edit)
    assert any("`note`: may no longer be null" in r for r in reasons), reasons


def test_nested_object_breaks_are_detected() -> None:
    def edit(s: dict[str, Any]) -> None:
        member = s["$defs"]["Member"]
        member["properties"].pop("first_name")
        member["required"].remove("first_name")
        member["properties"]["language"]["enum"] = ["en"]
        member["properties"]["zip"]["type"] = "integer"
        member["properties"]["date_of_birth"] = {"type": "string", "format": "date"}
        member["required"].append("date_of_birth")

    reasons = changed(edit)
    assert any("`member.first_name` was removed" in r for r in reasons), reasons
    assert any("`member.language`" in r and "'es'" in r for r in reasons), reasons
    assert any("`member.zip`: type changed from string to integer" in r for r in reasons), reasons
    assert any("`member.date_of_birth` is required" in r for r in reasons), reasons


def test_nested_ref_renamed_but_same_shape_is_compatible() -> None:
    def edit(s: dict[str, Any]) -> None:
        s["$defs"]["MemberContact"] = s["$defs"].pop("Member")
        s["properties"]["member"] = {"$ref": "#/$defs/MemberContact"}

    assert changed(edit) == []


def test_array_item_break_is_detected() -> None:
    def edit(s: dict[str, Any]) -> None:
        s["properties"]["months"]["items"] = {"type": "integer"}

    reasons = changed(edit)
    assert any("`months[]`: type changed from string to integer" in r for r in reasons), reasons


def test_tightened_bound_is_breaking() -> None:
    def edit(s: dict[str, Any]) -> None:
        s["properties"]["payment_id"]["maxLength"] = 36

    reasons = changed(edit)
    assert any("`payment_id`: maxLength tightened" in r for r in reasons), reasons


# -- with real pydantic models ----------------------------------------------------------------------


class ContactV1(BaseModel):
    first_name: str
    language: Literal["en", "es"] = "en"


class ContactNarrowed(BaseModel):
    first_name: str
    language: Literal["en"] = "en"


class EventV1(BaseModel):
    payment_id: str
    kind: Literal["a", "b"]
    contact: ContactV1


class EventAddsOptional(BaseModel):
    payment_id: str
    kind: Literal["a", "b", "c"]
    contact: ContactV1
    member_id: str | None = None


class EventNarrowsNested(BaseModel):
    payment_id: str
    kind: Literal["a", "b"]
    contact: ContactNarrowed


class EventSingleLiteral(BaseModel):
    payment_id: str
    kind: Literal["a"]
    contact: ContactV1


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(mode="serialization")


def test_pydantic_models_adding_optional_field_and_literal_value() -> None:
    assert breaking_changes(_schema(EventV1), _schema(EventAddsOptional)) == []


def test_pydantic_models_nested_literal_narrowed() -> None:
    reasons = breaking_changes(_schema(EventV1), _schema(EventNarrowsNested))
    assert any("`contact.language`" in r and "'es'" in r for r in reasons), reasons


def test_pydantic_models_literal_to_const_drops_value() -> None:
    reasons = breaking_changes(_schema(EventV1), _schema(EventSingleLiteral))
    assert any("`kind`" in r and "'b'" in r for r in reasons), reasons
    assert breaking_changes(_schema(EventSingleLiteral), _schema(EventV1)) == []
