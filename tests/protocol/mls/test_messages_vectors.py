"""The messages.json handler: a case passes only when every field decodes and re-encodes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from protocol.mls.vectors import run_cases
from protocol.mls.vectors.messages import BARE_STRUCTS, MESSAGES


@pytest.fixture(scope="module")
def first_case(vectors_dir: Path) -> dict[str, str]:
    cases: list[dict[str, str]] = json.loads(
        (vectors_dir / "messages.json").read_text(encoding="utf-8")
    )
    return cases[0]


def test_the_handler_checks_every_field_of_the_file() -> None:
    assert len(BARE_STRUCTS) + len(MESSAGES) == 17


def test_a_valid_case_passes(first_case: dict[str, str]) -> None:
    assert run_cases("messages", [first_case]).passed == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"commit": "append00"}, "trailing"),
        ({"mls_welcome": "from:mls_group_info"}, "wire format"),
        ({"public_message_proposal": "from:public_message_commit"}, "content type"),
        ({"add_proposal": "truncate"}, "truncated"),
        ({"remove_proposal": None}, "fields"),
    ],
)
def test_a_damaged_case_fails(
    first_case: dict[str, str], change: dict[str, str | None], reason: str
) -> None:
    case = dict(first_case)
    for name, how in change.items():
        if how is None:
            del case[name]
        elif how == "append00":
            case[name] += "00"
        elif how == "truncate":
            case[name] = case[name][:-2]
        else:
            case[name] = first_case[how.removeprefix("from:")]
    result = run_cases("messages", [case])
    assert (result.passed, result.failed) == (0, 1)
    assert reason in result.failures[0]
