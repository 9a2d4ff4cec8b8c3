"""The canary against a real relay on 127.0.0.1 (in a thread, as ``casecircle`` commands run
their own event loops): ``casecircle audit canary`` plants markers through two throwaway
devices and finds none on the relay's disk or in its log file; the full audit of that relay
with the markers passes; a marker planted in the log file and in a blob is found."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import io
import json
import logging
import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from client.audit.auditor import AuditOptions, run_audit
from client.audit.canary import read_markers, search
from client.audit.cli import main
from client.cli_session import ClientSettings, Console
from client.coordinator import create_root, register_coordinator
from client.profile import Profile
from client.random import SystemRandom
from tests.client.conftest import TEST_FLOOR, TINY
from tests.client.relay_thread import RelayThread

PASSPHRASE = "correct horse battery staple"
SETTINGS = ClientSettings(params=TINY, insecure_floor_for_tests=TEST_FLOOR, poll_interval=0.05)
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"  # as `casecircle server` logs
RELAY_LOGGERS = ("aiohttp.access", "server", "aiohttp.server", "aiohttp.web")


class LoggingRelay(RelayThread):
    """The test relay with its access log on: every request line reaches the log file."""

    def __init__(self, data_dir: Path, root_public_key: bytes) -> None:
        super().__init__(data_dir, root_public_key)
        self._config = dataclasses.replace(self._config, access_log=True)


@dataclass(frozen=True)
class Planted:
    relay_dir: Path
    log: Path
    markers: Path
    root_key: bytes
    code: int
    out: str


@contextlib.contextmanager
def _relay_log(path: Path) -> Iterator[None]:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    loggers = [logging.getLogger(name) for name in RELAY_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
        handler.close()


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Planted]:
    base = tmp_path_factory.mktemp("canary")
    coordinator = Profile(base / "coordinator", params=TINY, insecure_floor_for_tests=TEST_FLOOR)
    root_key = create_root(
        coordinator, PASSPHRASE, SystemRandom(), params=TINY, insecure_floor_for_tests=TEST_FLOOR
    )
    (base / "passphrase").write_text(PASSPHRASE + "\n", encoding="utf-8")
    relay = LoggingRelay(base / "relay", root_key)
    log = base / "relay.log"
    with _relay_log(log):
        relay.start()
        try:

            async def register() -> None:
                opened = await register_coordinator(
                    coordinator, PASSPHRASE, relay.url, "Koordinátorka", "Město Jirkov",
                    insecure_floor_for_tests=TEST_FLOOR,
                )  # fmt: skip
                await opened.lock()

            asyncio.run(register())
            out, err = io.StringIO(), io.StringIO()
            code = main(
                [
                    "audit", "canary", "--profile", str(base / "coordinator"),
                    "--passphrase-file", str(base / "passphrase"),
                    "--data-dir", str(base / "relay"), "--log", str(log),
                    "--markers-out", str(base / "markers.json"), "--json",
                ],
                console=Console(out=out, err=err),
                settings=SETTINGS,
            )  # fmt: skip
        finally:
            relay.stop()
    assert code == 0, f"{out.getvalue()}\n{err.getvalue()}"
    yield Planted(base / "relay", log, base / "markers.json", root_key, code, out.getvalue())


def test_the_canary_finds_nothing_on_an_honest_relay(planted: Planted) -> None:
    result = json.loads(planted.out)
    assert result["status"] == "pass", result
    assert int(result["facts"]["files searched"]) >= 3  # database, identity key, log
    labels = {m.label for m in read_markers(planted.markers).markers}
    assert {"case title", "note text", "file name", "file content"} <= labels
    assert "attachment file key" in labels
    assert "signature key of canary 1" in labels
    assert planted.log.read_text(encoding="utf-8").count("aiohttp.access") > 10


def test_the_full_audit_with_the_markers_passes(planted: Planted) -> None:
    report = run_audit(
        AuditOptions(
            data_dir=planted.relay_dir, root_key=planted.root_key, markers=planted.markers,
            logs=(planted.log,),
        ),
        int(time.time()),
    )  # fmt: skip
    assert report.passed, [(c.check, c.findings) for c in report.checks if not c.passed]
    assert all(c.status.value == "pass" for c in report.checks)
    notes = [f.detail for f in report.check("transparency").findings]
    assert sum("coordinator device" in n for n in notes) == 1


def test_a_marker_planted_in_the_log_and_in_a_blob_is_found(
    planted: Planted, tmp_path: Path
) -> None:
    markers = read_markers(planted.markers)
    by_label = {m.label: m for m in markers.markers}
    relay = tmp_path / "relay"
    shutil.copytree(planted.relay_dir, relay)
    log = tmp_path / "relay.log"
    note = by_label["note text"].value
    log.write_text(
        planted.log.read_text(encoding="utf-8")
        + "2026-01-01 10:00:00,000 INFO aiohttp.access body="
        + base64.b64encode(b"{" + note).decode()
        + "\n",
        encoding="utf-8",
    )
    content = by_label["file content"].value
    with contextlib.closing(sqlite3.connect(relay / "relay.sqlite3", isolation_level=None)) as db:
        (data,) = db.execute("SELECT data FROM blob_chunks").fetchone()
        planted_data = data[:100] + content.hex().encode() + data[100 + 2 * len(content) :]
        db.execute("UPDATE blob_chunks SET data = ?", (planted_data,))
    hits = search([relay, log], markers).hits
    found = {(h.marker, Path(h.file).name, h.encoding.split(" ")[0]) for h in hits}
    assert ("note text", "relay.log", "base64") in found
    assert ("file content", "relay.sqlite3", "hex") in found
    report = run_audit(
        AuditOptions(
            data_dir=relay, root_key=planted.root_key, markers=planted.markers, logs=(log,)
        ),
        int(time.time()),
    )
    assert "Canary" in report.failed_checks


def test_the_canary_needs_somewhere_to_search_or_to_keep_the_markers(planted: Planted) -> None:
    base = planted.relay_dir.parent
    err = io.StringIO()
    code = main(
        [
            "audit", "canary", "--profile", str(base / "coordinator"),
            "--passphrase-file", str(base / "passphrase"),
        ],
        console=Console(out=io.StringIO(), err=err),
        settings=SETTINGS,
    )  # fmt: skip
    assert code == 1
    assert err.getvalue().startswith("casecircle: command: give --data-dir")
