"""Coverage's configurable product policies (D3, D5), read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from premiums_common.settings import SettingsError

LateBinder = Literal["cancel", "roll_forward"]


@dataclass(frozen=True)
class CoveragePolicy:
    late_binder: LateBinder = "cancel"
    threshold_percent: int | None = None

    @classmethod
    def from_env(cls) -> CoveragePolicy:
        """`COVERAGE_LATE_BINDER_POLICY` (D3, default `cancel`); `COVERAGE_PAYMENT_THRESHOLD_PERCENT` (D5, off)."""
        late = os.environ.get("COVERAGE_LATE_BINDER_POLICY", "cancel")
        if late not in ("cancel", "roll_forward"):
            raise SettingsError(f"COVERAGE_LATE_BINDER_POLICY must be 'cancel' or 'roll_forward', not {late!r}")
        raw = os.environ.get("COVERAGE_PAYMENT_THRESHOLD_PERCENT", "").strip()
        threshold = None
        if raw:
            if not raw.isdigit() or not 1 <= int(raw) <= 100:
                raise SettingsError("COVERAGE_PAYMENT_THRESHOLD_PERCENT must be a whole percentage from 1 to 100")
            threshold = int(raw)
        return cls("roll_forward" if late == "roll_forward" else "cancel", threshold)
