"""Small widgets the pages are built of: labels that show text as plain text (names,
organisations, titles and notes come from the network and must never be read as markup),
headings, error lines, and flat tables whose rows carry the value they show under
:data:`ROW_ROLE`."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTreeWidget

ROW_ROLE = Qt.ItemDataRole.UserRole
REVOKED_COLOUR = Qt.GlobalColor.darkRed


def plain_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


def heading_label(scale: float = 1.4) -> QLabel:
    label = plain_label()
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * scale)
    font.setBold(True)
    label.setFont(font)
    return label


def error_label() -> QLabel:
    label = plain_label()
    label.setObjectName("error")
    label.setStyleSheet("color: #b00020;")
    return label


def table(columns: int) -> QTreeWidget:
    """A flat, sortable list of rows (the item view never interprets markup)."""
    tree = QTreeWidget()
    tree.setColumnCount(columns)
    tree.setRootIsDecorated(False)
    tree.setUniformRowHeights(True)
    tree.setAlternatingRowColors(True)
    return tree
