"""RFC 9420 §7.4: path secrets, the node key pairs derived from them, and the private keys
a member holds.

TreeKEM gives each parent node an HPKE key pair that only the members below it know. A
committer draws one secret and hashes it up its filtered direct path; each node's key pair
comes from that node's path secret, and the secret one step past the root is the epoch's
``commit_secret``::

    path_secret[0]   (random, or decrypted by a receiver, or handed to a joiner)
    path_secret[n] = DeriveSecret(path_secret[n-1], "path")
    node_secret[n] = DeriveSecret(path_secret[n], "node")
    node_priv[n], node_pub[n] = KEM.DeriveKeyPair(node_secret[n])
    commit_secret  = DeriveSecret(path_secret[last], "path")

A member's private side of the tree is :class:`TreePrivateKeys`: the key of its own leaf
and of the ancestors whose path secret it learnt (the tree invariant of §4.2: a member
knows the private key of a node exactly when the node is on its direct path). Path
secrets and node secrets are not kept: §7.5 has them deleted once the keys are derived.
For storage, :meth:`TreePrivateKeys.to_state` gives a :class:`TreeKeyState`, a plain
TLS-encodable value; the caller seals it, since it holds private keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Self

from crypto.hpke import HpkePrivateKey
from crypto.labels import derive_secret
from crypto.suites import CipherSuite
from protocol.codec import Reader, Struct, Writer
from protocol.errors import ValidationError
from protocol.mls.key_schedule import CommitSecret
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.tree_math import is_in_subtree, leaf_to_node


class TreeKemError(ValidationError):
    """An UpdatePath, a path secret or a held private key breaks a rule of §7.4–§7.6."""

    code = "treekem"


class PrivateKeyMismatchError(TreeKemError):
    """A private key a member holds is not the key of that node in the public tree."""

    code = "private_key_mismatch"


class PathSecretLengthError(TreeKemError):
    """A path secret is not ``Nh`` bytes long, as every path secret of the suite is."""

    code = "path_secret_length"


# --- §7.4 derivation ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class PathNodeKey:
    """One node of a derived path: its index, path secret and key pair."""

    node: int
    path_secret: bytes = field(repr=False)
    private_key: HpkePrivateKey = field(repr=False)
    public_key: bytes


def check_path_secret(suite: CipherSuite, path_secret: bytes) -> None:
    """Raise :class:`PathSecretLengthError` unless ``path_secret`` is ``Nh`` bytes."""
    if len(path_secret) != suite.hash_size:
        raise PathSecretLengthError(
            f"a path secret is {suite.hash_size} bytes, not {len(path_secret)}"
        )


def next_path_secret(suite: CipherSuite, path_secret: bytes) -> bytes:
    """``DeriveSecret(path_secret, "path")``: the next node's secret, or the commit secret."""
    return derive_secret(suite, path_secret, "path")


def node_key_pair(suite: CipherSuite, path_secret: bytes) -> tuple[HpkePrivateKey, bytes]:
    """``KEM.DeriveKeyPair(DeriveSecret(path_secret, "node"))``."""
    return suite.kem.derive_key_pair(derive_secret(suite, path_secret, "node"))


def derive_path(
    suite: CipherSuite, path_secret: bytes, nodes: Sequence[int]
) -> tuple[PathNodeKey, ...]:
    """The key pairs of ``nodes`` (a filtered direct path, or its tail from the node whose
    secret is ``path_secret``), each node's secret derived from the one below it."""
    check_path_secret(suite, path_secret)
    derived: list[PathNodeKey] = []
    secret = path_secret
    for position, node in enumerate(nodes):
        if position:
            secret = next_path_secret(suite, secret)
        private_key, public_key = node_key_pair(suite, secret)
        derived.append(PathNodeKey(node, secret, private_key, public_key))
    return tuple(derived)


def commit_secret_after(suite: CipherSuite, last_path_secret: bytes) -> CommitSecret:
    """``commit_secret``: the path secret one step past the root (§12.4.1, §12.4.2)."""
    return CommitSecret(next_path_secret(suite, last_path_secret))


# --- what a member holds ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class NodePrivateKey(Struct):
    """A node index and the HPKE private key of that node (SerializePrivateKey)."""

    node: int
    private_key: bytes = field(repr=False)

    def encode(self, w: Writer) -> None:
        w.uint32(self.node)
        w.opaque(self.private_key)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(node=r.uint32(), private_key=r.opaque())


@dataclass(frozen=True, slots=True, kw_only=True)
class TreeKeyState(Struct):
    """The persisted form of :class:`TreePrivateKeys`; secret, to be stored sealed."""

    leaf_index: int
    keys: tuple[NodePrivateKey, ...] = field(repr=False)

    def encode(self, w: Writer) -> None:
        w.uint32(self.leaf_index)
        w.vector(self.keys, Struct.write)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(leaf_index=r.uint32(), keys=tuple(r.vector(NodePrivateKey.decode)))


