"""Bearer tokens (ARCHITECTURE §3) and who may act for a member."""

from __future__ import annotations

import pytest
from premiums_common.auth import Principal, mint_token, require_staff, verify_token
from premiums_common.problems import Problem

SECRET = "unit-test-secret-that-is-long-enough-for-hs256!"
MEMBER = "100000000001"


def test_a_member_token_round_trips() -> None:
    principal = verify_token(SECRET, mint_token(SECRET, MEMBER, "member"))
    assert principal == Principal(subject=MEMBER, role="member")


@pytest.mark.parametrize("role", ["staff", "service"])
def test_staff_and_service_tokens_round_trip(role: str) -> None:
    assert verify_token(SECRET, mint_token(SECRET, "ops-1", role)).role == role  # type: ignore[arg-type]


def test_an_expired_token_is_a_401_with_a_plain_detail() -> None:
    token = mint_token(SECRET, MEMBER, "member", ttl_seconds=-60)
    with pytest.raises(Problem) as caught:
        verify_token(SECRET, token)
    assert caught.value.status == 401
    assert caught.value.detail == "Your session has expired; sign in again."


def test_a_forged_signature_is_a_401() -> None:
    token = mint_token("another-secret-that-is-also-long-enough-for-hs256", MEMBER, "staff")
    with pytest.raises(Problem) as caught:
        verify_token(SECRET, token)
    assert caught.value.status == 401
    assert caught.value.detail == "The bearer token is not valid."


def test_a_token_with_a_tampered_payload_is_a_401() -> None:
    header, _payload, signature = mint_token(SECRET, MEMBER, "member").split(".")
    other_payload = mint_token(SECRET, MEMBER, "staff").split(".")[1]
    with pytest.raises(Problem) as caught:
        verify_token(SECRET, f"{header}.{other_payload}.{signature}")
    assert caught.value.status == 401


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c"])
def test_garbage_is_a_401(garbage: str) -> None:
    with pytest.raises(Problem) as caught:
        verify_token(SECRET, garbage)
    assert caught.value.status == 401


def test_an_unknown_role_is_a_401() -> None:
    token = mint_token(SECRET, MEMBER, "admin")  # type: ignore[arg-type]
    with pytest.raises(Problem) as caught:
        verify_token(SECRET, token)
    assert caught.value.status == 401
    assert "no known role" in caught.value.detail


def test_a_member_may_act_only_for_their_own_member_id() -> None:
    member = Principal(subject=MEMBER, role="member")
    assert member.may_act_for(MEMBER)
    assert not member.may_act_for("100000000002")


@pytest.mark.parametrize("role", ["staff", "service"])
def test_staff_and_service_may_act_for_any_member(role: str) -> None:
    assert Principal(subject="ops-1", role=role).may_act_for(MEMBER)  # type: ignore[arg-type]


def test_only_staff_and_service_pass_require_staff() -> None:
    require_staff(Principal("ops-1", "staff"))
    require_staff(Principal("autopay", "service"))
    with pytest.raises(Problem) as caught:
        require_staff(Principal(MEMBER, "member"))
    assert caught.value.status == 403
