"""ARCHITECTURE §5: our outbound NACHA files pass an independent validator.

The architecture names moov-io/ach's `achcli`; the Go module proxy refuses that module here, so `achlens`
(PyPI, Apache-2.0, its own parser and about 70 rules on structure, headers, entries, addenda and controls)
checks the files instead, through its command line, as a bank's pre-submission check would. Its rules know
TEL as a standard SEC code but only check CCD/PPD/WEB in depth, so a TEL batch header draws one warning
(BH004), never an error. It cannot judge return or NOC files (it rejects the standard 26/36 return
transaction codes and the COR batch), so those are checked by the parser tests, field by field.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from premiums_payments.adapters.nacha import Debit, Originator, build_file

ACHLENS = Path(sys.executable).parent / "achlens"
ORIGIN = Originator(odfi_routing="011000015", company_name="MA HEALTH CONNECTR", company_id="1046000000")
DEBITS = [
    Debit("011000015", "000123456789", "checking", Decimal("312.40"), "712345678", "Ana Rivera", "WEB"),
    Debit("021000021", "9876543210", "savings", Decimal("45.10"), "712345679", "Bo Chen", "WEB", payment_type="R"),
    Debit("091000019", "55551234", "checking", Decimal("100.00"), "712345680", "Cy Diaz", "TEL"),
    Debit("026009593", "44440001", "checking", Decimal("80.00"), "712345681", "Di Evans", "WEB", "RETRY PYMT", "R"),
    Debit("011000028", "33332222", "savings", Decimal("12.34"), "712345682", "Ed Fox", "PPD", payment_type="R"),
    Debit("011000028", "33332299", "checking", Decimal("0.01"), "712345683", "Flo Gil", "PPD", payment_type="R"),
]


def achlens(text: str, folder: Path) -> tuple[int, dict[str, Any]]:
    path = folder / "premiums.ach"
    path.write_text(text)
    run = subprocess.run([str(ACHLENS), "validate", str(path)], capture_output=True, text=True, timeout=120)
    return run.returncode, json.loads(run.stdout)


def our_file(traces: bool) -> list[str]:
    debits = [replace(d, trace_sequence=5000 + i if traces else None) for i, d in enumerate(DEBITS)]
    return build_file(ORIGIN, debits, datetime(2027, 1, 21, 0, 5), date(2027, 1, 22)).lines


def test_arch_5_a_file_of_ppd_web_tel_and_retry_pymt_batches_passes_achlens(tmp_path: Path) -> None:
    for traces in (False, True):
        lines = our_file(traces)
        code, report = achlens("\n".join(lines) + "\n", tmp_path)
        tel_header = next(n for n, line in enumerate(lines, 1) if line[0] == "5" and line[50:53] == "TEL")
        assert code == 0 and report["valid"] is True, report["findings"]
        assert report["counts"]["error"] == 0
        assert [(f["rule_id"], f["line_number"]) for f in report["findings"]] == [("BH004", tel_header)]
        assert report["summary"] == {"addenda_count": 0, "batch_count": 4, "entry_count": 6, "line_count": 20}


def test_arch_5_achlens_really_checks_a_control_total_is_refused(tmp_path: Path) -> None:
    """The negative control: a validator that passes everything would prove nothing."""
    lines = our_file(traces=True)
    entry = next(i for i, line in enumerate(lines) if line[0] == "6")
    lines[entry] = lines[entry][:38] + "9" + lines[entry][39:]
    code, report = achlens("\n".join(lines) + "\n", tmp_path)
    assert code == 1 and report["valid"] is False
    assert {"BC004", "FC005"} <= set(report["counts_by_rule"]), "batch and file debit totals no longer match"
