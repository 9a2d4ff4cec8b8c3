"""Changing the profile's passphrase: the current one, and a new one rated like at
enrolment. The keystore is sealed again under the new passphrase (Argon2id, off the Qt
thread); the local database keeps its storage key, so nothing else is rewritten."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from client.desktop.messages import error_text
from client.desktop.passphrase_fields import NewPassphraseFields
from client.desktop.plain_text import error_label
from client.desktop.retranslating import Retranslating


class ChangePassphraseDialog(Retranslating, QDialog):
    submitted = Signal(str, str)  # current passphrase, new passphrase

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.current = QLineEdit()
        self.current.setEchoMode(QLineEdit.EchoMode.Password)
        self.current_label = QLabel()
        self.fields = NewPassphraseFields()
        self.error = error_label()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(self.current_label, self.current)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.fields)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Change passphrase"))
        self.current_label.setText(self.tr("Current passphrase"))

    def _submit(self) -> None:
        problem = self.fields.problem()
        if problem is not None:
            self.error.setText(problem)
            return
        self.error.clear()
        self.buttons.setEnabled(False)
        self.submitted.emit(self.current.text(), self.fields.passphrase.text())

    def changed(self) -> None:
        self.current.clear()
        self.fields.clear()
        self.accept()

    def failed(self, error: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.current.selectAll()
        self.error.setText(error_text(error))
