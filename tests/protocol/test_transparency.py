"""The transparency log's Merkle tree (RFC 9162 §2.1), proofs, compact state and tree heads.

The log-side functions are checked against a brute-force reference written straight from
the RFC's recursive definitions (MTH, PATH, SUBPROOF) with hashlib, for every tree size up
to 64 and every index and first size, and against the published Certificate Transparency
values. The verifiers are checked to accept those proofs and to refuse every tampered
variant with a typed error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto.signatures import ED25519, SigningKey
from protocol.codec import Reader, Writer
from protocol.errors import DecodeError, InternalError
from protocol.statements import sign_statement
from protocol.transparency import (
    EMPTY_ROOT,
    MAX_PROOF_HASHES,
    MAX_TREE_SIZE,
    CompactMerkleLog,
    ConsistencyProof,
    ConsistencyProofError,
    ForkDetectedError,
    InclusionProof,
    InclusionProofError,
    SignedTreeHead,
    TransparencyError,
    TreeHead,
    TreeHeadRollbackError,
    TreeHeadSignatureError,
    TreeRangeError,
    consistency_proof,
    consistency_proof_from_subtrees,
    detect_fork,
    inclusion_proof,
    inclusion_proof_from_subtrees,
    leaf_hash,
    merkle_root,
    node_hash,
    root_from_subtrees,
    sign_tree_head,
    verify_consistency,
    verify_inclusion,
    verify_tree_head,
    verify_tree_head_update,
)
from tests.helpers import DeterministicRandom

MAX_BRUTE_FORCE_SIZE = 64


# --- the reference: RFC 9162 §2.1 definitions, literally ----------------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def ref_k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(leaves: list[bytes]) -> bytes:
    """MTH over leaf *hashes* (the RFC's leaf step already applied)."""
    if not leaves:
        return sha256(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = ref_k(len(leaves))
    return sha256(b"\x01" + ref_mth(leaves[:k]) + ref_mth(leaves[k:]))


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = ref_k(len(leaves))
    if m < k:
        return [*ref_path(m, leaves[:k]), ref_mth(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), ref_mth(leaves[:k])]


def ref_subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [ref_mth(leaves)]
    k = ref_k(n)
    if m <= k:
        return [*ref_subproof(m, leaves[:k], b), ref_mth(leaves[k:])]
    return [*ref_subproof(m - k, leaves[k:], False), ref_mth(leaves[:k])]


def ref_proof(m: int, leaves: list[bytes]) -> list[bytes]:
    return ref_subproof(m, leaves, True)


def leaves_for(n: int, seed: str = "leaf") -> list[bytes]:
    return [sha256(b"\x00" + f"{seed} {i}".encode()) for i in range(n)]


LEAVES = leaves_for(MAX_BRUTE_FORCE_SIZE)


def flip(value: bytes, bit: int = 0) -> bytes:
    return bytes([value[0] ^ (1 << bit), *value[1:]])


# --- published values (RFC 6962 test data of the Certificate Transparency project) --------

CT_DATA = [
    bytes.fromhex(x)
    for x in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
H_96A2 = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
H_5F08 = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
H_6B47 = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
H_BC1A = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
H_CA85 = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
H_D37E = "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
H_0EBC = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
CT_LEAVES = [leaf_hash(d) for d in CT_DATA]


def test_hashes_are_domain_separated_sha256() -> None:
    assert leaf_hash(b"abc") == sha256(b"\x00abc")
    assert node_hash(b"l" * 32, b"r" * 32) == sha256(b"\x01" + b"l" * 32 + b"r" * 32)
    assert EMPTY_ROOT == sha256(b"")


@pytest.mark.parametrize("size", range(len(CT_ROOTS)))
def test_roots_match_the_published_values(size: int) -> None:
    assert merkle_root(CT_LEAVES[:size]).hex() == CT_ROOTS[size]
    assert CompactMerkleLog().extend(CT_LEAVES[:size]).root_hash().hex() == CT_ROOTS[size]


@pytest.mark.parametrize(
    ("index", "size", "expected"),
    [(0, 8, [H_96A2, H_5F08, H_6B47]), (5, 8, [H_BC1A, H_CA85, H_D37E])],
)
def test_inclusion_proofs_match_the_published_values(
    index: int, size: int, expected: list[str]
) -> None:
    proof = inclusion_proof(CT_LEAVES[:size], index)
    assert [p.hex() for p in proof] == expected
    verify_inclusion(CT_LEAVES[index], index, size, proof, bytes.fromhex(CT_ROOTS[size]))


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [(2, 8, [H_5F08, H_6B47]), (6, 8, [H_0EBC, H_CA85, H_D37E]), (2, 5, [H_5F08, H_BC1A])],
)
def test_consistency_proofs_match_the_published_values(
    first: int, second: int, expected: list[str]
) -> None:
    proof = consistency_proof(CT_LEAVES[:second], first)
    assert [p.hex() for p in proof] == expected
    verify_consistency(
        first, second, bytes.fromhex(CT_ROOTS[first]), bytes.fromhex(CT_ROOTS[second]), proof
    )


# --- every size, index and first size against the reference -------------------------------


@pytest.mark.parametrize("n", range(MAX_BRUTE_FORCE_SIZE + 1))
def test_root_matches_reference(n: int) -> None:
    assert merkle_root(LEAVES[:n]) == ref_mth(LEAVES[:n])


def inclusion_variants(
    index: int, n: int, proof: list[bytes], root: bytes
) -> list[tuple[str, int, int, list[bytes], bytes, bytes]]:
    """(what, index, size, proof, root, leaf) variants that must all be refused."""
    leaf = LEAVES[index]
    variants = [
        ("other leaf", index, n, proof, root, flip(leaf)),
        ("other root", index, n, proof, flip(root), leaf),
        ("proof + extra", index, n, [*proof, LEAVES[0]], root, leaf),
        ("index = size", n, n, proof, root, leaf),
        ("negative index", -1, n, proof, root, leaf),
    ]
    if proof:
        variants.append(("proof - last", index, n, proof[:-1], root, leaf))
        variants.append(("proof - first", index, n, proof[1:], root, leaf))
        variants.append(("size 0", index, 0, proof, root, leaf))
    variants.extend(
        (f"flipped proof[{i}]", index, n, [*proof[:i], flip(p), *proof[i + 1 :]], root, leaf)
        for i, p in enumerate(proof)
    )
    if n > 1:
        other = (index + 1) % n
        variants.append(("other index", other, n, proof, root, leaf))
    return variants


@pytest.mark.parametrize("n", range(1, MAX_BRUTE_FORCE_SIZE + 1))
def test_every_inclusion_proof_matches_reference_and_only_it_verifies(n: int) -> None:
    leaves = LEAVES[:n]
    root = ref_mth(leaves)
    for index in range(n):
        proof = list(inclusion_proof(leaves, index))
        assert proof == ref_path(index, leaves), (n, index)
        verify_inclusion(leaves[index], index, n, proof, root)
        for what, i, size, bad_proof, bad_root, leaf in inclusion_variants(index, n, proof, root):
            with pytest.raises(InclusionProofError):
                verify_inclusion(leaf, i, size, bad_proof, bad_root)
                pytest.fail(f"accepted {what} for leaf {index} of {n}")


def consistency_variants(
    m: int, n: int, proof: list[bytes], first_root: bytes, second_root: bytes
) -> list[tuple[str, int, int, bytes, bytes, list[bytes]]]:
    """Variants that must all be refused. A larger *second* size is not among them: where
    the tree's right edge keeps its shape, the same hashes fit both sizes, as RFC 9162's
    roots do not commit to a size. The signed tree head binds root and size, and
    ``ConsistencyProof.verify`` takes both sizes from the heads."""
    variants = [
        ("flipped first root", m, n, flip(first_root), second_root, proof),
        ("flipped second root", m, n, first_root, flip(second_root), proof),
        ("swapped roots", m, n, second_root, first_root, proof),
        ("proof + extra", m, n, first_root, second_root, [*proof, LEAVES[0]]),
        ("proof - last", m, n, first_root, second_root, proof[:-1]),
        ("empty proof", m, n, first_root, second_root, []),
        ("first size + 1", m + 1, n, first_root, second_root, proof),
        ("first > second", n + 1, n, first_root, second_root, proof),
    ]
    if m > 1:
        variants.append(("first size - 1", m - 1, n, first_root, second_root, proof))
    if len(proof) > 1:
        variants.append(("proof - first", m, n, first_root, second_root, proof[1:]))
    for i, p in enumerate(proof):
        flipped = [*proof[:i], flip(p), *proof[i + 1 :]]
        variants.append((f"flipped proof[{i}]", m, n, first_root, second_root, flipped))
    return variants


@pytest.mark.parametrize("n", range(2, MAX_BRUTE_FORCE_SIZE + 1))
def test_every_consistency_proof_matches_reference_and_only_it_verifies(n: int) -> None:
    leaves = LEAVES[:n]
    second_root = ref_mth(leaves)
    for m in range(1, n):
        proof = list(consistency_proof(leaves, m))
        assert proof == ref_proof(m, leaves), (m, n)
        first_root = ref_mth(leaves[:m])
        verify_consistency(m, n, first_root, second_root, proof)
        for what, first, second, root_a, root_b, bad in consistency_variants(
            m, n, proof, first_root, second_root
        ):
            with pytest.raises(ConsistencyProofError):
                verify_consistency(first, second, root_a, root_b, bad)
                pytest.fail(f"accepted {what} from {m} to {n}")


def test_a_tree_is_consistent_with_itself_and_with_the_empty_tree() -> None:
    root = merkle_root(LEAVES[:5])
    assert consistency_proof(LEAVES[:5], 5) == ()
    assert consistency_proof(LEAVES[:5], 0) == ()
    verify_consistency(5, 5, root, root, [])
    verify_consistency(0, 5, EMPTY_ROOT, root, [])
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])


