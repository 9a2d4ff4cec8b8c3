"""The relay as its own process (``casecircle server``) on 127.0.0.1, for tests that kill it.

:class:`RelayProcess` starts the real command line on a free port of 127.0.0.1 with a data
directory and a TOML configuration, waits (bounded) until it answers, and can stop it with
SIGKILL or SIGTERM and start it again on the same data directory. Use it through
:func:`relay_process`, which kills whatever is still running when the test ends.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

from server.config import Limits

REPOSITORY = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def config_toml(limits: Limits) -> str:
    """A ``--config`` file that sets every limit."""
    lines = ["[limits]"]
    for item in dataclasses.fields(limits):
        lines.append(f"{item.name} = {json.dumps(getattr(limits, item.name))}")
    return "\n".join(lines) + "\n"


def integrity_check(database: Path) -> str:
    """``PRAGMA integrity_check`` of a relay database (one line: ``ok`` when sound)."""
    with contextlib.closing(sqlite3.connect(database)) as conn:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    return "\n".join(str(row[0]) for row in rows)


class RelayProcess:
    """One ``casecircle server`` process at a time on ``data_dir``."""

    def __init__(
        self,
        work_dir: Path,
        root_key: bytes,
        limits: Limits,
        *,
        data_dir: Path | None = None,
        wrapper: Sequence[str] = (),
    ) -> None:
        self.work_dir = work_dir
        self.data_dir = data_dir if data_dir is not None else work_dir / "data"
        self.root_key = root_key
        self.port = free_port()
        self.wrapper = tuple(wrapper)  # a command the relay is run under (e.g. unshare ...)
        self.config = work_dir / "relay.toml"
        self.config.write_text(config_toml(limits), encoding="utf-8")
        self.log = work_dir / "relay.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def command(self) -> list[str]:
        return [
            *self.wrapper,
            sys.executable, "-m", "client.cli", "server", "--data-dir", str(self.data_dir),
            "--host", "127.0.0.1", "--port", str(self.port), "--root-key", self.root_key.hex(),
            "--config", str(self.config),
        ]  # fmt: skip

    def start(self, timeout: float = 20.0) -> None:
        """Start the relay and wait until it answers; on a taken port, try another one."""
        assert self.process is None or self.process.poll() is not None, "already running"
        deadline = time.monotonic() + timeout
        while True:
            with self.log.open("ab") as log:
                self.process = subprocess.Popen(
                    self.command(), stdout=log, stderr=subprocess.STDOUT, cwd=REPOSITORY
                )
            self.starts += 1
            if self._wait_until_ready(deadline):
                return
            self.port = free_port()  # it exited: most likely the port was taken meanwhile

    def _wait_until_ready(self, deadline: float) -> bool:
        assert self.process is not None
        while True:
            if self.process.poll() is not None:
                assert time.monotonic() < deadline, f"the relay does not start: {self.tail()}"
                return False
            try:
                with urllib.request.urlopen(self.url + "/v1/platform", timeout=1) as reply:
                    if reply.status == 200:
                        return True
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"the relay did not answer in time: {self.tail()}")
            time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, nothing is flushed."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=10)

    def terminate(self, timeout: float = 10.0) -> int:
        """SIGTERM: a graceful shutdown; returns the exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def tail(self, size: int = 2000) -> str:
        try:
            return self.log.read_text(errors="replace")[-size:]
        except OSError:
            return ""


@contextlib.contextmanager
def relay_process(
    work_dir: Path,
    root_key: bytes,
    limits: Limits,
    *,
    data_dir: Path | None = None,
    wrapper: Sequence[str] = (),
) -> Iterator[RelayProcess]:
    """A started :class:`RelayProcess`; it is killed when the block ends, however it ends."""
    relay = RelayProcess(work_dir, root_key, limits, data_dir=data_dir, wrapper=wrapper)
    try:
        relay.start()
        yield relay
    finally:
        relay.kill()
