"""Backward compatibility between two JSON Schemas of the same event type.

The rule (ARCHITECTURE §2): a contract changes only by adding. Events already on the topics must still
validate against the new schema, and consumers written against the old schema must still understand what
producers send under the new one. So, for every property, at any depth:

- it may not be removed, nor stop being required;
- its type may not change: no type removed, none added (a field that becomes nullable is a change too);
- its allowed values may not shrink (enum / const values removed, a pattern or format changed, a bound
  tightened);
- no property may become required, existing or new (a new field must be optional).

Adding optional properties and adding enum values are fine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Schema = Mapping[str, Any]

_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_JSON_TYPES = ("null", "boolean", "object", "array", "number", "string", "integer")


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Plain-language reasons why `new` is not backward compatible with `old`; empty when it is."""
    return _Comparison(old, new).run()


def _where(path: str) -> str:
    return f"`{path}`" if path else "the event"


def _type_of_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _allowed_values(schema: Schema) -> set[Any] | None:
    """The closed set of values a branch allows (`const` / `enum`), or None when it is open."""
    if "const" in schema:
        return {_hashable(schema["const"])}
    if "enum" in schema:
        return {_hashable(v) for v in schema["enum"]}
    return None


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def _show(values: set[Any]) -> str:
    return ", ".join(repr(v) for v in sorted(values, key=repr))


