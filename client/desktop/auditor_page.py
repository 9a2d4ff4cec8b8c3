"""The auditor's view: check a relay's stored state from outside, as ``casecircle audit``
does (:mod:`client.audit`), and read the report on screen.

It needs no profile, so it opens from the start pages too. The auditor chooses the relay's
data directory or an audit export (``casecircle audit export``), and may give the platform
root key, the relay's key, tree-head files exported by clients, canary markers and the
relay's log files, as the command line allows. The audit reads a copy of the database and
takes a while: it runs in a thread of the worker (``asyncio.to_thread``), never in the Qt
thread. The report shows the verdict first, then each check with its result, what it
proves and cannot prove, its facts and its evidence. Everything the evidence quotes came
from the relay's data, which a hostile relay controls: it is shown as plain text only
(labels in plain-text format, item views never interpret markup).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from client.audit.auditor import AuditOptions, AuditReport, run_audit
from client.audit.claims import CHECKS
from client.audit.documented import DATABASE_FILE
from client.audit.errors import AuditInputError
from client.audit.report import render_html
from client.audit.results import CheckResult, Status
from client.desktop.messages import error_text
from client.desktop.plain_text import heading_label, plain_label
from client.desktop.retranslating import Retranslating
from client.desktop.worker import AsyncWorker, CallGroup, PendingCall
from crypto.errors import CasecircleError

if TYPE_CHECKING:
    from client.desktop.window import DesktopWindow

KEY_SIZE = 32
MAX_COLUMN_WIDTH = 320
GREEN = "#2e7d32"
RED = "#c62828"
AMBER = "#8d6e00"
STATUS_COLOURS = {
    Status.PASS: GREEN,
    Status.FAIL: RED,
    Status.SKIPPED: AMBER,
}


def _brush(colour: str) -> QBrush:
    return QBrush(QColor(colour))


class KeyFormatError(CasecircleError):
    """A key typed into the auditor's form is not 64 hex digits."""

    code = "audit_key_format"


def parse_key(text: str) -> bytes | None:
    """A typed public key (hex, spaces allowed), or None when the field is empty."""
    cleaned = "".join(text.split())
    if not cleaned:
        return None
    try:
        key = bytes.fromhex(cleaned)
    except ValueError:
        raise KeyFormatError("a key is 64 hex digits") from None
    if len(key) != KEY_SIZE:
        raise KeyFormatError("a key is 64 hex digits")
    return key


def data_directory(path: Path) -> Path:
    """The directory to audit: the one chosen, or the one holding a chosen database file."""
    return path.parent if path.is_file() else path


async def audit_in_thread(options: AuditOptions) -> AuditReport:
    """The audit off the event loop: it copies and reads a whole database."""
    return await asyncio.to_thread(run_audit, options, int(time.time()))


async def _write_text(path: Path, text: str) -> Path:
    await asyncio.to_thread(path.write_text, text, "utf-8")
    return path


