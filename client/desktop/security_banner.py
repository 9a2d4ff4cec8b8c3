"""The security banner over the member's page, and the list of security events behind it.

What the relay or another device did that this device refused stays visible: a forked
transparency log (red, for as long as the profile has seen one — the coordinator must
look into it), and other refusals (amber) until the user has opened the list.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from client.desktop.case_views import SecurityState
from client.desktop.messages import notice_text, when_text
from client.desktop.retranslating import Retranslating

FORK_STYLE = "#security { background: #b00020; } #security QLabel { color: white; }"
REFUSAL_STYLE = "#security { background: #fff3cd; border: 1px solid #e0c060; }"


class SecurityBanner(Retranslating, QFrame):
    show_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("security")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.details = QPushButton()
        self.details.clicked.connect(self.show_requested)
        layout = QHBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.details)
        self.state: SecurityState | None = None
        self.hide()
        self.retranslate()

    def retranslate(self) -> None:
        self.details.setText(self.tr("Show events…"))
        if self.state is not None:
            self.show_state(self.state)

    def show_state(self, state: SecurityState) -> None:
        self.state = state
        if state.forks:
            self.setStyleSheet(FORK_STYLE)
            self.text.setText(
                self.tr(
                    "The relay showed this device a history of the directory that contradicts"
                    " what it saw before. Do not trust new members or keys; tell your"
                    " coordinator and the auditor."
                )
            )
        elif state.unseen:
            self.setStyleSheet(REFUSAL_STYLE)
            self.text.setText(
                self.tr("%n message(s) or key(s) were refused and left out.", "", state.unseen)
            )
        self.setVisible(bool(state.forks or state.unseen))


class SecurityEventsDialog(Retranslating, QDialog):
    """Every refusal this device recorded, newest first (codes, never content)."""

    def __init__(self, parent: QWidget, state: SecurityState) -> None:
        super().__init__(parent)
        self.state = state
        self.list = QListWidget()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addWidget(self.buttons)
        self.resize(640, 360)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Security events"))
        self.list.clear()
        for notice in self.state.events:
            self.list.addItem(f"{when_text(notice.at)}  {notice_text(notice)}")
        if not self.state.events:
            self.list.addItem(self.tr("Nothing was refused."))
