"""crypto.keystore: the documented layout, every header field authenticated, the floor and the
ceiling enforced before Argon2id runs, rollback, truncation and the key commitment
(ATTACKS.md K1–K4, K6, E7, E8).

Argon2id runs with tiny costs here, allowed only through ``insecure_floor_for_tests``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import pytest
from argon2.exceptions import HashingError
from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import keystore
from crypto.errors import CryptoError, InvalidLengthError
from crypto.keystore import (
    CEILING,
    COMMITMENT_SIZE,
    DEFAULT_PARAMS,
    FLOOR,
    HEADER_SIZE,
    MAGIC,
    MAX_PAYLOAD_SIZE,
    KeystoreError,
    KeystoreFormatError,
    KeystoreHeader,
    KeystoreParams,
    KeystoreParamsError,
    KeystorePassphraseError,
    KeystoreRollbackError,
    open_keystore,
    rekey,
    seal_keystore,
)
from tests.crypto.multikey_gcm import two_key_ciphertext
from tests.helpers import DeterministicRandom

TEST_FLOOR = KeystoreParams(memory_kib=8, iterations=1, parallelism=1)
TINY = KeystoreParams(memory_kib=32, iterations=1, parallelism=1)
PASSPHRASE = b"correct horse battery staple"
PAYLOAD = b"device signing key and storage key"
MIB = 1024

# name: (offset, size) in the header, as the module docstring lays it out
FIELDS = {
    "magic": (0, 8),
    "version": (8, 2),
    "memory_kib": (10, 4),
    "iterations": (14, 4),
    "parallelism": (18, 4),
    "salt": (22, 16),
    "generation": (38, 8),
    "ciphertext_length": (46, 4),
}


def seal(
    payload: bytes = PAYLOAD,
    *,
    passphrase: bytes = PASSPHRASE,
    generation: int = 7,
    params: KeystoreParams = TINY,
    seed: str = "keystore",
) -> bytes:
    return seal_keystore(
        passphrase,
        payload,
        params,
        generation,
        DeterministicRandom(seed),
        insecure_floor_for_tests=TEST_FLOOR,
    )


def unlock(
    data: bytes, passphrase: bytes = PASSPHRASE, *, min_generation: int = 0
) -> tuple[bytes, KeystoreHeader]:
    return open_keystore(
        passphrase, data, min_generation=min_generation, insecure_floor_for_tests=TEST_FLOOR
    )


def with_field(data: bytes, name: str, value: int | bytes) -> bytes:
    offset, size = FIELDS[name]
    raw = value if isinstance(value, bytes) else value.to_bytes(size, "big")
    assert len(raw) == size
    return data[:offset] + raw + data[offset + size :]


def flip(data: bytes, position: int, mask: int = 0x01) -> bytes:
    return data[:position] + bytes([data[position] ^ mask]) + data[position + 1 :]


SEALED = seal()  # made before any test installs a spy


class Argon2Spy:
    """Stands in for ``hash_secret_raw``: records each call, then runs the real function."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> bytes:
        self.calls.append(kwargs)
        return hash_secret_raw(**kwargs)


@pytest.fixture
def argon2_spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Argon2Spy]:
    spy = Argon2Spy()
    monkeypatch.setattr(keystore, "hash_secret_raw", spy)
    yield spy


# --- round trips and the documented layout -------------------------------------------------


def test_round_trip_returns_payload_and_authenticated_header() -> None:
    payload, header = unlock(seal())
    assert payload == PAYLOAD
    assert header.version == 1
    assert header.params == TINY
    assert header.generation == 7
    assert header.ciphertext_length == len(PAYLOAD) + 16
    assert len(header.salt) == 16


