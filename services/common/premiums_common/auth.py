"""Bearer tokens (ARCHITECTURE §3): HS256 JWTs with `sub` and `role` (`member`, `staff`, `service`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import jwt
from fastapi import Request

from premiums_common.problems import Problem

Role = Literal["member", "staff", "service"]
ISSUER = "premiums"
PRINCIPAL = "principal"  # where the HTTP front door leaves the caller it already verified (request state)


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role

    def may_act_for(self, member_id: str) -> bool:
        return self.role in ("staff", "service") or self.subject == member_id


def mint_token(secret: str, subject: str, role: Role, *, ttl_seconds: int = 3600) -> str:
    now = int(time.time())
    claims = {"sub": subject, "role": role, "iss": ISSUER, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], issuer=ISSUER, options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError as exc:
        raise Problem(401, "Unauthorized", "Your session has expired; sign in again.") from exc
    except jwt.PyJWTError as exc:
        raise Problem(401, "Unauthorized", "The bearer token is not valid.") from exc
    role = claims.get("role")
    if role not in ("member", "staff", "service"):
        raise Problem(401, "Unauthorized", "The bearer token carries no known role.")
    return Principal(subject=str(claims["sub"]), role=role)


def _principal(request: Request) -> Principal:
    verified = getattr(request.state, PRINCIPAL, None)
    if isinstance(verified, Principal):
        return verified
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Problem(401, "Unauthorized", "Sign in first: this endpoint needs an Authorization: Bearer token.")
    return verify_token(request.app.state.service.settings.jwt_secret, token)


def require_staff(principal: Principal) -> None:
    if principal.role not in ("staff", "service"):
        raise Problem(403, "Forbidden", "Only Health Connector staff can use this endpoint.")


async def authenticate(request: Request) -> Principal:
    """FastAPI dependency: the caller of this request, from `Authorization: Bearer <JWT>`.

    `async` although it waits for nothing: FastAPI runs a plain `def` dependency in a worker thread, and that
    hop (with the GIL handed back and forth) cost more than the whole payment under load."""
    return _principal(request)


async def authenticate_staff(request: Request) -> Principal:
    """FastAPI dependency for staff endpoints: dependencies run before the body is validated, so a member
    gets 403 here, not a list of what their body lacks."""
    principal = _principal(request)
    require_staff(principal)
    return principal
