"""The coordinator's Members & devices tab: every member with their devices and each
device's status, and the buttons that ask to revoke a device or a whole member, or to
propose the revoked devices' removals again. The tab only asks (through its signals); the
page confirms and carries it out."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from client.desktop.coordinator_session import DeviceRow, MemberView
from client.desktop.coordinator_texts import device_status_text, short_id
from client.desktop.plain_text import REVOKED_COLOUR, ROW_ROLE, plain_label
from client.desktop.retranslating import Retranslating


class MembersTab(Retranslating, QWidget):
    revoke_device_requested = Signal(object)  # DeviceRow
    revoke_member_requested = Signal(object)  # MemberView
    propose_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.members: tuple[MemberView, ...] = ()
        self.members_tree = QTreeWidget()
        self.members_tree.setColumnCount(4)
        self.members_tree.setObjectName("members")
        self.members_tree.currentItemChanged.connect(self._update_buttons)
        self.revoke_device_button = QPushButton()
        self.revoke_device_button.clicked.connect(self._revoke_device_clicked)
        self.revoke_member_button = QPushButton()
        self.revoke_member_button.clicked.connect(self._revoke_member_clicked)
        self.propose_button = QPushButton()
        self.propose_button.clicked.connect(self.propose_requested)
        self.members_hint = plain_label()
        buttons = QHBoxLayout()
        buttons.addWidget(self.revoke_device_button)
        buttons.addWidget(self.revoke_member_button)
        buttons.addStretch(1)
        buttons.addWidget(self.propose_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.members_tree, 1)
        layout.addWidget(self.members_hint)
        layout.addLayout(buttons)
        self.retranslate()

    def retranslate(self) -> None:
        self.members_tree.setHeaderLabels(
            [
                self.tr("Member or device"),
                self.tr("Organisation"),
                self.tr("Role"),
                self.tr("Status"),
            ]
        )
        self.revoke_device_button.setText(self.tr("Revoke device…"))
        self.revoke_member_button.setText(self.tr("Revoke member…"))
        self.propose_button.setText(self.tr("Propose removals again"))
        self.members_hint.setText(
            self.tr(
                "Revoking is logged for everyone and cannot be undone. The device's removal"
                " is proposed in every case it is in; the next member online carries it out."
            )
        )
        self.show_members(self.members)

    def show_members(self, members: tuple[MemberView, ...]) -> None:
        """List the members and their devices, keeping the selected row selected."""
        self.members = members
        selected = self._selected_key()
        self.members_tree.clear()
        current: QTreeWidgetItem | None = None
        for member in members:
            summary = self.tr("%n device(s)", "", len(member.devices))
            active = self.tr("%n active", "", member.active_devices)
            name = member.display_name
            if member.own:
                name += " · " + self.tr("you")
            item = QTreeWidgetItem([name, member.organisation, member.role, f"{summary}, {active}"])
            item.setData(0, ROW_ROLE, member)
            if member.active_devices == 0:
                item.setForeground(3, REVOKED_COLOUR)
            if selected == ("member", member.member_id):
                current = item
            for device in member.devices:
                label = self.tr("Device {0}").format(short_id(device.device_id))
                if device.own:
                    label += " · " + self.tr("this device")
                child = QTreeWidgetItem([label, "", "", device_status_text(device)])
                child.setData(0, ROW_ROLE, device)
                if device.revoked:
                    for column in range(4):
                        child.setForeground(column, REVOKED_COLOUR)
                item.addChild(child)
                if selected == ("device", device.device_id):
                    current = child
            self.members_tree.addTopLevelItem(item)
        self.members_tree.expandAll()
        for column in range(4):
            self.members_tree.resizeColumnToContents(column)
        if current is not None:
            self.members_tree.setCurrentItem(current)
        self._update_buttons()

    def _selected_key(self) -> tuple[str, bytes] | None:
        item = self.members_tree.currentItem()
        value = None if item is None else item.data(0, ROW_ROLE)
        if isinstance(value, DeviceRow):
            return ("device", value.device_id)
        if isinstance(value, MemberView):
            return ("member", value.member_id)
        return None

    def selected_member(self) -> MemberView | None:
        """The member of the selected row (the member itself, or one of its devices)."""
        item = self.members_tree.currentItem()
        if item is None:
            return None
        parent = item.parent()
        value = (parent if parent is not None else item).data(0, ROW_ROLE)
        return value if isinstance(value, MemberView) else None

    def selected_device(self) -> DeviceRow | None:
        item = self.members_tree.currentItem()
        value = None if item is None else item.data(0, ROW_ROLE)
        return value if isinstance(value, DeviceRow) else None

    def select_device(self, device_id: bytes) -> bool:
        """Select a device's row (tests, and after a search)."""
        for index in range(self.members_tree.topLevelItemCount()):
            member = self.members_tree.topLevelItem(index)
            if member is None:
                continue
            for child_index in range(member.childCount()):
                child = member.child(child_index)
                value = None if child is None else child.data(0, ROW_ROLE)
                if (
                    child is not None
                    and isinstance(value, DeviceRow)
                    and value.device_id == device_id
                ):
                    self.members_tree.setCurrentItem(child)
                    return True
        return False

    def _update_buttons(self, *_: object) -> None:
        device, member = self.selected_device(), self.selected_member()
        self.revoke_device_button.setEnabled(
            device is not None and not device.revoked and not device.own
        )
        self.revoke_member_button.setEnabled(
            member is not None and not member.own and bool(member.revocable)
        )

    def _revoke_device_clicked(self) -> None:
        device = self.selected_device()
        if device is not None and not device.revoked and not device.own:
            self.revoke_device_requested.emit(device)

    def _revoke_member_clicked(self) -> None:
        member = self.selected_member()
        if member is not None and not member.own and member.revocable:
            self.revoke_member_requested.emit(member)
