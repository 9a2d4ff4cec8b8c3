"""Invite codes as BIP-39 words (DESIGN §5): round trips in English and Czech, the checksum
catching a mistyped word, language detection, tolerance of case, spacing and accents.

The real lists come from the ``mnemonic`` package (as the client loads them); a small
made-up list with accented words shows the accent rules, which the Czech BIP-39 list
(plain ASCII) cannot: there, accents typed by habit are simply dropped.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mnemonic import Mnemonic

from protocol.invite_words import (
    INVITE_WORD_COUNT,
    QR_PREFIX,
    AmbiguousInviteWordError,
    InviteChecksumError,
    InviteWordCountError,
    UnknownInviteWordError,
    Wordlist,
    decode_words,
    encode_words,
    invite_from_text,
    invite_qr_text,
    invite_words,
)
from protocol.invites import InviteCode, InviteCodeError
from tests.helpers import DeterministicRandom

ENGLISH = Wordlist("English", tuple(Mnemonic("english").wordlist))
CZECH = Wordlist("Czech", tuple(Mnemonic("czech").wordlist))
BOTH = (ENGLISH, CZECH)
CODE = InviteCode.from_bytes(DeterministicRandom("an invite").random_bytes(32))


def test_an_invite_code_is_24_words() -> None:
    assert INVITE_WORD_COUNT == 24
    assert len(invite_words(CODE, ENGLISH)) == 24


def test_the_bip39_reference_encoding() -> None:
    # BIP-39's published vectors for all-zero and all-0x7f entropy (English list).
    assert encode_words(bytes(32), ENGLISH) == ("abandon",) * 23 + ("art",)
    assert encode_words(bytes(16), ENGLISH) == ("abandon",) * 11 + ("about",)
    assert encode_words(b"\x7f" * 16, ENGLISH) == ("legal", "winner", "thank", "year", "wave",
                                                   "sausage", "worth", "useful", "legal",
                                                   "winner", "thank", "yellow")  # fmt: skip


def test_the_mnemonic_package_agrees() -> None:
    data = CODE.to_bytes()
    assert " ".join(encode_words(data, ENGLISH)) == Mnemonic("english").to_mnemonic(data)


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.sampled_from(BOTH))
def test_round_trip_in_either_language(data: bytes, wordlist: Wordlist) -> None:
    code = InviteCode.from_bytes(data)
    decoded = decode_words(" ".join(invite_words(code, wordlist)), BOTH)
    assert decoded.data == data
    assert decoded.language == wordlist.language
    assert invite_from_text(" ".join(invite_words(code, wordlist)), BOTH) == code


def test_case_and_whitespace_do_not_matter() -> None:
    words = invite_words(CODE, CZECH)
    typed = "\n  " + "\t ".join(w.upper() if i % 2 else w.title() for i, w in enumerate(words))
    assert invite_from_text(typed + "  \n", BOTH) == CODE


def test_the_qr_text_is_compact_and_reads_back() -> None:
    text = invite_qr_text(CODE, ENGLISH)
    assert text.startswith(QR_PREFIX)
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 $%*+-./:")  # QR alphanumeric
    assert invite_from_text(text, BOTH) == CODE
    assert invite_from_text(text.lower(), BOTH) == CODE


def test_a_mistyped_word_fails_the_checksum() -> None:
    words = list(invite_words(CODE, ENGLISH))
    index = ENGLISH.words.index(words[5])
    words[5] = ENGLISH.words[(index + 1) % 2048]  # another real word: only the checksum sees it
    with pytest.raises(InviteChecksumError) as caught:
        decode_words(" ".join(words), BOTH)
    assert caught.value.code == "invite_checksum"
    assert isinstance(caught.value, InviteCodeError)


def test_swapped_words_fail_the_checksum() -> None:
    words = list(invite_words(CODE, CZECH))
    words[0], words[1] = words[1], words[0]
    with pytest.raises(InviteChecksumError):
        decode_words(" ".join(words), BOTH)


def test_an_unknown_word_is_named_by_position_not_by_text() -> None:
    words = list(invite_words(CODE, CZECH))
    secret_typo = words[6] + "x"
    words[6] = secret_typo
    with pytest.raises(UnknownInviteWordError) as caught:
        decode_words(" ".join(words), BOTH)
    assert "word 7 " in str(caught.value)
    assert secret_typo not in str(caught.value)
    assert caught.value.code == "invite_word_unknown"


def test_languages_mixed_are_refused() -> None:
    words = list(invite_words(CODE, ENGLISH))
    words[10] = invite_words(CODE, CZECH)[10]
    with pytest.raises(UnknownInviteWordError):
        decode_words(" ".join(words), BOTH)


@pytest.mark.parametrize("count", [0, 12, 23, 25])
def test_the_wrong_number_of_words(count: int) -> None:
    words = (list(invite_words(CODE, ENGLISH)) * 2)[:count]
    with pytest.raises(InviteWordCountError) as caught:
        decode_words(" ".join(words), BOTH)
    assert caught.value.code == "invite_word_count"


def test_the_language_is_detected_without_being_told() -> None:
    assert decode_words(" ".join(invite_words(CODE, CZECH)), BOTH).language == "Czech"
    assert decode_words(" ".join(invite_words(CODE, CZECH)), (CZECH, ENGLISH)).language == "Czech"
    assert decode_words(" ".join(invite_words(CODE, ENGLISH)), BOTH).language == "English"


def test_czech_words_typed_with_accents_are_accepted() -> None:
    # The Czech BIP-39 list is plain ASCII; someone writing Czech may add the accents.
    assert all(word.isascii() for word in CZECH.words)
    accented = {"cibule": "cibulé", "kostka": "kostká"}
    words = list(invite_words(CODE, CZECH))
    typed = [accented.get(w, w[:-1] + "á" if w.endswith("a") else w) for w in words]
    assert typed != words
    assert invite_from_text(" ".join(typed), BOTH) == CODE


def _accented_list() -> Wordlist:
    """2048 made-up words: 'kůň' and 'zeď' carry accents; 'být' and 'byt' differ only by one."""
    words = ["kůň", "zeď", "být", "byt"] + [f"slovo{i}" for i in range(2044)]
    return Wordlist("Made-up", tuple(words))


def _words_for(wordlist: Wordlist, first: int) -> str:
    """A valid 24-word text in ``wordlist`` whose first word is ``wordlist.words[first]``."""
    for n in range(10_000):
        data = hashlib.sha256(b"%d" % n).digest()
        words = encode_words(data, wordlist)
        if words[0] == wordlist.words[first]:
            return " ".join(words)
    raise AssertionError("no such code")  # pragma: no cover


def test_words_typed_without_accents_are_accepted_when_unambiguous() -> None:
    wordlist = _accented_list()
    text = _words_for(wordlist, 0)  # starts with "kůň"
    plain = text.replace("kůň", "kun", 1)
    assert decode_words(plain, [wordlist]).data == decode_words(text, [wordlist]).data
    assert wordlist.index("ZED") == 1
    assert wordlist.index("zeď") == 1


def test_words_that_differ_only_by_accents_must_be_typed_exactly() -> None:
    wordlist = _accented_list()
    assert wordlist.index("byt") == 3  # exact: fine
    assert wordlist.index("být") == 2
    with pytest.raises(AmbiguousInviteWordError):
        wordlist.index("bÿt")  # neither exactly, and without accents both
    text = _words_for(wordlist, 2).replace("být", "bÿt", 1)
    with pytest.raises(AmbiguousInviteWordError) as caught:
        decode_words(text, [wordlist])
    assert caught.value.code == "invite_word_ambiguous"


def test_a_word_list_must_be_2048_distinct_words() -> None:
    with pytest.raises(ValueError, match="2048"):
        Wordlist("short", ("a", "b"))
    with pytest.raises(ValueError, match="distinct"):
        Wordlist("twice", ("a",) * 2048)
