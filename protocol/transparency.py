"""RFC 9162 §2.1: the Merkle tree of the transparency log, its proofs, and signed tree heads.

Hashing (§2.1.1), with SHA-256 (:data:`protocol.statements.PLATFORM_SUITE`)::

    MTH({})    = SHA-256()
    leaf hash  = SHA-256(0x00 || d)              d = the encoded LogEntry
    node hash  = SHA-256(0x01 || left || right)
    MTH(D[n])  = node hash(MTH(D[0:k]), MTH(D[k:n])),  k the largest power of two < n

    n = 6:                 MTH(D[0:6])
                         /             \\
                 MTH(D[0:4])          MTH(D[4:6])
                 /        \\             /     \\
           [0:2]         [2:4]        d4      d5
           /   \\         /   \\
         d0    d1      d2    d3

The log builds inclusion proofs (PATH, §2.1.3.1) and consistency proofs (PROOF, §2.1.4.1);
clients and the auditor check them with exactly the algorithms of §2.1.3.2 and §2.1.4.2.
A failed check raises :class:`InclusionProofError` or :class:`ConsistencyProofError`; every
hash handed in must be 32 bytes. Two sizes the RFC leaves open are defined here: a tree is
consistent with itself (empty proof, equal roots) and with the empty tree (empty proof,
``first_root`` = MTH({})).

Serving proofs from a large log
-------------------------------
Every node a proof or root needs is either a *complete subtree* — the 2^level leaves from
``index · 2^level`` on, written (level, index) — or lies on the right edge of a tree, where
it is the fold of the complete subtrees named by the set bits of its size (each node of the
RFC tree starts at a multiple of the smallest power of two not below its size, so these
subtrees are aligned). A log that keeps the hash of every complete subtree (2n - 1 rows for
n leaves) therefore answers any root or proof with O(log n) lookups and O(log n) hashes and
never rehashes leaves: pass its table as a :data:`SubtreeLookup` to
:func:`root_from_subtrees`, :func:`inclusion_proof_from_subtrees` and
:func:`consistency_proof_from_subtrees`.

The rows come from :class:`CompactMerkleLog`, the log's append state: its *frontier*, the
roots of the complete subtrees that make up the tree, one per set bit of the size, largest
first (O(log n) hashes). Appending a leaf merges the equal-sized subtrees at the end and
reports every subtree it completed (:class:`Appended`); the relay stores those rows, the
entry and the new frontier in one transaction. The list-based :func:`merkle_root`,
:func:`inclusion_proof` and :func:`consistency_proof` build the same table in memory, for
small logs and tests.

Tree heads
----------
The relay signs ``TreeHead(tree_size, root_hash, timestamp)`` with its Ed25519 identity key
under the label "TreeHead" (:mod:`protocol.statements`). Two validly signed heads of one
size with different roots prove that the relay showed two views of the log (ATTACKS A6):
:func:`detect_fork` raises :class:`ForkDetectedError` carrying both as evidence. A head
smaller than one already trusted is a rollback (A5), refused by
:func:`verify_tree_head_update`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Self

from crypto.errors import InvalidSignatureError
from crypto.signatures import SigningKey
from protocol.codec import Reader, Struct, Writer, read_opaque, write_opaque
from protocol.errors import DecodeError, InternalError, ValidationError
from protocol.statements import HASH_SIZE, sign_statement, statement_hash, verify_statement

TREE_HEAD_LABEL = "TreeHead"

MAX_TREE_SIZE = (1 << 64) - 1
"""Sizes and indexes are ``uint64`` on the wire."""

MAX_PROOF_HASHES = 128
"""More hashes than any proof in a tree of ``MAX_TREE_SIZE`` leaves holds; longer is refused
when decoding."""

EMPTY_ROOT = statement_hash(b"")
"""MTH({}): the root of the empty tree."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


# --- errors -------------------------------------------------------------------------------


class TransparencyError(ValidationError):
    """A transparency-log check failed."""

    code = "transparency"


class InclusionProofError(TransparencyError):
    """An inclusion proof does not prove the leaf at that index under that root."""

    code = "inclusion_proof"


