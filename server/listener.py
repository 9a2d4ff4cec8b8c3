"""Where the relay listens: a TCP site whose connections must send a request head in time.

aiohttp bounds the time between requests on a kept-alive connection, but nothing of its
public settings bounds how long a client may take to send a request's line and headers
(ATTACKS E12, slowloris: headers one byte at a time hold a connection and a descriptor
for as long as the client likes). :class:`RequestHeadDeadline` sits between the transport
and aiohttp's protocol and gives every new connection ``head_timeout`` seconds to finish
its first request head::

    accept ─► timer armed ─► bytes passed on to aiohttp unchanged, watched for the blank
                 │            line that ends the head ─► timer disarmed, plain pass-through
                 ▼ (deadline)
              408 {"error": "request_timeout"} ─► connection closed

Later requests on the same connection are bounded by aiohttp's keep-alive timeout, the
request body by ``body_timeout`` (:func:`server.wire.read_body`), pushes to a slow
WebSocket reader by ``ws_send_timeout``.
"""

from __future__ import annotations

import asyncio
import json
import re
from ssl import SSLContext

from aiohttp import web

HEAD_END = re.compile(rb"\n\r?\n")

_TIMEOUT_BODY = json.dumps(
    {"error": "request_timeout", "detail": "the request head did not arrive in time"}
).encode()
TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"Content-Type: application/json; charset=utf-8\r\n"
    b"Content-Length: " + str(len(_TIMEOUT_BODY)).encode() + b"\r\n"
    b"Connection: close\r\n\r\n" + _TIMEOUT_BODY
)


class RequestHeadDeadline(asyncio.Protocol):
    """Passes everything to ``inner``; closes the connection if no request head is complete
    ``timeout`` seconds after it was accepted."""

    def __init__(self, inner: asyncio.Protocol, timeout: float) -> None:
        self._inner = inner
        self._timeout = timeout
        self._timer: asyncio.TimerHandle | None = None
        self._transport: asyncio.Transport | None = None
        self._tail = b""  # the last bytes seen, so a head end split across reads is found

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if isinstance(transport, asyncio.Transport):
            self._transport = transport
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self._timeout, self._expire)
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._timer is not None:
            window = self._tail + data
            if HEAD_END.search(window):
                self._disarm()
            else:
                self._tail = window[-2:]
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._transport = None
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        transport.write(TIMEOUT_RESPONSE)
        transport.close()


class RelaySite(web.BaseSite):
    """Like :class:`aiohttp.web.TCPSite`, with :class:`RequestHeadDeadline` on every
    connection."""

    __slots__ = ("_bound_port", "_head_timeout", "_host", "_port")

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        *,
        head_timeout: float,
        ssl_context: SSLContext | None = None,
    ) -> None:
        super().__init__(runner, ssl_context=ssl_context)
        self._host = host
        self._port = port
        self._head_timeout = head_timeout
        self._bound_port: int | None = None

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl_context else "http"
        return f"{scheme}://{self._host}:{self.port}"

    @property
    def port(self) -> int:
        """The port listened on (the one chosen by the system once started on port 0)."""
        return self._bound_port if self._bound_port is not None else self._port

    async def start(self) -> None:
        await super().start()
        handler_factory = self._runner.server
        if handler_factory is None:
            raise RuntimeError("the runner is not set up")
        timeout = self._head_timeout

        def guarded() -> asyncio.Protocol:
            return RequestHeadDeadline(handler_factory(), timeout)

        server = await asyncio.get_running_loop().create_server(
            guarded, self._host, self._port, ssl=self._ssl_context, backlog=self._backlog
        )
        self._server = server
        self._bound_port = int(server.sockets[0].getsockname()[1])
