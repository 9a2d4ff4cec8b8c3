"""WebSocket push: sequence order, resume from cursors, bounded frames, shutdown (E5)."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

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
