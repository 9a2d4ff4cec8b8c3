"""Push delivery: which WebSockets belong to which device, and what each still has to send.

A committed send notifies the devices of its group's roster. A notification only says "this
group (or this inbox) has something new"; each socket then reads from storage from its
own cursor, so pushes are in sequence order, never duplicated, and a reconnecting device
resumes exactly where its cursor says::

    send committed ─► hub.notify_group(group, devices) ─► channel.wake(group)
                                                              │ (set of pending groups:
                                                              ▼  bounded by the roster)
                              socket sender: fetch seq > cursor ─► push ─► cursor = seq

Memory per socket is bounded: at most ``queue_length`` pending wake-ups (a socket that
falls further behind is closed with :data:`CLOSE_SLOW_CONSUMER` and resumes from its cursor
after reconnecting), and each push waits at most ``send_timeout`` for a slow reader.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from server.errors import OverloadedError

CLOSE_SLOW_CONSUMER = 4008
INBOX = b""  # the wake-up key of a device's inbox (group ids are never empty)


@dataclass(eq=False, slots=True)
class PushChannel:
    """The pending wake-ups of one socket."""

    device_id: bytes
    queue_length: int
    pending: dict[bytes, None] = field(default_factory=dict)  # ordered set of group ids
    overflowed: bool = False
    _event: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self, key: bytes) -> None:
        if key in self.pending:
            return
        if len(self.pending) >= self.queue_length:
            self.overflowed = True
        else:
            self.pending[key] = None
        self._event.set()

    async def next(self) -> bytes | None:
        """The next key to serve, or ``None`` once the channel overflowed."""
        while not self.pending and not self.overflowed:
            self._event.clear()
            await self._event.wait()
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

    def notify_group(self, group_id: bytes, devices: Iterable[bytes]) -> None:
        for device_id in devices:
            for channel in self._channels.get(device_id, ()):
                channel.wake(group_id)

    def notify_inbox(self, device_id: bytes) -> None:
        for channel in self._channels.get(device_id, ()):
            channel.wake(INBOX)