class ConsistencyProofError(TransparencyError):
    """A consistency proof does not prove the second tree extends the first."""

    code = "consistency_proof"


class TreeHeadSignatureError(TransparencyError):
    """A tree head is not signed by the relay's identity key."""

    code = "tree_head_signature"


class TreeHeadRollbackError(TransparencyError):
    """A tree head is smaller than one already trusted: the log was rolled back."""

    code = "tree_head_rollback"


class TreeRangeError(TransparencyError):
    """A leaf index or tree size lies outside the tree (or outside ``uint64``)."""

    code = "tree_range"


class ForkDetectedError(TransparencyError):
    """Two validly signed tree heads of one size differ: the relay forked the log.

    ``first`` and ``second`` are the two signed heads, the evidence to hand the auditor.
    """

    code = "fork_detected"

    def __init__(self, message: str, first: SignedTreeHead, second: SignedTreeHead) -> None:
        super().__init__(message)
        self.first = first
        self.second = second


# --- hashing (§2.1.1) ---------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the hash of one log entry's encoding."""
    return statement_hash(_LEAF_PREFIX + bytes(data))


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    return statement_hash(_NODE_PREFIX + bytes(left) + bytes(right))


def _split(size: int) -> int:
    """k, the largest power of two smaller than ``size`` (``size`` >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def _check_hash(value: bytes, error: type[TransparencyError], what: str) -> None:
    if len(value) != HASH_SIZE:
        raise error(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def _equal(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


# --- complete subtrees and the compact log ------------------------------------------------


SubtreeLookup = Callable[[int, int], bytes]
"""``lookup(level, index)`` returns the hash of the complete subtree of leaves
``[index · 2^level, (index + 1) · 2^level)``; level 0 is the leaf hashes themselves. It is
only asked for subtrees that lie wholly inside the tree it is answering for."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SubtreeHash:
    """The hash of the complete subtree (``level``, ``index``)."""

    level: int
    index: int
    hash: bytes

    @property
    def start(self) -> int:
        return self.index << self.level

    @property
    def end(self) -> int:
        return (self.index + 1) << self.level


class Appended(NamedTuple):
    """What appending a leaf gives: the new state, the leaf's index, and every complete
    subtree the append finished (the leaf itself at level 0 first, then one per merge)."""

    log: CompactMerkleLog
    leaf_index: int
    completed: tuple[SubtreeHash, ...]


def _frontier_subtrees(tree_size: int) -> list[tuple[int, int]]:
    """(level, index) of the complete subtrees making up a tree, largest (leftmost) first."""
    subtrees = []
    start = 0
    for level in reversed(range(tree_size.bit_length())):
        if tree_size >> level & 1:
            subtrees.append((level, start >> level))
            start += 1 << level
    return subtrees


def _fold(hashes: Sequence[bytes]) -> bytes:
    """The root over consecutive complete subtrees, largest first: folded from the right."""
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


