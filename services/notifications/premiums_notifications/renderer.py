"""Renders a notice in the member's language (D14): a subject, a plain-text body, an HTML body and an SMS.

Each notice is one template per language (`templates/<lang>/<kind>.jinja`) that extends a layout and writes
its paragraphs and fact tables with the building blocks of the output format (`f`, `formats.py`) and the
words of its language (`w`: months, dates, money, return reasons). The same template is compiled twice: by a
plain-text environment (no escaping) and by an HTML one (autoescape on), so the facts are written once
and every value in the HTML is escaped.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from premiums_notifications.formats import FORMATS

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


class _Remembered:
    """A template module whose pure macros (`PURE_MACROS`: words and headings, no `caller`) remember their
    answers. The macros of an imported module depend only on their arguments, and a day's notices ask for the
    same few months, dates and amounts thousands of times; a Jinja macro call costs tens of microseconds."""

    def __init__(self, module: Any) -> None:
        self._module = module
        for name in PURE_MACROS:
            if hasattr(module, name):
                setattr(self, name, _remembering(getattr(module, name)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


PURE_MACROS = ("month", "day", "money", "reason")


def _remembering(macro: Any) -> Any:
    remembered = functools.lru_cache(maxsize=4096)(macro)

    def call(*args: Any) -> Any:
        try:
            return remembered(*args)
        except TypeError:  # an argument that cannot be a key (a list): asked afresh
            return macro(*args)

    return call


@functools.cache
def _module(env: Environment, name: str) -> _Remembered:
    return _Remembered(env.get_template(name).module)


def _render(env: Environment, fmt: str, kind: str, language: str, facts: dict[str, Any]) -> tuple[str, str]:
    context = {
        **facts,
        "f": FORMATS[fmt],
        "w": _module(env, f"{language}/_words.jinja"),
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


RenderJob = tuple[str, str, dict[str, Any]]
"""(kind, language, facts) of one notice."""

log = logging.getLogger(__name__)


def render_all(jobs: Sequence[RenderJob]) -> list[Rendered]:
    return [render(kind, language, facts) for kind, language, facts in jobs]


class RenderPool:
    """Renders a batch of notices in worker processes, so templating (most of a notice's CPU) runs beside the
    sender's SMTP and database work instead of in turn with it. With no workers it renders in-process."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    async def render(self, jobs: Sequence[RenderJob]) -> list[Rendered]:
        if self.workers < 1 or len(jobs) < 2 * self.workers:
            return render_all(jobs)
        size = -(-len(jobs) // self.workers)
        chunks = [list(jobs[i : i + size]) for i in range(0, len(jobs), size)]
        loop = asyncio.get_running_loop()
        try:
            parts = await asyncio.gather(*(loop.run_in_executor(self._executor(), render_all, c) for c in chunks))
        except BrokenProcessPool:
            log.warning("a render worker died; rendering this batch in-process and starting new workers")
            self.close()
            return render_all(jobs)
        return [rendered for part in parts for rendered in part]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
