"""The inventory check on what a relay might add: tables, views, files, key permissions and
log lines from undocumented loggers."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from client.audit.inventory import check_inventory, describe
from client.audit.relay_data import RelayData, list_files
from client.audit.results import CheckResult
from server.storage.sqlite import migrate

RECORD = "2026-01-05 09:30:00,123 INFO {} {}\n"


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "relay").mkdir()
    path = tmp_path / "relay" / "relay.sqlite3"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        migrate(db)
    yield tmp_path / "relay"


def _check(directory: Path, logs: tuple[Path, ...] = ()) -> CheckResult:
    with contextlib.closing(sqlite3.connect(directory / "relay.sqlite3")) as db:
        data = RelayData(
            path=directory, files=list_files(directory), db=db, relay_public_key=None,
            identity_problem=None,
        )  # fmt: skip
        return check_inventory(data, describe(db), logs)


def _failures(result: CheckResult) -> list[str]:
    return [f"{f.subject}: {f.detail}" for f in result.findings if f.failed]


def test_added_tables_views_and_virtual_tables_fail(relay: Path) -> None:
    with contextlib.closing(sqlite3.connect(relay / "relay.sqlite3", isolation_level=None)) as db:
        db.execute("CREATE TABLE case_titles (title TEXT)")
        db.execute("CREATE VIEW titles AS SELECT * FROM case_titles")
        db.execute("DROP TABLE sends")
    failures = _failures(_check(relay))
    assert "table case_titles: the table is not in docs/zero-knowledge.md" in failures
    assert any(f.startswith("view titles") for f in failures)
    assert any(f.startswith("column sends.idempotency_key: documented but not") for f in failures)


def test_the_identity_key_must_be_readable_by_its_owner_only(relay: Path) -> None:
    key = relay / "relay-identity.key"
    key.write_bytes(bytes(32))
    os.chmod(key, 0o600)
    assert _failures(_check(relay)) == []
    os.chmod(key, 0o644)
    assert _failures(_check(relay)) == [
        "file relay-identity.key: the relay's private key is readable by others (mode 0644)"
    ]


def test_log_lines_must_come_from_documented_loggers(relay: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.log"
    good.write_text(
        RECORD.format("server.app", "relay listening on http://127.0.0.1:8443")
        + RECORD.format("server.storage.writer", "write batch of 3 operations failed")
        + "Traceback (most recent call last):\n  File ...\n",
        encoding="utf-8",
    )
    result = _check(relay, (good,))
    assert _failures(result) == []
    assert dict(result.facts)["log records checked"] == "2"
    bad = tmp_path / "bad.log"
    bad.write_text(
        "a stray line\n" + RECORD.format("client.member", "note text here"), encoding="utf-8"
    )
    failures = _failures(_check(relay, (bad, tmp_path / "rotated.log")))
    assert failures == [
        f"log {tmp_path / 'rotated.log'}: the log file given does not exist",
        "log bad.log:1: a line that is not a record of the relay's log format",
        "log bad.log:2: logger 'client.member' is not documented",
    ]
