"""`python -m premiums_contracts generate|check`: write the JSON Schemas and AsyncAPI, or gate changes.

- `generate [--out contracts]` writes `<out>/schemas/<ce_type>.json` and `<out>/asyncapi.json`.
- `check [--dir contracts]` regenerates in memory and exits 1 when a change is not backward compatible
  with the committed schemas, when a committed event type vanished, or when the committed files are out
  of date (run `generate`, and commit the result).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from premiums_contracts.asyncapi import asyncapi_text, write_asyncapi
from premiums_contracts.compat import breaking_changes
from premiums_contracts.schema import all_schemas, schema_filename, schema_files, write_schemas

SCHEMAS_DIR = "schemas"
ASYNCAPI_FILE = "asyncapi.json"
REGENERATE = "run `make contracts` (python -m premiums_contracts generate) and commit the result"


def committed_schemas(directory: Path) -> dict[str, dict[str, object]]:
    """The committed JSON Schemas under `<directory>/schemas`, keyed by ce_type (the file name)."""
    schemas_dir = directory / SCHEMAS_DIR
    if not schemas_dir.is_dir():
        return {}
    return {
        path.name.removesuffix(".json"): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(schemas_dir.glob("*.json"))
    }


def problems(directory: str | Path) -> list[str]:
    """Everything `check` reports: breaking changes, vanished event types, out-of-date files."""
    root = Path(directory)
    committed = committed_schemas(root)
    generated = all_schemas()
    found: list[str] = []

    for ce_type, old in committed.items():
        if ce_type not in generated:
            found.append(
                f"{ce_type}: event type vanished (committed schema exists, no model produces it); "
                "event types are never removed, add a v2 beside v1 instead"
            )
            continue
        found.extend(f"{ce_type}: {reason}" for reason in breaking_changes(old, generated[ce_type]))

    stale = []
    for name, text in schema_files().items():
        path = root / SCHEMAS_DIR / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(f"{SCHEMAS_DIR}/{name}")
    asyncapi_path = root / ASYNCAPI_FILE
    if not asyncapi_path.is_file() or asyncapi_path.read_text(encoding="utf-8") != asyncapi_text():
        stale.append(ASYNCAPI_FILE)
    if stale:
        found.append(f"out of date relative to the models: {', '.join(stale)}; {REGENERATE}")
    return found


def generate(out: str | Path) -> list[Path]:
    root = Path(out)
    written = write_schemas(root / SCHEMAS_DIR)
    written.append(write_asyncapi(root / ASYNCAPI_FILE))
    current = {schema_filename(t) for t in all_schemas()}
    for path in sorted((root / SCHEMAS_DIR).glob("*.json")):
        if path.name not in current:
            print(f"warning: {path} has no model any more (event types are never removed)", file=sys.stderr)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m premiums_contracts", description=(__doc__ or "").splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="write schemas/<ce_type>.json and asyncapi.json")
    gen.add_argument("--out", default="contracts", help="directory to write into (default: contracts)")
    chk = commands.add_parser("check", help="fail on breaking, vanished or out-of-date contracts")
    chk.add_argument("--dir", default="contracts", help="directory holding the committed files")
    args = parser.parse_args(argv)

    if args.command == "generate":
        written = generate(args.out)
        print(f"wrote {len(written)} files under {args.out}")
        return 0

    if not (Path(args.dir) / SCHEMAS_DIR).is_dir():
        print(f"no committed schemas under {args.dir}/{SCHEMAS_DIR}; {REGENERATE}", file=sys.stderr)
        return 1
    found = problems(args.dir)
    if found:
        print("contract check failed:", file=sys.stderr)
        for line in found:
            print(f"  - {line}", file=sys.stderr)
        return 1
    print(f"contracts OK: {len(all_schemas())} event types, backward compatible and up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
