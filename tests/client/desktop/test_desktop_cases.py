"""The member's main flows in the desktop app against a real relay: opening a case, sending
a note and a file, adding a colleague who then reads both, a colleague's note arriving by
push, saving an attachment, and a revoked colleague's notice."""

from __future__ import annotations

from pathlib import Path

import pytest
import segno
from PySide6.QtCore import Qt

from client.case_errors import RemovedFromCaseError
from client.desktop.case_views import NoteState, NoticeKind
from client.desktop.member_page import MemberPage, NewCaseDialog
from client.desktop.members_panel import AddColleagueDialog, CompareKeysDialog
from client.desktop.messages import error_text
from client.desktop.window import DesktopWindow
from client.push import ConnectionState
from protocol.case_items import Note
from protocol.safety_numbers import qr_payload, safety_number
from tests.client.desktop.conftest import PASSPHRASE, TIMEOUT_MS

FILE = b"%PDF-1.7\n" + b"Medical report, left forearm.\n" * 12_000  # about 360 kB


def unlock(qtbot, window: DesktopWindow) -> MemberPage:
    window.unlock_page.passphrase.setText(PASSPHRASE)
    qtbot.mouseClick(window.unlock_page.unlock, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.member_page is not None, timeout=TIMEOUT_MS)
    qtbot.waitUntil(
        lambda: window._status is not None and window._status.state == ConnectionState.CONNECTED,
        timeout=TIMEOUT_MS,
    )
    assert window.member_page is not None
    return window.member_page


