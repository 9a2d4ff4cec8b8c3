"""tree-operations.json: a proposal applied to a ratchet tree (RFC 9420 §7.7, §7.8, §12.1).

The tree before must have the stated tree hash; the Add, Update or Remove proposal is then
applied as if sent by leaf ``proposal_sender``, and the tree after must serialize to the
stated bytes (trailing blank nodes truncated) and have the stated tree hash. The cases
carry no group id, so leaf signatures are not checked here (tree-validation.json does).
"""

from __future__ import annotations

from crypto.suites import cipher_suite
from protocol.errors import UnsupportedError
from protocol.mls.proposals import Add, Proposal, Remove, Update
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.tree_hash import tree_hash
from protocol.mls.vectors import VectorCase
from protocol.mls.vectors.checks import expect_equal, expect_hex, unhex


def apply_proposal(tree: RatchetTree, proposal: Proposal, sender: int) -> None:
    """Apply one Add, Update or Remove to ``tree`` (§12.1.1–§12.1.3)."""
    match proposal.body:
        case Add(key_package=key_package):
            tree.add_leaf(key_package.leaf_node)
        case Update(leaf_node=leaf_node):
            tree.update_leaf(sender, leaf_node)
        case Remove(removed=removed):
            tree.remove_leaf(removed)
        case other:
            raise UnsupportedError(f"{type(other).__name__} does not change the tree here")


def run_case(case: VectorCase) -> None:
    suite = cipher_suite(case["cipher_suite"])
    tree = RatchetTree.from_bytes(unhex(case["tree_before"]))
    expect_hex("tree hash before", tree_hash(suite, tree), case["tree_hash_before"])

    proposal = Proposal.from_bytes(unhex(case["proposal"]))
    apply_proposal(tree, proposal, case["proposal_sender"])

    expect_equal("tree after", tree.to_bytes(), unhex(case["tree_after"]))
    expect_hex("tree hash after", tree_hash(suite, tree), case["tree_hash_after"])
