"""Transcript hashes and confirmation tag (RFC 9420 §8.2): chaining and tag checks."""

from __future__ import annotations

import pytest

from crypto.suites import CipherSuite, cipher_suite
from protocol.errors import ValidationError
from protocol.mls.transcript import (
    ConfirmationTagError,
    TranscriptHashes,
    confirmation_tag,
    confirmed_transcript_hash,
    interim_transcript_hash,
    verify_confirmation_tag,
)

CONFIRMED_INPUT = b"\x00\x01 encoded commit and signature"


@pytest.fixture(params=[1, 2])
def suite(request: pytest.FixtureRequest) -> CipherSuite:
    return cipher_suite(request.param)


def _interim_input(tag: bytes) -> bytes:
    return bytes([len(tag)]) + tag  # opaque<V> of a tag shorter than 64 bytes


def test_initial_hashes_are_empty() -> None:
    assert TranscriptHashes() == TranscriptHashes(confirmed=b"", interim=b"")


def test_hashes_chain_as_specified(suite: CipherSuite) -> None:
    key = bytes(suite.hash_size)
    start = TranscriptHashes()
    confirmed = confirmed_transcript_hash(suite, start.interim, CONFIRMED_INPUT)
    assert confirmed == suite.hash(CONFIRMED_INPUT)
    tag = confirmation_tag(suite, key, confirmed)
    after = start.after_commit(suite, CONFIRMED_INPUT, _interim_input(tag))
    assert after.confirmed == confirmed
    assert after.interim == suite.hash(confirmed + _interim_input(tag))
    assert after.interim == interim_transcript_hash(suite, confirmed, _interim_input(tag))
    second = after.after_commit(suite, CONFIRMED_INPUT, _interim_input(tag))
    assert second.confirmed == suite.hash(after.interim + CONFIRMED_INPUT)
    assert second.confirmed != after.confirmed


def test_confirmation_tag_verifies(suite: CipherSuite) -> None:
    key = bytes(range(suite.hash_size))
    confirmed = suite.hash(b"transcript")
    tag = confirmation_tag(suite, key, confirmed)
    assert tag == suite.mac(key, confirmed)
    verify_confirmation_tag(suite, key, confirmed, tag)


def test_tampered_tag_is_refused(suite: CipherSuite) -> None:
    key = bytes(range(suite.hash_size))
    confirmed = suite.hash(b"transcript")
    tag = confirmation_tag(suite, key, confirmed)
    flipped = bytes([tag[0] ^ 1]) + tag[1:]
    for bad in (flipped, tag[:-1], tag + b"\x00", b""):
        with pytest.raises(ConfirmationTagError) as info:
            verify_confirmation_tag(suite, key, confirmed, bad)
        assert info.value.code == "confirmation_tag"
        assert isinstance(info.value, ValidationError)


def test_wrong_key_or_transcript_is_refused(suite: CipherSuite) -> None:
    key = bytes(range(suite.hash_size))
    confirmed = suite.hash(b"transcript")
    tag = confirmation_tag(suite, key, confirmed)
    with pytest.raises(ConfirmationTagError):
        verify_confirmation_tag(suite, bytes(suite.hash_size), confirmed, tag)
    with pytest.raises(ConfirmationTagError):
        verify_confirmation_tag(suite, key, suite.hash(b"forked transcript"), tag)
