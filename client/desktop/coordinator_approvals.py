"""The coordinator's Approvals tab: the enrolment requests waiting at the relay, the button
that approves the selected one, and what came of the last approval. The tab only asks
(through its signals); the page checks the request through the session."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTreeWidgetItem, QVBoxLayout, QWidget

from client.desktop.coordinator_session import ApprovalResult, PendingApproval
from client.desktop.coordinator_texts import short_id
from client.desktop.messages import when_text
from client.desktop.plain_text import ROW_ROLE, plain_label, table
from client.desktop.retranslating import Retranslating

COLUMNS = 4


class ApprovalsTab(Retranslating, QWidget):
    """``status`` carries the last approval's outcome for the status bar."""

    approve_requested = Signal(object)  # PendingApproval
    refresh_requested = Signal()
    status = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[PendingApproval] = []
        self.last_approvals: list[ApprovalResult] = []
        self.approvals_intro = plain_label()
        self.pending_tree = table(COLUMNS)
        self.pending_tree.setObjectName("pending")
        self.pending_tree.currentItemChanged.connect(self.update_approve_button)
        self.approve_button = QPushButton()
        self.approve_button.clicked.connect(self.approve_selected)
        self.refresh_pending_button = QPushButton()
        self.refresh_pending_button.clicked.connect(self.refresh_requested)
        self.approval_result = plain_label()
        self.approval_result.setObjectName("approval_result")
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_pending_button)
        buttons.addStretch(1)
        buttons.addWidget(self.approve_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.approvals_intro)
        layout.addWidget(self.pending_tree, 1)
        layout.addWidget(self.approval_result)
        layout.addLayout(buttons)
        self.retranslate()

    def retranslate(self) -> None:
        self.approvals_intro.setText(
            self.tr(
                "A device that asked to join shows its invite id on its screen: compare it"
                " with the one here before approving. Approving checks the device's proof of"
                " the invite code; a request that fails the check is rejected."
            )
        )
        self.pending_tree.setHeaderLabels(
            [self.tr("Invite id"), self.tr("Device"), self.tr("Received"), self.tr("Invited")]
        )
        self.approve_button.setText(self.tr("Approve"))
        self.refresh_pending_button.setText(self.tr("Refresh"))
        self.show_pending(self.pending)
        self.show_results(self.last_approvals)

    def show_pending(self, pending: list[PendingApproval]) -> None:
        """List the waiting requests, keeping the selected one selected (or selecting the
        only one)."""
        self.pending = pending
        selected = self._selected_key()
        self.pending_tree.clear()
        current: QTreeWidgetItem | None = None
        for request in pending:
            invite = request.invite
            if invite is not None:
                whose = self.tr("{0} ({1}), {2}").format(
                    invite.display_name, invite.organisation, invite.role
                )
            else:
                whose = self.tr("not an invite of yours: left alone")
            item = QTreeWidgetItem(
                [
                    request.invite_id.hex(),
                    short_id(request.device_id),
                    when_text(request.received_at),
                    whose,
                ]
            )
            item.setData(0, ROW_ROLE, request)
            if invite is None:
                item.setForeground(3, Qt.GlobalColor.gray)
            self.pending_tree.addTopLevelItem(item)
            if selected == request.invite_id + request.device_id:
                current = item
        for column in range(COLUMNS):
            self.pending_tree.resizeColumnToContents(column)
        if current is None and self.pending_tree.topLevelItemCount() == 1:
            current = self.pending_tree.topLevelItem(0)
        if current is not None:
            self.pending_tree.setCurrentItem(current)
        self.update_approve_button()

    def _selected_key(self) -> bytes | None:
        request = self.selected_request()
        return None if request is None else request.invite_id + request.device_id

    def selected_request(self) -> PendingApproval | None:
        item = self.pending_tree.currentItem()
        value = None if item is None else item.data(0, ROW_ROLE)
        return value if isinstance(value, PendingApproval) else None

    def update_approve_button(self, *_: object) -> None:
        request = self.selected_request()
        self.approve_button.setEnabled(request is not None and request.ours)

    def approve_selected(self) -> None:
        """Ask to approve the selected request; the button stays off until the answer."""
        request = self.selected_request()
        if request is None or not request.ours:
            return
        self.approve_button.setEnabled(False)
        self.approve_requested.emit(request)

    def show_results(self, results: list[ApprovalResult]) -> None:
        self.last_approvals = results
        lines = []
        for result in results:
            who = self.tr("{0} ({1})").format(result.display_name, result.organisation)
            if result.approved:
                lines.append(
                    self.tr("Approved {0}: device {1} certified and logged.").format(
                        who, short_id(result.device_id)
                    )
                )
            else:
                lines.append(
                    self.tr("Rejected {0}: device {1} ({2}).").format(
                        who, short_id(result.device_id), result.reason
                    )
                )
        self.approval_result.setText("\n".join(lines))
        if lines:
            self.status.emit(lines[-1])
