"""The main window's page for the coordinator: members and their devices, invites, the
enrolment requests waiting for approval, and every device the platform root ever issued.

The page is a controller between its widgets and :class:`CoordinatorSession`: each action
goes through the worker (the relay and the root's signatures never block the window) and
each answer refreshes what it changed. Revoking asks first, in a dialog opened with
``open()`` (never a nested event loop), so the app keeps serving the network meanwhile.
Every name, organisation and role shown came from the network or the invite book: labels
show it as plain text, and item views never interpret markup.

An invite's words and QR image *are* its secret: they are shown once, after creating it,
until the coordinator hides them; the image is saved only to a new file readable by its
owner.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from client.desktop.coordinator_session import (
    ApprovalResult,
    CoordinatorSession,
    DeviceRow,
    DeviceStatus,
    InviteStatus,
    InviteView,
    MemberView,
    NewInvite,
    Overview,
    PendingApproval,
)
from client.desktop.messages import error_text, when_text
from client.desktop.retranslating import Retranslating
from client.desktop.worker import AsyncWorker, PendingCall
from client.invite_codes import LANGUAGES
from crypto.errors import CasecircleError
from protocol.directory import RevocationReason

if TYPE_CHECKING:
    from client.desktop.window import DesktopWindow

T = TypeVar("T")
ROW_ROLE = Qt.ItemDataRole.UserRole
CLOSE_TIMEOUT = 20.0
WORDS_PER_LINE = 6
AUTO_REFRESH_MS = 10_000
"""How often the Approvals tab, while shown, asks the relay for new requests."""
MAX_VALID_DAYS = 90
REVOKED_COLOUR = Qt.GlobalColor.darkRed


def _plain_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


def _error_label() -> QLabel:
    label = _plain_label()
    label.setObjectName("error")
    label.setStyleSheet("color: #b00020;")
    return label


def _table(columns: int) -> QTreeWidget:
    """A flat, sortable list of rows (the item view never interprets markup)."""
    tree = QTreeWidget()
    tree.setColumnCount(columns)
    tree.setRootIsDecorated(False)
    tree.setUniformRowHeights(True)
    tree.setAlternatingRowColors(True)
    return tree


def _short(identifier: bytes) -> str:
    return identifier.hex()[:16]


class CoordinatorPage(Retranslating, QWidget):
    """See the module docstring. ``status`` carries a line for the status bar."""

    status = Signal(str)

    def __init__(
        self,
        worker: AsyncWorker,
        session: CoordinatorSession,
        *,
        language: str = "en",
        auto_refresh_ms: int = AUTO_REFRESH_MS,
    ) -> None:
        super().__init__()
        self.worker = worker
        self.session = session
        self._waiting: set[object] = set()
        self.overview: Overview | None = None
        self.new_invite: NewInvite | None = None
        self.last_approvals: list[ApprovalResult] = []
        self.dialog: QDialog | None = None  # the open dialog, for tests and screenshots
        self._closed = False

        self.heading = QLabel()
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.heading.setFont(font)
        self.refresh_button = QPushButton()
        self.refresh_button.clicked.connect(self.refresh)
        self.error = _error_label()
        self.tabs = QTabWidget()
        self._make_members_tab()
        self._make_invites_tab(language)
        self._make_approvals_tab()
        self._make_devices_tab()
        self.tabs.currentChanged.connect(self._tab_changed)
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.error)
        layout.addWidget(self.tabs, 1)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._auto_refresh)
        if auto_refresh_ms > 0:
            self.timer.start(auto_refresh_ms)
        self.retranslate()

    # --- building the tabs --------------------------------------------------------------

    def _make_members_tab(self) -> None:
        self.members_tab = QWidget()
        self.members_tree = QTreeWidget()
        self.members_tree.setColumnCount(4)
        self.members_tree.setObjectName("members")
        self.members_tree.currentItemChanged.connect(self._update_member_buttons)
        self.revoke_device_button = QPushButton()
        self.revoke_device_button.clicked.connect(self._ask_revoke_device)
        self.revoke_member_button = QPushButton()
        self.revoke_member_button.clicked.connect(self._ask_revoke_member)
        self.propose_button = QPushButton()
        self.propose_button.clicked.connect(self.propose_removals)
        self.members_hint = _plain_label()
        buttons = QHBoxLayout()
        buttons.addWidget(self.revoke_device_button)
        buttons.addWidget(self.revoke_member_button)
        buttons.addStretch(1)
        buttons.addWidget(self.propose_button)
        layout = QVBoxLayout(self.members_tab)
        layout.addWidget(self.members_tree, 1)
        layout.addWidget(self.members_hint)
        layout.addLayout(buttons)
        self.tabs.addTab(self.members_tab, "")
        self._update_member_buttons()

    def _make_invites_tab(self, language: str) -> None:
        self.invites_tab = QWidget()
        self.invite_name = QLineEdit()
        self.invite_organisation = QLineEdit()
        self.invite_role = QLineEdit()
        self.invite_days = QSpinBox()
        self.invite_days.setRange(1, MAX_VALID_DAYS)
        self.invite_days.setValue(7)
        self.invite_language = QComboBox()
        for code in LANGUAGES:
            self.invite_language.addItem("", code)
        index = self.invite_language.findData(language)
        self.invite_language.setCurrentIndex(max(index, 0))
        self.create_button = QPushButton()
        self.create_button.clicked.connect(self.create_invite)
        self.invite_form = QFormLayout()
        # Labels made here: QFormLayout makes none for an empty text; retranslate() sets them.
        self.invite_labels = [QLabel() for _ in range(5)]
        for label, widget in zip(
            self.invite_labels,
            (
                self.invite_name,
                self.invite_organisation,
                self.invite_role,
                self.invite_days,
                self.invite_language,
            ),
            strict=True,
        ):
            self.invite_form.addRow(label, widget)

        self._make_invite_box()

        self.invites_heading = QLabel()
        self.invites_tree = _table(6)
        self.invites_tree.setObjectName("invites")
        left = QVBoxLayout()
        left.addLayout(self.invite_form)
        left.addWidget(self.create_button, 0, Qt.AlignmentFlag.AlignRight)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.invite_box)
        upper = QHBoxLayout()
        upper.addLayout(left, 1)
        upper.addLayout(right, 2)
        layout = QVBoxLayout(self.invites_tab)
        layout.addLayout(upper)
        layout.addWidget(self.invites_heading)
        layout.addWidget(self.invites_tree, 1)
        self.tabs.addTab(self.invites_tab, "")

    def _make_invite_box(self) -> None:
        """Where a new invite's secret is shown, hidden until one is created."""
        self.invite_box = QGroupBox()
        self.secret_warning = _plain_label()
        self.secret_warning.setStyleSheet("color: #8d6e00; font-weight: bold;")
        self.invite_about = _plain_label()
        self.invite_about.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.words = QLabel()
        self.words.setObjectName("invite_words")
        self.words.setTextFormat(Qt.TextFormat.PlainText)
        self.words.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSizeF(self.words.font().pointSizeF() * 1.2)
        self.words.setFont(mono)
        self.qr = QLabel()
        self.qr.setObjectName("invite_qr")
        self.save_qr_button = QPushButton()
        self.save_qr_button.clicked.connect(self._save_qr_dialog)
        self.hide_button = QPushButton()
        self.hide_button.clicked.connect(self.hide_invite)
        shown = QHBoxLayout()
        shown.addWidget(self.words, 1, Qt.AlignmentFlag.AlignTop)
        shown.addWidget(self.qr, 0, Qt.AlignmentFlag.AlignTop)
        box_buttons = QHBoxLayout()
        box_buttons.addWidget(self.save_qr_button)
        box_buttons.addStretch(1)
        box_buttons.addWidget(self.hide_button)
        box_layout = QVBoxLayout(self.invite_box)
        box_layout.addWidget(self.secret_warning)
        box_layout.addWidget(self.invite_about)
        box_layout.addLayout(shown)
        box_layout.addLayout(box_buttons)
        self.invite_box.hide()

    def _make_approvals_tab(self) -> None:
        self.approvals_tab = QWidget()
        self.approvals_intro = _plain_label()
        self.pending_tree = _table(4)
        self.pending_tree.setObjectName("pending")
        self.pending_tree.currentItemChanged.connect(self._update_approve_button)
        self.approve_button = QPushButton()
        self.approve_button.clicked.connect(self.approve_selected)
        self.refresh_pending_button = QPushButton()
        self.refresh_pending_button.clicked.connect(self.refresh_pending)
        self.approval_result = _plain_label()
        self.approval_result.setObjectName("approval_result")
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_pending_button)
        buttons.addStretch(1)
        buttons.addWidget(self.approve_button)
        layout = QVBoxLayout(self.approvals_tab)
        layout.addWidget(self.approvals_intro)
        layout.addWidget(self.pending_tree, 1)
        layout.addWidget(self.approval_result)
        layout.addLayout(buttons)
        self.tabs.addTab(self.approvals_tab, "")
        self._update_approve_button()

    def _make_devices_tab(self) -> None:
        self.devices_tab = QWidget()
        self.devices_intro = _plain_label()
        self.devices_tree = _table(10)
        self.devices_tree.setObjectName("devices")
        self.devices_tree.setSortingEnabled(True)
        layout = QVBoxLayout(self.devices_tab)
        layout.addWidget(self.devices_intro)
        layout.addWidget(self.devices_tree, 1)
        self.tabs.addTab(self.devices_tab, "")

    # --- language -----------------------------------------------------------------------

    def retranslate(self) -> None:
        self.heading.setText(self.tr("Coordinator"))
        self.refresh_button.setText(self.tr("Refresh"))
        self.tabs.setTabText(0, self.tr("Members && devices"))
        self.tabs.setTabText(1, self.tr("Invites"))
        self.tabs.setTabText(2, self.tr("Approvals"))
        self.tabs.setTabText(3, self.tr("All devices ever issued"))
        # members
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
        # invites
        labels = [
            self.tr("Name"),
            self.tr("Organisation"),
            self.tr("Role"),
            self.tr("Valid for"),
            self.tr("Words in"),
        ]
        for label, text in zip(self.invite_labels, labels, strict=True):
            label.setText(text)
        self.invite_name.setPlaceholderText(self.tr("The member's full name"))
        self.invite_organisation.setPlaceholderText(self.tr("Their agency"))
        self.invite_role.setPlaceholderText(self.tr("e.g. police officer, nurse, social worker"))
        self.invite_days.setSuffix(self.tr(" days"))
        names = {"en": self.tr("English"), "cs": self.tr("Czech")}
        for index in range(self.invite_language.count()):
            code = str(self.invite_language.itemData(index))
            self.invite_language.setItemText(index, names.get(code, code))
        self.create_button.setText(self.tr("Create invite"))
        self.invite_box.setTitle(self.tr("Invite code"))
        self.secret_warning.setText(
            self.tr(
                "These words and this image are the invite's secret. Hand them over in person"
                " or on a channel apart from the relay, then hide them."
            )
        )
        self.save_qr_button.setText(self.tr("Save QR image…"))
        self.hide_button.setText(self.tr("Done: hide the code"))
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
        # approvals
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
        # devices
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
        if self.overview is not None:
            self._show_overview(self.overview)
        if self.new_invite is not None:
            self._show_invite(self.new_invite)
        self._show_approvals(self.last_approvals)

    # --- texts of values ----------------------------------------------------------------

    def _reason_text(self, reason: str | None) -> str:
        texts = {
            "unspecified": self.tr("no reason given"),
            "device-lost": self.tr("device lost"),
            "key-compromise": self.tr("key compromised"),
            "member-left": self.tr("member left"),
            "superseded": self.tr("superseded"),
        }
        return texts.get(reason or "", reason or "")

    def _device_status(self, row: DeviceRow) -> str:
        if row.status == DeviceStatus.REVOKED:
            return self.tr("revoked {0} ({1})").format(
                when_text(row.revoked_at or 0), self._reason_text(row.revocation_reason)
            )
        if row.status == DeviceStatus.EXPIRED:
            return self.tr("expired {0}").format(when_text(row.not_after))
        if row.status == DeviceStatus.NOT_YET_VALID:
            return self.tr("not yet valid")
        return self.tr("active until {0}").format(when_text(row.not_after))

    def _invite_status(self, invite: InviteView) -> str:
        if invite.status == InviteStatus.USED:
            return self.tr("used by device {0}").format(_short(invite.device_id))
        if invite.status == InviteStatus.EXPIRED:
            return self.tr("expired {0}").format(when_text(invite.expires_at))
        return self.tr("open until {0}").format(when_text(invite.expires_at))

    # --- calls into the session ---------------------------------------------------------

    def _call(
        self,
        coroutine: Coroutine[Any, Any, T],
        done: Callable[[T], None] | None = None,
        failed: Callable[[BaseException], None] | None = None,
    ) -> PendingCall[T]:
        """Submit to the worker; the call counts as out until its callback has run."""
        token = object()
        self._waiting.add(token)
        on_failed = failed or self._show_error

        def finished(result: T) -> None:
            self._waiting.discard(token)
            if done is not None:
                done(result)

        def broke(error: BaseException) -> None:
            self._waiting.discard(token)
            on_failed(error)

        return self.worker.submit(coroutine, finished, broke)

    @property
    def busy(self) -> bool:
        """Some call is still out, or its answer not yet shown (tests wait on this)."""
        return bool(self._waiting)

    def _show_error(self, error: BaseException) -> None:
        self.error.setText(error_text(error))

    # --- showing ------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read everything again: members, devices, the invite book and waiting requests."""
        if self._closed:
            return
        self._call(self.session.overview(), self._overview_read)

    def refresh_pending(self) -> None:
        if self._closed:
            return
        self._call(self.session.pending(), self._show_pending)

    def _auto_refresh(self) -> None:
        if self.tabs.currentWidget() is self.approvals_tab and not self.busy and self.isVisible():
            self.refresh_pending()

    def _tab_changed(self, _: int) -> None:
        if self.tabs.currentWidget() is self.approvals_tab and not self.busy:
            self.refresh_pending()

    def _overview_read(self, overview: Overview) -> None:
        self.error.clear()
        self._show_overview(overview)

    def _show_overview(self, overview: Overview) -> None:
        self.overview = overview
        self._show_members(overview.members)
        self._show_invites(overview.invites)
        self._show_pending(list(overview.pending))
        self._show_devices(overview.devices)

    def _selected_key(self, tree: QTreeWidget) -> tuple[str, bytes] | None:
        item = tree.currentItem()
        value = None if item is None else item.data(0, ROW_ROLE)
        if isinstance(value, DeviceRow):
            return ("device", value.device_id)
        if isinstance(value, MemberView):
            return ("member", value.member_id)
        if isinstance(value, PendingApproval):
            return ("pending", value.invite_id + value.device_id)
        return None

    def _show_members(self, members: tuple[MemberView, ...]) -> None:
        selected = self._selected_key(self.members_tree)
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
                label = self.tr("Device {0}").format(_short(device.device_id))
                if device.own:
                    label += " · " + self.tr("this device")
                child = QTreeWidgetItem([label, "", "", self._device_status(device)])
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
        self._update_member_buttons()

    def _show_invites(self, invites: tuple[InviteView, ...]) -> None:
        self.invites_tree.clear()
        for invite in reversed(invites):  # the newest first
            item = QTreeWidgetItem(
                [
                    invite.invite_id.hex(),
                    invite.display_name,
                    invite.organisation,
                    invite.role,
                    self._invite_status(invite),
                    when_text(invite.created_at),
                ]
            )
            item.setData(0, ROW_ROLE, invite)
            self.invites_tree.addTopLevelItem(item)
        for column in range(6):
            self.invites_tree.resizeColumnToContents(column)

    def _show_pending(self, pending: list[PendingApproval]) -> None:
        selected = self._selected_key(self.pending_tree)
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
                    _short(request.device_id),
                    when_text(request.received_at),
                    whose,
                ]
            )
            item.setData(0, ROW_ROLE, request)
            if invite is None:
                item.setForeground(3, Qt.GlobalColor.gray)
            self.pending_tree.addTopLevelItem(item)
            if selected == ("pending", request.invite_id + request.device_id):
                current = item
        for column in range(4):
            self.pending_tree.resizeColumnToContents(column)
        if current is None and self.pending_tree.topLevelItemCount() == 1:
            current = self.pending_tree.topLevelItem(0)
        if current is not None:
            self.pending_tree.setCurrentItem(current)
        self._update_approve_button()

    def _show_devices(self, devices: tuple[DeviceRow, ...]) -> None:
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
                    self._status_word(device.status),
                    when_text(device.revoked_at) if device.revoked_at is not None else "",
                    self._reason_text(device.revocation_reason),
                ]
            )
            item.setData(4, Qt.ItemDataRole.DisplayRole, device.log_index)  # sorts as a number
            item.setData(0, ROW_ROLE, device)
            if device.revoked:
                for column in range(10):
                    item.setForeground(column, REVOKED_COLOUR)
            self.devices_tree.addTopLevelItem(item)
        self.devices_tree.setSortingEnabled(True)
        self.devices_tree.sortByColumn(4, Qt.SortOrder.AscendingOrder)
        for column in range(10):
            self.devices_tree.resizeColumnToContents(column)

    def _status_word(self, status: DeviceStatus) -> str:
        return {
            DeviceStatus.ACTIVE: self.tr("active"),
            DeviceStatus.NOT_YET_VALID: self.tr("not yet valid"),
            DeviceStatus.EXPIRED: self.tr("expired"),
            DeviceStatus.REVOKED: self.tr("revoked"),
        }[status]

    # --- members: revoking --------------------------------------------------------------

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
        """Select a device's row in the members tab (tests, and after a search)."""
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

    def _update_member_buttons(self, *_: object) -> None:
        device, member = self.selected_device(), self.selected_member()
        self.revoke_device_button.setEnabled(
            device is not None and not device.revoked and not device.own
        )
        self.revoke_member_button.setEnabled(
            member is not None and not member.own and bool(member.revocable)
        )

    def _ask_revoke_device(self) -> None:
        device = self.selected_device()
        if device is None or device.revoked or device.own:
            return
        dialog = ConfirmRevokeDialog(self, device=device)
        dialog.confirmed.connect(lambda reason: self.revoke_device(device.device_id, reason))
        self.dialog = dialog
        dialog.open()

    def _ask_revoke_member(self) -> None:
        member = self.selected_member()
        if member is None or member.own or not member.revocable:
            return
        dialog = ConfirmRevokeDialog(self, member=member)
        dialog.confirmed.connect(lambda _: self.revoke_member(member.member_id))
        self.dialog = dialog
        dialog.open()

    def revoke_device(self, device_id: bytes, reason: RevocationReason) -> None:
        def revoked(index: int) -> None:
            self.status.emit(
                self.tr("Device {0} revoked (log entry {1}); its removal was proposed.").format(
                    _short(device_id), index
                )
            )
            self.refresh()

        self.error.clear()
        self._call(self.session.revoke_device(device_id, reason), revoked)

    def revoke_member(self, member_id: bytes) -> None:
        def revoked(devices: list[bytes]) -> None:
            self.status.emit(self.tr("%n device(s) revoked.", "", len(devices)))
            self.refresh()

        self.error.clear()
        self._call(self.session.revoke_member(member_id), revoked)

    def propose_removals(self) -> None:
        def sent(count: int) -> None:
            self.status.emit(self.tr("%n removal proposal(s) sent.", "", count))

        self.error.clear()
        self._call(self.session.propose_removals(), sent)

    # --- invites ------------------------------------------------------------------------

    def create_invite(self) -> None:
        name = self.invite_name.text().strip()
        organisation = self.invite_organisation.text().strip()
        role = self.invite_role.text().strip()
        if not (name and organisation and role):
            self.error.setText(self.tr("An invite needs a name, an organisation and a role."))
            return
        self.error.clear()
        self.create_button.setEnabled(False)

        def created(invite: NewInvite) -> None:
            self.create_button.setEnabled(True)
            for field in (self.invite_name, self.invite_organisation, self.invite_role):
                field.clear()
            self._show_invite(invite)
            self.refresh()

        def failed(error: BaseException) -> None:
            self.create_button.setEnabled(True)
            self._show_error(error)

        self._call(
            self.session.create_invite(
                name,
                organisation,
                role,
                self.invite_days.value(),
                language=str(self.invite_language.currentData()),
            ),
            created,
            failed,
        )

    def _show_invite(self, invite: NewInvite) -> None:
        self.new_invite = invite
        words = invite.words
        self.words.setText(
            "\n".join(
                " ".join(words[start : start + WORDS_PER_LINE])
                for start in range(0, len(words), WORDS_PER_LINE)
            )
        )
        pixmap = QPixmap()
        pixmap.loadFromData(invite.qr_png, "PNG")
        self.qr.setPixmap(pixmap)
        about = invite.invite
        self.invite_about.setText(
            self.tr(
                "For {0} ({1}), {2}. Invite id {3}. It can be used until {4}; the device's"
                " credential then lasts {5} days."
            ).format(
                about.display_name,
                about.organisation,
                about.role,
                about.invite_id.hex(),
                when_text(about.expires_at),
                about.credential_days,
            )
        )
        self.invite_box.show()

    def hide_invite(self) -> None:
        """Take the secret off the screen (the invite stays valid in the book)."""
        self.new_invite = None
        self.words.clear()
        self.qr.clear()
        self.invite_about.clear()
        self.invite_box.hide()

    def _save_qr_dialog(self) -> None:
        if self.new_invite is None:
            return
        name, _ = QFileDialog.getSaveFileName(
            self,
            self.tr("Save the invite's QR image"),
            "invite.png",
            self.tr("PNG images (*.png)"),
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if name:
            self.save_qr_to(Path(name))

    def save_qr_to(self, path: Path) -> None:
        """Write the QR image to a new file (an existing one is never overwritten)."""
        invite = self.new_invite
        if invite is None:
            return
        self.error.clear()

        def saved(where: Path) -> None:
            self.status.emit(
                self.tr("QR image saved to {0}: it is as secret as the words.").format(where)
            )

        self._call(CoordinatorSession.save_invite_image(invite, path), saved)

    # --- approvals ----------------------------------------------------------------------

    def selected_request(self) -> PendingApproval | None:
        item = self.pending_tree.currentItem()
        value = None if item is None else item.data(0, ROW_ROLE)
        return value if isinstance(value, PendingApproval) else None

    def _update_approve_button(self, *_: object) -> None:
        request = self.selected_request()
        self.approve_button.setEnabled(request is not None and request.ours)

    def approve_selected(self) -> None:
        request = self.selected_request()
        if request is None or not request.ours:
            return
        self.error.clear()
        self.approve_button.setEnabled(False)

        def approved(results: list[ApprovalResult]) -> None:
            self._show_approvals(results)
            self.refresh()

        def failed(error: BaseException) -> None:
            self._update_approve_button()
            self._show_error(error)

        self._call(self.session.approve(request.invite_id), approved, failed)

    def _show_approvals(self, results: list[ApprovalResult]) -> None:
        self.last_approvals = results
        lines = []
        for result in results:
            who = self.tr("{0} ({1})").format(result.display_name, result.organisation)
            if result.approved:
                lines.append(
                    self.tr("Approved {0}: device {1} certified and logged.").format(
                        who, _short(result.device_id)
                    )
                )
            else:
                lines.append(
                    self.tr("Rejected {0}: device {1} ({2}).").format(
                        who, _short(result.device_id), result.reason
                    )
                )
        self.approval_result.setText("\n".join(lines))
        if lines:
            self.status.emit(lines[-1])

    # --- closing ------------------------------------------------------------------------

    def close_session(self) -> None:
        """Lock the profile and drop the root before the app ends; waits for a call that
        is still signing (the session's lock) rather than cut it off half-way."""
        if self._closed:
            return
        self._closed = True
        self.timer.stop()
        if self.dialog is not None:
            self.dialog.reject()
        with contextlib.suppress(TimeoutError, CasecircleError):
            self.worker.run_blocking(self.session.close(), CLOSE_TIMEOUT)


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
        self.text = _plain_label()
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


def open_coordinator_page(window: DesktopWindow, passphrase: str) -> None:
    """Open the coordinator's session in the worker; the page replaces the unlock page when
    it is open, and the unlock page shows why when it is not."""
    floor = window.profile.insecure_floor_for_tests

    def opened(session: CoordinatorSession) -> None:
        page = CoordinatorPage(window.worker, session, language=window.language.language)
        page.status.connect(lambda text: window.statusBar().showMessage(text, 8000))
        window.show_main_page(page)
        page.refresh()

    window.pending = window.worker.submit(
        CoordinatorSession.open(window.profile, passphrase, insecure_floor_for_tests=floor),
        opened,
        window.unlock_page.failed,
    )
