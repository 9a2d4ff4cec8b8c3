"""tree-validation.json: resolution and tree hash of every node, parent-hash validity of
every non-blank parent, and every leaf's signature in place (RFC 9420 §4.1.1, §7.8, §7.9.2,
§7.3).

The leaf at position ``i`` signs with ``group_id`` and leaf index ``i`` as context when it
came from an update or a commit. Parent hashes and signatures are checked by the whole
join-time integrity check (§12.4.3.1), which also checks the unmerged leaves, key
uniqueness and capabilities. The cases' key packages expired long ago, so lifetimes are
not checked.
"""

from __future__ import annotations

from crypto.suites import cipher_suite
from protocol.mls.leaf_validation import LifetimeCheck
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.tree_hash import tree_hashes
from protocol.mls.tree_math import root
from protocol.mls.tree_validation import verify_ratchet_tree
from protocol.mls.vectors import VectorCase
from protocol.mls.vectors.checks import expect_equal, expect_hex, unhex


def run_case(case: VectorCase) -> None:
    suite = cipher_suite(case["cipher_suite"])
    group_id = unhex(case["group_id"])
    tree = RatchetTree.from_bytes(unhex(case["tree"]))

    expect_equal("node count", tree.node_count, len(case["tree_hashes"]))
    expect_equal("node count", tree.node_count, len(case["resolutions"]))
    hashes = tree_hashes(suite, tree)
    for index, (want_hash, want_resolution) in enumerate(
        zip(case["tree_hashes"], case["resolutions"], strict=True)
    ):
        expect_hex(f"tree hash of node {index}", hashes[index], want_hash)
        expect_equal(f"resolution of node {index}", tree.resolution(index), want_resolution)

    # Parent hashes of every non-blank parent and every leaf's signature, within the
    # join-time check against the case's root hash.
    root_hash = unhex(case["tree_hashes"][root(tree.leaf_count)])
    verify_ratchet_tree(suite, tree, group_id=group_id, tree_hash=root_hash, now=LifetimeCheck.SKIP)
