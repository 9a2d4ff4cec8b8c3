"""A device profile: the directory holding one device's keystore and local database
(DESIGN.md §2, §8; ATTACKS.md K1–K6, L, F).

::

    <profile>/                      mode 0700
        keystore                    crypto.keystore file: Argon2id, sealed KeystorePayload
        keystore.generation         the highest keystore generation seen here, in the clear
        local.db (+ -wal, -shm)     client.store: fields sealed under the storage key
        profile.lock                held (advisory lock) while the profile is unlocked

    Profile.create ─► UnlockedProfile ◄─ Profile.unlock(passphrase)
                          │  signing_key, storage_key, identity, store()
                          │  change_passphrase(old, new)
                          └─ lock() ─► keys dropped, database closed, lock file released

**Unlocking never blocks the event loop.** Argon2id is meant to be slow (about 0.6 s at the
default cost, :mod:`crypto.keystore`), so creating, unlocking and changing the passphrase
run the file work and the key derivation in a worker thread (``asyncio.to_thread``). A
cancelled unlock cannot stop that thread; when it finishes, its result is locked again at
once, so nothing stays unlocked that no one holds.

**Passphrases** are text, normalised to Unicode NFC before UTF-8 encoding, so the same
passphrase typed on systems that compose accents differently opens the same keystore.

**One process per profile.** Two processes advancing the same MLS group state would reuse
its keys and fork it. The unlocked profile holds an exclusive advisory lock on
``profile.lock`` (``flock`` on POSIX, ``msvcrt.locking`` on Windows); a second unlock, in this
process or another, fails with :class:`ProfileInUseError`. The operating system drops the
lock when the process dies, so a crash never leaves the profile locked out.

**Writing the keystore (F).** A new keystore file is written to a temporary file in the
profile directory, flushed and ``fsync``-ed, renamed over the old one with ``os.replace``
(atomic on POSIX and on NTFS), and the directory is ``fsync``-ed (not possible on Windows,
where NTFS journals the rename). A crash at any point leaves the old file or the new one,
never a mixture; a leftover temporary file is removed at the next unlock.

**Rollback (K2): what the generation memory detects and what it cannot.** Every keystore
file carries an authenticated generation, raised by each passphrase change.
``keystore.generation`` remembers, outside the keystore, the highest generation this
profile has opened; an authentic keystore older than that is refused with
:class:`~crypto.keystore.KeystoreRollbackError`. This detects an older keystore file put
back on its own — restored from a backup or a sync conflict, or planted by someone who
learnt the old passphrase and hopes the user keeps working under it. It cannot detect a
rollback of the keystore *together with* the generation memory (a whole-directory restore,
or an attacker who can write the disk and edits the plain file as well): the memory is
not a secret and cannot be authenticated before the passphrase is known, and no file on
the same disk can serve as a monotonic counter. A missing or unreadable memory file is
refused (:class:`GenerationMemoryError`) rather than treated as "nothing seen": after a
deliberate restore, :meth:`Profile.reset_generation_memory` accepts the restored file.
Changing the passphrase does not change the storage key, so anyone who had both an old
keystore file and its old passphrase can still read the local database; if the old
passphrase leaked, the profile must be re-created, not only re-keyed.

**The OS keyring (K5).** casecircle does not use the operating system's keyring (Windows
Credential Manager/DPAPI, macOS Keychain, the Secret Service on Linux). What a keyring can
protect: a secret bound to the user's login, so a copied-off disk image cannot read it
without the login password (or, where the keyring is sealed by a TPM or Secure Enclave,
without that machine); and, held off the profile directory, a generation counter that a
restore of that directory does not roll back. What it cannot protect: anything from
software running as the same user while the session is unlocked (on Linux and Windows any
such process may ask the keyring), from an administrator, or after the login password is
known; a login keyring unlocked automatically at login is only as strong as that password.
Storing the passphrase or the Argon2id output there would make a stolen, logged-in or
weak-login machine open every case; the passphrase stays the only key, which is what
DESIGN.md §2 promises.

**Keys in memory.** :meth:`UnlockedProfile.lock` closes the database it opened (dropping its
derived field key), drops its references to the signing key and the storage key, wipes the
:class:`~client.sealed_fields.StorageKey` object and releases the profile lock. Objects
built from the keys keep them alive until they are dropped too (an MLS ``Group`` holds the
signing key). That is as far as Python goes: ``bytes`` cannot be overwritten in place, so
copies made along the way (the passphrase string the caller passed, the decrypted payload,
the key bytes) are freed, not zeroed, and may linger until the memory is reused; the private
key inside OpenSSL is cleared by OpenSSL when it is freed. Against memory read from a
running or hibernated machine only the operating system helps (encrypted swap and
hibernation, no core dumps). Nothing in this module logs, and no exception carries key
material (K4).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
import tempfile
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from client.keystore_payload import DeviceIdentity, KeystorePayload, KeystorePayloadError
from client.random import SystemRandom
from client.sealed_fields import StorageKey
from client.store import LocalStore
from crypto.errors import CasecircleError
from crypto.keystore import (
    DEFAULT_PARAMS,
    KeystoreParams,
    KeystoreRollbackError,
    open_keystore,
    rekey,
    seal_keystore,
)
from crypto.random import RandomSource
from crypto.signatures import SigningKey
from crypto.suites import CipherSuite

if sys.platform == "win32":
    import msvcrt

    def _lock_descriptor(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

else:
    import fcntl

    def _lock_descriptor(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


__all__ = [
    "DeviceIdentity",
    "GenerationMemoryError",
    "KeystorePayloadError",
    "KeystoreRollbackError",
    "PassphrasePolicyError",
    "Profile",
    "ProfileError",
    "ProfileExistsError",
    "ProfileIOError",
    "ProfileInUseError",
    "ProfileLayout",
    "ProfileLockedError",
    "ProfileNotFoundError",
    "UnlockedProfile",
]

T = TypeVar("T")

FIRST_GENERATION = 1
MAX_PASSPHRASE_BYTES = 1024
_GENERATION_TEXT = re.compile(rb"(0|[1-9][0-9]{0,19})\n")
_UINT64_MAX = (1 << 64) - 1


# --- errors -------------------------------------------------------------------------------


class ProfileError(CasecircleError):
    """A profile could not be created, unlocked or changed."""

    code = "profile"


class ProfileExistsError(ProfileError):
    """The directory already holds a keystore or a local database."""

    code = "profile_exists"


class ProfileNotFoundError(ProfileError):
    """The directory holds no keystore."""

    code = "profile_not_found"


class ProfileInUseError(ProfileError):
    """The profile is unlocked already, in this process or another."""

    code = "profile_in_use"


class ProfileLockedError(ProfileError):
    """The profile was locked; unlock it again to use its keys."""

    code = "profile_locked"


class GenerationMemoryError(ProfileError):
    """The remembered keystore generation is missing or unreadable, so a rollback could not
    be ruled out (see the module docstring)."""

    code = "profile_generation_memory"


class ProfileIOError(ProfileError):
    """A profile file could not be read or written; an interrupted write left the old file."""

    code = "profile_io"


class PassphrasePolicyError(ProfileError):
    """A passphrase that is not text, is empty, or is longer than the limit."""

    code = "passphrase_policy"


# --- layout -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProfileLayout:
    """Where a profile's files are."""

    root: Path

    @property
    def keystore(self) -> Path:
        return self.root / "keystore"

    @property
    def generation_memory(self) -> Path:
        return self.root / "keystore.generation"

    @property
    def database(self) -> Path:
        return self.root / "local.db"

    @property
    def lock_file(self) -> Path:
        return self.root / "profile.lock"