@settings(max_examples=40, deadline=None)
@given(
    payload=st.binary(max_size=2048),
    passphrase=st.binary(max_size=64),
    generation=st.integers(min_value=0, max_value=(1 << 64) - 1),
    seed=st.text(max_size=8),
)
def test_round_trip_any_payload_passphrase_and_generation(
    payload: bytes, passphrase: bytes, generation: int, seed: str
) -> None:
    data = seal(payload, passphrase=passphrase, generation=generation, seed=seed)
    assert len(data) == HEADER_SIZE + COMMITMENT_SIZE + len(payload) + 16
    assert unlock(data, passphrase, min_generation=generation) == (
        payload,
        KeystoreHeader.from_bytes(data[:HEADER_SIZE]),
    )


def test_the_file_is_exactly_the_documented_layout() -> None:
    """Rebuilt from the module docstring with the libraries directly, byte for byte."""
    salt = DeterministicRandom("layout").random_bytes(16)
    data = seal(seed="layout", generation=0x0102030405060708)
    header = (
        MAGIC
        + (1).to_bytes(2, "big")
        + (32).to_bytes(4, "big")
        + (1).to_bytes(4, "big")
        + (1).to_bytes(4, "big")
        + salt
        + (0x0102030405060708).to_bytes(8, "big")
        + (len(PAYLOAD) + 16).to_bytes(4, "big")
    )
    master = hash_secret_raw(PASSPHRASE, salt, 1, 32, 1, 32, Type.ID, 0x13)

    def expand(info: bytes, length: int) -> bytes:
        return HKDFExpand(hashes.SHA256(), length, info).derive(master)

    def opaque(value: bytes) -> bytes:
        assert len(value) < 64
        return bytes([len(value)]) + value

    commitment = expand(opaque(b"casecircle keystore commitment"), 32)
    okm = expand(opaque(b"casecircle keystore key") + opaque(header), 44)
    ciphertext = AESGCM(okm[:32]).encrypt(okm[32:], PAYLOAD, header)
    assert data == header + commitment + ciphertext


def test_field_table_matches_the_encoder() -> None:
    header = KeystoreHeader.from_bytes(seal()[:HEADER_SIZE])
    encoded = header.to_bytes()
    values: dict[str, int | bytes] = {
        "magic": MAGIC,
        "version": 1,
        "memory_kib": TINY.memory_kib,
        "iterations": TINY.iterations,
        "parallelism": TINY.parallelism,
        "salt": header.salt,
        "generation": 7,
        "ciphertext_length": len(PAYLOAD) + 16,
    }
    for name, (offset, size) in FIELDS.items():
        value = values[name]
        raw = value if isinstance(value, bytes) else value.to_bytes(size, "big")
        assert encoded[offset : offset + size] == raw, name
    assert sum(size for _, size in FIELDS.values()) == HEADER_SIZE


def test_every_seal_draws_a_fresh_salt() -> None:
    rng = DeterministicRandom("fresh")
    first = seal_keystore(PASSPHRASE, PAYLOAD, TINY, 1, rng, insecure_floor_for_tests=TEST_FLOOR)
    second = seal_keystore(PASSPHRASE, PAYLOAD, TINY, 1, rng, insecure_floor_for_tests=TEST_FLOOR)
    assert first[FIELDS["salt"][0] : HEADER_SIZE] != second[FIELDS["salt"][0] : HEADER_SIZE]
    assert first[HEADER_SIZE:] != second[HEADER_SIZE:]


def test_argon2id_runs_with_the_header_parameters(argon2_spy: Argon2Spy) -> None:
    data = seal(params=KeystoreParams(memory_kib=64, iterations=2, parallelism=2))
    unlock(data)
    salt = KeystoreHeader.from_bytes(data[:HEADER_SIZE]).salt
    expected = {
        "secret": PASSPHRASE,
        "salt": salt,
        "time_cost": 2,
        "memory_cost": 64,
        "parallelism": 2,
        "hash_len": 32,
        "type": Type.ID,
        "version": 0x13,
    }
    assert argon2_spy.calls == [expected, expected]


def test_secrets_are_not_compressed() -> None:
    """K6: a highly compressible payload costs exactly its length plus the tag."""
    payload = bytes(100_000)
    data = seal(payload)
    assert len(data) == HEADER_SIZE + COMMITMENT_SIZE + len(payload) + 16
    assert unlock(data)[0] == payload


