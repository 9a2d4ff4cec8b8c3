"""The transparency log by API: heads are signed, proofs verify with protocol.transparency."""

from __future__ import annotations

import base64

import pytest

from protocol.directory import LogEntry
from protocol.transparency import (
    ConsistencyProof,
    InclusionProof,
    SignedTreeHead,
    verify_tree_head,
)
from server.keys import IDENTITY
from tests.server.relay import Relay

pytestmark = pytest.mark.asyncio


async def head(relay: Relay) -> SignedTreeHead:
    status, body = await relay.get("/v1/log/head")
    assert status == 200
    signed = SignedTreeHead.from_bytes(base64.b64decode(body["signed_tree_head"]))
    verify_tree_head(relay.app[IDENTITY].public_key, signed)
    assert body["tree_size"] == signed.tree_head.tree_size
    return signed


async def test_entries_inclusion_and_consistency(relay: Relay) -> None:
    empty = await head(relay)
    assert empty.tree_head.tree_size == 0
    await relay.enrol("a")
    await relay.enrol("b")
    small = await head(relay)
    for name in "cde":
        await relay.enrol(name)
    big = await head(relay)
    assert big.tree_head.tree_size == 5

    status, body = await relay.get("/v1/log/entries?start=0")
    assert [entry["index"] for entry in body["entries"]] == [0, 1, 2, 3, 4]
    leaves = [base64.b64decode(entry["leaf"]) for entry in body["entries"]]
    for index, leaf in enumerate(leaves):
        LogEntry.from_bytes(leaf)
        status, body = await relay.get(f"/v1/log/inclusion?index={index}&tree_size=5")
        assert status == 200
        proof = InclusionProof.from_bytes(base64.b64decode(body["proof"]))
        proof.verify(LogEntry.from_bytes(leaf).leaf_hash(), big.tree_head)

    status, body = await relay.get("/v1/log/consistency?first=2&second=5")
    consistency = ConsistencyProof.from_bytes(base64.b64decode(body["proof"]))
    consistency.verify(small.tree_head, big.tree_head)


async def test_same_size_same_signed_head(relay: Relay) -> None:
    await relay.enrol("a")
    assert (await head(relay)).to_bytes() == (await head(relay)).to_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/v1/log/inclusion?index=0&tree_size=1",
        "/v1/log/inclusion?index=0",
        "/v1/log/inclusion?index=x&tree_size=0",
        "/v1/log/consistency?first=2&second=1",
        "/v1/log/consistency?first=0&second=9",
        "/v1/log/entries",
        "/v1/log/entries?start=3&end=1",
        "/v1/log/entries?start=-1",
    ],
)
async def test_out_of_range_requests_are_400(relay: Relay, path: str) -> None:
    status, body = await relay.get(path)
    assert status == 400
    assert body["error"] in {"bad_request", "tree_range"}


async def test_entries_beyond_the_end_are_empty(relay: Relay) -> None:
    status, body = await relay.get("/v1/log/entries?start=10")
    assert (status, body) == (200, {"entries": []})


async def test_platform_publishes_root_and_relay_keys(relay: Relay) -> None:
    status, body = await relay.get("/v1/platform")
    assert status == 200
    assert body == {
        "root_key": relay.root.public_key.hex(),
        "relay_key": relay.app[IDENTITY].public_key.hex(),
    }