@pytest.mark.parametrize(
    ("first", "second", "first_root", "second_root", "proof"),
    [
        (5, 5, b"a" * 32, b"b" * 32, []),  # one size, two roots
        (5, 5, b"a" * 32, b"a" * 32, [b"c" * 32]),  # nothing to prove, yet a proof
        (0, 5, b"a" * 32, b"b" * 32, []),  # the empty tree has one root
        (0, 5, EMPTY_ROOT, b"b" * 32, [b"c" * 32]),
        (6, 5, b"a" * 32, b"b" * 32, [b"c" * 32]),  # shrinking
        (-1, 5, b"a" * 32, b"b" * 32, []),
        (1, MAX_TREE_SIZE + 1, b"a" * 32, b"b" * 32, [b"c" * 32]),
    ],
)
def test_degenerate_consistency_claims_are_refused(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]
) -> None:
    with pytest.raises(ConsistencyProofError):
        verify_consistency(first, second, first_root, second_root, proof)


@pytest.mark.parametrize("bad", [b"", b"x" * 31, b"x" * 33])
def test_hashes_of_the_wrong_length_are_refused(bad: bytes) -> None:
    leaves = LEAVES[:6]
    root = merkle_root(leaves)
    proof = list(inclusion_proof(leaves, 2))
    with pytest.raises(InclusionProofError):
        verify_inclusion(bad, 2, 6, proof, root)
    with pytest.raises(InclusionProofError):
        verify_inclusion(leaves[2], 2, 6, proof, bad)
    with pytest.raises(InclusionProofError):
        verify_inclusion(leaves[2], 2, 6, [*proof[:-1], bad], root)
    first_root = merkle_root(leaves[:3])
    cproof = list(consistency_proof(leaves, 3))
    with pytest.raises(ConsistencyProofError):
        verify_consistency(3, 6, bad, root, cproof)
    with pytest.raises(ConsistencyProofError):
        verify_consistency(3, 6, first_root, bad, cproof)
    with pytest.raises(ConsistencyProofError):
        verify_consistency(3, 6, first_root, root, [*cproof[:-1], bad])


