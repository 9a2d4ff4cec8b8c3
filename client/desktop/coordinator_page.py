"""The main window's page for the coordinator: members and their devices, invites, the
enrolment requests waiting for approval, and every device the platform root ever issued.

The page is a container of those tabs and the controller between them and
:class:`CoordinatorSession`: the tabs only show what was read and ask through their
signals; each action goes through the worker (the relay and the root's signatures never
block the window) and each answer refreshes what it changed. Revoking asks first, in a
dialog opened with ``open()`` (never a nested event loop), so the app keeps serving the
network meanwhile. Every name, organisation and role shown came from the network or the
invite book: labels show it as plain text, and item views never interpret markup.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from client.desktop.coordinator_approvals import ApprovalsTab
from client.desktop.coordinator_devices import DevicesTab
from client.desktop.coordinator_dialogs import ConfirmRevokeDialog
from client.desktop.coordinator_members import MembersTab
from client.desktop.coordinator_session import (
    ApprovalResult,
    CoordinatorSession,
    DeviceRow,
    MemberView,
    NewInvite,
    Overview,
    PendingApproval,
)
from client.desktop.coordinator_texts import short_id
from client.desktop.invite_book import InviteBook
from client.desktop.invite_panel import InvitePanel, InviteRequest
from client.desktop.messages import error_text
from client.desktop.plain_text import error_label, heading_label
from client.desktop.retranslating import Retranslating
from client.desktop.worker import AsyncWorker, CallGroup
from crypto.errors import CasecircleError
from protocol.directory import RevocationReason

if TYPE_CHECKING:
    from client.desktop.window import DesktopWindow

CLOSE_TIMEOUT = 20.0
AUTO_REFRESH_MS = 10_000
"""How often the Approvals tab, while shown, asks the relay for new requests."""


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
        self.calls = CallGroup(worker, self._show_error)
        self._call = self.calls.submit
        self.overview: Overview | None = None
        self.dialog: QDialog | None = None  # the open dialog, for tests and screenshots
        self._closed = False

        self.heading = heading_label()
        self.refresh_button = QPushButton()
        self.refresh_button.clicked.connect(self.refresh)
        self.error = error_label()
        self.tabs = QTabWidget()
        self._make_tabs(language)
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

    def _make_tabs(self, language: str) -> None:
        self.members_tab = MembersTab()
        self.members_tab.revoke_device_requested.connect(self._ask_revoke_device)
        self.members_tab.revoke_member_requested.connect(self._ask_revoke_member)
        self.members_tab.propose_requested.connect(self.propose_removals)

        self.invite_panel = InvitePanel(language=language)
        self.invite_panel.create_requested.connect(self.create_invite)
        self.invite_panel.save_requested.connect(self.save_invite_image)
        self.invite_panel.problem.connect(self.error.setText)
        self.invite_book = InviteBook()
        self.invites_tab = QWidget()
        invites = QVBoxLayout(self.invites_tab)
        invites.addWidget(self.invite_panel)
        invites.addWidget(self.invite_book, 1)

        self.approvals_tab = ApprovalsTab()
        self.approvals_tab.approve_requested.connect(self.approve)
        self.approvals_tab.refresh_requested.connect(self.refresh_pending)
        self.approvals_tab.status.connect(self.status)

        self.devices_tab = DevicesTab()
        for tab in (self.members_tab, self.invites_tab, self.approvals_tab, self.devices_tab):
            self.tabs.addTab(tab, "")

    def retranslate(self) -> None:
        """The page's own texts; each tab sets its texts and rows again itself."""
        self.heading.setText(self.tr("Coordinator"))
        self.refresh_button.setText(self.tr("Refresh"))
        self.tabs.setTabText(0, self.tr("Members && devices"))
        self.tabs.setTabText(1, self.tr("Invites"))
        self.tabs.setTabText(2, self.tr("Approvals"))
        self.tabs.setTabText(3, self.tr("All devices ever issued"))

    # --- calls into the session ---------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Some call is still out, or its answer not yet shown (tests wait on this)."""
        return self.calls.busy

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
        self._call(self.session.pending(), self.approvals_tab.show_pending)

    def _auto_refresh(self) -> None:
        if self.tabs.currentWidget() is self.approvals_tab and not self.busy and self.isVisible():
            self.refresh_pending()

    def _tab_changed(self, _: int) -> None:
        if self.tabs.currentWidget() is self.approvals_tab and not self.busy:
            self.refresh_pending()

    def _overview_read(self, overview: Overview) -> None:
        self.error.clear()
        self.overview = overview
        self.members_tab.show_members(overview.members)
        self.invite_book.show_invites(overview.invites)
        self.approvals_tab.show_pending(list(overview.pending))
        self.devices_tab.show_devices(overview.devices)

    # --- members: revoking --------------------------------------------------------------

    def _ask_revoke_device(self, device: DeviceRow) -> None:
        dialog = ConfirmRevokeDialog(self, device=device)
        dialog.confirmed.connect(lambda reason: self.revoke_device(device.device_id, reason))
        self.dialog = dialog
        dialog.open()

    def _ask_revoke_member(self, member: MemberView) -> None:
        dialog = ConfirmRevokeDialog(self, member=member)
        dialog.confirmed.connect(lambda _: self.revoke_member(member.member_id))
        self.dialog = dialog
        dialog.open()

    def revoke_device(self, device_id: bytes, reason: RevocationReason) -> None:
        def revoked(index: int) -> None:
            self.status.emit(
                self.tr("Device {0} revoked (log entry {1}); its removal was proposed.").format(
                    short_id(device_id), index
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

    def create_invite(self, request: InviteRequest) -> None:
        self.error.clear()

        def created(invite: NewInvite) -> None:
            self.invite_panel.created(invite)
            self.refresh()

        def failed(error: BaseException) -> None:
            self.invite_panel.creation_failed()
            self._show_error(error)

        self._call(
            self.session.create_invite(
                request.display_name,
                request.organisation,
                request.role,
                request.valid_days,
                language=request.language,
            ),
            created,
            failed,
        )

    def save_invite_image(self, invite: NewInvite, path: Path) -> None:
        """Write the QR image to a new file (an existing one is never overwritten)."""
        self.error.clear()

        def saved(where: Path) -> None:
            self.status.emit(
                self.tr("QR image saved to {0}: it is as secret as the words.").format(where)
            )

        self._call(CoordinatorSession.save_invite_image(invite, path), saved)

    # --- approvals ----------------------------------------------------------------------

    def approve(self, request: PendingApproval) -> None:
        self.error.clear()

        def approved(results: list[ApprovalResult]) -> None:
            self.approvals_tab.show_results(results)
            self.refresh()

        def failed(error: BaseException) -> None:
            self.approvals_tab.update_approve_button()
            self._show_error(error)

        self._call(self.session.approve(request.invite_id), approved, failed)

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
