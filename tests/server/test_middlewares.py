"""Errors and limits at the HTTP edge (ATTACKS E4, E12): every refusal is 4xx JSON."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from server.app import create_app, make_runner
from server.config import RelayConfig
from server.middlewares import public
from tests.server.relay import Relay, limits, root_key, running_relay

pytestmark = pytest.mark.asyncio

CANARY = "CANARY-7f3e-payload-text"
SMALL_BODIES = limits(max_json_body=1000, max_message_bytes=500)


async def raw_exchange(relay: Relay, request: bytes, *, pause: float = 0.0) -> bytes:
    host, port = relay.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        if pause:
            await asyncio.sleep(pause)
        async with asyncio.timeout(5):
            return await reader.read(65536)
    finally:
        writer.close()


def status_and_body(reply: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = reply.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body) if body.startswith(b"{") else {}


async def test_malformed_json_is_400(relay: Relay) -> None:
    for body in (b"{", b"[1]", b'"x"', b"NaN", b"[" * 100_000, b"\xff\xfe"):
        status, answer = await relay.request(
            "POST", "/v1/auth/challenge", data=body, headers={"Content-Type": "application/json"}
        )
        assert (status, answer["error"]) == (400, "malformed_json"), body[:10]


async def test_wrong_content_type_is_400(relay: Relay) -> None:
    status, answer = await relay.request("POST", "/v1/auth/challenge", data=b"{}")
    assert (status, answer["error"]) == (400, "bad_request")


async def test_oversize_body_with_honest_length_is_413(tmp_path: Path) -> None:
    async with running_relay(tmp_path, limits=SMALL_BODIES) as relay:
        body = json.dumps({"device_id": "ab" * 16, "pad": "x" * 2000})
        status, answer = await relay.request(
            "POST", "/v1/auth/challenge", data=body, headers={"Content-Type": "application/json"}
        )
        assert (status, answer["error"]) == (413, "too_large")


async def test_chunked_body_beyond_the_limit_is_413(tmp_path: Path) -> None:
    async with running_relay(tmp_path, limits=SMALL_BODIES) as relay:
        chunk = b"x" * 600
        request = (
            b"POST /v1/auth/challenge HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
            + (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 3
            + b"0\r\n\r\n"
        )
        status, answer = status_and_body(await raw_exchange(relay, request))
        assert (status, answer["error"]) == (413, "too_large")


async def test_lying_content_length_reads_no_further(
    relay: Relay, caplog: pytest.LogCaptureFixture
) -> None:
    body = b'{"device_id": "' + CANARY.encode() + b'"}'
    request = (
        b"POST /v1/auth/challenge HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Content-Length: 5\r\n\r\n" + body
    )
    with caplog.at_level(logging.DEBUG):
        reply = await raw_exchange(relay, request)
    # the bytes after the declared length are not a request: 400, connection closed
    assert reply.startswith(b"HTTP/1.") and b" 400 " in reply.split(b"\r\n", 1)[0]
    assert CANARY not in caplog.text


async def test_body_shorter_than_its_length_times_out(tmp_path: Path) -> None:
    async with running_relay(tmp_path, limits=limits(body_timeout=0.3)) as relay:
        request = (
            b"POST /v1/auth/challenge HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n{"
        )
        status, answer = status_and_body(await raw_exchange(relay, request))
        assert (status, answer["error"]) == (408, "request_timeout")


async def test_compressed_bodies_are_refused(relay: Relay) -> None:
    bomb = gzip.compress(b"{" + b" " * 10_000_000 + b"}")
    status, answer = await relay.request(
        "POST",
        "/v1/auth/challenge",
        data=bomb,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert (status, answer["error"]) == (415, "unsupported_media_type")


async def test_unknown_route_and_method_are_json(relay: Relay) -> None:
    status, answer = await relay.get("/v1/nothing-here")
    assert (status, answer["error"]) == (404, "not_found")
    status, answer = await relay.request("DELETE", "/v1/platform")
    assert (status, answer["error"]) == (405, "method_not_allowed")


async def test_device_rate_limit_is_429(tmp_path: Path) -> None:
    async with running_relay(
        tmp_path, limits=limits(requests_per_second=0.01, request_burst=3)
    ) as relay:
        client = await relay.enrol("alice")
        statuses = [(await client.get("/v1/groups"))[0] for _ in range(5)]
        assert statuses[:3] == [200, 200, 200]
        assert statuses[3:] == [429, 429]


async def test_address_rate_limit_on_public_routes(tmp_path: Path) -> None:
    async with running_relay(tmp_path, limits=limits(auth_per_minute=2)) as relay:
        statuses = [(await relay.get("/v1/platform"))[0] for _ in range(3)]
        assert statuses == [200, 200, 429]


async def test_unexpected_exception_is_400_and_logs_no_payload(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    @public
    async def explode(request: web.Request) -> web.Response:
        body = await request.text()
        raise RuntimeError(f"bug while handling {body}")

    config = RelayConfig(data_dir=tmp_path, port=0, root_public_key=root_key().public_key)
    app = create_app(config)
    app.router.add_post("/v1/explode", explode)
    runner = make_runner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        with caplog.at_level(logging.DEBUG):
            async with aiohttp.ClientSession() as http:
                async with http.post(f"http://127.0.0.1:{port}/v1/explode", data=CANARY) as reply:
                    assert reply.status == 400
                    assert (await reply.json())["error"] == "unprocessable"
    finally:
        await runner.cleanup()
    assert "RuntimeError" in caplog.text
    assert CANARY not in caplog.text