# --- the locked profile -------------------------------------------------------------------


class Profile:
    """A profile directory, locked. ``params`` is the Argon2id cost of files this object
    writes (creation and passphrase changes); reading honours each file's own cost between
    :data:`crypto.keystore.FLOOR` and the ceiling. ``insecure_floor_for_tests`` lowers the
    floor for the test suite's tiny costs and nothing else."""

    def __init__(
        self,
        root: Path | str,
        *,
        params: KeystoreParams = DEFAULT_PARAMS,
        rng: RandomSource | None = None,
        insecure_floor_for_tests: KeystoreParams | None = None,
    ) -> None:
        self.layout = ProfileLayout(Path(root))
        self.params = params
        self.rng: RandomSource = SystemRandom() if rng is None else rng
        self._floor = insecure_floor_for_tests

    @property
    def insecure_floor_for_tests(self) -> KeystoreParams | None:
        """The lowered floor a test profile was made with (the platform root's keystore,
        kept beside the profile, is opened with the same)."""
        return self._floor

    def exists(self) -> bool:
        return self.layout.keystore.is_file()

    async def create(
        self,
        passphrase: str,
        *,
        identity: DeviceIdentity,
        suite: CipherSuite,
        signing_key: SigningKey,
    ) -> UnlockedProfile:
        """Create the profile of an enrolling device and return it unlocked.

        A fresh random storage key is drawn here; the signing key and the identity come from
        enrolment. Raises :class:`ProfileExistsError` if the directory holds a keystore or a
        local database already (nothing is overwritten).
        """
        secret = _new_passphrase(passphrase)
        payload = KeystorePayload(
            suite=suite,
            signing_key=signing_key,
            storage_key=StorageKey.generate(self.rng),
            identity=identity,
        )
        return await _off_loop(lambda: self._create(secret, payload), UnlockedProfile._discard)

    async def unlock(self, passphrase: str) -> UnlockedProfile:
        """Open the keystore. Raises :class:`~crypto.keystore.KeystorePassphraseError` (wrong
        passphrase), :class:`~crypto.keystore.KeystoreRollbackError` (K2),
        :class:`~crypto.keystore.KeystoreFormatError` (truncated, extended or damaged: K3),
        :class:`~crypto.keystore.KeystoreParamsError` (cost outside floor and ceiling: E7),
        :class:`KeystorePayloadError`, :class:`GenerationMemoryError`,
        :class:`ProfileNotFoundError` or :class:`ProfileInUseError`."""
        secret = _passphrase(passphrase)
        return await _off_loop(lambda: self._unlock(secret), UnlockedProfile._discard)

    async def reset_generation_memory(self) -> None:
        """Forget the remembered generation, so that a keystore deliberately restored from a
        backup opens; the next unlock remembers the restored file's generation. Only for an
        explicit user decision: it disables rollback detection until then."""
        await asyncio.to_thread(self._reset_generation_memory)

    def __repr__(self) -> str:
        return f"Profile({str(self.layout.root)!r})"

    # -- in the worker thread ------------------------------------------------------------

    def _create(self, passphrase: bytes, payload: KeystorePayload) -> UnlockedProfile:
        layout = self.layout
        _refuse_existing(layout)
        try:
            layout.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise ProfileIOError("the profile directory could not be created") from exc
        file_lock = _ProfileFileLock.acquire(layout.lock_file)
        try:
            _refuse_existing(layout)
            sealed = seal_keystore(
                passphrase,
                payload.to_bytes(),
                self.params,
                FIRST_GENERATION,
                self.rng,
                insecure_floor_for_tests=self._floor,
            )
            # The memory first: a crash before the keystore lands leaves no profile at all.
            _write_generation(layout, FIRST_GENERATION)
            replace_durably(layout.keystore, sealed)
        except BaseException:
            file_lock.release()
            raise
        return UnlockedProfile(self, payload, FIRST_GENERATION, file_lock)

    def _unlock(self, passphrase: bytes) -> UnlockedProfile:
        layout = self.layout
        if not self.exists():
            raise ProfileNotFoundError("no keystore in this directory")
        file_lock = _ProfileFileLock.acquire(layout.lock_file)
        try:
            _remove_leftover_temporaries(layout)
            data = _read(layout.keystore)
            remembered = _read_generation(layout)
            plaintext, header = open_keystore(
                passphrase, data, min_generation=remembered, insecure_floor_for_tests=self._floor
            )
            payload = KeystorePayload.from_bytes(plaintext)
            if header.generation > remembered:
                _write_generation(layout, header.generation)
        except BaseException:
            file_lock.release()
            raise
        return UnlockedProfile(self, payload, header.generation, file_lock)

    def _rekey(self, old: bytes, new: bytes) -> int:
        layout = self.layout
        data = _read(layout.keystore)
        remembered = _read_generation(layout)
        sealed, header = rekey(
            old,
            new,
            data,
            self.rng,
            params=self.params,
            min_generation=remembered,
            insecure_floor_for_tests=self._floor,
        )
        # The keystore first: a crash before the memory is raised leaves a newer file than
        # remembered, which the next unlock accepts and remembers.
        replace_durably(layout.keystore, sealed)
        _write_generation(layout, header.generation)
        return header.generation

    def _reset_generation_memory(self) -> None:
        if not self.exists():
            raise ProfileNotFoundError("no keystore in this directory")
        file_lock = _ProfileFileLock.acquire(self.layout.lock_file)
        try:
            _write_generation(self.layout, 0)
        finally:
            file_lock.release()


