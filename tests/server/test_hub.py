"""The delivery hub: wake-ups are deduplicated, bounded, and overflow ends the channel."""

from __future__ import annotations

import asyncio

import pytest

from server.errors import OverloadedError
from server.hub import INBOX, RECENT_MAX_BYTES, DeliveryHub, RecentMessage, RecentMessages


def test_wakeups_are_deduplicated_and_ordered() -> None:
    hub = DeliveryHub(max_sockets=10, max_per_device=2, queue_length=8)
    channel = hub.register(b"d")
    for group in (b"g1", b"g2", b"g1", b"g3"):
        hub.publish(group, 1, b"m", [b"d", b"someone else"])
    hub.notify_inbox(b"d")
    assert list(channel.pending) == [b"g1", b"g2", b"g3", INBOX]


@pytest.mark.asyncio
async def test_overflow_ends_the_channel() -> None:
    hub = DeliveryHub(max_sockets=10, max_per_device=2, queue_length=2)
    channel = hub.register(b"d")
    hub.publish(b"g1", 1, b"m", [b"d"])
    hub.publish(b"g2", 1, b"m", [b"d"])
    hub.publish(b"g3", 1, b"m", [b"d"])
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


def test_recent_messages_keep_the_newest_per_group_and_share_reader_sets() -> None:
    recent = RecentMessages(per_group=3, max_bytes=1 << 20)
    for seq in range(1, 6):
        recent.add(b"g", seq, b"m%d" % seq, [b"a", b"b"])
    assert [recent.get(b"g", seq) is not None for seq in range(1, 6)] == [False, False] + [True] * 3
    newest, before = recent.get(b"g", 5), recent.get(b"g", 4)
    assert newest is not None and before is not None
    assert newest.payload == b"m5" and newest.readers is before.readers
    recent.add(b"g", 6, b"m6", [b"a"])  # a device left: a new set
    latest = recent.get(b"g", 6)
    assert latest is not None and latest.readers == {b"a"}
    assert recent.get(b"other", 1) is None


def test_recent_messages_stay_within_their_byte_bound() -> None:
    recent = RecentMessages(per_group=100, max_bytes=10_000)
    for seq in range(1, 20):
        for group in (b"g1", b"g2", b"g3"):
            recent.add(group, seq, b"x" * 1000, [b"a"])
            assert recent.size_bytes <= 10_000
    assert recent.latest(b"g3") == 19 and recent.get(b"g3", 19) is not None
    assert recent.get(b"g1", 1) is None  # the oldest went first


def test_recent_messages_keep_only_a_run_ending_at_the_last_commit() -> None:
    recent = RecentMessages(per_group=10, max_bytes=10_000)
    for seq in (1, 2, 3):
        recent.add(b"g", seq, b"m", [b"a"])
    recent.add(b"g", 5, b"m", [b"a"])  # 4 never came: the run starts again at 5
    assert recent.get(b"g", 3) is None and recent.latest(b"g") == 5
    recent.add(b"g", 6, b"x" * 20_000, [b"a"])  # too large to keep: nothing is left
    assert recent.latest(b"g") is None and recent.size_bytes == 0


@pytest.mark.asyncio
async def test_next_waits_for_a_wakeup_and_a_cancelled_wait_leaves_the_channel_usable() -> None:
    hub = DeliveryHub(max_sockets=10, max_per_device=2, queue_length=4)
    channel = hub.register(b"d")
    waiting = asyncio.create_task(channel.next())
    await asyncio.sleep(0)
    assert not waiting.done()
    hub.publish(b"g1", 1, b"m", [b"d"])
    assert await asyncio.wait_for(waiting, 1) == b"g1"
    cancelled = asyncio.create_task(channel.next())
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    hub.publish(b"g2", 1, b"m", [b"d"])  # a wake-up with nobody waiting is kept
    assert await asyncio.wait_for(channel.next(), 1) == b"g2"


def test_publish_keeps_a_message_only_while_a_socket_may_push_it() -> None:
    hub = DeliveryHub(max_sockets=10, max_per_device=2, queue_length=4)
    hub.publish(b"g", 1, b"m", frozenset({b"d"}))
    assert hub.recent.latest(b"g") is None  # nobody listens
    channel = hub.register(b"d")
    hub.publish(b"g", 2, b"m", frozenset({b"d", b"e"}))
    hub.publish(b"g", 3, b"m", [b"e", b"d"])
    assert hub.recent.latest(b"g") == 3 and list(channel.pending) == [b"g"]
    hub.unregister(channel)
    hub.publish(b"g", 4, b"m", [b"d"])  # nobody listens any more: the run is dropped
    assert hub.recent.get(b"g", 3) is None
    assert hub.recent.latest(b"g") is None
    assert hub.recent.size_bytes == 0
    hub.recent.discard(b"unknown")
    assert hub.recent.size_bytes == 0 and hub.recent.latest(b"unknown") is None


@pytest.mark.asyncio
async def test_an_idle_channel_is_offered_the_message_and_a_busy_one_is_woken() -> None:
    hub = DeliveryHub(max_sockets=10, max_per_device=2, queue_length=4)
    offered: list[tuple[bytes, int]] = []
    accept = True

    def push_now(group: bytes, message: RecentMessage) -> bool:
        offered.append((group, message.seq))
        return accept

    channel = hub.register(b"d")
    channel.push_now = push_now
    hub.publish(b"g", 1, b"m", [b"d"])  # nobody waits in next(): woken, not offered
    assert offered == [] and list(channel.pending) == [b"g"]
    assert await channel.next() == b"g"
    waiting = asyncio.create_task(channel.next())
    await asyncio.sleep(0)
    hub.publish(b"g", 2, b"m", [b"d"])  # idle: pushed at once, the task sleeps on
    await asyncio.sleep(0)
    assert offered == [(b"g", 2)] and not waiting.done()
    accept = False
    hub.publish(b"g", 3, b"m", [b"d"])  # refused (behind, or its buffer is full): woken
    assert offered == [(b"g", 2), (b"g", 3)]
    assert await asyncio.wait_for(waiting, 1) == b"g"
    too_large = b"x" * (RECENT_MAX_BYTES // 3 + 1)
    waiting = asyncio.create_task(channel.next())
    await asyncio.sleep(0)
    hub.publish(b"g", 4, too_large, [b"d"])  # not kept: the task reads storage
    assert offered[-1] == (b"g", 3)
    assert await asyncio.wait_for(waiting, 1) == b"g"
