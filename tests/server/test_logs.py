"""What the relay logs: an access line per request only when the operator asks for one,
never a token; exceptions that could quote input reduced to their type."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from server.logs import PayloadFreeFilter
from tests.server.relay import running_relay


@pytest.mark.asyncio
@pytest.mark.parametrize("enabled", [False, True])
async def test_the_access_log_is_opt_in(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, enabled: bool
) -> None:
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    async with running_relay(tmp_path / "relay", access_log=enabled) as relay:
        client = await relay.enrol("alice")
        status, _ = await client.get("/v1/groups?x=1")
        assert status == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    if not enabled:
        assert lines == []
        return
    assert any('"GET /v1/groups?x=1 HTTP/1.1" 200 ' in line for line in lines)
    assert all(line.startswith("127.0.0.1 ") for line in lines)
    assert not any(client.token in line for line in lines)


def test_an_exception_that_quotes_input_is_logged_by_type_only() -> None:
    try:
        raise ValueError("secret note text")
    except ValueError as exc:
        record = logging.LogRecord(
            "aiohttp.server",
            logging.ERROR,
            __file__,
            1,
            "bad request",
            None,
            (type(exc), exc, None),
        )
    assert PayloadFreeFilter().filter(record)
    assert record.getMessage() == "bad request (ValueError)"
    assert record.exc_info is None
