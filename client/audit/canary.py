"""Check 3, canary (ATTACKS Z1, Z2): text the auditor chose must not reach the relay's disk.

The auditor plants random markers through the real client — in a case title and
pseudonym, a note, a file name and a file's content (:mod:`client.audit.canary_post`) —
and notes key material of the throwaway devices (their signature keys, the file key, the
invite secrets). Then every file of the relay's data directory (database, write-ahead log,
shared memory index, anything else) and every log file given is searched for each marker in
each encoding a careless relay might use::

    text markers   UTF-8, UTF-16 LE and BE, hex (lower, upper), base64 and base64url
    key markers    raw bytes, hex (lower, upper), base64 and base64url

Base64 depends on where the marker starts in the encoded data, so each of the three
alignments is searched (its stable middle part). Any hit fails the check. A miss proves
the markers are not *stored* in these files in these encodings; it says nothing of what the
relay keeps in memory, sends elsewhere, or stores transformed (compressed, encrypted under
the relay's own key).

The markers file (``--markers-out``, read back with ``--markers``) lets the search be
repeated on a later backup or rotated logs. It holds the throwaway devices' keys; the
devices are revoked when planting ends, so it unlocks nothing else.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from client.audit.errors import MarkersFileError
from client.audit.results import CheckResult, Evidence
from crypto.random import RandomSource

CHECK = "canary"
MARKERS_FORMAT = "casecircle-canary/1"
MARKER_RANDOM_BYTES = 12
READ_BLOCK = 8 * 1024 * 1024


class MarkerKind(StrEnum):
    TEXT = "text"
    KEY = "key"


@dataclass(frozen=True, slots=True, kw_only=True)
class Marker:
    """A value that must never appear on the relay: ``label`` says where it was planted."""

    label: str
    kind: MarkerKind
    value: bytes


def text_marker(rng: RandomSource, label: str) -> Marker:
    """A random ASCII marker (letters and digits, so no encoding can escape it)."""
    value = f"qz{rng.random_bytes(MARKER_RANDOM_BYTES).hex()}k"
    return Marker(label=label, kind=MarkerKind.TEXT, value=value.encode("ascii"))


def key_marker(label: str, value: bytes) -> Marker:
    return Marker(label=label, kind=MarkerKind.KEY, value=bytes(value))


@dataclass(frozen=True, slots=True, kw_only=True)
class CanaryMarkers:
    created_at: int
    relay_url: str
    markers: tuple[Marker, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": MARKERS_FORMAT,
            "created_at": self.created_at,
            "relay_url": self.relay_url,
            "markers": [
                {"label": m.label, "kind": m.kind.value, "hex": m.value.hex()} for m in self.markers
            ],
        }


def parse_markers(text: str) -> CanaryMarkers:
    try:
        obj = json.loads(text)
        if not isinstance(obj, dict) or obj.get("format") != MARKERS_FORMAT:
            raise MarkersFileError(f"not a {MARKERS_FORMAT} file")
        markers = tuple(
            Marker(
                label=str(entry["label"]),
                kind=MarkerKind(entry["kind"]),
                value=bytes.fromhex(entry["hex"]),
            )
            for entry in obj["markers"]
        )
        created_at, relay_url = obj["created_at"], obj["relay_url"]
    except (ValueError, KeyError, TypeError) as exc:
        raise MarkersFileError(f"the markers file is malformed: {exc}") from None
    if not markers or any(not m.value for m in markers):
        raise MarkersFileError("the markers file holds no markers")
    if not isinstance(created_at, int) or not isinstance(relay_url, str):
        raise MarkersFileError("created_at or relay_url is malformed")
    return CanaryMarkers(created_at=created_at, relay_url=relay_url, markers=markers)


def read_markers(path: Path) -> CanaryMarkers:
    try:
        return parse_markers(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise MarkersFileError(f"{path} cannot be read: {exc}") from None


def write_markers(markers: CanaryMarkers, path: Path) -> None:
    path.write_text(json.dumps(markers.to_json(), indent=1) + "\n", encoding="utf-8")


# --- encodings ----------------------------------------------------------------------------


def _base64_cores(data: bytes, urlsafe: bool) -> list[bytes]:
    """The part of base64(… ‖ data ‖ …) that ``data`` alone fixes, for each alignment."""
    cores = []
    for shift in range(3):
        encoded = base64.b64encode(bytes(shift) + data)
        if urlsafe:
            encoded = encoded.translate(bytes.maketrans(b"+/", b"-_"))
        start = (shift * 8 + 5) // 6
        end = (shift + len(data)) * 8 // 6
        cores.append(encoded[start:end])
    return cores


def encodings(marker: Marker) -> tuple[tuple[str, bytes], ...]:
    """Every (encoding name, bytes) under which ``marker`` is searched."""
    value = marker.value
    forms: list[tuple[str, bytes]] = [("raw" if marker.kind == MarkerKind.KEY else "UTF-8", value)]
    if marker.kind == MarkerKind.TEXT:
        text = value.decode("utf-8")
        forms += [("UTF-16 LE", text.encode("utf-16-le")), ("UTF-16 BE", text.encode("utf-16-be"))]
    forms += [("hex", value.hex().encode("ascii")), ("HEX", value.hex().upper().encode("ascii"))]
    for urlsafe, name in ((False, "base64"), (True, "base64url")):
        for shift, core in enumerate(_base64_cores(value, urlsafe)):
            forms.append((f"{name} (alignment {shift})", core))
    unique: dict[bytes, str] = {}
    for name, form in forms:
        unique.setdefault(form, name)
    return tuple((name, form) for form, name in unique.items())


# --- search -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Hit:
    marker: str
    encoding: str
    file: str
    offset: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchResult:
    hits: tuple[Hit, ...]
    files: int
    bytes_searched: int
    missing: tuple[str, ...]


def _files(paths: Iterable[Path]) -> tuple[list[Path], list[str]]:
    found: list[Path] = []
    missing: list[str] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()))
        elif path.is_file():
            found.append(path)
        else:
            missing.append(str(path))
    return found, missing


def _search_file(path: Path, needles: Sequence[tuple[Marker, str, bytes]]) -> tuple[list[Hit], int]:
    """Each needle's first occurrence in ``path``, read in blocks that overlap by the
    longest needle so that no occurrence straddling two blocks is missed."""
    overlap = max(len(n) for _, _, n in needles) - 1
    hits: dict[tuple[str, str], Hit] = {}
    position = 0
    tail = b""
    with path.open("rb") as stream:
        while block := stream.read(READ_BLOCK):
            window = tail + block
            base = position - len(tail)
            for marker, encoding, needle in needles:
                if (marker.label, encoding) in hits:
                    continue
                at = window.find(needle)
                if at >= 0:
                    hits[marker.label, encoding] = Hit(
                        marker=marker.label, encoding=encoding, file=str(path), offset=base + at
                    )
            position += len(block)
            tail = window[-overlap:] if overlap > 0 else b""
    return list(hits.values()), position


def search(paths: Sequence[Path], markers: CanaryMarkers) -> SearchResult:
    """Search every file under ``paths`` for every encoding of every marker."""
    needles = [(m, name, form) for m in markers.markers for name, form in encodings(m)]
    files, missing = _files(paths)
    hits: list[Hit] = []
    searched = 0
    for path in files:
        found, size = _search_file(path, needles)
        hits.extend(found)
        searched += size
    return SearchResult(
        hits=tuple(hits), files=len(files), bytes_searched=searched, missing=tuple(missing)
    )


def check_canary(result: SearchResult, markers: CanaryMarkers) -> CheckResult:
    evidence = Evidence(CHECK)
    evidence.fact("markers", len(markers.markers))
    evidence.fact("planted in", "; ".join(m.label for m in markers.markers))
    evidence.fact("encodings searched", sum(len(encodings(m)) for m in markers.markers))
    evidence.fact("files searched", result.files)
    evidence.fact("bytes searched", result.bytes_searched)
    for path in result.missing:
        evidence.fail(f"path {path}", "given to be searched, but it does not exist")
    for hit in result.hits:
        evidence.fail(
            f"{hit.file} at byte {hit.offset}", f"the {hit.marker} marker, as {hit.encoding}"
        )
    if not result.files:
        evidence.fail("search", "no file was searched")
    return evidence.result("no marker, in any encoding searched, is in the relay's files")