# --- the unlocked profile -----------------------------------------------------------------


class UnlockedProfile:
    """An unlocked profile: its keys, its identity and its local database, until
    :meth:`lock` (or the end of an ``async with`` block)."""

    def __init__(
        self,
        profile: Profile,
        payload: KeystorePayload,
        generation: int,
        file_lock: _ProfileFileLock,
    ) -> None:
        """Made by :meth:`Profile.create` and :meth:`Profile.unlock` only."""
        self.profile = profile
        self.layout = profile.layout
        self.identity: DeviceIdentity = payload.identity
        self.suite: CipherSuite = payload.suite
        self._signing_key: SigningKey | None = payload.signing_key
        self._storage_key = payload.storage_key
        self._generation = generation
        self._file_lock = file_lock
        self._store: LocalStore | None = None
        self._guard = asyncio.Lock()
        self._files = threading.Lock()  # one keystore write at a time, even if abandoned

    @property
    def locked(self) -> bool:
        return self._signing_key is None

    @property
    def keystore_generation(self) -> int:
        """The generation of the keystore file as this object last opened or wrote it."""
        return self._generation

    @property
    def signing_key(self) -> SigningKey:
        """The device's MLS signature key."""
        self._require_unlocked()
        assert self._signing_key is not None
        return self._signing_key

    @property
    def storage_key(self) -> StorageKey:
        self._require_unlocked()
        return self._storage_key

    async def store(self) -> LocalStore:
        """The profile's local database, opened on first use and closed by :meth:`lock`."""
        async with self._guard:
            storage_key = self.storage_key
            if self._store is None or self._store.closed:
                self._store = await LocalStore.open(
                    self.layout.database, storage_key, rng=self.profile.rng
                )
            return self._store

    async def change_passphrase(self, old: str, new: str) -> None:
        """Re-seal the keystore under ``new`` at the next generation and with the profile's
        current cost; ``old`` must open the current file. The old file then reads as a
        rollback here. The storage key, and so the database, stay as they are."""
        old_secret = _passphrase(old)
        new_secret = _new_passphrase(new)
        async with self._guard:
            self._require_unlocked()

            def work() -> int:
                with self._files:
                    return self.profile._rekey(old_secret, new_secret)

            self._generation = await _off_loop(work, self._remember_generation)

    async def lock(self) -> None:
        """Close the database, drop the keys and release the profile; idempotent."""
        async with self._guard:
            store, self._store = self._store, None
            if store is not None:
                await store.close()
            self._drop_keys()
            await asyncio.to_thread(self._release)

    async def __aenter__(self) -> UnlockedProfile:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.lock()

    def __repr__(self) -> str:
        state = "locked" if self.locked else "unlocked"
        return (
            f"UnlockedProfile({str(self.layout.root)!r}, "
            f"device={self.identity.device_id.hex()}, {state})"
        )

    def _require_unlocked(self) -> None:
        if self._signing_key is None:
            raise ProfileLockedError("the profile is locked")

    def _remember_generation(self, generation: int) -> None:
        self._generation = generation

    def _drop_keys(self) -> None:
        self._signing_key = None
        self._storage_key.wipe()

    def _release(self) -> None:
        with self._files:
            self._file_lock.release()

    @staticmethod
    def _discard(unlocked: UnlockedProfile) -> None:
        """Lock an unlocked profile that nobody received (its caller was cancelled)."""
        unlocked._drop_keys()
        unlocked._release()


