"""The coordinator's invite book: every invite made, the newest first, with whom it is for
and whether it is still open, was used (by which device) or expired. It never shows an
invite's secret."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QTreeWidgetItem, QVBoxLayout, QWidget

from client.desktop.coordinator_session import InviteView
from client.desktop.coordinator_texts import invite_status_text
from client.desktop.messages import when_text
from client.desktop.plain_text import ROW_ROLE, table
from client.desktop.retranslating import Retranslating

COLUMNS = 6


class InviteBook(Retranslating, QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.invites: tuple[InviteView, ...] = ()
        self.invites_heading = QLabel()
        self.invites_tree = table(COLUMNS)
        self.invites_tree.setObjectName("invites")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.invites_heading)
        layout.addWidget(self.invites_tree, 1)
        self.retranslate()

    def retranslate(self) -> None:
        self.invites_heading.setText(self.tr("Invite book"))
        self.invites_tree.setHeaderLabels(
            [
                self.tr("Invite id"),
                self.tr("Name"),
                self.tr("Organisation"),
                self.tr("Role"),
                self.tr("Status"),
                self.tr("Created"),
            ]
        )
        self.show_invites(self.invites)

    def show_invites(self, invites: tuple[InviteView, ...]) -> None:
        self.invites = invites
        self.invites_tree.clear()
        for invite in reversed(invites):  # the newest first
            item = QTreeWidgetItem(
                [
                    invite.invite_id.hex(),
                    invite.display_name,
                    invite.organisation,
                    invite.role,
                    invite_status_text(invite),
                    when_text(invite.created_at),
                ]
            )
            item.setData(0, ROW_ROLE, invite)
            self.invites_tree.addTopLevelItem(item)
        for column in range(COLUMNS):
            self.invites_tree.resizeColumnToContents(column)
