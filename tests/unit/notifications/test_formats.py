"""The building blocks of every notice (`formats.py`): plain text and HTML written from the same calls (D14)."""

from __future__ import annotations

from markupsafe import Markup
from premiums_notifications.formats import HtmlFormat, TextFormat


def test_facts_align_their_values_and_leave_out_a_missing_one() -> None:
    rows = [("Pay by", "May 23, 2027"), ("Past due", None), ("Total due", "$200.00")]
    assert TextFormat.facts(rows) == "  Pay by:     May 23, 2027\n  Total due:  $200.00\n\n"
    assert TextFormat.facts([]) == "\n"


def test_html_escapes_every_value_that_is_not_markup_already() -> None:
    html = HtmlFormat.facts([("Name", "<b>Ana</b> & co"), ("Plan", Markup("<i>Gold</i>")), ("Gone", None)])
    assert "&lt;b&gt;Ana&lt;/b&gt; &amp; co" in html and "<i>Gold</i>" in html and "Gone" not in html
    assert isinstance(html, Markup)
    assert HtmlFormat.steps(["a < b", "", "c"]) == '<ul class="steps">\n<li>a &lt; b</li>\n<li>c</li>\n</ul>\n'
    assert HtmlFormat.heading("Q&A") == "<h2>Q&amp;A</h2>\n"


def test_a_text_paragraph_is_one_line_of_words_wrapped_at_78_columns() -> None:
    body = "  Pay your premium\nby the 23rd. " + "word " * 20
    wrapped = TextFormat.para(lambda: body)
    assert wrapped.endswith("\n\n") and all(len(line) <= 78 for line in wrapped.splitlines())
    assert wrapped.split() == body.split()
    steps = TextFormat.steps(["one " * 20, ""])
    assert steps.startswith("  - one") and "\n    one" in steps and steps.endswith("one\n\n")


def test_an_html_paragraph_keeps_its_escaped_body_and_trims_it() -> None:
    assert HtmlFormat.para(lambda: Markup(" Hello &amp; welcome\n")) == Markup("<p>Hello &amp; welcome</p>\n")
