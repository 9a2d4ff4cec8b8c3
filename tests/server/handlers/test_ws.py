"""WebSocket push: sequence order, resume from cursors, bounded frames, shutdown (E5)."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from server.handlers.ws import PushSession, frame_data, text_frame
from server.hub import CLOSE_SLOW_CONSUMER, DeliveryHub, PushChannel
from server.keys import HUB
from tests.protocol.mls.group_devices import NOW
from tests.server.handlers.test_groups import GROUP, group_of
from tests.server.relay import Relay, RelayClient, running_relay

pytestmark = pytest.mark.asyncio


def connect(relay: Relay, client: RelayClient) -> Any:
    return relay.http.ws_connect(
        relay.url + "/v1/ws", headers={"Authorization": f"Bearer {client.token}"}
    )


async def frames(
    ws: aiohttp.ClientWebSocketResponse, count: int, wait: float = 5
) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    async with asyncio.timeout(wait):
        while len(received) < count:
            message = await ws.receive()
            assert message.type == aiohttp.WSMsgType.TEXT, message
            received.append(json.loads(message.data))
    return received


async def test_pushes_in_order_and_resumes_without_loss(relay: Relay) -> None:
    alice, bob = await group_of(relay, "alice", "bob")
    assert alice.mls.group is not None
    notes = [alice.mls.group.protect(f"n{i}".encode(), alice.mls.rng) for i in range(6)]
    async with connect(relay, bob) as ws:
        await ws.send_json({"type": "subscribe", "groups": {GROUP.hex(): 1}, "inbox": 0})
        welcome = await frames(ws, 1)
        assert welcome[0]["type"] == "welcome" and welcome[0]["group"] == GROUP.hex()
        await asyncio.gather(*(alice.send(GROUP, note) for note in notes[:3]))
        pushed = await frames(ws, 3)
    assert [f["seq"] for f in pushed] == [2, 3, 4]
    assert {base64.b64decode(f["message"]) for f in pushed} == set(notes[:3])
    cursor = pushed[-1]["seq"]
    for note in notes[3:]:  # sent while bob is away
        assert (await alice.send(GROUP, note))[0] == 201
    async with connect(relay, bob) as ws:
        await ws.send_json({"type": "subscribe", "groups": {GROUP.hex(): cursor}})
        resumed = await frames(ws, 3)
        assert [f["seq"] for f in resumed] == [5, 6, 7]
        with pytest.raises(TimeoutError):
            await frames(ws, 1, wait=0.3)  # nothing twice


async def test_frames_of_every_length_encoding_reach_a_client(relay: Relay) -> None:
    alice, bob = await group_of(relay, "alice", "bob")
    assert alice.mls.group is not None
    # Frame lengths of 16, 64 and 16 bits. The idle socket is written the short frames from
    # the send; the long one passes the buffer's low-water mark and goes through aiohttp.
    notes = [b"first", b"x" * 300, b"y" * 70_000, b"z"]
    messages = [alice.mls.group.protect(note, alice.mls.rng) for note in notes]
    async with connect(relay, bob) as ws:
        await ws.send_json({"type": "subscribe", "groups": {GROUP.hex(): 1}})
        assert (await alice.send(GROUP, messages[0]))[0] == 201
        await frames(ws, 1)  # subscribed, and idle again
        for message in messages[1:]:
            assert (await alice.send(GROUP, message))[0] == 201
        pushed = await frames(ws, 3)
    assert [f["seq"] for f in pushed] == [3, 4, 5]
    assert [base64.b64decode(f["message"]) for f in pushed] == messages[1:]


async def test_a_message_sent_while_no_socket_listens_is_pushed_on_resume(relay: Relay) -> None:
    alice, bob = await group_of(relay, "alice", "bob")
    assert alice.mls.group is not None
    notes = [alice.mls.group.protect(f"n{i}".encode(), alice.mls.rng) for i in range(3)]
    async with connect(relay, bob) as ws:
        await ws.send_json({"type": "subscribe", "groups": {GROUP.hex(): 1}})
        for note in notes[:2]:
            assert (await alice.send(GROUP, note))[0] == 201
        assert [f["seq"] for f in await frames(ws, 2)] == [2, 3]
        assert relay.app[HUB].recent.latest(GROUP) == 3  # kept in memory for bob
    async with asyncio.timeout(5):
        while relay.app[HUB].socket_count:
            await asyncio.sleep(0.01)
    assert (await alice.send(GROUP, notes[2]))[0] == 201
    assert relay.app[HUB].recent.latest(GROUP) is None  # nobody listens: not kept
    async with connect(relay, bob) as ws:
        await ws.send_json({"type": "subscribe", "groups": {GROUP.hex(): 2}})
        resumed = await frames(ws, 2)
    assert [f["seq"] for f in resumed] == [3, 4]
    assert [base64.b64decode(f["message"]) for f in resumed] == notes[1:]


async def test_a_removed_device_is_pushed_up_to_its_removal_only(relay: Relay) -> None:
    alice, bob, carol = await group_of(relay, "alice", "bob", "carol")
    assert alice.mls.group is not None
    async with connect(relay, bob) as bob_ws, connect(relay, carol) as carol_ws:
        for ws in (bob_ws, carol_ws):
            await ws.send_json({"type": "subscribe", "groups": {GROUP.hex(): 2}})
        commit = alice.mls.group.commit(alice.mls.rng, NOW, remove=(1,))
        assert (await alice.send(GROUP, commit.message, roster_remove=[bob.id]))[0] == 201
        alice.mls.group.merge_pending()
        note = alice.mls.group.protect(b"after removal", alice.mls.rng)
        assert (await alice.send(GROUP, note))[0] == 201
        assert [f["seq"] for f in await frames(carol_ws, 2)] == [3, 4]
        assert [f["seq"] for f in await frames(bob_ws, 1)] == [3]
        with pytest.raises(TimeoutError):
            await frames(bob_ws, 1, wait=0.3)


async def test_group_off_the_roster_reports_an_error(relay: Relay) -> None:
    await group_of(relay, "alice", "bob")
    mallory = await relay.enrol("mallory")
    async with connect(relay, mallory) as ws:
        await ws.send_json({"type": "subscribe", "groups": {GROUP.hex(): 0}})
        (frame,) = await frames(ws, 1)
    assert frame == {"type": "error", "group": GROUP.hex(), "error": "not_on_roster"}


async def test_websocket_needs_a_token(relay: Relay) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        async with relay.http.ws_connect(relay.url + "/v1/ws"):
            pass
    assert info.value.status == 401


@pytest.mark.parametrize(
    ("send", "code"),
    [
        ("binary", aiohttp.WSCloseCode.UNSUPPORTED_DATA),
        ("not json", aiohttp.WSCloseCode.POLICY_VIOLATION),
        ('{"type": "subscribe", "groups": {"zz": 1}}', aiohttp.WSCloseCode.POLICY_VIOLATION),
        ('{"type": "subscribe", "groups": {"ab": -1}}', aiohttp.WSCloseCode.POLICY_VIOLATION),
        ("x" * 70_000, aiohttp.WSCloseCode.MESSAGE_TOO_BIG),
    ],
)
async def test_bad_frames_close_the_socket(relay: Relay, send: str, code: int) -> None:
    alice = await relay.enrol("alice")
    async with connect(relay, alice) as ws:
        if send == "binary":
            await ws.send_bytes(b"\x00\x01")
        else:
            await ws.send_str(send)
        async with asyncio.timeout(5):
            message = await ws.receive()
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == code


async def test_socket_cap_per_device(relay: Relay) -> None:
    alice = await relay.enrol("alice")
    cap = relay.config.limits.max_websockets_per_device
    sockets = [await connect(relay, alice).__aenter__() for _ in range(cap)]
    try:
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            async with connect(relay, alice):
                pass
        assert info.value.status == 503
    finally:
        for ws in sockets:
            await ws.close()


async def test_shutdown_closes_sockets_with_going_away(tmp_path: Path) -> None:
    async with running_relay(tmp_path) as relay:
        alice = await relay.enrol("alice")
        ws = await connect(relay, alice).__aenter__()
        await ws.send_json({"type": "subscribe", "groups": {}})
        await relay.app.shutdown()
        async with asyncio.timeout(5):
            message = await ws.receive()
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == aiohttp.WSCloseCode.GOING_AWAY
        await ws.close()


# --- a push arms the send timer only when it may have to wait for the reader -------------


class FakeTransport(asyncio.WriteTransport):
    """A transport whose write buffer holds ``buffered`` bytes (limits: 16 KiB / 64 KiB)."""

    def __init__(self, buffered: int) -> None:
        super().__init__()
        self.buffered = buffered
        self.written: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def pushed(self) -> list[dict[str, Any]]:
        """The JSON of each text frame written."""
        return [json.loads(frame_data(frame)) for frame in self.written]

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return 16 * 1024, 64 * 1024

    def is_closing(self) -> bool:
        return False


@dataclass
class FakeProtocol:
    writing_paused: bool = False


class FakeSocket:
    """Records what is sent; with ``stalled``, a send never completes (a reader that has
    stopped reading, as aiohttp waits for a transport paused for writing)."""

    def __init__(self, *, stalled: bool) -> None:
        self.stalled = stalled
        self.sent: list[str] = []
        self.closed_with: int | None = None
        self.closed = False

    async def send_frame(self, data: bytes, opcode: aiohttp.WSMsgType) -> None:
        assert opcode == aiohttp.WSMsgType.TEXT
        if self.stalled:
            await asyncio.get_running_loop().create_future()
        self.sent.append(data.decode())

    async def close(self, *, code: int, message: bytes) -> bool:
        self.closed_with = code
        return True


def push_session(
    socket: FakeSocket,
    transport: FakeTransport,
    payload: bytes,
    *,
    paused: bool = False,
    hub: DeliveryHub | None = None,
) -> tuple[Any, PushChannel]:
    """A session of one device subscribed to GROUP, and its channel."""
    hub = hub or DeliveryHub(max_sockets=4, max_per_device=1, queue_length=4)
    channel = hub.register(b"device")
    hub.recent.add(GROUP, 1, payload, [b"device"])
    session = PushSession(
        socket,  # type: ignore[arg-type]
        channel,
        None,  # type: ignore[arg-type]  # every push here comes from the recent messages
        hub.recent,
        batch=10,
        send_timeout=SEND_TIMEOUT,
        transport=transport,
        protocol=FakeProtocol(writing_paused=paused),
    )
    session.subscribe({GROUP: 0}, None)
    return session, channel


SEND_TIMEOUT = 0.25


async def count_timers(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The send timers armed from now on (``asyncio.timeout`` with :data:`SEND_TIMEOUT`)."""
    armed: list[float] = []
    real = asyncio.timeout

    def counting(delay: float | None) -> Any:
        if delay == SEND_TIMEOUT:
            armed.append(delay)
        return real(delay)

    monkeypatch.setattr(asyncio, "timeout", counting)  # the relay's module is this one
    return armed


