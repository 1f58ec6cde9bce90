"""Unapplied cash (R4.8): match a mailed payment to one enrollment, or hold it in suspense with a reason."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MailMatch:
    enrollment_id: str | None
    reason: str | None


def match_mail_payment(
    *, by_enrollment: list[str] | None, by_billing_account: list[str] | None, by_member: list[str] | None
) -> MailMatch:
    """R4.8 precedence: the enrollment (coupon) → the Billing Account Number → the Member ID.

    Each argument lists the open enrollments that identifier finds (None when it was not given). The first
    identifier given decides; it must find exactly one open enrollment (R1.5: one payment, one enrollment).
    """
    for label, found in (
        ("Enrollment ID", by_enrollment),
        ("Billing Account Number", by_billing_account),
        ("Member ID", by_member),
    ):
        if found is None:
            continue
        if len(found) == 1:
            return MailMatch(found[0], None)
        if not found:
            return MailMatch(None, f"The {label} on the payment matches no open enrollment.")
        return MailMatch(
            None, f"The {label} matches {len(found)} open enrollments; health and dental are paid separately."
        )
    return MailMatch(None, "The payment came without an Enrollment ID, Billing Account Number or Member ID.")
