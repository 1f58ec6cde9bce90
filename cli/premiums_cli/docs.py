"""`premiums docs`: publish the OpenAPI document of every service and the AsyncAPI document under docs/.

The services are built (not started) with placeholder settings, so no database or broker is needed.
"""

from __future__ import annotations

import argparse
import base64
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from premiums_common.settings import SERVICE_PORTS, Settings

from premiums_cli.stack import project_root

PLACEHOLDER_KEY = base64.urlsafe_b64encode(bytes(32)).decode()


def openapi(service: str) -> dict[str, Any]:
    settings = Settings(
        service=service,
        kafka_bootstrap_servers="kafka:9092",
        database_url=f"postgresql://docs/{service}",
        http_host="127.0.0.1",
        http_port=SERVICE_PORTS[service],
        clock_mode="wall",
        jwt_secret="docs",
        data_key=PLACEHOLDER_KEY,
        smtp_host="smtp",
        smtp_port=25,
        maildir=None,
        log_level="WARNING",
    )
    app = importlib.import_module(f"premiums_{service}.app").build(settings).app
    document: dict[str, Any] = app.openapi()
    document["servers"] = [{"url": f"http://127.0.0.1:{SERVICE_PORTS[service]}", "description": "local stack"}]
    return document


def documents() -> dict[Path, str]:
    root = project_root()
    out = {root / "docs" / "openapi" / f"{s}.json": json.dumps(openapi(s), indent=2) + "\n" for s in SERVICE_PORTS}
    out[root / "docs" / "asyncapi.json"] = (root / "contracts" / "asyncapi.json").read_text()
    return out


def stale() -> list[str]:
    return [
        str(p.relative_to(project_root()))
        for p, text in documents().items()
        if not p.is_file() or p.read_text() != text
    ]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("docs", help="write the OpenAPI and AsyncAPI documents under docs/")
    parser.add_argument("--check", action="store_true", help="fail if the published documents are out of date")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.check:
        out_of_date = stale()
        if out_of_date:
            print(f"out of date: {', '.join(out_of_date)}; run `premiums docs`", file=sys.stderr)
        return 1 if out_of_date else 0
    for path, text in documents().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(project_root())}")
    return 0
