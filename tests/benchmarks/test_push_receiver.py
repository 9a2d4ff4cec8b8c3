"""The benchmark's lightweight WebSocket client against a real relay: it upgrades,
subscribes with a masked frame, and splits what arrives into the relay's frames."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import pytest

from tests.benchmarks.push_receiver import masked_frame, open_receiver
from tests.server.handlers.test_groups import GROUP, group_of
from tests.server.relay import running_relay

pytestmark = pytest.mark.asyncio


async def test_receives_pushes_in_order_large_ones_too(tmp_path: Path) -> None:
    async with running_relay(tmp_path) as relay:
        alice, bob = await group_of(relay, "alice", "bob")
        assert alice.mls.group is not None
        notes = [b"short", b"x" * 300, b"y" * 70_000]  # frame lengths of 16, 16 and 64 bits
        messages = [alice.mls.group.protect(note, alice.mls.rng) for note in notes]
        host, port = relay.url.removeprefix("http://").split(":")
        subscribe = json.dumps({"type": "subscribe", "groups": {GROUP.hex(): 1}}).encode()
        receiver = await open_receiver(host, int(port), bob.token, subscribe)
        try:
            for message in messages:
                assert (await alice.send(GROUP, message))[0] == 201
            async with asyncio.timeout(5):
                while len(receiver.frames) < len(messages):
                    await asyncio.sleep(0.01)
        finally:
            receiver.release()
    frames = [json.loads(data) for _, data in receiver.frames]
    assert [frame["seq"] for frame in frames] == [2, 3, 4]
    assert [base64.b64decode(frame["message"]) for frame in frames] == messages
    arrivals = [arrived for arrived, _ in receiver.frames]
    assert arrivals == sorted(arrivals)


async def test_a_refused_upgrade_fails_the_open(tmp_path: Path) -> None:
    async with running_relay(tmp_path) as relay:
        host, port = relay.url.removeprefix("http://").split(":")
        with pytest.raises(ConnectionError, match="not upgraded"):
            await open_receiver(host, int(port), "not a token", b"{}")


@pytest.mark.parametrize("size", [5, 126, 70_000])
async def test_client_frames_are_masked(size: int) -> None:
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    frame = masked_frame(0x1, data)
    assert frame[0] == 0x81 and frame[1] & 0x80  # final text frame, mask bit set
    length = frame[1] & 0x7F
    if size < 126:
        start = 2
        assert length == size
    elif size < 65_536:
        start = 4
        assert length == 126 and int.from_bytes(frame[2:4], "big") == size
    else:
        start = 10
        assert length == 127 and int.from_bytes(frame[2:10], "big") == size
    mask, masked = frame[start : start + 4], frame[start + 4 :]
    assert bytes(b ^ mask[i % 4] for i, b in enumerate(masked)) == data
