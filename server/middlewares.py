"""Cross-cutting request handling: errors, global limits, authentication and rates.

One middleware does it all, in this order (each step a function of its own; one layer
rather than three, as every layer costs each request a coroutine and a call)::

    errors ─► limits ─► auth ─► handler

* **errors**: every refusal becomes ``{"error": CODE, "detail": ...}`` with a 4xx status
  (503 only when the relay itself is full or its disk fails). An exception nobody planned
  for is logged by type and code location only — never its message, which could quote
  input — and answered 400: whatever reached it came from the request.
* **limits**: a bound on requests handled at once, and no compressed bodies (a small
  compressed body can expand without bound; casecircle never compresses, ATTACKS E4, K6).
* **auth**: a handler marked :func:`public` is open (rate-limited per client address);
  every other one needs ``Authorization: Bearer <token>`` of a usable device, and is
  rate-limited per device.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler

from crypto.errors import CasecircleError, InvalidSignatureError
from server.errors import (
    OverloadedError,
    RelayError,
    UnauthorizedError,
    UnsupportedMediaError,
)
from server.keys import ADDRESS_RATES, AUTHENTICATOR, CONFIG, DEVICE, DEVICE_RATES, IN_FLIGHT

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Awaitable[web.StreamResponse]])

_PUBLIC_HANDLERS: set[Callable[..., Any]] = set()

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def public(handler: F) -> F:
    """Mark a handler as reachable without a session token."""
    _PUBLIC_HANDLERS.add(handler)
    return handler


def is_public(handler: Any) -> bool:
    return handler in _PUBLIC_HANDLERS


def error_body(status: int, code: str, detail: str, **extra: Any) -> web.Response:
    return web.json_response({"error": code, "detail": detail, **extra}, status=status)


def _where(exc: BaseException) -> str:
    """Where an exception was raised — file, line, function — without its message."""
    frames = traceback.extract_tb(exc.__traceback__)
    return " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}:{f.name}" for f in frames[-4:])


@web.middleware
async def relay_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        counter = request.app[IN_FLIGHT]
        refuse_beyond_limits(request, counter[0])
        counter[0] += 1
        try:
            await authenticate(request)
            return await handler(request)
        finally:
            counter[0] -= 1
    except Exception as exc:  # noqa: BLE001 - each kind is answered or re-raised below
        return error_response(request, exc)


def error_response(request: web.Request, exc: Exception) -> web.Response:
    """The JSON answer to a refusal; re-raises what is not one (a redirect, or the client
    going away)."""
    match exc:
        case RelayError():
            return error_body(exc.status, exc.code, str(exc), **exc.extra())
        case InvalidSignatureError():
            return error_body(400, exc.code, "a signature does not verify")
        case CasecircleError():  # the protocol decoder's and crypto checks' refusals
            return error_body(400, exc.code, type(exc).__name__)
        case web.HTTPException() if exc.status < 400:
            raise exc
        case web.HTTPException():
            code = _HTTP_CODES.get(exc.status, "bad_request" if exc.status < 500 else "unavailable")
            response = error_body(exc.status, code, exc.reason)
            if "Allow" in exc.headers:  # a 405 names the methods the resource has (RFC 9110)
                response.headers["Allow"] = exc.headers["Allow"]
            return response
        case ConnectionResetError() | TimeoutError():
            log.info("request %s %s ended: %s", request.method, request.path, type(exc).__name__)
            raise exc
    log.error(  # no traceback text: messages may quote the input
        "unexpected %s in %s %s at %s",
        type(exc).__name__,
        request.method,
        request.match_info.route.resource.canonical if request.match_info.route.resource else "?",
        _where(exc),
    )
    return error_body(400, "unprocessable", "the request could not be processed")


def refuse_beyond_limits(request: web.Request, in_flight: int) -> None:
    if request.headers.get("Content-Encoding", "identity").lower() != "identity":
        raise UnsupportedMediaError("compressed request bodies are not accepted")
    if in_flight >= request.app[CONFIG].limits.max_in_flight:
        raise OverloadedError("the relay is at its request limit; retry later")


async def authenticate(request: web.Request) -> None:
    """Admit the request to its handler: a public one by its address's rate, any other by
    its session token (``request[DEVICE]``) and its device's rate."""
    now = time.time()
    unmatched = request.match_info.http_exception
    if unmatched is not None:  # no such route or method: nothing to authenticate
        raise unmatched
    if is_public(request.match_info.handler):
        request.app[ADDRESS_RATES].take(request.remote or "", now)
        return
    header = request.headers.get("Authorization", "")
    scheme, _, bearer = header.partition(" ")
    if scheme.lower() != "bearer" or not bearer:
        raise UnauthorizedError("a session token is required (Authorization: Bearer ...)")
    device = await request.app[AUTHENTICATOR].authenticate(bearer.strip(), int(now))
    request.app[DEVICE_RATES].take(device.device_id, now)
    request[DEVICE] = device


MIDDLEWARES = (relay_middleware,)
