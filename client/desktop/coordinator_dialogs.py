"""The confirmation the coordinator gives before revoking a device or a member: the one
step between a click and a revocation the whole platform sees. It is opened with
``open()`` (window-modal, never a nested event loop) and answers through a signal."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QVBoxLayout,
    QWidget,
)

from client.desktop.coordinator_session import DeviceRow, MemberView
from client.desktop.plain_text import plain_label
from protocol.directory import RevocationReason


class ConfirmRevokeDialog(QDialog):
    """The one step between a click and a revocation the whole platform sees."""

    confirmed = Signal(object)  # RevocationReason

    def __init__(
        self,
        parent: QWidget,
        *,
        device: DeviceRow | None = None,
        member: MemberView | None = None,
    ) -> None:
        super().__init__(parent)
        self.text = plain_label()
        self.reason = QComboBox()
        for reason, label in (
            (RevocationReason.DEVICE_LOST, self.tr("The device was lost or stolen")),
            (RevocationReason.KEY_COMPROMISE, self.tr("Its key may be compromised")),
            (RevocationReason.MEMBER_LEFT, self.tr("The member left")),
            (RevocationReason.SUPERSEDED, self.tr("Replaced by a new device")),
            (RevocationReason.UNSPECIFIED, self.tr("No reason given")),
        ):
            self.reason.addItem(label, int(reason))
        form = QFormLayout()
        if device is not None:
            self.setWindowTitle(self.tr("Revoke a device"))
            self.text.setText(
                self.tr(
                    "Revoke device {0} of {1} ({2})? It can no longer read new notes or post;"
                    " this is logged and cannot be undone."
                ).format(device.device_id.hex(), device.display_name, device.organisation)
            )
            form.addRow(self.tr("Reason"), self.reason)
        elif member is not None:
            self.setWindowTitle(self.tr("Revoke a member"))
            self.text.setText(
                self.tr(
                    "Revoke every device of {0} ({1}): %n device(s)? They can no longer read"
                    " new notes or post; this is logged and cannot be undone.",
                    "",
                    len(member.revocable),
                ).format(member.display_name, member.organisation)
            )
            self.reason.setCurrentIndex(self.reason.findData(int(RevocationReason.MEMBER_LEFT)))
            self.reason.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(self.tr("Revoke"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addLayout(form)
        layout.addWidget(self.buttons)

    def accept(self) -> None:
        self.confirmed.emit(RevocationReason(int(self.reason.currentData())))
        super().accept()
