"""The relay's data, opened for the audit without changing a byte of it.

An auditor is given either the relay's data directory (best with the relay stopped) or an
audit export made with ``casecircle audit export``. Neither is opened in place: the
database file and its write-ahead log are *copied* into a private temporary directory, the
copy is opened with SQLite's ``mode=ro``, and ``quick_check`` must pass. Opening the
original, even read-only, would touch its ``-shm`` index; copying only reads.

Copying a database that the relay is writing at that moment can yield an inconsistent
copy; ``quick_check`` then fails with :class:`~client.audit.errors.RelayDataError`, and the
remedy is to stop the relay or to audit an export (which takes a consistent snapshot).

The relay's identity public key — needed to check the tree heads clients collected — is
derived from ``relay-identity.key`` in a data directory, or read from
``relay-identity.pub`` in an export, which carries no private key.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.request import pathname2url

from client.audit.documented import DATABASE_FILE, IDENTITY_KEY_FILE, IDENTITY_PUBLIC_FILE
from client.audit.errors import AuditInputError, RelayDataError
from crypto.errors import CryptoError
from crypto.signatures import ED25519

ED25519_SEED_SIZE = 32


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayFile:
    """A file found under the data directory (``name`` relative to it)."""

    name: str
    size: int
    mode: int
    regular: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayData:
    """A read-only view of one relay's stored state."""

    path: Path
    files: tuple[RelayFile, ...]
    db: sqlite3.Connection
    relay_public_key: bytes | None
    identity_problem: str | None
    """Why no relay key could be taken from the identity file (``None`` when one was)."""

    @property
    def is_export(self) -> bool:
        return any(f.name == IDENTITY_PUBLIC_FILE for f in self.files)


def list_files(root: Path) -> tuple[RelayFile, ...]:
    """Every entry under ``root`` that is not a directory, symbolic links not followed."""
    found = []
    for directory, subdirectories, names in os.walk(root, followlinks=False):
        subdirectories.sort()
        for name in [*sorted(names), *(d for d in subdirectories if _is_link(directory, d))]:
            path = Path(directory, name)
            info = path.lstat()
            found.append(
                RelayFile(
                    name=path.relative_to(root).as_posix(),
                    size=info.st_size,
                    mode=stat.S_IMODE(info.st_mode),
                    regular=stat.S_ISREG(info.st_mode),
                )
            )
    return tuple(found)


def _is_link(directory: str, name: str) -> bool:
    return Path(directory, name).is_symlink()


def relay_public_key(root: Path) -> tuple[bytes | None, str | None]:
    key_file, public_file = root / IDENTITY_KEY_FILE, root / IDENTITY_PUBLIC_FILE
    try:
        if public_file.is_file():
            text = public_file.read_text(encoding="ascii").strip()
            key = bytes.fromhex(text)
            ED25519.validate_public_key(key)
            return key, None
        if key_file.is_file():
            seed = key_file.read_bytes()
            if len(seed) != ED25519_SEED_SIZE:
                return None, f"{IDENTITY_KEY_FILE} is {len(seed)} bytes, not an Ed25519 seed"
            return ED25519.load_private_key(seed).public_key, None
    except (OSError, ValueError, CryptoError) as exc:
        return None, f"the relay identity file cannot be read: {type(exc).__name__}"
    return None, "the data holds no relay identity file"


def _open_copy(database: Path, workdir: Path) -> sqlite3.Connection:
    """Copy the database and its write-ahead log (log first: a checkpoint between the two
    copies then leaves the database holding what the log held) and open the copy read-only."""
    copy = workdir / DATABASE_FILE
    wal = database.with_name(f"{DATABASE_FILE}-wal")
    try:
        if wal.is_file():
            shutil.copyfile(wal, workdir / wal.name)
        shutil.copyfile(database, copy)
    except OSError as exc:
        raise AuditInputError(f"{database} cannot be read: {exc.strerror}") from exc
    try:
        db = sqlite3.connect(f"file:{pathname2url(str(copy))}?mode=ro", uri=True)
        db.execute("PRAGMA query_only=ON")
        verdict = db.execute("PRAGMA quick_check").fetchone()
    except sqlite3.Error as exc:
        raise RelayDataError(f"the relay database cannot be opened: {exc}") from exc
    if verdict is None or verdict[0] != "ok":
        db.close()
        raise RelayDataError(
            "the copied relay database is not consistent (was the relay writing while it was"
            " copied? stop it, or audit an export)"
        )
    return db


@contextlib.contextmanager
def open_relay_data(path: Path) -> Iterator[RelayData]:
    """The relay data at ``path`` (a data directory or an audit export), read-only."""
    if not path.is_dir():
        raise AuditInputError(f"{path} is not a directory")
    database = path / DATABASE_FILE
    if not database.is_file():
        raise AuditInputError(f"{path} holds no {DATABASE_FILE}: not a relay data directory")
    files = list_files(path)
    key, problem = relay_public_key(path)
    with tempfile.TemporaryDirectory(prefix="casecircle-audit-") as workdir:
        db = _open_copy(database, Path(workdir))
        try:
            yield RelayData(
                path=path, files=files, db=db, relay_public_key=key, identity_problem=problem
            )
        finally:
            db.close()