@dataclass(frozen=True, slots=True, kw_only=True)
class CompactMerkleLog(Struct):
    """The append state of a log: its size and the frontier of complete subtree roots.

    ::

        struct { uint64 tree_size; opaque frontier<V><V>; } CompactMerkleLog;

    ``frontier`` holds one 32-byte hash per set bit of ``tree_size``, largest subtree first.
    The object is immutable; :meth:`append` returns the next state.
    """

    tree_size: int = 0
    frontier: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        problem = _frontier_problem(self.tree_size, self.frontier)
        if problem:
            raise ValueError(problem)

    def root_hash(self) -> bytes:
        """MTH of the whole log."""
        return _fold(self.frontier) if self.frontier else EMPTY_ROOT

    def tree_head(self, timestamp: int) -> TreeHead:
        """The (unsigned) head of the log as it is now."""
        return TreeHead(tree_size=self.tree_size, root_hash=self.root_hash(), timestamp=timestamp)

    def subtrees(self) -> tuple[SubtreeHash, ...]:
        """The frontier with the position of each subtree."""
        positions = _frontier_subtrees(self.tree_size)
        return tuple(
            SubtreeHash(level=level, index=index, hash=value)
            for (level, index), value in zip(positions, self.frontier, strict=True)
        )

    def append(self, leaf_hash: bytes) -> Appended:
        """The log with one more leaf, in O(log n) hashes."""
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes")
        index = self.tree_size
        if index >= MAX_TREE_SIZE:
            raise TreeRangeError("the log is full")
        frontier = list(self.frontier)
        value = bytes(leaf_hash)
        completed = [SubtreeHash(level=0, index=index, hash=value)]
        level = 0
        while index >> level & 1:  # a subtree of this size ends just before: merge
            value = node_hash(frontier.pop(), value)
            level += 1
            completed.append(SubtreeHash(level=level, index=index >> level, hash=value))
        frontier.append(value)
        log = CompactMerkleLog(tree_size=index + 1, frontier=tuple(frontier))
        return Appended(log, index, tuple(completed))

    def extend(self, leaf_hashes: Iterable[bytes]) -> CompactMerkleLog:
        """The log with every leaf of ``leaf_hashes`` appended in order."""
        log = self
        for value in leaf_hashes:
            log = log.append(value).log
        return log

    @classmethod
    def from_subtrees(cls, lookup: SubtreeLookup, tree_size: int) -> Self:
        """Rebuild the state of a log of ``tree_size`` leaves from its subtree table."""
        _check_size(tree_size)
        frontier = tuple(
            _lookup(lookup, level, index) for level, index in _frontier_subtrees(tree_size)
        )
        return cls(tree_size=tree_size, frontier=frontier)

    def encode(self, w: Writer) -> None:
        w.uint64(self.tree_size)
        w.vector(self.frontier, write_opaque)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        tree_size = r.uint64()
        frontier = tuple(r.vector(read_opaque))
        problem = _frontier_problem(tree_size, frontier)
        if problem:
            raise DecodeError(problem)
        return cls(tree_size=tree_size, frontier=frontier)


def _frontier_problem(tree_size: int, frontier: tuple[bytes, ...]) -> str | None:
    if not 0 <= tree_size <= MAX_TREE_SIZE:
        return f"tree size {tree_size} is not a uint64"
    if len(frontier) != tree_size.bit_count():
        return f"a log of {tree_size} leaves has {tree_size.bit_count()} frontier hashes"
    if any(len(value) != HASH_SIZE for value in frontier):
        return f"frontier hashes are {HASH_SIZE} bytes"
    return None


def _check_size(tree_size: int) -> None:
    if not 0 <= tree_size <= MAX_TREE_SIZE:
        raise TreeRangeError(f"tree size {tree_size} is not a uint64")


def _lookup(lookup: SubtreeLookup, level: int, index: int) -> bytes:
    value = lookup(level, index)
    if len(value) != HASH_SIZE:
        raise InternalError(f"subtree ({level}, {index}) hash is {len(value)} bytes")
    return value


