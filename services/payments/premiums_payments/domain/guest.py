"""Guest payments (R4.2): the member data must match our records before any money moves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

MISMATCH_LIMIT = 5
LOCKOUT_HOURS = 24

# R4.2, MAHC's own words; deliberately silent on which field did not match.
DOES_NOT_MATCH = (
    "The information you entered about yourself does not match our records. "
    "As a result, we were unable to withdraw a payment from your bank account."
)
LOCKED_OUT = (
    "For your security, guest payments for this Member ID are paused for 24 hours after 5 attempts "
    "that did not match our records. Sign in to pay, or call Customer Service at 1-877-623-6765 (TTY 711)."
)


@dataclass(frozen=True)
class MemberRecord:
    member_id: str
    date_of_birth: date
    zip: str
    enrollments: frozenset[str]
    billing_accounts: frozenset[str]


@dataclass(frozen=True)
class GuestClaim:
    member_id: str
    date_of_birth: date
    zip: str
    enrollment_id: str | None
    billing_account: str | None


def zip5(value: str) -> str:
    return value.strip().replace("-", "")[:5]


def identity_matches(record: MemberRecord | None, claim: GuestClaim) -> bool:
    """R4.2: member ID, date of birth, ZIP and the enrollment (or billing account) all match."""
    if record is None or record.member_id != claim.member_id:
        return False
    if claim.enrollment_id is not None:
        pays_for = claim.enrollment_id in record.enrollments
    else:
        pays_for = claim.billing_account in record.billing_accounts
    return pays_for and record.date_of_birth == claim.date_of_birth and zip5(record.zip) == zip5(claim.zip)


def locked_out(recent_mismatches: int) -> bool:
    """R4.2 [ASSUMED]: 5 mismatches within 24 hours pause guest payments for that member ID."""
    return recent_mismatches >= MISMATCH_LIMIT