def test_payload_size_is_bounded() -> None:
    with pytest.raises(InvalidLengthError):
        seal(bytes(MAX_PAYLOAD_SIZE + 1))


# --- passphrase and commitment --------------------------------------------------------------


def test_wrong_passphrase_is_a_typed_error_without_secrets() -> None:
    data = seal()
    for wrong in (b"", b"correct horse battery stapl", PASSPHRASE + b"\x00", b"x" * 200):
        with pytest.raises(KeystorePassphraseError) as caught:
            unlock(data, wrong)
        assert caught.value.code == "keystore_passphrase"
        text = f"{caught.value} {caught.value!r}"
        assert PASSPHRASE.decode() not in text and PAYLOAD.decode() not in text


def test_header_repr_holds_no_secret() -> None:
    _, header = unlock(seal())
    assert PASSPHRASE.decode() not in repr(header) and PAYLOAD.decode() not in repr(header)


def test_one_file_cannot_open_under_two_passphrases() -> None:
    """E8: a GCM ciphertext valid under the keys of two passphrases, refused for the second.

    Without the commitment such a file would tell an attacker, per unlock attempt, which of
    several candidate passphrases the user typed (a partitioning oracle).
    """
    other = b"Tr0ub4dor&3"
    data = seal(bytes(32))  # two whole AES blocks
    header_bytes = data[:HEADER_SIZE]
    header = KeystoreHeader.from_bytes(header_bytes)
    # The attack needs the derived keys, so it uses the module's own derivation.
    master1 = keystore._argon2id(PASSPHRASE, header)
    master2 = keystore._argon2id(other, header)
    key1, nonce1 = keystore._aead_key_and_nonce(master1, header_bytes)
    key2, nonce2 = keystore._aead_key_and_nonce(master2, header_bytes)
    ciphertext = two_key_ciphertext(key1, nonce1, key2, nonce2, header_bytes, bytes(32))

    # The AEAD alone accepts the file under both passphrases' keys ...
    plain1 = AESGCM(key1).decrypt(nonce1, ciphertext, header_bytes)
    plain2 = AESGCM(key2).decrypt(nonce2, ciphertext, header_bytes)
    assert plain1 != plain2
    # ... but it carries one commitment, so it opens under one passphrase only.
    for commitment, good, bad, plain in (
        (keystore._commitment(master1), PASSPHRASE, other, plain1),
        (keystore._commitment(master2), other, PASSPHRASE, plain2),
    ):
        crafted = header_bytes + commitment + ciphertext
        assert unlock(crafted, good)[0] == plain
        with pytest.raises(KeystorePassphraseError):
            unlock(crafted, bad)


# --- every field authenticated --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("magic", b"CCKSTORF", KeystoreFormatError),
        ("magic", bytes(8), KeystoreFormatError),
        ("version", 0, KeystoreFormatError),
        ("version", 2, KeystoreFormatError),
        ("memory_kib", 64, KeystorePassphraseError),
        ("memory_kib", 0, KeystoreParamsError),
        ("iterations", 2, KeystorePassphraseError),
        ("iterations", 0, KeystoreParamsError),
        ("parallelism", 2, KeystorePassphraseError),
        ("parallelism", 0, KeystoreParamsError),
        ("parallelism", 5, KeystoreParamsError),  # 32 KiB cannot hold 5 lanes of 8 KiB
        ("salt", bytes(16), KeystorePassphraseError),
        ("generation", 8, KeystoreFormatError),
        ("generation", 6, KeystoreFormatError),
        ("ciphertext_length", len(PAYLOAD) + 15, KeystoreFormatError),
        ("ciphertext_length", len(PAYLOAD) + 17, KeystoreFormatError),
        ("ciphertext_length", 0, KeystoreFormatError),
    ],
)
def test_each_header_field_is_authenticated(
    name: str, value: int | bytes, error: type[KeystoreError]
) -> None:
    data = with_field(seal(), name, value)
    with pytest.raises(error) as caught:
        unlock(data)
    assert caught.value.code == error.code


