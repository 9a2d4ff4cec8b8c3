"""The coordinator's tab of every device the platform root ever issued, as the transparency
log shows it: revoked ones included, with when and why, sorted by log entry."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidgetItem, QVBoxLayout, QWidget

from client.desktop.coordinator_session import DeviceRow
from client.desktop.coordinator_texts import reason_text, status_word
from client.desktop.messages import when_text
from client.desktop.plain_text import REVOKED_COLOUR, ROW_ROLE, plain_label, table
from client.desktop.retranslating import Retranslating

COLUMNS = 10
LOG_COLUMN = 4


class DevicesTab(Retranslating, QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.devices: tuple[DeviceRow, ...] = ()
        self.devices_intro = plain_label()
        self.devices_tree = table(COLUMNS)
        self.devices_tree.setObjectName("devices")
        self.devices_tree.setSortingEnabled(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.devices_intro)
        layout.addWidget(self.devices_tree, 1)
        self.retranslate()

    def retranslate(self) -> None:
        self.devices_intro.setText(
            self.tr(
                "Every device the platform root ever issued, as the transparency log shows"
                " it, revoked ones included."
            )
        )
        self.devices_tree.setHeaderLabels(
            [
                self.tr("Device id"),
                self.tr("Name"),
                self.tr("Organisation"),
                self.tr("Role"),
                self.tr("Log entry"),
                self.tr("Valid from"),
                self.tr("Valid until"),
                self.tr("Status"),
                self.tr("Revoked"),
                self.tr("Reason"),
            ]
        )
        self.show_devices(self.devices)

    def show_devices(self, devices: tuple[DeviceRow, ...]) -> None:
        self.devices = devices
        self.devices_tree.setSortingEnabled(False)
        self.devices_tree.clear()
        for device in devices:
            item = QTreeWidgetItem(
                [
                    device.device_id.hex(),
                    device.display_name,
                    device.organisation,
                    device.role,
                    "",
                    when_text(device.not_before),
                    when_text(device.not_after),
                    status_word(device.status),
                    when_text(device.revoked_at) if device.revoked_at is not None else "",
                    reason_text(device.revocation_reason),
                ]
            )
            # sorts as a number
            item.setData(LOG_COLUMN, Qt.ItemDataRole.DisplayRole, device.log_index)
            item.setData(0, ROW_ROLE, device)
            if device.revoked:
                for column in range(COLUMNS):
                    item.setForeground(column, REVOKED_COLOUR)
            self.devices_tree.addTopLevelItem(item)
        self.devices_tree.setSortingEnabled(True)
        self.devices_tree.sortByColumn(LOG_COLUMN, Qt.SortOrder.AscendingOrder)
        for column in range(COLUMNS):
            self.devices_tree.resizeColumnToContents(column)
