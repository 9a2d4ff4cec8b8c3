"""The delivery hub: wake-ups are deduplicated, bounded, and overflow ends the channel."""

from __future__ import annotations

import asyncio

import pytest

from server.errors import OverloadedError
from server.hub import INBOX, DeliveryHub


def test_wakeups_are_deduplicated_and_ordered() -> None:
    hub = DeliveryHub(max_sockets=10, max_per_device=2, queue_length=8)
    channel = hub.register(b"d")
    for group in (b"g1", b"g2", b"g1", b"g3"):
        hub.notify_group(group, [b"d", b"someone else"])
    hub.notify_inbox(b"d")
    assert list(channel.pending) == [b"g1", b"g2", b"g3", INBOX]


@pytest.mark.asyncio
async def test_overflow_ends_the_channel() -> None:
    hub = DeliveryHub(max_sockets=10, max_per_device=2, queue_length=2)
    channel = hub.register(b"d")
    hub.notify_group(b"g1", [b"d"])
    hub.notify_group(b"g2", [b"d"])
    hub.notify_group(b"g3", [b"d"])
    assert channel.overflowed
    assert len(channel.pending) == 2  # memory stays bounded
    assert await asyncio.wait_for(channel.next(), 1) is None


def test_socket_caps() -> None:
    hub = DeliveryHub(max_sockets=3, max_per_device=2, queue_length=2)
    first = hub.register(b"a")
    hub.register(b"a")
    with pytest.raises(OverloadedError):
        hub.register(b"a")
    hub.register(b"b")
    with pytest.raises(OverloadedError):
        hub.register(b"c")
    hub.unregister(first)
    hub.register(b"c")
    assert hub.socket_count == 3
