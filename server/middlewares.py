"""Cross-cutting request handling: errors, global limits, authentication and rates.

Order (outermost first)::

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

_PUBLIC_ATTRIBUTE = "__casecircle_public__"

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
    setattr(handler, _PUBLIC_ATTRIBUTE, True)
    return handler


def is_public(handler: Any) -> bool:
    return bool(getattr(handler, _PUBLIC_ATTRIBUTE, False))


def error_body(status: int, code: str, detail: str, **extra: Any) -> web.Response:
    return web.json_response({"error": code, "detail": detail, **extra}, status=status)


def _where(exc: BaseException) -> str:
    """Where an exception was raised — file, line, function — without its message."""
    frames = traceback.extract_tb(exc.__traceback__)
    return " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}:{f.name}" for f in frames[-4:])


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except RelayError as exc:
        return error_body(exc.status, exc.code, str(exc), **exc.extra())
    except InvalidSignatureError as exc:
        return error_body(400, exc.code, "a signature does not verify")
    except CasecircleError as exc:  # the protocol decoder's and crypto checks' refusals
        return error_body(400, exc.code, type(exc).__name__)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "bad_request" if exc.status < 500 else "unavailable")
        response = error_body(exc.status, code, exc.reason)
        if "Allow" in exc.headers:  # a 405 names the methods the resource has (RFC 9110)
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except (ConnectionResetError, TimeoutError) as exc:
        log.info("request %s %s ended: %s", request.method, request.path, type(exc).__name__)
        raise
    except Exception as exc:  # noqa: BLE001 - input reached an unplanned path: refuse it
        log.error(  # noqa: TRY400 - no traceback text: messages may quote the input
            "unexpected %s in %s %s at %s",
            type(exc).__name__,
            request.method,
            request.match_info.route.resource.canonical
            if request.match_info.route.resource
            else "?",
            _where(exc),
        )
        return error_body(400, "unprocessable", "the request could not be processed")


@web.middleware
async def limits_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.headers.get("Content-Encoding", "identity").lower() != "identity":
        raise UnsupportedMediaError("compressed request bodies are not accepted")
    counter = request.app[IN_FLIGHT]
    if counter[0] >= request.app[CONFIG].limits.max_in_flight:
        raise OverloadedError("the relay is at its request limit; retry later")
    counter[0] += 1
    try:
        return await handler(request)
    finally:
        counter[0] -= 1


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    now = time.time()
    unmatched = request.match_info.http_exception
    if unmatched is not None:  # no such route or method: nothing to authenticate
        raise unmatched
    if is_public(request.match_info.handler):
        request.app[ADDRESS_RATES].take(request.remote or "", now)
        return await handler(request)
    header = request.headers.get("Authorization", "")
    scheme, _, bearer = header.partition(" ")
    if scheme.lower() != "bearer" or not bearer:
        raise UnauthorizedError("a session token is required (Authorization: Bearer ...)")
    device = await request.app[AUTHENTICATOR].authenticate(bearer.strip(), int(now))
    request.app[DEVICE_RATES].take(device.device_id, now)
    request[DEVICE] = device
    return await handler(request)


MIDDLEWARES = (errors_middleware, limits_middleware, auth_middleware)
