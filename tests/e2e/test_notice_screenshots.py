"""Screenshots of rendered notices, taken with headless Chromium (Debian's package), kept under docs/notices/.

They show members' view of the system: the HTML email bodies in English and Spanish (D14).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from premiums_notifications.renderer import render

from tests.unit.notifications.test_catalogue import every_notice

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SHOTS = (("N3", "en"), ("N6", "es"), ("N13", "en"))
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@pytest.mark.parametrize(("kind", "language"), SHOTS)
def test_a_rendered_notice_is_photographed_in_headless_chromium(kind: str, language: str, tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is installed by `make bootstrap`"
    notice = next(n for n in every_notice() if n.kind == kind)
    rendered = render(kind, language, {**notice.facts, "first_name": "Ana", "last_name": "Rivera"})
    page = tmp_path / f"{kind}-{language}.html"
    page.write_text(rendered.html)
    shot = ROOT / "docs" / "notices" / f"{kind}-{language}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=760,1100",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert png_size(shot) == (760, 1100)
    assert shot.stat().st_size > 10_000, "a blank page compresses to almost nothing"
