"""The coordinator's page against a real relay: unlocking a coordinator profile opens it; an
invite made there shows its words and QR image (both decode to the same code, and the
image is saved to a new owner-only file); a device that enrols with those words is
approved in the Approvals tab, appears under Members & devices, is revoked after a
confirmation, and shows as revoked (when, why) in the list of every device ever issued.
Closing the window locks the profile again."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import asyncio
import stat
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import QDialogButtonBox

from client.desktop.coordinator_dialogs import ConfirmRevokeDialog
from client.desktop.coordinator_page import CoordinatorPage
from client.desktop.qr_image import read_qr_text
from client.desktop.window import DesktopWindow
from client.directory import DeviceStanding
from client.enrolment import accept_invite
from client.invite_codes import read_invite
from client.profile import UnlockedProfile
from protocol.directory import RevocationReason
from tests.client.desktop.conftest import PASSPHRASE, TIMEOUT_MS, Platform, tiny_profile

NURSE = ("Petr Novák", "Nemocnice Chomutov", "nurse")


@pytest.fixture
def window(platform: Platform, open_window):
    return open_window(platform.coordinator_profile())


def _unlock(qtbot: Any, window: DesktopWindow, passphrase: str) -> None:
    window.unlock_page.passphrase.setText(passphrase)
    qtbot.mouseClick(window.unlock_page.unlock, Qt.MouseButton.LeftButton)


def _open_page(qtbot: Any, window: DesktopWindow) -> CoordinatorPage:
    _unlock(qtbot, window, PASSPHRASE)
    qtbot.waitUntil(lambda: isinstance(window.main_page, CoordinatorPage), timeout=TIMEOUT_MS)
    page = window.main_page
    assert isinstance(page, CoordinatorPage)
    qtbot.waitUntil(lambda: page.overview is not None and not page.busy, timeout=TIMEOUT_MS)
    return page


def _wait_idle(qtbot: Any, page: CoordinatorPage) -> None:
    qtbot.waitUntil(lambda: not page.busy, timeout=TIMEOUT_MS)


def _devices_row(page: CoordinatorPage, device_id: bytes) -> list[str]:
    tree = page.devices_tab.devices_tree
    for index in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(index)
        assert item is not None
        if item.text(0) == device_id.hex():
            return [item.text(column) for column in range(tree.columnCount())]
    raise AssertionError(f"device {device_id.hex()} is not listed")


def test_a_wrong_passphrase_stays_on_the_unlock_page(qtbot: Any, window: DesktopWindow) -> None:
    _unlock(qtbot, window, "not the passphrase at all")
    qtbot.waitUntil(lambda: window.unlock_page.error.text() != "", timeout=TIMEOUT_MS)
    assert window.unlock_page.error.text() == "Wrong passphrase."
    assert window.main_page is None
    assert window.stack.currentWidget() is window.unlock_page


def test_invite_approve_and_revoke_through_the_page(
    qtbot: Any, window: DesktopWindow, platform: Platform, tmp_path: Path
) -> None:
    page = _open_page(qtbot, window)
    assert page.overview is not None
    (own,) = page.overview.members
    assert own.own and own.display_name == "Koordinátorka"
    page.members_tab.select_device(own.devices[0].device_id)
    assert not page.members_tab.revoke_device_button.isEnabled(), (
        "the own device is not revoked here"
    )
    assert not page.members_tab.revoke_member_button.isEnabled()

    # An invite needs every field; then it shows its secret, words and QR image.
    page.tabs.setCurrentWidget(page.invites_tab)
    qtbot.mouseClick(page.invite_panel.create_button, Qt.MouseButton.LeftButton)
    assert "needs a name" in page.error.text()
    page.invite_panel.invite_name.setText(NURSE[0])
    page.invite_panel.invite_organisation.setText(NURSE[1])
    page.invite_panel.invite_role.setText(NURSE[2])
    page.invite_panel.invite_days.setValue(3)
    qtbot.mouseClick(page.invite_panel.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.invite_panel.new_invite is not None, timeout=TIMEOUT_MS)
    _wait_idle(qtbot, page)
    assert page.error.text() == ""
    assert page.invite_panel.invite_box.isVisible()
    words = page.invite_panel.words.text().split()
    assert len(words) == 24
    code = read_invite(page.invite_panel.words.text())
    assert (
        page.invite_panel.new_invite is not None
        and page.invite_panel.new_invite.invite.invite_id == code.invite_id
    )
    assert code.invite_id.hex() in page.invite_panel.invite_about.text()
    assert not page.invite_panel.qr.pixmap().isNull()
    assert page.invite_panel.words.textFormat() == Qt.TextFormat.PlainText

    qr_file = tmp_path / "invite.png"
    page.invite_panel.save_qr_to(qr_file)
    _wait_idle(qtbot, page)
    assert stat.S_IMODE(qr_file.stat().st_mode) == 0o600, "the image is as secret as the words"
    assert read_invite(read_qr_text(qr_file)).invite_id == code.invite_id
    page.invite_panel.save_qr_to(qr_file)  # never overwritten
    _wait_idle(qtbot, page)
    assert "exists already" in page.error.text()

    assert page.invite_book.invites_tree.topLevelItemCount() == 1
    book_row = page.invite_book.invites_tree.topLevelItem(0)
    assert book_row is not None
    assert book_row.text(0) == code.invite_id.hex()
    assert book_row.text(4).startswith("open until")

    page.invite_panel.hide_invite()
    assert page.invite_panel.words.text() == "" and page.invite_panel.qr.pixmap().isNull()
    assert not page.invite_panel.invite_box.isVisible()

    # The nurse's device asks to join with the words the page showed.
    enrolment = asyncio.run_coroutine_threadsafe(
        accept_invite(
            tiny_profile(tmp_path / "nurse"),
            PASSPHRASE,
            platform.relay.url,
            code,
            poll_interval=0.1,
            timeout=60,
        ),
        platform.loop.loop,
    )
    page.tabs.setCurrentWidget(page.approvals_tab)

    def request_listed() -> bool:
        if not page.busy:
            page.refresh_pending()
        return page.approvals_tab.pending_tree.topLevelItemCount() == 1

    qtbot.waitUntil(request_listed, timeout=TIMEOUT_MS)
    _wait_idle(qtbot, page)
    row = page.approvals_tab.pending_tree.topLevelItem(0)
    assert row is not None
    assert row.text(0) == code.invite_id.hex()
    assert NURSE[0] in row.text(3)
    page.approvals_tab.pending_tree.setCurrentItem(row)
    assert page.approvals_tab.approve_button.isEnabled()
    qtbot.mouseClick(page.approvals_tab.approve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: "Approved" in page.approvals_tab.approval_result.text(), timeout=TIMEOUT_MS
    )
    unlocked: UnlockedProfile = enrolment.result(timeout=30)
    device_id = unlocked.identity.device_id
    platform.loop.run_blocking(unlocked.lock(), 30)
    _wait_idle(qtbot, page)
    qtbot.waitUntil(
        lambda: page.overview is not None and len(page.overview.members) == 2,
        timeout=TIMEOUT_MS,
    )
    assert page.approvals_tab.pending_tree.topLevelItemCount() == 0

    # The new member and their device under Members & devices.
    page.tabs.setCurrentWidget(page.members_tab)
    assert page.overview is not None
    nurse = next(m for m in page.overview.members if not m.own)
    assert (nurse.display_name, nurse.organisation, nurse.role) == NURSE
    assert [d.device_id for d in nurse.devices] == [device_id]
    assert nurse.devices[0].status == DeviceStanding.ACTIVE
    assert page.members_tab.select_device(device_id)
    device_item = page.members_tab.members_tree.currentItem()
    assert device_item is not None and device_item.text(3).startswith("active until")
    assert page.members_tab.revoke_device_button.isEnabled()
    assert page.members_tab.revoke_member_button.isEnabled()
    assert _devices_row(page, device_id)[7] == "active"
    book_row = page.invite_book.invites_tree.topLevelItem(0)
    assert book_row is not None and book_row.text(4).startswith("used by device")

    # Revoking asks first; cancelling changes nothing.
    qtbot.mouseClick(page.members_tab.revoke_device_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    assert isinstance(dialog, ConfirmRevokeDialog) and dialog.isVisible()
    assert device_id.hex() in dialog.text.text()
    dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    assert not page.busy
    qtbot.mouseClick(page.members_tab.revoke_device_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    assert isinstance(dialog, ConfirmRevokeDialog)
    dialog.reason.setCurrentIndex(dialog.reason.findData(int(RevocationReason.DEVICE_LOST)))
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(
        lambda: (
            page.overview is not None
            and any(d.device_id == device_id and d.revoked for d in page.overview.devices)
        ),
        timeout=TIMEOUT_MS,
    )
    _wait_idle(qtbot, page)
    assert page.error.text() == ""

    # Shown as revoked in both lists, with when and why; the button is off for it now.
    revoked = _devices_row(page, device_id)
    assert revoked[1:4] == list(NURSE)
    assert revoked[7] == "revoked" and revoked[8] != "" and revoked[9] == "device lost"
    page.tabs.setCurrentWidget(page.devices_tab)
    assert page.devices_tab.devices_tree.topLevelItemCount() == 2
    assert page.members_tab.select_device(device_id)
    device_item = page.members_tab.members_tree.currentItem()
    assert device_item is not None and device_item.text(3).startswith("revoked")
    assert not page.members_tab.revoke_device_button.isEnabled()
    assert not page.members_tab.revoke_member_button.isEnabled(), (
        "nothing of the member is left to revoke"
    )

    # A language change sets every text again from what was read, without a new call.
    QCoreApplication.sendEvent(page, QEvent(QEvent.Type.LanguageChange))
    assert not page.busy
    assert _devices_row(page, device_id)[7] == "revoked"
    assert page.tabs.tabText(3) == "All devices ever issued"

    # Closing the window locks the coordinator's profile: the library can open it again.
    window.close()
    assert page.session.closed
    reopened = platform.run(platform.coordinator_profile().unlock(PASSPHRASE))
    platform.loop.run_blocking(reopened.lock(), 30)


def test_revoking_a_member_revokes_every_device(
    qtbot: Any, window: DesktopWindow, platform: Platform, tmp_path: Path
) -> None:
    page = _open_page(qtbot, window)
    # The invite is made through the session the page drives, the enrolment by the library.
    invite = window.worker.run_blocking(page.session.create_invite(*NURSE, 7), 30)
    enrolment = asyncio.run_coroutine_threadsafe(
        accept_invite(
            tiny_profile(tmp_path / "nurse"),
            PASSPHRASE,
            platform.relay.url,
            read_invite(" ".join(invite.words)),
            poll_interval=0.1,
            timeout=60,
        ),
        platform.loop.loop,
    )

    def approved() -> bool:
        if enrolment.done():
            return True
        if not page.busy:
            page.refresh_pending()
            if page.approvals_tab.approve_button.isEnabled():
                page.approvals_tab.approve_selected()
        return False

    qtbot.waitUntil(approved, timeout=TIMEOUT_MS)
    unlocked = enrolment.result(timeout=5)
    platform.loop.run_blocking(unlocked.lock(), 30)
    _wait_idle(qtbot, page)
    page.refresh()
    _wait_idle(qtbot, page)
    assert page.members_tab.select_device(unlocked.identity.device_id)
    qtbot.mouseClick(page.members_tab.revoke_member_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    assert isinstance(dialog, ConfirmRevokeDialog)
    assert NURSE[0] in dialog.text.text()
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(
        lambda: (
            page.overview is not None and all(d.revoked for d in page.overview.devices if not d.own)
        ),
        timeout=TIMEOUT_MS,
    )
    _wait_idle(qtbot, page)
    assert _devices_row(page, unlocked.identity.device_id)[9] == "member left"
    with qtbot.waitSignal(page.status, timeout=TIMEOUT_MS) as proposed:
        qtbot.mouseClick(page.members_tab.propose_button, Qt.MouseButton.LeftButton)
    _wait_idle(qtbot, page)
    assert page.error.text() == ""
    assert proposed.args == ["0 removal proposal(s) sent."]  # what the click reported
