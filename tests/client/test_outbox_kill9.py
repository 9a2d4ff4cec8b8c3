"""The outbox survives kill -9 (ATTACKS.md F1; DESIGN.md §8: never lose a note the user wrote).

A separate process (:mod:`tests.client.outbox_writer`) unlocks one profile and queues
entries, printing each client message id once its ``enqueue`` has returned. It is killed
with SIGKILL at a random moment, then started again on the same profile, for several
rounds; the first round is killed early, possibly while it unlocks the profile or creates
and migrates the database. Afterwards every printed id is in the outbox exactly once, the
outbox holds the unbroken sequence of ids with the payloads written, at most one entry per
kill was committed without being printed, the database passes ``PRAGMA integrity_check``,
and the kills never left the profile locked out.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pytest

from client.profile import ProfileInUseError
from tests.client.conftest import (
    PASSPHRASE,
    SUITE,
    make_identity,
    make_signing_key,
    tiny_profile,
)
from tests.client.outbox_writer import GROUP_ID, payload

REPO_ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 6
COUNT = 1_000_000  # more than any round can write: every round ends in a kill
FIRST_ID_TIMEOUT = 20.0
EARLY_KILL_WINDOW = (0.0, 0.6)  # seconds after the start: unlock, migration, first entries
LATE_KILL_WINDOW = (0.0, 0.3)  # seconds after the first printed id

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


class WriterProcess:
    """One run of the outbox writer, its stdout read line by line as it comes."""

    def __init__(self, root: Path, stderr: IO[bytes]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.client.outbox_writer", str(root), str(COUNT)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        self.lines: list[bytes] = []
        self.first_line = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            self.first_line.set()

    def kill(self) -> int:
        """SIGKILL (if still running), reap, and read what was printed up to then."""
        self.process.send_signal(signal.SIGKILL)
        code = self.process.wait(timeout=10)
        self._reader.join(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code

    def printed_ids(self) -> list[str]:
        """Whole lines only: a line cut short by the kill was not printed."""
        return [
            line[:-1].decode() for line in self.lines if line.endswith(b"\n") and line != b"done\n"
        ]


@pytest.mark.asyncio
async def test_every_printed_outbox_entry_survives_kill_9(tmp_path: Path) -> None:
    seed = int.from_bytes(os.urandom(8), "big")
    rng = random.Random(seed)
    context = f"random seed {seed}"
    root = tmp_path / "profile"
    await (
        await tiny_profile(root).create(
            PASSPHRASE, identity=make_identity(), suite=SUITE, signing_key=make_signing_key()
        )
    ).lock()

    printed: list[str] = []
    stderr_path = tmp_path / "writer.stderr"
    started = time.monotonic()
    with stderr_path.open("wb") as stderr:
        for round_number in range(ROUNDS):
            writer = WriterProcess(root, stderr)
            try:
                if round_number == 0:
                    await asyncio.sleep(rng.uniform(*EARLY_KILL_WINDOW))
                else:
                    got_one = await asyncio.to_thread(writer.first_line.wait, FIRST_ID_TIMEOUT)
                    assert got_one, f"round {round_number}: the writer printed nothing"
                    with pytest.raises(ProfileInUseError):  # the writer holds the profile
                        await tiny_profile(root).unlock(PASSPHRASE)
                    await asyncio.sleep(rng.uniform(*LATE_KILL_WINDOW))
                assert writer.process.poll() is None, "the writer exited before the kill"
            finally:
                code = writer.kill()
            assert code == -signal.SIGKILL, f"round {round_number} ended with {code}; {context}"
            printed += writer.printed_ids()
    elapsed = time.monotonic() - started
    assert b"Traceback" not in stderr_path.read_bytes(), stderr_path.read_text()
    assert printed, "no round wrote anything; the test showed nothing"

    database = root / "local.db"
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)], context
        stored_ids = [
            row[0] for row in conn.execute("SELECT client_message_id FROM outbox ORDER BY position")
        ]
    conn.close()

    missing = set(printed) - set(stored_ids)
    assert not missing, f"acknowledged entries lost: {sorted(missing)[:5]}; {context}"
    assert len(printed) == len(set(printed)), f"an id was written twice; {context}"
    assert len(stored_ids) == len(set(stored_ids))
    assert stored_ids == [f"entry-{i:06d}" for i in range(len(stored_ids))], context
    assert len(stored_ids) - len(printed) <= ROUNDS, context  # at most one in flight per kill

    async with await tiny_profile(root).unlock(PASSPHRASE) as unlocked:
        pending = await (await unlocked.store()).pending_outbox()
    assert [entry.client_message_id for entry in pending] == stored_ids
    for entry in pending:
        assert entry.group_id == GROUP_ID
        assert entry.payload == payload(entry.client_message_id)
    assert elapsed < 60, f"the kill rounds took {elapsed:.1f} s"
