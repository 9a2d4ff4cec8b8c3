"""Blobs: encrypted attachments and history key rings, uploaded in chunks.

::

    POST /v1/groups/{group}/blobs {size}      → {blob_id}   (size ≤ limit, within quota)
    PUT  /v1/blobs/{blob_id}?offset=N  bytes  → {received}  (appends; N = bytes so far)
    POST /v1/blobs/{blob_id}/complete         → {blob_id, size}
    GET  /v1/blobs/{blob_id}                  → bytes       (devices on the group's roster)

The declared size counts against the uploading device's quota from the start, so a
refusal comes at once (ATTACKS F4), not after the data was sent. Blob contents are
ciphertext made by clients; the relay never looks inside.
"""

from __future__ import annotations

import os
import time

from aiohttp import web

from server.errors import BadRequestError, NotFoundError, NotOnRosterError
from server.keys import CONFIG, DEVICE, STORAGE
from server.wire import field, non_negative_int, path_id, query_int, read_body, read_json

routes = web.RouteTableDef()

BLOB_ID_SIZE = 16


@routes.post("/v1/groups/{group_id}/blobs")
async def create_blob(request: web.Request) -> web.Response:
    limits = request.app[CONFIG].limits
    group_id = path_id(request, "group_id")
    body = await read_json(request, limits.max_json_body, limits.body_timeout)
    size = non_negative_int(field(body, "size"), "size", limits.max_blob_bytes)
    if size == 0:
        raise BadRequestError("a blob has at least one byte")
    blob = await request.app[STORAGE].create_blob(
        os.urandom(BLOB_ID_SIZE),
        group_id,
        request[DEVICE].device_id,
        size,
        limits.blob_quota_bytes,
        int(time.time()),
    )
    return web.json_response({"blob_id": blob.blob_id.hex(), "size": blob.size}, status=201)


@routes.put("/v1/blobs/{blob_id}")
async def upload_chunk(request: web.Request) -> web.Response:
    limits = request.app[CONFIG].limits
    blob_id = path_id(request, "blob_id")
    if "offset" not in request.query:
        raise BadRequestError("query parameter offset is required")
    offset = query_int(request, "offset", 0, limits.max_blob_bytes)
    if request.content_type != "application/octet-stream":
        raise BadRequestError("blob data is application/octet-stream")
    data = await read_body(request, limits.max_chunk_bytes, limits.body_timeout)
    if not data:
        raise BadRequestError("an empty chunk")
    received = await request.app[STORAGE].append_blob(
        blob_id, request[DEVICE].device_id, offset, data
    )
    return web.json_response({"received": received})


@routes.post("/v1/blobs/{blob_id}/complete")
async def complete_blob(request: web.Request) -> web.Response:
    blob = await request.app[STORAGE].complete_blob(
        path_id(request, "blob_id"), request[DEVICE].device_id
    )
    return web.json_response({"blob_id": blob.blob_id.hex(), "size": blob.size})


@routes.get("/v1/blobs/{blob_id}")
async def download_blob(request: web.Request) -> web.StreamResponse:
    storage = request.app[STORAGE]
    blob = await storage.blob(path_id(request, "blob_id"))
    if blob is None or not blob.complete:
        raise NotFoundError("no such blob")
    membership = await storage.membership(blob.group_id, request[DEVICE].device_id)
    if not membership.active:
        raise NotOnRosterError("the device was removed from the blob's group")
    response = web.StreamResponse(
        headers={"Content-Type": "application/octet-stream", "Content-Length": str(blob.size)}
    )
    await response.prepare(request)
    async for chunk in storage.blob_chunks(blob.blob_id):
        await response.write(chunk)
    await response.write_eof()
    return response
