"""Spot text in a note that looks like it identifies a person, so the desktop app can warn
before the note is sent. Cases are shared anonymised; this check is a warning, not a
guarantee: it knows four shapes of identifying text, in Czech and Slovak writing, and
misses everything else (names, workplaces, descriptions, a birth date written out).

What is found (:class:`IdentifyingKind`):

* **Birth numbers** (rodné číslo): ``YYMMDD/XXXX``, ``YYMMDDXXXX`` and, for people born
  before 1954, ``YYMMDD/XXX``. The month is 01–12, +50 for women, and from 2004 also +20 or
  +70; the day must exist in that month; a ten-digit number must be divisible by 11, or have
  its first nine digits ≡ 10 (mod 11) and a final 0 (numbers issued before 1986). A random
  ten-digit number fails these checks about 10 times in 11. The date is not compared with
  today (the module reads no clock), so a number "born" in 2040 still counts.
* **Phone numbers**: Czech ones (optional ``+420``/``00420``, nine digits starting 2–9,
  grouped 3-3-3 or 3-2-2-2 by spaces or dashes, or ungrouped), Slovak mobiles written
  ``09xx xxx xxx``, and any ``+CC`` number with 8–15 digits (E.164) grouped by spaces,
  dashes or parentheses. Digits that continue a longer number on either side (a case
  number, an amount with spaces as thousands separators, a decimal) are not phones; dates
  and times never have the shape.
* **E-mail addresses**: a pragmatic pattern, Unicode letters allowed in the local part and
  the domain, a top-level domain of letters.
* **Street addresses** as written in Czech: a street name, then a house number (``12``,
  ``123/4``, ``1234/12a``), optionally followed by ``, 431 11 Jirkov``; and a bare
  postcode and town (``431 11 Jirkov``). The street name is read right to left from the
  number: capitalised words, abbreviations and initials ("Nám.", "Gen.", "T. G."), Roman
  numerals ("Karla IV."), lowercase connectors between capitalised words ("náměstí
  Jiřího z Poděbrad"), a lowercase word after a plural genitive ("Dukelských
  hrdinů"), a leading street type ("ul.", "nám.", "tř.", "náměstí") or capitalised
  preposition ("U Nemocnice", "Na Příkopě"), and the ``28. října`` form. A capitalised
  word followed by a number is common in ordinary prose ("Článek 5", "Dne 5", "Page 3"),
  so a name counts only if one of these holds:

  - a postcode and town follow;
  - it starts with a street type or a capitalised preposition;
  - a word ends like a Czech street name (-ova, -ově, -á, -ské, -cké, -í, -ého, -ů, -ých,
    -ích: "Husova", "Pražská", "Nádražní", "Palackého", "Dukelských hrdinů");
  - the house number has a slash and at least three digits before it (not a law
    "89/2012");
  - it is a ``28. října`` street and the number is not a year.

  Words from a stop-list (common Czech and English words that precede numbers: "dne",
  "bod", "článek", "příloha", "strana", "room", "page", "step", ...) never belong to a
  name, and numbers followed by a unit ("%", "Kč") are not house numbers. Where only the
  broader signs hold (an ending like -á or -í, a preposition), a number followed by a
  lowercase word ("Další 3 případy") is taken as a count, not a house number. Names
  written without a telling ending ("Jana Masaryka 12") are missed unless a postcode
  follows; English-style addresses ("221B Baker Street") are not looked for. A capitalised
  word just before the street joins the span ("Bydlí Husova 12"): the warning still points
  at the right place.

Spans never overlap: where two findings would, a birth number wins over an e-mail address,
an e-mail address over a phone number, a phone number over an address, and then the longer
span wins.
"""

from __future__ import annotations

import bisect
import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum


class IdentifyingKind(StrEnum):
    """What a finding looks like; values are stable keys for the UI's translated texts."""

    BIRTH_NUMBER = "birth_number"
    PHONE = "phone"
    EMAIL = "email"
    ADDRESS = "address"


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """A span of the note that looks identifying: ``text == note[start:end]``."""

    kind: IdentifyingKind
    start: int
    end: int
    text: str

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end or len(self.text) != self.end - self.start:
            raise ValueError("a finding is a non-empty span and its text")


