"""Attachments as files on disk. A received one (ATTACKS E11): the file name is the
sender's choice, so it is made into one harmless path component, and the file is always
new. A sent one: its media type is guessed from its name.
"""

from __future__ import annotations

import mimetypes
import os
import unicodedata
from pathlib import Path

from client.case_errors import CaseError

# A file name from another member names one new file in a directory the user chose, on any
# system the case's members use: no separators (or their look-alikes that Windows maps to
# them), no characters Windows refuses, no device names, no hidden or option-like names.
_NAME_REPLACED = frozenset('/\\:*?"<>|') | frozenset("\u2215\u2044\u29f8\uff0f\uff3c\uff1a")
_NAME_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_DEVICE_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in (*"0123456789", "¹", "²", "³")}
)
MAX_FILE_NAME_BYTES = 255
DEFAULT_FILE_NAME = "attachment"
DEFAULT_MEDIA_TYPE = "application/octet-stream"


def media_type(name: str) -> str:
    """The media type a file to be sent is announced with, from its name."""
    return mimetypes.guess_type(name)[0] or DEFAULT_MEDIA_TYPE


def safe_file_name(name: str) -> str:
    """One harmless path component for a received file name (ATTACKS E11).

    Separators and characters Windows refuses become ``_``; control, format (bidi,
    zero-width) and unassigned characters become ``_``; leading and trailing dots and
    spaces go (no ``..``, no hidden files, nothing Windows would strip); a leading ``-``
    becomes ``_``; a device name such as ``CON`` or ``nul.txt`` gets a ``_`` in front; the
    result is NFC and at most 255 bytes, keeping a short extension.
    """
    text = "".join(
        "_" if ch in _NAME_REPLACED or unicodedata.category(ch) in _NAME_DROPPED_CATEGORIES else ch
        for ch in unicodedata.normalize("NFC", name)
    ).strip(" .")
    if text.startswith("-"):
        text = "_" + text[1:]
    if text.split(".", 1)[0].rstrip(" ").upper() in _DEVICE_NAMES:
        text = "_" + text
    if not text:
        return DEFAULT_FILE_NAME
    stem, dot, extension = text.rpartition(".")
    if not dot or not stem or len(extension) > 16:
        stem, dot, extension = text, "", ""
    while len(f"{stem}{dot}{extension}".encode()) > MAX_FILE_NAME_BYTES:
        stem = stem[:-1]
    return f"{stem.rstrip(' .')}{dot}{extension}" or DEFAULT_FILE_NAME


def write_new_file(directory: Path, name: str, content: bytes) -> Path:
    """Write ``content`` to a file that did not exist: ``name``, else ``stem (n).ext``."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        stem, dot, extension = name, "", ""
    for attempt in range(1000):
        candidate = name if attempt == 0 else f"{stem} ({attempt}){dot}{extension}"
        path = directory / candidate
        if path.parent != directory:
            raise CaseError("an attachment name left its directory")
        try:
            fd = os.open(
                path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600
            )
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as file:
            file.write(content)
        return path
    raise CaseError("too many files of this name in the directory")
