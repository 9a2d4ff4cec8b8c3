"""GET /v1/platform: the platform root and the relay identity a client pins."""

from __future__ import annotations

from aiohttp import web

from server.keys import CONFIG, IDENTITY
from server.middlewares import public

routes = web.RouteTableDef()


@routes.get("/v1/platform")
@public
async def platform(request: web.Request) -> web.Response:
    root = request.app[CONFIG].root_public_key
    return web.json_response(
        {
            "root_key": root.hex() if root is not None else None,
            "relay_key": request.app[IDENTITY].public_key.hex(),
        }
    )
