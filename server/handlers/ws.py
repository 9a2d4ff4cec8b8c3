"""GET /v1/ws: one WebSocket per device for pushes (see :mod:`server.hub`).

The client authenticates the upgrade request with its bearer token, then subscribes::

    → {"type": "subscribe", "groups": {"<group hex>": <cursor>, ...}, "inbox": <cursor>}
    ← {"type": "message", "group": "<hex>", "seq": n, "message": "<base64>"}   in seq order
    ← {"type": "welcome", "id": n, "group": "<hex>", "message": "<base64>"}
    ← {"type": "error", "group": "<hex>", "error": CODE}   (the group's pushes stop)

A cursor is the last sequence number (inbox id) the client has; pushes resume after it, so a
client that reconnects with its cursors misses nothing and gets nothing twice. Incoming
frames are bounded (``ws_max_frame``); binary or malformed frames close the socket with
1003 / 1008, a slow reader with :data:`~server.hub.CLOSE_SLOW_CONSUMER`, shutdown with 1001.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import struct
from typing import Any, Protocol

from aiohttp import WSCloseCode, WSMsgType, web

from crypto.errors import CasecircleError
from server.hub import CLOSE_SLOW_CONSUMER, INBOX, PushChannel, RecentMessage, RecentMessages
from server.keys import CONFIG, DEVICE, HUB, STORAGE, WEBSOCKETS
from server.storage.interface import RelayStorage
from server.wire import b64, decode_hex_id, non_negative_int

routes = web.RouteTableDef()

log = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS = 4096
_FINAL_TEXT = 0x81  # FIN and the text opcode
_HEAD_16 = struct.Struct("!BBH")
_HEAD_64 = struct.Struct("!BBQ")


class WritingState(Protocol):
    """What aiohttp's protocol of a connection tells: whether writing is paused."""

    @property
    def writing_paused(self) -> bool: ...


class BadFrameError(ValueError):
    """A client frame that is not a valid subscription."""


def parse_subscription(text: str) -> tuple[dict[bytes, int], int | None]:
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise BadFrameError("not JSON") from None
    if not isinstance(frame, dict) or frame.get("type") != "subscribe":
        raise BadFrameError("not a subscribe frame")
    groups = frame.get("groups", {})
    if not isinstance(groups, dict) or len(groups) > MAX_SUBSCRIPTIONS:
        raise BadFrameError("groups is an object of cursors")
    try:
        cursors = {
            decode_hex_id(group, "group"): non_negative_int(cursor, "cursor")
            for group, cursor in groups.items()
        }
        inbox = frame.get("inbox")
        return cursors, None if inbox is None else non_negative_int(inbox, "inbox")
    except CasecircleError:
        raise BadFrameError("bad group id or cursor") from None


def text_frame(data: bytes) -> bytes:
    """``data`` (UTF-8) as one whole server-to-client text frame: final, unmasked and
    uncompressed (RFC 6455 §5.2), so that a frame made once is written as it is to every
    socket that pushes it."""
    size = len(data)
    if size < 126:
        head = bytes((_FINAL_TEXT, size))
    elif size < 1 << 16:
        head = _HEAD_16.pack(_FINAL_TEXT, 126, size)
    else:
        head = _HEAD_64.pack(_FINAL_TEXT, 127, size)
    return head + data


def frame_data(frame: bytes) -> bytes:
    """What a frame of :func:`text_frame` carries."""
    size = frame[1]
    return frame[2 if size < 126 else 4 if size == 126 else 10 :]


def message_frame(group_id: bytes, seq: int, payload: bytes) -> bytes:
    """The push frame of a message (its JSON is ASCII)."""
    return text_frame(
        json.dumps(
            {"type": "message", "group": group_id.hex(), "seq": seq, "message": b64(payload)},
            separators=(",", ":"),
        ).encode()
    )


def recent_frame(group_id: bytes, message: RecentMessage) -> bytes:
    """The push frame of a recent message, made by the first socket that sends it."""
    if message.frame is None:
        message.frame = message_frame(group_id, message.seq, message.payload)
    return message.frame


