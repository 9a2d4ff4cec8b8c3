"""The passphrase-protected keystore file (RFC 9106 Argon2id; DESIGN.md §8; ATTACKS.md K1–K3,
K6, E7, E8).

Pure bytes in, bytes out: the client reads and atomically replaces the file, hands randomness
in, and remembers outside the file the highest generation it has ever seen of it.

::

    offset  size  field                      integers are unsigned big-endian
    0       8     magic "CCKSTORE"
    8       2     format version (1)
    10      4     Argon2id memory, KiB
    14      4     Argon2id iterations
    18      4     Argon2id parallelism
    22      16    salt
    38      8     generation
    46      4     ciphertext length n
    ──────────    header (50 bytes) — the AEAD associated data, and bound into the key
    50      32    key commitment
    82      n     AES-256-GCM ciphertext of the payload (payload length + 16)

    master     = Argon2id v1.3 (passphrase, salt, iterations, memory, parallelism) → 32 bytes
    commitment = HKDF-Expand-SHA256(master, opaque("casecircle keystore commitment"), 32)
    key ‖ nonce = HKDF-Expand-SHA256(master,
                      opaque("casecircle keystore key") ‖ opaque(header), 32 + 12)
    ciphertext = AES-256-GCM(key, nonce, aad = header, payload)

**Cost (K1).** :data:`DEFAULT_PARAMS` — 512 MiB, 3 iterations, 2 lanes — takes 0.60–0.63 s
on the project's 2-core reference machine when it is otherwise idle (about 1.1 s while other
work competes for the cores), using 1.15 s of CPU across its two lanes (argon2-cffi 25.1):
each offline guess at a stolen file costs an attacker 512 MiB held for that long. Files
below :data:`FLOOR` (64 MiB, 3 iterations — RFC 9106 §4's second recommended option, lanes
aside; 0.11 s here) are refused on read, so a planted or downgraded file cannot lower the
price of guessing the passphrase once the user types it.

**Ceiling (E7).** A header asking for more than :data:`CEILING` (1 GiB, 10 iterations,
8 lanes) is refused before Argon2id runs, so a hostile file can neither exhaust memory nor
start unbounded threads; the most it can cost is one bounded unlock attempt (about 8 s at
the ceiling itself on the reference machine).

**Commitment (E8).** AES-GCM is not key-committing: one can craft a ciphertext and tag that
authenticate under many keys at once. Offered to something that tries the user's passphrase,
such a file answers "which of these k candidates is it?" per attempt — a partitioning
oracle (Len, Grubbs, Ristenpart, USENIX Security 2021). The stored commitment is a
collision-resistant function of the Argon2id output and is compared, in constant time,
before anything is decrypted; as the AEAD key is derived from that same output, a file opens
under at most one passphrase, and each attempt tests one guess.

**Errors.** What can be checked without the passphrase is checked first and cheaply:
structure and lengths (``keystore_format``, K3), then the parameters (``keystore_params``).
A commitment that does not match means a wrong passphrase — or an altered salt, parameter or
commitment, which without the passphrase cannot be told apart (``keystore_passphrase``).
With the right passphrase, a header or ciphertext that does not authenticate is damage or
tampering (``keystore_format``). An authentic file older than the generation the caller has
already seen is a restored backup (``keystore_rollback``, K2).

**No compression (K6).** The payload is sealed exactly as given, and callers must not
compress secrets before sealing them: a compressed length depends on the content. The
payload is not padded either; the file stays on the device, and its size says only roughly
how much key material it holds.
"""

from __future__ import annotations

import hmac
import struct
from dataclasses import dataclass

from argon2.exceptions import HashingError
from argon2.low_level import Type, hash_secret_raw

from crypto.aead import AES_256_GCM
from crypto.errors import CryptoError, InvalidLengthError, InvalidTagError
from crypto.kdf import HKDF_SHA256
from crypto.random import RandomSource
from crypto.tls import opaque

