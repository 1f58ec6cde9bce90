"""The building blocks every notice template writes with (`f.para`, `f.heading`, `f.facts`, `f.steps`), once
for plain text and once for HTML.

They were Jinja macros; as Python they write the same bytes at a fraction of the cost (a macro call builds a
new template context, and a notice made about fourteen of them: most of the time it took to render). A
template calls them exactly as before, `{% call f.para() %}…{% endcall %}` included.

In HTML every value is escaped here (`markupsafe.escape`), as autoescaping did: a paragraph's body arrives as
`Markup` already escaped by its template, and facts and steps are escaped unless they are `Markup` already.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from markupsafe import Markup, escape

Rows = Iterable[tuple[str, Any]]


def wordwrap(text: str, width: int = 79, break_long_words: bool = True, wrapstring: str = "\n") -> str:
    """Greedy wrapping at spaces, for the plain-text notices: Jinja's own `wordwrap` goes through `textwrap`,
    whose regular expressions were a quarter of the time it took to render a notice. Runs of spaces collapse
    and words are never split at hyphens ("pay-by" stays whole); a word longer than a line is cut only if
    `break_long_words`."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            while break_long_words and len(word) > width:
                if line:
                    lines.append(line)
                    line = ""
                lines.append(word[:width])
                word = word[width:]
            if not line:
                line = word
            elif len(line) + 1 + len(word) <= width:
                line = f"{line} {word}"
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return wrapstring.join(lines)


@functools.lru_cache(maxsize=4096)
def _paragraph(text: str) -> str:
    """A plain-text paragraph, wrapped. Most paragraphs recur word for word from notice to notice (the footer,
    a due date or a month many members share), so each is wrapped once."""
    return f"{wordwrap(text.replace(chr(10), ' '), 78)}\n\n"


@functools.lru_cache(maxsize=1024)
def _step(item: str) -> str:
    """One step of a plain-text list, wrapped under its dash; the steps to pay are the same in every bill."""
    return f"  - {wordwrap(item, 74, wrapstring=chr(10) + '    ')}\n"


class TextFormat:
    """Plain text: paragraphs wrapped at 78 columns, headings in capitals, facts as aligned label: value lines."""

    @staticmethod
    def para(caller: Callable[[], str]) -> str:
        return _paragraph(caller().strip())

    @staticmethod
    @functools.lru_cache(maxsize=256)
    def heading(text: str) -> str:
        return f"{text.upper()}\n\n"

    @staticmethod
    def facts(rows: Rows) -> str:
        shown = [(label, value) for label, value in rows if value is not None]
        width = max((len(label) for label, _ in shown), default=0)
        lines = "".join(f"  {label}:{' ' * (width - len(label) + 2)}{value}\n" for label, value in shown)
        return f"{lines}\n"

    @staticmethod
    def steps(items: Iterable[str]) -> str:
        return "".join(_step(str(item)) for item in items if item) + "\n"


class HtmlFormat:
    """HTML: <p>, <h2>, a facts table and a list of steps; every value escaped."""

    @staticmethod
    def para(caller: Callable[[], str]) -> Markup:
        return Markup(f"<p>{caller().strip()}</p>\n")

    @staticmethod
    @functools.lru_cache(maxsize=256)
    def heading(text: str) -> Markup:
        return Markup(f"<h2>{escape(text)}</h2>\n")

    @staticmethod
    def facts(rows: Rows) -> Markup:
        cells = "".join(
            f'<tr><th scope="row">{escape(label)}</th><td>{escape(value)}</td></tr>\n'
            for label, value in rows
            if value is not None
        )
        return Markup(f'<table class="facts" role="presentation">\n{cells}</table>\n')

    @staticmethod
    def steps(items: Iterable[str]) -> Markup:
        listed = "".join(f"<li>{escape(item)}</li>\n" for item in items if item)
        return Markup(f'<ul class="steps">\n{listed}</ul>\n')


FORMATS: dict[str, type[TextFormat] | type[HtmlFormat]] = {"txt": TextFormat, "html": HtmlFormat}
