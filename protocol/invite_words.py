"""DESIGN §5: an invite code as words a person can read out, type, or scan from a QR code.

The 32-byte :class:`~protocol.invites.InviteCode` is written with the BIP-39 encoding, so
a mistyped or missing word is caught on the member's machine, before anything is sent::

    data     = the code's 32 bytes                  (ENT = 256 bits)
    checksum = first ENT/32 bits of SHA-256(data)    (8 bits)
    data || checksum, cut into 11-bit groups, most significant bit first
             = 24 indexes into a list of 2048 words

The word lists are data handed in (:class:`Wordlist`); this module holds no list and
does no I/O. Decoding is forgiving in what a person types and strict in what it returns:

* case and whitespace do not matter; a leading ``casecircle:invite:`` (the QR text, see
  :func:`invite_qr_text`) is dropped;
* the language is found from the words themselves (every word in one list, checksum
  valid there); words from two lists mixed are refused;
* accents may be left out or added (``drzak`` for ``držák`` and back) when that still
  names one word of the list; if two words of a list differ only in accents, the typed
  form must be exact.

A failure is an :class:`~protocol.invites.InviteCodeError` with a stable code; messages
give word positions, never the words, because the words are the invite's secret.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from protocol.invites import INVITE_CODE_SIZE, InviteCode, InviteCodeError

WORDLIST_SIZE = 2048
BITS_PER_WORD = 11
INVITE_WORD_COUNT = (INVITE_CODE_SIZE * 8 + INVITE_CODE_SIZE * 8 // 32) // BITS_PER_WORD
QR_PREFIX = "CASECIRCLE:INVITE:"
"""What the QR code's text starts with: it tells a scanner what it holds. The words follow
in capitals, so the whole text stays in the QR code's compact alphanumeric mode."""


class InviteWordCountError(InviteCodeError):
    """Not as many words as an invite code has."""

    code = "invite_word_count"


class UnknownInviteWordError(InviteCodeError):
    """A word is in none of the word lists (mistyped, or of another language)."""

    code = "invite_word_unknown"


class AmbiguousInviteWordError(InviteCodeError):
    """A word typed without its accents could be two words of the list."""

    code = "invite_word_ambiguous"


class InviteChecksumError(InviteCodeError):
    """Every word is known but the checksum fails: a word is wrong, missing or moved."""

    code = "invite_checksum"


