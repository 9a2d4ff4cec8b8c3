"""Check 4, transparency log (DESIGN §6; ATTACKS A1–A6): replay the relay's whole log.

RFC 9162 §2.1 hashing, as clients do it (:mod:`client.directory`)::

    log_entries ──decode──► LogEntry ──verify_log_entry(root)──► credential / revocation
        │
        └─ leaf_hash ──► CompactMerkleLog ──► roots[0..n] ──┬─► = each client's signed head?
                                                            └─► consistency proofs between
                                                                the sizes clients saw

Every entry must decode strictly and carry the platform root's signature (the root is the
coordinator's key: a relay cannot add, alter or re-sign an entry). The root of every prefix
of the log is kept, so a head a client saw is checked against exactly the first
``tree_size`` stored entries: a head that disagrees means the stored log changed after the
client saw it, or that client was shown another log. Two relay-signed heads of one size with
different roots, from any clients, prove a fork (A6) and are reported with both heads.

What the relay *serves* from its directory, KeyPackages and delivery tables is compared with
the replayed log in :mod:`client.audit.served`, and enrolments in
:mod:`client.audit.enrolments`; the three report under this one check.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from client.audit.heads import HeadsExport
from client.audit.results import Evidence, id_label
from crypto.errors import CasecircleError
from protocol.directory import (
    COORDINATOR_ROLE,
    CredentialSignatureError,
    DeviceCredential,
    LogEntry,
    Revocation,
    RevocationSignatureError,
    SignedDeviceCredential,
    SignedRevocation,
    verify_log_entry,
)
from protocol.transparency import (
    EMPTY_ROOT,
    CompactMerkleLog,
    ForkDetectedError,
    SignedTreeHead,
    TransparencyError,
    consistency_proof_from_subtrees,
    detect_fork,
    leaf_hash,
    verify_consistency,
    verify_tree_head,
)

CHECK = "transparency"


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedEntry:
    index: int
    appended_at: int
    statement: DeviceCredential | Revocation | None
    """What the entry states; ``None`` if it does not decode."""
    signed: bytes | None
    """The encoded SignedDeviceCredential, for a credential entry."""
    verified: bool
    """Whether the platform root's signature was checked and held."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LogView:
    """The log as replayed: its entries, the root of every prefix, and its subtree table."""

    entries: tuple[LoggedEntry, ...]
    roots: tuple[bytes, ...]
    subtrees: Mapping[tuple[int, int], bytes] = field(repr=False)
    signatures_checked: bool

    @property
    def size(self) -> int:
        return len(self.entries)

    def credential_entries(self) -> list[LoggedEntry]:
        return [e for e in self.entries if isinstance(e.statement, DeviceCredential)]

    def statements(self) -> frozenset[bytes]:
        """Every credential statement in the log, exactly as signed."""
        return frozenset(e.signed for e in self.entries if e.signed is not None)

    def latest_credentials(self) -> dict[bytes, LoggedEntry]:
        """Device id → the last credential entry issued for it."""
        latest: dict[bytes, LoggedEntry] = {}
        for entry in self.credential_entries():
            assert isinstance(entry.statement, DeviceCredential)
            latest[entry.statement.device_id] = entry
        return latest

    def revocations(self) -> dict[bytes, LoggedEntry]:
        """Device id → its first revocation entry."""
        found: dict[bytes, LoggedEntry] = {}
        for entry in self.entries:
            if isinstance(entry.statement, Revocation):
                found.setdefault(entry.statement.device_id, entry)
        return found

    def coordinator_keys(self) -> frozenset[tuple[int, bytes]]:
        """(cipher suite, signature key) of every coordinator device the log ever named:
        a proposal stored before a revocation was signed while the key was valid."""
        return frozenset(
            (e.statement.cipher_suite, e.statement.signature_key)
            for e in self.credential_entries()
            if isinstance(e.statement, DeviceCredential) and e.statement.role == COORDINATOR_ROLE
        )

    def timeline(self) -> tuple[tuple[int, int], ...]:
        """(appended_at, log size after the entry) for each entry: the log's growth."""
        return tuple((e.appended_at, e.index + 1) for e in self.entries)


def _statement(entry: LogEntry) -> DeviceCredential | Revocation:
    match entry.statement:
        case SignedDeviceCredential() as signed:
            return signed.credential
        case SignedRevocation() as signed:
            return signed.revocation


def _decode_entry(
    index: int, leaf: bytes, appended_at: int, root_key: bytes | None, evidence: Evidence
) -> LoggedEntry:
    subject = f"log entry {index}"
    try:
        entry = LogEntry.from_bytes(leaf)
    except (CasecircleError, ValueError) as exc:
        evidence.fail(subject, f"does not decode as a LogEntry: {exc}")
        return LoggedEntry(
            index=index, appended_at=appended_at, statement=None, signed=None, verified=False
        )
    credential = isinstance(entry.statement, SignedDeviceCredential)
    signed = entry.statement.to_bytes() if credential else None
    statement = _statement(entry)
    verified = False
    if root_key is not None:
        try:
            statement = verify_log_entry(root_key, entry)
            verified = True
        except CasecircleError as exc:
            what = (
                "the platform root's (coordinator's) signature does not hold"
                if isinstance(exc, CredentialSignatureError | RevocationSignatureError)
                else "the entry breaks the directory's rules"
            )
            evidence.fail(subject, f"{what}: {exc.code}: {exc}")
    return LoggedEntry(
        index=index, appended_at=appended_at, statement=statement, signed=signed, verified=verified
    )


