"""A real relay on 127.0.0.1 in a thread of its own, for tests that run ``casecircle``
commands in-process (each command runs its own event loop with ``asyncio.run``).

It can be stopped and started again on the same port and data directory: the devices'
profiles pin the relay's URL, and its SQLite data survives, as a relay restart would.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
from pathlib import Path

from server.app import create_app, make_runner
from server.config import Limits, RelayConfig
from server.listener import RelaySite


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RelayThread:
    """``start()`` serves until ``stop()``; ``url`` stays the same across restarts."""

    def __init__(self, data_dir: Path, root_public_key: bytes) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Every test device connects from 127.0.0.1: allow what several machines would get.
        self._config = RelayConfig(
            data_dir=data_dir,
            host="127.0.0.1",
            port=self.port,
            root_public_key=root_public_key,
            limits=dataclasses.replace(Limits(), auth_per_minute=6000),
        )
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    def start(self) -> None:
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name="relay", daemon=True)
        self._thread.start()
        if not self._ready.wait(20):
            raise RuntimeError("the relay did not start")
        if self._failure is not None:
            raise RuntimeError("the relay failed to start") from self._failure

    def stop(self) -> None:
        if self._thread is None or self._loop is None or self._stop is None:
            return
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(20)
        self._thread = None

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        runner = make_runner(create_app(self._config))
        try:
            await runner.setup()
            site = RelaySite(
                runner, "127.0.0.1", self.port, head_timeout=self._config.limits.header_timeout
            )
            await site.start()
        except BaseException as exc:
            self._failure = exc
            self._ready.set()
            await runner.cleanup()
            raise
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()
