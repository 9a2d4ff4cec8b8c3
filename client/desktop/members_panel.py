"""The members of a case: every device in it with its certified name, organisation and
role, whether the user compared its safety number, and whether it was revoked; adding a
colleague from the directory, removing a device, and comparing keys.

Dialogs are opened with ``open()`` (window-modal, never a nested event loop), so the app
keeps serving the network while one is up.
"""

from __future__ import annotations

import io
from pathlib import Path

import segno
from PySide6.QtCore import Qt, Signal, SignalInstance
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client.desktop.case_views import Colleague, MemberRow
from client.desktop.plain_text import REVOKED_COLOUR, ROW_ROLE
from client.desktop.retranslating import Retranslating


class MembersPanel(Retranslating, QWidget):
    add_requested = Signal()
    remove_requested = Signal(object)  # MemberRow
    compare_requested = Signal(object)  # MemberRow

    def __init__(self) -> None:
        super().__init__()
        self.heading = QLabel()
        self.list = QListWidget()
        self.list.setObjectName("members")
        self.list.currentItemChanged.connect(self._update_buttons)
        self.add = QPushButton()
        self.add.clicked.connect(self.add_requested)
        self.remove = QPushButton()
        self.remove.clicked.connect(lambda: self._with_current(self.remove_requested))
        self.compare = QPushButton()
        self.compare.clicked.connect(lambda: self._with_current(self.compare_requested))
        self.rows: list[MemberRow] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.add)
        layout.addWidget(self.compare)
        layout.addWidget(self.remove)
        self.retranslate()
        self._update_buttons()

    def retranslate(self) -> None:
        self.heading.setText(self.tr("Members"))
        self.add.setText(self.tr("Add colleague…"))
        self.remove.setText(self.tr("Remove from case"))
        self.compare.setText(self.tr("Compare keys…"))
        self.show_rows(self.rows)

    def show_rows(self, rows: list[MemberRow]) -> None:
        self.rows = rows
        self.list.clear()
        for row in rows:
            marks = []
            if row.own:
                marks.append(self.tr("this device"))
            if row.key_verified:
                marks.append(self.tr("✔ key compared"))
            if row.revoked:
                marks.append(self.tr("⚠ revoked"))
            text = f"{row.name} ({row.organisation})\n{row.role}"
            if marks:
                text += " · " + ", ".join(marks)
            item = QListWidgetItem(text)
            item.setData(ROW_ROLE, row)
            if row.revoked:
                item.setForeground(REVOKED_COLOUR)
            self.list.addItem(item)
        self._update_buttons()

    def set_enabled_for_case(self, enabled: bool) -> None:
        self.add.setEnabled(enabled)
        self._update_buttons()

    def _current(self) -> MemberRow | None:
        item = self.list.currentItem()
        row = None if item is None else item.data(ROW_ROLE)
        return row if isinstance(row, MemberRow) else None

    def _with_current(self, signal: SignalInstance) -> None:
        row = self._current()
        if row is not None:
            signal.emit(row)

    def _update_buttons(self, *_: object) -> None:
        row = self._current()
        others = row is not None and not row.own
        self.remove.setEnabled(others and self.add.isEnabled())
        self.compare.setEnabled(others)


class AddColleagueDialog(Retranslating, QDialog):
    """Pick a colleague from the directory; all their usable devices are added."""

    chosen = Signal(object)  # Colleague

    def __init__(self, parent: QWidget, colleagues: list[Colleague]) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        for colleague in colleagues:
            item = QListWidgetItem(f"{colleague.name} ({colleague.organisation}), {colleague.role}")
            item.setData(ROW_ROLE, colleague)
            self.list.addItem(item)
        self.list.itemDoubleClicked.connect(lambda _: self.accept())
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.list)
        layout.addWidget(self.buttons)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Add a colleague"))
        self.intro.setText(
            self.tr("Their devices are checked against the directory before anything is sent.")
        )

    def select(self, name: str) -> None:
        for index in range(self.list.count()):
            if self.list.item(index).text().startswith(name):
                self.list.setCurrentRow(index)

    def accept(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.chosen.emit(item.data(ROW_ROLE))
        super().accept()


class CompareKeysDialog(Retranslating, QDialog):
    """The pair's safety number as digits and as a QR code, and the user's verdict."""

    verdict = Signal(object, bool)  # MemberRow, verified
    check_requested = Signal(object, object)  # MemberRow, Path of an image of their code

    def __init__(self, parent: QWidget, row: MemberRow, digits: str, qr_payload: bytes) -> None:
        super().__init__(parent)
        self.row = row
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.digits = QLabel(_grid(digits))
        self.digits.setObjectName("safety_number")
        self.digits.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.digits.font()
        font.setFamily("monospace")
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.digits.setFont(font)
        self.qr = QLabel()
        self.qr.setPixmap(_qr_pixmap(qr_payload))
        self.same = QCheckBox()
        self.same.setChecked(row.key_verified)
        self.check_image = QPushButton()
        self.check_image.clicked.connect(self._choose_image)
        self.check_result = QLabel()
        self.check_result.setWordWrap(True)
        self.check_result.setTextFormat(Qt.TextFormat.PlainText)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        self.buttons.accepted.connect(self.accept)
        self.finished.connect(self._done)
        row_layout = QHBoxLayout()
        row_layout.addWidget(self.digits)
        row_layout.addWidget(self.qr)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(row_layout)
        layout.addWidget(self.check_image, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.check_result)
        layout.addWidget(self.same)
        layout.addWidget(self.buttons)
        self.retranslate()

    def _choose_image(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, self.tr("Their code"), "", self.tr("Images (*.png *.jpg *.jpeg)")
        )
        if name:
            self.check_requested.emit(self.row, Path(name))

    def show_check(self, matched: bool, text: str) -> None:
        """The outcome of checking their code: a match ticks the box, a mismatch unticks it."""
        colour = "#1b5e20" if matched else "#b00020"
        self.check_result.setStyleSheet(f"color: {colour};")
        self.check_result.setText(text)
        self.same.setChecked(matched)

    def retranslate(self) -> None:
        name = self.row.name
        self.setWindowTitle(self.tr("Compare keys with {0}").format(name))
        self.intro.setText(
            self.tr(
                "Compare these numbers with {0}, in person or on a call you trust (or scan"
                " each other's code). If they are the same on both devices, no one is in"
                " between."
            ).format(name)
        )
        self.same.setText(self.tr("The numbers are the same: mark this device as verified"))
        self.check_image.setText(self.tr("Check their code from an image…"))

    def _done(self, _: int) -> None:
        if self.same.isChecked() != self.row.key_verified:
            self.verdict.emit(self.row, self.same.isChecked())


def _grid(digits: str) -> str:
    blocks = digits.split()
    return "\n".join(" ".join(blocks[i : i + 4]) for i in range(0, len(blocks), 4))


def _qr_pixmap(payload: bytes) -> QPixmap:
    pixmap = QPixmap()
    image = io.BytesIO()
    segno.make_qr(payload, error="m").save(image, kind="png", scale=4, border=2)
    pixmap.loadFromData(image.getvalue(), "PNG")
    return pixmap
