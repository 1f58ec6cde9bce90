"""RFC 9457 problem details: every HTTP error is `application/problem+json` with a plain-language detail."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str, *, type: str = "about:blank", **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.type, self.extra = status, title, detail, type, extra


def problem_body(status: int, title: str, detail: str, *, type: str = "about:blank", **extra: Any) -> dict[str, Any]:
    return {"type": type, "title": title, "status": status, "detail": detail, **extra}


def problem_response(status: int, title: str, detail: str, *, type: str = "about:blank", **extra: Any) -> JSONResponse:
    body = problem_body(status, title, detail, type=type, **extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "request"


def describe_validation_errors(errors: list[dict[str, Any]]) -> str:
    """'amount: Input should be greater than 0' style sentences, without echoing the submitted values."""
    sentences = []
    for error in errors[:6]:
        message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        sentences.append(f"{_field(tuple(error.get('loc', ())))}: {message}")
    return "; ".join(sentences)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(_: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.detail, type=exc.type, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = describe_validation_errors(list(exc.errors()))
        return problem_response(422, "The request is not valid", detail)

    @app.exception_handler(HTTPException)
    async def on_http(_: Request, exc: HTTPException) -> JSONResponse:
        return problem_response(exc.status_code, str(exc.detail), str(exc.detail))

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(500, "Internal error", "Something went wrong on our side; nothing was changed.")
