"""The email channel's hand-written MIME message and the plain-text word wrap (issue 8: both replaced slower
standard-library paths, so they must say exactly what the old ones said)."""

from __future__ import annotations

import email
from email import policy

import pytest
from jinja2 import Environment
from jinja2.filters import do_wordwrap
from premiums_notifications.channels import Undeliverable
from premiums_notifications.email import build_message
from premiums_notifications.formats import wordwrap
from premiums_notifications.renderer import Rendered

SPANISH = Rendered(
    subject="Aviso de pago vencido: pague antes del 23 de marzo — Plan Médico Ñandú",
    text="Hola José,\n.\nLínea que empieza con punto\n" + "x" * 200 + "\n",
    html="<p>Hola José &amp; más</p>",
    sms="sms",
)


def test_the_message_parses_back_to_the_same_subject_text_and_html() -> None:
    raw = build_message("ntf_abc", "jose@example.org", SPANISH)
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == SPANISH.subject
    assert parsed["Message-ID"] == "<ntf_abc@premiums.example>"
    assert parsed["To"] == "jose@example.org"
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == SPANISH.text  # type: ignore[union-attr]
    assert parsed.get_body(("html",)).get_content().strip() == SPANISH.html  # type: ignore[union-attr]
    assert all(len(line) <= 998 for line in raw.split(b"\r\n")), "SMTP's line limit"
    assert b"\n" not in raw.replace(b"\r\n", b""), "CRLF line endings only"


def test_an_ascii_subject_stays_readable_in_the_raw_message() -> None:
    raw = build_message("ntf_1", "a@example.org", Rendered("Payment received", "t\n", "<p>h</p>", "s"))
    assert b"\r\nSubject: Payment received\r\n" in raw


@pytest.mark.parametrize("address", ["josé@example.org", "a@example.org\r\nBcc: x@example.org"])
def test_an_address_that_cannot_be_a_header_is_undeliverable_not_injected(address: str) -> None:
    with pytest.raises(Undeliverable):
        build_message("ntf_2", address, SPANISH)


def test_wordwrap_matches_jinjas_except_that_it_never_splits_a_word_at_a_hyphen() -> None:
    env = Environment(autoescape=False)
    text = "Pay by March 23, 2027 to keep your coverage: online, by phone at 1-877-623-6765, or by mail. " * 4
    for width in (40, 74, 78):
        ours, theirs = wordwrap(text, width), do_wordwrap(env, text, width)
        assert " ".join(ours.split()) == " ".join(theirs.replace("-\n", "-").split()), "the same words in order"
        assert all(len(line) <= width for line in ours.splitlines())
    assert do_wordwrap(env, "a a a a a AutoPay-enrolled", 20) == "a a a a a AutoPay-\nenrolled"
    assert wordwrap("a a a a a AutoPay-enrolled", 20) == "a a a a a\nAutoPay-enrolled"


def test_wordwrap_cuts_a_word_longer_than_the_line_and_uses_the_wrapstring() -> None:
    assert wordwrap("x" * 10, 4) == "xxxx\nxxxx\nxx"
    assert wordwrap("one two three", 8, wrapstring="\n    ") == "one two\n    three"


def test_an_ascii_notice_goes_as_it_is_and_parses_back_the_same() -> None:
    text, html = "Hello Ana,\n.\n" + "word " * 30 + "\n", '<p class="x">Pay $200.00 by May 23 = soon</p>\n'
    raw = build_message("ntf_3", "a@example.org", Rendered("Bill", text, html, "s"))
    assert raw.count(b"Content-Transfer-Encoding: 7bit\r\n") == 2 and b"quoted-printable" not in raw
    assert b"=3D" not in raw and b'class="x"' in raw, "nothing encoded"
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == text  # type: ignore[union-attr]
    assert parsed.get_body(("html",)).get_content().replace("\r\n", "\n") == html  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text", ["x" * 999 + "\n", "Línea en español\n", "x\0y\n"], ids=["long line", "not ascii", "nul"]
)
def test_a_part_that_7bit_cannot_carry_is_quoted_printable(text: str) -> None:
    raw = build_message("ntf_4", "a@example.org", Rendered("Bill", text, "<p>ok</p>", "s"))
    assert b"Content-Transfer-Encoding: quoted-printable\r\n" in raw and b"Content-Transfer-Encoding: 7bit" in raw
    assert all(len(line) <= 998 for line in raw.split(b"\r\n")), "SMTP's line limit"
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == text  # type: ignore[union-attr]


def test_a_bare_carriage_return_from_a_fact_ends_a_line_and_never_reaches_the_wire() -> None:
    html = "<p>Hello Ana\rBcc: x</p>\r\n"
    raw = build_message("ntf_5", "a@example.org", Rendered("Bill", "t\n", html, "s"))
    assert b"\r" not in raw.replace(b"\r\n", b""), "no bare CR"
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed.get_body(("html",)).get_content().replace("\r\n", "\n") == "<p>Hello Ana\nBcc: x</p>\n"  # type: ignore[union-attr]
