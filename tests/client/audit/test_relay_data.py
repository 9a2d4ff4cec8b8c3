"""Opening a relay's data for the audit: a private read-only copy that sees the write-ahead
log, and an original that stays exactly as it was."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

import pytest

from client.audit.errors import AuditInputError, RelayDataError
from client.audit.relay_data import list_files, open_relay_data
from crypto.signatures import ED25519
from tests.helpers import DeterministicRandom


def _wal_database(directory: Path) -> sqlite3.Connection:
    """A database whose rows are still only in its write-ahead log (left open)."""
    db = sqlite3.connect(directory / "relay.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE t (x)")
    db.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(50)])
    return db


def test_the_copy_sees_the_write_ahead_log_and_the_original_is_untouched(tmp_path: Path) -> None:
    with contextlib.closing(_wal_database(tmp_path)):
        before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
        with open_relay_data(tmp_path) as data:
            assert data.db.execute("SELECT count(*) FROM t").fetchone() == (50,)
            with pytest.raises(sqlite3.OperationalError):
                data.db.execute("INSERT INTO t VALUES (1)")
        assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_what_is_not_relay_data_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AuditInputError, match="not a directory"), open_relay_data(tmp_path / "x"):
        pass
    no_database = pytest.raises(AuditInputError, match=r"holds no relay\.sqlite3")
    with no_database, open_relay_data(tmp_path):
        pass
    (tmp_path / "relay.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(RelayDataError), open_relay_data(tmp_path):
        pass


def test_the_relay_key_comes_from_the_identity_file(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "relay.sqlite3").close()
    key = ED25519.generate(DeterministicRandom("relay"))
    (tmp_path / "relay-identity.key").write_bytes(key.to_bytes())
    with open_relay_data(tmp_path) as data:
        assert (data.relay_public_key, data.is_export) == (key.public_key, False)
    (tmp_path / "relay-identity.key").write_bytes(b"short")
    with open_relay_data(tmp_path) as data:
        assert data.relay_public_key is None
        assert data.identity_problem and "not an Ed25519 seed" in data.identity_problem
    (tmp_path / "relay-identity.pub").write_text(key.public_key.hex() + "\n")
    with open_relay_data(tmp_path) as data:
        assert (data.relay_public_key, data.is_export) == (key.public_key, True)


def test_files_are_listed_with_their_mode_and_links_unfollowed(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"1")
    os.chmod(tmp_path / "a", 0o640)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"22")
    (tmp_path / "link").symlink_to(tmp_path / "sub")
    files = {f.name: f for f in list_files(tmp_path)}
    assert set(files) == {"a", "link", "sub/b"}
    assert (files["a"].mode, files["a"].regular) == (0o640, True)
    assert files["link"].regular is False
