"""Renders a notice in the member's language (D14): a subject, a plain-text body, an HTML body and an SMS.

Each notice is one template per language (`templates/<lang>/<kind>.jinja`) that extends a layout and writes
its paragraphs and fact tables with the macros of the output format (`f`) and the words of its language
(`w`: months, dates, money, return reasons). The same template is compiled twice:
by a plain-text environment (no escaping) and by an HTML one (autoescape on), so the facts are written once
and every value in the HTML is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

_LOADER = PackageLoader("premiums_notifications", "templates")
# Templates ship with the package and never change under a running process: no per-render file checks.
_OPTIONS: dict[str, Any] = {
    "undefined": StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "auto_reload": False,
}
_TEXT = Environment(loader=_LOADER, autoescape=False, **_OPTIONS)
_HTML = Environment(loader=_LOADER, autoescape=True, **_OPTIONS)

LANGUAGES = ("en", "es")
SMS_TAIL = {"en": "Questions: 1-877-623-6765 (TTY 711).", "es": "Preguntas: 1-877-623-6765 (TTY 711)."}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    sms: str


def _render(env: Environment, fmt: str, kind: str, language: str, facts: dict[str, Any]) -> tuple[str, str]:
    context = {
        **facts,
        "f": env.get_template(f"_format.{fmt}").module,
        "w": env.get_template(f"{language}/_words.jinja").module,
        "language": language,
        "layout": f"_layout.{fmt}",
    }
    template = env.get_template(f"{language}/{kind}.jinja")
    subject = "".join(template.blocks["subject"](template.new_context(context))).strip()
    return subject, template.render(context, subject=subject)


def render(kind: str, language: str, facts: dict[str, Any]) -> Rendered:
    language = language if language in LANGUAGES else "en"
    subject, text = _render(_TEXT, "txt", kind, language, facts)
    _, html = _render(_HTML, "html", kind, language, facts)
    text = "\n".join(line.rstrip() for line in text.strip().splitlines()) + "\n"
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return Rendered(subject, text, html, f"{subject}. {SMS_TAIL[language]}")
