"""Passphrase ratings: the acceptance rule, weaknesses mapped from zxcvbn's analysis (never
its English texts), personal words, the length cap, and robustness on any text."""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import fields

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from client.desktop import passphrase_strength
from client.desktop.passphrase_strength import (
    MIN_LENGTH,
    RATED_LENGTH,
    PassphraseRating,
    Weakness,
    rate_passphrase,
)

# --- the acceptance rule ------------------------------------------------------------------


def test_a_long_unusual_passphrase_is_acceptable() -> None:
    rating = rate_passphrase("kůň pes kočka pod mostem zpívá")
    assert rating.score == 4
    assert rating.acceptable
    assert rating.guesses_log10 > 10
    assert not rating.truncated


def test_a_diceware_phrase_is_acceptable_though_made_of_common_words() -> None:
    rating = rate_passphrase("correct horse battery staple")
    assert rating.acceptable
    assert Weakness.COMMON_WORD in rating.weaknesses  # reported, the UI decides to show it


def test_a_strong_but_short_passphrase_is_not_acceptable() -> None:
    rating = rate_passphrase("Tr0ub4dor&3")  # 11 characters, zxcvbn scores it 4
    assert rating.score == 4
    assert not rating.acceptable
    assert rating.weaknesses == (Weakness.TOO_SHORT,)


def test_a_long_but_weak_passphrase_is_not_acceptable() -> None:
    rating = rate_passphrase("abcdefghijklmnop")
    assert rating.score < 3
    assert not rating.acceptable
    assert Weakness.TOO_SHORT not in rating.weaknesses
    assert Weakness.SEQUENCE in rating.weaknesses


def test_twelve_characters_meet_the_length_rule() -> None:
    assert Weakness.TOO_SHORT not in rate_passphrase("x" * MIN_LENGTH).weaknesses
    assert Weakness.TOO_SHORT in rate_passphrase("x" * (MIN_LENGTH - 1)).weaknesses


def test_length_counts_characters_in_nfc() -> None:
    composed = "ŽŽŽŽŽŽŽŽŽŽŽ"  # 11 characters, 22 code points when decomposed
    decomposed = unicodedata.normalize("NFD", composed)
    assert len(decomposed) > MIN_LENGTH
    assert Weakness.TOO_SHORT in rate_passphrase(decomposed).weaknesses
    assert rate_passphrase(decomposed) == rate_passphrase(composed)


def test_the_empty_passphrase_is_rated_not_crashed_on() -> None:
    assert rate_passphrase("") == PassphraseRating(
        score=0, guesses_log10=0.0, acceptable=False, weaknesses=(Weakness.TOO_SHORT,),
        truncated=False,
    )  # fmt: skip


# --- weaknesses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("passphrase", "expected"),
    [
        ("password", Weakness.COMMON_PASSWORD),
        ("P@ssw0rd", Weakness.PREDICTABLE_SUBSTITUTION),
        ("drowssap", Weakness.REVERSED_WORD),
        ("michael", Weakness.COMMON_NAME),
        ("asdfghjkl;", Weakness.KEYBOARD_PATTERN),
        ("abcabcabcabc", Weakness.REPEAT),
        ("xxxxxxxxxxxxxxx", Weakness.REPEAT),
        ("abcdefghijklmnop", Weakness.SEQUENCE),
        ("ponmlkjihgf", Weakness.SEQUENCE),
        ("12.3.1990", Weakness.DATE),
        ("2019", Weakness.DATE),
        ("casecircle", Weakness.NAME_OR_ORGANISATION),
    ],
)
def test_weaknesses_come_from_the_analysis(passphrase: str, expected: Weakness) -> None:
    rating = rate_passphrase(passphrase)
    assert expected in rating.weaknesses
    assert not rating.acceptable


def test_a_common_word_in_a_short_passphrase() -> None:
    assert Weakness.COMMON_WORD in rate_passphrase("battery").weaknesses


def test_weaknesses_are_unique_and_in_enum_order() -> None:
    rating = rate_passphrase("P@ssw0rd")
    assert rating.weaknesses == (
        Weakness.TOO_SHORT,
        Weakness.COMMON_PASSWORD,
        Weakness.PREDICTABLE_SUBSTITUTION,
    )
    order = list(Weakness)
    for passphrase in ["password password 2019", "abcabc qwerty 12.3.1990 michael"]:
        found = rate_passphrase(passphrase).weaknesses
        assert len(set(found)) == len(found)
        assert [order.index(w) for w in found] == sorted(order.index(w) for w in found)


def test_weaknesses_are_stable_keys_not_english_feedback() -> None:
    for weakness in Weakness:
        assert weakness.value == weakness.name.lower()
    rating = rate_passphrase("password")
    assert all(isinstance(weakness, Weakness) for weakness in rating.weaknesses)
    assert {field.name for field in fields(rating)} == {
        "score", "guesses_log10", "acceptable", "weaknesses", "truncated",
    }  # fmt: skip


