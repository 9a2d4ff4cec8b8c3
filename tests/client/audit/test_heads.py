"""Exporting the tree heads a client has seen, and reading them back strictly."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from client.audit.cli import main
from client.audit.errors import HeadsFileError
from client.audit.heads import parse_heads, read_heads, seen_tree_heads
from client.cli_session import ClientSettings, Console
from client.demo import PASSPHRASE
from client.store import LocalStore
from crypto.signatures import ED25519
from protocol.transparency import SignedTreeHead, TreeHead, sign_tree_head
from tests.client.audit.conftest import PROFILES, DemoRelay
from tests.client.conftest import TEST_FLOOR
from tests.helpers import DeterministicRandom


def _head(size: int, fill: int) -> SignedTreeHead:
    key = ED25519.generate(DeterministicRandom("relay"))
    return sign_tree_head(key, TreeHead(tree_size=size, root_hash=bytes([fill]) * 32, timestamp=9))


@pytest.mark.asyncio
async def test_every_head_kept_is_exported_in_size_order(store: LocalStore) -> None:
    heads = [_head(3, 1), _head(1, 2), _head(3, 7), _head(8, 3)]
    for head in heads:
        await store.record_tree_head(head)
    seen = await seen_tree_heads(store)
    assert [(h.tree_head.tree_size, h.tree_head.root_hash[0]) for h in seen] == [
        (1, 2), (3, 1), (3, 7), (8, 3),
    ]  # fmt: skip


@pytest.mark.asyncio
async def test_a_store_without_heads_exports_none(store: LocalStore) -> None:
    assert await seen_tree_heads(store) == ()


def test_the_heads_command_writes_what_the_device_saw(
    demo_relay: DemoRelay, tmp_path: Path
) -> None:
    passphrase = tmp_path / "passphrase"
    passphrase.write_text(PASSPHRASE + "\n", encoding="utf-8")
    out = io.StringIO()
    code = main(
        [
            "audit", "heads", "--profile", str(demo_relay.profiles / "therapist"),
            "--passphrase-file", str(passphrase), "--out", str(tmp_path / "heads.json"),
        ],
        console=Console(out=out, err=io.StringIO()),
        settings=ClientSettings(insecure_floor_for_tests=TEST_FLOOR),
    )  # fmt: skip
    assert code == 0
    exported = read_heads(tmp_path / "heads.json")
    assert exported.heads == read_heads(demo_relay.heads[PROFILES.index("therapist")]).heads
    assert exported.heads
    assert f"{len(exported.heads)} tree heads written" in out.getvalue()


def test_a_heads_file_is_read_strictly(demo_relay: DemoRelay) -> None:
    good = json.loads(demo_relay.heads[0].read_text(encoding="utf-8"))
    assert parse_heads(json.dumps(good)).heads
    broken = [
        "not json",
        json.dumps({**good, "format": "something else"}),
        json.dumps({**good, "tree_heads": "none"}),
        json.dumps({**good, "device_id": "zz"}),
        json.dumps({**good, "exported_at": True}),
        json.dumps({**good, "tree_heads": [{**good["tree_heads"][0], "tree_size": 999}]}),
        json.dumps({**good, "tree_heads": [{**good["tree_heads"][0], "signed_tree_head": "@@"}]}),
        json.dumps({**good, "tree_heads": [7]}),
    ]
    for text in broken:
        with pytest.raises(HeadsFileError):
            parse_heads(text)


def test_an_unreadable_heads_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(HeadsFileError, match="cannot be read"):
        read_heads(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text("{}", encoding="utf-8")
    with pytest.raises(HeadsFileError, match=r"bad\.json"):
        read_heads(tmp_path / "bad.json")
