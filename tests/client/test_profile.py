"""client.profile: creating, unlocking, locking and re-keying a profile directory, and every
way its keystore can be refused (ATTACKS.md K1–K4, E7, E8, F; DESIGN.md §2, §8).

All files are sealed at the tiny test cost through the test-only floor override; the
production floor is used only to show that it refuses such a file before Argon2id runs.
"""

from __future__ import annotations

import asyncio
import os
import stat
import struct
import sys
import threading
import unicodedata
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

import client.profile
import crypto.keystore
from client.keystore_payload import KeystorePayloadError
from client.profile import (
    MAX_PASSPHRASE_BYTES,
    GenerationMemoryError,
    PassphrasePolicyError,
    Profile,
    ProfileExistsError,
    ProfileInUseError,
    ProfileIOError,
    ProfileLockedError,
    ProfileNotFoundError,
    UnlockedProfile,
)
from client.random import SystemRandom
from crypto.keystore import (
    CEILING,
    HEADER_SIZE,
    KeystoreFormatError,
    KeystoreParams,
    KeystoreParamsError,
    KeystorePassphraseError,
    KeystoreRollbackError,
    seal_keystore,
)
from tests.client.conftest import (
    PASSPHRASE,
    SUITE,
    TEST_FLOOR,
    TINY,
    make_identity,
    make_signing_key,
    tiny_profile,
)

NEW_PASSPHRASE = "a different, longer passphrase"
G1 = b"\x01" * 16
N1 = b"\x11" * 16

skip_on_windows = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")

# Offsets in the keystore header (crypto/keystore.py).
MEMORY_AT, ITERATIONS_AT, LANES_AT = 10, 14, 18
SALT_AT, GENERATION_AT = 22, 38
COMMITMENT_AT = HEADER_SIZE


async def _create(root: Path, passphrase: str = PASSPHRASE) -> UnlockedProfile:
    return await tiny_profile(root).create(
        passphrase, identity=make_identity(), suite=SUITE, signing_key=make_signing_key()
    )


@pytest_asyncio.fixture
async def created(profile_dir: Path) -> AsyncIterator[Path]:
    """A profile directory holding a keystore of generation 1, locked."""
    await (await _create(profile_dir)).lock()
    yield profile_dir


def _forbidden_argon2id(*args: object, **kwargs: object) -> bytes:
    raise AssertionError("Argon2id ran on a file that should have been refused first")


