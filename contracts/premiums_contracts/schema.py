"""JSON Schemas of the event models: one committed file per `ce_type` (`contracts/schemas/<ce_type>.json`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from premiums_contracts.events import ALL_EVENTS, Event
from premiums_contracts.topics import TOPICS, Topic

SCHEMA_BASE_URL = "https://premiums.example/schemas/"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
DEFS_REF_TEMPLATE = "#/$defs/{model}"

_TOPICS_BY_NAME: dict[str, Topic] = {t.name: t for t in TOPICS}


def topic_of(model: type[Event]) -> Topic:
    """The topic an event type travels on."""
    try:
        return _TOPICS_BY_NAME[model.topic]
    except KeyError:
        raise ValueError(f"{model.__name__} names topic {model.topic!r}, which is not in TOPICS") from None


def key_of(model: type[Event]) -> str:
    """What the Kafka record key is for this event type.

    The name of the body field whose value is the key (the topic's key, or `member_id` for the contact
    events on `enrollment.events` that carry no enrollment), or for `clock.events` the constant key `clock`.
    """
    topic = topic_of(model)
    if topic.key in model.model_fields:
        return topic.key
    if "member_id" in model.model_fields:
        return "member_id"
    return topic.key


def schema_id(ce_type: str) -> str:
    return f"{SCHEMA_BASE_URL}{ce_type}.json"


def json_schema(model: type[Event], *, ref_template: str = DEFS_REF_TEMPLATE) -> dict[str, Any]:
    """The JSON Schema of what producers put on the wire for `model` (pydantic serialization mode)."""
    ce_type = model.ce_type()
    schema = model.model_json_schema(mode="serialization", ref_template=ref_template)
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema["$id"] = schema_id(ce_type)
    schema["title"] = ce_type
    schema["x-topic"] = model.topic
    schema["x-key"] = key_of(model)
    return schema


def dumps(document: Any) -> str:
    """The canonical text of a committed JSON file: pretty-printed, keys sorted, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_filename(ce_type: str) -> str:
    return f"{ce_type}.json"


def all_schemas() -> dict[str, dict[str, Any]]:
    """Every event type's JSON Schema, keyed by `ce_type`."""
    return {model.ce_type(): json_schema(model) for model in ALL_EVENTS}


def schema_files() -> dict[str, str]:
    """File name (inside `schemas/`) to canonical text, for every event type."""
    return {schema_filename(ce_type): dumps(schema) for ce_type, schema in all_schemas().items()}


def write_schemas(directory: str | Path) -> list[Path]:
    """Write one JSON Schema file per event type into `directory`; returns the paths written.

    Files of event types that no longer exist are left in place on purpose: a committed event type may
    never vanish, and `python -m premiums_contracts check` reports it.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schema_files().items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
