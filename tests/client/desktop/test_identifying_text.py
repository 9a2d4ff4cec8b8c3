"""Identifying text in notes: birth numbers, phone numbers, e-mail and street addresses are
found in Czech and English prose; dates, case numbers, counts and chapter references are
not; and on any text the findings are sorted, non-overlapping spans of that text."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from client.desktop.identifying_text import Finding, IdentifyingKind, find_identifying

BIRTH = IdentifyingKind.BIRTH_NUMBER
PHONE = IdentifyingKind.PHONE
EMAIL = IdentifyingKind.EMAIL
ADDRESS = IdentifyingKind.ADDRESS


def found(text: str) -> list[tuple[IdentifyingKind, str]]:
    return [(finding.kind, finding.text) for finding in find_identifying(text)]


def with_check_digit(date: str) -> str:
    """A ten-digit birth number divisible by 11 for ``date`` (YYMMDD, month offsets
    included), whatever the date's validity."""
    return next(
        candidate
        for serial in range(1000, 10000)
        if int(candidate := f"{date}{serial:04d}") % 11 == 0
    )


# --- birth numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "850101/1233",  # man, 1 January 1985
        "8501011233",  # the same without the slash
        "855101/1238",  # woman: month + 50
        with_check_digit("042101"),  # man, 2004, month + 20
        with_check_digit("047201"),  # woman, 2004, month + 70
        with_check_digit("000229"),  # 29 February 2000, a leap year
        "7803150070",  # first nine digits ≡ 10 (mod 11), last digit 0: issued before 1986
        "531225/123",  # nine digits, before 1954
        "535101/123",  # nine digits, a woman
    ],
)
def test_valid_birth_numbers_are_found(number: str) -> None:
    assert found(f"Klientka, RČ {number}, byla poučena.") == [(BIRTH, number)]


@pytest.mark.parametrize(
    "number",
    [
        "8501011234",  # not divisible by 11
        "7803150071",  # the historic exception needs a final 0
        "8513011232",  # month 13
        with_check_digit("852101"),  # month + 20 before 2004
        with_check_digit("857101"),  # month + 70 before 2004
        with_check_digit("853101"),  # month 31
        with_check_digit("850132"),  # 32 January
        with_check_digit("995230"),  # 30 February
        with_check_digit("010229"),  # 29 February 2001
        "540101/123",  # nine digits after 1953
        "850101/12",  # too short
        "1234567890",
        "0000000000",
    ],
)
def test_numbers_failing_the_checks_are_not_birth_numbers(number: str) -> None:
    assert BIRTH not in [kind for kind, _ in found(f"číslo {number} ")]


def test_birth_number_inside_a_longer_number_is_not_found() -> None:
    assert found("12345678501011233") == []
    assert found("8501011233/44") == []
    assert found("85010112335") == []


def test_birth_number_at_the_edges_of_the_text() -> None:
    assert found("850101/1233") == [(BIRTH, "850101/1233")]
    assert found("(850101/1233)") == [(BIRTH, "850101/1233")]


def test_ten_digit_numbers_with_a_valid_date_pass_only_with_the_checksum() -> None:
    numbers = [f"850101{serial:04d}" for serial in range(0, 10_000, 7)]
    flagged = {n for n in numbers if found(n) == [(BIRTH, n)]}
    checksum = {n for n in numbers if int(n) % 11 == 0 or (int(n[:9]) % 11 == 10 and n[9] == "0")}
    assert flagged == checksum
    assert len(flagged) < len(numbers) / 9


# --- phone numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "777 123 456",
        "777123456",
        "777-123-456",
        "+420 777 123 456",
        "+420777123456",
        "00420 777 123 456",
        "602 12 34 56",
        "+420 602 12 34 56",
        "221 951 111",
        "0905 123 456",  # Slovak mobile
        "+421 905 123 456",
        "+44 20 7946 0958",
        "+44 (0)20 7946 0958",
        "+1 (555) 123-4567",
        "+49 30 12345678",
        "+43-1-5344-0",
    ],
)
def test_phone_numbers_are_found(phone: str) -> None:
    assert found(f"Volejte na {phone}, prosím.") == [(PHONE, phone)]
    assert found(f"tel.: {phone}") == [(PHONE, phone)]


@pytest.mark.parametrize(
    "text",
    [
        "Schůzka 12. 3. 2024 v 10:30.",
        "dne 12.03.2024 od 9:15 do 11:45",
        "2024-03-12T10:30:00",
        "č. j. KRPU-1234-5/TČ-2024",
        "č. j. KRPU-123456-789/TČ-2024",
        "spis 12 345/2024",
        "částka 123 456 789 Kč",  # spaces as thousands separators
        "1 777 123 456",
        "777 123 456 789",
        "777 123 4567",
        "číslo účtu 987654321/0100",
        "IBAN CZ65 0800 0000 1920 0014 5399",
        "123 456 789",  # Czech numbers do not start with 1
        "012 345 678",
        "+1 234",  # too few digits for E.164
        "+1 2345 6789 0123 4567",  # too many
        "verze 3.141592653",
        "3,777123456",
    ],
)
def test_things_that_are_not_phone_numbers(text: str) -> None:
    assert PHONE not in [kind for kind, _ in found(text)]