_PRIORITY = {
    IdentifyingKind.BIRTH_NUMBER: 0,
    IdentifyingKind.EMAIL: 1,
    IdentifyingKind.PHONE: 2,
    IdentifyingKind.ADDRESS: 3,
}


def find_identifying(text: str) -> list[Finding]:
    """Every span of ``text`` that looks like it identifies a person, sorted by start."""
    candidates = [
        *_birth_numbers(text),
        *_emails(text),
        *_phones(text),
        *_addresses(text),
    ]
    candidates.sort(key=lambda f: (_PRIORITY[f.kind], f.start - f.end, f.start))
    chosen: list[Finding] = []  # sorted by start and, as they never overlap, by end
    starts: list[int] = []
    for candidate in candidates:
        index = bisect.bisect_right(starts, candidate.start)
        if index > 0 and chosen[index - 1].end > candidate.start:
            continue
        if index < len(chosen) and chosen[index].start < candidate.end:
            continue
        chosen.insert(index, candidate)
        starts.insert(index, candidate.start)
    return chosen


def _finding(kind: IdentifyingKind, text: str, start: int, end: int) -> Finding:
    return Finding(kind=kind, start=start, end=end, text=text[start:end])


# --- birth numbers ------------------------------------------------------------------------

_BIRTH_NUMBER = re.compile(
    r"(?<![\w/+-])(?<!\d[.,])(\d{2})(\d{2})(\d{2})(?:/(\d{3,4})|(\d{4}))(?![\w/]|[.,-]\d)"
)
_MODERN_MONTH_YEAR = 2004
"""From 2004 a month may be raised by 20 (men) or 70 (women) when a day runs out."""
_NINE_DIGIT_LAST_YEAR = 1953


def _birth_numbers(text: str) -> Iterator[Finding]:
    for match in _BIRTH_NUMBER.finditer(text):
        yy, mm, dd, slashed, bare = match.groups()
        suffix = slashed or bare
        if _valid_birth_number(int(yy), int(mm), int(dd), yy + mm + dd + suffix):
            yield _finding(IdentifyingKind.BIRTH_NUMBER, text, match.start(), match.end())


def _valid_birth_number(yy: int, mm: int, dd: int, digits: str) -> bool:
    if len(digits) == 9:
        year = 1900 + yy
        if year > _NINE_DIGIT_LAST_YEAR:
            return False
    else:
        year = 1900 + yy if yy >= 54 else 2000 + yy
        number = int(digits)
        historic = int(digits[:9]) % 11 == 10 and digits[9] == "0"
        if number % 11 != 0 and not historic:
            return False
    for offset in (0, 50, 20, 70):
        month = mm - offset
        if 1 <= month <= 12:
            if offset in (20, 70) and year < _MODERN_MONTH_YEAR:
                return False
            return 1 <= dd <= calendar.monthrange(year, month)[1]
    return False


# --- e-mail addresses ---------------------------------------------------------------------

_LOCAL_CHARS = r"[\w!#$%&'*+=?^~-]"
_DOMAIN_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_EMAIL = re.compile(
    rf"(?<![\w.!#$%&'*+=?^~-]){_LOCAL_CHARS}+(?:\.{_LOCAL_CHARS}+)*"
    rf"@(?:{_DOMAIN_LABEL}\.)+[^\W\d_]{{2,63}}(?![\w-])"
)


def _emails(text: str) -> Iterator[Finding]:
    for match in _EMAIL.finditer(text):
        yield _finding(IdentifyingKind.EMAIL, text, match.start(), match.end())


# --- phone numbers ------------------------------------------------------------------------

_SEP = r"[ \u00a0-]"
_PHONE_BEFORE = r"(?<![\w+/\\-])(?<!\d[ \u00a0.,])"
_PHONE_AFTER = r"(?![\w/-]|[ \u00a0.,]\d)"
_CZECH_PHONE = re.compile(
    rf"{_PHONE_BEFORE}(?:(?:\+|00)420{_SEP}?)?"
    rf"[2-9]\d{{2}}(?:{_SEP}?\d{{3}}{_SEP}?\d{{3}}|{_SEP}\d{{2}}{_SEP}\d{{2}}{_SEP}\d{{2}})"
    rf"{_PHONE_AFTER}"
)
_SLOVAK_MOBILE = re.compile(rf"{_PHONE_BEFORE}09\d{{2}}{_SEP}?\d{{3}}{_SEP}?\d{{3}}{_PHONE_AFTER}")
_INTERNATIONAL_PHONE = re.compile(
    rf"(?<![\w+])\+[1-9](?:{_SEP}?(?:\(\d{{1,4}}\)|\d)){{7,20}}(?![\w/]|{_SEP}?\d|[.,]\d)"
)
_E164_MAX_DIGITS = 15


