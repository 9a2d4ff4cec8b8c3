"""Enrolment requests (DESIGN.md §5): a new device asks the coordinator for a credential.

::

    new device                               relay                         coordinator
      │ POST /v1/enrolments                    │                                │
      │   {invite_id, device_id, request} ────►│ pending: one request per invite │
      │                                        │◄──── GET /v1/enrolments ─────── │ checks the MAC
      │                                        │                                 │ in `request`
      │                                        │◄─ POST /v1/directory/credentials│ root signs:
      │                                        │   (approved, same transaction)  │ approve
      │                                        │◄─ POST /v1/enrolments/{i}/reject│ or refuse
      │ GET /v1/enrolments/{invite_id} ───────►│ {status, device_id}             │

The device holds no credential yet, so its two routes are open, rate-limited per client
address as login is; knowing the 128-bit invite id is what entitles it to ask. The relay
never sees the invite code: ``request`` is opaque to it (the device's public keys and a MAC
under the code, which the coordinator's client checks before the root signs), so all the
relay can do with a forged request is hold it until the coordinator rejects it. The list
and the rejection are for the coordinator's devices only.
"""

from __future__ import annotations

import time

from aiohttp import web

from protocol.directory import ID_SIZE
from server.auth import require_coordinator
from server.errors import NotFoundError
from server.keys import CONFIG, DEVICE, STORAGE
from server.middlewares import public
from server.storage.interface import EnrolmentRecord
from server.wire import b64, b64_bytes, decode_fixed_id, field, path_fixed_id, read_json

routes = web.RouteTableDef()

MAX_REQUEST = 4096


def _status_json(record: EnrolmentRecord) -> dict[str, object]:
    return {"status": record.status.value, "device_id": record.device_id.hex()}


@routes.post("/v1/enrolments")
@public
async def request_enrolment(request: web.Request) -> web.Response:
    limits = request.app[CONFIG].limits
    body = await read_json(request, limits.max_json_body, limits.body_timeout)
    invite_id = decode_fixed_id(field(body, "invite_id"), "invite_id", ID_SIZE)
    device_id = decode_fixed_id(field(body, "device_id"), "device_id", ID_SIZE)
    blob = b64_bytes(body, "request", MAX_REQUEST)
    record, created = await request.app[STORAGE].request_enrolment(
        invite_id, device_id, blob, int(time.time()), limits.max_pending_enrolments
    )
    return web.json_response(_status_json(record), status=201 if created else 200)


@routes.get("/v1/enrolments/{invite_id}")
@public
async def enrolment_status(request: web.Request) -> web.Response:
    record = await request.app[STORAGE].enrolment(path_fixed_id(request, "invite_id", ID_SIZE))
    if record is None:
        raise NotFoundError("no enrolment request for this invite")
    return web.json_response(_status_json(record))


@routes.get("/v1/enrolments")
async def pending_enrolments(request: web.Request) -> web.Response:
    require_coordinator(request[DEVICE])
    records = await request.app[STORAGE].pending_enrolments()
    return web.json_response(
        {
            "enrolments": [
                {
                    "invite_id": record.invite_id.hex(),
                    "device_id": record.device_id.hex(),
                    "request": b64(record.request),
                    "received_at": record.received_at,
                }
                for record in records
            ]
        }
    )


@routes.post("/v1/enrolments/{invite_id}/reject")
async def reject_enrolment(request: web.Request) -> web.Response:
    require_coordinator(request[DEVICE])
    invite_id = path_fixed_id(request, "invite_id", ID_SIZE)
    record = await request.app[STORAGE].reject_enrolment(invite_id)
    return web.json_response(_status_json(record))
