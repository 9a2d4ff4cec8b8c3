"""Texts the windows show for the library's stable codes and states, in the user's language.

The library speaks in codes (``offline``, ``keystore_passphrase``, ``fork_detected``) so
that it never depends on a language; here each code people are likely to meet gets a
sentence through Qt's translator (context ``Messages``). Anything else is shown with its
code and the library's own English message, so nothing is ever hidden.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QCoreApplication

from client.desktop.case_views import NoteState, Notice, NoticeKind
from crypto.errors import CasecircleError

translate = QCoreApplication.translate  # the name lupdate looks for, with its context


def error_text(error: BaseException) -> str:
    """One or two sentences for an error the user should see."""
    if not isinstance(error, CasecircleError):
        return translate("Messages", "Something unexpected went wrong: {0}").format(
            type(error).__name__
        )
    known = {
        "offline": translate(
            "Messages", "The relay cannot be reached now. Nothing was changed; try again later."
        ),
        "relay_unavailable": translate(
            "Messages",
            "The relay cannot be reached now. Notes wait in the outbox and are sent later.",
        ),
        "keystore_passphrase": translate("Messages", "Wrong passphrase."),
        "profile_in_use": translate(
            "Messages", "This profile is open in another window or program."
        ),
        "profile_not_found": translate("Messages", "There is no device profile in this folder."),
        "passphrase_policy": translate("Messages", "This passphrase cannot be used: {0}"),
        "invite_checksum": translate(
            "Messages", "The invite code has a typo: the words do not check out."
        ),
        "invite_word_count": translate("Messages", "An invite code is 24 words."),
        "invite_word_unknown": translate(
            "Messages", "A word of the invite code is not in the word list."
        ),
        "invite_word_ambiguous": translate(
            "Messages", "A word of the invite code is ambiguous; type it in full."
        ),
        "platform_mismatch": translate(
            "Messages", "This invite is for another platform than the relay serves."
        ),
        "enrolment_rejected": translate("Messages", "The coordinator rejected this enrolment."),
        "enrolment_timeout": translate(
            "Messages", "No approval came in time; ask for a new invite."
        ),
        "relay_url": translate("Messages", "The relay address is not valid: {0}"),
        "qr_image": translate("Messages", "No QR code could be read from this image."),
        "removed_from_case": translate(
            "Messages", "This device was removed from the case: it can send nothing to it."
        ),
        "safety_number_mismatch": translate(
            "Messages",
            "The codes differ: this is not the device you compared with, or someone is in"
            " between. Do not mark it as verified; tell your coordinator.",
        ),
        "safety_number_payload": translate("Messages", "This QR code is no safety-number code."),
        "safety_number_version": translate(
            "Messages", "This safety-number code is from another version of the app."
        ),
    }
    template = known.get(error.code)
    if template is None:
        return translate("Messages", "Refused ({0}): {1}").format(error.code, str(error))
    return template.format(str(error))


def note_state_text(state: NoteState) -> str:
    return {
        NoteState.SENDING: translate("Messages", "sending…"),
        NoteState.SIGNED: translate("Messages", "signature verified"),
        NoteState.KEY_VERIFIED: translate("Messages", "signature verified, key compared"),
        NoteState.AUTHOR_REVOKED: translate("Messages", "author's device revoked since"),
    }[state]


def notice_text(notice: Notice) -> str:
    """What a security notice says, with its numbers and names filled in."""
    if notice.kind == NoticeKind.GAP:
        return translate(
            "Messages", "Messages {0}–{1} of this case were not delivered to this device."
        ).format(notice.first, notice.last)
    if notice.kind == NoticeKind.WITHHELD:
        return translate(
            "Messages", "The relay is withholding messages of this case (from {0})."
        ).format(notice.first)
    if notice.kind == NoticeKind.FORK:
        return translate(
            "Messages",
            "The relay showed this device a history that contradicts what it saw before"
            " ({0}). Tell your coordinator.",
        ).format(notice.detail)
    if notice.kind == NoticeKind.REVOKED_DEVICE:
        return translate(
            "Messages", "A device of {0} was revoked. Its earlier notes stay, marked."
        ).format(notice.detail)
    return translate("Messages", "Something was refused and left out ({0}).").format(notice.detail)


def when_text(timestamp: int) -> str:
    if timestamp <= 0:
        return ""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


def size_text(count: int) -> str:
    if count < 1000:
        return translate("Messages", "{0} bytes").format(count)
    if count < 1_000_000:
        return translate("Messages", "{0:.1f} kB").format(count / 1000)
    return translate("Messages", "{0:.1f} MB").format(count / 1_000_000)