def _phones(text: str) -> Iterator[Finding]:
    for pattern in (_CZECH_PHONE, _SLOVAK_MOBILE):
        for match in pattern.finditer(text):
            yield _finding(IdentifyingKind.PHONE, text, match.start(), match.end())
    for match in _INTERNATIONAL_PHONE.finditer(text):
        if sum(char.isdigit() for char in match.group()) <= _E164_MAX_DIGITS:
            yield _finding(IdentifyingKind.PHONE, text, match.start(), match.end())


# --- street addresses ---------------------------------------------------------------------


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_STOP_WORDS = _word_set(
    """
    dne den dnes bod body bodu článek článku čl odstavec odst paragraf příloha přílohy
    přílohu strana straně str stránka kapitola kapitole tabulka tabulce obrázek obr graf
    verze verzi rok roce roku roky let měsíc týden hodina hod minuta min krok fáze etapa
    část oddíl díl sezóna série epizoda skupina místnost kancelář budova patro podlaží
    pokoj dveře cela lůžko věta řádek položka číslo č čj zákon zákona vyhláška vyhlášky
    nařízení usnesení sb celkem další dalších poslední první druhý druhá druhé třetí
    čtvrtý příští minulý minulá ostatní předchozí následující zbývající asi cca přibližně
    zhruba téměř více méně nejméně nejvíce až od do po před za při mezi kolem okolo
    pondělí úterý středa čtvrtek pátek sobota neděle leden únor březen duben květen
    červen červenec srpen září říjen listopad prosinec telefon tel mobil fax email psč
    kč eur czk úroveň stupeň ročník věk dítě děti osoba osob osoby případ případy spis
    kauza zpráva termín lhůta oddělení linka covid iso čsn
    room page step chapter section figure fig table item line version no number article
    part level stage phase day week month year floor unit flat suite box group class
    grade case file episode season volume vol issue appendix annex paragraph para clause
    rule note question task test round team windows python iphone android top over under
    about around approx total the an in on at of for to from by with and or since until
    after before monday tuesday wednesday thursday friday saturday sunday january
    february march april may june july august september october november december age
    aged born
    """
)
"""Words that precede numbers in ordinary prose; never part of a street name."""
_STREET_TYPES = _word_set("ul ulice nám náměstí tř třída nábř nábřeží sídl sídliště alej sady")
_PREPOSITIONS = _word_set("u na v ve k ke pod nad za před při mezi")
_CONNECTORS = _word_set("nad pod u na v ve z ze a")
_MONTHS_GENITIVE = _word_set(
    "ledna února března dubna května června července srpna září října listopadu prosince"
)
_DISTRICT_TOWNS = _word_set(
    "praha praze prahy prahu brno brně brna ostrava ostravě ostravy plzeň plzni plzně"
)
"""Towns written with a district number ("Praha 4"), which is not a house number."""
_STREET_ENDINGS = ("ova", "ově", "á", "ské", "cké", "í", "ého", "ů", "ých", "ích")
_STRONG_STREET_ENDINGS = ("ova", "ově", "ská", "cká", "ské", "cké", "ého")
_PLURAL_GENITIVE_ENDINGS = ("ých", "ích", "ů")
_ROMAN = re.compile(r"[IVXLC]+\.?")
_ORDINAL = re.compile(r"\d{1,2}\.")
_MAX_NAME_TOKENS = 6
_MAX_ABBREVIATION_LETTERS = 5
_SPACES = " \u00a0"