MAGIC = b"CCKSTORE"
FORMAT_VERSION = 1
SALT_SIZE = 16
MASTER_SIZE = 32
COMMITMENT_SIZE = 32
MAX_PAYLOAD_SIZE = 16 * 1024 * 1024

_HEADER = struct.Struct(">8sHIII16sQI")
HEADER_SIZE = _HEADER.size  # 50
_AEAD = AES_256_GCM
_COMMITMENT_LABEL = b"casecircle keystore commitment"
_KEY_LABEL = b"casecircle keystore key"
_ARGON2_VERSION = 0x13
_UINT32_MAX = (1 << 32) - 1
_UINT64_MAX = (1 << 64) - 1
_ARGON2_MAX_LANES = (1 << 24) - 1


class KeystoreError(CryptoError):
    """A keystore could not be opened or sealed."""

    code = "keystore"


class KeystoreFormatError(KeystoreError):
    """Not a keystore of a known version, truncated or extended, or damaged or tampered with."""

    code = "keystore_format"


class KeystoreParamsError(KeystoreError):
    """Argon2id parameters that are invalid, below the floor or above the ceiling."""

    code = "keystore_params"


class KeystorePassphraseError(KeystoreError):
    """The passphrase does not match the file's key commitment."""

    code = "keystore_passphrase"


class KeystoreRollbackError(KeystoreError):
    """An authentic file older than a generation already seen: a restored copy (K2)."""

    code = "keystore_rollback"


@dataclass(frozen=True, slots=True, kw_only=True)
class KeystoreParams:
    """Argon2id cost: memory in KiB, iterations (time cost) and lanes (parallelism).

    Building one checks only what Argon2id itself requires; whether a cost is acceptable is
    decided against :data:`FLOOR` and :data:`CEILING` when a file is sealed or opened.
    """

    memory_kib: int
    iterations: int
    parallelism: int

    def __post_init__(self) -> None:
        for name in ("memory_kib", "iterations", "parallelism"):
            value = getattr(self, name)
            if type(value) is not int or not 1 <= value <= _UINT32_MAX:
                raise KeystoreParamsError(f"Argon2id {name} must be an integer in 1..2^32-1")
        if self.parallelism > _ARGON2_MAX_LANES:
            raise KeystoreParamsError("Argon2id parallelism must be below 2^24")
        if self.memory_kib < 8 * self.parallelism:
            raise KeystoreParamsError("Argon2id needs at least 8 KiB of memory per lane")

    def at_least(self, floor: KeystoreParams) -> bool:
        return (
            self.memory_kib >= floor.memory_kib
            and self.iterations >= floor.iterations
            and self.parallelism >= floor.parallelism
        )

    def at_most(self, ceiling: KeystoreParams) -> bool:
        return (
            self.memory_kib <= ceiling.memory_kib
            and self.iterations <= ceiling.iterations
            and self.parallelism <= ceiling.parallelism
        )


FLOOR = KeystoreParams(memory_kib=64 * 1024, iterations=3, parallelism=1)
DEFAULT_PARAMS = KeystoreParams(memory_kib=512 * 1024, iterations=3, parallelism=2)
CEILING = KeystoreParams(memory_kib=1024 * 1024, iterations=10, parallelism=8)