def test_a_one_leaf_tree_proves_its_leaf_with_an_empty_path() -> None:
    verify_inclusion(LEAVES[0], 0, 1, [], LEAVES[0])
    with pytest.raises(InclusionProofError):
        verify_inclusion(LEAVES[0], 0, 1, [LEAVES[1]], LEAVES[0])


def test_log_side_refuses_out_of_range_requests() -> None:
    with pytest.raises(TreeRangeError):
        inclusion_proof(LEAVES[:4], 4)
    with pytest.raises(TreeRangeError):
        inclusion_proof([], 0)
    with pytest.raises(TreeRangeError):
        consistency_proof(LEAVES[:4], 5)
    with pytest.raises(TreeRangeError):
        consistency_proof(LEAVES[:4], -1)
    assert issubclass(TreeRangeError, TransparencyError)


# --- the compact log and proofs from a subtree table -------------------------------------


class CountingTable:
    """A relay's subtree table: (level, index) -> hash, counting lookups."""

    def __init__(self) -> None:
        self.rows: dict[tuple[int, int], bytes] = {}
        self.lookups = 0

    def __call__(self, level: int, index: int) -> bytes:
        self.lookups += 1
        return self.rows[level, index]


def grow(n: int) -> tuple[CompactMerkleLog, CountingTable]:
    log = CompactMerkleLog()
    table = CountingTable()
    for i, value in enumerate(LEAVES[:n]):
        appended = log.append(value)
        assert appended.leaf_index == i
        for subtree in appended.completed:
            assert (subtree.level, subtree.index) not in table.rows
            assert subtree.hash == ref_mth(LEAVES[subtree.start : subtree.end])
            table.rows[subtree.level, subtree.index] = subtree.hash
        log = appended.log
    return log, table