_HOUSE_NUMBER = re.compile(
    r"(?<=[^\W\d_]|\.)[ \u00a0](\d{1,5})(?:/(\d{1,5}))?[a-hA-H]?(?![\w/]|[.,:-]\d)"
)
_NOT_A_HOUSE_NUMBER_AFTER = re.compile(
    r"[ \u00a0]?(?:%|‰|°|€|\$|Kč\b|EUR\b|CZK\b|Sb\.)|\.[ \u00a0]?\d"
)
"""A unit, or the rest of a date ("12. 3. 2024")."""
_WORD_AFTER = re.compile(r"[ \u00a0]+([^\W\d_]{3,})")
_POSTCODE = re.compile(r"\d{3}[ \u00a0]?\d{2}(?![\d/]|[.,]\d)")
_POSTCODE_AFTER_NUMBER = re.compile(r"(?:,[ \u00a0]*|[ \u00a0]+)(?=\d{3}[ \u00a0]?\d{2}\b)")
_BARE_POSTCODE = re.compile(r"(?<![\w/.,-])(?<!\d[ \u00a0])\d{3}[ \u00a0]?\d{2}(?![\d/]|[.,]\d)")
_TOKEN = re.compile(r"\S+")
_TOWN_DISTRICT = re.compile(r"[ \u00a0](\d{1,2})(?![\w/]|[.,:]\d)")
_LEADING_PUNCTUATION = "\"'„“‚‘«»([{:;"
_TRAILING_PUNCTUATION = ".,;:)!?\"'“”»"


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    word: str

    @property
    def bare(self) -> str:
        """The word lowercased, without a trailing abbreviation dot."""
        return self.word.rstrip(".").lower()

    @property
    def capitalised(self) -> bool:
        letters = self.word.rstrip(".")
        return _is_word(letters) and letters[0].isupper()

    @property
    def lowercase(self) -> bool:
        return _is_word(self.word) and self.word.islower()

    @property
    def abbreviation(self) -> bool:
        letters = self.word.rstrip(".")
        return self.word.endswith(".") and len(letters) <= _MAX_ABBREVIATION_LETTERS

    @property
    def name_word(self) -> bool:
        """A capitalised word or Roman numeral, not a stop word."""
        capitalised = self.capitalised or _ROMAN.fullmatch(self.word) is not None
        return capitalised and self.bare not in _STOP_WORDS


def _is_word(value: str) -> bool:
    """Letters, optionally joined by single hyphens ("Brno-Líšeň")."""
    return bool(value) and all(part.isalpha() for part in value.split("-"))


def _tokens_before(text: str, end: int) -> list[_Token]:
    """Up to :data:`_MAX_NAME_TOKENS` words joined by single spaces that end at ``end``,
    rightmost first; a word with leading punctuation ("(Husova") is the last one."""
    window_start = max(0, end - 40 * _MAX_NAME_TOKENS)
    tokens: list[_Token] = []
    expected_end = end
    for match in reversed(list(_TOKEN.finditer(text, window_start, end))):
        if match.end() != expected_end or len(tokens) == _MAX_NAME_TOKENS:
            break
        if match.start() == window_start > 0 and not text[window_start - 1].isspace():
            break  # the window cut this word
        word = match.group().lstrip(_LEADING_PUNCTUATION)
        if not word:
            break
        tokens.append(_Token(match.end() - len(word), word))
        expected_end = match.start() - 1
        if word != match.group() or expected_end < 0 or text[expected_end] not in _SPACES:
            break
    return tokens


def _street_name(tokens: list[_Token]) -> list[_Token]:
    """The longest run of ``tokens`` (rightmost first) that reads as a street name,
    returned left to right; empty if there is none."""
    if tokens and tokens[0].lowercase and tokens[0].bare in _MONTHS_GENITIVE:
        ordinal = len(tokens) > 1 and _ORDINAL.fullmatch(tokens[1].word) is not None
        return [tokens[1], tokens[0]] if ordinal else []  # "28. října 12"
    name: list[_Token] = []
    for index, token in enumerate(tokens):
        left = tokens[index + 1] if index + 1 < len(tokens) else None
        step = _name_step(token, left, bool(name))
        if step is None:
            break
        name.append(token)
        if step == "first":
            break
    while name and name[-1].lowercase and name[-1].bare in _CONNECTORS:
        name.pop()
    if not any(token.capitalised for token in name):
        return []
    return name[::-1]