def fold(word: str) -> str:
    """A word as compared when accents are not required: decomposed, accents dropped,
    case folded."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _exact(word: str) -> str:
    return unicodedata.normalize("NFC", word).casefold()


@dataclass(frozen=True, slots=True)
class Wordlist:
    """A BIP-39 list of 2048 distinct words, with its lookups built once."""

    language: str
    words: tuple[str, ...]
    _exact: dict[str, int] = field(init=False, repr=False, compare=False)
    _folded: dict[str, int] = field(init=False, repr=False, compare=False)
    _ambiguous: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.words) != WORDLIST_SIZE:
            raise ValueError(f"a word list has {WORDLIST_SIZE} words")
        exact = {_exact(w): i for i, w in enumerate(self.words)}
        if len(exact) != WORDLIST_SIZE or any(not w or w != w.strip() for w in exact):
            raise ValueError("a word list holds distinct, non-empty words without spaces")
        folded: dict[str, int] = {}
        ambiguous: set[str] = set()
        for index, word in enumerate(self.words):
            key = fold(word)
            if key in folded:
                ambiguous.add(key)
            folded[key] = index
        for key in ambiguous:
            del folded[key]
        object.__setattr__(self, "_exact", exact)
        object.__setattr__(self, "_folded", folded)
        object.__setattr__(self, "_ambiguous", frozenset(ambiguous))

    def index(self, typed: str) -> int | None:
        """The index of the word ``typed`` names; ``None`` if it names none.

        Raises :class:`AmbiguousInviteWordError` if, without accents, it could be two."""
        found = self._exact.get(_exact(typed))
        if found is not None:
            return found
        key = fold(typed)
        if key in self._ambiguous:
            raise AmbiguousInviteWordError("a word without its accents could be two words")
        return self._folded.get(key)


@dataclass(frozen=True, slots=True)
class DecodedWords:
    data: bytes
    language: str


def _checksum_bits(data: bytes) -> int:
    return len(data) * 8 // 32


def encode_words(data: bytes, wordlist: Wordlist) -> tuple[str, ...]:
    """``data`` (16 to 32 bytes, a multiple of 4) as BIP-39 words of ``wordlist``."""
    if not 16 <= len(data) <= 32 or len(data) % 4:
        raise ValueError("BIP-39 encodes 16 to 32 bytes, a multiple of 4")
    cs = _checksum_bits(data)
    bits = int.from_bytes(data, "big") << cs | hashlib.sha256(data).digest()[0] >> (8 - cs)
    count = (len(data) * 8 + cs) // BITS_PER_WORD
    return tuple(
        wordlist.words[bits >> (BITS_PER_WORD * (count - 1 - i)) & (WORDLIST_SIZE - 1)]
        for i in range(count)
    )


def _decode_indexes(indexes: Sequence[int]) -> bytes | None:
    """The data the indexes encode, or ``None`` if their checksum fails."""
    total = len(indexes) * BITS_PER_WORD
    cs = total // 33
    bits = 0
    for index in indexes:
        bits = bits << BITS_PER_WORD | index
    data = (bits >> cs).to_bytes((total - cs) // 8, "big")
    if bits & ((1 << cs) - 1) != hashlib.sha256(data).digest()[0] >> (8 - cs):
        return None
    return data


def split_words(text: str) -> list[str]:
    """The words of ``text``: the QR prefix dropped, split on any whitespace."""
    stripped = text.strip()
    if stripped.casefold().startswith(QR_PREFIX.casefold()):
        stripped = stripped[len(QR_PREFIX) :]
    return stripped.split()


@dataclass(frozen=True, slots=True)
class _Miss:
    """Why a list could not read the words: the first position it failed at, and how."""

    position: int
    ambiguous: bool


def _indexes(typed: Sequence[str], wordlist: Wordlist) -> list[int] | _Miss:
    indexes = []
    for position, word in enumerate(typed, 1):
        try:
            index = wordlist.index(word)
        except AmbiguousInviteWordError:
            return _Miss(position, ambiguous=True)
        if index is None:
            return _Miss(position, ambiguous=False)
        indexes.append(index)
    return indexes


def decode_words(
    text: str, wordlists: Sequence[Wordlist], *, word_count: int = INVITE_WORD_COUNT
) -> DecodedWords:
    """The data written as ``text`` in one of ``wordlists``, and the list's language."""
    typed = split_words(text)
    if len(typed) != word_count:
        raise InviteWordCountError(f"an invite code is {word_count} words; {len(typed)} given")
    found: list[DecodedWords] = []
    checksum_failed = False
    furthest: _Miss | None = None
    for wordlist in wordlists:
        indexes = _indexes(typed, wordlist)
        if isinstance(indexes, _Miss):
            if furthest is None or indexes.position > furthest.position:
                furthest = indexes
            continue
        data = _decode_indexes(indexes)
        if data is None:
            checksum_failed = True
        elif all(f.data != data for f in found):
            found.append(DecodedWords(data=data, language=wordlist.language))
    if len(found) == 1:
        return found[0]
    if found:
        raise AmbiguousInviteWordError("the words are a valid code in more than one language")
    if checksum_failed:
        raise InviteChecksumError(
            "the words do not add up: one is mistyped, missing or out of order"
        )
    if furthest is not None and furthest.ambiguous:
        raise AmbiguousInviteWordError(
            f"word {furthest.position} could be two words without its accents: type them"
        )
    position = furthest.position if furthest is not None else 1
    languages = " or ".join(w.language for w in wordlists)
    raise UnknownInviteWordError(
        f"word {position} is not in the {languages} list (mistyped, or lists mixed)"
    )


def invite_words(code: InviteCode, wordlist: Wordlist) -> tuple[str, ...]:
    """The 24 words that write ``code``."""
    return encode_words(code.to_bytes(), wordlist)


def invite_qr_text(code: InviteCode, wordlist: Wordlist) -> str:
    """The text a QR code of ``code`` holds: the prefix and the words in capitals."""
    return QR_PREFIX + " ".join(invite_words(code, wordlist)).upper()


def invite_from_text(text: str, wordlists: Sequence[Wordlist]) -> InviteCode:
    """The invite code typed as words (or scanned as QR text) in any of ``wordlists``."""
    return InviteCode.from_bytes(decode_words(text, wordlists).data)
