"""Groups and delivery (DESIGN.md §7): create, send with commit ordering, fetch, inbox.

A send names the MLSMessage and, for a commit, the roster changes, the MLS leaf indexes
and the Welcome its committer declares. The relay reads only the message's public header
(group, epoch, content type) and, in one write transaction: returns the original sequence
number for a client message id it has seen; refuses senders off the roster (403) and any
epoch but the group's current one (409 ``stale_epoch`` with the current epoch); stores the
message with the next sequence number; moves the epoch on for a commit; applies the roster
changes and records the declared leaf indexes (the coordinator names a leaf in an external
Remove); and puts the Welcome in the named devices' inboxes. Only then does it answer, and
push.
"""

from __future__ import annotations

import hashlib
import time

from aiohttp import web

from crypto.tls import opaque
from protocol.mls.constants import WireFormat
from server.errors import BadRequestError, TooLargeError
from server.keys import CONFIG, DEVICE, HUB, STORAGE
from server.mls_header import WrongGroupError, group_message_header, require_wire_format
from server.storage.interface import GroupRecord, SendRequest, SendResult
from server.wire import (
    JsonObject,
    b64,
    b64_bytes,
    decode_hex_id,
    field,
    hex_id,
    hex_ids,
    non_negative_int,
    path_id,
    query_int,
    read_json,
)

routes = web.RouteTableDef()

MAX_CLIENT_MESSAGE_ID = 128
MAX_LEAF_INDEX = 2**32 - 1  # a uint32 in MLS
_NO_LIMIT = 2**63 - 1


def idempotency_key(device_id: bytes, client_message_id: str) -> bytes:
    """What the relay stores for a client message id: a hash bound to the sending device.

    The id itself is not stored, so the stored key does not link a sequence number to its
    sender for anyone who does not know the id.
    """
    key = _SEND_ID.copy()
    key.update(opaque(device_id) + opaque(client_message_id.encode()))
    return key.digest()


_SEND_ID = hashlib.sha256(opaque(b"casecircle 1 SendId"))  # the label's state, copied per key


def client_message_id(body: JsonObject) -> str:
    value = field(body, "client_message_id")
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= MAX_CLIENT_MESSAGE_ID
        or not value.isascii()
        or not value.isprintable()
    ):
        raise BadRequestError(
            f"client_message_id is 1 to {MAX_CLIENT_MESSAGE_ID} printable ASCII characters"
        )
    return value


def leaf_indexes(body: JsonObject, max_items: int) -> tuple[tuple[bytes, int], ...]:
    """The optional ``{device_id: leaf_index}`` object of a commit, as (device, leaf) pairs."""
    if "leaf_indexes" not in body:  # the common case
        return ()
    value = body["leaf_indexes"]
    if not isinstance(value, dict) or len(value) > max_items:
        raise BadRequestError(f"leaf_indexes is an object of at most {max_items} devices")
    return tuple(
        (
            decode_hex_id(device, "leaf_indexes"),
            non_negative_int(leaf, "leaf_indexes", MAX_LEAF_INDEX),
        )
        for device, leaf in value.items()
    )


def push_sent(request: web.Request, group_id: bytes, payload: bytes, result: SendResult) -> None:
    """Push a new message to the sockets of the devices it is for (nothing for a resend):
    idle sockets write it before this returns, the others are woken (see
    :meth:`server.hub.DeliveryHub.publish`)."""
    if result.duplicate:
        return
    hub = request.app[HUB]
    hub.publish(group_id, result.seq, payload, result.notify)
    for recipient, _ in result.inbox:
        hub.notify_inbox(recipient)


def sent_json(result: SendResult) -> web.Response:
    """``{"seq": N, "epoch": N, "duplicate": B}``, written without the JSON encoder (the
    body of every send's answer; the same bytes as ``web.json_response`` makes)."""
    body = b'{"seq": %d, "epoch": %d, "duplicate": %s}' % (
        result.seq,
        result.epoch,
        b"true" if result.duplicate else b"false",
    )
    return web.Response(
        body=body,
        status=200 if result.duplicate else 201,
        headers={"Content-Type": "application/json; charset=utf-8"},
    )


def _group_json(group: GroupRecord) -> dict[str, object]:
    return {"group_id": group.group_id.hex(), "epoch": group.epoch, "last_seq": group.last_seq}


# Sends and fetches first: aiohttp tries the resources under one path prefix in the order they
# were added, and a send is the relay's commonest request.