def _name_step(token: _Token, left: _Token | None, inside: bool) -> str | None:
    """Whether ``token`` joins a street name read right to left: None (it does not),
    "first" (it begins the name) or "more" (words further left may join too)."""
    bare = token.bare
    step: str | None = None
    if bare in _STREET_TYPES:
        if inside:
            step = "first"  # "nám. Míru", "náměstí Míru"
        elif left is not None and left.capitalised and not token.abbreviation:
            step = "more"  # "Václavské náměstí"
    elif bare in _PREPOSITIONS and token.capitalised:
        step = "first" if inside else None  # "U Nemocnice", but not "Na 5"
    elif token.name_word:
        step = "more"
    elif token.lowercase and left is not None and left.capitalised:
        connector = inside and bare in _CONNECTORS  # "Cyrila a Metoděje"
        genitive = not inside and left.bare.endswith(
            _PLURAL_GENITIVE_ENDINGS
        )  # "Dukelských hrdinů"
        step = "more" if connector or genitive else None
    return step


def _qualifies(name: list[_Token], number: str, slash_part: str | None, rest: str) -> bool:
    """Whether a street name and number with ``rest`` after them are an address, when no
    postcode follows (see the module docstring)."""
    first = name[0]
    words = [token.bare for token in name if token.capitalised and not token.abbreviation]
    strong = (
        first.bare in _STREET_TYPES
        or (slash_part is not None and len(number) >= 3 and not _year_like(slash_part))
        or any(word.endswith(_STRONG_STREET_ENDINGS) for word in words)
    )
    weak = first.bare in _PREPOSITIONS or any(word.endswith(_STREET_ENDINGS) for word in words)
    word_after = _WORD_AFTER.match(rest)
    counted = slash_part is None and word_after is not None and word_after[1].islower()
    if _NOT_A_HOUSE_NUMBER_AFTER.match(rest):
        verdict = False
    elif _ORDINAL.fullmatch(first.word):
        verdict = slash_part is not None or not _year_like(number)
    elif strong:
        verdict = True
    else:
        district = any(word in _DISTRICT_TOWNS for word in words)
        verdict = weak and not district and not counted and not _year_like(number)
    return verdict


def _year_like(digits: str) -> bool:
    return len(digits) == 4 and digits[:2] in ("18", "19", "20")


def _town_end(text: str, start: int) -> int | None:
    """The end of a town name starting at ``start`` ("Jirkov", "Ústí nad Labem",
    "Praha 4", "Frýdek-Místek"), or None if no capitalised word starts there."""
    matches = []
    for match in _TOKEN.finditer(text, start, min(len(text), start + 120)):
        matches.append(match)
        if len(matches) == 4:
            break
    end: int | None = None
    last_word = ""
    position = start
    for index, match in enumerate(matches):
        word = match.group().rstrip(_TRAILING_PUNCTUATION)
        token = _Token(match.start(), word)
        if match.start() != position:
            break
        if token.name_word and not token.abbreviation:
            end, last_word = match.start() + len(word), token.bare
        else:
            following = matches[index + 1].group() if index + 1 < len(matches) else ""
            connector = token.lowercase and token.bare in _CONNECTORS
            if end is None or not connector or not _Token(0, following).capitalised:
                break
        if word != match.group() or match.end() == len(text) or text[match.end()] != " ":
            break
        position = match.end() + 1
    if end is not None and last_word in _DISTRICT_TOWNS:
        district = _TOWN_DISTRICT.match(text, end)
        end = district.end() if district else end
    return end


def _postcode_town_end(text: str, start: int) -> int | None:
    postcode = _POSTCODE.match(text, start)
    if postcode is None or postcode.end() >= len(text) or text[postcode.end()] not in _SPACES:
        return None
    return _town_end(text, postcode.end() + 1)


def _addresses(text: str) -> Iterator[Finding]:
    for match in _HOUSE_NUMBER.finditer(text):
        name = _street_name(_tokens_before(text, match.start()))
        if not name:
            continue
        end = match.end()
        separator = _POSTCODE_AFTER_NUMBER.match(text, end)
        town_end = _postcode_town_end(text, separator.end()) if separator else None
        if town_end is not None:
            end = town_end
        elif not _qualifies(name, match[1], match[2], text[end : end + 40]):
            continue
        yield _finding(IdentifyingKind.ADDRESS, text, name[0].start, end)
    for postcode in _BARE_POSTCODE.finditer(text):
        town_end = _postcode_town_end(text, postcode.start())
        if town_end is not None:
            yield _finding(IdentifyingKind.ADDRESS, text, postcode.start(), town_end)
