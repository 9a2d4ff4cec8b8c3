"""treekem.json: UpdatePaths merged and decrypted by every member with private state, and
a fresh UpdatePath from the same sender decrypted by all of them (RFC 9420 §7.4–§7.6).

Each case gives a ratchet tree, the private state of some leaves (leaf key and the path
secrets of the parent nodes they know) and UpdatePaths from several senders, each applied
to the case's tree on its own. The provisional GroupContext is built from the case's
group id, epoch and confirmed transcript hash, the tree hash after the merge, and no
extensions. Per UpdatePath:

* the sender's new leaf is signed in place, and the merged tree is parent-hash valid;
* every other leaf with private state decrypts the stated path secret and gets the
  stated commit secret, and its tree hashes to ``tree_hash_after``;
* a fresh UpdatePath from the sender (signed with its ``signature_priv``) gives every
  other leaf with private state the committer's commit secret and the same tree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from crypto.suites import CipherSuite, cipher_suite
from protocol.mls.group_context import GroupContext
from protocol.mls.leaf_validation import verify_leaf_signature
from protocol.mls.parent_hash import verify_parent_hashes
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.tree_hash import tree_hash
from protocol.mls.tree_keys import TreePrivateKeys, node_key_pair
from protocol.mls.tree_math import leaf_to_node
from protocol.mls.tree_nodes import UpdatePath
from protocol.mls.treekem import create_update_path, process_update_path
from protocol.mls.vectors import VectorCase
from protocol.mls.vectors.checks import (
    CaseRandom,
    VectorMismatchError,
    expect_equal,
    expect_hex,
    unhex,
)


def _private_keys(
    suite: CipherSuite, tree: RatchetTree, entry: Mapping[str, Any]
) -> TreePrivateKeys:
    """A leaf's keys from the case: its leaf key, and a key pair per stated path secret;
    each must be the key the tree shows at that node."""
    leaf_index: int = entry["index"]
    keys = {
        leaf_to_node(leaf_index): suite.kem.deserialize_private_key(unhex(entry["encryption_priv"]))
    }
    for known in entry["path_secrets"]:
        keys[known["node"]] = node_key_pair(suite, unhex(known["path_secret"]))[0]
    private_keys = TreePrivateKeys(leaf_index, keys)
    private_keys.check_against(tree)
    return private_keys


def run_case(case: VectorCase) -> None:
    suite = cipher_suite(case["cipher_suite"])
    group_id = unhex(case["group_id"])
    tree = RatchetTree.from_bytes(unhex(case["ratchet_tree"]))

    def provisional_context(new_tree_hash: bytes) -> bytes:
        return GroupContext(
            cipher_suite=suite.suite_id,
            group_id=group_id,
            epoch=case["epoch"],
            tree_hash=new_tree_hash,
            confirmed_transcript_hash=unhex(case["confirmed_transcript_hash"]),
        ).to_bytes()

    members = {entry["index"]: entry for entry in case["leaves_private"]}
    held = {index: _private_keys(suite, tree, entry) for index, entry in members.items()}
    for number, stated in enumerate(case["update_paths"]):
        _check_given_path(suite, tree, held, stated, group_id, provisional_context, number)
        if stated["sender"] not in members:
            raise VectorMismatchError(f"update path {number}: its sender has no private state")
        _check_fresh_path(
            suite, tree, held, members[stated["sender"]], group_id, provisional_context, number
        )


def _check_given_path(
    suite: CipherSuite,
    tree: RatchetTree,
    held: Mapping[int, TreePrivateKeys],
    stated: Mapping[str, Any],
    group_id: bytes,
    provisional_context: Callable[[bytes], bytes],
    number: int,
) -> None:
    sender: int = stated["sender"]
    update_path = UpdatePath.from_bytes(unhex(stated["update_path"]))
    what = f"update path {number} from leaf {sender}"
    verify_leaf_signature(suite, update_path.leaf_node, group_id=group_id, leaf_index=sender)
    expect_equal(f"{what}: path secrets listed", len(stated["path_secrets"]), tree.leaf_count)

    merged: RatchetTree | None = None
    for receiver, private_keys in held.items():
        if receiver == sender:
            continue
        staged = tree.copy()
        result = process_update_path(
            suite,
            staged,
            sender,
            update_path,
            private_keys,
            provisional_context=provisional_context,
        )
        where = f"{what}, at leaf {receiver}"
        expect_hex(f"{where}: path secret", result.path_secret, stated["path_secrets"][receiver])
        expect_hex(f"{where}: commit secret", result.commit_secret.value, stated["commit_secret"])
        expect_hex(f"{where}: tree hash after", result.tree_hash, stated["tree_hash_after"])
        result.private_keys.check_against(staged)
        if merged is not None:
            expect_equal(f"{where}: merged tree", staged, merged)
        merged = staged
    if merged is None:
        raise VectorMismatchError(f"{what}: no other leaf has private state to check it")
    verify_parent_hashes(suite, merged)
    expect_hex(f"{what}: tree hash after", tree_hash(suite, merged), stated["tree_hash_after"])


def _check_fresh_path(
    suite: CipherSuite,
    tree: RatchetTree,
    held: Mapping[int, TreePrivateKeys],
    sender_entry: Mapping[str, Any],
    group_id: bytes,
    provisional_context: Callable[[bytes], bytes],
    number: int,
) -> None:
    sender: int = sender_entry["index"]
    what = f"fresh update path {number} from leaf {sender}"
    signing_key = suite.signature.load_private_key(unhex(sender_entry["signature_priv"]))
    staged = tree.copy()
    created = create_update_path(
        suite,
        staged,
        sender,
        leaf=tree.member(sender),
        signing_key=signing_key,
        group_id=group_id,
        provisional_context=provisional_context,
        rng=CaseRandom(b"treekem fresh path %d" % number),
    )
    update_path = UpdatePath.from_bytes(created.update_path.to_bytes())
    verify_leaf_signature(suite, update_path.leaf_node, group_id=group_id, leaf_index=sender)
    verify_parent_hashes(suite, staged)
    expect_equal(f"{what}: tree hash", created.tree_hash, tree_hash(suite, staged))
    created.private_keys.check_against(staged)

    receivers = [index for index in held if index != sender]
    if not receivers:
        raise VectorMismatchError(f"{what}: no other leaf has private state to check it")
    for receiver in receivers:
        received = tree.copy()
        result = process_update_path(
            suite,
            received,
            sender,
            update_path,
            held[receiver],
            provisional_context=provisional_context,
        )
        expect_equal(
            f"{what}: commit secret at leaf {receiver}",
            result.commit_secret.value,
            created.commit_secret.value,
        )
        expect_equal(f"{what}: tree at leaf {receiver}", received, staged)
        result.private_keys.check_against(received)
