"""The committed JSON Schemas and AsyncAPI document match the models, and changes are backward compatible."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from premiums_contracts.asyncapi import asyncapi_text, build_asyncapi
from premiums_contracts.compat import breaking_changes
from premiums_contracts.events import ALL_EVENTS, EVENT_TYPES
from premiums_contracts.schema import all_schemas, json_schema, schema_files
from premiums_contracts.topics import TOPICS

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
SCHEMAS = CONTRACTS / "schemas"
ASYNCAPI = CONTRACTS / "asyncapi.json"
REGENERATE = "run `make contracts` (python -m premiums_contracts generate) and commit the result"


def committed() -> dict[str, dict[str, Any]]:
    return {p.name.removesuffix(".json"): json.loads(p.read_text()) for p in sorted(SCHEMAS.glob("*.json"))}


COMMITTED = committed()


def test_schemas_are_committed() -> None:
    assert COMMITTED, f"no committed schemas in {SCHEMAS}; {REGENERATE}"


@pytest.mark.parametrize("name", sorted(schema_files()))
def test_committed_schema_is_up_to_date(name: str) -> None:
    path = SCHEMAS / name
    assert path.is_file(), f"{path} is missing; {REGENERATE}"
    assert path.read_text() == schema_files()[name], f"{path} is out of date with the models; {REGENERATE}"


def test_committed_asyncapi_is_up_to_date() -> None:
    assert ASYNCAPI.is_file(), f"{ASYNCAPI} is missing; {REGENERATE}"
    assert ASYNCAPI.read_text() == asyncapi_text(), f"{ASYNCAPI} is out of date with the models; {REGENERATE}"


def test_no_committed_event_type_disappeared() -> None:
    vanished = sorted(set(COMMITTED) - set(EVENT_TYPES))
    assert not vanished, (
        f"event types vanished: {vanished}; contracts change only by adding (keep v1, add a v2 beside it)"
    )


@pytest.mark.parametrize("ce_type", sorted(COMMITTED))
def test_backward_compatible_with_committed_schema(ce_type: str) -> None:
    """The backward-compatibility gate: the models may only add to what is committed."""
    if ce_type not in EVENT_TYPES:
        pytest.fail(f"{ce_type} vanished")
    reasons = breaking_changes(COMMITTED[ce_type], json_schema(EVENT_TYPES[ce_type]))
    assert not reasons, f"{ce_type} is not backward compatible with its committed schema:\n" + "\n".join(
        f"  - {r}" for r in reasons
    )


def test_schema_metadata() -> None:
    schemas = all_schemas()
    assert set(schemas) == set(EVENT_TYPES)
    topic_names = {t.name for t in TOPICS}
    for ce_type, schema in schemas.items():
        assert schema["$id"] == f"https://premiums.example/schemas/{ce_type}.json"
        assert schema["title"] == ce_type
        assert schema["x-topic"] in topic_names
        assert schema["x-topic"].split(".")[0] == ce_type.split(".")[0]
        key = schema["x-key"]
        assert key in schema["properties"] or schema["x-topic"] == "clock.events", (ce_type, key)


def test_money_is_a_string_in_every_schema() -> None:
    money = json_schema(EVENT_TYPES["payments.PaymentCleared.v1"])["properties"]["amount"]
    assert money["type"] == "string"
    assert money["pattern"] == r"^-?\d+\.\d{2}$"


# -- AsyncAPI ---------------------------------------------------------------------------------------


def _walk(node: Any, path: str = "#"):  # type: ignore[no-untyped-def]
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield path, value
            else:
                yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}/{i}")


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"non-local $ref {ref!r}"
    target: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(target, dict) and part in target, f"$ref {ref!r} does not resolve"
        target = target[part]
    return target


def test_every_ref_in_asyncapi_resolves_inside_the_document() -> None:
    document = json.loads(ASYNCAPI.read_text()) if ASYNCAPI.is_file() else build_asyncapi()
    refs = list(_walk(document))
    assert refs
    unresolved = []
    for where, ref in refs:
        try:
            _resolve(document, ref)
        except AssertionError as exc:
            unresolved.append(f"{where}: {exc}")
    assert not unresolved, "\n".join(unresolved)


def test_asyncapi_structure() -> None:
    document = build_asyncapi()
    assert document["asyncapi"] == "3.0.0"
    assert {"title", "version"} <= set(document["info"])
    assert document["servers"]["local"] == {
        "host": "127.0.0.1:9092",
        "protocol": "kafka",
        "description": document["servers"]["local"]["description"],
    }
    channels = document["channels"]
    assert {c["address"] for c in channels.values()} == {t.name for t in TOPICS}
    for topic in TOPICS:
        channel = channels[topic.name]
        assert channel["bindings"]["kafka"]["partitions"] == topic.partitions
        on_topic = {m.ce_type() for m in ALL_EVENTS if m.topic == topic.name}
        assert set(channel["messages"]) == on_topic

    messages = document["components"]["messages"]
    assert set(messages) == set(EVENT_TYPES)
    for ce_type, message in messages.items():
        headers = message["headers"]
        assert headers["properties"]["ce_type"]["const"] == ce_type
        assert headers["properties"]["ce_specversion"]["const"] == "1.0"
        assert {"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time"} <= set(headers["required"])
        assert message["payload"] == {"$ref": f"#/components/schemas/{ce_type}"}

    actions = {
        (op["action"], _resolve(document, op["channel"]["$ref"])["address"]) for op in document["operations"].values()
    }
    assert ("receive", "enrollment.events") in actions
    assert ("send", "enrollment.events") not in actions
    assert {("send", "payments.commands"), ("receive", "payments.commands")} <= actions
    for topic in TOPICS:
        if topic.name != "enrollment.events":
            assert ("send", topic.name) in actions
    for op in document["operations"].values():
        channel_ref = op["channel"]["$ref"]
        for message in op["messages"]:
            # AsyncAPI 3: an operation's messages are those of its channel.
            assert message["$ref"].startswith(channel_ref + "/messages/")


def test_component_schemas_have_no_id_or_nested_defs() -> None:
    for name, schema in build_asyncapi()["components"]["schemas"].items():
        assert "$id" not in schema, name  # would move the base URI of the refs inside it
        assert "$defs" not in schema, name
