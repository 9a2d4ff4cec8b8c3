"""Fixtures of the relay tests: a real relay on a free port of 127.0.0.1, per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from tests.server.relay import Relay, running_relay


@pytest_asyncio.fixture
async def relay(tmp_path: Path) -> AsyncIterator[Relay]:
    async with running_relay(tmp_path / "relay") as running:
        yield running
