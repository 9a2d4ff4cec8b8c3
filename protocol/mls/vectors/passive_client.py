"""passive-client-*.json and interop-passive-*.json: join by Welcome, then follow commits.

Per case: the private keys match the KeyPackage; joining from the Welcome (tree from its
extension or from ``ratchet_tree``, with the given external PSKs) gives the initial epoch
authenticator; then, per epoch, the proposals are received, the commit (proposals by
reference, PublicMessage or PrivateMessage, from members or the external senders the group
names) is processed and merged, and the epoch authenticator matches (§12). Key packages in
these vectors are long expired, so lifetimes are not checked — here only.
"""

from __future__ import annotations

from crypto.suites import cipher_suite
from protocol.mls.framing import MLSMessage
from protocol.mls.group import Group
from protocol.mls.joining import join_from_welcome
from protocol.mls.key_package import KeyPackage
from protocol.mls.leaf_validation import LifetimeCheck
from protocol.mls.proposals import ExternalPSKID, PreSharedKeyID
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.vectors import VectorCase
from protocol.mls.vectors.checks import VectorMismatchError, expect_equal, expect_hex, unhex
from protocol.mls.welcome import Welcome

NO_LIFETIME_CHECK = LifetimeCheck.SKIP


def run_case(case: VectorCase) -> None:
    suite = cipher_suite(int(case["cipher_suite"]))
    key_package = MLSMessage.from_bytes(unhex(case["key_package"])).body
    welcome = MLSMessage.from_bytes(unhex(case["welcome"])).body
    if not isinstance(key_package, KeyPackage) or not isinstance(welcome, Welcome):
        raise VectorMismatchError("key_package and welcome must be of their wire formats")
    init_key = suite.kem.deserialize_private_key(unhex(case["init_priv"]))
    encryption_key = suite.kem.deserialize_private_key(unhex(case["encryption_priv"]))
    signing_key = suite.signature.load_private_key(unhex(case["signature_priv"]))
    expect_equal("init_priv", init_key.public_key(), key_package.init_key)
    expect_equal(
        "encryption_priv", encryption_key.public_key(), key_package.leaf_node.encryption_key
    )
    expect_equal("signature_priv", signing_key.public_key, key_package.leaf_node.signature_key)

    external_psks = {unhex(p["psk_id"]): unhex(p["psk"]) for p in case["external_psks"]}

    def psks(psk_id: PreSharedKeyID) -> bytes | None:
        return external_psks.get(psk_id.psk_id) if isinstance(psk_id, ExternalPSKID) else None

    tree = (
        None
        if case["ratchet_tree"] is None
        else RatchetTree.from_bytes(unhex(case["ratchet_tree"]))
    )
    state = join_from_welcome(
        suite, welcome, key_package, init_key, encryption_key, NO_LIFETIME_CHECK,
        ratchet_tree=tree, psks=psks,
    )  # fmt: skip
    group = Group(state, signing_key, psks=psks)
    expect_hex(
        "initial epoch authenticator",
        group.epoch_authenticator,
        case["initial_epoch_authenticator"],
    )
    for number, epoch in enumerate(case["epochs"]):
        for proposal in epoch["proposals"]:
            group.process(unhex(proposal), NO_LIFETIME_CHECK)
        processed = group.process(unhex(epoch["commit"]), NO_LIFETIME_CHECK)
        if processed.staged is None:
            raise VectorMismatchError(f"epoch {number}: the commit was not staged")
        group.merge(processed.staged)
        expect_hex(
            f"epoch {number} authenticator", group.epoch_authenticator, epoch["epoch_authenticator"]
        )
