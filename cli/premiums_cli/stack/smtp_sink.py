"""A local SMTP sink: every message accepted is stored as one file in a Maildir (`<maildir>/new/`).

python -m premiums_cli.stack.smtp_sink --host 127.0.0.1 --port 1025 --maildir .local/mail
"""

from __future__ import annotations

import argparse
import asyncio
import mailbox
import os
import signal
import sys
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


class MaildirHandler:
    """aiosmtpd handler: the message bytes, as received, plus Return-Path and X-Envelope-To headers."""

    def __init__(self, maildir: Path) -> None:
        for sub in ("tmp", "new", "cur"):  # Maildir(create=True) skips these when `maildir` already exists
            (maildir / sub).mkdir(parents=True, exist_ok=True)
        self.maildir = mailbox.Maildir(maildir, create=False)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if not raw and envelope.content is not None:
            raw = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        trace = f"Return-Path: <{envelope.mail_from or ''}>\r\n" + "".join(
            f"X-Envelope-To: <{rcpt}>\r\n" for rcpt in envelope.rcpt_tos
        )
        key = await asyncio.to_thread(self.maildir.add, trace.encode() + raw)
        print(f"stored {key} from {envelope.mail_from} to {', '.join(envelope.rcpt_tos)}", flush=True)
        return "250 Message accepted for delivery"


async def serve(host: str, port: int, maildir: Path) -> None:
    handler = MaildirHandler(maildir)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def factory() -> Any:
        return SMTP(handler, hostname="premiums-smtp-sink", data_size_limit=25 * 1024 * 1024)

    server = await loop.create_server(factory, host=host, port=port, reuse_address=True)
    print(f"smtp sink listening on {host}:{port}, maildir {maildir}", flush=True)
    await stop.wait()
    print("smtp sink stopping", flush=True)
    server.close()
    await server.wait_closed()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default=os.environ.get("SMTP_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SMTP_PORT", "1025")))
    parser.add_argument("--maildir", type=Path, default=Path(os.environ.get("PREMIUMS_MAILDIR", ".local/mail")))
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.host, args.port, args.maildir.resolve()))
    except OSError as exc:
        print(f"smtp sink: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