def replay_log(db: sqlite3.Connection, root_key: bytes | None, evidence: Evidence) -> LogView:
    """Decode, verify and hash every stored entry, in log order."""
    if root_key is None:
        evidence.fail(
            "platform root",
            "no platform root public key was given (--root-key, or a heads file from a"
            " client): no entry's signature could be checked",
        )
    log = CompactMerkleLog()
    roots = [EMPTY_ROOT]
    subtrees: dict[tuple[int, int], bytes] = {}
    entries: list[LoggedEntry] = []
    previous_time = 0
    rows = db.execute("SELECT log_index, leaf, appended_at FROM log_entries ORDER BY log_index")
    for position, (index, leaf, appended_at) in enumerate(rows):
        if index != position:
            evidence.fail(
                f"log entry {index}", f"stored at position {position}: entries are missing"
            )
        data = leaf if isinstance(leaf, bytes) else str(leaf).encode("utf-8")
        appended = log.append(leaf_hash(data))
        log = appended.log
        subtrees.update(((s.level, s.index), s.hash) for s in appended.completed)
        roots.append(log.root_hash())
        when = appended_at if isinstance(appended_at, int) else 0
        if when < previous_time:
            evidence.note(
                f"log entry {position}",
                "appended earlier than the entry before it (the time is not signed; a clock"
                " set back, or entries inserted out of turn)",
            )
        previous_time = max(previous_time, when)
        entries.append(_decode_entry(position, data, when, root_key, evidence))
    evidence.fact("log entries", len(entries))
    evidence.fact("entry signatures verified", sum(e.verified for e in entries))
    evidence.fact("log root", log.root_hash().hex())
    return LogView(
        entries=tuple(entries),
        roots=tuple(roots),
        subtrees=subtrees,
        signatures_checked=root_key is not None,
    )


def check_heads(
    view: LogView,
    exports: Sequence[HeadsExport],
    root_key: bytes | None,
    relay_key: bytes | None,
    evidence: Evidence,
) -> None:
    """Compare every head clients saw with the stored log and with each other."""
    evidence.fact("client exports of tree heads", len(exports))
    if not exports:
        evidence.note(
            "tree heads",
            "no client's tree heads were given (--heads): a log shown differently to clients"
            " than the one stored would not be seen by this audit",
        )
        return
    if relay_key is None:
        evidence.fail("relay identity", "no relay public key: tree heads cannot be verified")
        return
    matched: dict[int, bytes] = {}
    seen: dict[int, list[tuple[HeadsExport, SignedTreeHead]]] = {}
    checked = 0
    for export in exports:
        source = f"device {id_label(export.device_id)} ({export.source or 'heads file'})"
        if root_key is not None and export.platform_root_public_key != root_key:
            evidence.fail(source, "the client pinned another platform root than the audited one")
        for signed in export.heads:
            head = signed.tree_head
            subject = f"tree head of size {head.tree_size} seen by {source}"
            try:
                verify_tree_head(relay_key, signed)
            except TransparencyError:
                evidence.fail(subject, "not signed by this relay's identity key")
                continue
            checked += 1
            seen.setdefault(head.tree_size, []).append((export, signed))
            if head.tree_size > view.size:
                evidence.fail(
                    subject,
                    f"the client saw {head.tree_size} entries, the relay holds {view.size}:"
                    " entries were removed (or these data are older than the head)",
                )
            elif head.root_hash != view.roots[head.tree_size]:
                evidence.fail(
                    subject,
                    f"its root {head.root_hash.hex()[:16]}… differs from the stored log's first"
                    f" {head.tree_size} entries ({view.roots[head.tree_size].hex()[:16]}…): the"
                    " log was altered after the client saw it, or the client was shown a fork",
                )
            else:
                matched[head.tree_size] = head.root_hash
    evidence.fact("tree heads verified", checked)
    _check_forks(seen, relay_key, evidence)
    _check_consistency(view, matched, evidence)


def _check_forks(
    seen: Mapping[int, list[tuple[HeadsExport, SignedTreeHead]]],
    relay_key: bytes,
    evidence: Evidence,
) -> None:
    for size, heads in sorted(seen.items()):
        first_export, first = heads[0]
        reported: set[bytes] = set()
        for export, other in heads[1:]:
            root = other.tree_head.root_hash
            if root in reported:
                continue
            try:
                detect_fork(relay_key, first, other)
            except ForkDetectedError:
                reported.add(root)
                evidence.fail(
                    f"tree size {size}",
                    f"fork: the relay signed two different logs of {size} entries — root"
                    f" {first.tree_head.root_hash.hex()} seen by device"
                    f" {id_label(first_export.device_id)}, root {root.hex()} seen by device"
                    f" {id_label(export.device_id)}",
                )


def _check_consistency(view: LogView, matched: Mapping[int, bytes], evidence: Evidence) -> None:
    """RFC 9162 §2.1.4 proofs, built from the stored log, between consecutive sizes seen."""
    sizes = sorted(matched)
    proofs = 0
    for first, second in itertools.pairwise(sizes):
        path = consistency_proof_from_subtrees(
            lambda level, index: view.subtrees[level, index], first, second
        )
        try:
            verify_consistency(first, second, matched[first], matched[second], path)
        except TransparencyError as exc:
            evidence.fail(f"tree sizes {first} → {second}", f"not consistent: {exc}")
            continue
        proofs += 1
    evidence.fact("consistency proofs verified", proofs)
