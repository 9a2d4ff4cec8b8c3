"""Runner for the MLS interoperability test vectors (mlswg/mls-implementations format).

Each vector file is a JSON array of cases; the file's name selects the area handler
(``tree-math.json`` → :mod:`protocol.mls.vectors.tree_math`). A handler takes one case and
raises on the first check that does not hold, so a case counts as passed only when every
check in it ran and held. A case of a cipher suite we do not implement raises
:class:`~crypto.errors.UnsupportedCipherSuiteError` and is counted as skipped; the same
error for a suite we claim to support is a failure. A file of an area with no handler yet
is reported as such (its cases are not run and not counted as passed).

This module is pure: it takes parsed JSON. Reading files is left to ``__main__`` and tests.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crypto.errors import CasecircleError, UnsupportedCipherSuiteError
from crypto.suites import SUPPORTED_SUITE_IDS

VectorCase = Mapping[str, Any]
CaseHandler = Callable[[VectorCase], None]

# file stem → handler module (relative to this package). Areas not listed have no handler yet.
AREAS: dict[str, str] = {
    "tree-math": "tree_math",
    "deserialization": "deserialization",
    "crypto-basics": "crypto_basics",
    "secret-tree": "secret_tree",
    "message-protection": "message_protection",
    "key-schedule": "key_schedule",
    "psk_secret": "psk_secret",
    "transcript-hashes": "transcript_hashes",
    "messages": "messages",
    "welcome": "welcome",
    "tree-validation": "tree_validation",
    "tree-operations": "tree_operations",
    "treekem": "treekem",
    "passive-client-welcome": "passive_client",
    "passive-client-handling-commit": "passive_client",
    "interop-passive-commit": "passive_client",
    "interop-passive-external-proposals": "passive_client",
}


@dataclass
class FileResult:
    """Outcome of one vector file: counts and the first failures, for the report line."""

    name: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    handled: bool = True
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No case failed, and a handled file had at least one case to run."""
        return self.failed == 0 and (not self.handled or self.passed + self.skipped > 0)

    def line(self) -> str:
        if not self.handled:
            return f"{self.name}: no handler for this area ({self.skipped} cases not run)"
        if self.passed + self.failed + self.skipped == 0:
            return f"{self.name}: no cases in the file"
        return (
            f"{self.name}: {self.passed} passed, {self.failed} failed, "
            f"{self.skipped} skipped (unsupported suite)"
        )


def handler_for(stem: str) -> CaseHandler | None:
    module_name = AREAS.get(stem)
    if module_name is None:
        return None
    module = importlib.import_module(f"{__name__}.{module_name}")
    run_case: CaseHandler = module.run_case
    return run_case


def run_cases(stem: str, cases: Sequence[VectorCase]) -> FileResult:
    """Run every case of one file through its area handler, counting outcomes."""
    result = FileResult(stem)
    try:
        handler = handler_for(stem)
    except ImportError as exc:
        result.failed = len(cases)
        result.failures.append(f"handler cannot be loaded: {exc}")
        return result
    if handler is None:
        result.handled = False
        result.skipped = len(cases)
        return result
    for index, case in enumerate(cases):
        try:
            handler(case)
        except UnsupportedCipherSuiteError as exc:
            if case.get("cipher_suite") in SUPPORTED_SUITE_IDS:
                result.failed += 1
                result.failures.append(f"case {index}: supported suite refused: {exc}")
            else:
                result.skipped += 1
        except CasecircleError as exc:
            result.failed += 1
            result.failures.append(f"case {index}: {exc.code}: {exc}")
        except Exception as exc:  # noqa: BLE001 - a crashing case is a failure, never a pass
            result.failed += 1
            result.failures.append(f"case {index}: {type(exc).__name__}: {exc}")
        else:
            result.passed += 1
    return result
