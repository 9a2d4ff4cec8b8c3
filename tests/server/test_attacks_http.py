"""Attacks on the relay's HTTP and WebSocket edge, against a real relay on 127.0.0.1.

ATTACKS.md outcomes shown here, each bounded in time and with other clients still served:

* E4 oversize bodies — honest, absent and lying Content-Length, chunked without end, a huge
  chunk size, gzip and deflate bombs — get 413, 415 or 400 at once, nothing decompressed;
  on the JSON routes and on the blob upload route.
* E5 bad WebSocket frames — oversize (announced or sent), endless continuation, reserved
  opcodes, continuation without a start, RSV bits, oversize or fragmented control frames,
  invalid UTF-8, binary or non-JSON where JSON text is expected, a bad close code — close
  the socket with the close code RFC 6455 gives for each.
* E12 slow clients — request heads one byte at a time, idle connections, a slow body, a
  WebSocket reader that stops reading — are cut off after the configured timeout.
* F3 disk full (a real, tiny tmpfs) — 503 and no acknowledgement, the database sound,
  everything refused accepted once space returns, nothing stored twice.
* F4 limits and quotas — told to the sender at send time with a 4xx, nothing stored.
* D2 a replayed login answer is refused, also when replayed concurrently, after a restart
  and at another relay.

Elsewhere: a replayed answer in sequence (tests/server/test_auth.py), pushes in sequence
order and resuming from a cursor after a disconnect (tests/server/handlers/test_ws.py, and
across kill -9 in tests/server/test_fault_kill9.py).
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import os
import shutil
import socket
import struct
import subprocess
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from protocol.mls.framing import MLSMessage
from server.keys import HUB
from tests.server.handlers.test_groups import GROUP, group_of
from tests.server.relay import (
    TEST_LIMITS,
    Relay,
    RelayClient,
    RelayEndpoint,
    b64,
    limits,
    root_key,
    running_relay,
)
from tests.server.relay_process import integrity_check, relay_process

pytestmark = pytest.mark.asyncio

KIB = 1024
SMALL = limits(
    max_json_body=64 * KIB,
    max_message_bytes=32 * KIB,
    max_chunk_bytes=64 * KIB,
    ws_max_frame=4 * KIB,
    header_timeout=0.5,
    body_timeout=0.5,
    ws_send_timeout=0.5,
)
QUICKLY = 2.0  # seconds: a refusal, a cut-off or a normal answer arrives within this


@pytest_asyncio.fixture
async def small(tmp_path: Path) -> AsyncIterator[Relay]:
    async with running_relay(tmp_path / "relay", limits=SMALL) as relay:
        yield relay


# --- raw connections ---------------------------------------------------------------------


async def connect(relay: Relay) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = relay.url.removeprefix("http://").split(":")
    return await asyncio.open_connection(host, int(port))


async def read_reply(reader: asyncio.StreamReader, wait: float = QUICKLY) -> tuple[int, Any]:
    """Status and JSON body of one HTTP/1.1 answer."""
    async with asyncio.timeout(wait):
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await reader.readexactly(length)
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body) if body.startswith(b"{") else body


async def closed_by_relay(reader: asyncio.StreamReader, wait: float = QUICKLY) -> bool:
    """Whether the relay ends the connection (EOF or reset) within ``wait`` seconds."""
    try:
        async with asyncio.timeout(wait):
            while await reader.read(65536):
                pass
    except TimeoutError:
        return False
    except ConnectionError:
        pass
    return True


async def still_served(relay: Relay) -> None:
    """Another client gets a normal answer, quickly."""
    started = time.monotonic()
    status, body = await relay.get("/v1/platform")
    assert status == 200, body
    assert time.monotonic() - started < QUICKLY


def post_head(path: str, *headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: relay", *headers, "", ""]
    return "\r\n".join(lines).encode()


# --- E4: oversize bodies ------------------------------------------------------------------

MIB_OF_JSON = b'{"device_id": "' + b"a" * (1024 * KIB) + b'"}'
GZIP_BOMB = gzip.compress(b" " * 16 * 1024 * KIB)  # 16 MiB of JSON whitespace in 16 KiB
DEFLATE_BOMB = zlib.compress(b" " * 16 * 1024 * KIB)
JSON = "Content-Type: application/json"


def chunk(data: bytes) -> bytes:
    return b"%x\r\n" % len(data) + data + b"\r\n"


BODY_ATTACKS = {
    # name: (head, body sent after it, statuses accepted)
    "honest length, too long": (
        post_head("/v1/auth/challenge", JSON, f"Content-Length: {len(MIB_OF_JSON)}"),
        MIB_OF_JSON[: 4 * KIB],  # refused on the declared length, before the body
        {413},
    ),
    "lying length, terabytes": (
        post_head("/v1/auth/challenge", JSON, f"Content-Length: {2**40}"),
        MIB_OF_JSON[: 4 * KIB],
        {413},
    ),
    "lying length, too short": (
        post_head("/v1/auth/challenge", JSON, "Content-Length: 10"),
        MIB_OF_JSON,  # 10 bytes of body, then a megabyte that is no request
        {400},  # aiohttp's parser refuses the rest, in plain text, and closes
    ),
    "absent length": (
        post_head("/v1/auth/challenge", JSON),
        MIB_OF_JSON,  # no body at all, then a megabyte that is no request
        {400},
    ),
    "chunked without end": (
        post_head("/v1/auth/challenge", JSON, "Transfer-Encoding: chunked"),
        b"".join(chunk(MIB_OF_JSON[i : i + 8 * KIB]) for i in range(0, 1024 * KIB, 8 * KIB)),
        {413},
    ),
    "chunked, huge chunk size": (
        post_head("/v1/auth/challenge", JSON, "Transfer-Encoding: chunked"),
        b"ffffffffffff\r\n" + MIB_OF_JSON,
        {413},
    ),
    "gzip bomb": (
        post_head(
            "/v1/auth/challenge",
            JSON,
            "Content-Encoding: gzip",
            f"Content-Length: {len(GZIP_BOMB)}",
        ),
        GZIP_BOMB,
        {415},
    ),
    "deflate bomb": (
        post_head(
            "/v1/auth/challenge",
            JSON,
            "Content-Encoding: deflate",
            f"Content-Length: {len(DEFLATE_BOMB)}",
        ),
        DEFLATE_BOMB,
        {415},
    ),
    "compressed transfer coding": (
        post_head("/v1/auth/challenge", JSON, "Transfer-Encoding: gzip, chunked"),
        chunk(gzip.compress(b'{"device_id": "' + b"a" * 1024 * KIB + b'"}')) + b"0\r\n\r\n",
        {400, 501},  # never decompressed: the gzip bytes are no JSON
    ),
}


async def send_attack(writer: asyncio.StreamWriter, head: bytes, body: bytes) -> None:
    """Write the request, stopping without complaint if the relay stops reading it."""
    try:
        writer.write(head)
        for start in range(0, len(body), 64 * KIB):
            writer.write(body[start : start + 64 * KIB])
            await writer.drain()
    except ConnectionError:
        pass


@pytest.mark.parametrize("attack", list(BODY_ATTACKS))
async def test_oversize_bodies_are_refused_at_once(small: Relay, attack: str) -> None:
    head, body, statuses = BODY_ATTACKS[attack]
    reader, writer = await connect(small)
    try:
        started = time.monotonic()
        sender = asyncio.create_task(send_attack(writer, head, body))
        status, answer = await read_reply(reader)
        assert time.monotonic() - started < QUICKLY
        assert status in statuses, (status, answer)
        if isinstance(answer, dict):
            assert answer["error"] in {"too_large", "unsupported_media_type", "malformed_json"}
        else:  # not HTTP after the declared body: refused by the parser, connection closed
            assert await closed_by_relay(reader)
        await still_served(small)
        sender.cancel()
    finally:
        writer.transport.abort()
    await still_served(small)


async def blob_upload(relay: Relay) -> tuple[RelayClient, str]:
    alice, _ = await group_of(relay, "alice", "bob")
    status, body = await alice.post(f"/v1/groups/{GROUP.hex()}/blobs", {"size": 1024 * KIB})
    assert status == 201, body
    return alice, body["blob_id"]


@pytest.mark.parametrize(
    ("encoding", "status"),
    [
        (f"Content-Length: {1024 * KIB}", 413),
        ("Transfer-Encoding: chunked", 413),
        (f"Content-Encoding: gzip\r\nContent-Length: {1024 * KIB}", 415),
    ],
)
async def test_oversize_blob_chunks_are_refused_at_once(
    small: Relay, encoding: str, status: int
) -> None:
    alice, blob = await blob_upload(small)
    head = (
        f"PUT /v1/blobs/{blob}?offset=0 HTTP/1.1\r\nHost: relay\r\n"
        f"Authorization: Bearer {alice.token}\r\nContent-Type: application/octet-stream\r\n"
        f"{encoding}\r\n\r\n"
    ).encode()
    data = os.urandom(1024 * KIB)
    body = b"".join(chunk(data[i : i + 16 * KIB]) for i in range(0, len(data), 16 * KIB))
    reader, writer = await connect(small)
    try:
        sender = asyncio.create_task(
            send_attack(writer, head, body if "chunked" in encoding else data)
        )
        assert (await read_reply(reader))[0] == status
        sender.cancel()
    finally:
        writer.transport.abort()
    status, answer = await small.request(
        "PUT", f"/v1/blobs/{blob}?offset=0", token=alice.token, data=data[: 64 * KIB],
        headers={"Content-Type": "application/octet-stream"},
    )  # fmt: skip
    assert (status, answer) == (200, {"received": 64 * KIB})  # nothing of the attack stored


async def test_many_oversize_uploads_at_once_do_not_starve_others(small: Relay) -> None:
    head, body, _ = BODY_ATTACKS["chunked without end"]
    connections = [await connect(small) for _ in range(20)]
    senders = [asyncio.create_task(send_attack(w, head, body)) for _, w in connections]
    try:
        for _ in range(5):
            await still_served(small)
        for reader, _ in connections:
            assert (await read_reply(reader))[0] == 413
    finally:
        for sender in senders:
            sender.cancel()
        for _, writer in connections:
            writer.transport.abort()
    await still_served(small)


# --- E5: bad WebSocket frames -------------------------------------------------------------


def ws_frame(
    opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0, length: int | None = None
) -> bytes:
    """A masked client frame; ``length`` overrides the announced payload length."""
    size = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    if size < 126:
        head += bytes([0x80 | size])
    elif size < 2**16:
        head += bytes([0x80 | 126]) + struct.pack("!H", size)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", size)
    mask = os.urandom(4)
    return head + mask + bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))


async def ws_open(
    relay: Relay, client: RelayClient, *, receive_buffer: int | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A raw WebSocket after a successful upgrade."""
    host, port = relay.url.removeprefix("http://").split(":")
    sock = socket.socket()
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    reader, writer = await asyncio.open_connection(sock=sock)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            "GET /v1/ws HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {client.token}\r\n\r\n"
        ).encode()
    )
    async with asyncio.timeout(QUICKLY):
        head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 "), head
    return reader, writer


