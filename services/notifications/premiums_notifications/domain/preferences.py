"""Member delivery preferences and the channels a notice goes out on (D14, DOMAIN §6 "Channels")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from premiums_notifications.domain.kinds import REMINDER, legally_required

Channel = Literal["email", "sms", "print"]
Language = Literal["en", "es"]


@dataclass(frozen=True)
class Preferences:
    """What a member chose; `None` language means "the one the enrollment system gave us"."""

    language: Language | None = None
    channels: tuple[Channel, ...] = ("email",)
    paperless: bool = True
    reminders_opt_out: bool = False


@dataclass(frozen=True)
class Reach:
    """How a member can be reached: what the enrollment system told us."""

    known: bool = False
    email: bool = False
    phone: bool = False


def channels_for(kind: str, prefs: Preferences, reach: Reach) -> tuple[Channel, ...]:
    """The channels `kind` goes out on for this member, at most once each.

    - A member we do not know yet is e-mailed (the sender waits for the contact details).
    - Reminders (N5) are e-mail/SMS only and respect the reminder opt-out.
    - Paper (`paperless=False`) adds a printed copy of every notice but reminders (DOMAIN §6: mail by default).
    - D14: a legally required notice always goes out on a channel that can carry it (e-mail or paper, never
      SMS alone) whatever the preferences say.
    """
    if not reach.known:
        return ("email",)
    if kind == REMINDER and prefs.reminders_opt_out and not legally_required(kind):
        return ()
    usable = {"email": reach.email, "sms": reach.phone, "print": kind != REMINDER}
    chosen: list[Channel] = [c for c in prefs.channels if usable[c]]
    if not prefs.paperless and kind != REMINDER and "print" not in chosen:
        chosen.append("print")
    if legally_required(kind) and not {"email", "print"} & set(chosen):
        chosen.append("email" if reach.email else "print")
    return tuple(dict.fromkeys(chosen))


def language_of(prefs: Preferences, contact_language: str | None) -> Language:
    """D14: the member's chosen language, else the enrollment's, else English."""
    chosen = prefs.language or contact_language
    return "es" if chosen == "es" else "en"
