"""The desktop app's one window: it walks from the start pages (enrol or unlock) to the
member's page — or the coordinator's, when the profile holds the platform root — and has
the language menu, the auditor's view and the connection state in the status bar.

The window owns the worker and at most one open session; closing the window saves the
draft, stops syncing and locks the profile (its keys dropped) before the process ends.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QWidget,
)

from client.desktop.bridge import SessionSignals
from client.desktop.i18n import LANGUAGES, LanguageSwitch
from client.desktop.member_page import MemberPage
from client.desktop.passphrase_dialog import ChangePassphraseDialog
from client.desktop.retranslating import Retranslating
from client.desktop.session import DesktopSession
from client.desktop.start_pages import EnrolPage, UnlockPage, WaitingPage
from client.desktop.worker import AsyncWorker, PendingCall
from client.profile import Profile
from client.push import ConnectionState, PushStatus
from protocol.invites import InviteCode

CLOSE_TIMEOUT = 20.0


class DesktopWindow(Retranslating, QMainWindow):
    def __init__(
        self,
        profile: Profile,
        *,
        settings: QSettings,
        language: LanguageSwitch,
        relay_url: str = "",
        session_options: dict[str, Any] | None = None,
        enrol_poll_interval: float = 2.0,
    ) -> None:
        super().__init__()
        self.profile = profile
        self.settings = settings
        self.language = language
        self.worker = AsyncWorker()
        self.worker.start()
        self.signals = SessionSignals()
        self.signals.connection.connect(self._connection_changed)
        self.signals.case.connect(self._case_changed)
        self.session: DesktopSession | None = None
        self.session_options = session_options or {}
        self.enrol_poll_interval = enrol_poll_interval
        self.pending: PendingCall[Any] | None = None
        self.dialog: QDialog | None = None
        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.enrol_page = EnrolPage(relay_url)
        self.enrol_page.submitted.connect(self._enrol)
        self.waiting_page = WaitingPage()
        self.waiting_page.cancelled.connect(self._cancel_enrolment)
        self.unlock_page = UnlockPage(profile.layout.root)
        self.unlock_page.submitted.connect(self._unlock)
        self.enrol_page.audit_requested.connect(self.open_auditor)
        self.unlock_page.audit_requested.connect(self.open_auditor)
        self.member_page: MemberPage | None = None
        self.main_page: QWidget | None = None
        for page in (self.enrol_page, self.waiting_page, self.unlock_page):
            self.stack.addWidget(page)
        self.connection = QLabel()
        self.reconnect = QPushButton()
        self.reconnect.setFlat(True)
        self.reconnect.clicked.connect(self._retry)
        self.reconnect.hide()
        self.statusBar().addPermanentWidget(self.connection)
        self.statusBar().addPermanentWidget(self.reconnect)
        self._status: PushStatus | None = None
        self._make_menus()
        self.stack.setCurrentWidget(self.unlock_page if profile.exists() else self.enrol_page)
        self.retranslate()
        self.resize(1120, 720)

    # --- menus and language -------------------------------------------------------------

    def _make_menus(self) -> None:
        self.profile_menu = self.menuBar().addMenu("")
        self.change_passphrase = QAction(self)
        self.change_passphrase.triggered.connect(self.open_passphrase_dialog)
        self.profile_menu.addAction(self.change_passphrase)
        self.profile_menu.menuAction().setVisible(False)  # a member's session must be open
        self.language_menu = self.menuBar().addMenu("")
        group = QActionGroup(self)
        self.language_actions: dict[str, QAction] = {}
        for code, name in LANGUAGES.items():
            action = QAction(name, self, checkable=True)
            action.setChecked(code == self.language.language)
            action.triggered.connect(lambda _=False, c=code: self.switch_language(c))
            group.addAction(action)
            self.language_menu.addAction(action)
            self.language_actions[code] = action

    def switch_language(self, code: str) -> None:
        self.language.switch(code)
        self.language_actions[code].setChecked(True)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("casecircle"))
        self.language_menu.setTitle(self.tr("Language"))
        self.profile_menu.setTitle(self.tr("Profile"))
        self.change_passphrase.setText(self.tr("Change passphrase…"))
        self.reconnect.setText(self.tr("Reconnect now"))
        self._show_connection()

    # --- enrolling and unlocking -----------------------------------------------------------

    def _enrol(self, relay_url: str, code: InviteCode, passphrase: str) -> None:
        self.waiting_page.waiting_for(code.invite_id.hex())
        self.stack.setCurrentWidget(self.waiting_page)
        self.pending = self.worker.submit(
            DesktopSession.enrol(
                self.profile,
                passphrase,
                relay_url,
                code,
                self.signals,
                poll_interval=self.enrol_poll_interval,
                **self.session_options,
            ),
            self._opened,
            self._enrol_failed,
        )

    def _enrol_failed(self, error: BaseException) -> None:
        self.stack.setCurrentWidget(self.enrol_page)
        self.enrol_page.failed(error)

    def _cancel_enrolment(self) -> None:
        if self.pending is not None:
            self.pending.cancel()
        self.stack.setCurrentWidget(self.enrol_page)

    def _unlock(self, passphrase: str) -> None:
        if DesktopSession.holds_platform_root(self.profile):
            self._open_coordinator(passphrase)
            return
        self.pending = self.worker.submit(
            DesktopSession.unlock(self.profile, passphrase, self.signals, **self.session_options),
            self._opened,
            self.unlock_page.failed,
        )

    def open_auditor(self) -> None:
        """The auditor's view needs no profile: it reads a relay export."""
        from client.desktop.auditor_page import open_auditor_page  # noqa: PLC0415

        open_auditor_page(self)

    def _open_coordinator(self, passphrase: str) -> None:
        from client.desktop.coordinator_page import open_coordinator_page  # noqa: PLC0415

        open_coordinator_page(self, passphrase)

    def _opened(self, session: DesktopSession) -> None:
        self.session = session
        page = MemberPage(self.worker, session)
        page.status.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.member_page = page
        self.profile_menu.menuAction().setVisible(True)
        self.show_main_page(page)
        page.start()
        self.worker.submit(_go_online(session))

    def show_main_page(self, page: QWidget) -> None:
        self.main_page = page
        self.stack.addWidget(page)
        self.stack.setCurrentWidget(page)
        self.unlock_page.passphrase.clear()
        self.enrol_page.new_passphrase.clear()

    def open_passphrase_dialog(self) -> None:
        session = self.session
        if session is None:
            return
        dialog = ChangePassphraseDialog(self)
        self.dialog = dialog

        def submitted(current: str, new: str) -> None:
            def changed(_: None) -> None:
                dialog.changed()
                self.statusBar().showMessage(self.tr("The passphrase was changed."), 8000)

            self.worker.submit(session.change_passphrase(current, new), changed, dialog.failed)

        dialog.submitted.connect(submitted)
        dialog.open()

    # --- the connection -------------------------------------------------------------------

    def _connection_changed(self, status: PushStatus) -> None:
        self._status = status
        self._show_connection()

    def _show_connection(self) -> None:
        status = self._status
        if status is None:
            self.connection.setText("" if self.session is None else self.tr("Connecting…"))
            return
        texts = {
            ConnectionState.IDLE: self.tr("Not connected"),
            ConnectionState.CONNECTING: self.tr("Connecting…"),
            ConnectionState.CONNECTED: self.tr("Online"),
            ConnectionState.CLOSED: self.tr("Disconnected"),
        }
        if status.state == ConnectionState.OFFLINE:
            wait = max(0, round((status.retry_at or 0) - time.time()))
            text = self.tr("Offline: working from this device; next try in {0} s").format(wait)
        else:
            text = texts[status.state]
        self.connection.setText(text)
        self.connection.setObjectName(status.state.value)
        self.reconnect.setVisible(status.state == ConnectionState.OFFLINE)

    def _retry(self) -> None:
        if self.session is not None:
            self.worker.submit(_retry(self.session))

    def _case_changed(self, case_id: bytes | None) -> None:
        if self.member_page is not None:
            self.member_page.refresh(case_id)

    # --- closing --------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        """Save the draft, stop syncing and lock the profile, then end the worker."""
        if self.member_page is not None:
            self.member_page.close_page()
        self.shut_down()
        super().closeEvent(event)

    def shut_down(self) -> None:
        self.signals.blockSignals(True)
        closer = getattr(self.main_page, "close_session", None)
        if self.session is not None:
            self.worker.run_blocking(self.session.close(), CLOSE_TIMEOUT)
            self.session = None
        elif callable(closer):
            closer()
        self.worker.stop()


async def _go_online(session: DesktopSession) -> None:
    session.go_online()


async def _retry(session: DesktopSession) -> None:
    session.retry_now()


def default_profile_dir() -> Path:
    return Path.home() / ".local" / "share" / "casecircle" / "profile"
