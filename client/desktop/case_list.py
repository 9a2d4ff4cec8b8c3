"""The cases list: pseudonym, last activity and unread count of every case on this device.

Only the pseudonym and the time are in the list, never the title: the list is what a
person looking over a shoulder sees first.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client.desktop.case_views import CaseRow
from client.desktop.messages import when_text
from client.desktop.retranslating import Retranslating

CASE_ID_ROLE = Qt.ItemDataRole.UserRole


class CaseList(Retranslating, QWidget):
    selected = Signal(object)  # case id (bytes)
    new_case = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.heading = QLabel()
        self.cases = QListWidget()
        self.cases.setObjectName("cases")
        self.cases.currentItemChanged.connect(self._current_changed)
        self.new_button = QPushButton()
        self.new_button.clicked.connect(self.new_case)
        self.rows: list[CaseRow] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.cases, 1)
        layout.addWidget(self.new_button)
        self.retranslate()

    def retranslate(self) -> None:
        self.heading.setText(self.tr("Cases"))
        self.new_button.setText(self.tr("New case…"))
        self.show_rows(self.rows)

    def current_case(self) -> bytes | None:
        item = self.cases.currentItem()
        return None if item is None else bytes(item.data(CASE_ID_ROLE))

    def show_rows(self, rows: list[CaseRow]) -> None:
        """Replace the list, keeping the selection (without announcing it again)."""
        current = self.current_case()
        self.rows = rows
        self.cases.blockSignals(True)
        self.cases.clear()
        for row in rows:
            item = QListWidgetItem(self._text(row))
            item.setData(CASE_ID_ROLE, row.case_id)
            if row.unread:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.cases.addItem(item)
            if row.case_id == current:
                self.cases.setCurrentItem(item)
        self.cases.blockSignals(False)

    def select(self, case_id: bytes) -> None:
        for index in range(self.cases.count()):
            item = self.cases.item(index)
            if bytes(item.data(CASE_ID_ROLE)) == case_id:
                self.cases.setCurrentItem(item)
                return

    def _text(self, row: CaseRow) -> str:
        lines = [row.pseudonym]
        details = [when_text(row.last_activity)] if row.last_activity else []
        if row.unread:
            details.append(self.tr("%n unread", "", row.unread))
        if row.removed:
            details.append(self.tr("this device was removed from the case"))
        if details:
            lines.append(" · ".join(details))
        return "\n".join(lines)

    def _current_changed(self, item: QListWidgetItem | None, _: QListWidgetItem | None) -> None:
        if item is not None:
            self.selected.emit(bytes(item.data(CASE_ID_ROLE)))