def test_commitment_ciphertext_and_tag_are_authenticated() -> None:
    data = seal()
    with pytest.raises(KeystorePassphraseError):
        unlock(flip(data, HEADER_SIZE))  # commitment
    with pytest.raises(KeystoreFormatError):
        unlock(flip(data, HEADER_SIZE + COMMITMENT_SIZE))  # first ciphertext byte
    with pytest.raises(KeystoreFormatError):
        unlock(flip(data, len(data) - 1))  # tag


def test_every_bit_flip_anywhere_is_refused() -> None:
    data = seal(b"0123456789abcdef")
    for position in range(len(data)):
        for mask in (0x01, 0x80):
            with pytest.raises(KeystoreError):
                unlock(flip(data, position, mask))


# --- truncation and extension (K3) ----------------------------------------------------------


def test_truncation_is_refused_before_argon2(argon2_spy: Argon2Spy) -> None:
    data = SEALED
    for length in range(len(data)):
        with pytest.raises(KeystoreFormatError):
            unlock(data[:length])
    assert argon2_spy.calls == []


@pytest.mark.parametrize("suffix", [b"\x00", b"\x00" * 16, b"trailing", None])
def test_extension_is_refused_before_argon2(argon2_spy: Argon2Spy, suffix: bytes | None) -> None:
    data = SEALED
    with pytest.raises(KeystoreFormatError):
        unlock(data + (data if suffix is None else suffix))
    assert argon2_spy.calls == []


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_after_a_valid_prefix_is_a_typed_error(tail: bytes) -> None:
    data = MAGIC + (1).to_bytes(2, "big") + tail
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(keystore, "hash_secret_raw", lambda **_: bytes(32))
        with pytest.raises(KeystoreError):
            open_keystore(PASSPHRASE, data, insecure_floor_for_tests=TEST_FLOOR)
        with pytest.raises(KeystoreError):
            open_keystore(PASSPHRASE, data)


# --- floor and ceiling (K1, E7) -------------------------------------------------------------


def forged_file(params: KeystoreParams | tuple[int, int, int]) -> bytes:
    """A structurally valid file whose header asks for ``params`` (not sealed with them)."""
    memory, iterations, lanes = (
        (params.memory_kib, params.iterations, params.parallelism)
        if isinstance(params, KeystoreParams)
        else params
    )
    data = with_field(SEALED, "memory_kib", memory)
    data = with_field(data, "iterations", iterations)
    return with_field(data, "parallelism", lanes)


@pytest.mark.parametrize(
    "asked",
    [
        (64 * MIB * MIB, 3, 1),  # 64 GiB
        (CEILING.memory_kib + 1, 3, 1),
        ((1 << 32) - 1, 3, 1),
        (FLOOR.memory_kib, CEILING.iterations + 1, 1),
        (FLOOR.memory_kib, (1 << 32) - 1, 1),
        (FLOOR.memory_kib, 3, CEILING.parallelism + 1),
        (FLOOR.memory_kib, 3, (1 << 24) - 1),
        ((1 << 32) - 1, (1 << 32) - 1, (1 << 24) - 1),
    ],
)
def test_hostile_cost_is_refused_without_running_argon2(
    argon2_spy: Argon2Spy, asked: tuple[int, int, int]
) -> None:
    """E7: the ceiling holds even when the test override lowers the floor."""
    data = forged_file(asked)
    for floor in (None, TEST_FLOOR):
        with pytest.raises(KeystoreParamsError) as caught:
            open_keystore(PASSPHRASE, data, insecure_floor_for_tests=floor)
        assert caught.value.code == "keystore_params"
    assert argon2_spy.calls == []


