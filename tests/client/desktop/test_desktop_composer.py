"""Writing in the desktop app: a note that looks like it identifies someone is held back
until the user confirms; a draft survives switching cases and closing the app; a note
written while the relay is down waits in the outbox, marked, and goes when it is back."""

from __future__ import annotations

from PySide6.QtCore import Qt

from client.desktop.case_views import NoteState
from client.desktop.security_banner import SecurityEventsDialog
from client.push import ConnectionState
from tests.client.desktop.conftest import PASSPHRASE, TIMEOUT_MS
from tests.client.desktop.test_desktop_cases import (
    open_new_case,
    send,
    shared_case,
    signed_card,
    unlock,
)


def test_identifying_text_is_held_back_until_confirmed(qtbot, platform, open_window) -> None:
    window = open_window(platform.enrolled_profile("police"))
    page = unlock(qtbot, window)
    open_new_case(qtbot, page)
    text = "Matka (rodné číslo 855204/1234) bydlí Husova 12, 431 11 Jirkov."
    page.composer.editor.setPlainText(text)
    qtbot.mouseClick(page.composer.send, Qt.MouseButton.LeftButton)
    assert page.composer.warning.isVisibleTo(page.composer)
    assert "a birth number" in page.composer.warning.text()
    assert "a street address" in page.composer.warning.text()
    assert page.composer.editor.toPlainText() == text
    assert page.composer.send.isEnabled()  # nothing was handed to the session
    assert not any(card.note.text == text for card in page.thread_view.cards)

    page.composer.editor.setPlainText("Matka bydlí v Jirkově.")
    assert not page.composer.warning.isVisibleTo(page.composer)
    page.composer.editor.setPlainText(text)
    qtbot.mouseClick(page.composer.send, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(page.composer.send_anyway, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: signed_card(page, text) is not None, timeout=TIMEOUT_MS)


def test_a_draft_survives_switching_cases_and_closing_the_app(qtbot, platform, open_window) -> None:
    profile = platform.enrolled_profile("police")
    window = open_window(profile)
    page = unlock(qtbot, window)
    first = open_new_case(qtbot, page, "Případ A")
    page.composer.editor.setPlainText("Half-written: the school called about")
    second = open_new_case(qtbot, page, "Případ B")
    assert page.composer.editor.toPlainText() == ""
    page.composer.editor.setPlainText("Draft of case B")
    qtbot.waitUntil(lambda: page.session.draft(second) == "Draft of case B", timeout=TIMEOUT_MS)
    page.case_list.select(first)
    qtbot.waitUntil(lambda: page.case_id == first, timeout=TIMEOUT_MS)
    assert page.composer.editor.toPlainText() == "Half-written: the school called about"
    page.composer.editor.setPlainText("Half-written: the school called about the boy")
    window.close()  # no pause: closing flushes the draft and saves it sealed

    again = open_window(profile)
    page = unlock(qtbot, again)
    qtbot.waitUntil(lambda: len(page.case_list.rows) == 2, timeout=TIMEOUT_MS)
    page.case_list.select(first)
    qtbot.waitUntil(lambda: page.case_id == first, timeout=TIMEOUT_MS)
    assert page.composer.editor.toPlainText() == "Half-written: the school called about the boy"
    sealed = (profile.layout.root / "desktop.sealed").read_bytes()
    assert b"school" not in sealed and b"Draft" not in sealed


def test_a_note_written_offline_waits_and_goes_when_the_relay_is_back(
    qtbot, platform, open_window
) -> None:
    window, page, hospital, case_id = shared_case(qtbot, platform, open_window)
    send(qtbot, page, "Written online.")

    platform.relay.stop()
    qtbot.waitUntil(
        lambda: window._status is not None and window._status.state == ConnectionState.OFFLINE,
        timeout=TIMEOUT_MS,
    )
    assert window.connection.text().startswith("Offline")
    assert window.reconnect.isVisibleTo(window)
    page.composer.editor.setPlainText("Written on the train.")
    qtbot.mouseClick(page.composer.send, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.composer.editor.toPlainText() == "", timeout=TIMEOUT_MS)
    qtbot.waitUntil(
        lambda: any(
            c.note.text == "Written on the train." and c.note.state == NoteState.SENDING
            for c in page.thread_view.cards
        ),
        timeout=TIMEOUT_MS,
    )
    # Files need the relay there and then: the note and its text stay in the composer.
    page.composer.editor.setPlainText("With a file.")
    page.composer.add_files([platform.root / "coordinator" / "invites"])
    qtbot.mouseClick(page.composer.send, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: page.composer.error.text().startswith("The relay cannot be reached now"),
        timeout=TIMEOUT_MS,
    )
    assert page.composer.editor.toPlainText() == "With a file."

    platform.relay.start()
    qtbot.mouseClick(window.reconnect, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: signed_card(page, "Written on the train.") is not None, timeout=TIMEOUT_MS
    )
    platform.run(hospital.sync())
    texts = [s.stored.item.text for s in platform.run(hospital.notes(case_id))]
    assert texts == ["Written online.", "Written on the train."]


def test_security_events_are_shown_until_looked_at_and_a_fork_stays(
    qtbot, platform, open_window
) -> None:
    """The library records each refusal (its tests show when); the window shows them."""
    window = open_window(platform.enrolled_profile("police"))
    page = unlock(qtbot, window)
    assert not page.banner.isVisibleTo(page)
    store = page.session.store
    window.worker.run_blocking(store.record_security_event("author_mismatch"), 10)
    window.worker.run_blocking(store.record_security_event("invalid_tag"), 10)
    page.refresh()
    qtbot.waitUntil(lambda: page.banner.isVisibleTo(page), timeout=TIMEOUT_MS)
    assert page.banner.text.text() == "2 message(s) or key(s) were refused and left out."
    qtbot.mouseClick(page.banner.details, Qt.MouseButton.LeftButton)
    assert isinstance(page.dialog, SecurityEventsDialog)
    assert page.dialog.list.count() == 2
    qtbot.waitUntil(lambda: not page.banner.isVisibleTo(page), timeout=TIMEOUT_MS)

    window.worker.run_blocking(store.record_security_event("fork_detected"), 10)
    page.refresh()
    qtbot.waitUntil(lambda: page.banner.isVisibleTo(page), timeout=TIMEOUT_MS)
    assert "contradicts" in page.banner.text.text()
    qtbot.mouseClick(page.banner.details, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.busy, timeout=TIMEOUT_MS)  # seen, and refreshed
    assert page.banner.isVisibleTo(page)


def test_the_app_starts_offline_from_what_the_device_holds(qtbot, platform, open_window) -> None:
    profile = platform.enrolled_profile("police")
    first = open_window(profile)
    page = unlock(qtbot, first)
    case_id = open_new_case(qtbot, page, "Případ C")
    send(qtbot, page, "Written yesterday.")
    first.close()

    platform.relay.stop()
    window = open_window(profile)
    window.unlock_page.passphrase.setText(PASSPHRASE)
    qtbot.mouseClick(window.unlock_page.unlock, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.member_page is not None, timeout=TIMEOUT_MS)
    page = window.member_page
    qtbot.waitUntil(
        lambda: window._status is not None and window._status.state == ConnectionState.OFFLINE,
        timeout=TIMEOUT_MS,
    )
    qtbot.waitUntil(lambda: [r.pseudonym for r in page.case_list.rows] == ["Případ C"])
    page.case_list.select(case_id)
    qtbot.waitUntil(lambda: signed_card(page, "Written yesterday.") is not None)
    page.composer.editor.setPlainText("Written while the relay was away.")
    qtbot.mouseClick(page.composer.send, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.composer.editor.toPlainText() == "", timeout=TIMEOUT_MS)

    platform.relay.start()
    qtbot.mouseClick(window.reconnect, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: signed_card(page, "Written while the relay was away.") is not None,
        timeout=TIMEOUT_MS,
    )
