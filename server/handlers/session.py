"""POST /v1/auth/challenge and /v1/auth/session: device login (see :mod:`server.auth`)."""

from __future__ import annotations

import time

from aiohttp import web

from server.auth import encode_token
from server.keys import AUTHENTICATOR, CONFIG
from server.middlewares import public
from server.wire import b64, b64_bytes, hex_id, read_json

routes = web.RouteTableDef()

MAX_SIGNATURE = 256
MAX_NONCE = 64


@routes.post("/v1/auth/challenge")
@public
async def challenge(request: web.Request) -> web.Response:
    limits = request.app[CONFIG].limits
    body = await read_json(request, limits.max_json_body, limits.body_timeout)
    authenticator = request.app[AUTHENTICATOR]
    issued = await authenticator.challenge(hex_id(body, "device_id"), int(time.time()))
    return web.json_response(
        {
            "nonce": b64(issued.nonce),
            "relay_key": authenticator.relay_public_key.hex(),
            "issued_at": issued.issued_at,
            "expires_at": issued.expires_at,
            "to_sign": b64(authenticator.message_for(issued)),
        }
    )


@routes.post("/v1/auth/session")
@public
async def session(request: web.Request) -> web.Response:
    limits = request.app[CONFIG].limits
    body = await read_json(request, limits.max_json_body, limits.body_timeout)
    issued = await request.app[AUTHENTICATOR].login(
        hex_id(body, "device_id"),
        b64_bytes(body, "nonce", MAX_NONCE),
        b64_bytes(body, "signature", MAX_SIGNATURE),
        int(time.time()),
    )
    return web.json_response({"token": encode_token(issued.token), "expires_at": issued.expires_at})
