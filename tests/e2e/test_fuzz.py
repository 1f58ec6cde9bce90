"""Property-based fuzzing of every service's HTTP API (issue 7): schemathesis generates requests from the
published OpenAPI documents (valid and invalid ones: its coverage, fuzzing and stateful phases) against the
running processes, and no request may end in a 5xx. Run by hand with more examples:

    .venv/bin/st run docs/openapi/payments.json --url http://127.0.0.1:8001 --checks not_a_server_error \\
        -n 500 -H "Authorization: Bearer $(.venv/bin/premiums token --staff ops)"
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from premiums_cli.stack import project_root
from premiums_cli.token import token_for

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("system"), pytest.mark.timeout(900)]

PORTS = {"payments": 8001, "autopay": 8002, "coverage": 8003, "notifications": 8004}
EXAMPLES = 50


def generated_cases(output: str) -> int:
    """The number of test cases from schemathesis' summary ("Test cases: 86 generated, 86 passed")."""
    found = re.search(r"(\d+) generated", output)
    return int(found.group(1)) if found else 0


@pytest.mark.parametrize("service", sorted(PORTS))
def test_no_generated_request_makes_a_service_fail_with_a_5xx(service: str) -> None:
    token = token_for("fuzz-staff", "staff")  # staff reach every endpoint and are not rate limited
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        str(project_root() / "docs" / "openapi" / f"{service}.json"),
        "--url",
        f"http://127.0.0.1:{PORTS[service]}",
        "--checks",
        "not_a_server_error",
        "-n",
        str(EXAMPLES),
        "--generation-deterministic",
        "-H",
        f"Authorization: Bearer {token}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=800)
    tail = "\n".join(result.stdout.splitlines()[-40:])
    cases = generated_cases(result.stdout)
    print(f"schemathesis {service}: {cases} cases, exit {result.returncode}")
    assert result.returncode == 0, f"schemathesis found a server error in {service}:\n{tail}\n{result.stderr[-2000:]}"
    assert cases >= 20, f"too few cases ran:\n{tail}"