@routes.post("/v1/groups/{group_id}/messages")
async def send(request: web.Request) -> web.Response:
    app = request.app
    limits = app[CONFIG].limits
    device = request[DEVICE]
    group_id = path_id(request, "group_id")
    body = await read_json(request, limits.max_json_body, limits.body_timeout)
    message_id = client_message_id(body)
    payload = b64_bytes(body, "message", limits.max_message_bytes)
    header = group_message_header(payload)
    if header.group_id != group_id:
        raise WrongGroupError("the message belongs to another group")
    roster_add = hex_ids(body, "roster_add", limits.max_roster_change)
    roster_remove = hex_ids(body, "roster_remove", limits.max_roster_change)
    if set(roster_add) & set(roster_remove):
        raise BadRequestError("a device is both added and removed")
    welcome: bytes | None = None
    recipients: tuple[bytes, ...] = ()
    if body.get("welcome") is not None:
        declared = body["welcome"]
        if not isinstance(declared, dict):
            raise BadRequestError("welcome is an object {message, recipients}")
        welcome = b64_bytes(declared, "message", limits.max_message_bytes)
        require_wire_format(welcome, WireFormat.MLS_WELCOME)
        recipients = hex_ids(declared, "recipients", limits.max_roster_change)
        if not recipients:
            raise BadRequestError("a Welcome needs recipients")
    if len(payload) + len(welcome or b"") > limits.max_message_bytes:
        raise TooLargeError(f"a send carries at most {limits.max_message_bytes} bytes")
    result = await app[STORAGE].send(
        SendRequest(
            group_id=group_id,
            sender=device.device_id,
            idempotency_key=idempotency_key(device.device_id, message_id),
            is_commit=header.is_commit,
            epoch=header.epoch,
            payload=payload,
            roster_add=roster_add,
            roster_remove=roster_remove,
            welcome=welcome,
            welcome_recipients=recipients,
            leaf_indexes=leaf_indexes(body, limits.max_roster_size),
            received_at=int(time.time()),
            max_roster=limits.max_roster_size,
        )
    )
    push_sent(request, group_id, payload, result)
    return sent_json(result)


@routes.get("/v1/groups/{group_id}/messages")
async def fetch(request: web.Request) -> web.Response:
    limits = request.app[CONFIG].limits
    storage = request.app[STORAGE]
    group_id = path_id(request, "group_id")
    after = query_int(request, "after", 0, _NO_LIMIT)
    limit = query_int(request, "limit", limits.max_fetch, limits.max_fetch) or 1
    device_id = request[DEVICE].device_id
    await storage.membership(group_id, device_id)  # refuses strangers before any read
    messages = await storage.messages(group_id, after, limit)
    # read again after the messages: the head announced is never below what is delivered,
    # and a removal committed meanwhile already bounds what this answer gives
    membership = await storage.membership(group_id, device_id)
    if membership.until_seq is not None:
        messages = [m for m in messages if m.seq <= membership.until_seq]
    return web.json_response(
        {
            "messages": [
                {"seq": m.seq, "message": b64(m.payload), "received_at": m.received_at}
                for m in messages
            ],
            "epoch": membership.group.epoch,
            "last_seq": membership.group.last_seq,
        }
    )


@routes.post("/v1/groups")
async def create_group(request: web.Request) -> web.Response:
    limits = request.app[CONFIG].limits
    body = await read_json(request, limits.max_json_body, limits.body_timeout)
    group = await request.app[STORAGE].create_group(
        hex_id(body, "group_id"), request[DEVICE].device_id, int(time.time())
    )
    return web.json_response(_group_json(group), status=201)


@routes.get("/v1/groups")
async def list_groups(request: web.Request) -> web.Response:
    groups = await request.app[STORAGE].device_groups(request[DEVICE].device_id)
    return web.json_response({"groups": [_group_json(group) for group in groups]})


@routes.get("/v1/groups/{group_id}")
async def get_group(request: web.Request) -> web.Response:
    storage = request.app[STORAGE]
    group_id = path_id(request, "group_id")
    membership = await storage.membership(group_id, request[DEVICE].device_id)
    roster = await storage.roster(group_id) if membership.active else []
    return web.json_response(
        {
            **_group_json(membership.group),
            "active": membership.active,
            "until_seq": membership.until_seq,
            "roster": [device.hex() for device in roster],
        }
    )


@routes.get("/v1/inbox")
async def inbox(request: web.Request) -> web.Response:
    limits = request.app[CONFIG].limits
    after = query_int(request, "after", 0, _NO_LIMIT)
    limit = query_int(request, "limit", limits.max_fetch, limits.max_fetch) or 1
    items = await request.app[STORAGE].inbox(request[DEVICE].device_id, after, limit)
    return web.json_response(
        {
            "items": [
                {
                    "id": item.item_id,
                    "group_id": item.group_id.hex(),
                    "message": b64(item.payload),
                    "received_at": item.received_at,
                }
                for item in items
            ]
        }
    )