def _range_hash(lookup: SubtreeLookup, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a node of the RFC tree: its complete subtrees, folded."""
    hashes = []
    while start < end:
        level = (end - start).bit_length() - 1
        hashes.append(_lookup(lookup, level, start >> level))
        start += 1 << level
    return _fold(hashes)


def root_from_subtrees(lookup: SubtreeLookup, tree_size: int) -> bytes:
    """MTH of the first ``tree_size`` leaves, from at most log2(n) + 1 lookups."""
    _check_size(tree_size)
    return _range_hash(lookup, 0, tree_size) if tree_size else EMPTY_ROOT


def inclusion_proof_from_subtrees(
    lookup: SubtreeLookup, index: int, tree_size: int
) -> tuple[bytes, ...]:
    """PATH(index, D[tree_size]) (§2.1.3.1): the sibling of each node from the leaf up."""
    _check_size(tree_size)
    if not 0 <= index < tree_size:
        raise TreeRangeError(f"leaf {index} is not in a tree of {tree_size} leaves")
    siblings = []
    start, end = 0, tree_size
    while end - start > 1:  # walk down from the root, noting the sibling of each step
        middle = start + _split(end - start)
        if index < middle:
            siblings.append(_range_hash(lookup, middle, end))
            end = middle
        else:
            siblings.append(_range_hash(lookup, start, middle))
            start = middle
    siblings.reverse()
    return tuple(siblings)


def consistency_proof_from_subtrees(
    lookup: SubtreeLookup, first_size: int, second_size: int
) -> tuple[bytes, ...]:
    """PROOF(first_size, D[second_size]) (§2.1.4.1); empty when ``first_size`` is 0 or
    ``second_size``, for which nothing needs proving."""
    _check_size(second_size)
    if not 0 <= first_size <= second_size:
        raise TreeRangeError(f"no consistency proof from size {first_size} to {second_size}")
    if first_size in (0, second_size):
        return ()
    hashes = []
    start, end = 0, second_size
    whole = True  # SUBPROOF's b: the subtree being walked is the whole first tree's root
    while end != first_size:
        middle = start + _split(end - start)
        if first_size <= middle:
            hashes.append(_range_hash(lookup, middle, end))
            end = middle
        else:
            hashes.append(_range_hash(lookup, start, middle))
            start = middle
            whole = False
    if not whole:
        hashes.append(_range_hash(lookup, start, end))
    hashes.reverse()
    return tuple(hashes)


# --- list-based log side ------------------------------------------------------------------


def _table(leaf_hashes: Sequence[bytes]) -> SubtreeLookup:
    """Every complete subtree of ``leaf_hashes``, hashed once (O(n))."""
    table: dict[tuple[int, int], bytes] = {}
    log = CompactMerkleLog()
    for value in leaf_hashes:
        appended = log.append(value)
        log = appended.log
        table.update(((s.level, s.index), s.hash) for s in appended.completed)
    return lambda level, index: table[level, index]


def merkle_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the tree with these leaf hashes."""
    return CompactMerkleLog().extend(leaf_hashes).root_hash()


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> tuple[bytes, ...]:
    """PATH(index, D[n]) over the whole of ``leaf_hashes`` (O(n); see the module docstring
    for logs too large to rehash)."""
    return inclusion_proof_from_subtrees(_table(leaf_hashes), index, len(leaf_hashes))


def consistency_proof(leaf_hashes: Sequence[bytes], first_size: int) -> tuple[bytes, ...]:
    """PROOF(first_size, D[n]) with n = len(leaf_hashes)."""
    return consistency_proof_from_subtrees(_table(leaf_hashes), first_size, len(leaf_hashes))


# --- verification (§2.1.3.2, §2.1.4.2) ----------------------------------------------------


def _shift_until_odd_or_zero(fn: int, sn: int) -> tuple[int, int]:
    while fn and not fn & 1:
        fn >>= 1
        sn >>= 1
    return fn, sn


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise :class:`InclusionProofError` unless ``proof`` proves that ``leaf_hash`` is leaf
    ``index`` of the tree of ``tree_size`` leaves whose root is ``root`` (§2.1.3.2)."""
    _check_hash(leaf_hash, InclusionProofError, "leaf hash")
    _check_hash(root, InclusionProofError, "root hash")
    for value in proof:
        _check_hash(value, InclusionProofError, "proof hash")
    if not 0 <= index < tree_size <= MAX_TREE_SIZE:  # step 1
        raise InclusionProofError(f"leaf {index} is not in a tree of {tree_size} leaves")
    fn, sn = index, tree_size - 1  # step 2
    r = bytes(leaf_hash)  # step 3
    for p in proof:  # step 4
        if sn == 0:  # 4a
            raise InclusionProofError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:  # 4b
            r = node_hash(p, r)
            if not fn & 1:
                fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            r = node_hash(r, p)
        fn >>= 1  # 4c
        sn >>= 1
    if sn != 0:  # step 5
        raise InclusionProofError("inclusion proof is shorter than the path to the root")
    if not _equal(r, root):
        raise InclusionProofError("inclusion proof leads to another root")


def verify_consistency(
    first_size: int,
    second_size: int,
    first_root: bytes,
    second_root: bytes,
    proof: Sequence[bytes],
) -> None:
    """Raise :class:`ConsistencyProofError` unless ``proof`` proves that the tree of
    ``second_size`` leaves with root ``second_root`` extends the tree of ``first_size`` leaves
    with root ``first_root`` (§2.1.4.2 for 0 < first < second)."""
    _check_hash(first_root, ConsistencyProofError, "first root")
    _check_hash(second_root, ConsistencyProofError, "second root")
    for value in proof:
        _check_hash(value, ConsistencyProofError, "proof hash")
    if not 0 <= first_size <= second_size <= MAX_TREE_SIZE:
        raise ConsistencyProofError(f"tree of {second_size} leaves cannot extend {first_size}")
    if first_size in (0, second_size):
        if proof:
            raise ConsistencyProofError("nothing to prove, yet the proof is not empty")
        expected = second_root if first_size else EMPTY_ROOT
        if not _equal(first_root, expected):
            raise ConsistencyProofError(f"two different roots for {first_size} leaves")
        return
    fr, sr = _consistency_roots(first_size, second_size, first_root, proof)
    if not _equal(fr, first_root):
        raise ConsistencyProofError("consistency proof does not lead to the first root")
    if not _equal(sr, second_root):
        raise ConsistencyProofError("consistency proof does not lead to the second root")


def _consistency_roots(
    first_size: int, second_size: int, first_root: bytes, proof: Sequence[bytes]
) -> tuple[bytes, bytes]:
    """Steps 1-7 of §2.1.4.2 short of the root comparisons: (fr, sr) with sn checked."""
    if not proof:  # step 1
        raise ConsistencyProofError("consistency proof is empty")
    path = list(proof)
    if first_size & (first_size - 1) == 0:  # step 2
        path.insert(0, bytes(first_root))
    fn, sn = first_size - 1, second_size - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:  # 6a
            raise ConsistencyProofError("consistency proof is longer than the trees need")
        if fn & 1 or fn == sn:  # 6b
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn >>= 1  # 6c
        sn >>= 1
    if sn != 0:  # step 7
        raise ConsistencyProofError("consistency proof is shorter than the trees need")
    return fr, sr


# --- wire forms of proofs -----------------------------------------------------------------


def _read_path(r: Reader) -> tuple[bytes, ...]:
    path = tuple(r.vector(read_opaque))
    if len(path) > MAX_PROOF_HASHES:
        raise DecodeError(f"a proof of {len(path)} hashes is longer than any tree needs")
    if any(len(value) != HASH_SIZE for value in path):
        raise DecodeError(f"proof hashes are {HASH_SIZE} bytes")
    return path


@dataclass(frozen=True, slots=True, kw_only=True)
class InclusionProof(Struct):
    """``struct { uint64 leaf_index; uint64 tree_size; opaque path<V><V>; }``"""

    leaf_index: int
    tree_size: int
    path: tuple[bytes, ...]

    def encode(self, w: Writer) -> None:
        w.uint64(self.leaf_index)
        w.uint64(self.tree_size)
        w.vector(self.path, write_opaque)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(leaf_index=r.uint64(), tree_size=r.uint64(), path=_read_path(r))

    def verify(self, leaf_hash: bytes, head: TreeHead) -> None:
        """Raise :class:`InclusionProofError` unless this proves ``leaf_hash`` under ``head``."""
        if self.tree_size != head.tree_size:
            raise InclusionProofError(
                f"proof is for a tree of {self.tree_size} leaves, the head has {head.tree_size}"
            )
        verify_inclusion(leaf_hash, self.leaf_index, self.tree_size, self.path, head.root_hash)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsistencyProof(Struct):
    """``struct { uint64 first_size; uint64 second_size; opaque path<V><V>; }``"""

    first_size: int
    second_size: int
    path: tuple[bytes, ...]

    def encode(self, w: Writer) -> None:
        w.uint64(self.first_size)
        w.uint64(self.second_size)
        w.vector(self.path, write_opaque)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(first_size=r.uint64(), second_size=r.uint64(), path=_read_path(r))

    def verify(self, first: TreeHead, second: TreeHead) -> None:
        """Raise :class:`ConsistencyProofError` unless this proves ``second`` extends ``first``."""
        if (self.first_size, self.second_size) != (first.tree_size, second.tree_size):
            raise ConsistencyProofError(
                f"proof is from {self.first_size} to {self.second_size} leaves, "
                f"the heads have {first.tree_size} and {second.tree_size}"
            )
        verify_consistency(
            self.first_size, self.second_size, first.root_hash, second.root_hash, self.path
        )


# --- tree heads ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TreeHead(Struct):
    """``struct { uint64 tree_size; opaque root_hash<V>; uint64 timestamp; }``

    ``timestamp`` is in seconds since the Unix epoch, as every time in casecircle.
    """

    tree_size: int
    root_hash: bytes
    timestamp: int

    def __post_init__(self) -> None:
        if len(self.root_hash) != HASH_SIZE:
            raise ValueError(f"root hash must be {HASH_SIZE} bytes")

    def encode(self, w: Writer) -> None:
        w.uint64(self.tree_size)
        w.opaque(self.root_hash)
        w.uint64(self.timestamp)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        tree_size = r.uint64()
        root_hash = r.opaque()
        if len(root_hash) != HASH_SIZE:
            raise DecodeError(f"root hash is {len(root_hash)} bytes, not {HASH_SIZE}")
        return cls(tree_size=tree_size, root_hash=root_hash, timestamp=r.uint64())


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedTreeHead(Struct):
    """A tree head and the relay's signature of it; unverified until :func:`verify_tree_head`."""

    tree_head: TreeHead
    signature: bytes

    def encode(self, w: Writer) -> None:
        self.tree_head.encode(w)
        w.opaque(self.signature)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(tree_head=TreeHead.decode(r), signature=r.opaque())


def sign_tree_head(relay_key: SigningKey, tree_head: TreeHead) -> SignedTreeHead:
    """The relay's signature (label "TreeHead") over ``tree_head``."""
    signature = sign_statement(relay_key, TREE_HEAD_LABEL, tree_head.to_bytes())
    return SignedTreeHead(tree_head=tree_head, signature=signature)


def verify_tree_head(relay_public_key: bytes, signed: SignedTreeHead) -> TreeHead:
    """The tree head, or :class:`TreeHeadSignatureError` if the relay did not sign it."""
    try:
        verify_statement(
            relay_public_key, TREE_HEAD_LABEL, signed.tree_head.to_bytes(), signed.signature
        )
    except InvalidSignatureError as exc:
        raise TreeHeadSignatureError("tree head is not signed by the relay") from exc
    return signed.tree_head


def detect_fork(relay_public_key: bytes, head_a: SignedTreeHead, head_b: SignedTreeHead) -> None:
    """Raise :class:`ForkDetectedError` if both heads are validly signed, of one size, and
    differ in root. Heads of different sizes prove nothing alone (check a consistency proof);
    an unsigned head is no evidence (:class:`TreeHeadSignatureError`)."""
    verify_tree_head(relay_public_key, head_a)
    verify_tree_head(relay_public_key, head_b)
    _check_no_fork(head_a, head_b)


def _check_no_fork(head_a: SignedTreeHead, head_b: SignedTreeHead) -> None:
    """The fork test on two heads whose signatures have been checked."""
    a, b = head_a.tree_head, head_b.tree_head
    if a.tree_size == b.tree_size and not _equal(a.root_hash, b.root_hash):
        raise ForkDetectedError(
            f"the relay signed two different trees of {a.tree_size} leaves", head_a, head_b
        )


def verify_tree_head_update(
    relay_public_key: bytes,
    trusted: SignedTreeHead,
    candidate: SignedTreeHead,
    proof: ConsistencyProof,
) -> TreeHead:
    """Accept ``candidate`` as the newest head if it is signed and extends ``trusted``.

    Raises :class:`TreeHeadSignatureError`, :class:`TreeHeadRollbackError` (a smaller tree:
    A5), :class:`ForkDetectedError` (the same size, another root: A6) or
    :class:`ConsistencyProofError`.
    """
    old = verify_tree_head(relay_public_key, trusted)
    new = verify_tree_head(relay_public_key, candidate)
    if new.tree_size < old.tree_size:
        raise TreeHeadRollbackError(
            f"tree head of {new.tree_size} leaves is older than the {old.tree_size} trusted"
        )
    _check_no_fork(trusted, candidate)
    proof.verify(old, new)
    return new
