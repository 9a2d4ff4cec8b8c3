"""The main window's page for a member: cases on the left, the chosen case's thread and the
composer in the middle, its members on the right.

This page is the controller between the widgets and :class:`DesktopSession`: every call
goes through the worker, so the page never waits for the relay; each answer refreshes only
what it concerns. A failed action shows its message and leaves what the user typed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from client.desktop.case_list import CaseList
from client.desktop.case_views import CaseThread, Colleague, MemberRow
from client.desktop.composer import Composer
from client.desktop.members_panel import AddColleagueDialog, CompareKeysDialog, MembersPanel
from client.desktop.messages import error_text
from client.desktop.plain_text import error_label
from client.desktop.qr_image import read_qr_bytes
from client.desktop.retranslating import Retranslating
from client.desktop.security_banner import SecurityBanner, SecurityEventsDialog
from client.desktop.session import DesktopSession
from client.desktop.thread_view import ThreadView
from client.desktop.worker import AsyncWorker, CallGroup
from crypto.errors import CasecircleError
from protocol.case_items import HistoryPolicy

T = TypeVar("T")


class MemberPage(Retranslating, QWidget):
    """See the module docstring. ``status`` carries a line for the status bar."""

    status = Signal(str)
    # Emitted from the worker thread while files travel; Qt queues them to this thread.
    _progress = Signal(int, int, int)  # file number, bytes sent, bytes in all
    _download_progress = Signal(str, int, int, int)  # note key, attachment, done, in all

    def __init__(self, worker: AsyncWorker, session: DesktopSession) -> None:
        super().__init__()
        self.worker = worker
        self.session = session
        self.case_id: bytes | None = None
        self.case_list = CaseList()
        self.thread_view = ThreadView()
        self.composer = Composer()
        self.members = MembersPanel()
        self.banner = SecurityBanner()
        self.banner.show_requested.connect(self._show_events)
        self.error = error_label()
        self.calls = CallGroup(worker, self._show_error)
        self._call = self.calls.submit
        self.dialog: QDialog | None = None  # the open dialog, for tests and screenshots
        middle = QWidget()
        middle_layout = QVBoxLayout(middle)
        middle_layout.setContentsMargins(0, 0, 0, 0)
        middle_layout.addWidget(self.thread_view, 1)
        middle_layout.addWidget(self.error)
        middle_layout.addWidget(self.composer)
        splitter = QSplitter()
        splitter.addWidget(self.case_list)
        splitter.addWidget(middle)
        splitter.addWidget(self.members)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 620, 260])
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(splitter)
        self.case_list.selected.connect(self.open_case)
        self.case_list.new_case.connect(self._new_case_dialog)
        self.composer.draft_changed.connect(self._save_draft)
        self.composer.send_requested.connect(self._send)
        self.thread_view.save_requested.connect(self._save_attachment)
        self.members.add_requested.connect(self._add_dialog)
        self.members.remove_requested.connect(self._remove)
        self.members.compare_requested.connect(self._compare)
        self._set_case_widgets(False)

    # --- calls into the session -----------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Some call is still out, or its answer not yet shown (tests wait on this)."""
        return self.calls.busy

    def _show_error(self, error: BaseException) -> None:
        self.error.setText(error_text(error))

    # --- showing --------------------------------------------------------------------------

    def refresh(self, case_id: bytes | None = None) -> None:
        """Reload the list, and the open case if ``case_id`` is it (or None: anything)."""
        self._call(self.session.cases(), self.case_list.show_rows)
        self._call(self.session.security(), self.banner.show_state)
        if self.case_id is not None and case_id in (None, self.case_id):
            self._load_case(self.case_id)

    def open_case(self, case_id: bytes) -> None:
        if self.case_id is not None and self.case_id != case_id:
            self.composer.flush_draft()
        self.case_id = case_id
        self.error.clear()
        self.composer.load_draft(self.session.draft(case_id))
        self._set_case_widgets(True)
        self._load_case(case_id)

    def _load_case(self, case_id: bytes) -> None:
        def shown(thread: CaseThread) -> None:
            if thread.case_id == self.case_id:
                self.thread_view.show_thread(thread)
                self._set_case_widgets(not thread.removed)
                self._call(
                    self.session.mark_read(case_id),
                    lambda moved: self._reload_list() if moved else None,
                )

        self._call(self.session.thread(case_id), shown)
        self._call(self.session.members(case_id), self._members_shown(case_id))

    def _members_shown(self, case_id: bytes) -> Callable[[list[MemberRow]], None]:
        def shown(rows: list[MemberRow]) -> None:
            if case_id == self.case_id:
                self.members.show_rows(rows)

        return shown

    def _reload_list(self) -> None:
        self._call(self.session.cases(), self.case_list.show_rows)

    def _set_case_widgets(self, enabled: bool) -> None:
        self.composer.setEnabled(enabled)
        self.members.set_enabled_for_case(enabled)

    # --- acting ---------------------------------------------------------------------------

    def _save_draft(self, text: str) -> None:
        if self.case_id is not None:
            self._call(self.session.save_draft(self.case_id, text))

    def _send(self, text: str, files: list[Path]) -> None:
        case_id = self.case_id
        if case_id is None:
            return

        def progress(number: int, done: int, total: int) -> None:
            self._progress.emit(number, done, total)

        def sent(_: str) -> None:
            if case_id == self.case_id:
                self.composer.sent()
            self.refresh(case_id)

        def failed(error: BaseException) -> None:
            self.composer.failed(error)
            self.refresh(case_id)

        self._call(self.session.post(case_id, text, files, progress), sent, failed)

    def _save_attachment(self, note_key: str, index: int) -> None:
        case_id = self.case_id
        if case_id is None:
            return
        directory = QFileDialog.getExistingDirectory(self, self.tr("Save the file in"))
        if directory:
            self.save_attachment_to(note_key, index, Path(directory))

    def save_attachment_to(self, note_key: str, index: int, directory: Path) -> None:
        case_id = self.case_id
        if case_id is None:
            return

        def progress(done: int, total: int) -> None:
            self._download_progress.emit(note_key, index, done, total)

        def saved(path: Path) -> None:
            self.status.emit(self.tr("Saved {0}").format(path))

        self._call(
            self.session.save_attachment(case_id, note_key, index, directory, progress), saved
        )
        self.thread_view.show_transfer(note_key, index, 0, 1)

    def _show_events(self) -> None:
        state = self.banner.state
        if state is None:
            return
        dialog = SecurityEventsDialog(self, state)
        self.dialog = dialog
        dialog.open()
        self._call(self.session.mark_events_seen(), lambda _: self.refresh())

    def _new_case_dialog(self) -> None:
        dialog = NewCaseDialog(self)
        dialog.created.connect(self.create_case)
        self.dialog = dialog
        dialog.open()

    def create_case(self, title: str, pseudonym: str, history: HistoryPolicy) -> None:
        def created(case_id: bytes) -> None:
            self.refresh()
            self.case_list.select(case_id)
            self.open_case(case_id)

        self._call(self.session.create_case(title, pseudonym, history), created)

    def _add_dialog(self) -> None:
        def listed(colleagues: list[Colleague]) -> None:
            dialog = AddColleagueDialog(self, colleagues)
            dialog.chosen.connect(self.add_colleague)
            self.dialog = dialog
            dialog.open()

        self._call(self.session.colleagues(), listed)

    def add_colleague(self, colleague: Colleague) -> None:
        case_id = self.case_id
        if case_id is None:
            return
        self.status.emit(self.tr("Adding {0}…").format(colleague.name))
        self._call(
            self.session.add_colleague(case_id, colleague.member_id),
            lambda _: self.refresh(case_id),
        )

    def _remove(self, row: MemberRow) -> None:
        case_id = self.case_id
        if case_id is not None:
            self._call(
                self.session.remove_device(case_id, row.device_id),
                lambda _: self.refresh(case_id),
            )

    def _compare(self, row: MemberRow) -> None:
        try:
            digits, payload = self.session.safety_number(row)
        except CasecircleError as exc:  # offline: the directory is read when online
            self._show_error(exc)
            return
        dialog = CompareKeysDialog(self, row, digits, payload)
        dialog.verdict.connect(self._verdict)
        dialog.check_requested.connect(self.check_code_image)
        self.dialog = dialog
        dialog.open()

    def check_code_image(self, row: MemberRow, image: Path) -> None:
        """Compare the colleague's safety-number code, from a picture of their screen."""
        dialog = self.dialog
        if not isinstance(dialog, CompareKeysDialog):
            return
        try:
            self.session.check_code(row, read_qr_bytes(image))
        except CasecircleError as exc:
            dialog.show_check(False, error_text(exc))
            return
        dialog.show_check(True, self.tr("The codes match: the keys are the same on both devices."))

    def _verdict(self, row: MemberRow, verified: bool) -> None:
        case_id = self.case_id
        self._call(
            self.session.set_key_verified(row.device_id, verified),
            lambda _: self.refresh(case_id),
        )

    def start(self) -> None:
        self._progress.connect(self.composer.show_progress)
        self._download_progress.connect(self.thread_view.show_transfer)
        self.refresh()

    def close_page(self) -> None:
        self.composer.flush_draft()