@pytest.mark.parametrize(
    "asked",
    [
        TINY,
        (FLOOR.memory_kib - 1, FLOOR.iterations, FLOOR.parallelism),
        (FLOOR.memory_kib, FLOOR.iterations - 1, FLOOR.parallelism),
        (CEILING.memory_kib, 1, 8),
    ],
)
def test_weak_cost_is_refused_without_running_argon2(
    argon2_spy: Argon2Spy, asked: KeystoreParams | tuple[int, int, int]
) -> None:
    """K1: a file cannot lower the floor; only the caller's explicit test override can."""
    with pytest.raises(KeystoreParamsError):
        open_keystore(PASSPHRASE, forged_file(asked))
    assert argon2_spy.calls == []


def test_the_floor_is_not_read_from_the_file(argon2_spy: Argon2Spy) -> None:
    data = SEALED
    with pytest.raises(KeystoreParamsError):
        open_keystore(PASSPHRASE, data)
    assert argon2_spy.calls == []
    assert open_keystore(PASSPHRASE, data, insecure_floor_for_tests=TEST_FLOOR)[0] == PAYLOAD


def test_sealing_enforces_floor_and_ceiling(argon2_spy: Argon2Spy) -> None:
    rng = DeterministicRandom()
    with pytest.raises(KeystoreParamsError):
        seal_keystore(PASSPHRASE, PAYLOAD, TINY, 1, rng)
    too_costly = KeystoreParams(memory_kib=2 * CEILING.memory_kib, iterations=3, parallelism=1)
    for floor in (None, TEST_FLOOR):
        with pytest.raises(KeystoreParamsError):
            seal_keystore(PASSPHRASE, PAYLOAD, too_costly, 1, rng, insecure_floor_for_tests=floor)
    assert argon2_spy.calls == []


def test_documented_costs() -> None:
    assert FLOOR == KeystoreParams(memory_kib=64 * MIB, iterations=3, parallelism=1)
    assert CEILING == KeystoreParams(memory_kib=1024 * MIB, iterations=10, parallelism=8)
    assert DEFAULT_PARAMS == KeystoreParams(memory_kib=512 * MIB, iterations=3, parallelism=2)
    assert DEFAULT_PARAMS.at_least(FLOOR) and DEFAULT_PARAMS.at_most(CEILING)
    assert DEFAULT_PARAMS.memory_kib >= 256 * MIB  # issue 5: at least 256 MiB


@pytest.mark.parametrize(
    ("memory", "iterations", "lanes"),
    [(0, 1, 1), (8, 0, 1), (8, 1, 0), (-1, 1, 1), (7, 1, 1), (15, 1, 2), (1 << 32, 1, 1)],
)
def test_params_reject_what_argon2id_cannot_run(memory: int, iterations: int, lanes: int) -> None:
    with pytest.raises(KeystoreParamsError):
        KeystoreParams(memory_kib=memory, iterations=iterations, parallelism=lanes)


def test_params_must_be_integers() -> None:
    with pytest.raises(KeystoreParamsError):
        KeystoreParams(memory_kib=True, iterations=1, parallelism=1)
    with pytest.raises(KeystoreParamsError):
        KeystoreParams(memory_kib=8.0, iterations=1, parallelism=1)  # type: ignore[arg-type]


def test_an_argon2_failure_is_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(**_: Any) -> bytes:
        raise HashingError("Memory allocation error")

    data = seal()
    monkeypatch.setattr(keystore, "hash_secret_raw", fail)
    with pytest.raises(KeystoreParamsError):
        unlock(data)


# --- rollback (K2) --------------------------------------------------------------------------


def test_an_older_generation_is_a_rollback() -> None:
    data = seal(generation=5)
    assert unlock(data, min_generation=0)[1].generation == 5
    assert unlock(data, min_generation=5)[1].generation == 5
    with pytest.raises(KeystoreRollbackError) as caught:
        unlock(data, min_generation=6)
    assert caught.value.code == "keystore_rollback"


def test_a_rollback_cannot_be_hidden_by_raising_the_generation() -> None:
    data = seal(generation=5)
    with pytest.raises(KeystoreFormatError):
        unlock(with_field(data, "generation", 6), min_generation=6)


def test_a_rollback_needs_an_authentic_file() -> None:
    """A forged old generation is reported as what it is, not as a restored backup."""
    data = seal(generation=5)
    with pytest.raises(KeystoreFormatError):
        unlock(with_field(data, "generation", 1), min_generation=5)