class PushSession:
    """One socket's cursors and the task that pushes to it."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        channel: PushChannel,
        storage: RelayStorage,
        recent: RecentMessages,
        *,
        batch: int,
        send_timeout: float,
        transport: asyncio.BaseTransport | None = None,
        protocol: WritingState | None = None,
    ) -> None:
        self._ws = ws
        self._transport = transport if isinstance(transport, asyncio.WriteTransport) else None
        self._protocol = protocol
        self._channel = channel
        self._storage = storage
        self._recent = recent
        self._batch = batch
        self._send_timeout = send_timeout
        self.cursors: dict[bytes, int] = {}
        self.inbox_cursor: int | None = None
        self.gave_up = False  # set once the reader proved too slow or fell too far behind
        channel.push_now = self.push_now

    def subscribe(self, cursors: dict[bytes, int], inbox: int | None) -> None:
        if len(self.cursors.keys() | cursors.keys()) > MAX_SUBSCRIPTIONS:
            raise BadFrameError("too many subscriptions")
        self.cursors.update(cursors)
        for group_id in cursors:
            self._channel.wake(group_id)
        if inbox is not None:
            self.inbox_cursor = inbox
            self._channel.wake(INBOX)

    async def _send(self, frame: dict[str, Any]) -> None:
        await self._send_frame(text_frame(json.dumps(frame, separators=(",", ":")).encode()))

    def _writable(self, size: int) -> asyncio.WriteTransport | None:
        """The transport, if a frame of ``size`` bytes goes out without waiting for the
        reader.

        aiohttp waits for the reader only while the connection's writing is paused: the
        transport pauses it when its buffer grows past the high-water mark, and resumes it
        once the buffer is back at the low-water mark. A frame written while writing is not
        paused, and that leaves the buffer at or below the low-water mark, therefore never
        waits (the common case: an empty buffer)."""
        transport, protocol = self._transport, self._protocol
        if (
            transport is None
            or protocol is None
            or protocol.writing_paused
            or transport.is_closing()
            or self._ws.closed
            or transport.get_write_buffer_size() + size > transport.get_write_buffer_limits()[0]
        ):
            return None
        return transport

    async def _send_frame(self, frame: bytes) -> None:
        """Push one frame of :func:`text_frame`: written at once when that cannot wait for the
        reader, else sent through aiohttp, waiting at most ``send_timeout``."""
        transport = self._writable(len(frame))
        if transport is not None:
            transport.write(frame)
            return
        async with asyncio.timeout(self._send_timeout):
            await self._ws.send_frame(frame_data(frame), WSMsgType.TEXT)

    def push_now(self, group_id: bytes, message: RecentMessage) -> bool:
        """Push a message just committed while this socket's task is idle (see
        :meth:`server.hub.PushChannel.offer`): ``False`` leaves it to the task, when it is
        not the next message for this socket or the frame would have to wait."""
        cursor = self.cursors.get(group_id)
        if cursor is None:
            return True  # not subscribed: the task would push nothing
        if cursor + 1 != message.seq or self._channel.device_id not in message.readers:
            return False
        frame = recent_frame(group_id, message)
        transport = self._writable(len(frame))
        if transport is None:
            return False
        transport.write(frame)
        self.cursors[group_id] = message.seq
        return True

    async def run(self) -> None:
        """Push until the channel overflows; a slow reader ends the session."""
        try:
            while (key := await self._channel.next()) is not None:
                if key == INBOX:
                    await self._push_inbox()
                elif key in self.cursors:
                    await self._push_group(key)
        except TimeoutError:
            pass
        self.gave_up = True
        await _close(self._ws, CLOSE_SLOW_CONSUMER, b"slow consumer")

    async def _push_group(self, group_id: bytes) -> None:
        if await self._push_recent(group_id):
            return
        device_id = self._channel.device_id
        while group_id in self.cursors:
            try:
                membership = await self._storage.membership(group_id, device_id)
            except CasecircleError as exc:
                del self.cursors[group_id]
                await self._send({"type": "error", "group": group_id.hex(), "error": exc.code})
                return
            messages = await self._storage.messages(group_id, self.cursors[group_id], self._batch)
            if membership.until_seq is not None:
                messages = [m for m in messages if m.seq <= membership.until_seq]
            for message in messages:
                await self._send_frame(message_frame(group_id, message.seq, message.payload))
                self.cursors[group_id] = message.seq
            if len(messages) < self._batch:
                return

    async def _push_recent(self, group_id: bytes) -> bool:
        """Push the messages after the cursor that :class:`RecentMessages` holds for this
        device; ``True`` if that reached the last message it holds for the group (a later
        commit brings its own wake-up), ``False`` if storage must be read."""
        device_id = self._channel.device_id
        pushed = False
        while group_id in self.cursors:
            recent = self._recent.get(group_id, self.cursors[group_id] + 1)
            if recent is None or device_id not in recent.readers:
                break
            await self._send_frame(recent_frame(group_id, recent))
            self.cursors[group_id] = recent.seq
            pushed = True
        return pushed and self.cursors.get(group_id) == self._recent.latest(group_id)

    async def _push_inbox(self) -> None:
        while self.inbox_cursor is not None:
            items = await self._storage.inbox(
                self._channel.device_id, self.inbox_cursor, self._batch
            )
            for item in items:
                await self._send(
                    {
                        "type": "welcome",
                        "id": item.item_id,
                        "group": item.group_id.hex(),
                        "message": b64(item.payload),
                    }
                )
                self.inbox_cursor = item.item_id
            if len(items) < self._batch:
                return


async def _close(ws: web.WebSocketResponse, code: int, message: bytes) -> None:
    with contextlib.suppress(TimeoutError, ConnectionError):
        async with asyncio.timeout(1.0):
            await ws.close(code=code, message=message)


@routes.get("/v1/ws")
async def websocket(request: web.Request) -> web.WebSocketResponse:
    config = request.app[CONFIG]
    limits = config.limits
    device = request[DEVICE]
    channel = request.app[HUB].register(device.device_id)  # refuses when at capacity
    ws = web.WebSocketResponse(
        max_msg_size=limits.ws_max_frame, heartbeat=limits.ws_heartbeat, compress=False
    )
    try:
        await ws.prepare(request)
        request.app[WEBSOCKETS].add(ws)
        session = PushSession(
            ws,
            channel,
            request.app[STORAGE],
            request.app[HUB].recent,
            batch=limits.max_fetch,
            send_timeout=limits.ws_send_timeout,
            transport=request.transport,
            protocol=request.protocol,
        )
        handler_done = False

        def pusher_ended(_: asyncio.Task[None]) -> None:
            # The pusher ends by itself only when it gives up on a slow or overflowing reader,
            # having sent its close frame or tried to. Drop the connection then: a peer that
            # does not read would otherwise keep it, and the frames buffered for it, for as
            # long as it acknowledges TCP segments (ATTACKS E12).
            if (session.gave_up or not handler_done) and request.transport is not None:
                request.transport.abort()

        pusher = asyncio.create_task(session.run())
        pusher.add_done_callback(pusher_ended)
        try:
            await _receive(ws, session)
        finally:
            handler_done = True
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher
    finally:
        request.app[HUB].unregister(channel)
    return ws


async def _receive(ws: web.WebSocketResponse, session: PushSession) -> None:
    async for frame in ws:
        if frame.type == WSMsgType.TEXT:
            try:
                session.subscribe(*parse_subscription(frame.data))
            except BadFrameError:
                await _close(ws, WSCloseCode.POLICY_VIOLATION, b"bad frame")
                return
        elif frame.type == WSMsgType.BINARY:
            await _close(ws, WSCloseCode.UNSUPPORTED_DATA, b"text frames only")
            return
        elif frame.type == WSMsgType.ERROR:
            log.info("websocket closed on a protocol error")
            return