@pytest.fixture
def argon2_forbidden(created: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if Argon2id runs: what must be refused is refused before it. (It asks
    for ``created`` so that the profile is made before Argon2id is taken away.)"""
    monkeypatch.setattr(crypto.keystore, "_argon2id", _forbidden_argon2id)


def _keystore(root: Path) -> Path:
    return root / "keystore"


def _memory(root: Path) -> Path:
    return root / "keystore.generation"


def _patched(data: bytes, offset: int, value: bytes) -> bytes:
    return data[:offset] + value + data[offset + len(value) :]


# --- create, unlock, lock -----------------------------------------------------------------


@pytest.mark.asyncio
async def test_create_then_unlock_gives_back_the_same_keys(profile_dir: Path) -> None:
    unlocked = await _create(profile_dir)
    locked_before = unlocked.locked
    assert unlocked.keystore_generation == 1
    assert unlocked.identity == make_identity()
    assert unlocked.suite == SUITE
    assert unlocked.signing_key == make_signing_key()
    storage_key = unlocked.storage_key.to_bytes()
    await unlocked.lock()
    assert (locked_before, unlocked.locked) == (False, True)

    profile = tiny_profile(profile_dir)
    assert profile.exists()
    async with await profile.unlock(PASSPHRASE) as again:
        assert again.identity == make_identity()
        assert again.suite == SUITE
        assert again.signing_key == make_signing_key()
        assert again.storage_key.to_bytes() == storage_key
        assert again.keystore_generation == 1
    assert again.locked


@pytest.mark.asyncio
async def test_create_writes_the_documented_layout(profile_dir: Path) -> None:
    async with await _create(profile_dir) as unlocked:
        assert not (profile_dir / "local.db").exists()  # opened on first use
        await unlocked.store()
    names = {path.name for path in profile_dir.iterdir()}
    assert {"keystore", "keystore.generation", "profile.lock", "local.db"} <= names
    assert not [name for name in names if name.endswith(".tmp")]
    assert _memory(profile_dir).read_bytes() == b"1\n"
    data = _keystore(profile_dir).read_bytes()
    assert data[:8] == b"CCKSTORE"
    assert struct.unpack(">III", data[MEMORY_AT:SALT_AT]) == (
        TINY.memory_kib,
        TINY.iterations,
        TINY.parallelism,
    )
    assert int.from_bytes(data[GENERATION_AT : GENERATION_AT + 8], "big") == 1


@skip_on_windows
@pytest.mark.asyncio
async def test_profile_files_are_private(profile_dir: Path) -> None:
    async with await _create(profile_dir) as unlocked:
        await (await unlocked.store()).add_note(G1, N1, b"x")
        assert stat.S_IMODE(profile_dir.stat().st_mode) == 0o700
        for name in ("keystore", "keystore.generation", "profile.lock", "local.db"):
            assert stat.S_IMODE((profile_dir / name).stat().st_mode) == 0o600, name


@pytest.mark.asyncio
async def test_keystore_holds_no_plaintext_key_material(profile_dir: Path) -> None:
    async with await _create(profile_dir) as unlocked:
        storage_key = unlocked.storage_key.to_bytes()
    data = _keystore(profile_dir).read_bytes()
    assert storage_key not in data
    assert make_signing_key().to_bytes() not in data
    assert make_identity().relay_url.encode() not in data


@pytest.mark.asyncio
async def test_each_profile_draws_its_own_storage_key(tmp_path: Path) -> None:
    async with await _create(tmp_path / "a") as first, await _create(tmp_path / "b") as second:
        assert first.storage_key.to_bytes() != second.storage_key.to_bytes()


@pytest.mark.asyncio
async def test_create_refuses_an_existing_keystore(created: Path) -> None:
    before = _keystore(created).read_bytes()
    with pytest.raises(ProfileExistsError) as caught:
        await _create(created, "another passphrase")
    assert caught.value.code == "profile_exists"
    assert _keystore(created).read_bytes() == before
    await (await tiny_profile(created).unlock(PASSPHRASE)).lock()


@pytest.mark.asyncio
async def test_create_refuses_a_directory_with_a_database(profile_dir: Path) -> None:
    profile_dir.mkdir()
    (profile_dir / "local.db").write_bytes(b"someone's database")
    with pytest.raises(ProfileExistsError):
        await _create(profile_dir)
    assert not _keystore(profile_dir).exists()
    assert (profile_dir / "local.db").read_bytes() == b"someone's database"


@pytest.mark.asyncio
async def test_create_in_an_empty_existing_directory(profile_dir: Path) -> None:
    profile_dir.mkdir()
    async with await _create(profile_dir) as unlocked:
        assert unlocked.keystore_generation == 1


@pytest.mark.asyncio
async def test_unlocking_a_directory_without_a_profile(profile_dir: Path) -> None:
    profile = tiny_profile(profile_dir)
    assert not profile.exists()
    with pytest.raises(ProfileNotFoundError) as caught:
        await profile.unlock(PASSPHRASE)
    assert caught.value.code == "profile_not_found"
    with pytest.raises(ProfileNotFoundError):
        await profile.reset_generation_memory()
    assert not profile_dir.exists()


@pytest.mark.asyncio
async def test_a_wrong_passphrase_is_a_typed_error(created: Path) -> None:
    profile = tiny_profile(created)
    wrong = "correct horse battery stapl3"
    with pytest.raises(KeystorePassphraseError) as caught:
        await profile.unlock(wrong)
    assert caught.value.code == "keystore_passphrase"
    for text in (str(caught.value), repr(caught.value)):  # K4
        assert wrong not in text
        assert PASSPHRASE not in text
    with pytest.raises(KeystorePassphraseError):
        await profile.unlock("")
    async with await profile.unlock(PASSPHRASE) as unlocked:  # the failure left it unlocked-able
        assert not unlocked.locked


@pytest.mark.asyncio
async def test_passphrases_are_compared_after_nfc_normalisation(profile_dir: Path) -> None:
    composed = "heslo: žluťoučký kůň \u00e9"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert "z\u030c" in decomposed
    await (await _create(profile_dir, composed)).lock()
    async with await tiny_profile(profile_dir).unlock(decomposed) as unlocked:
        assert unlocked.identity == make_identity()


@pytest.mark.parametrize(
    "passphrase",
    [
        pytest.param("", id="empty"),
        pytest.param("x" * (MAX_PASSPHRASE_BYTES + 1), id="too long"),
        pytest.param("é" * (MAX_PASSPHRASE_BYTES // 2 + 1), id="too long in UTF-8"),
        pytest.param("lone \ud800 surrogate", id="surrogate"),
        pytest.param(b"bytes", id="bytes"),
        pytest.param(None, id="none"),
    ],
)
@pytest.mark.asyncio
async def test_create_enforces_the_passphrase_policy(profile_dir: Path, passphrase: Any) -> None:
    with pytest.raises(PassphrasePolicyError) as caught:
        await _create(profile_dir, passphrase)
    assert caught.value.code == "passphrase_policy"
    assert not profile_dir.exists()


@pytest.mark.asyncio
async def test_the_longest_passphrase_is_accepted(profile_dir: Path) -> None:
    longest = "é" * (MAX_PASSPHRASE_BYTES // 2)
    await (await _create(profile_dir, longest)).lock()
    await (await tiny_profile(profile_dir).unlock(longest)).lock()


@pytest.mark.parametrize("passphrase", [b"bytes", "lone \udfff surrogate"])
@pytest.mark.asyncio
async def test_unlock_refuses_a_passphrase_that_is_not_text(created: Path, passphrase: Any) -> None:
    with pytest.raises(PassphrasePolicyError):
        await tiny_profile(created).unlock(passphrase)


@pytest.mark.asyncio
async def test_a_locked_profile_gives_nothing_out(created: Path) -> None:
    unlocked = await tiny_profile(created).unlock(PASSPHRASE)
    store = await unlocked.store()
    storage_key = unlocked.storage_key
    await unlocked.lock()
    assert unlocked.locked
    assert store.closed
    assert storage_key.wiped
    for read in (lambda: unlocked.signing_key, lambda: unlocked.storage_key):
        with pytest.raises(ProfileLockedError) as caught:
            read()
        assert caught.value.code == "profile_locked"
    with pytest.raises(ProfileLockedError):
        await unlocked.store()
    with pytest.raises(ProfileLockedError):
        await unlocked.change_passphrase(PASSPHRASE, NEW_PASSPHRASE)
    await unlocked.lock()  # idempotent
    assert "locked" in repr(unlocked)


@pytest.mark.asyncio
async def test_repr_shows_no_secret(created: Path) -> None:
    profile = tiny_profile(created)
    assert repr(profile) == f"Profile({str(created)!r})"
    async with await profile.unlock(PASSPHRASE) as unlocked:
        text = repr(unlocked)
        assert "unlocked" in text
        assert make_identity().device_id.hex() in text
        assert unlocked.storage_key.to_bytes().hex() not in text
        assert unlocked.signing_key.to_bytes().hex() not in text


@pytest.mark.asyncio
async def test_the_store_is_shared_and_survives_lock_and_unlock(created: Path) -> None:
    async with await tiny_profile(created).unlock(PASSPHRASE) as unlocked:
        store = await unlocked.store()
        assert await unlocked.store() is store
        await store.add_note(G1, N1, b"written before locking")
        await store.close()
        reopened = await unlocked.store()  # closed by hand: opened again
        assert reopened is not store
        assert not reopened.closed
    async with await tiny_profile(created).unlock(PASSPHRASE) as unlocked:
        note = await (await unlocked.store()).note(G1, N1)
        assert note is not None
        assert note.body == b"written before locking"


# --- one process per profile --------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_second_unlock_fails_while_the_profile_is_unlocked(profile_dir: Path) -> None:
    first = await _create(profile_dir)
    with pytest.raises(ProfileInUseError) as caught:
        await tiny_profile(profile_dir).unlock(PASSPHRASE)
    assert caught.value.code == "profile_in_use"
    with pytest.raises(ProfileInUseError):
        await tiny_profile(profile_dir).reset_generation_memory()
    await first.lock()
    second = await tiny_profile(profile_dir).unlock(PASSPHRASE)
    with pytest.raises(ProfileInUseError):
        await tiny_profile(profile_dir).unlock(PASSPHRASE)
    await second.lock()
    await (await tiny_profile(profile_dir).unlock(PASSPHRASE)).lock()


@pytest.mark.asyncio
async def test_the_in_use_check_comes_before_the_passphrase(
    created: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with await tiny_profile(created).unlock(PASSPHRASE):
        monkeypatch.setattr(crypto.keystore, "_argon2id", _forbidden_argon2id)
        with pytest.raises(ProfileInUseError):
            await tiny_profile(created).unlock("any guess")


@pytest.mark.asyncio
async def test_a_cancelled_unlock_is_locked_again_when_it_finishes(
    created: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = threading.Event()
    finish = threading.Event()
    real_open = crypto.keystore.open_keystore

    def slow_open(*args: Any, **kwargs: Any) -> Any:
        started.set()
        assert finish.wait(10)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(client.profile, "open_keystore", slow_open)
    task = asyncio.create_task(tiny_profile(created).unlock(PASSPHRASE))
    await asyncio.to_thread(started.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    monkeypatch.setattr(client.profile, "open_keystore", real_open)
    with pytest.raises(ProfileInUseError):  # the abandoned thread still holds the lock
        await tiny_profile(created).unlock(PASSPHRASE)
    finish.set()
    for _ in range(500):  # until the abandoned result has been discarded
        try:
            unlocked = await tiny_profile(created).unlock(PASSPHRASE)
        except ProfileInUseError:
            await asyncio.sleep(0.01)
        else:
            await unlocked.lock()
            break
    else:
        pytest.fail("the abandoned unlock never released the profile")


# --- changing the passphrase --------------------------------------------------------------


@pytest.mark.asyncio
async def test_change_passphrase(created: Path) -> None:
    async with await tiny_profile(created).unlock(PASSPHRASE) as unlocked:
        storage_key = unlocked.storage_key.to_bytes()
        await (await unlocked.store()).add_note(G1, N1, b"before the change")
        await unlocked.change_passphrase(PASSPHRASE, NEW_PASSPHRASE)
        assert unlocked.keystore_generation == 2
        assert unlocked.storage_key.to_bytes() == storage_key
        assert unlocked.signing_key == make_signing_key()
    assert _memory(created).read_bytes() == b"2\n"
    assert not [p for p in created.iterdir() if p.name.endswith(".tmp")]

    profile = tiny_profile(created)
    with pytest.raises(KeystorePassphraseError):
        await profile.unlock(PASSPHRASE)
    async with await profile.unlock(NEW_PASSPHRASE) as unlocked:
        assert unlocked.keystore_generation == 2
        assert unlocked.storage_key.to_bytes() == storage_key  # so the database still opens
        assert unlocked.identity == make_identity()
        note = await (await unlocked.store()).note(G1, N1)
        assert note is not None
        assert note.body == b"before the change"


@pytest.mark.asyncio
async def test_change_passphrase_upgrades_the_cost_to_the_profiles(created: Path) -> None:
    higher = KeystoreParams(memory_kib=64, iterations=2, parallelism=1)
    profile = Profile(created, params=higher, insecure_floor_for_tests=TEST_FLOOR)
    async with await profile.unlock(PASSPHRASE) as unlocked:
        await unlocked.change_passphrase(PASSPHRASE, NEW_PASSPHRASE)
    data = _keystore(created).read_bytes()
    assert struct.unpack(">III", data[MEMORY_AT:SALT_AT]) == (64, 2, 1)


@pytest.mark.asyncio
async def test_change_passphrase_needs_the_current_one(created: Path) -> None:
    before = _keystore(created).read_bytes()
    async with await tiny_profile(created).unlock(PASSPHRASE) as unlocked:
        with pytest.raises(KeystorePassphraseError):
            await unlocked.change_passphrase("not the passphrase", NEW_PASSPHRASE)
        with pytest.raises(PassphrasePolicyError):
            await unlocked.change_passphrase(PASSPHRASE, "")
        with pytest.raises(PassphrasePolicyError):
            await unlocked.change_passphrase(PASSPHRASE, "x" * (MAX_PASSPHRASE_BYTES + 1))
        assert unlocked.keystore_generation == 1
    assert _keystore(created).read_bytes() == before
    assert _memory(created).read_bytes() == b"1\n"
    await (await tiny_profile(created).unlock(PASSPHRASE)).lock()


@pytest.mark.asyncio
async def test_a_failed_write_leaves_the_old_keystore(
    created: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F: a rename that fails (disk full, I/O error) leaves the old file and no temporary."""
    before = _keystore(created).read_bytes()

    def failing_replace(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    async with await tiny_profile(created).unlock(PASSPHRASE) as unlocked:
        monkeypatch.setattr(os, "replace", failing_replace)
        with pytest.raises(ProfileIOError) as caught:
            await unlocked.change_passphrase(PASSPHRASE, NEW_PASSPHRASE)
        monkeypatch.undo()
        assert caught.value.code == "profile_io"
        assert unlocked.keystore_generation == 1
    assert _keystore(created).read_bytes() == before
    assert _memory(created).read_bytes() == b"1\n"
    assert not [p for p in created.iterdir() if p.name.endswith(".tmp")]
    await (await tiny_profile(created).unlock(PASSPHRASE)).lock()


@pytest.mark.asyncio
async def test_leftover_temporary_files_are_removed_at_unlock(created: Path) -> None:
    leftovers = [created / ".keystore.abc123.tmp", created / ".keystore.generation.x9.tmp"]
    for path in leftovers:
        path.write_bytes(b"half-written")
    unrelated = created / "notes.tmp"
    unrelated.write_bytes(b"not ours")
    await (await tiny_profile(created).unlock(PASSPHRASE)).lock()
    assert not any(path.exists() for path in leftovers)
    assert unrelated.exists()


# --- rollback and the generation memory (K2) ----------------------------------------------


@pytest.mark.asyncio
async def test_an_older_keystore_put_back_is_a_rollback(created: Path) -> None:
    old_file = _keystore(created).read_bytes()
    async with await tiny_profile(created).unlock(PASSPHRASE) as unlocked:
        await unlocked.change_passphrase(PASSPHRASE, NEW_PASSPHRASE)
    _keystore(created).write_bytes(old_file)

    profile = tiny_profile(created)
    with pytest.raises(KeystoreRollbackError) as caught:
        await profile.unlock(PASSPHRASE)  # the old passphrase, which the old file takes
    assert caught.value.code == "keystore_rollback"
    with pytest.raises(KeystorePassphraseError):
        await profile.unlock(NEW_PASSPHRASE)
    assert _memory(created).read_bytes() == b"2\n"

    await profile.reset_generation_memory()  # the user restored it on purpose
    assert _memory(created).read_bytes() == b"0\n"
    async with await profile.unlock(PASSPHRASE) as unlocked:
        assert unlocked.keystore_generation == 1
    assert _memory(created).read_bytes() == b"1\n"


@pytest.mark.asyncio
async def test_a_keystore_newer_than_remembered_is_accepted_and_remembered(
    created: Path,
) -> None:
    """A crash between writing the new keystore and raising the memory."""
    async with await tiny_profile(created).unlock(PASSPHRASE) as unlocked:
        await unlocked.change_passphrase(PASSPHRASE, NEW_PASSPHRASE)
    _memory(created).write_bytes(b"1\n")
    async with await tiny_profile(created).unlock(NEW_PASSPHRASE) as unlocked:
        assert unlocked.keystore_generation == 2
    assert _memory(created).read_bytes() == b"2\n"


@pytest.mark.asyncio
async def test_a_raised_generation_field_does_not_authenticate(created: Path) -> None:
    """Someone who rewrites the generation of an old file to pass the check breaks it."""
    old_file = _keystore(created).read_bytes()
    async with await tiny_profile(created).unlock(PASSPHRASE) as unlocked:
        await unlocked.change_passphrase(PASSPHRASE, NEW_PASSPHRASE)
    forged = _patched(old_file, GENERATION_AT, (99).to_bytes(8, "big"))
    _keystore(created).write_bytes(forged)
    with pytest.raises(KeystoreFormatError):
        await tiny_profile(created).unlock(PASSPHRASE)
    assert _memory(created).read_bytes() == b"2\n"


@pytest.mark.asyncio
async def test_a_missing_generation_memory_is_refused(created: Path) -> None:
    _memory(created).unlink()
    profile = tiny_profile(created)
    with pytest.raises(GenerationMemoryError) as caught:
        await profile.unlock(PASSPHRASE)
    assert caught.value.code == "profile_generation_memory"
    await profile.reset_generation_memory()
    async with await profile.unlock(PASSPHRASE) as unlocked:
        assert unlocked.keystore_generation == 1
    assert _memory(created).read_bytes() == b"1\n"


@pytest.mark.parametrize(
    "memory",
    [b"", b"1", b"01\n", b"1\n\n", b" 1\n", b"-1\n", b"one\n", b"1\r\n", b"18446744073709551616\n"],
)
@pytest.mark.asyncio
async def test_a_damaged_generation_memory_is_refused(
    created: Path, memory: bytes, argon2_forbidden: None
) -> None:
    _memory(created).write_bytes(memory)
    with pytest.raises(GenerationMemoryError, match="damaged"):
        await tiny_profile(created).unlock(PASSPHRASE)


@pytest.mark.asyncio
async def test_the_largest_generation_memory_is_read(created: Path) -> None:
    _memory(created).write_bytes(b"18446744073709551615\n")
    with pytest.raises(KeystoreRollbackError):
        await tiny_profile(created).unlock(PASSPHRASE)


# --- truncated, extended, damaged keystores (K3, E8) --------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: d[:-1], id="last byte cut"),
        pytest.param(lambda d: d[:-17], id="tag cut"),
        pytest.param(lambda d: d[: HEADER_SIZE + 32], id="ciphertext cut"),
        pytest.param(lambda d: d[:HEADER_SIZE], id="header only"),
        pytest.param(lambda d: d[: HEADER_SIZE - 1], id="header cut"),
        pytest.param(lambda d: b"", id="empty"),
        pytest.param(lambda d: d + b"\x00", id="one byte more"),
        pytest.param(lambda d: d + d, id="doubled"),
        pytest.param(lambda d: _patched(d, 0, b"XXKSTORE"), id="magic"),
        pytest.param(lambda d: _patched(d, 8, b"\x00\x02"), id="format version"),
        pytest.param(lambda d: _patched(d, 46, b"\xff\xff\xff\xff"), id="length field"),
    ],
)
@pytest.mark.asyncio
async def test_a_malformed_keystore_is_refused_before_argon2(
    created: Path, change: Callable[[bytes], bytes], argon2_forbidden: None
) -> None:
    keystore = _keystore(created)
    keystore.write_bytes(change(keystore.read_bytes()))
    with pytest.raises(KeystoreFormatError) as caught:
        await tiny_profile(created).unlock(PASSPHRASE)
    assert caught.value.code == "keystore_format"
    assert _memory(created).read_bytes() == b"1\n"


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        pytest.param(-1, KeystoreFormatError, id="ciphertext"),
        pytest.param(COMMITMENT_AT + 40, KeystoreFormatError, id="ciphertext start"),
        pytest.param(GENERATION_AT + 7, KeystoreFormatError, id="generation"),
        pytest.param(COMMITMENT_AT, KeystorePassphraseError, id="commitment"),
        pytest.param(SALT_AT, KeystorePassphraseError, id="salt"),
        pytest.param(ITERATIONS_AT + 3, KeystorePassphraseError, id="iterations"),
    ],
)
@pytest.mark.asyncio
async def test_a_flipped_bit_is_refused(
    created: Path, offset: int, expected: type[Exception]
) -> None:
    keystore = _keystore(created)
    data = bytearray(keystore.read_bytes())
    data[offset] ^= 0x02
    keystore.write_bytes(bytes(data))
    with pytest.raises(expected):
        await tiny_profile(created).unlock(PASSPHRASE)


