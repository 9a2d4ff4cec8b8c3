"""Replaying the stored log: an empty log, a gap, times running backwards, and consistency
between the sizes clients saw."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from client.audit.heads import read_heads
from client.audit.relay_data import open_relay_data
from client.audit.results import Evidence
from client.audit.translog import check_heads, replay_log
from protocol.transparency import EMPTY_ROOT
from server.storage.sqlite import migrate
from tests.client.audit.conftest import DemoRelay


def _log_db(tmp_path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(tmp_path / "relay.sqlite3", isolation_level=None)
    migrate(db)
    return db


def test_an_empty_log_replays_to_the_empty_root(tmp_path: Path) -> None:
    evidence = Evidence("transparency")
    with contextlib.closing(_log_db(tmp_path)) as db:
        view = replay_log(db, bytes(32), evidence)
    assert (view.size, view.roots) == (0, (EMPTY_ROOT,))
    assert not evidence.failed


def test_gaps_and_undecodable_entries_are_named(tmp_path: Path) -> None:
    evidence = Evidence("transparency")
    with contextlib.closing(_log_db(tmp_path)) as db:
        db.executemany(
            "INSERT INTO log_entries (log_index, leaf, appended_at) VALUES (?, ?, ?)",
            [(0, b"\x01garbage", 20), (2, b"\x09", 10)],
        )
        view = replay_log(db, None, evidence)
    result = evidence.result("ok")
    failures = [(f.subject, f.detail) for f in result.findings if f.failed]
    assert failures[0][0] == "platform root"
    assert ("log entry 2", "stored at position 1: entries are missing") in failures
    assert sum(s.startswith("log entry") and "LogEntry" in d for s, d in failures) == 2
    notes = [f.subject for f in result.findings if not f.failed]
    assert notes == ["log entry 1"]  # appended earlier than the entry before it
    assert view.timeline() == ((20, 1), (10, 2))


def test_heads_of_every_size_seen_are_proved_consistent(demo_relay: DemoRelay) -> None:
    evidence = Evidence("transparency")
    exports = [read_heads(path) for path in demo_relay.heads]
    with open_relay_data(demo_relay.relay_dir) as data:
        view = replay_log(data.db, demo_relay.root_key, evidence)
        check_heads(view, exports, demo_relay.root_key, data.relay_public_key, evidence)
    sizes = {h.tree_head.tree_size for e in exports for h in e.heads}
    facts = dict(evidence.result("ok").facts)
    assert facts["consistency proofs verified"] == str(len(sizes) - 1)
    assert facts["tree heads verified"] == str(sum(len(e.heads) for e in exports))
    assert not evidence.failed
