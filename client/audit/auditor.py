"""One audit of a relay's stored state: the four checks, run in order, into one report.

::

    data dir / export ──copy, mode=ro──► RelayData
        inventory  (1) ◄─ describe(schema)          ─► inventory table of the report
        replay log (4) ◄─ root key, clients' heads  ─► LogView ─► payloads (2) uses it to
        payloads   (2)                                  check coordinator signatures
        canary     (3) ◄─ markers file, log files   (skipped without markers)

The platform root key comes from ``--root-key``, or else from the clients' heads files
(each names the root its device pinned at enrolment, independently of the relay). The
relay's key comes from ``--relay-key`` or the data directory. Nothing here writes to the
data directory.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from client.audit.canary import check_canary, read_markers, search
from client.audit.claims import CHECKS
from client.audit.enrolments import check_enrolments
from client.audit.errors import AuditInputError
from client.audit.heads import HeadsExport, read_heads
from client.audit.inventory import InventoryRow, check_inventory, describe
from client.audit.payloads import check_payloads
from client.audit.relay_data import RelayData, open_relay_data
from client.audit.results import CheckResult, Evidence, Status, skipped
from client.audit.served import check_served
from client.audit.translog import CHECK as TRANSPARENCY
from client.audit.translog import LogView, check_heads, replay_log
from crypto.errors import CryptoError
from crypto.signatures import ED25519


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditOptions:
    data_dir: Path
    root_key: bytes | None = None
    relay_key: bytes | None = None
    heads: tuple[Path, ...] = ()
    markers: Path | None = None
    logs: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        for name in ("root_key", "relay_key"):
            key = getattr(self, name)
            if key is None:
                continue
            try:
                ED25519.validate_public_key(key)
            except CryptoError:
                raise AuditInputError(f"the {name.replace('_', ' ')} is no Ed25519 key") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditReport:
    created_at: int
    data_dir: str
    is_export: bool
    root_key: bytes | None
    relay_key: bytes | None
    checks: tuple[CheckResult, ...]
    inventory: tuple[InventoryRow, ...]
    timeline: tuple[tuple[int, int], ...]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def check(self, key: str) -> CheckResult:
        return next(c for c in self.checks if c.check == key)

    @property
    def failed_checks(self) -> list[str]:
        return [CHECKS[c.check].title for c in self.checks if c.status == Status.FAIL]


def _root_key(
    given: bytes | None, exports: Sequence[HeadsExport], evidence: Evidence
) -> bytes | None:
    if given is not None:
        return given
    pinned = {export.platform_root_public_key for export in exports}
    if len(pinned) == 1:
        root = next(iter(pinned))
        evidence.note(
            "platform root",
            f"taken from the root the clients pinned at enrolment: {root.hex()}",
        )
        return root
    if len(pinned) > 1:
        evidence.fail("platform root", "the clients' heads files name different platform roots")
    return None


def _relay_key(given: bytes | None, data: RelayData, evidence: Evidence) -> bytes | None:
    stored = data.relay_public_key
    if given is not None and stored is not None and given != stored:
        evidence.fail(
            "relay identity",
            "the relay key given is not the one in the data directory: another relay's data?",
        )
    if given is None and stored is None and data.identity_problem:
        evidence.note("relay identity", data.identity_problem)
    return given if given is not None else stored


def _transparency(
    data: RelayData, options: AuditOptions, exports: Sequence[HeadsExport]
) -> tuple[CheckResult, LogView | None, bytes | None, bytes | None]:
    evidence = Evidence(TRANSPARENCY)
    root_key = _root_key(options.root_key, exports, evidence)
    relay_key = _relay_key(options.relay_key, data, evidence)
    view: LogView | None = None
    try:
        view = replay_log(data.db, root_key, evidence)
        check_heads(view, exports, root_key, relay_key, evidence)
        check_served(data.db, view, evidence)
        check_enrolments(data.db, view, evidence)
    except sqlite3.Error as exc:  # a table or column missing: the inventory names it
        evidence.fail("database", f"the log and directory cannot be read as documented: {exc}")
    result = evidence.result(
        "every entry is signed by the root, the clients' heads match the log, and the relay"
        " serves only logged credentials"
    )
    return result, view, root_key, relay_key


def run_audit(options: AuditOptions, now: int) -> AuditReport:
    """Run every check on the data at ``options.data_dir``; never writes there."""
    exports = [read_heads(path) for path in options.heads]
    markers = read_markers(options.markers) if options.markers is not None else None
    with open_relay_data(options.data_dir) as data:
        rows = describe(data.db)
        inventory = check_inventory(data, rows, options.logs)
        transparency, view, root_key, relay_key = _transparency(data, options, exports)
        payloads = check_payloads(data.db, rows, view)
        if markers is None:
            canary = skipped(
                "canary",
                "not run: no markers given (plant them with `casecircle audit canary`, then"
                " pass --markers)",
            )
        else:
            canary = check_canary(search([data.path, *options.logs], markers), markers)
        return AuditReport(
            created_at=now,
            data_dir=str(options.data_dir),
            is_export=data.is_export,
            root_key=root_key,
            relay_key=relay_key,
            checks=(inventory, payloads, canary, transparency),
            inventory=rows,
            timeline=view.timeline() if view is not None else (),
        )
