"""What a check hands the report: a verdict, the facts it measured and the evidence it found.

Every check of the audit returns one :class:`CheckResult`. A failure is always a
:class:`Finding` naming the stored thing at fault (a table and row, a log index, a file and
offset) and what is wrong with it, so that the auditor can look at it without trusting the
auditor's own summary. Notes are findings that do not fail the check but that a signer must
read (a coordinator device issued without an invite, a clock running backwards).

Findings are capped per check (:data:`MAX_FINDINGS`) so that a relay full of problems still
yields a readable report; the count of those left out is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MAX_FINDINGS = 200


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    SKIPPED = "skipped"
    """Not run, for want of an input (say, no canary markers): it proves nothing either way."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One piece of evidence: ``failed`` findings make the check fail, others are notes."""

    failed: bool
    subject: str
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    check: str
    """The key of the check in :data:`client.audit.claims.CHECKS`."""
    status: Status
    summary: str
    facts: tuple[tuple[str, str], ...] = ()
    findings: tuple[Finding, ...] = ()
    failures_total: int = 0
    notes_total: int = 0

    @property
    def passed(self) -> bool:
        return self.status != Status.FAIL

    @property
    def omitted(self) -> int:
        """Findings counted but not kept (beyond :data:`MAX_FINDINGS`)."""
        return self.failures_total + self.notes_total - len(self.findings)


def id_label(value: object) -> str:
    """How an identifier read from the relay is named in evidence: its first 12 hex digits
    (enough to find the row), or the start of whatever else was stored there."""
    return value.hex()[:12] if isinstance(value, bytes) else repr(value)[:24]


def skipped(check: str, reason: str) -> CheckResult:
    return CheckResult(check=check, status=Status.SKIPPED, summary=reason)


class Evidence:
    """Collects the findings and facts of one check while it runs."""

    def __init__(self, check: str, cap: int = MAX_FINDINGS) -> None:
        self._check = check
        self._cap = cap
        self._failures: list[Finding] = []
        self._notes: list[Finding] = []
        self._failures_total = 0
        self._notes_total = 0
        self._facts: dict[str, str] = {}

    @property
    def failed(self) -> bool:
        return self._failures_total > 0

    def fail(self, subject: str, detail: str) -> None:
        self._failures_total += 1
        if len(self._failures) < self._cap:
            self._failures.append(Finding(failed=True, subject=subject, detail=detail))

    def note(self, subject: str, detail: str) -> None:
        self._notes_total += 1
        if len(self._notes) < self._cap:
            self._notes.append(Finding(failed=False, subject=subject, detail=detail))

    def fact(self, name: str, value: object) -> None:
        self._facts[name] = str(value)

    def count(self, name: str, increment: int = 1) -> None:
        self._facts[name] = str(int(self._facts.get(name, "0")) + increment)

    def result(self, passed: str) -> CheckResult:
        """The check's result; ``passed`` is its summary when nothing failed."""
        if self._failures_total:
            summary = f"{self._failures_total} problem{'s' * (self._failures_total != 1)} found"
        else:
            summary = passed
        return CheckResult(
            check=self._check,
            status=Status.FAIL if self._failures_total else Status.PASS,
            summary=summary,
            facts=tuple(self._facts.items()),
            findings=(*self._failures, *self._notes),
            failures_total=self._failures_total,
            notes_total=self._notes_total,
        )