class TreePrivateKeys:
    """The HPKE private keys of one member: its leaf, and ancestors on its direct path.

    Never changed in place: every change returns a new object, so a staged commit never
    touches the keys of the current epoch. Keys are found by node index and checked against the
    public key the tree shows there, so a stale key is never used. ``repr`` shows node
    indices only.
    """

    __slots__ = ("_keys", "_leaf_index")

    _keys: dict[int, tuple[HpkePrivateKey, bytes]]
    _leaf_index: int

    def __init__(self, leaf_index: int, keys: Mapping[int, HpkePrivateKey]) -> None:
        self._leaf_index = leaf_index
        self._keys = {node: (key, key.public_key()) for node, key in keys.items()}
        self._check_shape()

    @classmethod
    def for_leaf(cls, leaf_index: int, leaf_key: HpkePrivateKey) -> TreePrivateKeys:
        """A member that knows only its own leaf key (a joiner without a path secret)."""
        return cls(leaf_index, {leaf_to_node(leaf_index): leaf_key})

    @classmethod
    def _of_pairs(
        cls, leaf_index: int, pairs: Mapping[int, tuple[HpkePrivateKey, bytes]]
    ) -> TreePrivateKeys:
        keys = cls.__new__(cls)
        keys._leaf_index = leaf_index
        keys._keys = dict(pairs)
        keys._check_shape()
        return keys

    def _check_shape(self) -> None:
        leaf = leaf_to_node(self._leaf_index)
        if leaf not in self._keys:
            raise ValueError(f"the key of leaf {self._leaf_index} itself is missing")
        kems = {key.kem for key, _ in self._keys.values()}
        if len(kems) != 1:
            raise ValueError("the keys belong to more than one KEM")
        for node in self._keys:
            if node != leaf and (node % 2 == 0 or not is_in_subtree(leaf, node)):
                raise ValueError(
                    f"node {node} is not on the direct path of leaf {self._leaf_index}"
                )

    # --- reading --------------------------------------------------------------------------

    @property
    def leaf_index(self) -> int:
        return self._leaf_index

    @property
    def leaf_key(self) -> HpkePrivateKey:
        return self._keys[leaf_to_node(self._leaf_index)][0]

    @property
    def nodes(self) -> tuple[int, ...]:
        """The node indices a key is held for, in increasing order."""
        return tuple(sorted(self._keys))

    def public_keys(self) -> dict[int, bytes]:
        """Node index → the public key of the held private key."""
        return {node: public for node, (_, public) in self._keys.items()}

    def key_for(self, node: int, public_key: bytes) -> HpkePrivateKey | None:
        """The private key of ``node`` if one is held and it matches ``public_key``."""
        held = self._keys.get(node)
        if held is None or held[1] != public_key:
            return None
        return held[0]

    def check_against(self, tree: RatchetTree) -> None:
        """Raise :class:`PrivateKeyMismatchError` unless every held key is the key of its
        node in ``tree`` (a member's state must agree with the group's tree)."""
        for node, (_, public) in self._keys.items():
            if node >= tree.node_count:
                raise PrivateKeyMismatchError(f"node {node} is outside the tree")
            tree_node = tree.node(node)
            if tree_node is None or tree_node.encryption_key != public:
                raise PrivateKeyMismatchError(
                    f"the key held for node {node} is not the key the tree has there"
                )

    # --- changes (each returns a new object) -----------------------------------------------

    def with_path(self, dropped: Iterable[int], path: Iterable[PathNodeKey]) -> TreePrivateKeys:
        """These keys without those of ``dropped`` nodes, plus the keys of ``path``."""
        pairs = dict(self._keys)
        for node in dropped:
            if node != leaf_to_node(self._leaf_index):
                pairs.pop(node, None)
        for entry in path:
            pairs[entry.node] = (entry.private_key, entry.public_key)
        return TreePrivateKeys._of_pairs(self._leaf_index, pairs)

    def with_leaf_key(self, leaf_key: HpkePrivateKey) -> TreePrivateKeys:
        """The same keys with a new leaf key (after the member's own Update is committed)."""
        pairs = dict(self._keys)
        pairs[leaf_to_node(self._leaf_index)] = (leaf_key, leaf_key.public_key())
        return TreePrivateKeys._of_pairs(self._leaf_index, pairs)

    def retained_in(self, tree: RatchetTree) -> TreePrivateKeys:
        """Only the keys whose node still shows the same public key in ``tree``: the keys
        of nodes a Remove or Update blanked are deleted (§7.5). The leaf key stays."""
        leaf = leaf_to_node(self._leaf_index)
        pairs = {
            node: (key, public)
            for node, (key, public) in self._keys.items()
            if node == leaf or _shows(tree, node, public)
        }
        return TreePrivateKeys._of_pairs(self._leaf_index, pairs)

    # --- persistence ------------------------------------------------------------------------

    def to_state(self) -> TreeKeyState:
        return TreeKeyState(
            leaf_index=self._leaf_index,
            keys=tuple(
                NodePrivateKey(node=node, private_key=key.to_bytes())
                for node, (key, _) in sorted(self._keys.items())
            ),
        )

    @classmethod
    def from_state(cls, suite: CipherSuite, state: TreeKeyState) -> TreePrivateKeys:
        """Load stored keys; ``InvalidKeyError`` if one is not a key of the suite's KEM,
        ``ValueError`` if a node is listed twice or is off the leaf's direct path."""
        keys: dict[int, HpkePrivateKey] = {}
        for entry in state.keys:
            if entry.node in keys:
                raise ValueError(f"node {entry.node} is listed twice")
            keys[entry.node] = suite.kem.deserialize_private_key(entry.private_key)
        return cls(state.leaf_index, keys)

    def __repr__(self) -> str:
        return f"TreePrivateKeys(leaf {self._leaf_index}, nodes {list(self.nodes)}, <redacted>)"


def _shows(tree: RatchetTree, node: int, public_key: bytes) -> bool:
    if node >= tree.node_count:
        return False
    tree_node = tree.node(node)
    return tree_node is not None and tree_node.encryption_key == public_key