@pytest.mark.asyncio
async def test_an_authentic_keystore_without_a_payload_is_refused(
    created: Path,
) -> None:
    sealed = seal_keystore(
        PASSPHRASE.encode(),
        b"not a payload",
        TINY,
        1,
        SystemRandom(),
        insecure_floor_for_tests=TEST_FLOOR,
    )
    _keystore(created).write_bytes(sealed)
    with pytest.raises(KeystorePayloadError) as caught:
        await tiny_profile(created).unlock(PASSPHRASE)
    assert caught.value.code == "keystore_payload"
    await tiny_profile(created).reset_generation_memory()  # the failed unlock let go of it


# --- hostile cost parameters (E7, K1) -----------------------------------------------------


@pytest.mark.parametrize(
    ("memory_kib", "iterations", "lanes"),
    [
        pytest.param(CEILING.memory_kib + 1, 1, 1, id="memory above the ceiling"),
        pytest.param((1 << 32) - 1, 1, 1, id="4 TiB"),
        pytest.param(64, CEILING.iterations + 1, 1, id="iterations above the ceiling"),
        pytest.param(64, (1 << 32) - 1, 1, id="2^32 iterations"),
        pytest.param(1024, 1, CEILING.parallelism + 1, id="lanes above the ceiling"),
        pytest.param((1 << 32) - 1, 1, 1 << 24, id="2^24 lanes"),
        pytest.param(0, 1, 1, id="no memory"),
        pytest.param(64, 0, 1, id="no iterations"),
        pytest.param(64, 1, 0, id="no lanes"),
        pytest.param(8, 1, 2, id="less than 8 KiB per lane"),
    ],
)
@pytest.mark.asyncio
async def test_hostile_argon2_parameters_are_refused_before_argon2(
    created: Path, memory_kib: int, iterations: int, lanes: int, argon2_forbidden: None
) -> None:
    keystore = _keystore(created)
    params = struct.pack(">III", memory_kib, iterations, lanes)
    keystore.write_bytes(_patched(keystore.read_bytes(), MEMORY_AT, params))
    with pytest.raises(KeystoreParamsError) as caught:
        await tiny_profile(created).unlock(PASSPHRASE)
    assert caught.value.code == "keystore_params"


@pytest.mark.asyncio
async def test_the_production_floor_refuses_a_cheap_keystore(
    created: Path, argon2_forbidden: None
) -> None:
    """K1: a planted or downgraded file cannot lower the price of guessing."""
    with pytest.raises(KeystoreParamsError, match="below the floor"):
        await Profile(created).unlock(PASSPHRASE)