def test_birth_numbers_are_not_phone_numbers() -> None:
    assert found("8501011233") == [(BIRTH, "8501011233")]
    assert found("850101/1233") == [(BIRTH, "850101/1233")]


def test_several_phone_numbers_in_one_note() -> None:
    text = "Mobil 777 123 456 nebo 608123456; v zahraničí +44 20 7946 0958."
    assert found(text) == [
        (PHONE, "777 123 456"),
        (PHONE, "608123456"),
        (PHONE, "+44 20 7946 0958"),
    ]


# --- e-mail addresses ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "jana.novakova@ic-usti.cz",
        "j.novak+case@example.org",
        "o'brien@example.co.uk",
        "žofie.dvořáková@příklad.cz",
        "JANA@EXAMPLE.COM",
        "user_1@mail.sub.example.museum",
    ],
)
def test_email_addresses_are_found(email: str) -> None:
    assert found(f"Napište na {email}.") == [(EMAIL, email)]
    assert found(f"<{email}>") == [(EMAIL, email)]


@pytest.mark.parametrize(
    "text",
    [
        "jana@localhost",
        "@handle",
        "jana@",
        "jana@example.c",
        "jana@-example.cz",
        "a @ b.cz",
        "cena 5 @ 3 Kč",
    ],
)
def test_things_that_are_not_email_addresses(text: str) -> None:
    assert EMAIL not in [kind for kind, _ in found(text)]


def test_email_with_digits_is_an_email_not_a_phone() -> None:
    assert found("777123456@sms.example.cz") == [(EMAIL, "777123456@sms.example.cz")]


# --- street addresses ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Bydlí na adrese Husova 123/4, 431 11 Jirkov.", "Husova 123/4, 431 11 Jirkov"),
        ("Husova 12", "Husova 12"),
        ("Adresa: Nám. Míru 12, Praha 2", "Nám. Míru 12"),
        ("sejdeme se na nám. Svobody 3", "nám. Svobody 3"),
        ("ul. Karla IV. 5", "ul. Karla IV. 5"),
        ("tř. Tomáše Bati 1234", "tř. Tomáše Bati 1234"),
        ("Dukelských hrdinů 1234/12a", "Dukelských hrdinů 1234/12a"),
        ("Obránců míru 5", "Obránců míru 5"),
        ("Václavské náměstí 1", "Václavské náměstí 1"),
        ("náměstí Republiky 3", "náměstí Republiky 3"),
        ("náměstí Jiřího z Poděbrad 5", "náměstí Jiřího z Poděbrad 5"),
        ("nábř. Kapitána Jaroše 7", "nábř. Kapitána Jaroše 7"),
        ("U Nemocnice 5", "U Nemocnice 5"),
        ("Na Příkopě 12", "Na Příkopě 12"),
        ("Palackého 45", "Palackého 45"),
        ("Nádražní 7 v Jirkově", "Nádražní 7"),
        ("Pražská 1234", "Pražská 1234"),
        ("T. G. Masaryka 1234/5", "T. G. Masaryka 1234/5"),
        ("Jana Masaryka 12, 120 00 Praha 2", "Jana Masaryka 12, 120 00 Praha 2"),
        ("28. října 12, 110 00 Praha 1", "28. října 12, 110 00 Praha 1"),
        ("17. listopadu 5", "17. listopadu 5"),
        ("(Husova 12)", "Husova 12"),
        ("na adrese Husova 12 jsme nikoho nezastihli", "Husova 12"),
        ("Husova 12, 400 01 Ústí nad Labem", "Husova 12, 400 01 Ústí nad Labem"),
        ("Lipová 3, 738 01 Frýdek-Místek", "Lipová 3, 738 01 Frýdek-Místek"),
        ("Hlavná 15, 040 01 Košice", "Hlavná 15, 040 01 Košice"),
        ("Husova\u00a012", "Husova\u00a012"),
    ],
)
def test_street_addresses_are_found(text: str, address: str) -> None:
    assert found(text) == [(ADDRESS, address)]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("431 11 Jirkov", "431 11 Jirkov"),
        ("poslat na 43111 Jirkov", "43111 Jirkov"),
        ("Pošta 110 00 Praha 1 ok", "110 00 Praha 1"),
        ("přestěhovala se do 400 01 Ústí nad Labem.", "400 01 Ústí nad Labem"),
    ],
)
def test_bare_postcode_and_town_is_an_address(text: str, address: str) -> None:
    assert found(text) == [(ADDRESS, address)]


