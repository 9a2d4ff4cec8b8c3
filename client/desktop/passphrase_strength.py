"""How strong a new profile passphrase is, rated with zxcvbn, for the desktop app's
"choose a passphrase" form.

The passphrase guards the profile's keystore (Argon2id, :mod:`crypto.keystore`) on a laptop
that can be lost or seized, so a guessable one gives away every case on it. zxcvbn
estimates how many guesses an attacker who tries common passwords, words, names, keyboard
patterns, repeats, sequences and dates first would need.

**Acceptable** means a zxcvbn score of at least 3 *and* at least 12 characters:

* Score 3 is about 10^8 guesses or more. Each guess costs the attacker one Argon2id run,
  so 10^8 guesses are about two core-years, and a memory-bound job even on a cluster.
  Requiring score 4 (10^10) would turn away many memorable passphrases of four or five
  words and push people to write them down.
* zxcvbn overrates short random-looking strings ("Tr0ub4dor&3" scores 4 at 11 characters)
  and knows English lists only, so Czech words count as random letters. The length floor
  backs the estimate where it is weakest; 12 characters is three short words.

**What the UI gets**: a score, the estimate as log10(guesses), and :class:`Weakness` values
drawn from zxcvbn's match sequence, so the app shows its own translated texts. zxcvbn's
English feedback strings are never passed on. Weaknesses are what the analysis found, also
for an acceptable passphrase (a diceware phrase is all common words); the UI decides
whether to show them as hints.

**Personal words**: ``personal`` (the member's name, organisation, e-mail) is rated as a
dictionary of its own, whole and word by word, with and without diacritics, so "Nováková"
and "novakova" are both found; the app's name is always added.

**Limits**: only the first :data:`RATED_LENGTH` characters are rated, because zxcvbn's
matching grows quickly with the length (a 100-character repeat already takes a noticeable
fraction of a second); the length rule counts the whole passphrase. Text is rated in
Unicode NFC, as the profile stores it. zxcvbn keeps the personal words in a module-global
dictionary, so calls are serialised with a lock.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from zxcvbn import zxcvbn  # type: ignore[import-untyped]

MIN_LENGTH = 12
MIN_SCORE = 3
RATED_LENGTH = 100
"""Characters handed to zxcvbn; the rest of a longer passphrase is not analysed."""
APP_WORDS = ("casecircle", "case circle")
"""Words anyone guessing a casecircle passphrase tries first."""
MIN_PERSONAL_WORD = 3
"""Shorter pieces of a personal entry ("ČR", "4") would only add noise to the dictionary."""


class Weakness(StrEnum):
    """Why a passphrase is easier to guess; values are stable keys for translated texts."""

    TOO_SHORT = "too_short"
    COMMON_PASSWORD = "common_password"  # noqa: S105 -- a key for a UI text, not a password
    NAME_OR_ORGANISATION = "name_or_organisation"
    """Contains a word of ``personal`` (or the app's name)."""
    COMMON_NAME = "common_name"
    COMMON_WORD = "common_word"
    PREDICTABLE_SUBSTITUTION = "predictable_substitution"
    """A dictionary word with look-alike characters ("p@ssw0rd")."""
    REVERSED_WORD = "reversed_word"
    KEYBOARD_PATTERN = "keyboard_pattern"
    REPEAT = "repeat"
    SEQUENCE = "sequence"
    DATE = "date"
    """A date or a recent year."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PassphraseRating:
    """The rating of one passphrase (see the module docstring)."""

    score: int
    """zxcvbn's 0 (too guessable) to 4 (very unguessable)."""
    guesses_log10: float
    acceptable: bool
    weaknesses: tuple[Weakness, ...]
    """Each at most once, in the order of :class:`Weakness`."""
    truncated: bool
    """Only the first :data:`RATED_LENGTH` characters were rated."""

    def __post_init__(self) -> None:
        if not 0 <= self.score <= 4:
            raise ValueError("a score is 0 to 4")


_DICTIONARY_WEAKNESS: Mapping[str, Weakness] = {
    "passwords": Weakness.COMMON_PASSWORD,
    "user_inputs": Weakness.NAME_OR_ORGANISATION,
    "surnames": Weakness.COMMON_NAME,
    "male_names": Weakness.COMMON_NAME,
    "female_names": Weakness.COMMON_NAME,
    "english_wikipedia": Weakness.COMMON_WORD,
    "us_tv_and_film": Weakness.COMMON_WORD,
}
_PATTERN_WEAKNESS: Mapping[str, Weakness] = {
    "spatial": Weakness.KEYBOARD_PATTERN,
    "repeat": Weakness.REPEAT,
    "sequence": Weakness.SEQUENCE,
    "date": Weakness.DATE,
    "regex": Weakness.DATE,  # zxcvbn's only regex is "recent_year"
}
_WORD_SEPARATORS = re.compile(r"[\W_]+")
_ZXCVBN_LOCK = threading.Lock()


def rate_passphrase(passphrase: str, personal: Sequence[str] = ()) -> PassphraseRating:
    """Rate a new passphrase; ``personal`` holds words about its owner to count as weak."""
    if isinstance(personal, str):
        raise TypeError("personal is a sequence of words, not one string")
    text = unicodedata.normalize("NFC", passphrase)
    rated = text[:RATED_LENGTH]
    weaknesses: set[Weakness] = set()
    if len(text) < MIN_LENGTH:
        weaknesses.add(Weakness.TOO_SHORT)
    if rated:
        with _ZXCVBN_LOCK:
            result = zxcvbn(rated, user_inputs=_user_inputs(personal), max_length=RATED_LENGTH)
        score = int(result["score"])
        guesses_log10 = float(result["guesses_log10"])
        weaknesses.update(_match_weaknesses(result["sequence"]))
    else:  # zxcvbn fails on the empty string
        score, guesses_log10 = 0, 0.0
    return PassphraseRating(
        score=score,
        guesses_log10=guesses_log10,
        acceptable=score >= MIN_SCORE and len(text) >= MIN_LENGTH,
        weaknesses=tuple(weakness for weakness in Weakness if weakness in weaknesses),
        truncated=len(text) > RATED_LENGTH,
    )


def _user_inputs(personal: Iterable[str]) -> list[str]:
    """Each entry whole and word by word, each with and without diacritics."""
    words: dict[str, None] = {}  # ordered and unique
    for entry in (*APP_WORDS, *personal):
        cleaned = unicodedata.normalize("NFC", entry).strip().lower()
        pieces = [cleaned, *_WORD_SEPARATORS.split(cleaned)]
        for piece in pieces:
            if len(piece) >= MIN_PERSONAL_WORD:
                words[piece] = None
                words[_without_diacritics(piece)] = None
    return list(words)


def _without_diacritics(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFC", stripped)


def _match_weaknesses(sequence: Iterable[Mapping[str, Any]]) -> Iterator[Weakness]:
    """The weaknesses of zxcvbn's cheapest match sequence; brute-forced runs have none and
    a pattern this module does not know (a newer zxcvbn) is left to the score."""
    for match in sequence:
        pattern = match.get("pattern")
        if pattern == "dictionary":
            weakness = _DICTIONARY_WEAKNESS.get(str(match.get("dictionary_name")))
            if weakness is not None:
                yield weakness
            if match.get("l33t"):
                yield Weakness.PREDICTABLE_SUBSTITUTION
            if match.get("reversed"):
                yield Weakness.REVERSED_WORD
        elif (weakness := _PATTERN_WEAKNESS.get(str(pattern))) is not None:
            yield weakness
