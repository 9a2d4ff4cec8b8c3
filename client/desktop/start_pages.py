"""The pages before the main window: enrolling this device with an invite (first run),
waiting for the coordinator's approval, and unlocking the profile (every later run).

These pages only collect input and check what can be checked locally (the invite words'
checksum, the passphrase's strength, that the two passphrases match); the window runs the
slow parts (the relay, Argon2id) in the worker and tells the page how it went.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client.cli_session import checked_relay_url
from client.desktop.messages import error_text
from client.desktop.passphrase_fields import NewPassphraseFields
from client.desktop.plain_text import error_label, heading_label
from client.desktop.qr_image import read_qr_text
from client.desktop.retranslating import Retranslating
from client.invite_codes import read_invite
from crypto.errors import CasecircleError
from protocol.invites import InviteCode


class Page(Retranslating, QWidget):
    """A page whose texts follow the language (``retranslate`` on every change)."""


class EnrolPage(Page):
    """First run: relay address, invite code (typed, pasted or from the QR image) and a new
    passphrase with a strength meter."""

    submitted = Signal(str, object, str)  # relay URL, InviteCode, passphrase
    audit_requested = Signal()

    def __init__(self, relay_url: str = "") -> None:
        super().__init__()
        self.heading = heading_label()
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.relay = QLineEdit(relay_url)
        self.code = QPlainTextEdit()
        self.code.setTabChangesFocus(True)
        self.code.setFixedHeight(90)
        self.open_image = QPushButton()
        self.open_image.clicked.connect(self._open_image)
        self.new_passphrase = NewPassphraseFields()
        self.passphrase = self.new_passphrase.passphrase
        self.repeat = self.new_passphrase.repeat
        self.strength = self.new_passphrase.strength
        self.error = error_label()
        self.send = QPushButton()
        self.send.setDefault(True)
        self.send.clicked.connect(self._submit)
        self.audit = QPushButton()
        self.audit.setFlat(True)
        self.audit.clicked.connect(self.audit_requested)

        code_row = QHBoxLayout()
        code_row.addWidget(self.code, 1)
        code_row.addWidget(self.open_image, 0, Qt.AlignmentFlag.AlignTop)
        self.labels = [QLabel() for _ in range(2)]
        self.form = QFormLayout()
        self.form.addRow(self.labels[0], self.relay)
        self.form.addRow(self.labels[1], code_row)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.intro)
        layout.addLayout(self.form)
        layout.addWidget(self.new_passphrase)
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addWidget(self.audit)
        buttons.addStretch(1)
        buttons.addWidget(self.send)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.retranslate()

    def retranslate(self) -> None:
        self.heading.setText(self.tr("Join your platform"))
        self.intro.setText(
            self.tr(
                "Your coordinator gave you an invite code: 24 words, or a QR code image."
                " This device then asks to join, and waits until the coordinator approves it."
            )
        )
        texts = [self.tr("Relay address"), self.tr("Invite code")]
        for label, text in zip(self.labels, texts, strict=True):
            label.setText(text)
        self.relay.setPlaceholderText("https://relay.example.org")
        self.code.setPlaceholderText(self.tr("Type or paste the 24 words"))
        self.open_image.setText(self.tr("Open QR image…"))
        self.send.setText(self.tr("Ask to join"))
        self.audit.setText(self.tr("Audit a relay export instead…"))

    def _open_image(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, self.tr("Invite QR code"), "", self.tr("Images (*.png *.jpg *.jpeg)")
        )
        if name:
            self.load_qr_image(Path(name))

    def load_qr_image(self, path: Path) -> None:
        try:
            self.code.setPlainText(read_qr_text(path))
            self.error.clear()
        except CasecircleError as exc:
            self.error.setText(error_text(exc))

    def _submit(self) -> None:
        """Check locally, then hand over; the page keeps every field as typed on failure."""
        try:
            url = checked_relay_url(self.relay.text().strip())
            code: InviteCode = read_invite(self.code.toPlainText())
        except CasecircleError as exc:
            self.error.setText(error_text(exc))
            return
        problem = self.new_passphrase.problem()
        if problem is not None:
            self.error.setText(problem)
            return
        self.error.clear()
        self.submitted.emit(url, code, self.passphrase.text())

    def failed(self, error: BaseException) -> None:
        self.error.setText(error_text(error))


class WaitingPage(Page):
    """The request is sent; the coordinator must approve it (they compare the invite id)."""

    cancelled = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.heading = heading_label()
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.cancel = QPushButton()
        self.cancel.clicked.connect(self.cancelled)
        self.invite_id = ""
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.text)
        layout.addWidget(self.busy)
        layout.addWidget(self.cancel, 0, Qt.AlignmentFlag.AlignRight)
        layout.addStretch(1)
        self.retranslate()

    def waiting_for(self, invite_id: str) -> None:
        self.invite_id = invite_id
        self.retranslate()

    def retranslate(self) -> None:
        self.heading.setText(self.tr("Waiting for approval"))
        self.text.setText(
            self.tr(
                "The request of this device was sent. Your coordinator now approves it; this"
                " can take a while, and this window may stay open. Invite id: {0}"
            ).format(self.invite_id)
        )
        self.cancel.setText(self.tr("Cancel"))


class UnlockPage(Page):
    """Every later run: the passphrase opens the keystore (Argon2id, about a second)."""

    submitted = Signal(str)
    audit_requested = Signal()

    def __init__(self, profile_dir: Path) -> None:
        super().__init__()
        self.profile_dir = profile_dir
        self.heading = heading_label()
        self.where = QLabel()
        self.where.setWordWrap(True)
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.returnPressed.connect(self._submit)
        self.unlock = QPushButton()
        self.unlock.setDefault(True)
        self.unlock.clicked.connect(self._submit)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.hide()
        self.error = error_label()
        self.audit = QPushButton()
        self.audit.setFlat(True)
        self.audit.clicked.connect(self.audit_requested)
        row = QHBoxLayout()
        row.addWidget(self.passphrase, 1)
        row.addWidget(self.unlock)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.heading)
        layout.addWidget(self.where)
        layout.addLayout(row)
        layout.addWidget(self.busy)
        layout.addWidget(self.error)
        layout.addWidget(self.audit, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(2)
        self.retranslate()

    def retranslate(self) -> None:
        self.heading.setText(self.tr("Unlock casecircle"))
        self.where.setText(self.tr("Profile: {0}").format(self.profile_dir))
        self.passphrase.setPlaceholderText(self.tr("Passphrase"))
        self.unlock.setText(self.tr("Unlock"))
        self.audit.setText(self.tr("Audit a relay export instead…"))

    def _submit(self) -> None:
        if not self.passphrase.text():
            return
        self.set_busy(True)
        self.error.clear()
        self.submitted.emit(self.passphrase.text())

    def set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.unlock.setEnabled(not busy)
        self.passphrase.setEnabled(not busy)

    def failed(self, error: BaseException) -> None:
        self.set_busy(False)
        self.passphrase.selectAll()
        self.passphrase.setFocus()
        self.error.setText(error_text(error))