def test_each_append_reports_exactly_the_subtrees_it_completes() -> None:
    log, table = grow(MAX_BRUTE_FORCE_SIZE)
    assert len(table.rows) == 2 * MAX_BRUTE_FORCE_SIZE - 1  # every complete subtree, once
    assert log.tree_size == MAX_BRUTE_FORCE_SIZE


@pytest.mark.parametrize("n", range(MAX_BRUTE_FORCE_SIZE + 1))
def test_compact_log_state(n: int) -> None:
    log, table = grow(n)
    assert len(log.frontier) == n.bit_count()
    assert log.root_hash() == ref_mth(LEAVES[:n])
    assert root_from_subtrees(table, n) == log.root_hash()
    assert CompactMerkleLog.from_subtrees(table, n) == log
    assert CompactMerkleLog.from_bytes(log.to_bytes()) == log
    assert [(s.start, s.end) for s in log.subtrees()] == sorted(
        (s.start, s.end) for s in log.subtrees()
    )
    assert log.tree_head(7) == TreeHead(tree_size=n, root_hash=log.root_hash(), timestamp=7)


@pytest.mark.parametrize("n", range(1, MAX_BRUTE_FORCE_SIZE + 1))
def test_proofs_from_the_subtree_table_need_logarithmic_lookups(n: int) -> None:
    _, table = grow(n)
    bound = 2 * n.bit_length() + 2
    for index in range(n):
        table.lookups = 0
        assert list(inclusion_proof_from_subtrees(table, index, n)) == ref_path(index, LEAVES[:n])
        assert table.lookups <= bound, (index, n, table.lookups)
    for m in range(n + 1):
        table.lookups = 0
        expected = ref_proof(m, LEAVES[:n]) if 0 < m < n else []
        assert list(consistency_proof_from_subtrees(table, m, n)) == expected
        assert table.lookups <= bound, (m, n, table.lookups)


