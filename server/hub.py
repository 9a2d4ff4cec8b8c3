"""Push delivery: which WebSockets belong to which device, and what each still has to send.

A committed send notifies the devices of its group's roster. A notification only says "this
group (or this inbox) has something new"; each socket then reads from storage from its
own cursor, so pushes are in sequence order, never duplicated, and a reconnecting device
resumes exactly where its cursor says::

    send committed ─► hub.publish(group, seq, message, devices) ─► channel.wake(group)
                                                                       │ (set of pending
                                                                       ▼  groups: bounded)
                                       socket sender: fetch seq > cursor ─► push ─► cursor = seq

Memory per socket is bounded: at most ``queue_length`` pending wake-ups (a socket that
falls further behind is closed with :data:`CLOSE_SLOW_CONSUMER` and resumes from its cursor
after reconnecting), and each push waits at most ``send_timeout`` for a slow reader.

A commit wakes every socket of the group at once, and each would read the same new message
from storage. So the hub also keeps the last messages committed to each group while any of
its devices has a socket (:class:`RecentMessages`; a message nobody is woken for drops the
group's run), with the devices allowed to fetch each one; a socket whose next
sequence number is there, for its device, pushes it from memory, and reads storage
otherwise. It is a shortcut only: what a socket pushes, and in which order, is what the
read from storage would have given it.

Most sockets are idle when a commit comes: their task waits for a wake-up, their cursor is
one below the new message, and their transport takes a frame without waiting. Waking 200
tasks to write the same frame costs a task switch per socket, so :meth:`DeliveryHub.publish`
first offers the message to each channel, and an idle channel's socket writes the frame, made
once for all of them, at once (:attr:`PushChannel.push_now`, as the ``websockets`` library's
``broadcast`` does). A channel that is busy, behind, or whose write buffer is full is woken
instead, and its task pushes in order and under the send timer.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from server.errors import OverloadedError

CLOSE_SLOW_CONSUMER = 4008
INBOX = b""  # the wake-up key of a device's inbox (group ids are never empty)

RECENT_PER_GROUP = 64
RECENT_MAX_BYTES = 16 * 1024 * 1024
_READER_COST = 128  # bytes counted per device of a reader set: the id and its set slot


@dataclass(eq=False, slots=True)
class RecentMessage:
    """A message just committed, and the devices a read from storage would give it to: the
    group's roster right after its commit, and the devices that commit removed."""

    seq: int
    payload: bytes
    readers: frozenset[bytes]
    cost: int  # bytes counted against the bound
    frame: bytes | None = None  # the whole WebSocket frame, made once for every socket


class RecentMessages:
    """The last ``per_group`` messages committed to each group, at most ``max_bytes`` in all
    (payload, its base64 frame, reader sets); the oldest messages of the least recently
    written groups go first.

    Each group's messages are one run of consecutive sequence numbers ending at the last one
    added: a message that does not follow the last (its request ended before it got here, or
    they arrived out of order) starts the run anew, and a message too large to keep empties
    it, so that a socket finding the run ends below what was committed reads storage."""

    def __init__(
        self, *, per_group: int = RECENT_PER_GROUP, max_bytes: int = RECENT_MAX_BYTES
    ) -> None:
        self._per_group = per_group
        self._max_bytes = max_bytes
        self._groups: OrderedDict[bytes, OrderedDict[int, RecentMessage]] = OrderedDict()
        self._bytes = 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def add(
        self, group_id: bytes, seq: int, payload: bytes, readers: Iterable[bytes]
    ) -> RecentMessage | None:
        """Keep the message; what is kept (``None`` when it is too large to keep)."""
        entries = self._groups.pop(group_id, None) or OrderedDict()
        last = next(reversed(entries.values()), None)
        if last is not None and last.seq + 1 != seq:
            self._forget(entries)
            last = None
        reader_set = frozenset(readers)
        cost = 3 * len(payload)
        if last is not None and (last.readers is reader_set or last.readers == reader_set):
            reader_set = last.readers  # one set shared while the roster stays the same
        else:
            cost += _READER_COST * len(reader_set)
        if cost > self._max_bytes:
            self._forget(entries)
            return None
        self._groups[group_id] = entries  # now the most recently written group
        entries[seq] = message = RecentMessage(
            seq=seq, payload=payload, readers=reader_set, cost=cost
        )
        self._bytes += cost
        while len(entries) > self._per_group:
            self._bytes -= entries.popitem(last=False)[1].cost
        while self._bytes > self._max_bytes:  # never the message just added: it fits alone
            oldest_group, oldest = next(iter(self._groups.items()))
            self._bytes -= oldest.popitem(last=False)[1].cost
            if not oldest:
                del self._groups[oldest_group]
        return message

    def discard(self, group_id: bytes) -> None:
        """Forget the group's run (a socket then reads storage for what it held)."""
        entries = self._groups.pop(group_id, None)
        if entries is not None:
            self._forget(entries)

    def get(self, group_id: bytes, seq: int) -> RecentMessage | None:
        entries = self._groups.get(group_id)
        return None if entries is None else entries.get(seq)

    def latest(self, group_id: bytes) -> int | None:
        """The sequence number the group's run ends at."""
        entries = self._groups.get(group_id)
        return next(reversed(entries), None) if entries else None

    def _forget(self, entries: OrderedDict[int, RecentMessage]) -> None:
        self._bytes -= sum(entry.cost for entry in entries.values())
        entries.clear()


