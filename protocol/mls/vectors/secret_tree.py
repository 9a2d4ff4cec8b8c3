"""secret-tree.json: sender-data key/nonce, and per-leaf ratchet keys (§6.3.2, §9).

The listed generations of each leaf are taken through the receiving ratchet API
(:meth:`~protocol.mls.secret_tree.SecretTree.key_for`), the same path a decrypting member
uses, in increasing order. The generations are a set the generator chose, not a live
peer's messages, so the forward window is opened to the whole ``uint32`` range here.
"""

from __future__ import annotations

from crypto.suites import cipher_suite
from protocol.mls.secret_tree import (
    MAX_GENERATION,
    RatchetKind,
    RatchetPolicy,
    SecretTree,
    sender_data_key,
)
from protocol.mls.vectors import VectorCase
from protocol.mls.vectors.checks import expect_hex, unhex


def run_case(case: VectorCase) -> None:
    suite = cipher_suite(case["cipher_suite"])
    sender_data = case["sender_data"]
    derived = sender_data_key(
        suite, unhex(sender_data["sender_data_secret"]), unhex(sender_data["ciphertext"])
    )
    expect_hex("sender_data key", derived.key, sender_data["key"])
    expect_hex("sender_data nonce", derived.nonce, sender_data["nonce"])

    leaves = case["leaves"]
    policy = RatchetPolicy(max_forward_distance=MAX_GENERATION, max_skipped_keys=0)
    tree = SecretTree(suite, unhex(case["encryption_secret"]), len(leaves), policy=policy)
    for leaf_index, generations in enumerate(leaves):
        for entry in sorted(generations, key=lambda e: int(e["generation"])):
            generation: int = entry["generation"]
            where = f"leaf {leaf_index} generation {generation}"
            handshake = tree.key_for(leaf_index, RatchetKind.HANDSHAKE, generation)
            expect_hex(f"{where} handshake_key", handshake.key, entry["handshake_key"])
            expect_hex(f"{where} handshake_nonce", handshake.nonce, entry["handshake_nonce"])
            application = tree.key_for(leaf_index, RatchetKind.APPLICATION, generation)
            expect_hex(f"{where} application_key", application.key, entry["application_key"])
            expect_hex(f"{where} application_nonce", application.nonce, entry["application_nonce"])