def test_proofs_for_a_log_near_the_uint64_limit() -> None:
    """All leaves equal, so the subtree of each level has one hash: a consistent table for
    a tree of any size, here sizes that only 64-bit arithmetic reaches."""
    levels = [LEAVES[0]]
    for _ in range(64):
        levels.append(node_hash(levels[-1], levels[-1]))

    def lookup(level: int, index: int) -> bytes:
        assert (index + 1) << level <= MAX_TREE_SIZE
        return levels[level]

    for size in (MAX_TREE_SIZE, (1 << 63) + 12345, 1 << 63):
        root = root_from_subtrees(lookup, size)
        for index in (0, 1, size // 3, size - 2, size - 1):
            proof = inclusion_proof_from_subtrees(lookup, index, size)
            assert len(proof) <= 64
            verify_inclusion(LEAVES[0], index, size, proof, root)
        for first in (1, 2, 3, size // 2 + 1, size - 1):
            proof = consistency_proof_from_subtrees(lookup, first, size)
            assert len(proof) <= MAX_PROOF_HASHES
            verify_consistency(first, size, root_from_subtrees(lookup, first), root, proof)
    full = CompactMerkleLog.from_subtrees(lookup, MAX_TREE_SIZE)
    with pytest.raises(TreeRangeError):
        full.append(LEAVES[0])


def test_a_table_row_of_the_wrong_length_is_an_internal_error() -> None:
    with pytest.raises(InternalError):
        root_from_subtrees(lambda level, index: b"short", 3)


def test_compact_log_rejects_inconsistent_state() -> None:
    with pytest.raises(ValueError, match="frontier"):
        CompactMerkleLog(tree_size=3, frontier=(LEAVES[0],))
    with pytest.raises(ValueError, match="bytes"):
        CompactMerkleLog(tree_size=1, frontier=(b"x",))
    with pytest.raises(ValueError, match="leaf hash"):
        CompactMerkleLog().append(b"x")


def encoded_log(tree_size: int, frontier: list[bytes]) -> bytes:
    w = Writer()
    w.uint64(tree_size)
    w.vector(frontier, Writer.opaque)
    return w.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        encoded_log(3, [LEAVES[0]]),  # 3 leaves need two subtrees
        encoded_log(2, [LEAVES[0], LEAVES[1]]),
        encoded_log(1, [b"x" * 31]),
        encoded_log(1, [LEAVES[0]]) + b"\x00",  # trailing byte
        encoded_log(1, [LEAVES[0]])[:-1],  # truncated
    ],
)
def test_compact_log_decoding_is_strict(data: bytes) -> None:
    with pytest.raises(DecodeError):
        CompactMerkleLog.from_bytes(data)


# --- proofs on the wire ---------------------------------------------------------------------


def test_proof_structures_round_trip_and_verify_against_heads() -> None:
    leaves = LEAVES[:11]
    first = TreeHead(tree_size=4, root_hash=merkle_root(leaves[:4]), timestamp=1)
    second = TreeHead(tree_size=11, root_hash=merkle_root(leaves), timestamp=2)
    inclusion = InclusionProof(leaf_index=7, tree_size=11, path=inclusion_proof(leaves, 7))
    consistency = ConsistencyProof(first_size=4, second_size=11, path=consistency_proof(leaves, 4))
    assert InclusionProof.from_bytes(inclusion.to_bytes()) == inclusion
    assert ConsistencyProof.from_bytes(consistency.to_bytes()) == consistency
    inclusion.verify(leaves[7], second)
    consistency.verify(first, second)
    with pytest.raises(InclusionProofError):
        inclusion.verify(leaves[7], first)  # a proof for another tree size
    with pytest.raises(InclusionProofError):
        inclusion.verify(leaves[6], second)
    with pytest.raises(ConsistencyProofError):
        consistency.verify(second, first)
    with pytest.raises(ConsistencyProofError):
        consistency.verify(replace(first, tree_size=5), second)


def encoded_proof(path: list[bytes]) -> bytes:
    w = Writer()
    w.uint64(1)
    w.uint64(2)
    w.vector(path, Writer.opaque)
    return w.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        encoded_proof([b"x" * 31]),
        encoded_proof([b"x" * 32] * (MAX_PROOF_HASHES + 1)),
        encoded_proof([b"x" * 32]) + b"\x00",
        encoded_proof([b"x" * 32])[:-1],
    ],
)
def test_proof_decoding_is_strict(data: bytes) -> None:
    for kind in (InclusionProof, ConsistencyProof):
        with pytest.raises(DecodeError):
            kind.from_bytes(data)


# --- signed tree heads, rollback and forks ------------------------------------------------


