"""The transparency log by API: signed tree head, entries, inclusion and consistency proofs.

Proofs and heads are returned as the base64 of their TLS encodings
(:mod:`protocol.transparency`), exactly what clients and the auditor verify.
"""

from __future__ import annotations

import time

from aiohttp import web

from server.errors import BadRequestError
from server.keys import STORAGE, TRANSLOG
from server.middlewares import public
from server.wire import b64, query_int

routes = web.RouteTableDef()

MAX_ENTRIES = 1000
_NO_LIMIT = 2**63 - 1


def _required(request: web.Request, name: str) -> int:
    if name not in request.query:
        raise BadRequestError(f"query parameter {name} is required")
    return query_int(request, name, 0, _NO_LIMIT)


@routes.get("/v1/log/head")
@public
async def tree_head(request: web.Request) -> web.Response:
    head = request.app[TRANSLOG].tree_head(int(time.time()))
    return web.json_response(
        {
            "tree_size": head.tree_head.tree_size,
            "root_hash": head.tree_head.root_hash.hex(),
            "timestamp": head.tree_head.timestamp,
            "signed_tree_head": b64(head.to_bytes()),
        }
    )


@routes.get("/v1/log/entries")
@public
async def entries(request: web.Request) -> web.Response:
    start = _required(request, "start")
    end = query_int(request, "end", start + MAX_ENTRIES, _NO_LIMIT)
    if end < start:
        raise BadRequestError("end is before start")
    end = min(end, start + MAX_ENTRIES, request.app[TRANSLOG].size)
    leaves = await request.app[STORAGE].log_leaves(start, end) if start < end else []
    return web.json_response(
        {"entries": [{"index": start + i, "leaf": b64(leaf)} for i, leaf in enumerate(leaves)]}
    )


@routes.get("/v1/log/inclusion")
@public
async def inclusion(request: web.Request) -> web.Response:
    proof = request.app[TRANSLOG].inclusion(
        _required(request, "index"), _required(request, "tree_size")
    )
    return web.json_response({"proof": b64(proof.to_bytes())})


@routes.get("/v1/log/consistency")
@public
async def consistency(request: web.Request) -> web.Response:
    proof = request.app[TRANSLOG].consistency(
        _required(request, "first"), _required(request, "second")
    )
    return web.json_response({"proof": b64(proof.to_bytes())})
