"""First run and later runs of the desktop app against a real relay: enrolling with the
invite's words or its QR image (the coordinator approving meanwhile), unlocking with a
wrong and then the right passphrase, and the UI staying responsive while Argon2id runs."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer

from client.desktop.passphrase_dialog import ChangePassphraseDialog
from client.desktop.window import DesktopWindow
from client.invite_codes import qr_png, read_invite, words_of
from client.profile import Profile
from client.push import ConnectionState
from crypto.keystore import KeystoreParams
from tests.client.conftest import TEST_FLOOR
from tests.client.desktop.conftest import NEW_PASSPHRASE, PASSPHRASE, TIMEOUT_MS, tiny_profile

HEAVY = KeystoreParams(memory_kib=64 * 1024, iterations=3, parallelism=1)


def _fill_enrolment(window: DesktopWindow, relay_url: str, passphrase: str) -> None:
    page = window.enrol_page
    page.relay.setText(relay_url)
    page.passphrase.setText(passphrase)
    page.repeat.setText(passphrase)


def test_enrol_with_the_invite_words_then_wait_for_approval(
    qtbot, platform, open_window, tmp_path: Path
) -> None:
    profile = tiny_profile(tmp_path / "desk")
    window = open_window(profile)
    assert window.stack.currentWidget() is window.enrol_page
    code = platform.invite("police")
    _fill_enrolment(window, platform.relay.url, NEW_PASSPHRASE)
    window.enrol_page.code.setPlainText(" ".join(words_of(code, "cs")))
    qtbot.mouseClick(window.enrol_page.send, Qt.MouseButton.LeftButton)
    assert window.stack.currentWidget() is window.waiting_page
    assert code.invite_id.hex() in window.waiting_page.text.text()

    qtbot.waitUntil(lambda: platform.approve() > 0, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.member_page is not None, timeout=TIMEOUT_MS)
    assert window.stack.currentWidget() is window.member_page
    assert window.enrol_page.passphrase.text() == ""
    qtbot.waitUntil(
        lambda: window._status is not None and window._status.state == ConnectionState.CONNECTED,
        timeout=TIMEOUT_MS,
    )
    assert window.connection.text() == "Online"
    # The new device published KeyPackages: a colleague can open a case with it.
    colleague = platform.colleague("hospital")
    case_id = platform.run(colleague.create_case("Title", "Případ 1"))
    added = platform.run(colleague.add_member(case_id, window.session.member_id))
    assert added == [window.session.device_id]


def test_a_typo_in_the_words_is_shown_and_nothing_is_sent(
    qtbot, platform, open_window, tmp_path: Path
) -> None:
    window = open_window(tiny_profile(tmp_path / "desk"))
    words = list(words_of(platform.invite("police")))
    words[3] = words[4]
    _fill_enrolment(window, platform.relay.url, NEW_PASSPHRASE)
    window.enrol_page.code.setPlainText(" ".join(words))
    qtbot.mouseClick(window.enrol_page.send, Qt.MouseButton.LeftButton)
    assert window.stack.currentWidget() is window.enrol_page
    assert "typo" in window.enrol_page.error.text()
    assert platform.run(platform.coordinator.pending_requests()) == []


def test_the_invite_is_read_from_its_qr_image_and_weak_passphrases_are_refused(
    qtbot, platform, open_window, tmp_path: Path
) -> None:
    window = open_window(tiny_profile(tmp_path / "desk"))
    code = platform.invite("police")
    image = tmp_path / "invite.png"
    image.write_bytes(qr_png(code))
    window.enrol_page.load_qr_image(image)
    assert read_invite(window.enrol_page.code.toPlainText()) == code
    _fill_enrolment(window, platform.relay.url, "password1")
    assert window.enrol_page.strength.value() <= 1
    qtbot.mouseClick(window.enrol_page.send, Qt.MouseButton.LeftButton)
    assert window.stack.currentWidget() is window.enrol_page
    assert window.enrol_page.error.text() == "Choose a stronger passphrase."
    not_an_image = tmp_path / "words.png"
    not_an_image.write_text("no image")
    window.enrol_page.load_qr_image(not_an_image)
    assert window.enrol_page.error.text() == "No QR code could be read from this image."


def test_unlock_refuses_a_wrong_passphrase_and_opens_with_the_right_one(
    qtbot, platform, open_window
) -> None:
    window = open_window(platform.enrolled_profile("police"))
    assert window.stack.currentWidget() is window.unlock_page
    window.unlock_page.passphrase.setText("not the passphrase")
    qtbot.keyClick(window.unlock_page.passphrase, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.unlock_page.error.text() != "", timeout=TIMEOUT_MS)
    assert window.unlock_page.error.text() == "Wrong passphrase."
    assert window.unlock_page.unlock.isEnabled()
    window.unlock_page.passphrase.setText(PASSPHRASE)
    qtbot.mouseClick(window.unlock_page.unlock, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.member_page is not None, timeout=TIMEOUT_MS)
    assert window.unlock_page.passphrase.text() == ""


def test_the_window_keeps_answering_while_the_keystore_opens(qtbot, platform, open_window) -> None:
    """Argon2id runs off the Qt thread: the click returns at once, and a timer in the Qt
    thread keeps firing while a keystore sealed at 64 MiB and 3 passes is opened."""
    tiny = platform.enrolled_profile("police")
    heavy = Profile(tiny.layout.root, params=HEAVY, insecure_floor_for_tests=TEST_FLOOR)
    unlocked = platform.run(heavy.unlock(PASSPHRASE))
    platform.run(unlocked.change_passphrase(PASSPHRASE, PASSPHRASE))  # re-sealed at HEAVY
    platform.run(unlocked.lock())
    window = open_window(heavy)
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    window.unlock_page.passphrase.setText(PASSPHRASE)
    clicked = time.monotonic()
    qtbot.mouseClick(window.unlock_page.unlock, Qt.MouseButton.LeftButton)
    assert window.member_page is None
    assert window.unlock_page.busy.isVisibleTo(window.unlock_page)
    qtbot.waitUntil(lambda: window.member_page is not None, timeout=TIMEOUT_MS)
    opened = time.monotonic()
    timer.stop()
    assert len([t for t in ticks if clicked < t < opened]) >= 3


def test_the_passphrase_is_changed_from_the_profile_menu(qtbot, platform, open_window) -> None:
    profile = platform.enrolled_profile("police")
    window = open_window(profile)
    assert not window.profile_menu.menuAction().isVisible()
    window.unlock_page.passphrase.setText(PASSPHRASE)
    qtbot.mouseClick(window.unlock_page.unlock, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.member_page is not None, timeout=TIMEOUT_MS)
    assert window.profile_menu.menuAction().isVisible()

    window.change_passphrase.trigger()
    dialog = window.dialog
    assert isinstance(dialog, ChangePassphraseDialog)
    dialog.current.setText("not the passphrase")
    dialog.fields.passphrase.setText(NEW_PASSPHRASE)
    dialog.fields.repeat.setText(NEW_PASSPHRASE + "!")
    dialog.buttons.accepted.emit()
    assert dialog.error.text() == "The two passphrases differ."
    dialog.fields.repeat.setText(NEW_PASSPHRASE)
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: dialog.error.text() == "Wrong passphrase.", timeout=TIMEOUT_MS)
    dialog.current.setText(PASSPHRASE)
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=TIMEOUT_MS)
    window.close()

    again = open_window(profile)
    again.unlock_page.passphrase.setText(PASSPHRASE)
    qtbot.mouseClick(again.unlock_page.unlock, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: again.unlock_page.error.text() == "Wrong passphrase.", timeout=TIMEOUT_MS
    )
    again.unlock_page.passphrase.setText(NEW_PASSPHRASE)
    qtbot.mouseClick(again.unlock_page.unlock, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: again.member_page is not None, timeout=TIMEOUT_MS)
