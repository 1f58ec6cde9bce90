"""The notice kinds of DOMAIN §6 and which of them the law requires (D14)."""

from __future__ import annotations

# The member learns that coverage never started because the binder was not paid (R1.9, R1.16). DOMAIN §6 has
# no number for it; it is the sequel of N1, hence its name.
NOT_EFFECTUATED = "N1C"

KINDS = (
    "N1",
    NOT_EFFECTUATED,
    "N2",
    "N3",
    "N4",
    "N5",
    "N6",
    "N7",
    "N8",
    "N9",
    "N10",
    "N11",
    "N12",
    "N13",
    "N14",
    "N15",
)

# D14 names N6-N8, N10, N12 and N13. N14 (returned check) has "the same content as N13" (DOMAIN §6), so it is
# held to the same rule.
LEGALLY_REQUIRED = frozenset({"N6", "N7", "N8", "N10", "N12", "N13", "N14"})

REMINDER = "N5"


def legally_required(kind: str) -> bool:
    """D14: these notices go out whatever the member's preferences say."""
    return kind in LEGALLY_REQUIRED
