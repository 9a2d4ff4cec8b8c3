"""Ratchet tree nodes, the ratchet_tree vector and update paths (RFC 9420 §7.1, §7.6, §12.4.3.3)."""

from __future__ import annotations

import pytest

from protocol.codec import Writer, decode_exact
from protocol.errors import DecodeError
from protocol.mls.constants import ExtensionType, LeafNodeSource, NodeType
from protocol.mls.extensions import Extension
from protocol.mls.tree_nodes import (
    HPKECiphertext,
    Node,
    ParentNode,
    RatchetTreeExtension,
    UpdatePath,
    UpdatePathNode,
    node_type,
    read_node,
    read_ratchet_tree,
    write_node,
    write_ratchet_tree,
)
from tests.protocol.mls.samples import leaf_node, parent_node, ratchet_tree, update_path


def encode_tree(nodes: tuple[Node | None, ...]) -> bytes:
    w = Writer()
    write_ratchet_tree(w, nodes)
    return w.getvalue()


def raw_tree(entries: list[bytes]) -> bytes:
    """A ratchet_tree vector from already-encoded optional<Node> entries."""
    body = b"".join(entries)
    w = Writer()
    w.opaque(body)
    return w.getvalue()


def optional_node(node: Node) -> bytes:
    w = Writer()
    w.uint8(1)
    write_node(w, node)
    return w.getvalue()


def test_parent_node_layout_and_round_trip() -> None:
    node = ParentNode(encryption_key=b"\xaa", parent_hash=b"", unmerged_leaves=(1, 2**32 - 1))
    encoded = node.to_bytes()
    assert encoded.hex() == "01aa" + "00" + "08" + "00000001" + "ffffffff"
    assert ParentNode.from_bytes(encoded) == node


def test_node_is_tagged_by_its_class() -> None:
    for node, tag in ((leaf_node(), NodeType.LEAF), (parent_node(), NodeType.PARENT)):
        w = Writer()
        write_node(w, node)
        encoded = w.getvalue()
        assert encoded[0] == tag == node_type(node)
        assert decode_exact(encoded, read_node) == node


@pytest.mark.parametrize("tag", [0, 3, 0xFF])
def test_unknown_node_type_is_refused(tag: int) -> None:
    with pytest.raises(DecodeError, match="unknown NodeType"):
        decode_exact(bytes([tag]) + parent_node().to_bytes(), read_node)


def test_ratchet_tree_round_trip_with_blanks() -> None:
    nodes = ratchet_tree()
    encoded = encode_tree(nodes)
    assert decode_exact(encoded, read_ratchet_tree) == nodes
    assert RatchetTreeExtension.from_bytes(encoded) == RatchetTreeExtension(nodes=nodes)


def test_ratchet_tree_extension() -> None:
    extension = RatchetTreeExtension(nodes=ratchet_tree()).to_extension()
    assert extension.extension_type == ExtensionType.RATCHET_TREE
    reparsed = Extension.from_bytes(extension.to_bytes())
    assert RatchetTreeExtension.from_extension(reparsed).nodes == ratchet_tree()


def test_ratchet_tree_must_end_with_a_non_blank_node() -> None:
    trailing_blank = raw_tree([optional_node(leaf_node()), b"\x00"])
    with pytest.raises(DecodeError, match="non-blank"):
        decode_exact(trailing_blank, read_ratchet_tree)
    with pytest.raises(ValueError, match="non-blank"):
        encode_tree((leaf_node(), None))


def test_empty_ratchet_tree_is_refused() -> None:
    with pytest.raises(DecodeError, match="non-blank"):
        decode_exact(b"\x00", read_ratchet_tree)


def test_nodes_must_sit_at_their_positions() -> None:
    parent_first = raw_tree([optional_node(parent_node())])
    with pytest.raises(DecodeError, match=r"node 0 .* LeafNode"):
        decode_exact(parent_first, read_ratchet_tree)
    leaf_at_odd = raw_tree(
        [optional_node(leaf_node()), optional_node(leaf_node()), optional_node(leaf_node())]
    )
    with pytest.raises(DecodeError, match=r"node 1 .* ParentNode"):
        decode_exact(leaf_at_odd, read_ratchet_tree)


def test_a_tree_must_end_with_a_leaf() -> None:
    ends_in_parent = raw_tree([optional_node(leaf_node()), optional_node(parent_node())])
    with pytest.raises(DecodeError, match="end with a leaf"):
        decode_exact(ends_in_parent, read_ratchet_tree)


def test_bad_presence_flag_in_the_tree_is_refused() -> None:
    with pytest.raises(DecodeError, match="presence flag"):
        decode_exact(raw_tree([b"\x02" + b"\x01" + leaf_node().to_bytes()]), read_ratchet_tree)


def test_hpke_ciphertext_round_trip() -> None:
    ciphertext = HPKECiphertext(kem_output=b"k" * 32, ciphertext=b"")
    assert ciphertext.to_bytes() == b"\x20" + b"k" * 32 + b"\x00"
    assert HPKECiphertext.from_bytes(ciphertext.to_bytes()) == ciphertext


def test_update_path_round_trip() -> None:
    path = update_path()
    decoded = UpdatePath.from_bytes(path.to_bytes())
    assert decoded == path
    assert decoded.leaf_node.leaf_node_source is LeafNodeSource.COMMIT
    node = path.nodes[0]
    assert UpdatePathNode.from_bytes(node.to_bytes()) == node


def test_update_path_with_no_nodes() -> None:
    path = UpdatePath(leaf_node=leaf_node(LeafNodeSource.COMMIT), nodes=())
    assert UpdatePath.from_bytes(path.to_bytes()) == path


def test_truncated_update_path_is_refused() -> None:
    encoded = update_path().to_bytes()
    with pytest.raises(DecodeError, match="truncated"):
        UpdatePath.from_bytes(encoded[:-1])
