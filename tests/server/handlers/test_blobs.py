"""Blobs: chunked upload, completion, fetch by roster devices, size limit and quota (F4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server.handlers.test_groups import GROUP, group_of
from tests.server.relay import Relay, limits, running_relay

pytestmark = pytest.mark.asyncio


async def put(relay: Relay, token: str, blob: str, offset: int, data: bytes):
    return await relay.request(
        "PUT",
        f"/v1/blobs/{blob}?offset={offset}",
        token=token,
        data=data,
        headers={"Content-Type": "application/octet-stream"},
    )


async def test_upload_in_chunks_and_fetch(relay: Relay) -> None:
    alice, bob = await group_of(relay, "alice", "bob")
    data = bytes(range(256)) * 40
    status, body = await alice.post(f"/v1/groups/{GROUP.hex()}/blobs", {"size": len(data)})
    assert status == 201
    blob = body["blob_id"]
    assert (await put(relay, alice.token, blob, 0, data[:4000]))[1] == {"received": 4000}
    status, body = await put(relay, alice.token, blob, 0, data[:10])
    assert (status, body["error"]) == (409, "conflict")
    status, body = await bob.get(f"/v1/blobs/{blob}")
    assert status == 404  # not complete yet
    assert (await put(relay, alice.token, blob, 4000, data[4000:]))[1] == {"received": len(data)}
    status, body = await put(relay, alice.token, blob, len(data), b"x")
    assert (status, body["error"]) == (413, "too_large")
    status, body = await alice.post(f"/v1/blobs/{blob}/complete", {})
    assert (status, body["size"]) == (200, len(data))
    status, fetched = await bob.get(f"/v1/blobs/{blob}")
    assert (status, fetched) == (200, data)
    outsider = await relay.enrol("outsider")
    status, body = await outsider.get(f"/v1/blobs/{blob}")
    assert (status, body["error"]) == (403, "not_on_roster")


async def test_incomplete_blob_cannot_be_completed(relay: Relay) -> None:
    alice, _ = await group_of(relay, "alice", "bob")
    status, body = await alice.post(f"/v1/groups/{GROUP.hex()}/blobs", {"size": 10})
    status, body = await alice.post(f"/v1/blobs/{body['blob_id']}/complete", {})
    assert (status, body["error"]) == (409, "conflict")


async def test_only_the_uploader_appends(relay: Relay) -> None:
    alice, bob = await group_of(relay, "alice", "bob")
    status, body = await alice.post(f"/v1/groups/{GROUP.hex()}/blobs", {"size": 10})
    status, answer = await put(relay, bob.token, body["blob_id"], 0, b"0123456789")
    assert (status, answer["error"]) == (404, "not_found")


async def test_size_limit_and_quota(tmp_path: Path) -> None:
    async with running_relay(
        tmp_path, limits=limits(max_blob_bytes=1000, blob_quota_bytes=1500)
    ) as relay:
        alice, _ = await group_of(relay, "alice", "bob")
        path = f"/v1/groups/{GROUP.hex()}/blobs"
        status, body = await alice.post(path, {"size": 1001})
        assert (status, body["error"]) == (400, "bad_request")
        assert (await alice.post(path, {"size": 1000}))[0] == 201
        status, body = await alice.post(path, {"size": 600})
        assert (status, body["error"]) == (413, "quota_exceeded")
        for bad in (0, -1, "10", None, True):
            status, body = await alice.post(path, {"size": bad})
            assert status == 400


async def test_chunk_needs_octet_stream_and_offset(relay: Relay) -> None:
    alice, _ = await group_of(relay, "alice", "bob")
    status, body = await alice.post(f"/v1/groups/{GROUP.hex()}/blobs", {"size": 10})
    blob = body["blob_id"]
    status, _ = await relay.request(
        "PUT",
        f"/v1/blobs/{blob}?offset=0",
        token=alice.token,
        data=b"0123456789",
        headers={"Content-Type": "text/plain"},
    )
    assert status == 400
    status, _ = await relay.request(
        "PUT",
        f"/v1/blobs/{blob}",
        token=alice.token,
        data=b"0123456789",
        headers={"Content-Type": "application/octet-stream"},
    )
    assert status == 400