class _Comparison:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.reasons: list[str] = []
        self._seen: set[tuple[str, str, str]] = set()

    def run(self) -> list[str]:
        self._compare(self.old_root, self.new_root, "")
        return list(dict.fromkeys(self.reasons))

    # -- references and branches -------------------------------------------------------------------

    @staticmethod
    def _resolve(schema: Schema, root: Schema) -> Schema:
        hops = 0
        while "$ref" in schema:
            ref = schema["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#"):
                raise ValueError(f"only local $refs can be compared, got {ref!r}")
            target: Any = root
            for part in [p for p in ref[1:].split("/") if p]:
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, Mapping) or part not in target:
                    raise ValueError(f"$ref {ref!r} does not resolve inside its schema")
                target = target[part]
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **siblings} if siblings else target
            hops += 1
            if hops > 64:
                raise ValueError(f"$ref {ref!r} loops")
        return schema

    def _branches(self, schema: Schema, root: Schema) -> list[Schema]:
        """The alternatives a schema allows, each resolved and with a single type (anyOf/oneOf split)."""
        schema = self._resolve(schema, root)
        for keyword in ("anyOf", "oneOf"):
            if keyword in schema:
                rest = {k: v for k, v in schema.items() if k != keyword}
                out: list[Schema] = []
                for alternative in schema[keyword]:
                    resolved = self._resolve(alternative, root)
                    merged = {**rest, **resolved}
                    out.extend(self._branches(merged, root))
                return out
        types = schema.get("type")
        if isinstance(types, list):
            return [{**schema, "type": t} for t in types]
        return [schema]

    @staticmethod
    def _type(branch: Schema) -> str:
        declared = branch.get("type")
        if isinstance(declared, str):
            return declared
        if "properties" in branch:
            return "object"
        if "items" in branch or "prefixItems" in branch:
            return "array"
        values = _allowed_values(branch)
        if values is not None:
            kinds = {_type_of_value(v) for v in values}
            if len(kinds) == 1:
                return kinds.pop()
        return "any"

    # -- comparison ---------------------------------------------------------------------------------

    def _compare(self, old: Schema, new: Schema, path: str) -> None:
        old_branches = self._branches(old, self.old_root)
        new_branches = self._branches(new, self.new_root)
        old_types = {self._type(b) for b in old_branches}
        new_types = {self._type(b) for b in new_branches}
        where = _where(path)

        if "any" in new_types and "any" not in old_types:
            self.reasons.append(f"{where}: type changed from {_types(old_types)} to any value")
            return
        for t in sorted(old_types - new_types):
            if "any" in new_types:
                continue
            if t == "null":
                self.reasons.append(f"{where}: may no longer be null")
            elif t == "integer" and "number" in new_types:
                self.reasons.append(f"{where}: type changed from integer to number")
            else:
                self.reasons.append(
                    f"{where}: type changed from {_types(old_types)} to {_types(new_types)} ({t} no longer allowed)"
                )
        for t in sorted(new_types - old_types):
            if t == "any" or (t == "number" and "integer" in old_types):
                continue
            if t == "null":
                self.reasons.append(f"{where}: may now be null (consumers of the old schema expect a value)")
            elif "any" not in old_types:
                self.reasons.append(f"{where}: type changed from {_types(old_types)} to {_types(new_types)}")

        for t in sorted(old_types & new_types):
            olds = [b for b in old_branches if self._type(b) == t]
            news = [b for b in new_branches if self._type(b) == t]
            for old_branch in olds:
                self._compare_some(old_branch, news, path)

    def _compare_some(self, old_branch: Schema, candidates: list[Schema], path: str) -> None:
        """`old_branch` is fine if some same-type branch of the new schema accepts it."""
        first: list[str] | None = None
        for candidate in candidates:
            saved = self.reasons
            self.reasons = []
            self._compare_branch(old_branch, candidate, path)
            found, self.reasons = self.reasons, saved
            if not found:
                return
            if first is None:
                first = found
        self.reasons.extend(first or [])

    def _compare_branch(self, old: Schema, new: Schema, path: str) -> None:
        key = (path, repr(sorted(old.items(), key=str)), repr(sorted(new.items(), key=str)))
        if key in self._seen:  # recursive models
            return
        self._seen.add(key)
        where = _where(path)

        old_values, new_values = _allowed_values(old), _allowed_values(new)
        if new_values is not None:
            if old_values is None:
                self.reasons.append(f"{where}: now restricted to {_show(new_values)}")
            elif removed := old_values - new_values:
                self.reasons.append(f"{where}: allowed value(s) removed: {_show(removed)}")

        for keyword in ("format", "pattern"):
            if old.get(keyword) != new.get(keyword):
                before, after = old.get(keyword), new.get(keyword)
                if before is None:
                    self.reasons.append(f"{where}: {keyword} {after!r} added (narrows what is accepted)")
                elif after is None:
                    self.reasons.append(f"{where}: {keyword} {before!r} removed (consumers rely on it)")
                else:
                    self.reasons.append(f"{where}: {keyword} changed from {before!r} to {after!r}")

        for keyword in _LOWER_BOUNDS:
            if keyword in new and (keyword not in old or new[keyword] > old[keyword]):
                self.reasons.append(f"{where}: {keyword} tightened to {new[keyword]!r}")
        for keyword in _UPPER_BOUNDS:
            if keyword in new and (keyword not in old or new[keyword] < old[keyword]):
                self.reasons.append(f"{where}: {keyword} tightened to {new[keyword]!r}")
        if "multipleOf" in new and new.get("multipleOf") != old.get("multipleOf"):
            self.reasons.append(f"{where}: multipleOf changed to {new['multipleOf']!r}")

        if self._type(old) == "object" or self._type(new) == "object":
            self._compare_object(old, new, path)
        if "items" in old or "items" in new:
            self._compare(old.get("items", {}), new.get("items", {}), f"{path}[]")

    def _compare_object(self, old: Schema, new: Schema, path: str) -> None:
        old_props: Mapping[str, Any] = old.get("properties", {})
        new_props: Mapping[str, Any] = new.get("properties", {})
        old_required = set(old.get("required", []))
        new_required = set(new.get("required", []))
        prefix = f"{path}." if path else ""

        for name in old_props:
            if name not in new_props:
                self.reasons.append(f"property `{prefix}{name}` was removed")
        for name in sorted(new_required - old_required):
            if name in old_props:
                self.reasons.append(f"property `{prefix}{name}` is newly required")
            else:
                self.reasons.append(f"new property `{prefix}{name}` is required (a new field must be optional)")
        for name in sorted(old_required - new_required):
            if name in new_props:
                self.reasons.append(f"property `{prefix}{name}` is no longer required")
        if new.get("additionalProperties") is False and old.get("additionalProperties") is not False:
            self.reasons.append(f"{_where(path)}: no longer allows additional properties")

        for name, old_prop in old_props.items():
            if name in new_props:
                self._compare(old_prop, new_props[name], f"{prefix}{name}")


def _types(types: set[str]) -> str:
    ordered = [t for t in _JSON_TYPES if t in types] + sorted(types - set(_JSON_TYPES))
    return " | ".join(ordered) if ordered else "nothing"