async def close_code(reader: asyncio.StreamReader, wait: float = QUICKLY) -> int | None:
    """The code of the relay's close frame (frames before it skipped); ``None`` if the
    connection ended without one."""
    async with asyncio.timeout(wait):
        while True:
            try:
                first, second = await reader.readexactly(2)
            except (asyncio.IncompleteReadError, ConnectionError):
                return None
            size = second & 0x7F
            if size == 126:
                size = struct.unpack("!H", await reader.readexactly(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", await reader.readexactly(8))[0]
            payload = await reader.readexactly(size)
            if first & 0x0F == 0x8:
                return int(struct.unpack("!H", payload[:2])[0]) if len(payload) >= 2 else None


MAX_FRAME = SMALL.ws_max_frame
FRAME_ATTACKS = {
    # name: (frames, close code)
    "announced oversize frame": (ws_frame(1, b"", length=2**40)[:14], 1009),
    "oversize frame": (ws_frame(1, b" " * (MAX_FRAME + 1)), 1009),
    "endless continuation": (
        ws_frame(1, b"{", fin=False)
        + b"".join(ws_frame(0, b" " * 512, fin=False) for _ in range(2 * MAX_FRAME // 512)),
        1009,
    ),
    "reserved data opcode": (ws_frame(0x3, b"{}"), 1002),
    "reserved control opcode": (ws_frame(0xB, b""), 1002),
    "continuation without a start": (ws_frame(0, b"{}"), 1002),
    "RSV bits without an extension": (ws_frame(1, b"{}", rsv=0b100), 1002),
    "oversize control frame": (ws_frame(0x9, b"p" * 126), 1002),
    "fragmented control frame": (ws_frame(0x9, b"p", fin=False), 1002),
    "invalid UTF-8": (ws_frame(1, b'{"type": "\xff\xfe"}'), 1007),
    "binary where text is expected": (ws_frame(2, b"\x00\x01"), 1003),
    "text that is not JSON": (ws_frame(1, b"subscribe me"), 1008),
    "a bad close code": (ws_frame(0x8, struct.pack("!H", 999)), 1002),
}


@pytest.mark.parametrize("attack", list(FRAME_ATTACKS))
async def test_bad_websocket_frames_close_with_the_right_code(small: Relay, attack: str) -> None:
    alice, bob = await group_of(small, "alice", "bob")
    frames, code = FRAME_ATTACKS[attack]
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(
            small.url + "/v1/ws", headers={"Authorization": f"Bearer {bob.token}"}
        ) as bystander:
            await bystander.send_json({"type": "subscribe", "groups": {GROUP.hex(): 1}})
            reader, writer = await ws_open(small, alice)
            try:
                writer.write(frames)
                assert await close_code(reader) == code
                assert await closed_by_relay(reader)
            finally:
                writer.transport.abort()
            assert alice.mls.group is not None
            note = alice.mls.group.protect(b"for the bystander", alice.mls.rng)
            assert (await alice.send(GROUP, note))[0] == 201
            async with asyncio.timeout(QUICKLY):
                pushed = await bystander.receive_json()
    assert (pushed["seq"], base64.b64decode(pushed["message"])) == (2, note)


# --- E12: slow clients --------------------------------------------------------------------


async def slowloris(relay: Relay, *, byte_every: float = 0.05) -> tuple[float, int, Any]:
    """Send a request head one byte at a time; when and how the relay ends it."""
    reader, writer = await connect(relay)
    head = post_head("/v1/auth/challenge", JSON, "X-Padding: " + "p" * 10_000)

    async def drip() -> None:
        for byte in head[:-4]:
            writer.write(bytes([byte]))
            await asyncio.sleep(byte_every)

    dripping = asyncio.create_task(drip())
    started = time.monotonic()
    try:
        status, answer = await read_reply(reader, wait=10)
        elapsed = time.monotonic() - started
        assert await closed_by_relay(reader)
    finally:
        dripping.cancel()
        writer.transport.abort()
    return elapsed, status, answer


async def test_slowloris_head_is_cut_off_at_the_header_timeout(small: Relay) -> None:
    attack = asyncio.create_task(slowloris(small))
    await asyncio.sleep(0.1)
    await still_served(small)
    elapsed, status, answer = await attack
    assert (status, answer["error"]) == (408, "request_timeout")
    assert SMALL.header_timeout - 0.1 < elapsed < SMALL.header_timeout + 1.0


async def test_many_slowloris_connections_are_all_cut_off(small: Relay) -> None:
    attacks = [asyncio.create_task(slowloris(small, byte_every=0.1)) for _ in range(50)]
    await asyncio.sleep(0.2)
    for _ in range(3):
        await still_served(small)
    results = await asyncio.gather(*attacks)
    assert all(status == 408 for _, status, _ in results)
    assert max(elapsed for elapsed, _, _ in results) < SMALL.header_timeout + 1.5


async def test_idle_connection_is_cut_off(small: Relay) -> None:
    reader, writer = await connect(small)
    try:
        started = time.monotonic()
        status, answer = await read_reply(reader, wait=5)
        assert (status, answer["error"]) == (408, "request_timeout")
        assert time.monotonic() - started < SMALL.header_timeout + 1.0
        assert await closed_by_relay(reader)
    finally:
        writer.transport.abort()


async def test_prompt_heads_are_not_cut_off(small: Relay) -> None:
    """The deadline is for the head only: a head split at its very end, a keep-alive
    connection used again after the deadline, and a WebSocket held open past it."""
    request = b"GET /v1/platform HTTP/1.1\r\nHost: relay\r\n\r\n"
    reader, writer = await connect(small)
    try:
        writer.write(request[:-2])
        await asyncio.sleep(0.1)
        writer.write(request[-2:])
        assert (await read_reply(reader))[0] == 200
        await asyncio.sleep(SMALL.header_timeout + 0.3)
        writer.write(request)
        assert (await read_reply(reader))[0] == 200
    finally:
        writer.transport.abort()
    alice = await small.enrol("alice")
    reader, writer = await ws_open(small, alice)
    try:
        await asyncio.sleep(SMALL.header_timeout + 0.3)
        writer.write(ws_frame(1, b'{"type": "subscribe", "groups": {}}'))
        await asyncio.sleep(0.1)
        assert not reader.at_eof()
        assert small.app[HUB].socket_count == 1
    finally:
        writer.transport.abort()


async def test_slow_body_is_cut_off_at_the_body_timeout(small: Relay) -> None:
    body = b'{"device_id": "' + b"a" * 200 + b'"}'
    reader, writer = await connect(small)

    async def drip() -> None:
        writer.write(post_head("/v1/auth/challenge", JSON, f"Content-Length: {len(body)}"))
        for byte in body:
            writer.write(bytes([byte]))
            await asyncio.sleep(0.05)

    dripping = asyncio.create_task(drip())
    try:
        started = time.monotonic()
        await still_served(small)
        status, answer = await read_reply(reader, wait=5)
        assert (status, answer["error"]) == (408, "request_timeout")
        assert time.monotonic() - started < SMALL.body_timeout + 1.0
    finally:
        dripping.cancel()
        writer.transport.abort()


async def test_websocket_reader_that_stops_reading_is_dropped(small: Relay) -> None:
    alice, bob, carol = await group_of(small, "alice", "bob", "carol")
    hub = small.app[HUB]
    reader, writer = await ws_open(small, bob, receive_buffer=4096)
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(
            small.url + "/v1/ws", headers={"Authorization": f"Bearer {carol.token}"}
        ) as bystander:
            await bystander.send_json({"type": "subscribe", "groups": {GROUP.hex(): 2}})
            writer.write(
                ws_frame(1, json.dumps({"type": "subscribe", "groups": {GROUP.hex(): 2}}).encode())
            )
            await writer.drain()
            transport = writer.transport
            assert isinstance(transport, asyncio.Transport)
            transport.pause_reading()  # bob reads nothing from here on
            assert hub.socket_count == 2
            assert alice.mls.group is not None
            # ~4.8 MB of pushes: more than the kernel's socket buffers hold (4 MiB at most)
            notes = [alice.mls.group.protect(os.urandom(30_000), alice.mls.rng) for _ in range(160)]

            async def take_all() -> list[bytes]:
                frames = [await bystander.receive_json() for _ in notes]
                return [base64.b64decode(frame["message"]) for frame in frames]

            taking = asyncio.create_task(take_all())
            for note in notes:
                assert (await alice.send(GROUP, note))[0] == 201
            async with asyncio.timeout(10):
                assert await taking == notes  # the bystander got everything, in order
            async with asyncio.timeout(SMALL.ws_send_timeout + 2):  # bob's socket is gone
                while hub.socket_count > 1:
                    await asyncio.sleep(0.05)
    transport.resume_reading()
    assert await closed_by_relay(reader, wait=5)
    writer.transport.abort()


# --- F3: disk full ------------------------------------------------------------------------


def tiny_filesystem(mount_point: Path, size: str) -> list[str] | None:
    """A command prefix that runs a program in its own user and mount namespaces with a
    ``size`` tmpfs on ``mount_point`` (no root needed); ``None`` where that is not allowed."""
    if shutil.which("unshare") is None:
        return None
    prefix = [
        "unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
        'mount -t tmpfs -o "size=$1" tmpfs "$0" && shift && exec "$@"', str(mount_point), size,
    ]  # fmt: skip
    probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10, check=False)
    return prefix if probe.returncode == 0 else None


def fill(directory: Path) -> Path:
    """Fill the filesystem of ``directory`` to the last byte."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def image_is_sound(data_dir: Path, scratch: Path) -> bool:
    """``PRAGMA integrity_check`` on a copy of the database and its WAL as they are now."""
    scratch.mkdir(exist_ok=True)
    for name in ("relay.sqlite3", "relay.sqlite3-wal"):
        shutil.copy(data_dir / name, scratch / name)
    return integrity_check(scratch / "relay.sqlite3") == "ok"


async def test_disk_full_refuses_without_ack_and_recovers(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    prefix = tiny_filesystem(disk, "4m")
    if prefix is None:
        pytest.skip("no unprivileged user and mount namespaces here for a tiny tmpfs")
    root = root_key()
    with relay_process(tmp_path, root.public_key, TEST_LIMITS, data_dir=disk, wrapper=prefix) as p:
        inside = Path(f"/proc/{p.pid}/root") / str(disk).lstrip("/")  # the relay's view
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            alice, bob = await group_of(RelayEndpoint(p.url, root, http), "alice", "bob")
            assert alice.mls.group is not None
            notes = {f"n{i}": alice.mls.group.protect(os.urandom(8 * KIB), alice.mls.rng)
                     for i in range(40)}  # fmt: skip
            acked: dict[str, int] = {}
            for client_id in list(notes)[:5]:
                status, body = await alice.send(
                    GROUP, notes[client_id], client_message_id=client_id
                )
                assert status == 201
                acked[client_id] = body["seq"]

            filler = fill(inside)
            refused = []
            for client_id in list(notes)[5:]:
                status, body = await alice.send(
                    GROUP, notes[client_id], client_message_id=client_id
                )
                if status == 201:  # still room in pages SQLite had already
                    acked[client_id] = body["seq"]
                else:
                    assert (status, body["error"]) == (503, "storage_unavailable"), body
                    refused.append(client_id)
            assert len(refused) >= 20
            for path, payload in [
                ("/v1/groups", {"group_id": "ab" * 16}),
                (f"/v1/groups/{GROUP.hex()}/blobs", {"size": 10}),
                ("/v1/key-packages",
                 {"key_packages": [b64(MLSMessage(body=bob.mls.key_package()).to_bytes())]}),
            ]:  # fmt: skip
                status, body = await (bob if "key" in path else alice).post(path, payload)
                assert (status, body["error"]) == (503, "storage_unavailable"), (path, body)
            status, body = await bob.get(f"/v1/groups/{GROUP.hex()}/messages?after=1")
            assert status == 200  # reads go on
            assert [m["seq"] for m in body["messages"]] == sorted(acked.values())
            assert image_is_sound(inside, tmp_path / "while-full")

            filler.unlink()  # space returns
            for client_id in refused + list(acked):
                status, body = await alice.send(
                    GROUP, notes[client_id], client_message_id=client_id
                )
                if client_id in acked:
                    assert (status, body["seq"]) == (200, acked[client_id])
                else:
                    assert (status, body["duplicate"]) == (201, False), body
                    acked[client_id] = body["seq"]
            status, body = await bob.get(f"/v1/groups/{GROUP.hex()}/messages?after=1")
            stored = [base64.b64decode(m["message"]) for m in body["messages"]]
            assert sorted(stored) == sorted(notes.values())  # each exactly once
            assert [m["seq"] for m in body["messages"]] == list(range(2, 2 + len(notes)))
            assert (await alice.post("/v1/groups", {"group_id": "ab" * 16}))[0] == 201
            assert image_is_sound(inside, tmp_path / "after")
        assert p.terminate() == 0


# --- F4: limits and quotas are told at send time --------------------------------------------


async def test_quota_and_limits_are_told_at_send_time(tmp_path: Path) -> None:
    bounded = limits(
        max_message_bytes=2 * KIB, max_blob_bytes=1000, blob_quota_bytes=1500,
        max_key_packages=2, max_roster_size=2,
    )  # fmt: skip
    async with running_relay(tmp_path, limits=bounded) as relay:
        alice, bob = await group_of(relay, "alice", "bob")
        carol = await relay.enrol("carol")
        assert alice.mls.group is not None
        blobs = f"/v1/groups/{GROUP.hex()}/blobs"
        status, body = await alice.post(blobs, {"size": 1000})
        assert status == 201
        first = body["blob_id"]
        status, body = await alice.post(blobs, {"size": 600})  # before any byte is sent
        assert (status, body["error"]) == (413, "quota_exceeded")
        assert (await alice.post(blobs, {"size": 500}))[0] == 201  # the refusal took nothing
        status, body = await alice.relay.request(
            "PUT", f"/v1/blobs/{first}?offset=0", token=alice.token, data=b"x" * 1000,
            headers={"Content-Type": "application/octet-stream"},
        )  # fmt: skip
        assert (status, body) == (200, {"received": 1000})

        big = alice.mls.group.protect(os.urandom(3 * KIB), alice.mls.rng)
        status, body = await alice.send(GROUP, big, client_message_id="too-big")
        assert (status, body["error"]) == (413, "too_large")

        packages = [b64(MLSMessage(body=bob.mls.key_package()).to_bytes()) for _ in range(3)]
        assert (await bob.post("/v1/key-packages", {"key_packages": packages[:2]}))[0] == 201
        status, body = await bob.post("/v1/key-packages", {"key_packages": packages[2:]})
        assert (status, body["error"]) == (413, "too_large")

        commit = alice.mls.group.commit(alice.mls.rng, 1_790_000_000)
        status, body = await alice.send(GROUP, commit.message, roster_add=[carol.id])
        assert (status, body["error"]) == (413, "too_large")

        _, group = await alice.get(f"/v1/groups/{GROUP.hex()}")
        assert (group["epoch"], group["last_seq"], sorted(group["roster"])) == (
            1, 1, sorted([alice.id, bob.id]),
        )  # fmt: skip  # nothing of the refused sends was stored
        claim = f"/v1/directory/devices/{bob.id}/key-packages/claim"
        claimed = [await carol.post(claim, {}) for _ in range(3)]
        assert [status for status, _ in claimed] == [200, 200, 404]  # the refused one not kept
        assert {body["key_package"] for _, body in claimed[:2]} == set(packages[:2])


async def test_rate_limited_send_is_told_and_not_stored(tmp_path: Path) -> None:
    async with running_relay(
        tmp_path, limits=limits(requests_per_second=5, request_burst=4)
    ) as relay:
        alice, _ = await group_of(relay, "alice", "bob")
        assert alice.mls.group is not None
        notes = {f"r{i}": alice.mls.group.protect(b"%d" % i, alice.mls.rng) for i in range(6)}
        outcomes = {cid: await alice.send(GROUP, note, client_message_id=cid)
                    for cid, note in notes.items()}  # fmt: skip
        limited = [cid for cid, (status, _) in outcomes.items() if status == 429]
        assert limited
        assert all(outcomes[cid][1]["error"] == "rate_limited" for cid in limited)
        await asyncio.sleep(1.5)
        for cid in limited:
            status, body = await alice.send(GROUP, notes[cid], client_message_id=cid)
            assert (status, body["duplicate"]) == (201, False)  # it had not been stored
        await asyncio.sleep(1.5)
        _, body = await alice.get(f"/v1/groups/{GROUP.hex()}/messages?after=1")
        assert sorted(base64.b64decode(m["message"]) for m in body["messages"]) == sorted(
            notes.values()
        )


# --- D2: replayed login answers -----------------------------------------------------------


async def signed_answer(relay: RelayEndpoint, client: RelayClient) -> dict[str, str]:
    status, issued = await relay.post("/v1/auth/challenge", {"device_id": client.id})
    assert status == 200, issued
    signature = client.mls.signing_key.sign(base64.b64decode(issued["to_sign"]))
    return {"device_id": client.id, "nonce": issued["nonce"], "signature": b64(signature)}


async def test_concurrently_replayed_answer_logs_in_once(relay: Relay) -> None:
    alice = await relay.enrol("alice")
    answer = await signed_answer(relay, alice)
    results = await asyncio.gather(*(relay.post("/v1/auth/session", answer) for _ in range(10)))
    assert sorted(status for status, _ in results) == [200] + [401] * 9
    assert {body["error"] for status, body in results if status == 401} == {"bad_challenge"}


async def test_answer_replayed_after_a_restart_or_elsewhere_is_refused(tmp_path: Path) -> None:
    root = root_key()
    async with running_relay(tmp_path / "a", root=root) as first:
        alice = await first.enrol("alice")
        answer = await signed_answer(first, alice)
    async with running_relay(tmp_path / "a", root=root) as restarted:
        status, body = await restarted.post("/v1/auth/session", answer)
        assert (status, body["error"]) == (401, "bad_challenge")
    async with running_relay(tmp_path / "b", root=root) as other:
        twin = await other.enrol("alice")  # the same device, known to another relay
        assert twin.device_id == alice.device_id
        status, body = await other.post("/v1/auth/session", answer)
        assert (status, body["error"]) == (401, "bad_challenge")
        fresh = await signed_answer(other, twin)  # the signature is bound to this relay
        forged = {**fresh, "signature": answer["signature"]}
        status, body = await other.post("/v1/auth/session", forged)
        assert (status, body["error"]) == (401, "bad_challenge")
