"""Invite codes as people handle them (DESIGN §5): words in English or Czech, and a QR image.

The encoding is :mod:`protocol.invite_words`; this module supplies the word lists (the
BIP-39 English and Czech lists as the ``mnemonic`` package ships them) and writes the QR
code as a PNG with ``segno``. Both the words and the image *are* the invite's secret: the
image is written readable by its owner only, and never over an existing file.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

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


def write_qr_png(code: InviteCode, path: Path, *, scale: int = 8) -> None:
    """Write the invite's QR code to a new PNG file at ``path``, mode 0600."""
    image = segno.make_qr(qr_text(code), error="m")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InviteFileError(f"{path} exists already; choose a new file name") from None
    except OSError as exc:
        raise InviteFileError(f"{path} could not be created: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as file:
            image.save(file, kind="png", scale=scale, border=4)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise InviteFileError(f"{path} could not be written: {exc.strerror}") from exc
