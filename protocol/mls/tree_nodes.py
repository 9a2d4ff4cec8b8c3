"""RFC 9420 §7.1, §7.6, §12.4.3.3: ratchet tree nodes as they travel, and update paths.

::

    Node         = node_type · { LeafNode | ParentNode }
    ratchet_tree = optional<Node> ratchet_tree<V>     (array order of Appendix C)
    UpdatePath   = leaf_node · UpdatePathNode nodes<V>
    UpdatePathNode = encryption_key · HPKECiphertext encrypted_path_secret<V>

A node is a :class:`~protocol.mls.leaf_node.LeafNode` or a :class:`ParentNode` (the
:data:`Node` alias); the tag is written from the node's class. Decoding a ratchet tree
insists on what §12.4.3.3 makes the receiver check and on what the array layout implies:
the list is non-empty and ends with a non-blank node, leaves sit at even positions and
parent nodes at odd ones. Padding the list out to a full tree (``2^(d+1) - 1`` nodes) is
left to the tree itself; the decoder returns exactly the nodes that were sent, so it never
holds more entries than there were input bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Self

from crypto.tls import opaque
from protocol.codec import Reader, Struct, Writer
from protocol.errors import DecodeError
from protocol.mls.constants import ExtensionType, NodeType, closed
from protocol.mls.extensions import ExtensionPayload
from protocol.mls.leaf_node import LeafNode

_EMPTY_VECTOR = b"\x00"  # a vector's length when it holds nothing


def _write_uint32(w: Writer, value: int) -> None:
    w.uint32(value)


def _read_uint32(r: Reader) -> int:
    return r.uint32()


@dataclass(frozen=True, slots=True, kw_only=True)
class ParentNode(Struct):
    """An interior node: its HPKE key, parent hash, and leaves not yet merged under it."""

    encryption_key: bytes
    parent_hash: bytes = b""
    unmerged_leaves: tuple[int, ...] = ()

    def encode(self, w: Writer) -> None:
        w.fixed(self.to_bytes())

    def to_bytes(self) -> bytes:
        """The encoding, joined in one step: every parent of a tree is encoded for the
        tree hash and for each Welcome, so the writer's per-field calls add up."""
        if self.unmerged_leaves:
            unmerged = Writer()
            unmerged.vector(self.unmerged_leaves, _write_uint32)
            leaves = unmerged.getvalue()
        else:
            leaves = _EMPTY_VECTOR
        return opaque(self.encryption_key) + opaque(self.parent_hash) + leaves

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(
            encryption_key=r.opaque(),
            parent_hash=r.opaque(),
            unmerged_leaves=tuple(r.vector(_read_uint32)),
        )


Node = LeafNode | ParentNode

_NODE_TYPES: dict[type[Struct], NodeType] = {LeafNode: NodeType.LEAF, ParentNode: NodeType.PARENT}
_NODE_DECODERS: dict[NodeType, Callable[[Reader], Node]] = {
    NodeType.LEAF: LeafNode.decode,
    NodeType.PARENT: ParentNode.decode,
}


_PRESENT_NODE: dict[type[Struct], bytes] = {
    kind: bytes([1, code]) for kind, code in _NODE_TYPES.items()
}  # optional<Node> present (1), then the node type


def node_type(node: Node) -> NodeType:
    return _NODE_TYPES[type(node)]


def write_node(w: Writer, node: Node) -> None:
    """Write ``Node``: the node type, then the node."""
    w.uint8(node_type(node))
    node.encode(w)


def read_node(r: Reader) -> Node:
    """Read ``Node``."""
    return _NODE_DECODERS[closed(NodeType, r.uint8())](r)


def _optional_node_bytes(node: Node | None) -> bytes:
    """``optional<Node>``: absent, or present with the node type, then the node."""
    if node is None:
        return b"\x00"
    return _PRESENT_NODE[type(node)] + node.to_bytes()


def _read_optional_node(r: Reader) -> Node | None:
    return r.optional(read_node)


def write_ratchet_tree(w: Writer, nodes: Sequence[Node | None]) -> None:
    """Write ``optional<Node> ratchet_tree<V>``; trailing blank nodes must already be gone.

    The vector's items are joined from each node's bytes (a leaf keeps its own), not
    written field by field: a Welcome carries the whole tree."""
    _check_tree_shape(nodes, ValueError)
    w.opaque(b"".join([_optional_node_bytes(node) for node in nodes]))


def read_ratchet_tree(r: Reader) -> tuple[Node | None, ...]:
    """Read ``optional<Node> ratchet_tree<V>``, checking the shape (see the module doc)."""
    nodes = tuple(r.vector(_read_optional_node))
    _check_tree_shape(nodes, DecodeError)
    return nodes


def _check_tree_shape(nodes: Sequence[Node | None], error: type[Exception]) -> None:
    if not nodes or nodes[-1] is None:
        raise error("a ratchet tree must end with a non-blank node")
    if len(nodes) % 2 == 0:
        raise error("a ratchet tree must end with a leaf")
    for index, node in enumerate(nodes):
        expected = ParentNode if index % 2 else LeafNode
        if node is not None and type(node) is not expected:
            raise error(f"node {index} of a ratchet tree must be a {expected.__name__}")


@dataclass(frozen=True, slots=True, kw_only=True)
class RatchetTreeExtension(ExtensionPayload):
    """§12.4.3.3 the ``ratchet_tree`` extension: the whole public tree, for joiners."""

    extension_type: ClassVar[int] = ExtensionType.RATCHET_TREE
    nodes: tuple[Node | None, ...]

    def encode(self, w: Writer) -> None:
        write_ratchet_tree(w, self.nodes)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(nodes=read_ratchet_tree(r))


@dataclass(frozen=True, slots=True, kw_only=True)
class HPKECiphertext(Struct):
    """The output of EncryptWithLabel (§5.1.3)."""

    kem_output: bytes
    ciphertext: bytes

    def encode(self, w: Writer) -> None:
        w.opaque(self.kem_output)
        w.opaque(self.ciphertext)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(kem_output=r.opaque(), ciphertext=r.opaque())


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdatePathNode(Struct):
    """A new public key on the filtered direct path, with its path secret per copath node."""

    encryption_key: bytes
    encrypted_path_secret: tuple[HPKECiphertext, ...]

    def encode(self, w: Writer) -> None:
        w.opaque(self.encryption_key)
        w.vector(self.encrypted_path_secret, Struct.write)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(
            encryption_key=r.opaque(),
            encrypted_path_secret=tuple(r.vector(HPKECiphertext.decode)),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdatePath(Struct):
    """The committer's new leaf and the nodes of its filtered direct path, leaf to root."""

    leaf_node: LeafNode
    nodes: tuple[UpdatePathNode, ...]

    def encode(self, w: Writer) -> None:
        self.leaf_node.encode(w)
        w.vector(self.nodes, Struct.write)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(leaf_node=LeafNode.decode(r), nodes=tuple(r.vector(UpdatePathNode.decode)))