# --- changing the passphrase ----------------------------------------------------------------


def test_rekey_changes_passphrase_and_advances_generation() -> None:
    old = seal(generation=41)
    new, header = rekey(
        PASSPHRASE,
        b"new passphrase",
        old,
        DeterministicRandom("rekey"),
        params=KeystoreParams(memory_kib=64, iterations=2, parallelism=1),
        insecure_floor_for_tests=TEST_FLOOR,
    )
    assert header.generation == 42
    assert header.params == KeystoreParams(memory_kib=64, iterations=2, parallelism=1)
    assert header.salt != KeystoreHeader.from_bytes(old[:HEADER_SIZE]).salt
    assert unlock(new, b"new passphrase", min_generation=42) == (PAYLOAD, header)
    with pytest.raises(KeystorePassphraseError):
        unlock(new, PASSPHRASE)
    with pytest.raises(KeystoreRollbackError):
        unlock(old, PASSPHRASE, min_generation=header.generation)


def test_rekey_refuses_what_open_refuses() -> None:
    data = seal(generation=7)
    with pytest.raises(KeystoreParamsError):  # no override: the tiny cost is below the floor
        rekey(PASSPHRASE, b"new", data, DeterministicRandom())
    with pytest.raises(KeystorePassphraseError):
        rekey(b"wrong", b"new", data, DeterministicRandom(), insecure_floor_for_tests=TEST_FLOOR)
    with pytest.raises(KeystoreRollbackError):
        rekey(
            PASSPHRASE,
            b"new",
            data,
            DeterministicRandom(),
            min_generation=8,
            insecure_floor_for_tests=TEST_FLOOR,
        )


def test_rekey_upgrades_to_the_default_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    """The new file gets the default cost, not the old file's (Argon2id made cheap here)."""
    asked: list[int] = []

    def cheap(**kwargs: Any) -> bytes:
        asked.append(kwargs["memory_cost"])
        if kwargs["memory_cost"] == DEFAULT_PARAMS.memory_kib:
            kwargs = {**kwargs, "memory_cost": 8, "time_cost": 1, "parallelism": 1}
        return hash_secret_raw(**kwargs)

    data = seal(generation=7)
    monkeypatch.setattr(keystore, "hash_secret_raw", cheap)
    new, header = rekey(
        PASSPHRASE, b"new", data, DeterministicRandom(), insecure_floor_for_tests=TEST_FLOOR
    )
    assert header.params == DEFAULT_PARAMS
    assert KeystoreHeader.from_bytes(new[:HEADER_SIZE]) == header
    assert asked == [TINY.memory_kib, DEFAULT_PARAMS.memory_kib]
    assert open_keystore(b"new", new)[0] == PAYLOAD


def test_generation_limits() -> None:
    last = (1 << 64) - 1
    data = seal(generation=last)
    with pytest.raises(KeystoreFormatError):
        rekey(PASSPHRASE, b"new", data, DeterministicRandom(), insecure_floor_for_tests=TEST_FLOOR)
    for bad in (-1, 1 << 64):
        with pytest.raises(KeystoreFormatError):
            seal(generation=bad)


# --- errors ---------------------------------------------------------------------------------


def test_error_codes_are_stable() -> None:
    assert {
        cls.__name__: cls.code
        for cls in (
            KeystoreError,
            KeystoreFormatError,
            KeystoreParamsError,
            KeystorePassphraseError,
            KeystoreRollbackError,
        )
    } == {
        "KeystoreError": "keystore",
        "KeystoreFormatError": "keystore_format",
        "KeystoreParamsError": "keystore_params",
        "KeystorePassphraseError": "keystore_passphrase",
        "KeystoreRollbackError": "keystore_rollback",
    }
    assert issubclass(KeystoreError, CryptoError)


def test_header_struct_is_big_endian_and_fixed() -> None:
    assert struct.calcsize(">8sHIII16sQI") == HEADER_SIZE == 50