class NewCaseDialog(Retranslating, QDialog):
    """A pseudonym (what the list shows), a title (inside the case only) and the history
    policy for colleagues added later."""

    created = Signal(str, str, object)  # title, pseudonym, HistoryPolicy

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.pseudonym = QLineEdit()
        self.title = QLineEdit()
        self.history = QComboBox()
        self.history.addItems(["", ""])
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.labels = [QLabel(), QLabel(), QLabel()]
        form = QFormLayout()
        form.addRow(self.labels[0], self.pseudonym)
        form.addRow(self.labels[1], self.title)
        form.addRow(self.labels[2], self.history)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.hint)
        layout.addWidget(self.buttons)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("New case"))
        self.history.setItemText(0, self.tr("Colleagues added later read the whole case"))
        self.history.setItemText(1, self.tr("Colleagues added later read from then on"))
        self.hint.setText(
            self.tr("Use a pseudonym, not the person's name: the list shows it on screen.")
        )
        for label, text in zip(
            self.labels, [self.tr("Pseudonym"), self.tr("Title"), self.tr("History")], strict=True
        ):
            label.setText(text)

    def accept(self) -> None:
        pseudonym, title = self.pseudonym.text().strip(), self.title.text().strip()
        if not pseudonym or not title:
            self.hint.setText(self.tr("Both a pseudonym and a title are needed."))
            return
        policy = HistoryPolicy.FULL if self.history.currentIndex() == 0 else HistoryPolicy.FROM_JOIN
        self.created.emit(title, pseudonym, policy)
        super().accept()