async def test_a_push_the_buffer_takes_is_written_without_a_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    armed = await count_timers(monkeypatch)
    transport = FakeTransport(buffered=0)
    session, _ = push_session(FakeSocket(stalled=False), transport, b"m" * 1000)
    runner = asyncio.create_task(session.run())
    async with asyncio.timeout(2):
        while not transport.written:
            await asyncio.sleep(0)
    runner.cancel()
    assert transport.pushed()[0]["seq"] == 1
    assert armed == []


@pytest.mark.parametrize(
    ("buffered", "payload_size", "paused"),
    [
        (60 * 1024, 100, False),  # the buffer is past its low-water mark: writing may pause
        (0, 20_000, False),  # the frame alone takes the buffer past it
        (0, 100, True),  # writing is paused (whatever the buffer holds)
    ],
)
async def test_a_push_that_may_wait_is_timed_and_a_stalled_reader_is_dropped(
    monkeypatch: pytest.MonkeyPatch, buffered: int, payload_size: int, paused: bool
) -> None:
    armed = await count_timers(monkeypatch)
    socket = FakeSocket(stalled=True)
    session, _ = push_session(socket, FakeTransport(buffered), b"m" * payload_size, paused=paused)
    async with asyncio.timeout(2):
        await session.run()  # ends by itself: the reader is too slow
    assert armed == [SEND_TIMEOUT]
    assert socket.closed_with == CLOSE_SLOW_CONSUMER
    assert session.gave_up


