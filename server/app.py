"""The relay's application factory (aiohttp: app factory, typed keys, cleanup contexts).

``create_app(config)`` builds an application whose resources open when it starts and
close when it stops::

    startup:  identity key ─► storage (migrations, writer task) ─► transparency log rebuilt
              from the stored leaves ─► authenticator
    shutdown: every WebSocket closed with 1001 GOING_AWAY ─► storage closed (the writer
              commits what is queued first)

:func:`run_relay` serves it (TLS when configured) on a :class:`~server.listener.RelaySite`,
which bounds the time a connection may take to send its request head; :func:`make_runner`
holds the server settings tests and the command line share.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
import weakref
from collections.abc import AsyncIterator

from aiohttp import WSCloseCode, web

from server.auth import Authenticator
from server.config import RelayConfig
from server.errors import StorageUnavailableError
from server.handlers import (
    blobs,
    coordinator,
    directory,
    enrolments,
    groups,
    log,
    platform,
    session,
    ws,
)
from server.hub import DeliveryHub
from server.identity import load_or_create_identity
from server.keys import (
    ADDRESS_RATES,
    AUTHENTICATOR,
    CONFIG,
    DEVICE_RATES,
    HUB,
    IDENTITY,
    IN_FLIGHT,
    STORAGE,
    TRANSLOG,
    WEBSOCKETS,
)
from server.limits import TokenBuckets
from server.listener import RelaySite
from server.logs import AccessLogger, install_payload_filter
from server.middlewares import MIDDLEWARES
from server.storage.sqlite import SqliteRelayStorage
from server.translog import TransparencyLog

logger = logging.getLogger(__name__)

_LOG_PAGE = 10_000
_PURGE_INTERVAL = 600.0


async def _storage_context(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    app[IDENTITY] = load_or_create_identity(config.identity_path)
    storage = SqliteRelayStorage(config.database_path, batch_limit=config.limits.write_batch)
    translog = TransparencyLog(app[IDENTITY])
    await storage.open()
    try:
        start = 0
        while leaves := await storage.log_leaves(start, start + _LOG_PAGE):
            for leaf in leaves:
                translog.append(start, leaf)
                start += 1
        storage.add_log_listener(translog.append)
        app[STORAGE] = storage
        app[TRANSLOG] = translog
        limits = config.limits
        app[AUTHENTICATOR] = Authenticator(
            storage,
            app[IDENTITY].public_key,
            challenge_ttl=limits.challenge_ttl,
            max_challenges=limits.max_challenges,
            session_ttl=limits.session_ttl,
        )
        purger = asyncio.create_task(_purge_sessions(storage), name="session-purge")
        try:
            yield
        finally:
            purger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await purger
    finally:
        await storage.close()


async def _purge_sessions(storage: SqliteRelayStorage) -> None:
    """Drop expired session rows now and then; they are refused anyway."""
    while True:
        try:
            await storage.purge_expired(int(time.time()))
        except StorageUnavailableError:
            logger.warning("could not purge expired sessions")
        await asyncio.sleep(_PURGE_INTERVAL)


async def _close_websockets(app: web.Application) -> None:
    registry = app[WEBSOCKETS]
    for socket in list(registry):
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                socket.close(code=WSCloseCode.GOING_AWAY, message=b"relay shutting down"), 2.0
            )


def create_app(config: RelayConfig) -> web.Application:
    """The relay as an aiohttp application; nothing is opened until it starts."""
    install_payload_filter()
    limits = config.limits
    app = web.Application(middlewares=MIDDLEWARES, client_max_size=limits.max_json_body)
    app[CONFIG] = config
    app[HUB] = DeliveryHub(
        max_sockets=limits.max_websockets,
        max_per_device=limits.max_websockets_per_device,
        queue_length=limits.ws_queue_length,
    )
    app[DEVICE_RATES] = TokenBuckets(limits.requests_per_second, limits.request_burst)
    app[ADDRESS_RATES] = TokenBuckets(limits.auth_per_minute / 60, limits.auth_per_minute)
    sockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()
    app[WEBSOCKETS] = sockets
    app[IN_FLIGHT] = [0]
    for module in (platform, session, directory, enrolments, log, groups, coordinator, blobs, ws):
        app.router.add_routes(module.routes)
    app.cleanup_ctx.append(_storage_context)
    app.on_shutdown.append(_close_websockets)
    return app


def make_runner(app: web.Application) -> web.AppRunner:
    """A runner with the relay's server settings: bounded request lines and headers, no
    transparent decompression of request bodies, bounded keep-alive.

    The access log is off unless configured: a line per request ties a client's network
    address to the device ids, groups and times in its paths, which is more than the relay
    needs to know (docs/zero-knowledge.md)."""
    access_log = logging.getLogger("aiohttp.access") if app[CONFIG].access_log else None
    return web.AppRunner(
        app,
        access_log=access_log,
        access_log_class=AccessLogger,
        auto_decompress=False,
        max_line_size=8190,
        max_field_size=8190,
        keepalive_timeout=30,
        handler_cancellation=True,
        shutdown_timeout=5,
    )


def ssl_context(config: RelayConfig) -> ssl.SSLContext | None:
    if config.tls_cert is None or config.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(config.tls_cert, config.tls_key)
    return context


async def run_relay(config: RelayConfig, stop: asyncio.Event) -> None:
    """Serve until ``stop`` is set, then shut down gracefully."""
    runner = make_runner(create_app(config))
    await runner.setup()
    try:
        site = RelaySite(
            runner,
            config.host,
            config.port,
            head_timeout=config.limits.header_timeout,
            ssl_context=ssl_context(config),
        )
        await site.start()
        scheme = "https" if config.tls_cert else "http"
        logger.info("relay listening on %s://%s:%d", scheme, config.host, config.port)
        await stop.wait()
    finally:
        await runner.cleanup()
