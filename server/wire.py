"""Reading request bodies and fields strictly, and writing JSON answers.

Bodies are read under the relay's size limit (aiohttp's ``client_max_size``, which also
bounds chunked bodies and bodies whose Content-Length lies) and a time limit (a slow body
is cut off). Identifiers travel as lowercase hex, payloads as standard base64; both are
decoded strictly, and every failure is a :class:`~server.errors.BadRequestError` naming the
field — never echoing its value.
"""

from __future__ import annotations

import asyncio
import binascii
import json
from typing import Any

import pybase64
from aiohttp import web

from server.errors import (
    BadRequestError,
    MalformedJsonError,
    RequestTimeoutError,
    TooLargeError,
)

MAX_ID_BYTES = 64
READ_CHUNK = 64 * 1024
JsonObject = dict[str, Any]


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_JSON = json.JSONDecoder(parse_constant=_no_constants)  # NaN and Infinity are not JSON


async def read_body(request: web.Request, max_size: int, timeout: float) -> bytes:
    """The whole body, at most ``max_size`` bytes, received within ``timeout`` seconds.

    Most bodies have arrived with their head: those are taken as they are, without arming
    a timer; only a body still on its way is awaited under the deadline."""
    declared = request.content_length
    if declared is not None and declared > max_size:
        raise TooLargeError(f"the body may be at most {max_size} bytes")
    stream = request.content
    arrived = stream.read_nowait()
    if len(arrived) > max_size:
        raise TooLargeError(f"the body may be at most {max_size} bytes")
    if stream.at_eof():
        return arrived
    body = bytearray(arrived)
    try:
        async with asyncio.timeout(timeout):
            while chunk := await stream.read(READ_CHUNK):
                body += chunk
                if len(body) > max_size:
                    raise TooLargeError(f"the body may be at most {max_size} bytes")
    except TimeoutError:
        raise RequestTimeoutError("the body did not arrive in time") from None
    return bytes(body)


async def read_json(request: web.Request, max_size: int, timeout: float) -> JsonObject:
    """A JSON object body."""
    if request.content_type != "application/json":
        raise BadRequestError("the body must be application/json")
    body = await read_body(request, max_size, timeout)
    try:
        value = _JSON.decode(body.decode("utf-8"))
    except (ValueError, RecursionError):
        raise MalformedJsonError("the body is not valid JSON") from None
    if not isinstance(value, dict):
        raise MalformedJsonError("the body must be a JSON object")
    return value


def json_response(data: JsonObject, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


def field(obj: JsonObject, name: str) -> Any:
    if name not in obj:
        raise BadRequestError(f"{name} is required")
    return obj[name]


def decode_hex_id(value: object, name: str) -> bytes:
    """An identifier: 1 to 64 bytes as lowercase hex."""
    if not isinstance(value, str) or not 2 <= len(value) <= 2 * MAX_ID_BYTES:
        raise BadRequestError(f"{name} must be 1 to {MAX_ID_BYTES} bytes of hex")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise BadRequestError(f"{name} must be hex") from None
    if raw.hex() != value:
        raise BadRequestError(f"{name} must be lowercase hex without spaces")
    return raw


def decode_fixed_id(value: object, name: str, size: int) -> bytes:
    """An identifier of exactly ``size`` bytes, as lowercase hex (device and invite ids of
    credentials are 16 random bytes, so no other length can ever match one)."""
    raw = decode_hex_id(value, name)
    if len(raw) != size:
        raise BadRequestError(f"{name} must be {size} bytes of hex")
    return raw


def hex_id(obj: JsonObject, name: str) -> bytes:
    return decode_hex_id(field(obj, name), name)


def hex_ids(obj: JsonObject, name: str, max_items: int) -> tuple[bytes, ...]:
    """An optional list of distinct identifiers (an empty tuple when absent)."""
    if name not in obj:  # the common case
        return ()
    value = obj[name]
    if not isinstance(value, list) or len(value) > max_items:
        raise BadRequestError(f"{name} must be a list of at most {max_items} ids")
    ids = tuple(decode_hex_id(item, name) for item in value)
    if len(set(ids)) != len(ids):
        raise BadRequestError(f"{name} lists a device twice")
    return ids


def b64_bytes(obj: JsonObject, name: str, max_size: int) -> bytes:
    """A base64 field of at most ``max_size`` decoded bytes."""
    value = field(obj, name)
    if not isinstance(value, str):
        raise BadRequestError(f"{name} must be a base64 string")
    if len(value) > 4 * ((max_size + 2) // 3):
        raise TooLargeError(f"{name} must be base64 of at most {max_size} bytes")
    try:
        raw = pybase64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequestError(f"{name} must be base64") from None
    if len(raw) > max_size:  # the text bound above admits up to two bytes more
        raise TooLargeError(f"{name} must be base64 of at most {max_size} bytes")
    if not raw:
        raise BadRequestError(f"{name} is empty")
    return raw


def b64(data: bytes) -> str:
    return pybase64.b64encode(data).decode("ascii")


def non_negative_int(value: object, name: str, maximum: int = 2**63 - 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise BadRequestError(f"{name} must be an integer from 0 to {maximum}")
    return value


def query_int(request: web.Request, name: str, default: int, maximum: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    if not text.isdigit() or len(text) > 19:
        raise BadRequestError(f"{name} must be a non-negative integer")
    return min(int(text), maximum)


def path_id(request: web.Request, name: str) -> bytes:
    return decode_hex_id(request.match_info[name], name)


def path_fixed_id(request: web.Request, name: str, size: int) -> bytes:
    return decode_fixed_id(request.match_info[name], name, size)
