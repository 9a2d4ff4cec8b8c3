"""Key schedule (RFC 9420 §8): stage by stage, exporter, external init, redaction."""

from __future__ import annotations

import hashlib

import pytest

from crypto.errors import InvalidLengthError
from crypto.suites import CipherSuite, cipher_suite
from protocol.errors import ValidationError
from protocol.mls.group_context import GroupContext
from protocol.mls.key_schedule import (
    CommitSecret,
    EpochSecrets,
    EpochStart,
    InitSecret,
    JoinerSecret,
    PskSecret,
    WelcomeSecret,
    derive_epoch_secrets,
    derive_joiner_secret,
    derive_welcome_secret,
    external_init_for_joiner,
    external_init_for_member,
    mls_exporter,
    start_epoch,
    welcome_key,
)

SECRET_FIELDS = (
    "sender_data_secret",
    "encryption_secret",
    "exporter_secret",
    "external_secret",
    "confirmation_key",
    "membership_key",
    "resumption_psk",
    "epoch_authenticator",
)


class CountingRandom:
    """Deterministic bytes for tests (never for real keys)."""

    def __init__(self) -> None:
        self._counter = 0

    def random_bytes(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += hashlib.sha256(self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
        return out[:n]


@pytest.fixture(params=[1, 2, 3])
def suite(request: pytest.FixtureRequest) -> CipherSuite:
    return cipher_suite(request.param)


def _context(suite: CipherSuite, epoch: int = 1) -> bytes:
    return GroupContext(
        cipher_suite=suite.suite_id,
        group_id=b"case-1",
        epoch=epoch,
        tree_hash=bytes(suite.hash_size),
        confirmed_transcript_hash=bytes(suite.hash_size),
    ).to_bytes()


def _secret(suite: CipherSuite, byte: int) -> bytes:
    return bytes([byte]) * suite.hash_size


def _start(suite: CipherSuite, *, psk: int = 0, epoch: int = 1, commit: int = 2) -> EpochStart:
    return start_epoch(
        suite,
        InitSecret(_secret(suite, 1)),
        CommitSecret(_secret(suite, commit)),
        PskSecret(_secret(suite, psk)),
        _context(suite, epoch),
    )


def test_stages_compose_into_start_epoch(suite: CipherSuite) -> None:
    start = _start(suite, psk=7)
    joiner = derive_joiner_secret(
        suite, InitSecret(_secret(suite, 1)), CommitSecret(_secret(suite, 2)), _context(suite)
    )
    psk = PskSecret(_secret(suite, 7))
    assert joiner.value == start.joiner_secret.value
    assert derive_welcome_secret(suite, joiner, psk).value == start.welcome_secret.value
    # A new member holding only the joiner secret reaches the same epoch.
    joined = derive_epoch_secrets(suite, joiner, psk, _context(suite))
    for name in SECRET_FIELDS:
        assert getattr(joined, name) == getattr(start.secrets, name)
    assert joined.init_secret.value == start.secrets.init_secret.value


def test_all_epoch_secrets_are_distinct_and_nh_long(suite: CipherSuite) -> None:
    secrets = _start(suite).secrets
    values = [getattr(secrets, name) for name in SECRET_FIELDS]
    values.append(secrets.init_secret.value)
    assert len(set(values)) == len(values)
    assert all(len(v) == suite.hash_size for v in values)


@pytest.mark.parametrize(
    "change", [{"psk": 9}, {"epoch": 2}, {"commit": 3}], ids=["psk", "context", "commit"]
)
def test_every_input_changes_the_epoch(suite: CipherSuite, change: dict[str, int]) -> None:
    base = _start(suite).secrets
    other = _start(suite, **change).secrets
    for name in SECRET_FIELDS:
        assert getattr(base, name) != getattr(other, name)


def test_psk_changes_welcome_but_not_joiner_secret(suite: CipherSuite) -> None:
    base, other = _start(suite), _start(suite, psk=9)
    assert base.joiner_secret.value == other.joiner_secret.value
    assert base.welcome_secret.value != other.welcome_secret.value


def test_chained_epochs_use_the_previous_init_secret(suite: CipherSuite) -> None:
    first = _start(suite)
    second = start_epoch(
        suite,
        first.secrets.init_secret,
        CommitSecret.zero(suite),
        PskSecret.zero(suite),
        _context(suite, 2),
    )
    assert second.secrets.encryption_secret != first.secrets.encryption_secret


@pytest.mark.parametrize("length_delta", [-1, 1])
def test_secrets_of_the_wrong_length_are_refused(suite: CipherSuite, length_delta: int) -> None:
    wrong = bytes(suite.hash_size + length_delta)
    with pytest.raises(ValidationError):
        derive_joiner_secret(suite, InitSecret(wrong), CommitSecret.zero(suite), _context(suite))
    with pytest.raises(ValidationError):
        derive_welcome_secret(suite, JoinerSecret(wrong), PskSecret.zero(suite))
    with pytest.raises(ValidationError):
        derive_epoch_secrets(
            suite, JoinerSecret(_secret(suite, 1)), PskSecret(wrong), _context(suite)
        )
    with pytest.raises(ValidationError):
        welcome_key(suite, WelcomeSecret(wrong))


def test_exporter(suite: CipherSuite) -> None:
    secrets = _start(suite).secrets
    key = secrets.export("casecircle note", b"group", 32)
    assert len(key) == 32
    assert key == mls_exporter(suite, secrets.exporter_secret, b"casecircle note", b"group", 32)
    assert key != secrets.export("casecircle ring", b"group", 32)
    assert key != secrets.export("casecircle note", b"other group", 32)
    assert secrets.export("casecircle note", b"group", 16) != key[:16]  # length is bound in
    for bad_length in (0, 255 * suite.hash_size + 1, 1 << 16):
        with pytest.raises(InvalidLengthError):
            secrets.export("casecircle note", b"group", bad_length)


def test_welcome_key_opens_what_it_seals(suite: CipherSuite) -> None:
    start = _start(suite)
    key = welcome_key(suite, start.welcome_secret)
    assert len(key.key) == suite.aead.key_size
    assert len(key.nonce) == suite.aead.nonce_size
    sealed = suite.aead.seal(key.key, key.nonce, b"", b"group info")
    joined = welcome_key(
        suite, derive_welcome_secret(suite, start.joiner_secret, PskSecret.zero(suite))
    )
    assert suite.aead.open(joined.key, joined.nonce, b"", sealed) == b"group info"


def test_external_init_agrees_between_joiner_and_members(suite: CipherSuite) -> None:
    secrets = _start(suite).secrets
    _, public = suite.kem.derive_key_pair(secrets.external_secret)
    assert secrets.external_public_key() == public
    assert suite.kem.public_key_of(secrets.external_key_pair()[0]) == public
    kem_output, joiner_init = external_init_for_joiner(suite, public, CountingRandom())
    member_init = external_init_for_member(secrets, kem_output)
    assert member_init.value == joiner_init.value
    assert len(member_init.value) == suite.hash_size
    other_output, other_init = external_init_for_joiner(suite, public, CountingRandom())
    # The joiner's only randomness is the source it is given.
    assert (other_output, other_init.value) == (kem_output, joiner_init.value)


def test_nothing_secret_in_reprs(suite: CipherSuite) -> None:
    start = _start(suite)
    shown = " ".join(
        [
            repr(start),
            repr(start.secrets),
            repr(start.joiner_secret),
            repr(InitSecret(_secret(suite, 1))),
            repr(welcome_key(suite, start.welcome_secret)),
        ]
    )
    secrets = [getattr(start.secrets, name) for name in SECRET_FIELDS]
    secrets += [start.joiner_secret.value, start.welcome_secret.value, _secret(suite, 1)]
    for value in secrets:
        assert value.hex() not in shown
        assert repr(value) not in shown
    assert f"0x{suite.suite_id:04x}" in repr(start.secrets)


def test_secret_types_do_not_compare_by_value(suite: CipherSuite) -> None:
    value = _secret(suite, 1)
    assert InitSecret(value) != InitSecret(value)
    assert isinstance(_start(suite).secrets, EpochSecrets)