# --- an idle socket is pushed a new message from the committing request ---------------------


async def idle(session: Any) -> asyncio.Task[None]:
    """The session's task, run until it waits for a wake-up with everything pushed."""
    runner = asyncio.create_task(session.run())
    for _ in range(10):
        await asyncio.sleep(0)
    return runner


async def test_an_idle_socket_is_pushed_without_waking_its_task() -> None:
    hub = DeliveryHub(max_sockets=4, max_per_device=1, queue_length=4)
    transport = FakeTransport(buffered=0)
    session, channel = push_session(FakeSocket(stalled=False), transport, b"first", hub=hub)
    runner = await idle(session)
    assert [f["seq"] for f in transport.pushed()] == [1]
    hub.publish(GROUP, 2, b"second", [b"device"])
    assert [f["seq"] for f in transport.pushed()] == [1, 2]  # before anything else runs
    assert not channel.pending and session.cursors[GROUP] == 2
    assert base64.b64decode(transport.pushed()[1]["message"]) == b"second"
    hub.publish(b"not subscribed", 1, b"x", [b"device"])
    assert len(transport.written) == 2 and not channel.pending
    runner.cancel()


async def test_a_socket_that_cannot_take_the_message_now_is_woken_and_keeps_the_order() -> None:
    hub = DeliveryHub(max_sockets=4, max_per_device=1, queue_length=4)
    transport = FakeTransport(buffered=0)
    session, channel = push_session(FakeSocket(stalled=False), transport, b"first", hub=hub)
    runner = await idle(session)
    transport.buffered = 16 * 1024  # the next frame would pass the low-water mark
    hub.publish(GROUP, 2, b"second", [b"device"])
    assert len(transport.written) == 1 and list(channel.pending) == [GROUP]
    transport.buffered = 0
    hub.publish(GROUP, 3, b"third", [b"device"])  # a wake-up is pending: not offered
    assert len(transport.written) == 1
    for _ in range(10):
        await asyncio.sleep(0)
    assert [f["seq"] for f in transport.pushed()] == [1, 2, 3]
    hub.publish(GROUP, 5, b"fifth", [b"device"])  # 4 is missing here: the task reads it
    assert len(transport.written) == 3 and list(channel.pending) == [GROUP]
    runner.cancel()


@pytest.mark.parametrize("size", [0, 125, 126, 65_535, 65_536, 200_000])
async def test_text_frames_have_the_header_of_their_length(size: int) -> None:
    data = b"x" * size
    frame = text_frame(data)
    assert frame[0] == 0x81 and frame_data(frame) == data
    if size < 126:
        assert frame[1] == size
    elif size < 65_536:
        assert frame[1] == 126 and int.from_bytes(frame[2:4], "big") == size
    else:
        assert frame[1] == 127 and int.from_bytes(frame[2:10], "big") == size
