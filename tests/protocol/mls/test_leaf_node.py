"""Leaf nodes (RFC 9420 §7.2): source-dependent fields, capabilities, and LeafNodeTBS."""

from __future__ import annotations

import dataclasses

import pytest

from protocol.errors import DecodeError
from protocol.mls.constants import LeafNodeSource, ProtocolVersion
from protocol.mls.leaf_node import Capabilities, LeafNode, Lifetime
from tests.protocol.mls.samples import GREASE, capabilities, credential, leaf_node

# Offset of leaf_node_source in the sample leaves: two 32-byte keys with their length bytes,
# then the credential and the capabilities.
SOURCE_OFFSET = 2 * 33 + len(credential().to_bytes()) + len(capabilities().to_bytes())


@pytest.mark.parametrize("source", list(LeafNodeSource))
def test_round_trip_for_every_source(source: LeafNodeSource) -> None:
    leaf = leaf_node(source)
    encoded = leaf.to_bytes()
    assert encoded[SOURCE_OFFSET] == source
    assert LeafNode.from_bytes(encoded) == leaf


def test_source_decides_which_field_is_present() -> None:
    assert leaf_node(LeafNodeSource.KEY_PACKAGE).lifetime is not None
    assert leaf_node(LeafNodeSource.COMMIT).parent_hash == b"P" * 32
    update = leaf_node(LeafNodeSource.UPDATE)
    assert update.lifetime is None
    assert update.parent_hash is None


@pytest.mark.parametrize(
    ("source", "changes"),
    [
        (LeafNodeSource.KEY_PACKAGE, {"lifetime": None}),
        (LeafNodeSource.KEY_PACKAGE, {"parent_hash": b""}),
        (LeafNodeSource.UPDATE, {"lifetime": Lifetime(not_before=0, not_after=1)}),
        (LeafNodeSource.COMMIT, {"parent_hash": None}),
    ],
)
def test_wrong_field_for_the_source_cannot_be_built(
    source: LeafNodeSource, changes: dict[str, object]
) -> None:
    with pytest.raises(ValueError, match="leaf nodes only"):
        dataclasses.replace(leaf_node(source), **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0, 4, 0xFF])
def test_unknown_leaf_node_source_is_refused(value: int) -> None:
    encoded = bytearray(leaf_node().to_bytes())
    encoded[SOURCE_OFFSET] = value
    with pytest.raises(DecodeError, match="unknown LeafNodeSource"):
        LeafNode.from_bytes(bytes(encoded))


def test_capabilities_keep_grease_and_unknown_values() -> None:
    caps = Capabilities(
        versions=(ProtocolVersion.MLS10, GREASE),
        cipher_suites=(1, 0xF0F0, GREASE),
        extensions=(GREASE,),
        proposals=(0xF001,),
        credentials=(1, GREASE),
    )
    decoded = Capabilities.from_bytes(caps.to_bytes())
    assert decoded == caps
    assert decoded.versions[0] is ProtocolVersion.MLS10


def test_capabilities_layout() -> None:
    assert Capabilities().to_bytes().hex() == "020001" + "00" * 4


def test_lifetime_is_two_uint64() -> None:
    lifetime = Lifetime(not_before=1, not_after=2**64 - 1)
    assert lifetime.to_bytes().hex() == "0000000000000001" + "ff" * 8
    assert Lifetime.from_bytes(lifetime.to_bytes()) == lifetime


def test_key_package_leaf_tbs_is_the_leaf_without_its_signature() -> None:
    leaf = leaf_node()
    signature_field = b"\x3f" + leaf.signature
    assert leaf.tbs() + signature_field == leaf.to_bytes()
    with pytest.raises(ValueError, match="takes no group_id"):
        leaf.tbs(b"group", 0)


@pytest.mark.parametrize("source", [LeafNodeSource.UPDATE, LeafNodeSource.COMMIT])
def test_in_group_leaf_tbs_binds_group_id_and_leaf_index(source: LeafNodeSource) -> None:
    leaf = leaf_node(source)
    unsigned = leaf.to_bytes()[: -(1 + len(leaf.signature))]
    assert leaf.tbs(b"group", 5) == unsigned + b"\x05group" + (5).to_bytes(4, "big")
    assert leaf.tbs(b"group", 5) != leaf.tbs(b"group", 6)
    with pytest.raises(ValueError, match="needs group_id"):
        leaf.tbs()
    with pytest.raises(ValueError, match="needs group_id"):
        leaf.tbs(b"group")


def test_signature_is_not_part_of_the_tbs() -> None:
    leaf = leaf_node(LeafNodeSource.UPDATE)
    resigned = dataclasses.replace(leaf, signature=b"other")
    assert resigned.tbs(b"g", 1) == leaf.tbs(b"g", 1)


def test_truncated_leaf_node_is_refused() -> None:
    encoded = leaf_node(LeafNodeSource.COMMIT).to_bytes()
    for cut in (1, 40, len(encoded) // 2, len(encoded) - 1):
        with pytest.raises(DecodeError):
            LeafNode.from_bytes(encoded[:cut])


def test_a_changed_copy_is_encoded_afresh() -> None:
    """A leaf keeps its own encoding once written; a copy with other fields has its own."""
    leaf = leaf_node(LeafNodeSource.COMMIT)
    first = leaf.to_bytes()
    assert leaf.to_bytes() == first
    tbs = leaf.tbs(b"group", 3)
    for changes in (
        {"encryption_key": b"F" * 32},
        {"capabilities": dataclasses.replace(capabilities(), credentials=(1, 2))},
        {"parent_hash": b"Q" * 32},
        {"signature": b"s" * 64},
    ):
        changed = dataclasses.replace(leaf, **changes)
        assert changed != leaf
        assert changed.to_bytes() != first
        assert LeafNode.from_bytes(changed.to_bytes()) == changed
        assert (changed.tbs(b"group", 3) == tbs) == ("signature" in changes)
    assert leaf.to_bytes() == first
    assert hash(leaf) == hash(LeafNode.from_bytes(first))
