"""PSK secret (RFC 9420 §8.4): binding to id, position and count; the empty case."""

from __future__ import annotations

import pytest

from crypto.labels import expand_with_label
from crypto.suites import CipherSuite, cipher_suite
from protocol.errors import ValidationError
from protocol.mls.constants import ResumptionPSKUsage
from protocol.mls.proposals import ExternalPSKID, ResumptionPSKID
from protocol.mls.psk import PskInput, derive_psk_secret, encode_psk_label


@pytest.fixture(params=[1, 2])
def suite(request: pytest.FixtureRequest) -> CipherSuite:
    return cipher_suite(request.param)


def _external(name: bytes, nonce: int = 0) -> ExternalPSKID:
    return ExternalPSKID(psk_id=name, psk_nonce=bytes([nonce]) * 32)


A = PskInput(_external(b"a"), b"secret a")
B = PskInput(_external(b"b"), b"secret b")


def test_no_psks_give_the_zero_secret(suite: CipherSuite) -> None:
    assert derive_psk_secret(suite, []).value == bytes(suite.hash_size)


def test_one_psk_by_hand(suite: CipherSuite) -> None:
    zero = bytes(suite.hash_size)
    extracted = suite.extract(zero, A.psk)
    label = A.psk_id.to_bytes() + b"\x00\x00\x00\x01"
    psk_input = expand_with_label(suite, extracted, "derived psk", label, suite.hash_size)
    assert derive_psk_secret(suite, [A]).value == suite.extract(psk_input, zero)


def test_psk_label_layout() -> None:
    psk_id = _external(b"id")
    label = encode_psk_label(psk_id, 2, 5)
    assert label == psk_id.to_bytes() + bytes([0, 2, 0, 5])
    for index, count in [(5, 5), (-1, 5), (0, 0), (0, 1 << 16)]:
        with pytest.raises(ValidationError):
            encode_psk_label(psk_id, index, count)


def test_order_matters(suite: CipherSuite) -> None:
    assert derive_psk_secret(suite, [A, B]).value != derive_psk_secret(suite, [B, A]).value


def test_id_nonce_and_count_are_bound(suite: CipherSuite) -> None:
    base = derive_psk_secret(suite, [A]).value
    renamed = PskInput(_external(b"other"), A.psk)
    renonced = PskInput(_external(b"a", nonce=1), A.psk)
    assert derive_psk_secret(suite, [renamed]).value != base
    assert derive_psk_secret(suite, [renonced]).value != base
    # The same PSK as the first of two is labelled with count 2.
    assert derive_psk_secret(suite, [A, A]).value != base


def test_resumption_ids_are_accepted(suite: CipherSuite) -> None:
    resumption = ResumptionPSKID(
        usage=ResumptionPSKUsage.APPLICATION,
        psk_group_id=b"case-1",
        psk_epoch=7,
        psk_nonce=bytes(32),
    )
    secret = derive_psk_secret(suite, [PskInput(resumption, bytes(suite.hash_size)), A])
    assert len(secret.value) == suite.hash_size


def test_psk_value_not_in_repr() -> None:
    assert "secret a" not in repr(A)
    assert b"secret a".hex() not in repr(A)
