"""The AsyncAPI 3.0.0 document of premiums' topics, built by hand from TOPICS and the event models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from premiums_contracts.envelope import CONTENT_TYPE, SPEC_VERSION
from premiums_contracts.events import ALL_EVENTS, Event
from premiums_contracts.schema import dumps, json_schema, key_of, topic_of
from premiums_contracts.topics import TOPICS, Topic

ASYNCAPI_VERSION = "3.0.0"
DOCUMENT_VERSION = "1.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
COMPONENT_REF_TEMPLATE = "#/components/schemas/{model}"

# Topics premiums receives but does not produce (the upstream enrollment system produces them).
RECEIVED_ONLY = {"enrollment.events"}

# Topics with a second, receiving side inside premiums: (topic, operation id, who, what).
ALSO_RECEIVED = {
    "payments.commands": ("receivePaymentsCommands", "payments", "drafts the account each command names"),
}

_PRODUCERS = {
    "enrollment.events": "the upstream enrollment system (locally `premiums demo` and the simulator)",
    "payments.commands": "autopay and other internal systems",
    "payments.events": "payments",
    "coverage.events": "coverage",
    "autopay.events": "autopay",
    "notifications.events": "notifications",
    "clock.events": "the clock ticker / `premiums clock`",
}

_TRACEPARENT = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"


def _pointer(*parts: str) -> str:
    """A local JSON pointer (`#/a/b`), escaping `~` and `/` in each part."""
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _ref(*parts: str) -> dict[str, str]:
    return {"$ref": _pointer(*parts)}


def _camel(topic_name: str) -> str:
    first, *rest = topic_name.replace("-", ".").replace("_", ".").split(".")
    return first + "".join(p[:1].upper() + p[1:] for p in rest)


def headers_schema(ce_type: str, key: str) -> dict[str, Any]:
    """CloudEvents 1.0 binary-mode Kafka headers (ARCHITECTURE §2) for one event type."""
    return {
        "type": "object",
        "description": (
            "CloudEvents 1.0 attributes in Kafka binary mode, as UTF-8 header values. Consumers need "
            "ce_specversion, ce_id, ce_source, ce_type and ce_time; producers send all the required ones."
        ),
        "properties": {
            "ce_specversion": {"type": "string", "const": SPEC_VERSION},
            "ce_id": {
                "type": "string",
                "format": "uuid",
                "description": "Unique per event; the consumers' dedupe key.",
            },
            "ce_source": {
                "type": "string",
                "description": "`/premiums/<producing service>` (or the producing system's own source).",
                "examples": ["/premiums/payments"],
            },
            "ce_type": {"type": "string", "const": ce_type},
            "ce_time": {"type": "string", "format": "date-time", "description": "RFC 3339 with offset."},
            "ce_subject": {"type": "string", "description": f"The record key ({key})."},
            "content-type": {"type": "string", "const": CONTENT_TYPE},
            "correlation_id": {"type": "string", "description": "One per business flow."},
            "causation_id": {"type": "string", "description": "The ce_id of the event that caused this one."},
            "traceparent": {"type": "string", "pattern": _TRACEPARENT, "description": "W3C Trace Context."},
        },
        "required": [
            "ce_specversion",
            "ce_id",
            "ce_source",
            "ce_type",
            "ce_time",
            "ce_subject",
            "content-type",
            "correlation_id",
        ],
    }


def _component_schemas() -> dict[str, Any]:
    """Every event's payload schema keyed by ce_type, plus the nested models they share, refs rewritten."""
    schemas: dict[str, Any] = {}
    for model in ALL_EVENTS:
        schema = json_schema(model, ref_template=COMPONENT_REF_TEMPLATE)
        for name, definition in schema.pop("$defs", {}).items():
            if name in schemas and schemas[name] != definition:
                raise ValueError(f"two different nested models are both named {name!r}")
            schemas[name] = definition
        # `$id` would move the base URI of the refs inside; `$schema` belongs to a standalone document.
        schema.pop("$id", None)
        schema.pop("$schema", None)
        schemas[model.ce_type()] = schema
    return schemas


