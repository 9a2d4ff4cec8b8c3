"""Every official MLS vector file runs through the same runner as ``casecircle vectors``.

A file passes only if no case failed and no case was skipped: every suite that appears in
the shared set is one we claim to support. Files of areas without a handler yet are
expected failures (strict), so one landing flips the test to a reminder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crypto.errors import UnsupportedCipherSuiteError
from crypto.suites import SUPPORTED_SUITE_IDS
from protocol.mls import vectors
from protocol.mls.vectors import AREAS, run_cases

EXPECTED_FILES = (
    "crypto-basics",
    "deserialization",
    "interop-passive-commit",
    "interop-passive-external-proposals",
    "key-schedule",
    "message-protection",
    "messages",
    "passive-client-handling-commit",
    "passive-client-welcome",
    "psk_secret",
    "secret-tree",
    "transcript-hashes",
    "tree-math",
    "tree-operations",
    "tree-validation",
    "treekem",
    "welcome",
)


def _load(vectors_dir: Path, stem: str) -> list[dict[str, object]]:
    path = vectors_dir / f"{stem}.json"
    if not path.exists():
        pytest.fail(f"vector file {path} is missing")
    cases: list[dict[str, object]] = json.loads(path.read_text(encoding="utf-8"))
    return cases


def _expectation(stem: str) -> object:
    if stem in AREAS:
        return stem
    return pytest.param(stem, marks=pytest.mark.xfail(strict=True, reason="no handler yet"))


@pytest.mark.parametrize("stem", [_expectation(stem) for stem in EXPECTED_FILES])
def test_vector_file(vectors_dir: Path, stem: str) -> None:
    cases = _load(vectors_dir, stem)
    result = run_cases(stem, cases)
    assert result.failures == []
    assert result.failed == 0
    assert result.skipped == 0, "a case was skipped for a suite we claim to support"
    assert result.passed == len(cases) > 0


def test_every_suite_in_the_shared_set_is_supported(vectors_dir: Path) -> None:
    seen = {
        case["cipher_suite"]
        for path in vectors_dir.glob("*.json")
        for case in json.loads(path.read_text(encoding="utf-8"))
        if isinstance(case, dict) and "cipher_suite" in case
    }
    assert seen <= set(SUPPORTED_SUITE_IDS)


def test_a_failing_case_is_counted_not_passed() -> None:
    cases = [{"vlbytes_header": "40", "length": 0}, {"vlbytes_header": "00", "length": 0}]
    result = run_cases("deserialization", cases)
    assert (result.passed, result.failed) == (1, 1)
    assert "decode" in result.failures[0]


def test_a_crashing_case_is_counted_as_failed() -> None:
    result = run_cases("deserialization", [{"unexpected": "shape"}])
    assert (result.passed, result.failed) == (0, 1)
    assert "KeyError" in result.failures[0]


def test_a_supported_suite_refused_is_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(case: object) -> None:
        raise UnsupportedCipherSuiteError("refused")

    monkeypatch.setattr(vectors, "handler_for", lambda stem: refuse)
    result = run_cases("crypto-basics", [{"cipher_suite": 1}, {"cipher_suite": 0x0A0A}])
    assert (result.passed, result.failed, result.skipped) == (0, 1, 1)
    assert "supported suite refused" in result.failures[0]


def test_an_empty_file_is_not_ok() -> None:
    result = run_cases("tree-math", [])
    assert not result.ok
    assert result.line() == "tree-math: no cases in the file"


def test_unsupported_suite_is_skipped_not_passed() -> None:
    result = run_cases("crypto-basics", [{"cipher_suite": 0x0A0A}])
    assert (result.passed, result.failed, result.skipped) == (0, 0, 1)
    assert result.line() == "crypto-basics: 0 passed, 0 failed, 1 skipped (unsupported suite)"
