"""crypto.labels: the RFC 9420 §5 labeled functions in every suite, their domain
separation, and the crypto-basics interoperability vectors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crypto.errors import (
    CasecircleError,
    InvalidKeyError,
    InvalidLengthError,
    InvalidSignatureError,
    InvalidTagError,
)
from crypto.labels import (
    decrypt_with_label,
    derive_secret,
    derive_tree_secret,
    encrypt_with_label,
    expand_with_label,
    label_expander,
    ref_hash,
    sign_with_label,
    verify_with_label,
)
from crypto.suites import SUPPORTED_SUITE_IDS, CipherSuite, cipher_suite
from crypto.tls import opaque
from protocol.mls.vectors.crypto_basics import run_case
from tests.helpers import DeterministicRandom


@pytest.fixture(params=SUPPORTED_SUITE_IDS, ids=lambda i: f"suite{i}")
def suite(request: pytest.FixtureRequest) -> CipherSuite:
    return cipher_suite(request.param)


def test_sign_and_verify_with_label(suite: CipherSuite) -> None:
    key = suite.signature.generate(DeterministicRandom(suite.name))
    signature = sign_with_label(suite, key, "LeafNodeTBS", b"content")
    verify_with_label(suite, key.public_key, "LeafNodeTBS", b"content", signature)
    assert sign_with_label(suite, key, b"LeafNodeTBS", b"content") == signature  # deterministic
    with pytest.raises(InvalidSignatureError):
        verify_with_label(suite, key.public_key, "GroupInfoTBS", b"content", signature)
    with pytest.raises(InvalidSignatureError):
        verify_with_label(suite, key.public_key, "LeafNodeTBS", b"content!", signature)
    with pytest.raises(InvalidSignatureError):  # the label is bound, not just prepended
        suite.signature.verify(key.public_key, b"content", signature)
    content = opaque(b"MLS 1.0 LeafNodeTBS") + opaque(b"content")
    suite.signature.verify(key.public_key, content, signature)


def test_encrypt_and_decrypt_with_label(suite: CipherSuite) -> None:
    rng = DeterministicRandom(suite.name)
    private_key, public_key = suite.kem.generate_key_pair(rng)
    sealed = encrypt_with_label(suite, public_key, "UpdatePathNode", b"context", b"secret", rng)
    assert len(sealed.kem_output) == suite.kem.n_enc
    opened = decrypt_with_label(
        suite, private_key, "UpdatePathNode", b"context", sealed.kem_output, sealed.ciphertext
    )
    assert opened == b"secret"
    for label, context in (("Welcome", b"context"), ("UpdatePathNode", b"other context")):
        with pytest.raises(InvalidTagError):
            decrypt_with_label(
                suite, private_key, label, context, sealed.kem_output, sealed.ciphertext
            )
    with pytest.raises(InvalidKeyError):
        decrypt_with_label(suite, private_key, "UpdatePathNode", b"context", b"", sealed.ciphertext)


def test_derivations_have_the_requested_lengths(suite: CipherSuite) -> None:
    secret = bytes(suite.hash_size)
    assert len(derive_secret(suite, secret, "epoch")) == suite.hash_size
    assert len(expand_with_label(suite, secret, "key", b"", suite.aead.key_size)) == (
        suite.aead.key_size
    )
    assert len(derive_tree_secret(suite, secret, "nonce", 7, 12)) == 12
    assert derive_tree_secret(suite, secret, "nonce", 7, 12) != derive_tree_secret(
        suite, secret, "nonce", 8, 12
    )
    assert derive_secret(suite, secret, "a") != derive_secret(suite, secret, "b")
    assert ref_hash(suite, "MLS 1.0 KeyPackage Reference", b"kp") == suite.hash(
        opaque(b"MLS 1.0 KeyPackage Reference") + opaque(b"kp")
    )


# --- crypto-basics.json (mlswg interoperability vectors) -----------------------------------


def _crypto_basics(vectors_dir: Path) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(
        (vectors_dir / "crypto-basics.json").read_text(encoding="utf-8")
    )
    return cases


def test_crypto_basics_vectors_pass(vectors_dir: Path) -> None:
    cases = _crypto_basics(vectors_dir)
    assert cases
    for case in cases:
        run_case(case)


@pytest.mark.parametrize(
    ("area", "field"),
    [
        ("ref_hash", "out"),
        ("expand_with_label", "out"),
        ("derive_secret", "out"),
        ("derive_tree_secret", "out"),
        ("sign_with_label", "signature"),
        ("sign_with_label", "content"),
        ("sign_with_label", "pub"),
        ("encrypt_with_label", "ciphertext"),
        ("encrypt_with_label", "kem_output"),
        ("encrypt_with_label", "plaintext"),
        ("encrypt_with_label", "priv"),
    ],
)
def test_crypto_basics_notices_a_changed_value(vectors_dir: Path, area: str, field: str) -> None:
    """A case with one flipped bit must fail: the handler checks every value it is given."""
    for case in _crypto_basics(vectors_dir):
        changed = json.loads(json.dumps(case))
        value = bytearray.fromhex(changed[area][field])
        value[-1] ^= 0x01
        changed[area][field] = value.hex()
        with pytest.raises(CasecircleError):
            run_case(changed)


# --- Misuse --------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [-1, 0x10000, 70000])
def test_expand_with_label_refuses_a_length_kdf_label_cannot_hold(
    suite: CipherSuite, length: int
) -> None:
    with pytest.raises(InvalidLengthError):
        expand_with_label(suite, bytes(suite.hash_size), "key", b"", length)


def test_sign_with_label_refuses_a_key_of_another_scheme(suite: CipherSuite) -> None:
    for other in SUPPORTED_SUITE_IDS:
        scheme = cipher_suite(other).signature
        key = scheme.generate(DeterministicRandom(scheme.name))
        if scheme == suite.signature:
            suite.signature.verify(
                key.public_key,
                opaque(b"MLS 1.0 LeafNodeTBS") + opaque(b"content"),
                sign_with_label(suite, key, "LeafNodeTBS", b"content"),
            )
            continue
        with pytest.raises(InvalidKeyError):
            sign_with_label(suite, key, "LeafNodeTBS", b"content")


def test_label_expander_is_expand_with_label(suite: CipherSuite) -> None:
    secret = bytes(range(suite.hash_size))
    for label, length in (("casecircle item key", 16), ("x", suite.hash_size), ("y", 100)):
        expander = label_expander(suite, secret, label, length)
        for context in (b"", bytes(range(16)), b"c" * 70):
            assert expander.expand(opaque(context)) == expand_with_label(
                suite, secret, label, context, length
            )
    with pytest.raises(InvalidLengthError):
        label_expander(suite, secret, "x", 0x10000)
    with pytest.raises(InvalidLengthError):
        label_expander(suite, b"", "x", 16)
