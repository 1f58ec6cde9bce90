"""Every v1 event model, and the registry that maps a `ce_type` to its model."""

from premiums_contracts.events.autopay import (
    AutopayCancelled,
    AutopayChanged,
    AutopayDraftScheduled,
    AutopayEnrolled,
    AutopaySuspended,
)
from premiums_contracts.events.base import CoverageMonth, Event, Money, coverage_month_of
from premiums_contracts.events.coverage import (
    AccountDelinquent,
    CoverageActivated,
    CoverageReinstated,
    CoverageTerminated,
    EnrollmentCancelledNoBinder,
    InvoiceIssued,
    PaymentApplied,
    ReinstatementRequested,
)
from premiums_contracts.events.enrollment import (
    EnrollmentCancelled,
    EnrollmentSubmitted,
    MemberContact,
    MemberContactChanged,
    PremiumChanged,
)
from premiums_contracts.events.notifications import (
    BusinessDateAdvanced,
    NotificationFailed,
    NotificationSent,
)
from premiums_contracts.events.payments import (
    BankAccountChanged,
    PaymentCleared,
    PaymentReturned,
    PaymentSubmitted,
    PaymentUnapplied,
    RequestPayment,
)

ALL_EVENTS: tuple[type[Event], ...] = (
    EnrollmentSubmitted,
    EnrollmentCancelled,
    PremiumChanged,
    MemberContactChanged,
    RequestPayment,
    PaymentSubmitted,
    PaymentCleared,
    PaymentReturned,
    PaymentUnapplied,
    BankAccountChanged,
    InvoiceIssued,
    CoverageActivated,
    EnrollmentCancelledNoBinder,
    PaymentApplied,
    AccountDelinquent,
    CoverageTerminated,
    CoverageReinstated,
    ReinstatementRequested,
    AutopayEnrolled,
    AutopayChanged,
    AutopayCancelled,
    AutopaySuspended,
    AutopayDraftScheduled,
    NotificationSent,
    NotificationFailed,
    BusinessDateAdvanced,
)

EVENT_TYPES: dict[str, type[Event]] = {cls.ce_type(): cls for cls in ALL_EVENTS}


def event_class(ce_type: str) -> type[Event] | None:
    return EVENT_TYPES.get(ce_type)


__all__ = [
    "ALL_EVENTS",
    "EVENT_TYPES",
    "AccountDelinquent",
    "AutopayCancelled",
    "AutopayChanged",
    "AutopayDraftScheduled",
    "AutopayEnrolled",
    "AutopaySuspended",
    "BankAccountChanged",
    "BusinessDateAdvanced",
    "CoverageActivated",
    "CoverageMonth",
    "CoverageReinstated",
    "CoverageTerminated",
    "EnrollmentCancelled",
    "EnrollmentCancelledNoBinder",
    "EnrollmentSubmitted",
    "Event",
    "InvoiceIssued",
    "MemberContact",
    "MemberContactChanged",
    "Money",
    "NotificationFailed",
    "NotificationSent",
    "PaymentApplied",
    "PaymentCleared",
    "PaymentReturned",
    "PaymentSubmitted",
    "PaymentUnapplied",
    "PremiumChanged",
    "ReinstatementRequested",
    "RequestPayment",
    "coverage_month_of",
    "event_class",
]
