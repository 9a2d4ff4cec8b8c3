"""A WebSocket client that does no more than a push's arrival time needs.

The fan-out benchmark holds 200 sockets in two processes on the relay's own two CPUs. A
general client (aiohttp's) spends about as much CPU taking in one push frame as the relay
spends writing it, so its receivers would mostly measure themselves. This one is an
``asyncio.Protocol``: it does the RFC 6455 opening handshake, sends one masked text frame,
answers pings, and splits what arrives into frames, noting when each frame's last byte came;
the frames are decoded only after the measurement.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
import time

_ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
_TEXT, _CLOSE, _PING, _PONG = 0x1, 0x8, 0x9, 0xA


def masked_frame(opcode: int, data: bytes) -> bytes:
    """A final client frame, masked as RFC 6455 §5.3 requires of every client frame."""
    size = len(data)
    if size < 126:
        head = bytes((0x80 | opcode, 0x80 | size))
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


class PushReceiver(asyncio.Protocol):
    """One socket: upgraded with ``token``, subscribed by sending ``subscribe``; every text
    frame the relay sends is kept with its arrival time (``time.monotonic``)."""

    def __init__(self, host: str, port: int, token: str, subscribe: bytes) -> None:
        self._key = base64.b64encode(os.urandom(16))
        self._request = (
            f"GET /v1/ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {self._key.decode()}\r\nAuthorization: Bearer {token}\r\n\r\n"
        ).encode()
        self._subscribe = subscribe
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._upgraded = False
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.frames: list[tuple[float, bytes]] = []  # (arrival, text frame data)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during the handshake"))

    def data_received(self, data: bytes) -> None:
        arrived = time.monotonic()
        buffer = self._buffer
        buffer += data
        if not self._upgraded and not self._upgrade():
            return
        while len(buffer) >= 2:
            size, start = buffer[1] & 0x7F, 2
            if size == 126:
                if len(buffer) < 4:
                    return
                size, start = int.from_bytes(buffer[2:4], "big"), 4
            elif size == 127:
                if len(buffer) < 10:
                    return
                size, start = int.from_bytes(buffer[2:10], "big"), 10
            end = start + size
            if len(buffer) < end:
                return
            opcode, payload = buffer[0] & 0x0F, bytes(buffer[start:end])
            del buffer[:end]
            if opcode == _TEXT:
                self.frames.append((arrived, payload))
            elif opcode == _PING:
                self._write(masked_frame(_PONG, payload))
            elif opcode == _CLOSE:
                self._write(masked_frame(_CLOSE, payload[:2]))

    def _upgrade(self) -> bool:
        """Take the handshake's answer off the buffer; whether it is complete."""
        head, found, _ = self._buffer.partition(b"\r\n\r\n")
        if not found:
            return False
        del self._buffer[: len(head) + 4]
        lines = bytes(head).split(b"\r\n")
        accept = base64.b64encode(hashlib.sha1(self._key + _ACCEPT_GUID).digest())
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(b":") for line in lines[1:])
        }
        if lines[0].split(b" ")[1] != b"101" or headers.get(b"sec-websocket-accept") != accept:
            self.opened.set_exception(ConnectionError(f"not upgraded: {lines[0]!r}"))
            self.release()
            return False
        self._upgraded = True
        self._write(masked_frame(_TEXT, self._subscribe))
        self.opened.set_result(None)
        return True

    def _write(self, frame: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(frame)

    def release(self) -> None:
        if self._transport is not None:
            self._transport.close()


async def open_receiver(host: str, port: int, token: str, subscribe: bytes) -> PushReceiver:
    """A socket upgraded and subscribed."""
    loop = asyncio.get_running_loop()
    _, receiver = await loop.create_connection(
        lambda: PushReceiver(host, port, token, subscribe), host, port
    )
    await receiver.opened
    return receiver
