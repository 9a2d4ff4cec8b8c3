"""The tree heads a client has seen, exported for the auditor (DESIGN §6, ATTACKS A5, A6).

A relay that shows different clients different logs can keep each view self-consistent;
only heads collected from several clients and compared reveal the fork. Each client keeps
every signed tree head it accepted (:class:`client.store.LocalStore`, table ``tree_heads``);
``casecircle audit heads`` writes them to a JSON file the auditor passes with ``--heads``::

    {
      "format": "casecircle-tree-heads/1",
      "device_id": "<hex>",                      the exporting device
      "platform_root_public_key": "<hex>",       the root the device pinned at enrolment
      "relay_url": "https://…",
      "exported_at": 1767225600,
      "tree_heads": [
        {"tree_size": 6, "root_hash": "<hex>", "timestamp": 1767225000,
         "signed_tree_head": "<base64 of the TLS-encoded SignedTreeHead>"}
      ]
    }

Only ``signed_tree_head`` is evidence: the readable fields are for people and must agree
with it. The heads are public data (sizes and hashes of the public log), and the file holds
nothing secret. Reading the store uses its public API only: the newest head gives the
largest size, and each size's heads are read in one transaction.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from client.audit.errors import HeadsFileError
from client.keystore_payload import DeviceIdentity
from client.store import LocalStore
from crypto.errors import CasecircleError
from protocol.transparency import SignedTreeHead

HEADS_FORMAT = "casecircle-tree-heads/1"
MAX_HEADS_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class HeadsExport:
    """The heads one device saw, with who it is and which root it pinned."""

    device_id: bytes
    platform_root_public_key: bytes
    relay_url: str
    exported_at: int
    heads: tuple[SignedTreeHead, ...]
    source: str = ""
    """Where the export was read from (a file name), for the report."""

    def to_json(self) -> dict[str, Any]:
        return {
            "format": HEADS_FORMAT,
            "device_id": self.device_id.hex(),
            "platform_root_public_key": self.platform_root_public_key.hex(),
            "relay_url": self.relay_url,
            "exported_at": self.exported_at,
            "tree_heads": [
                {
                    "tree_size": head.tree_head.tree_size,
                    "root_hash": head.tree_head.root_hash.hex(),
                    "timestamp": head.tree_head.timestamp,
                    "signed_tree_head": base64.b64encode(head.to_bytes()).decode("ascii"),
                }
                for head in self.heads
            ],
        }


async def seen_tree_heads(store: LocalStore) -> tuple[SignedTreeHead, ...]:
    """Every head the store kept, smallest tree first (several per size if the relay forked)."""
    latest = await store.latest_tree_head()
    if latest is None:
        return ()
    heads: list[SignedTreeHead] = []
    async with store.transaction() as tx:
        for size in range(latest.tree_head.tree_size + 1):
            heads.extend(await tx.tree_heads(size))
    return tuple(heads)


async def export_heads(identity: DeviceIdentity, store: LocalStore, now: int) -> HeadsExport:
    return HeadsExport(
        device_id=identity.device_id,
        platform_root_public_key=identity.platform_root_public_key,
        relay_url=identity.relay_url,
        exported_at=now,
        heads=await seen_tree_heads(store),
    )


def _field(obj: Mapping[str, Any], name: str, kind: type) -> Any:
    value = obj.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise HeadsFileError(f"{name} is missing or not a {kind.__name__}")
    return value


def _hex(obj: Mapping[str, Any], name: str) -> bytes:
    try:
        return bytes.fromhex(_field(obj, name, str))
    except ValueError:
        raise HeadsFileError(f"{name} is not hex") from None


def _head(entry: object) -> SignedTreeHead:
    if not isinstance(entry, dict):
        raise HeadsFileError("a tree head entry is not an object")
    try:
        raw = base64.b64decode(_field(entry, "signed_tree_head", str), validate=True)
        signed = SignedTreeHead.from_bytes(raw)
    except (binascii.Error, ValueError, CasecircleError) as exc:
        raise HeadsFileError(f"a signed tree head does not decode: {exc}") from None
    head = signed.tree_head
    shown = (
        _field(entry, "tree_size", int),
        _hex(entry, "root_hash"),
        _field(entry, "timestamp", int),
    )
    if shown != (head.tree_size, head.root_hash, head.timestamp):
        raise HeadsFileError("a tree head's readable fields disagree with its signed form")
    return signed


def parse_heads(text: str, source: str = "") -> HeadsExport:
    """An export from its JSON text; :class:`HeadsFileError` for anything off the format."""
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise HeadsFileError(f"not JSON: {exc}") from None
    if not isinstance(obj, dict) or obj.get("format") != HEADS_FORMAT:
        raise HeadsFileError(f"not a {HEADS_FORMAT} file")
    heads = obj.get("tree_heads")
    if not isinstance(heads, list):
        raise HeadsFileError("tree_heads is not a list")
    return HeadsExport(
        device_id=_hex(obj, "device_id"),
        platform_root_public_key=_hex(obj, "platform_root_public_key"),
        relay_url=_field(obj, "relay_url", str),
        exported_at=_field(obj, "exported_at", int),
        heads=tuple(_head(entry) for entry in heads),
        source=source,
    )


def read_heads(path: Path) -> HeadsExport:
    try:
        if path.stat().st_size > MAX_HEADS_FILE_BYTES:
            raise HeadsFileError(f"{path} is larger than any export of tree heads")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HeadsFileError(f"{path} cannot be read: {exc}") from None
    try:
        return parse_heads(text, path.name)
    except HeadsFileError as exc:
        raise HeadsFileError(f"{path}: {exc}") from None


def write_heads(export: HeadsExport, path: Path) -> None:
    path.write_text(json.dumps(export.to_json(), indent=1) + "\n", encoding="utf-8")
