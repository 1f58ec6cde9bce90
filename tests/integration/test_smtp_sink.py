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


def _replies(sock: socket.socket, count: int) -> list[str]:
    """`count` replies (the last line of each), read from a raw socket."""
    buffer, replies = b"", []
    while len(replies) < count:
        chunk = sock.recv(65536)
        assert chunk, f"the sink closed the connection after {replies}"
        buffer += chunk
        while b"\r\n" in buffer and len(replies) < count:
            line, buffer = buffer.split(b"\r\n", 1)
            if line[3:4] != b"-":
                replies.append(line.decode())
    return replies


def test_chunking_takes_whole_pipelined_transactions_and_reads_a_refused_chunk_all_the_same(sink: Sink) -> None:
    """RFC 3030 with RFC 2920: MAIL, RCPT, BDAT and the octets go in one write; chunks are taken as they are (no
    dot-unstuffing, no end marker); a refused transaction's chunk is still read, so the session stays in step."""
    first, second = b".leading dot\r\n", b"..two dots stay two\r\n.\r\nend\r\n"
    third = b"Subject: after a refusal\r\n\r\nstill in step\r\n"
    with socket.create_connection(("127.0.0.1", sink.port), timeout=10) as sock:
        assert _replies(sock, 1)[0].startswith("220")
        sock.sendall(b"EHLO client.example\r\n")
        sock.settimeout(10)
        features = b""
        while not features.endswith(b"250 SMTPUTF8\r\n"):
            features += sock.recv(4096)
        assert b"250-CHUNKING" in features and b"250-PIPELINING" in features
        sock.sendall(
            b"MAIL FROM:<a@premiums.example>\r\nRCPT TO:<m0@example.org>\r\n"
            + f"BDAT {len(first)}\r\n".encode()
            + first
            + f"BDAT {len(second)} LAST\r\n".encode()
            + second
            # no valid recipient: the chunk is refused and read all the same
            + b"MAIL FROM:<a@premiums.example>\r\nRCPT TO:<>\r\nBDAT 12 LAST\r\nMAIL FROM:<>"
            # a chunk with no transaction at all (its octets look like a command and are not one), then RSET
            + b"BDAT 6 LAST\r\nRSET\r\nRSET\r\n"
            + b"MAIL FROM:<a@premiums.example>\r\nRCPT TO:<m1@example.org>\r\n"
            + f"BDAT {len(third)} LAST\r\n".encode()
            + third
        )
        replies = _replies(sock, 12)
        accepted = "250 Message accepted for delivery"
        assert replies[:4] == ["250 OK", "250 OK", f"250 {len(first)} octets received", accepted]
        assert replies[4].startswith("250") and replies[5].startswith("501") and replies[6].startswith("554")
        assert replies[7].startswith("503") and replies[8] == "250 OK"
        assert replies[9:] == ["250 OK", "250 OK", accepted]
        sock.sendall(b"BDAT not-a-size\r\n")
        assert _replies(sock, 1)[0].startswith("501")
        assert sock.recv(1) == b"", "a chunk of unknown length ends the session"
    stored = [p.read_bytes() for p in sink.stored()]
    assert stored == [
        b"Return-Path: <a@premiums.example>\r\nX-Envelope-To: <m0@example.org>\r\n" + first + second,
        b"Return-Path: <a@premiums.example>\r\nX-Envelope-To: <m1@example.org>\r\n" + third,
    ]
