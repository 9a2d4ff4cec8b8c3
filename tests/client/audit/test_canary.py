"""The canary's markers, their encodings and the search (no relay needed)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from client.audit.canary import (
    READ_BLOCK,
    CanaryMarkers,
    MarkerKind,
    check_canary,
    encodings,
    key_marker,
    parse_markers,
    read_markers,
    search,
    text_marker,
    write_markers,
)
from client.audit.errors import MarkersFileError
from client.audit.results import Status
from tests.helpers import DeterministicRandom


def _markers() -> CanaryMarkers:
    rng = DeterministicRandom("markers")
    return CanaryMarkers(
        created_at=1,
        relay_url="http://127.0.0.1:1",
        markers=(text_marker(rng, "note text"), key_marker("file key", rng.random_bytes(32))),
    )


@pytest.mark.parametrize("prefix", [b"", b"a", b"ab", b"abc", b"x" * 100])
@pytest.mark.parametrize("urlsafe", [False, True])
def test_a_marker_is_found_in_base64_at_any_alignment(prefix: bytes, urlsafe: bool) -> None:
    marker = _markers().markers[0]
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    encoded = encode(prefix + marker.value + b" and more text after it")
    assert any(form in encoded for name, form in encodings(marker) if name.startswith("base64"))


def test_text_markers_are_searched_in_utf16_and_hex() -> None:
    marker = _markers().markers[0]
    forms = dict(encodings(marker))
    text = marker.value.decode()
    assert forms["UTF-16 LE"] == text.encode("utf-16-le")
    assert forms["UTF-16 BE"] == text.encode("utf-16-be")
    assert forms["hex"] == marker.value.hex().encode()
    assert forms["HEX"] == marker.value.hex().upper().encode()


def test_key_markers_are_searched_raw_but_not_as_text() -> None:
    marker = _markers().markers[1]
    assert marker.kind == MarkerKind.KEY
    names = [name for name, _ in encodings(marker)]
    assert names[0] == "raw"
    assert not any(name.startswith("UTF-16") for name in names)


def test_the_search_finds_each_encoding_and_where(tmp_path: Path) -> None:
    markers = _markers()
    note, key = markers.markers
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "relay.sqlite3").write_bytes(b"\0" * 10 + key.value + b"\0")
    (tmp_path / "relay.log").write_bytes(
        b"line\n" + base64.b64encode(b"x" + note.value) + b"\n" + note.value.hex().encode()
    )
    result = search([tmp_path / "data", tmp_path / "relay.log"], markers)
    found = {(h.marker, h.encoding, Path(h.file).name, h.offset) for h in result.hits}
    assert ("file key", "raw", "relay.sqlite3", 10) in found
    assert ("note text", "hex", "relay.log", 5 + len(base64.b64encode(b"x" + note.value)) + 1) in {
        f for f in found if f[1] == "hex"
    }
    assert any(f[1].startswith("base64") and f[0] == "note text" for f in found)
    assert result.files == 2
    check = check_canary(result, markers)
    assert check.status == Status.FAIL
    assert check.failures_total == len(result.hits)


def test_a_marker_across_two_read_blocks_is_found(tmp_path: Path) -> None:
    markers = _markers()
    note = markers.markers[0]
    cut = READ_BLOCK - len(note.value) // 2
    (tmp_path / "big").write_bytes(b"\0" * cut + note.value + b"\0" * 10)
    hits = search([tmp_path / "big"], markers).hits
    assert [(h.encoding, h.offset) for h in hits] == [("UTF-8", cut)]


def test_nothing_found_passes_and_a_missing_path_fails(tmp_path: Path) -> None:
    markers = _markers()
    (tmp_path / "clean").write_bytes(b"nothing here")
    assert check_canary(search([tmp_path / "clean"], markers), markers).status == Status.PASS
    missing = check_canary(search([tmp_path / "clean", tmp_path / "gone.log"], markers), markers)
    assert missing.status == Status.FAIL
    assert check_canary(search([], markers), markers).status == Status.FAIL


def test_the_markers_file_round_trips_and_refuses_garbage(tmp_path: Path) -> None:
    markers = _markers()
    write_markers(markers, tmp_path / "m.json")
    assert read_markers(tmp_path / "m.json") == markers
    for text in ("", "[]", '{"format": "other"}', '{"format": "casecircle-canary/1"}'):
        with pytest.raises(MarkersFileError):
            parse_markers(text)
    with pytest.raises(MarkersFileError):
        read_markers(tmp_path / "absent.json")
