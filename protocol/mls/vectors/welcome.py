"""welcome.json: open a Welcome with the joiner's key package and init key (§12.4.3.1).

Find the GroupSecrets for the KeyPackage, decrypt them and the GroupInfo, verify the
GroupInfo signature with ``signer_pub``, and recompute the confirmation tag from the joiner
secret (no PSKs). The key package is validated too, with the lifetime checks off
(``LifetimeCheck.SKIP``): the vectors' packages carry lifetimes no client of ours would
accept.
"""

from __future__ import annotations

from crypto.suites import cipher_suite
from protocol.mls.framing import MLSMessage
from protocol.mls.key_package import KeyPackage
from protocol.mls.key_packages import validate_key_package
from protocol.mls.leaf_validation import LifetimeCheck
from protocol.mls.transcript import confirmation_tag
from protocol.mls.vectors import VectorCase
from protocol.mls.vectors.checks import VectorMismatchError, expect_equal, unhex
from protocol.mls.welcome import Welcome
from protocol.mls.welcome_protection import open_welcome


def _key_package(raw: str) -> KeyPackage:
    body = MLSMessage.from_bytes(unhex(raw)).body
    if not isinstance(body, KeyPackage):
        raise VectorMismatchError(f"expected a KeyPackage, got {type(body).__name__}")
    return body


def _welcome(raw: str) -> Welcome:
    body = MLSMessage.from_bytes(unhex(raw)).body
    if not isinstance(body, Welcome):
        raise VectorMismatchError(f"expected a Welcome, got {type(body).__name__}")
    return body


def run_case(case: VectorCase) -> None:
    suite = cipher_suite(case["cipher_suite"])
    key_package = _key_package(case["key_package"])
    welcome = _welcome(case["welcome"])
    validate_key_package(suite, key_package, now=LifetimeCheck.SKIP)
    init_private_key = suite.kem.deserialize_private_key(unhex(case["init_priv"]))
    expect_equal("init_key", init_private_key.public_key(), key_package.init_key)

    opened = open_welcome(suite, welcome, key_package, init_private_key)
    expect_equal("group secrets psks", opened.group_secrets.psks, ())
    joined = opened.verify(unhex(case["signer_pub"]))

    group_info = joined.group_info
    recomputed = confirmation_tag(
        suite,
        joined.epoch_secrets.confirmation_key,
        group_info.group_context.confirmed_transcript_hash,
    )
    expect_equal("confirmation_tag", recomputed, group_info.confirmation_tag)
