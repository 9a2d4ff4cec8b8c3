"""Writing a note: the text (kept as a draft while it is written, so nothing typed is ever
lost), the files to attach, and the send button.

Cases stay anonymised, so before sending, the text is searched for what looks like a Czech
birth number, a phone number, an e-mail address or a street address
(:mod:`client.desktop.identifying_text`); if something is found the composer says what
and where, and the note goes only after "Send anyway". The text stays in the composer
until the note is safely in the outbox; if sending fails it stays for another try.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from client.desktop.identifying_text import Finding, IdentifyingKind, find_identifying
from client.desktop.messages import error_text
from client.desktop.plain_text import error_label
from client.desktop.retranslating import Retranslating

DRAFT_DELAY_MS = 700  # save the draft this long after the last keystroke


class Composer(Retranslating, QWidget):
    draft_changed = Signal(str)
    send_requested = Signal(str, list)  # text, [Path]

    def __init__(self) -> None:
        super().__init__()
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("composer")
        self.editor.setMaximumHeight(120)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.editor.textChanged.connect(self._edited)
        self.files = QListWidget()
        self.files.setMaximumHeight(60)
        self.files.hide()
        self.attach = QPushButton()
        self.attach.clicked.connect(self._choose_files)
        self.send = QPushButton()
        self.send.setDefault(True)
        self.send.clicked.connect(self._send)
        self.warning = QLabel()
        self.warning.setObjectName("identifying")
        self.warning.setWordWrap(True)
        self.warning.setTextFormat(Qt.TextFormat.PlainText)
        self.warning.setStyleSheet("#identifying { background: #fde2e1; padding: 6px; }")
        self.send_anyway = QPushButton()
        self.send_anyway.clicked.connect(self._send_anyway)
        self.progress = QProgressBar()
        self.progress.hide()
        self.error = error_label()
        self._draft_timer = QTimer(self)
        self._draft_timer.setSingleShot(True)
        self._draft_timer.setInterval(DRAFT_DELAY_MS)
        self._draft_timer.timeout.connect(self.flush_draft)
        self._paths: list[Path] = []
        self._findings: list[Finding] = []
        self._loading = False
        self._lay_out()
        self._hide_warning()
        self.retranslate()

    def _lay_out(self) -> None:
        buttons = QHBoxLayout()
        buttons.addWidget(self.attach)
        buttons.addWidget(self.progress, 1)
        buttons.addStretch(0)
        buttons.addWidget(self.send)
        warning_row = QHBoxLayout()
        warning_row.addWidget(self.warning, 1)
        warning_row.addWidget(self.send_anyway)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.editor)
        layout.addWidget(self.files)
        layout.addLayout(warning_row)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

    def retranslate(self) -> None:
        self.editor.setPlaceholderText(self.tr("Write a note to the case…"))
        self.attach.setText(self.tr("Attach files…"))
        self.send.setText(self.tr("Send"))
        self.send_anyway.setText(self.tr("Send anyway"))
        if self._findings:
            self.warning.setText(self._warning_text(self._findings))

    # --- drafts ---------------------------------------------------------------------------

    def load_draft(self, text: str) -> None:
        """Show a case's saved draft (switching cases flushes the previous one first)."""
        self._loading = True
        self.editor.setPlainText(text)
        self._loading = False
        self._paths = []
        self._show_files()
        self._hide_warning()
        self.error.clear()

    def flush_draft(self) -> None:
        self._draft_timer.stop()
        self.draft_changed.emit(self.editor.toPlainText())

    def _edited(self) -> None:
        if self._loading:
            return
        self._hide_warning()
        self._draft_timer.start()

    # --- files ----------------------------------------------------------------------------

    def _choose_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, self.tr("Attach files"))
        self.add_files([Path(name) for name in names])

    def add_files(self, paths: list[Path]) -> None:
        self._paths.extend(p for p in paths if p not in self._paths)
        self._show_files()

    def _show_files(self) -> None:
        self.files.clear()
        self.files.addItems([p.name for p in self._paths])
        self.files.setVisible(bool(self._paths))

    # --- sending --------------------------------------------------------------------------

    def _send(self) -> None:
        text = self.editor.toPlainText()
        if not text.strip() and not self._paths:
            return
        self._findings = find_identifying(text)
        if self._findings:
            self.warning.setText(self._warning_text(self._findings))
            self.warning.show()
            self.send_anyway.show()
            return
        self._send_anyway()

    def _send_anyway(self) -> None:
        self._hide_warning()
        self.error.clear()
        self.set_busy(True)
        self.send_requested.emit(self.editor.toPlainText(), list(self._paths))

    def set_busy(self, busy: bool) -> None:
        self.send.setEnabled(not busy)
        self.attach.setEnabled(not busy)
        self.editor.setReadOnly(busy)
        if not busy:
            self.progress.hide()

    def show_progress(self, number: int, done: int, total: int) -> None:
        self.progress.show()
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(
            self.tr("File {0} of {1}: %p%").format(number + 1, max(len(self._paths), 1))
        )

    def sent(self) -> None:
        """The note is in the outbox: the composer is emptied (its draft is dropped)."""
        self.set_busy(False)
        self.load_draft("")

    def failed(self, error: BaseException) -> None:
        """Nothing was queued: text and files stay for another try."""
        self.set_busy(False)
        self.error.setText(error_text(error))

    def _hide_warning(self) -> None:
        self._findings = []
        self.warning.hide()
        self.send_anyway.hide()

    def _warning_text(self, findings: list[Finding]) -> str:
        names = {
            IdentifyingKind.BIRTH_NUMBER: self.tr("a birth number"),
            IdentifyingKind.PHONE: self.tr("a phone number"),
            IdentifyingKind.EMAIL: self.tr("an e-mail address"),
            IdentifyingKind.ADDRESS: self.tr("a street address"),
        }
        found = "; ".join(f"{names[f.kind]}: “{f.text}”" for f in findings[:5])
        return self.tr(
            "This note may identify someone ({0}). Cases stay anonymised: edit the note,"
            " or send it anyway."
        ).format(found)