@dataclass(frozen=True, slots=True, kw_only=True)
class KeystoreHeader:
    """The authenticated header; returned by :func:`open_keystore` once it has verified."""

    version: int
    params: KeystoreParams
    salt: bytes
    generation: int
    ciphertext_length: int

    def __post_init__(self) -> None:
        if self.version != FORMAT_VERSION:
            raise KeystoreFormatError(f"unknown keystore format version {self.version}")
        if len(self.salt) != SALT_SIZE:
            raise KeystoreFormatError(f"keystore salt must be {SALT_SIZE} bytes")
        if type(self.generation) is not int or not 0 <= self.generation <= _UINT64_MAX:
            raise KeystoreFormatError("keystore generation must be an integer in 0..2^64-1")
        if not _AEAD.tag_size <= self.ciphertext_length <= MAX_PAYLOAD_SIZE + _AEAD.tag_size:
            raise KeystoreFormatError("keystore ciphertext length out of range")

    @property
    def file_size(self) -> int:
        return HEADER_SIZE + COMMITMENT_SIZE + self.ciphertext_length

    def to_bytes(self) -> bytes:
        return _HEADER.pack(
            MAGIC,
            self.version,
            self.params.memory_kib,
            self.params.iterations,
            self.params.parallelism,
            self.salt,
            self.generation,
            self.ciphertext_length,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> KeystoreHeader:
        """Decode a header (exactly :data:`HEADER_SIZE` bytes); it is not yet authenticated."""
        if len(data) != HEADER_SIZE:
            raise KeystoreFormatError("keystore header has the wrong length")
        magic, version, memory, iterations, lanes, salt, generation, length = _HEADER.unpack(data)
        if magic != MAGIC:
            raise KeystoreFormatError("not a casecircle keystore")
        if version != FORMAT_VERSION:
            raise KeystoreFormatError(f"unknown keystore format version {version}")
        params = KeystoreParams(memory_kib=memory, iterations=iterations, parallelism=lanes)
        return cls(
            version=version,
            params=params,
            salt=salt,
            generation=generation,
            ciphertext_length=length,
        )


def seal_keystore(
    passphrase: bytes,
    payload: bytes,
    params: KeystoreParams,
    generation: int,
    rng: RandomSource,
    *,
    insecure_floor_for_tests: KeystoreParams | None = None,
) -> bytes:
    """Seal ``payload`` under ``passphrase`` as keystore file number ``generation``.

    Each call draws a fresh salt, so the key differs every time. ``generation`` must exceed
    every generation of this keystore seen before, or readers will take it for a rollback.
    ``insecure_floor_for_tests`` lowers the floor for the test suite's tiny costs; nothing
    read from a file can lower it.
    """
    _check_cost(params, insecure_floor_for_tests)
    if len(payload) > MAX_PAYLOAD_SIZE:
        raise InvalidLengthError(f"a keystore payload is at most {MAX_PAYLOAD_SIZE} bytes")
    header = KeystoreHeader(
        version=FORMAT_VERSION,
        params=params,
        salt=rng.random_bytes(SALT_SIZE),
        generation=generation,
        ciphertext_length=len(payload) + _AEAD.tag_size,
    )
    header_bytes = header.to_bytes()
    master = _argon2id(passphrase, header)
    key, nonce = _aead_key_and_nonce(master, header_bytes)
    ciphertext = _AEAD.seal(key, nonce, header_bytes, payload)
    return header_bytes + _commitment(master) + ciphertext


def open_keystore(
    passphrase: bytes,
    data: bytes,
    *,
    min_generation: int = 0,
    insecure_floor_for_tests: KeystoreParams | None = None,
) -> tuple[bytes, KeystoreHeader]:
    """Open a keystore file; return its payload and its (now authenticated) header.

    ``min_generation`` is the highest generation the caller has seen of this keystore; an
    authentic older file raises :class:`KeystoreRollbackError`. Structure, lengths and the
    parameters' floor and ceiling are checked before Argon2id runs.
    """
    if len(data) < HEADER_SIZE:
        raise KeystoreFormatError("keystore file is truncated")
    header = KeystoreHeader.from_bytes(bytes(data[:HEADER_SIZE]))
    if len(data) < header.file_size:
        raise KeystoreFormatError("keystore file is truncated")
    if len(data) > header.file_size:
        raise KeystoreFormatError("keystore file has trailing bytes")
    _check_cost(header.params, insecure_floor_for_tests)
    header_bytes = bytes(data[:HEADER_SIZE])
    stored_commitment = bytes(data[HEADER_SIZE : HEADER_SIZE + COMMITMENT_SIZE])
    ciphertext = bytes(data[HEADER_SIZE + COMMITMENT_SIZE :])

    master = _argon2id(passphrase, header)
    if not hmac.compare_digest(_commitment(master), stored_commitment):
        raise KeystorePassphraseError("wrong passphrase, or the keystore was altered")
    key, nonce = _aead_key_and_nonce(master, header_bytes)
    try:
        payload = _AEAD.open(key, nonce, header_bytes, ciphertext)
    except InvalidTagError:
        raise KeystoreFormatError("keystore is damaged or was tampered with") from None
    if header.generation < min_generation:
        raise KeystoreRollbackError(
            f"keystore generation {header.generation} is older than {min_generation},"
            " which was already seen: an older copy was restored"
        )
    return payload, header


def rekey(
    old_passphrase: bytes,
    new_passphrase: bytes,
    data: bytes,
    rng: RandomSource,
    *,
    params: KeystoreParams = DEFAULT_PARAMS,
    min_generation: int = 0,
    insecure_floor_for_tests: KeystoreParams | None = None,
) -> tuple[bytes, KeystoreHeader]:
    """Change the passphrase: open with the old one, seal the same payload with the new one.

    The new file has a fresh salt, the cost ``params`` (not the old file's, so re-keying also
    upgrades a cheap file) and the next generation, so the old file reads as a rollback to
    anyone who saw the new one. Returns the new file and its header.
    """
    payload, header = open_keystore(
        old_passphrase,
        data,
        min_generation=min_generation,
        insecure_floor_for_tests=insecure_floor_for_tests,
    )
    if header.generation == _UINT64_MAX:
        raise KeystoreFormatError("keystore generation counter is exhausted")
    generation = header.generation + 1
    sealed = seal_keystore(
        new_passphrase,
        payload,
        params,
        generation,
        rng,
        insecure_floor_for_tests=insecure_floor_for_tests,
    )
    return sealed, KeystoreHeader.from_bytes(sealed[:HEADER_SIZE])


def _check_cost(params: KeystoreParams, insecure_floor_for_tests: KeystoreParams | None) -> None:
    floor = FLOOR if insecure_floor_for_tests is None else insecure_floor_for_tests
    if not params.at_least(floor):
        raise KeystoreParamsError(
            f"Argon2id cost below the floor ({floor.memory_kib} KiB, "
            f"{floor.iterations} iterations, {floor.parallelism} lanes)"
        )
    if not params.at_most(CEILING):
        raise KeystoreParamsError(
            f"Argon2id cost above the ceiling ({CEILING.memory_kib} KiB, "
            f"{CEILING.iterations} iterations, {CEILING.parallelism} lanes)"
        )


def _argon2id(passphrase: bytes, header: KeystoreHeader) -> bytes:
    try:
        return hash_secret_raw(
            secret=bytes(passphrase),
            salt=header.salt,
            time_cost=header.params.iterations,
            memory_cost=header.params.memory_kib,
            parallelism=header.params.parallelism,
            hash_len=MASTER_SIZE,
            type=Type.ID,
            version=_ARGON2_VERSION,
        )
    except HashingError:
        raise KeystoreParamsError("Argon2id could not run with these parameters") from None


def _commitment(master: bytes) -> bytes:
    return HKDF_SHA256.expand(master, opaque(_COMMITMENT_LABEL), COMMITMENT_SIZE)


def _aead_key_and_nonce(master: bytes, header_bytes: bytes) -> tuple[bytes, bytes]:
    info = opaque(_KEY_LABEL) + opaque(header_bytes)
    okm = HKDF_SHA256.expand(master, info, _AEAD.key_size + _AEAD.nonce_size)
    return okm[: _AEAD.key_size], okm[_AEAD.key_size :]
