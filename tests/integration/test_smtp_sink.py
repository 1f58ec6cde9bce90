"""The Go SMTP sink (`deploy/smtp-sink`, built into `.local/bin` by bootstrap or `premiums stack up`) stores
what the Python sink stores: `Return-Path`, one `X-Envelope-To` per recipient, then the message as sent.

A missing or stale binary is built first, as `premiums stack up` does; if it cannot be built the test fails.
"""

from __future__ import annotations

import email
import email.policy
import smtplib
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from premiums_cli.stack.paths import StackPaths
from premiums_cli.stack.smtp import build_native, native_binary, native_stale

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

BINARY = native_binary(StackPaths.discover())


@dataclass
class Sink:
    port: int
    maildir: Path

    def stored(self) -> list[Path]:
        """The files in new/, oldest first (the names start with the arrival time in nanoseconds)."""
        return sorted((self.maildir / "new").iterdir())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[Sink]:
    if not BINARY.exists() or native_stale(StackPaths.discover()):
        problem = build_native(StackPaths.discover())  # the same build the stack runs before starting the sink
        if problem is not None:
            pytest.fail(f"the Go SMTP sink cannot be built: {problem}", pytrace=False)
    running = Sink(free_port(), tmp_path / "mail")
    command = [str(BINARY), "--host", "127.0.0.1", "--port", str(running.port), "--maildir", str(running.maildir)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            assert process.poll() is None, f"the sink exited: {process.stdout.read() if process.stdout else ''!r}"
            try:
                socket.create_connection(("127.0.0.1", running.port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the sink does not accept connections after 10 s"
                time.sleep(0.05)
        yield running
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=15)
    assert process.returncode == 0, output
    names = [path.name for path in running.stored()]
    assert all(f"stored {name} from " in output.decode() for name in names), output
    assert not any((running.maildir / "tmp").iterdir()), "a message was left half-written in tmp/"


def test_messages_are_stored_with_their_envelope_and_survive_utf8_and_leading_dots(sink: Sink) -> None:
    notice = EmailMessage()
    notice["From"] = "Conector de Salud <no-reply@premiums.example>"
    notice["To"] = "José Núñez <josé@example.com>"
    notice["Subject"] = "Recibimos su pago — ¡gracias, José!"
    notice["Message-ID"] = "<sink-1@premiums.example>"
    text = "Hola José:\n.esta línea empieza con un punto\n..y esta con dos\n.\nAdiós, año 2027.\n"
    notice.set_content(text)
    notice.add_alternative("<p>Hola José, ¿qué tal?</p>\n.<p>ñandú</p>\n", subtype="html")
    lines = [b"From: Sistema <system@premiums.example>", b"Subject: plain", b"", b".leading dot", b"..two dots", b"end"]
    raw = b"".join(line + b"\r\n" for line in lines)

    with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as client:
        code, features = client.ehlo()
        assert code == 250 and b"SMTPUTF8" in features and b"PIPELINING" in features
        refused = client.send_message(
            notice, from_addr="bounce@premiums.example", to_addrs=["josé@example.com", "copy@example.com"]
        )
        assert refused == {}
        assert client.sendmail("", ["ops@premiums.example"], raw) == {}

    first, second = sink.stored()
    stored = email.message_from_bytes(first.read_bytes(), policy=email.policy.default)
    assert isinstance(stored, EmailMessage)
    assert stored["Return-Path"] == "<bounce@premiums.example>"
    assert stored.get_all("X-Envelope-To") == ["<josé@example.com>", "<copy@example.com>"]
    assert stored["Subject"] == "Recibimos su pago — ¡gracias, José!"
    assert stored["To"] == "José Núñez <josé@example.com>"
    assert stored["Message-ID"] == "<sink-1@premiums.example>"
    plain, html = stored.get_body(("plain",)), stored.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n") == text
    assert "¿qué tal?" in html.get_content() and "\n.<p>ñandú</p>" in html.get_content().replace("\r\n", "\n")

    # byte for byte: the envelope lines, then the message exactly as the client meant it (dots unstuffed)
    assert second.read_bytes() == b"Return-Path: <>\r\nX-Envelope-To: <ops@premiums.example>\r\n" + raw
