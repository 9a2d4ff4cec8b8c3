"""The layering of DESIGN.md §3, checked on the source: protocol/ and crypto/ are sans-I/O.

protocol/ may import the standard library's pure modules, crypto/ and itself; crypto/ may
also import ``cryptography``, ``nacl`` and ``argon2``. Neither may import anything that
reaches sockets, files, clocks, the OS random source or the event loop, nor call ``open``.
The vector runner's command-line entry is the one documented exception: it reads the files
named on its command line.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

IO_MODULES = {
    "asyncio", "aiohttp", "aiosqlite", "socket", "ssl", "select", "selectors", "os", "io",
    "time", "datetime", "random", "secrets", "subprocess", "threading", "multiprocessing",
    "pathlib", "shutil", "tempfile", "sqlite3", "http", "urllib", "logging", "signal",
    "sys", "glob", "fileinput", "pickle", "shelve", "uuid",
}  # fmt: skip
THIRD_PARTY_CRYPTO = {"cryptography", "nacl", "argon2"}
FIRST_PARTY = {"server", "client", "crypto", "protocol"}
ENTRY_POINTS = {
    ROOT / "protocol" / "mls" / "vectors" / "cli.py",
    ROOT / "protocol" / "mls" / "vectors" / "__main__.py",
}


def _sources(root: Path, package: str) -> Iterator[Path]:
    yield from sorted((root / package).rglob("*.py"))


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in {"open", "exec"}:
            yield node.lineno, f"<call {node.func.id}>"  # type: ignore[attr-defined]


def _violations(
    root: Path, package: str, allowed_first_party: set[str], third_party: set[str]
) -> list[str]:
    found = []
    for path in _sources(root, package):
        if path in ENTRY_POINTS:
            continue
        for line, name in _imports(path):
            if name in IO_MODULES or name.startswith("<call"):
                found.append(f"{path.relative_to(root)}:{line} uses {name}")
            elif name in FIRST_PARTY and name not in allowed_first_party:
                found.append(f"{path.relative_to(root)}:{line} imports {name}")
            elif name in THIRD_PARTY_CRYPTO and name not in third_party:
                found.append(f"{path.relative_to(root)}:{line} imports {name}")
            elif name not in FIRST_PARTY | THIRD_PARTY_CRYPTO and not _is_stdlib(name):
                found.append(f"{path.relative_to(root)}:{line} imports third-party {name}")
    return found


def _is_stdlib(name: str) -> bool:
    return name in sys.stdlib_module_names or name == "__future__"


@pytest.mark.parametrize(
    ("package", "first_party", "third_party"),
    [
        ("crypto", {"crypto"}, THIRD_PARTY_CRYPTO),
        ("protocol", {"crypto", "protocol"}, set()),
    ],
)
def test_package_is_sans_io(package: str, first_party: set[str], third_party: set[str]) -> None:
    assert _violations(ROOT, package, first_party, third_party) == []


def test_the_check_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "protocol"
    bad.mkdir()
    (bad / "leaky.py").write_text(
        "import os\nimport server\nfrom cryptography import x509\nimport yaml\nopen('f')\n"
    )
    found = _violations(tmp_path, "protocol", {"crypto", "protocol"}, set())
    assert [entry.split(" ", 1)[1] for entry in found] == [
        "uses os",
        "imports server",
        "imports cryptography",
        "imports third-party yaml",
        "uses <call open>",
    ]
