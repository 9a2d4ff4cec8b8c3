"""Invite codes as people handle them (DESIGN §5): words in English or Czech, and a QR image.

The encoding is :mod:`protocol.invite_words`; this module supplies the word lists (the
BIP-39 English and Czech lists as the ``mnemonic`` package ships them) and renders the QR
code as a PNG with ``segno``. Both the words and the image *are* the invite's secret.
"""

from __future__ import annotations

import functools
import io

import segno
from mnemonic import Mnemonic

from crypto.errors import CasecircleError
from protocol.invite_words import Wordlist, invite_from_text, invite_qr_text, invite_words
from protocol.invites import InviteCode

LANGUAGES = {"en": ("english", "English"), "cs": ("czech", "Czech")}
"""Language code → (the ``mnemonic`` list's name, the name shown to people)."""


class InviteFileError(CasecircleError):
    """The QR image could not be written (it exists already, or the disk refused)."""

    code = "invite_file"


@functools.cache
def wordlist(language: str) -> Wordlist:
    """The BIP-39 list of ``language`` (``en`` or ``cs``)."""
    package_name, shown = LANGUAGES[language]
    return Wordlist(shown, tuple(Mnemonic(package_name).wordlist))


def wordlists() -> tuple[Wordlist, ...]:
    return tuple(wordlist(language) for language in LANGUAGES)


def words_of(code: InviteCode, language: str = "en") -> tuple[str, ...]:
    return invite_words(code, wordlist(language))


def read_invite(text: str) -> InviteCode:
    """The invite typed as words of either language, or pasted as the QR code's text."""
    return invite_from_text(text, wordlists())


def qr_text(code: InviteCode) -> str:
    """The QR code's content: English words in capitals, so any scanner can read it."""
    return invite_qr_text(code, wordlist("en"))


def qr_png(code: InviteCode, *, scale: int = 8) -> bytes:
    """The invite's QR code as a PNG image (as secret as the words)."""
    image = io.BytesIO()
    segno.make_qr(qr_text(code), error="m").save(image, kind="png", scale=scale, border=4)
    return image.getvalue()