def test_an_unknown_zxcvbn_pattern_is_left_to_the_score() -> None:
    sequence: list[dict[str, object]] = [
        {"pattern": "bruteforce", "token": "x"},
        {"pattern": "something_new", "token": "y"},
        {"pattern": "dictionary", "dictionary_name": "new_list", "l33t": False},
        {"pattern": "regex", "regex_name": "recent_year"},
    ]
    assert list(passphrase_strength._match_weaknesses(sequence)) == [Weakness.DATE]


# --- personal words -----------------------------------------------------------------------


PERSONAL = ["Jana Nováková", "Intervenční centrum Ústí nad Labem", "jana.novakova@ic-usti.cz"]


@pytest.mark.parametrize(
    "passphrase",
    [
        "Nováková",
        "novakova",  # typed without diacritics
        "NOVÁKOVÁ",
        "intervencni",
        "Ústí nad Labem",
        "ic-usti",
    ],
)
def test_personal_words_are_found(passphrase: str) -> None:
    rating = rate_passphrase(passphrase, PERSONAL)
    assert Weakness.NAME_OR_ORGANISATION in rating.weaknesses
    assert Weakness.NAME_OR_ORGANISATION not in rate_passphrase(passphrase).weaknesses


def test_personal_words_lower_the_estimate() -> None:
    passphrase = "Jana Nováková"  # 13 characters
    with_personal = rate_passphrase(passphrase, PERSONAL)
    without = rate_passphrase(passphrase)
    assert with_personal.guesses_log10 < without.guesses_log10
    assert without.acceptable
    assert not with_personal.acceptable


def test_the_app_name_counts_as_personal() -> None:
    assert Weakness.NAME_OR_ORGANISATION in rate_passphrase("casecircle2024!").weaknesses


def test_personal_must_not_be_a_bare_string() -> None:
    with pytest.raises(TypeError, match="sequence of words"):
        rate_passphrase("whatever", "Jana Nováková")


def test_personal_pieces_too_short_to_matter_are_dropped() -> None:
    inputs = passphrase_strength._user_inputs(["Policie ČR", ""])
    assert "čr" not in inputs
    assert "policie čr" in inputs
    assert "policie" in inputs
    assert "casecircle" in inputs


def test_personal_words_do_not_leak_into_the_next_call() -> None:
    assert Weakness.NAME_OR_ORGANISATION in rate_passphrase("zdeňkaová", ["Zdeňkaová"]).weaknesses
    assert Weakness.NAME_OR_ORGANISATION not in rate_passphrase("zdeňkaová").weaknesses


def test_concurrent_calls_keep_their_own_personal_words() -> None:
    results: dict[str, list[bool]] = {"mine": [], "none": []}

    def rate(key: str, personal: list[str]) -> None:
        for _ in range(20):
            rating = rate_passphrase("Hrušková Květa", personal)
            results[key].append(Weakness.NAME_OR_ORGANISATION in rating.weaknesses)

    threads = [
        threading.Thread(target=rate, args=("mine", ["Květa Hrušková"])),
        threading.Thread(target=rate, args=("none", [])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results["mine"] == [True] * 20
    assert results["none"] == [False] * 20


# --- length cap and robustness ------------------------------------------------------------


def test_only_the_first_hundred_characters_are_rated() -> None:
    head = "kůň pes kočka pod mostem zpívá " * 4
    head = head[:RATED_LENGTH]
    long = rate_passphrase(head + "password" * 200)
    assert long.truncated
    assert long == PassphraseRating(
        score=rate_passphrase(head).score,
        guesses_log10=rate_passphrase(head).guesses_log10,
        acceptable=rate_passphrase(head).acceptable,
        weaknesses=rate_passphrase(head).weaknesses,
        truncated=True,
    )
    assert not rate_passphrase(head).truncated


def test_a_weak_start_makes_a_long_passphrase_weak() -> None:
    rating = rate_passphrase("a" * RATED_LENGTH + "kůň pes kočka pod mostem zpívá")
    assert rating.truncated
    assert not rating.acceptable
    assert rating.weaknesses == (Weakness.REPEAT,)


def test_a_very_long_passphrase_is_rated() -> None:
    assert rate_passphrase("Ab1!" * 10_000).truncated


def test_score_must_be_in_range() -> None:
    with pytest.raises(ValueError, match="0 to 4"):
        PassphraseRating(
            score=5, guesses_log10=1.0, acceptable=True, weaknesses=(), truncated=False
        )


@settings(max_examples=150, deadline=None)
@given(
    passphrase=st.text(max_size=40),
    personal=st.lists(st.text(max_size=20), max_size=3),
)
def test_any_text_gets_a_consistent_rating(passphrase: str, personal: list[str]) -> None:
    rating = rate_passphrase(passphrase, personal)
    assert 0 <= rating.score <= 4
    assert rating.guesses_log10 >= 0
    length = len(unicodedata.normalize("NFC", passphrase))
    assert rating.acceptable == (rating.score >= 3 and length >= MIN_LENGTH)
    assert (Weakness.TOO_SHORT in rating.weaknesses) == (length < MIN_LENGTH)
    assert len(set(rating.weaknesses)) == len(rating.weaknesses)