@pytest.mark.parametrize(
    "text",
    [
        "Článek 5 stanoví",
        "Dle článku 5",
        "bod 3",
        "Bod 3 zápisu",
        "v roce 2024",
        "V roce 2024",
        "epocha 12",
        "Epocha 12 skončila",
        "Dne 5",
        "Dne 5. 3. 2024",
        "Dne 28. října 2024 přišla.",
        "Příloha 3",
        "Strana 5",
        "Kapitola 2",
        "Další 3 případy",
        "Poslední 2 roky",
        "Mají 3 děti",
        "Zaplatila 500 Kč",
        "Celkem 500 Kč",
        "Úspěšnost 95 %",
        "Jednání 12. 3. 2024 v 10:30",
        "Sezení 2024",
        "Zákon 89/2012 Sb.",
        "Nařízení 2016/679",
        "V Praze 4 je pobočka",
        "Praha 4",
        "Budova 2",
        "Skupina 3",
        "Room 101",
        "Page 3 of the report",
        "Step 2: call the police",
        "Chapter 5",
        "Windows 10",
        "Python 3",
        "Version 2",
        "Top 10",
        "COVID 19",
        "Policie ČR 5",
        "Linka 158",
        "Ulice 5",
        "Na 5 minut",
        "Bylo 5 dětí",
        "Zaplatila 500 00 Kč",
        "Telefon 777",
    ],
)
def test_ordinary_prose_is_not_an_address(text: str) -> None:
    assert ADDRESS not in [kind for kind, _ in found(text)]


def test_an_address_in_a_longer_note() -> None:
    note = (
        "Dne 12. 3. 2024 volala paní X. z čísla +420 777 123 456 (viz bod 3). "
        "Bydlí Husova 123/4, 431 11 Jirkov, e-mail x.y@example.cz, RČ 855101/1238."
    )
    assert found(note) == [
        (PHONE, "+420 777 123 456"),
        (ADDRESS, "Bydlí Husova 123/4, 431 11 Jirkov"),
        (EMAIL, "x.y@example.cz"),
        (BIRTH, "855101/1238"),
    ]


def test_findings_carry_their_offsets() -> None:
    text = "RČ 850101/1233."
    assert find_identifying(text) == [
        Finding(kind=BIRTH, start=3, end=14, text="850101/1233"),
    ]
    finding = find_identifying(text)[0]
    assert text[finding.start : finding.end] == finding.text


def test_finding_refuses_an_inconsistent_span() -> None:
    with pytest.raises(ValueError, match="span"):
        Finding(kind=PHONE, start=3, end=3, text="")
    with pytest.raises(ValueError, match="span"):
        Finding(kind=PHONE, start=0, end=3, text="ab")


def test_kinds_are_stable_keys() -> None:
    assert [kind.value for kind in IdentifyingKind] == [
        "birth_number",
        "phone",
        "email",
        "address",
    ]


def test_empty_and_blank_text() -> None:
    assert find_identifying("") == []
    assert find_identifying(" \n\t ") == []


def test_a_long_note_is_checked_quickly() -> None:
    line = "Husova 12, 431 11 Jirkov, tel. 777 123 456, jana@x.cz, 850101/1233. "
    start = time.perf_counter()
    findings = find_identifying(line * 1000)
    assert len(findings) == 4000
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize(
    "text",
    ["x" * 20_000 + "@", "a." * 10_000, "Aa " * 10_000 + "5", "1 " * 10_000, "+1" * 10_000],
)
def test_pathological_input_stays_fast(text: str) -> None:
    start = time.perf_counter()
    find_identifying(text)
    assert time.perf_counter() - start < 5


# --- any text -----------------------------------------------------------------------------

NOTE_ALPHABET = st.sampled_from(
    [
        *"0123456789 /.,-+@()\u00a0\nabcHusovaNám.ulčřžýáíéůú",
        *["Husova ", " 431 11 Jirkov", "+420 ", "850101/1233", "@x.cz", "ul. ", "28. října "],
    ]
)


def check_invariants(text: str) -> None:
    findings = find_identifying(text)
    previous_end = 0
    for finding in findings:
        assert 0 <= finding.start < finding.end <= len(text)
        assert text[finding.start : finding.end] == finding.text
        assert finding.start >= previous_end
        assert isinstance(finding.kind, IdentifyingKind)
        previous_end = finding.end


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_gives_sorted_disjoint_spans(text: str) -> None:
    check_invariants(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(NOTE_ALPHABET, max_size=40).map("".join))
def test_note_like_text_gives_sorted_disjoint_spans(text: str) -> None:
    check_invariants(text)