class PathList(QWidget):
    """A list of files (or folders) with Add and Remove, for the inputs given repeatedly."""

    def __init__(self, choose: Callable[[], list[str]]) -> None:
        super().__init__()
        self._choose = choose
        self.list = QListWidget()
        self.list.setMaximumHeight(80)
        self.add = QPushButton()
        self.add.clicked.connect(self._add)
        self.remove = QPushButton()
        self.remove.clicked.connect(self._remove)
        buttons = QVBoxLayout()
        buttons.addWidget(self.add)
        buttons.addWidget(self.remove)
        buttons.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

    def _add(self) -> None:
        for name in self._choose():
            self.add_path(Path(name))

    def add_path(self, path: Path) -> None:
        self.list.addItem(str(path))

    def _remove(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.list.takeItem(row)

    def paths(self) -> tuple[Path, ...]:
        return tuple(Path(self.list.item(i).text()) for i in range(self.list.count()))


class AuditorPage(Retranslating, QWidget):
    """See the module docstring. ``back_requested`` asks the window for the page before."""

    back_requested = Signal()

    def __init__(self, worker: AsyncWorker) -> None:
        super().__init__()
        self.worker = worker
        self.report: AuditReport | None = None
        self.calls = CallGroup(worker, self._failed)
        self._audit_call: PendingCall[AuditReport] | None = None

        self.heading = heading_label()
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self._make_form()
        self.back = QPushButton()
        self.back.clicked.connect(self.back_requested)
        self.run_button = QPushButton()
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.run)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.hide()
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setStyleSheet(f"color: {RED};")
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)

        self._make_report()
        buttons = QHBoxLayout()
        buttons.addWidget(self.back)
        buttons.addStretch(1)
        buttons.addWidget(self.run_button)
        report_row = QHBoxLayout()
        report_row.addWidget(self.verdict, 1)
        report_row.addWidget(self.save_report, 0, Qt.AlignmentFlag.AlignBottom)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.intro)
        layout.addLayout(self.form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.error)
        layout.addWidget(self.notice)
        layout.addLayout(report_row)
        layout.addWidget(self.about)
        layout.addWidget(self.checks, 1)
        self.retranslate()

    def _make_form(self) -> None:
        """The audit's inputs, as the command line takes them."""
        self.data_dir = QLineEdit()
        self.choose_folder = QPushButton()
        self.choose_folder.clicked.connect(self._choose_folder)
        self.choose_file = QPushButton()
        self.choose_file.clicked.connect(self._choose_database)
        self.root_key = QLineEdit()
        self.relay_key = QLineEdit()
        self.heads = PathList(self._choose_heads)
        self.markers = QLineEdit()
        self.choose_markers = QPushButton()
        self.choose_markers.clicked.connect(self._choose_markers)
        self.logs = PathList(self._choose_logs)
        data_field, markers_field = QWidget(), QWidget()
        data_row = QHBoxLayout(data_field)
        data_row.setContentsMargins(0, 0, 0, 0)
        data_row.addWidget(self.data_dir, 1)
        data_row.addWidget(self.choose_folder)
        data_row.addWidget(self.choose_file)
        markers_row = QHBoxLayout(markers_field)
        markers_row.setContentsMargins(0, 0, 0, 0)
        markers_row.addWidget(self.markers, 1)
        markers_row.addWidget(self.choose_markers)
        self.form = QFormLayout()
        # Labels made here: QFormLayout makes none for an empty text, and they get theirs
        # in retranslate().
        self.form_labels = [QLabel() for _ in range(6)]
        for label, field in zip(
            self.form_labels,
            (data_field, self.root_key, self.relay_key, self.heads, markers_field, self.logs),
            strict=True,
        ):
            self.form.addRow(label, field)

    def _make_report(self) -> None:
        """Where the verdict and each check's result and evidence are shown."""
        self.notice = plain_label()

        self.verdict = QLabel()
        self.verdict.setObjectName("verdict")
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        verdict_font = self.verdict.font()
        verdict_font.setPointSizeF(verdict_font.pointSizeF() * 1.8)
        verdict_font.setBold(True)
        self.verdict.setFont(verdict_font)
        self.about = plain_label()
        self.about.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.checks = QTreeWidget()
        self.checks.setObjectName("checks")
        self.checks.setColumnCount(3)
        self.checks.setWordWrap(True)
        self.save_report = QPushButton()
        self.save_report.clicked.connect(self._save_report_dialog)
        self.save_report.setEnabled(False)

    # --- language -----------------------------------------------------------------------

    def retranslate(self) -> None:
        self.heading.setText(self.tr("Audit a relay"))
        self.intro.setText(
            self.tr(
                "Checks from outside that the relay stores only ciphertext and an honest"
                " transparency log. Give the relay's data directory (best with the relay"
                " stopped) or an audit export; nothing there is changed."
            )
        )
        labels = [
            self.tr("Relay data or export"),
            self.tr("Platform root key"),
            self.tr("Relay key"),
            self.tr("Tree heads files"),
            self.tr("Canary markers"),
            self.tr("Relay log files"),
        ]
        for label, text in zip(self.form_labels, labels, strict=True):
            label.setText(text)
        self.data_dir.setPlaceholderText(self.tr("A folder holding {0}").format(DATABASE_FILE))
        self.choose_folder.setText(self.tr("Folder…"))
        self.choose_file.setText(self.tr("Database file…"))
        self.root_key.setPlaceholderText(
            self.tr("64 hex digits; optional when tree heads files are given")
        )
        self.relay_key.setPlaceholderText(
            self.tr("64 hex digits; optional, taken from the data when left empty")
        )
        self.markers.setPlaceholderText(self.tr("Optional: without markers the canary is skipped"))
        self.choose_markers.setText(self.tr("Choose…"))
        for paths in (self.heads, self.logs):
            paths.add.setText(self.tr("Add…"))
            paths.remove.setText(self.tr("Remove"))
        self.back.setText(self.tr("Back"))
        self.run_button.setText(self.tr("Run the audit"))
        self.save_report.setText(self.tr("Save HTML report…"))
        self.checks.setHeaderLabels([self.tr("Check"), self.tr("Result"), self.tr("Details")])
        self._show_report(self.report)

    # --- choosing the inputs ------------------------------------------------------------

    def _choose_folder(self) -> None:
        name = QFileDialog.getExistingDirectory(self, self.tr("Relay data directory or export"))
        if name:
            self.data_dir.setText(name)

    def _choose_database(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("The relay's database"),
            "",
            self.tr("Relay database ({0})").format(DATABASE_FILE),
        )
        if name:
            self.data_dir.setText(str(data_directory(Path(name))))

    def _choose_heads(self) -> list[str]:
        names, _ = QFileDialog.getOpenFileNames(
            self, self.tr("Tree heads exported by clients"), "", self.tr("JSON files (*.json)")
        )
        return names

    def _choose_logs(self) -> list[str]:
        names, _ = QFileDialog.getOpenFileNames(self, self.tr("The relay's log files"))
        return names

    def _choose_markers(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, self.tr("Canary markers"))
        if name:
            self.markers.setText(name)

    def options(self) -> AuditOptions:
        """The audit's inputs as typed; raises a :class:`CasecircleError` saying what is
        wrong with them."""
        typed = self.data_dir.text().strip()
        if not typed:
            raise AuditInputError("no relay data chosen")
        markers = self.markers.text().strip()
        return AuditOptions(
            data_dir=data_directory(Path(typed)),
            root_key=parse_key(self.root_key.text()),
            relay_key=parse_key(self.relay_key.text()),
            heads=self.heads.paths(),
            markers=Path(markers) if markers else None,
            logs=self.logs.paths(),
        )

    # --- running ------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Some call is still out, or its answer not yet shown (tests wait on this)."""
        return self.calls.busy

    def run(self) -> None:
        if not self.data_dir.text().strip():
            self.error.setText(self.tr("Choose the relay's data directory or an audit export."))
            return
        try:
            options = self.options()
        except KeyFormatError:
            self.error.setText(self.tr("A key is 64 hex digits."))
            return
        except CasecircleError as exc:
            self._failed(exc)
            return
        self.error.clear()
        self.notice.clear()
        self._show_report(None)
        self._set_running(True)
        self._audit_call = self.calls.submit(audit_in_thread(options), self._finished)

    def _set_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.run_button.setEnabled(not running)

    def _finished(self, report: AuditReport) -> None:
        self._set_running(False)
        self._show_report(report)

    def _failed(self, error: BaseException) -> None:
        self._set_running(False)
        self.error.setText(self.tr("The audit could not run: {0}").format(error_text(error)))

    def cancel(self) -> None:
        """Forget a running audit (its thread finishes on its own; nothing is written)."""
        if self._audit_call is not None:
            self._audit_call.cancel()
            self._audit_call = None
        self._set_running(False)

    # --- the report ---------------------------------------------------------------------

    def _status_text(self, status: Status) -> str:
        return {
            Status.PASS: self.tr("PASS"),
            Status.FAIL: self.tr("FAIL"),
            Status.SKIPPED: self.tr("SKIPPED"),
        }[status]

    def _show_report(self, report: AuditReport | None) -> None:
        self.report = report
        self.checks.clear()
        self.save_report.setEnabled(report is not None)
        if report is None:
            self.verdict.clear()
            self.about.clear()
            return
        status = Status.PASS if report.passed else Status.FAIL
        self.verdict.setText(self.tr("Verdict: {0}").format(self._status_text(status)))
        self.verdict.setStyleSheet(f"color: {STATUS_COLOURS[status]};")
        source = (
            self.tr("an audit export") if report.is_export else self.tr("a relay data directory")
        )
        root = report.root_key.hex() if report.root_key is not None else self.tr("not given")
        relay = report.relay_key.hex() if report.relay_key is not None else self.tr("unknown")
        self.about.setText(
            self.tr("Audited {0} ({1}). Platform root key: {2}. Relay key: {3}.").format(
                report.data_dir, source, root, relay
            )
        )
        for check in report.checks:
            self.checks.addTopLevelItem(self._check_item(check))
        # Columns sized to the evidence too (only shown rows count), within reason; then
        # only the failed checks stay open on their evidence.
        self.checks.expandAll()
        for column in range(2):
            self.checks.resizeColumnToContents(column)
            width = min(self.checks.columnWidth(column), MAX_COLUMN_WIDTH)
            self.checks.setColumnWidth(column, width)
        for index in range(self.checks.topLevelItemCount()):
            item = self.checks.topLevelItem(index)
            if item is not None:
                failed = item.data(1, Qt.ItemDataRole.UserRole) == Status.FAIL.value
                item.setExpanded(failed)

    def _check_item(self, check: CheckResult) -> QTreeWidgetItem:
        claim = CHECKS[check.check]
        item = QTreeWidgetItem(
            [f"{claim.number}. {claim.title}", self._status_text(check.status), check.summary]
        )
        item.setData(1, Qt.ItemDataRole.UserRole, check.status.value)
        item.setForeground(1, _brush(STATUS_COLOURS[check.status]))
        font = item.font(1)
        font.setBold(True)
        item.setFont(1, font)
        item.setToolTip(2, check.summary)
        children = [
            (self.tr("Proves"), "", claim.proves, False),
            (self.tr("Cannot prove"), "", claim.cannot_prove, False),
        ]
        children += [(self.tr("Fact"), name, value, False) for name, value in check.facts]
        for finding in check.findings:
            kind = self.tr("Failure") if finding.failed else self.tr("Note")
            children.append((kind, finding.subject, finding.detail, finding.failed))
        if check.omitted:
            more = self.tr("%n further finding(s) not listed.", "", check.omitted)
            children.append((self.tr("More"), "", more, False))
        for kind, subject, detail, failed in children:
            child = QTreeWidgetItem([kind, subject, detail])
            child.setToolTip(1, subject)
            child.setToolTip(2, detail)
            if failed:
                child.setForeground(0, _brush(RED))
            item.addChild(child)
        return item

    def check_texts(self) -> dict[str, tuple[str, str]]:
        """Each check's title → (result, summary) as shown (tests, and a quick read)."""
        shown = {}
        for index in range(self.checks.topLevelItemCount()):
            item = self.checks.topLevelItem(index)
            if item is not None:
                shown[item.text(0)] = (item.text(1), item.text(2))
        return shown

    def _save_report_dialog(self) -> None:
        if self.report is None:
            return
        name, _ = QFileDialog.getSaveFileName(
            self, self.tr("Save the audit report"), "audit-report.html", self.tr("HTML (*.html)")
        )
        if name:
            self.save_report_to(Path(name))

    def save_report_to(self, path: Path) -> None:
        """The self-contained HTML report the command line writes with ``--report``."""
        if self.report is None:
            return

        def saved(where: Path) -> None:
            self.notice.setText(self.tr("Report saved to {0}.").format(where))

        def failed(error: BaseException) -> None:
            self.error.setText(self.tr("The report could not be saved: {0}").format(error))

        self.calls.submit(_write_text(path, render_html(self.report)), saved, failed)


def open_auditor_page(window: DesktopWindow) -> AuditorPage:
    """Show the auditor's page over whatever the window shows (no profile is needed);
    its Back button returns there and discards the page."""
    previous = window.stack.currentWidget()
    page = AuditorPage(window.worker)

    def back() -> None:
        page.cancel()
        if previous is not None:
            window.stack.setCurrentWidget(previous)
        window.stack.removeWidget(page)
        page.deleteLater()

    page.back_requested.connect(back)
    window.stack.addWidget(page)
    window.stack.setCurrentWidget(page)
    return page