@dataclass(eq=False, slots=True)
class PushChannel:
    """The pending wake-ups of one socket."""

    device_id: bytes
    queue_length: int
    pending: dict[bytes, None] = field(default_factory=dict)  # ordered set of group ids
    overflowed: bool = False
    push_now: Callable[[bytes, RecentMessage], bool] | None = None
    """Set by the socket's session: push a just-committed message of a group without waiting
    (``True``), or leave it to a wake-up (``False``: it is not the next for the socket, or
    the socket cannot take it now)."""
    _waiter: asyncio.Future[None] | None = None  # what :meth:`next` awaits, while it waits

    def offer(self, key: bytes, message: RecentMessage) -> None:
        """Have the socket push ``message`` now if its task is idle, else wake it.

        Idle means waiting in :meth:`next` with nothing pending: nothing it has yet to push
        can come before ``message``."""
        waiter = self._waiter
        if (
            waiter is None
            or waiter.done()
            or self.pending
            or self.push_now is None
            or not self.push_now(key, message)
        ):
            self.wake(key)

    def wake(self, key: bytes) -> None:
        if key in self.pending:
            return
        if len(self.pending) >= self.queue_length:
            self.overflowed = True
        else:
            self.pending[key] = None
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next(self) -> bytes | None:
        """The next key to serve, or ``None`` once the channel overflowed."""
        while not self.pending and not self.overflowed:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self.overflowed:
            return None
        key = next(iter(self.pending))
        del self.pending[key]
        return key


class DeliveryHub:
    """Registered channels by device, with caps on the number of sockets."""

    def __init__(self, *, max_sockets: int, max_per_device: int, queue_length: int) -> None:
        self._max_sockets = max_sockets
        self._max_per_device = max_per_device
        self._queue_length = queue_length
        self._channels: dict[bytes, set[PushChannel]] = {}
        self._count = 0
        self.recent = RecentMessages()

    @property
    def socket_count(self) -> int:
        return self._count

    def register(self, device_id: bytes) -> PushChannel:
        channels = self._channels.setdefault(device_id, set())
        if self._count >= self._max_sockets or len(channels) >= self._max_per_device:
            if not channels:
                del self._channels[device_id]
            raise OverloadedError("too many open WebSockets")
        channel = PushChannel(device_id, self._queue_length)
        channels.add(channel)
        self._count += 1
        return channel

    def unregister(self, channel: PushChannel) -> None:
        channels = self._channels.get(channel.device_id)
        if channels is None or channel not in channels:
            return
        channels.discard(channel)
        self._count -= 1
        if not channels:
            del self._channels[channel.device_id]

    def publish(self, group_id: bytes, seq: int, payload: bytes, devices: Iterable[bytes]) -> None:
        """A message just committed to a group, for ``devices``: offered to their sockets,
        and kept in :attr:`recent` while any of them has one (else the group's run is
        dropped: nobody would push from it, and a socket that subscribes later reads
        storage)."""
        channels = self._channels_of(devices) if self._channels else None
        if not channels:
            self.recent.discard(group_id)
            return
        message = self.recent.add(group_id, seq, payload, devices)
        for channel in channels:
            if message is None:
                channel.wake(group_id)
            else:
                channel.offer(group_id, message)

    def _channels_of(self, devices: Iterable[bytes]) -> list[PushChannel]:
        registered = self._channels
        if isinstance(devices, frozenset | set) and len(registered) < len(devices):
            # fewer devices with sockets than recipients: look each of those up instead
            return [
                channel
                for device_id, channels in registered.items()
                if device_id in devices
                for channel in channels
            ]
        return [channel for device_id in devices for channel in registered.get(device_id, ())]

    def notify_inbox(self, device_id: bytes) -> None:
        for channel in self._channels.get(device_id, ()):
            channel.wake(INBOX)