# --- files --------------------------------------------------------------------------------


class _ProfileFileLock:
    """An exclusive advisory lock on the profile's lock file; closing the descriptor (or the
    process dying) releases it."""

    __slots__ = ("_fd",)

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, path: Path) -> _ProfileFileLock:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ProfileIOError("the profile's lock file could not be opened") from exc
        try:
            _lock_descriptor(fd)
        except OSError:
            os.close(fd)
            raise ProfileInUseError(
                "the profile is unlocked in another window or process"
            ) from None
        return cls(fd)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __del__(self) -> None:
        self.release()


async def _off_loop(work: Callable[[], T], discard: Callable[[T], None]) -> T:
    """Run blocking ``work`` in a worker thread. If the caller is cancelled, the thread runs
    on (it cannot be stopped) and ``discard`` receives its result when it finishes."""
    future = asyncio.ensure_future(asyncio.to_thread(work))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:

        def abandoned(done: asyncio.Future[T]) -> None:
            if not done.cancelled() and done.exception() is None:
                discard(done.result())

        future.add_done_callback(abandoned)
        raise


def _passphrase(passphrase: str) -> bytes:
    if not isinstance(passphrase, str):
        raise PassphrasePolicyError("a passphrase is text")
    try:
        return unicodedata.normalize("NFC", passphrase).encode("utf-8")
    except UnicodeEncodeError:
        raise PassphrasePolicyError("a passphrase is text without lone surrogates") from None