def _key_text(model: type[Event]) -> str:
    key = key_of(model)
    return key if key in model.model_fields else f"the constant `{key}`"


def _message(model: type[Event]) -> dict[str, Any]:
    ce_type = model.ce_type()
    key = _key_text(model)
    message: dict[str, Any] = {
        "name": model.__name__,
        "title": ce_type,
        "contentType": CONTENT_TYPE,
        "headers": headers_schema(ce_type, key),
        "payload": _ref("components", "schemas", ce_type),
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": f"The record key: {key}."},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }
    summary = (model.__doc__ or "").strip().splitlines()
    if summary and model.__doc__ != Event.__doc__:
        message["summary"] = summary[0]
    return message


def _channel(topic: Topic, events: list[type[Event]]) -> dict[str, Any]:
    topic_configuration: dict[str, Any] = {"retention.ms": topic.retention_ms}
    keys = list(dict.fromkeys(_key_text(e) for e in events))
    keyed_by = keys[0] + "".join(
        f" ({k} for {', '.join(e.__name__ for e in events if _key_text(e) == k)})" for k in keys[1:]
    )
    return {
        "address": topic.name,
        "title": topic.name,
        "description": (
            f"Produced by {_PRODUCERS.get(topic.name, 'premiums')}; keyed by {keyed_by}. "
            f"Failed records go to `{topic.dead_letter}` with error headers."
        ),
        "messages": {e.ce_type(): _ref("components", "messages", e.ce_type()) for e in events},
        "bindings": {
            "kafka": {
                "topic": topic.name,
                "partitions": topic.partitions,
                "topicConfiguration": topic_configuration,
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _operation(action: str, channel_id: str, events: list[type[Event]], summary: str) -> dict[str, Any]:
    return {
        "action": action,
        "channel": _ref("channels", channel_id),
        "summary": summary,
        "messages": [_ref("channels", channel_id, "messages", e.ce_type()) for e in events],
    }


def build_asyncapi() -> dict[str, Any]:
    """The whole AsyncAPI 3.0.0 document as a dict (every `$ref` local to the document)."""
    by_topic: dict[str, list[type[Event]]] = {t.name: [] for t in TOPICS}
    for model in ALL_EVENTS:
        by_topic[topic_of(model).name].append(model)

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in TOPICS:
        events = by_topic[topic.name]
        if not events:
            continue
        channel_id = topic.name
        channels[channel_id] = _channel(topic, events)
        camel = _camel(topic.name)
        camel = camel[:1].upper() + camel[1:]
        if topic.name in RECEIVED_ONLY:
            operations[f"receive{camel}"] = _operation(
                "receive",
                channel_id,
                events,
                f"premiums consumes {topic.name}, published by {_PRODUCERS[topic.name]}.",
            )
        else:
            operations[f"send{camel}"] = _operation(
                "send", channel_id, events, f"Published to {topic.name} by {_PRODUCERS[topic.name]}."
            )
        if topic.name in ALSO_RECEIVED:
            operation_id, who, what = ALSO_RECEIVED[topic.name]
            operations[operation_id] = _operation(
                "receive", channel_id, events, f"{who} consumes {topic.name} and {what}."
            )

    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "premiums",
            "version": DOCUMENT_VERSION,
            "description": (
                "Health-insurance premium payments: the Kafka topics of payments, coverage, autopay and "
                "notifications. Every record is a CloudEvents 1.0 event in Kafka binary mode (ce_* headers, "
                "JSON body). Contracts change only by adding: a new optional field, a new event type, or a "
                "v2 type beside v1."
            ),
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "The local single-node Kafka (KRaft); KAFKA_BOOTSTRAP_SERVERS overrides it.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": {model.ce_type(): _message(model) for model in ALL_EVENTS},
            "schemas": _component_schemas(),
        },
    }


def asyncapi_text() -> str:
    return dumps(build_asyncapi())


def write_asyncapi(path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(asyncapi_text(), encoding="utf-8")
    return out
