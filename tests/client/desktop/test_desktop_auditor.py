"""The auditor's page: opened over the start page without a profile, it audits an export of
the relay the demo scenario used and shows PASS with each check and its evidence; a
tampered copy shows FAIL with the failing findings; inputs that cannot be audited show a
clear message instead of a report. Back returns to the start page."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import asyncio
import contextlib
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QTreeWidgetItem

from client.audit.documented import DATABASE_FILE
from client.audit.export import export_relay_data
from client.coordinator import open_root
from client.demo import PASSPHRASE, DemoSettings, run_demo
from client.desktop.auditor_page import AuditorPage, open_auditor_page
from client.desktop.i18n import LanguageSwitch
from client.desktop.window import DesktopWindow
from client.profile import Profile
from crypto.signatures import ED25519
from tests.client.conftest import TEST_FLOOR, TINY
from tests.helpers import DeterministicRandom

TIMEOUT_MS = 30_000
NOTE = "Děti v péči babičky, návštěva domluvena na pondělí."


@dataclass(frozen=True)
class Export:
    path: Path
    root_key: bytes


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Export:
    """An audit export of the relay the whole demo scenario ran against, then stopped."""
    base = tmp_path_factory.mktemp("audited-desktop")
    lines: list[str] = []
    settings = DemoSettings(params=TINY, insecure_floor_for_tests=TEST_FLOOR)
    assert asyncio.run(run_demo(base, lines.append, settings)) == 0, "\n".join(lines)
    root = open_root(
        base / "profiles" / "coordinator", PASSPHRASE, insecure_floor_for_tests=TEST_FLOOR
    )
    return Export(export_relay_data(base / "relay", base / "export"), root.public_key)


@pytest.fixture
def window(qtbot: Any, tmp_path: Path) -> Iterator[DesktopWindow]:
    """The app's window on a profile that does not exist yet: the enrol page."""
    settings = QSettings(str(tmp_path / "desktop.ini"), QSettings.Format.IniFormat)
    profile = Profile(tmp_path / "profile", params=TINY, insecure_floor_for_tests=TEST_FLOOR)
    opened = DesktopWindow(profile, settings=settings, language=LanguageSwitch(settings))
    qtbot.addWidget(opened)
    opened.show()
    try:
        yield opened
    finally:
        opened.close()


def _children(item: QTreeWidgetItem) -> list[tuple[str, str, str]]:
    """A check's evidence rows as shown: (kind, subject, detail)."""
    rows = []
    for index in range(item.childCount()):
        child = item.child(index)
        assert child is not None
        rows.append((child.text(0), child.text(1), child.text(2)))
    return rows


def _run(qtbot: Any, page: AuditorPage) -> None:
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.busy, timeout=TIMEOUT_MS)


def test_an_honest_export_passes(
    qtbot: Any, window: DesktopWindow, export: Export, tmp_path: Path
) -> None:
    start = window.stack.currentWidget()
    page = open_auditor_page(window)
    assert window.stack.currentWidget() is page
    page.data_dir.setText(str(export.path / DATABASE_FILE))  # the database file will do
    page.root_key.setText(export.root_key.hex())
    _run(qtbot, page)
    assert page.error.text() == ""
    assert page.report is not None and page.report.passed
    assert page.verdict.text() == "Verdict: PASS"
    assert page.report.is_export and page.report.data_dir == str(export.path)
    shown = page.check_texts()
    assert [(title, result) for title, (result, _) in shown.items()] == [
        ("1. Inventory", "PASS"),
        ("2. Ciphertext only", "PASS"),
        ("3. Canary", "SKIPPED"),
        ("4. Transparency log", "PASS"),
    ]
    transparency = page.checks.topLevelItem(3)
    assert transparency is not None
    evidence = {subject: detail for _, subject, detail in _children(transparency)}
    assert evidence["entry signatures verified"] == evidence["log entries"] == "6"
    assert "export" in page.about.text() and export.root_key.hex() in page.about.text()

    report_file = tmp_path / "report.html"
    page.save_report_to(report_file)
    qtbot.waitUntil(lambda: not page.busy, timeout=TIMEOUT_MS)
    assert "Verdict:" in report_file.read_text(encoding="utf-8")
    assert "Report saved" in page.notice.text()

    qtbot.mouseClick(page.back, Qt.MouseButton.LeftButton)
    assert window.stack.currentWidget() is start
    assert window.stack.indexOf(page) == -1


def test_a_tampered_export_fails_with_its_evidence(
    qtbot: Any, window: DesktopWindow, export: Export, tmp_path: Path
) -> None:
    broken = Path(shutil.copytree(export.path, tmp_path / "broken"))
    with contextlib.closing(sqlite3.connect(broken / DATABASE_FILE, isolation_level=None)) as db:
        db.execute("ALTER TABLE messages ADD COLUMN note_text TEXT")
        db.execute("UPDATE messages SET note_text = ?", (NOTE,))
    page = open_auditor_page(window)
    page.data_dir.setText(str(broken))
    page.root_key.setText(export.root_key.hex())
    _run(qtbot, page)
    assert page.report is not None and not page.report.passed
    assert page.verdict.text() == "Verdict: FAIL"
    inventory = page.checks.topLevelItem(0)
    assert inventory is not None and inventory.text(1) == "FAIL"
    assert inventory.isExpanded(), "a failed check opens on its evidence"
    failures = [
        (subject, detail) for kind, subject, detail in _children(inventory) if kind == "Failure"
    ]
    assert any("note_text" in subject + detail for subject, detail in failures), failures


def test_another_root_key_fails_the_log_check(
    qtbot: Any, window: DesktopWindow, export: Export
) -> None:
    page = open_auditor_page(window)
    page.data_dir.setText(str(export.path))
    other = ED25519.generate(DeterministicRandom("another platform")).public_key
    page.root_key.setText(other.hex())
    _run(qtbot, page)
    assert page.check_texts()["4. Transparency log"][0] == "FAIL"
    assert page.verdict.text() == "Verdict: FAIL"


def test_inputs_that_cannot_be_audited_say_why(
    qtbot: Any, window: DesktopWindow, export: Export, tmp_path: Path
) -> None:
    page = open_auditor_page(window)
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    assert page.error.text() == "Choose the relay's data directory or an audit export."
    assert not page.busy

    page.data_dir.setText(str(export.path))
    page.root_key.setText("abcd")
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    assert page.error.text() == "A key is 64 hex digits."
    assert page.report is None
    page.root_key.setText(bytes(range(32)).hex())  # 64 hex digits, but no Ed25519 key
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    assert page.error.text().startswith("The audit could not run:")
    assert "Ed25519" in page.error.text()

    empty = tmp_path / "not-a-relay"
    empty.mkdir()
    page.data_dir.setText(str(empty))
    page.root_key.clear()
    _run(qtbot, page)
    assert page.report is None and page.verdict.text() == ""
    assert page.error.text().startswith("The audit could not run:")
    assert DATABASE_FILE in page.error.text()

    heads = tmp_path / "heads.json"
    heads.write_text("{not json", encoding="utf-8")
    page.data_dir.setText(str(export.path))
    page.heads.add_path(heads)
    _run(qtbot, page)
    assert page.report is None
    assert "heads" in page.error.text()
