"""client.random: the OS-backed RandomSource, and that it is the client's only way to the OS
random source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from client.random import SystemRandom
from crypto.keystore import open_keystore, seal_keystore
from crypto.random import RandomSource
from tests.client.conftest import TEST_FLOOR, TINY

CLIENT = Path(__file__).resolve().parents[2] / "client"
RANDOM_MODULES = {"random", "secrets"}


def test_returns_the_requested_number_of_bytes() -> None:
    rng = SystemRandom()
    assert [len(rng.random_bytes(n)) for n in (0, 1, 12, 32, 1000)] == [0, 1, 12, 32, 1000]
    assert rng.random_bytes(0) == b""


def test_outputs_differ() -> None:
    rng = SystemRandom()
    outputs = {rng.random_bytes(16) for _ in range(64)}
    assert len(outputs) == 64


@pytest.mark.parametrize("n", [-1, 1.5, "8", True])
def test_refuses_a_bad_count(n: object) -> None:
    with pytest.raises(ValueError):
        SystemRandom().random_bytes(n)  # type: ignore[arg-type]


def test_is_a_random_source_for_crypto() -> None:
    rng: RandomSource = SystemRandom()
    sealed = seal_keystore(b"pass", b"payload", TINY, 1, rng, insecure_floor_for_tests=TEST_FLOOR)
    payload, _ = open_keystore(b"pass", sealed, insecure_floor_for_tests=TEST_FLOOR)
    assert payload == b"payload"
    assert repr(rng) == "SystemRandom()"


def _os_random_uses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in RANDOM_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] in RANDOM_MODULES:
                found.append(node.module)
            elif node.module == "os" and any(a.name == "urandom" for a in node.names):
                found.append("os.urandom")
        elif isinstance(node, ast.Attribute) and node.attr in {"urandom", "getrandom"}:
            found.append(f"os.{node.attr}")
    return found


def test_only_client_random_reads_the_os_random_source() -> None:
    uses = {
        str(path.relative_to(CLIENT)): found
        for path in sorted(CLIENT.rglob("*.py"))
        if path.name != "random.py" or path.parent != CLIENT
        if (found := _os_random_uses(path))
    }
    assert uses == {}
    assert _os_random_uses(CLIENT / "random.py") == ["os.urandom"]


def test_the_source_check_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nimport secrets\nfrom random import choice\nos.urandom(4)\n")
    assert _os_random_uses(bad) == ["secrets", "random", "os.urandom"]
