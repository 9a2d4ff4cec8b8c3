"""The coordinator's routes on groups (DESIGN.md §1, §5): who is in which case, and the
external proposals that force a device out of a case the coordinator cannot read.

::

    GET  /v1/coordinator/groups?after=<group>&limit=n
         → {groups: [{group_id, epoch, last_seq, roster: [{device_id, leaf_index}]}], next}
    POST /v1/groups/{group_id}/external {client_message_id, message}
         → {seq, epoch, duplicate}

Both are for devices the root certified in the coordinator role, which need not be on any
roster. The view holds only what delivery already needs: epochs, sequence numbers, the
roster, and the MLS leaf each committer declared for a device. An external proposal is a
PublicMessage from an external sender (RFC 9420 §12.1.8), signed by the coordinator and
verified by every member against the group's ``external_senders``; the relay checks only
its header and orders it into the group's log like any send, at the current epoch only. It
moves neither the epoch nor the roster: the member who commits it declares the change.
"""

from __future__ import annotations

import time

from aiohttp import web

from server.auth import require_coordinator
from server.handlers.groups import client_message_id, idempotency_key, push_sent, sent_json
from server.keys import CONFIG, DEVICE, STORAGE
from server.mls_header import WrongGroupError, external_proposal_header
from server.storage.interface import ExternalProposalRequest, GroupRoster
from server.wire import b64_bytes, decode_hex_id, path_id, query_int, read_json

routes = web.RouteTableDef()

MAX_GROUPS = 100  # groups per page of the view; each carries its whole roster


def _group_roster_json(entry: GroupRoster) -> dict[str, object]:
    return {
        "group_id": entry.group.group_id.hex(),
        "epoch": entry.group.epoch,
        "last_seq": entry.group.last_seq,
        "roster": [
            {"device_id": device.device_id.hex(), "leaf_index": device.leaf_index}
            for device in entry.roster
        ],
    }


@routes.get("/v1/coordinator/groups")
async def coordinator_groups(request: web.Request) -> web.Response:
    require_coordinator(request[DEVICE])
    after = request.query.get("after")
    cursor = b"" if after is None else decode_hex_id(after, "after")
    limit = query_int(request, "limit", MAX_GROUPS, MAX_GROUPS) or 1
    groups = await request.app[STORAGE].group_rosters(cursor, limit)
    full = len(groups) == limit
    return web.json_response(
        {
            "groups": [_group_roster_json(entry) for entry in groups],
            "next": groups[-1].group.group_id.hex() if full else None,
        }
    )


@routes.post("/v1/groups/{group_id}/external")
async def send_external(request: web.Request) -> web.Response:
    device = request[DEVICE]
    require_coordinator(device)
    limits = request.app[CONFIG].limits
    group_id = path_id(request, "group_id")
    body = await read_json(request, limits.max_json_body, limits.body_timeout)
    message_id = client_message_id(body)
    payload = b64_bytes(body, "message", limits.max_message_bytes)
    header = external_proposal_header(payload)
    if header.group_id != group_id:
        raise WrongGroupError("the message belongs to another group")
    result = await request.app[STORAGE].send_external(
        ExternalProposalRequest(
            group_id=group_id,
            idempotency_key=idempotency_key(device.device_id, message_id),
            epoch=header.epoch,
            payload=payload,
            received_at=int(time.time()),
        )
    )
    push_sent(request, group_id, payload, result)
    return sent_json(result)