def open_new_case(qtbot, page: MemberPage, pseudonym: str = "Případ Modrá 17") -> bytes:
    qtbot.mouseClick(page.case_list.new_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    assert isinstance(dialog, NewCaseDialog)
    dialog.pseudonym.setText(pseudonym)
    dialog.title.setText("Rodina N. – opakované napadení")
    dialog.accept()
    qtbot.waitUntil(
        lambda: (
            page.thread_view.current is not None and page.thread_view.current.pseudonym == pseudonym
        ),
        timeout=TIMEOUT_MS,
    )
    assert page.case_id is not None
    return page.case_id


def send(qtbot, page: MemberPage, text: str, files: list[Path] | None = None) -> None:
    page.composer.editor.setPlainText(text)
    page.composer.add_files(files or [])
    qtbot.mouseClick(page.composer.send, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.composer.editor.toPlainText() == "", timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: signed_card(page, text) is not None, timeout=TIMEOUT_MS)


def shared_case(qtbot, platform, open_window):
    """The police officer's window on a new case, the nurse (a library device) in it."""
    hospital = platform.colleague("hospital")
    window = open_window(platform.enrolled_profile("police"))
    page = unlock(qtbot, window)
    case_id = open_new_case(qtbot, page)
    window.worker.run_blocking(page.session.add_colleague(case_id, hospital.member_id), 30)
    return window, page, hospital, case_id


def signed_card(page: MemberPage, text: str):
    for card in page.thread_view.cards:
        if card.note.text == text and card.note.state != NoteState.SENDING:
            return card
    return None


def test_a_case_with_a_note_a_file_and_a_colleague(
    qtbot, platform, open_window, tmp_path: Path
) -> None:
    hospital = platform.colleague("hospital")
    window = open_window(platform.enrolled_profile("police"))
    page = unlock(qtbot, window)
    case_id = open_new_case(qtbot, page)
    assert [row.pseudonym for row in page.case_list.rows] == ["Případ Modrá 17"]

    send(qtbot, page, "First visit done; the family agreed to a follow-up.")
    report = tmp_path / "lekarska-zprava.pdf"
    report.write_bytes(FILE)
    send(qtbot, page, "The medical report.", [report])
    card = signed_card(page, "The medical report.")
    assert [line.name.text() for line in card.attachments] == ["lekarska-zprava.pdf"]
    assert card.note.author_name == "Jana Dvořáková"
    assert card.note.state == NoteState.SIGNED

    qtbot.mouseClick(page.members.add, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(page.dialog, AddColleagueDialog), timeout=TIMEOUT_MS)
    dialog = page.dialog
    assert isinstance(dialog, AddColleagueDialog)
    dialog.select("Petr Novák")
    dialog.accept()
    qtbot.waitUntil(lambda: len(page.members.rows) == 2, timeout=TIMEOUT_MS)
    assert {row.name for row in page.members.rows} == {"Jana Dvořáková", "Petr Novák"}

    platform.run(hospital.sync())
    notes = [s.stored.item for s in platform.run(hospital.notes(case_id))]
    assert [n.text for n in notes if isinstance(n, Note)] == [
        "First visit done; the family agreed to a follow-up.",
        "The medical report.",
    ]
    attachment = notes[-1].attachments[0]
    assert platform.run(hospital.download(attachment)) == FILE

    platform.run(hospital.post_note(case_id, "Seen at the emergency room on Monday."))
    qtbot.waitUntil(
        lambda: signed_card(page, "Seen at the emergency room on Monday.") is not None,
        timeout=TIMEOUT_MS,
    )
    pushed = signed_card(page, "Seen at the emergency room on Monday.")
    assert (pushed.note.author_name, pushed.note.organisation) == (
        "Petr Novák",
        "Nemocnice Chomutov",
    )
    assert not pushed.note.own

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    page.save_attachment_to(card.note.key, 0, downloads)
    qtbot.waitUntil((downloads / "lekarska-zprava.pdf").exists, timeout=TIMEOUT_MS)
    assert (downloads / "lekarska-zprava.pdf").read_bytes() == FILE
    qtbot.waitUntil(lambda: not page.busy, timeout=TIMEOUT_MS)
    line = signed_card(page, "The medical report.").attachments[0]
    assert line.progress.value() == line.progress.maximum()


def test_a_revoked_colleague_is_shown_and_cut_off(qtbot, platform, open_window) -> None:
    _, page, hospital, case_id = shared_case(qtbot, platform, open_window)
    platform.run(hospital.sync())
    platform.run(hospital.post_note(case_id, "Note before the revocation."))
    qtbot.waitUntil(
        lambda: signed_card(page, "Note before the revocation.") is not None, timeout=TIMEOUT_MS
    )

    platform.run(platform.coordinator.revoke_device(hospital.device_id))

    def revoked_shown() -> bool:
        current = page.thread_view.current
        return current is not None and any(
            n.kind == NoticeKind.REVOKED_DEVICE for n in current.notices
        )

    qtbot.waitUntil(revoked_shown, timeout=TIMEOUT_MS)
    assert any("Petr Novák" in label.text() for label in page.thread_view.notice_labels)
    card = signed_card(page, "Note before the revocation.")
    assert card.note.state == NoteState.AUTHOR_REVOKED
    assert card.state.text() == "author's device revoked since"
    # The member's client committed the revoked device's removal from the case.
    qtbot.waitUntil(
        lambda: [row.name for row in page.members.rows] == ["Jana Dvořáková"],
        timeout=TIMEOUT_MS,
    )


def test_comparing_keys_marks_a_colleague_verified_and_removing_cuts_them_off(
    qtbot, platform, open_window, tmp_path: Path
) -> None:
    window, page, hospital, case_id = shared_case(qtbot, platform, open_window)
    platform.run(hospital.sync())
    platform.run(hospital.post_note(case_id, "Written by the nurse."))
    qtbot.waitUntil(
        lambda: signed_card(page, "Written by the nurse.") is not None, timeout=TIMEOUT_MS
    )
    qtbot.waitUntil(lambda: len(page.members.rows) == 2, timeout=TIMEOUT_MS)

    page.members.list.setCurrentRow(1)
    qtbot.mouseClick(page.members.compare, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    assert isinstance(dialog, CompareKeysDialog)
    own = platform.run(_credential(hospital, window.session.device_id))
    assert dialog.digits.text().split() == safety_number(own, hospital.credential).format().split()
    # Their screen's code, photographed: the code made for this pair matches, and the code
    # this device shows itself (or any other pair's) does not.
    theirs, ours = tmp_path / "theirs.png", tmp_path / "ours.png"
    segno.make_qr(qr_payload(hospital.credential, own)).save(str(theirs), scale=6)
    segno.make_qr(qr_payload(own, hospital.credential)).save(str(ours), scale=6)
    page.check_code_image(dialog.row, ours)
    assert dialog.check_result.text().startswith("The codes differ")
    assert not dialog.same.isChecked()
    page.check_code_image(dialog.row, theirs)
    assert dialog.check_result.text().startswith("The codes match")
    assert dialog.same.isChecked()
    dialog.reject()
    qtbot.waitUntil(
        lambda: signed_card(page, "Written by the nurse.").note.state == NoteState.KEY_VERIFIED,
        timeout=TIMEOUT_MS,
    )
    qtbot.waitUntil(lambda: "key compared" in page.members.list.item(1).text())

    page.members.list.setCurrentRow(1)
    qtbot.mouseClick(page.members.remove, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(page.members.rows) == 1, timeout=TIMEOUT_MS)
    send(qtbot, page, "After the nurse left the case.")
    platform.run(hospital.sync())
    texts = [s.stored.item.text for s in platform.run(hospital.notes(case_id))]
    assert "After the nurse left the case." not in texts


async def _credential(member, device_id: bytes):
    return member.directory.device(device_id, member.clock())


def test_a_device_removed_from_a_case_is_told_so_when_it_posts(
    qtbot, platform, open_window
) -> None:
    window, page, hospital, case_id = shared_case(qtbot, platform, open_window)
    platform.run(hospital.sync())
    platform.run(hospital.remove_devices(case_id, [window.session.device_id]))
    window.worker.run_blocking(page.session.member.sync(), 30)
    with pytest.raises(RemovedFromCaseError):
        window.worker.run_blocking(page.session.post(case_id, "Too late.", []), 30)
    assert error_text(RemovedFromCaseError("x")).startswith("This device was removed")