def _new_passphrase(passphrase: str) -> bytes:
    secret = _passphrase(passphrase)
    if not secret:
        raise PassphrasePolicyError("a passphrase must not be empty")
    if len(secret) > MAX_PASSPHRASE_BYTES:
        raise PassphrasePolicyError(f"a passphrase is at most {MAX_PASSPHRASE_BYTES} bytes")
    return secret


def _refuse_existing(layout: ProfileLayout) -> None:
    if layout.keystore.exists() or layout.database.exists():
        raise ProfileExistsError("this directory already holds a profile")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ProfileNotFoundError("no keystore in this directory") from None
    except OSError as exc:
        raise ProfileIOError(f"{path.name} could not be read") from exc


def _read_generation(layout: ProfileLayout) -> int:
    try:
        text = layout.generation_memory.read_bytes()
    except FileNotFoundError:
        raise GenerationMemoryError(
            "the remembered keystore generation is missing; a restored keystore cannot be ruled out"
        ) from None
    except OSError as exc:
        raise ProfileIOError("the remembered keystore generation could not be read") from exc
    if not _GENERATION_TEXT.fullmatch(text) or int(text) > _UINT64_MAX:
        raise GenerationMemoryError("the remembered keystore generation is damaged")
    return int(text)


def _write_generation(layout: ProfileLayout, generation: int) -> None:
    replace_durably(layout.generation_memory, b"%d\n" % generation)


def replace_durably(path: Path, data: bytes) -> None:
    """Atomically replace ``path`` with ``data``: temporary file in the same directory,
    flush, fsync, ``os.replace``, fsync of the directory."""
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ProfileIOError(f"{path.name} could not be written") from exc
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise ProfileIOError(f"{path.name} could not be written; the old file stands") from exc
        raise
    try:
        _fsync_directory(path.parent)
    except OSError as exc:
        raise ProfileIOError(f"the rename of {path.name} could not be made durable") from exc


def _fsync_directory(directory: Path) -> None:
    if sys.platform == "win32":
        return  # no directory handles to flush; NTFS journals the rename itself
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_leftover_temporaries(layout: ProfileLayout) -> None:
    """Temporary files of a write interrupted by a crash (the profile lock is held)."""
    for name in (layout.keystore.name, layout.generation_memory.name):
        for leftover in layout.root.glob(f".{name}.*.tmp"):
            with contextlib.suppress(OSError):
                leftover.unlink()