@pytest.fixture(scope="module")
def relay_key() -> SigningKey:
    return ED25519.generate(DeterministicRandom("relay identity"))


@pytest.fixture(scope="module")
def other_key() -> SigningKey:
    return ED25519.generate(DeterministicRandom("another relay"))


def head(leaves: list[bytes], timestamp: int = 1_700_000_000) -> TreeHead:
    return TreeHead(tree_size=len(leaves), root_hash=merkle_root(leaves), timestamp=timestamp)


def test_tree_head_sign_verify_round_trip(relay_key: SigningKey) -> None:
    signed = sign_tree_head(relay_key, head(LEAVES[:9]))
    decoded = SignedTreeHead.from_bytes(signed.to_bytes())
    assert decoded == signed
    assert verify_tree_head(relay_key.public_key, decoded) == head(LEAVES[:9])


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h: replace(h, tree_size=h.tree_size + 1),
        lambda h: replace(h, root_hash=flip(h.root_hash)),
        lambda h: replace(h, timestamp=h.timestamp + 1),
    ],
    ids=["tree_size", "root_hash", "timestamp"],
)
def test_every_tampered_tree_head_field_is_refused(
    relay_key: SigningKey, tamper: Callable[[TreeHead], TreeHead]
) -> None:
    signed = sign_tree_head(relay_key, head(LEAVES[:9]))
    forged = replace(signed, tree_head=tamper(signed.tree_head))
    with pytest.raises(TreeHeadSignatureError):
        verify_tree_head(relay_key.public_key, forged)


def test_tree_head_signature_checks(relay_key: SigningKey, other_key: SigningKey) -> None:
    tree_head = head(LEAVES[:9])
    signed = sign_tree_head(relay_key, tree_head)
    with pytest.raises(TreeHeadSignatureError):
        verify_tree_head(other_key.public_key, signed)
    for i in range(len(signed.signature)):
        bad = bytearray(signed.signature)
        bad[i] ^= 0x01
        with pytest.raises(TreeHeadSignatureError):
            verify_tree_head(relay_key.public_key, replace(signed, signature=bytes(bad)))
    with pytest.raises(TreeHeadSignatureError):
        verify_tree_head(relay_key.public_key, replace(signed, signature=signed.signature[:-1]))
    # The same bytes signed under another label are not a tree head.
    other_label = sign_statement(relay_key, "DeviceCredential", tree_head.to_bytes())
    with pytest.raises(TreeHeadSignatureError):
        verify_tree_head(relay_key.public_key, replace(signed, signature=other_label))


@pytest.mark.parametrize(
    "data",
    [
        bytes(8) + b"\x1f" + bytes(31) + bytes(8) + b"\x00",  # 31-byte root
        bytes(8) + b"\x20" + bytes(32) + bytes(8) + b"\x00" + b"\x00",  # trailing byte
        bytes(8) + b"\x20" + bytes(32) + bytes(7),  # truncated
    ],
)
def test_tree_head_decoding_is_strict(data: bytes) -> None:
    with pytest.raises(DecodeError):
        SignedTreeHead.from_bytes(data)


def test_decoded_tree_head_is_canonical(relay_key: SigningKey) -> None:
    encoded = sign_tree_head(relay_key, head(LEAVES[:3])).to_bytes()
    r = Reader(encoded)
    SignedTreeHead.decode(r)
    r.finish()


def test_fork_is_detected_with_both_heads_as_evidence(relay_key: SigningKey) -> None:
    honest = sign_tree_head(relay_key, head(LEAVES[:6]))
    forked_leaves = [*LEAVES[:5], leaves_for(1, "ghost device")[0]]
    forked = sign_tree_head(relay_key, head(forked_leaves))
    with pytest.raises(ForkDetectedError) as caught:
        detect_fork(relay_key.public_key, honest, forked)
    assert caught.value.code == "fork_detected"
    assert (caught.value.first, caught.value.second) == (honest, forked)


