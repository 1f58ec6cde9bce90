"""Renders a notice in the member's language: a subject, a plain-text body and an HTML body."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

_env = Environment(
    loader=PackageLoader("premiums_notifications", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _block(template: Any, name: str, facts: dict[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(facts))).strip()


def render(kind: str, language: str, facts: dict[str, Any]) -> Rendered:
    language = language if language in ("en", "es") else "en"
    template = _env.get_template(f"{language}/{kind}.txt")
    subject = _block(template, "subject", facts)
    footer = _env.get_template(f"footer.{language}.txt").render().strip()
    text = f"{_block(template, 'body', facts)}\n\n{footer}\n"
    paragraphs = "".join(f'<p style="white-space: pre-wrap">{escape(p)}</p>' for p in text.split("\n\n") if p.strip())
    html = Markup(f'<!doctype html><html lang="{language}"><body>{paragraphs}</body></html>')
    return Rendered(subject, text, str(html))
