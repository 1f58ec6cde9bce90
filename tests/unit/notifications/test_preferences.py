"""D14: channels from preferences; legally required notices go out whatever the preferences say."""

from __future__ import annotations

from premiums_notifications.domain.kinds import LEGALLY_REQUIRED, legally_required
from premiums_notifications.domain.preferences import Preferences, Reach, channels_for, language_of

REACHABLE = Reach(known=True, email=True, phone=True)


def test_by_default_a_member_with_an_email_gets_every_notice_by_email_once() -> None:
    for kind in ("N1", "N3", "N4", "N5", "N6", "N13"):
        assert channels_for(kind, Preferences(), REACHABLE) == ("email",)


def test_a_member_not_known_yet_is_emailed_once_the_contact_arrives() -> None:
    assert channels_for("N4", Preferences(channels=("sms",)), Reach()) == ("email",)


def test_reminder_opt_out_stops_n5_but_not_the_past_due_warning() -> None:
    prefs = Preferences(reminders_opt_out=True)
    assert channels_for("N5", prefs, REACHABLE) == ()
    assert channels_for("N6", prefs, REACHABLE) == ("email",)


def test_d14_legally_required_notices_reach_a_member_who_chose_sms_only_by_email_too() -> None:
    prefs = Preferences(channels=("sms",))
    assert channels_for("N4", prefs, REACHABLE) == ("sms",)
    for kind in ("N6", "N7", "N8", "N10", "N12", "N13"):
        assert legally_required(kind)
        assert channels_for(kind, prefs, REACHABLE) == ("sms", "email")


def test_d14_legally_required_notices_go_on_paper_when_no_channel_was_chosen_and_no_email_is_on_file() -> None:
    prefs = Preferences(channels=())
    assert channels_for("N8", prefs, Reach(known=True)) == ("print",)
    assert channels_for("N3", prefs, Reach(known=True)) == ()


def test_paper_copies_for_members_who_are_not_paperless_but_never_paper_reminders() -> None:
    prefs = Preferences(channels=("email",), paperless=False)
    assert channels_for("N3", prefs, REACHABLE) == ("email", "print")
    assert channels_for("N5", prefs, REACHABLE) == ("email",)


def test_sms_needs_a_phone_number_on_file() -> None:
    assert channels_for("N4", Preferences(channels=("sms", "email")), Reach(known=True, email=True)) == ("email",)


def test_d14_the_legally_required_list_is_n6_to_n8_n10_n12_n13_and_the_returned_check() -> None:
    assert {"N6", "N7", "N8", "N10", "N12", "N13", "N14"} == LEGALLY_REQUIRED


def test_d14_the_chosen_language_wins_over_the_enrollment_language() -> None:
    assert language_of(Preferences(language="es"), "en") == "es"
    assert language_of(Preferences(), "es") == "es"
    assert language_of(Preferences(), None) == "en"