def test_no_fork_between_consistent_heads(relay_key: SigningKey) -> None:
    a = sign_tree_head(relay_key, head(LEAVES[:6], timestamp=1))
    b = sign_tree_head(relay_key, head(LEAVES[:6], timestamp=2))  # re-signed later
    c = sign_tree_head(relay_key, head(LEAVES[:7]))
    detect_fork(relay_key.public_key, a, b)
    detect_fork(relay_key.public_key, a, c)


def test_an_unsigned_head_is_no_evidence_of_a_fork(
    relay_key: SigningKey, other_key: SigningKey
) -> None:
    honest = sign_tree_head(relay_key, head(LEAVES[:6]))
    fake = sign_tree_head(other_key, head(LEAVES[1:7]))
    with pytest.raises(TreeHeadSignatureError):
        detect_fork(relay_key.public_key, honest, fake)


def test_tree_head_update(relay_key: SigningKey) -> None:
    old = sign_tree_head(relay_key, head(LEAVES[:5]))
    new = sign_tree_head(relay_key, head(LEAVES[:12]))
    proof = ConsistencyProof(first_size=5, second_size=12, path=consistency_proof(LEAVES[:12], 5))
    assert verify_tree_head_update(relay_key.public_key, old, new, proof) == new.tree_head
    same = ConsistencyProof(first_size=5, second_size=5, path=())
    assert verify_tree_head_update(relay_key.public_key, old, old, same) == old.tree_head


def test_tree_head_update_refuses_rollback(relay_key: SigningKey) -> None:
    old = sign_tree_head(relay_key, head(LEAVES[:12]))
    older = sign_tree_head(relay_key, head(LEAVES[:5]))
    proof = ConsistencyProof(first_size=12, second_size=5, path=())
    with pytest.raises(TreeHeadRollbackError):
        verify_tree_head_update(relay_key.public_key, old, older, proof)


def test_tree_head_update_detects_a_fork(relay_key: SigningKey) -> None:
    trusted = sign_tree_head(relay_key, head(LEAVES[:6]))
    forked = sign_tree_head(relay_key, head(leaves_for(6, "forked")))
    proof = ConsistencyProof(first_size=6, second_size=6, path=())
    with pytest.raises(ForkDetectedError):
        verify_tree_head_update(relay_key.public_key, trusted, forked, proof)


def test_tree_head_update_refuses_a_rewritten_history(relay_key: SigningKey) -> None:
    trusted = sign_tree_head(relay_key, head(LEAVES[:6]))
    rewritten = [*LEAVES[:3], *leaves_for(9, "rewritten")]
    candidate = sign_tree_head(relay_key, head(rewritten))
    proof = ConsistencyProof(first_size=6, second_size=12, path=consistency_proof(rewritten, 6))
    with pytest.raises(ConsistencyProofError):
        verify_tree_head_update(relay_key.public_key, trusted, candidate, proof)
    mislabelled = ConsistencyProof(first_size=5, second_size=12, path=proof.path)
    with pytest.raises(ConsistencyProofError):
        verify_tree_head_update(relay_key.public_key, trusted, candidate, mislabelled)


# --- properties ---------------------------------------------------------------------------


@given(
    st.lists(st.binary(max_size=40), min_size=1, max_size=150),
    st.data(),
)
def test_random_logs_prove_every_claim(entries: list[bytes], data: st.DataObject) -> None:
    leaves = [leaf_hash(e) for e in entries]
    n = len(leaves)
    root = merkle_root(leaves)
    index = data.draw(st.integers(0, n - 1))
    verify_inclusion(leaves[index], index, n, inclusion_proof(leaves, index), root)
    first = data.draw(st.integers(0, n))
    proof = consistency_proof(leaves, first)
    verify_consistency(first, n, merkle_root(leaves[:first]), root, proof)


@given(st.integers(0, 200), st.integers(0, MAX_TREE_SIZE))
def test_encodings_round_trip(n: int, timestamp: int) -> None:
    log = CompactMerkleLog().extend(leaves_for(n, "prop"))
    assert CompactMerkleLog.from_bytes(log.to_bytes()) == log
    tree_head = log.tree_head(timestamp)
    assert TreeHead.from_bytes(tree_head.to_bytes()) == tree_head
