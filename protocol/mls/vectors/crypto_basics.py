"""crypto-basics.json: the labeled functions of RFC 9420 §5 against the published answers.

Per case: RefHash, ExpandWithLabel, DeriveSecret and DeriveTreeSecret outputs; the given
SignWithLabel signature verifies under ``pub`` and a fresh one made with ``priv`` verifies
too; the given EncryptWithLabel output decrypts with ``priv`` and a fresh encryption to
``pub`` decrypts again. Both key pairs must also be consistent (``priv`` yields ``pub``).

The fresh encryption needs randomness. A vector run must be reproducible and protocol/
never reads the OS random source, so it is SHA-256 in counter mode over the case's own
plaintext: fine for checking a round trip, never for real keys.
"""

from __future__ import annotations

from crypto.labels import (
    decrypt_with_label,
    derive_secret,
    derive_tree_secret,
    encrypt_with_label,
    expand_with_label,
    ref_hash,
    sign_with_label,
    verify_with_label,
)
from crypto.suites import CipherSuite, cipher_suite
from protocol.mls.vectors import VectorCase
from protocol.mls.vectors.checks import CaseRandom, expect_equal, expect_hex, unhex


def run_case(case: VectorCase) -> None:
    suite = cipher_suite(case["cipher_suite"])
    _check_derivations(suite, case)
    _check_signature(suite, case["sign_with_label"])
    _check_encryption(suite, case["encrypt_with_label"])


def _check_derivations(suite: CipherSuite, case: VectorCase) -> None:
    v = case["ref_hash"]
    expect_hex("ref_hash", ref_hash(suite, v["label"], unhex(v["value"])), v["out"])

    v = case["expand_with_label"]
    out = expand_with_label(suite, unhex(v["secret"]), v["label"], unhex(v["context"]), v["length"])
    expect_hex("expand_with_label", out, v["out"])

    v = case["derive_secret"]
    expect_hex("derive_secret", derive_secret(suite, unhex(v["secret"]), v["label"]), v["out"])

    v = case["derive_tree_secret"]
    out = derive_tree_secret(suite, unhex(v["secret"]), v["label"], v["generation"], v["length"])
    expect_hex("derive_tree_secret", out, v["out"])


def _check_signature(suite: CipherSuite, v: VectorCase) -> None:
    label, content, public_key = v["label"], unhex(v["content"]), unhex(v["pub"])
    key = suite.signature.load_private_key(unhex(v["priv"]))
    expect_equal("sign_with_label public key of priv", key.public_key, public_key)
    verify_with_label(suite, public_key, label, content, unhex(v["signature"]))
    fresh = sign_with_label(suite, key, label, content)
    verify_with_label(suite, public_key, label, content, fresh)


def _check_encryption(suite: CipherSuite, v: VectorCase) -> None:
    label, context = v["label"], unhex(v["context"])
    plaintext, public_key = unhex(v["plaintext"]), unhex(v["pub"])
    private_key = suite.kem.deserialize_private_key(unhex(v["priv"]))
    expect_equal("encrypt_with_label public key of priv", private_key.public_key(), public_key)
    opened = decrypt_with_label(
        suite, private_key, label, context, unhex(v["kem_output"]), unhex(v["ciphertext"])
    )
    expect_equal("decrypt_with_label", opened, plaintext)

    rng = CaseRandom(b"crypto-basics round trip" + plaintext + context)
    fresh = encrypt_with_label(suite, public_key, label, context, plaintext, rng)
    reopened = decrypt_with_label(
        suite, private_key, label, context, fresh.kem_output, fresh.ciphertext
    )
    expect_equal("encrypt_with_label round trip", reopened, plaintext)
