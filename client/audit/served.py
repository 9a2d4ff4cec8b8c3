"""Part of check 4: what the relay *serves* must be what the log holds (ATTACKS A1–A4).

Clients only trust a credential they replayed from the log, so a relay that served a
credential outside the log would fail at every client — but the auditor must still see the
attempt, and an honest relay never makes it. Compared with the replayed log:

* the ``devices`` table (the directory, served by ``/v1/devices``): each row's credential
  is exactly the logged statement at the row's ``log_index``, the latest one for that
  device, with the same ids, key, suite and validity; a device revoked in the log is
  marked revoked; every logged device has its row;
* ``key_packages``: the credential in each KeyPackage's leaf is a logged statement of the
  device the row names, certifying the leaf's signature key, and no revoked device's
  package is still offered;
* every device the relay delivers to, keeps a session for, or stores a blob of is in the log.
"""

from __future__ import annotations

import sqlite3

from client.audit.results import Evidence, id_label
from client.audit.translog import LogView
from crypto.errors import CasecircleError
from protocol.directory import DeviceCredential, parse_mls_credential
from protocol.mls.framing import MLSMessage
from protocol.mls.key_package import KeyPackage

DELIVERY_COLUMNS = (
    ("roster", "device_id"),
    ("inbox", "device_id"),
    ("sessions", "device_id"),
    ("key_packages", "device_id"),
    ("blobs", "owner"),
)


def check_served(db: sqlite3.Connection, view: LogView, evidence: Evidence) -> None:
    _directory(db, view, evidence)
    _key_packages(db, view, evidence)
    _delivery(db, view, evidence)


def _directory(db: sqlite3.Connection, view: LogView, evidence: Evidence) -> None:
    latest = view.latest_credentials()
    revocations = view.revocations()
    statements = view.statements()
    served: set[bytes] = set()
    rows = db.execute(
        "SELECT device_id, member_id, cipher_suite, signature_key, not_before, not_after,"
        " credential, log_index, revoked_at, revocation_index FROM devices"
    ).fetchall()
    for row in rows:
        device_id, credential, log_index, revoked_at, revocation_index = (
            row[0], row[6], row[7], row[8], row[9],
        )  # fmt: skip
        subject = f"device {id_label(device_id)}"
        served.add(device_id)
        indexed = isinstance(log_index, int) and 0 <= log_index < view.size
        entry = view.entries[log_index] if indexed else None
        if entry is None or entry.signed != credential:
            where = "at another index" if credential in statements else "anywhere"
            evidence.fail(
                subject,
                f"the relay serves a credential that is not in the log (its row names entry"
                f" {log_index}; the statement is not {where} in the log)",
            )
            continue
        logged = entry.statement
        assert isinstance(logged, DeviceCredential)
        fields = (
            ("device_id", device_id, logged.device_id),
            ("member_id", row[1], logged.member_id),
            ("cipher_suite", row[2], logged.cipher_suite),
            ("signature_key", row[3], logged.signature_key),
            ("not_before", row[4], logged.not_before),
            ("not_after", row[5], logged.not_after),
        )
        wrong = [name for name, stored, expected in fields if stored != expected]
        if wrong:
            evidence.fail(subject, f"the row disagrees with its logged credential: {wrong}")
        last = latest.get(logged.device_id)
        if last is not None and last.index != entry.index:
            evidence.fail(
                subject, f"serves entry {entry.index}'s credential, superseded by {last.index}"
            )
        revocation = revocations.get(logged.device_id)
        if revocation is not None and revoked_at is None:
            evidence.fail(
                subject, f"revoked in log entry {revocation.index}, yet served as not revoked"
            )
        elif revoked_at is not None and (
            revocation is None or revocation.index != revocation_index
        ):
            evidence.fail(subject, "marked revoked without the logged revocation it names")
    for device_id, entry in latest.items():
        if device_id not in served:
            evidence.fail(
                f"device {id_label(device_id)}",
                f"issued in log entry {entry.index} but missing from the relay's directory",
            )
    evidence.fact("directory rows checked against the log", len(rows))


def _key_packages(db: sqlite3.Connection, view: LogView, evidence: Evidence) -> None:
    statements = view.statements()
    revoked = view.revocations()
    for package_id, device_id, package in db.execute(
        "SELECT package_id, device_id, package FROM key_packages"
    ):
        subject = f"key package {package_id}"
        try:
            body = MLSMessage.from_bytes(bytes(package)).body
            if not isinstance(body, KeyPackage):
                continue  # the payload check reports it
            signed = parse_mls_credential(body.leaf_node.credential)
        except (CasecircleError, ValueError, TypeError):
            evidence.fail(subject, "holds no casecircle credential the log could contain")
            continue
        if signed.to_bytes() not in statements:
            evidence.fail(subject, "carries a credential that is not in the log")
        elif signed.credential.device_id != device_id:
            evidence.fail(
                subject,
                f"stored for device {id_label(device_id)}, carries the credential of"
                f" {id_label(signed.credential.device_id)}",
            )
        elif body.leaf_node.signature_key != signed.credential.signature_key:
            evidence.fail(subject, "its leaf's key is not the one its credential certifies")
        elif device_id in revoked:
            evidence.fail(subject, "a revoked device's KeyPackage is still offered")
        else:
            evidence.count("KeyPackages with a logged credential")


def _delivery(db: sqlite3.Connection, view: LogView, evidence: Evidence) -> None:
    logged = set(view.latest_credentials())
    for table, column in DELIVERY_COLUMNS:
        sql = f'SELECT "{column}", count(*) FROM "{table}" GROUP BY 1'  # noqa: S608 - constants
        rows = db.execute(sql)
        for device_id, count in rows:
            if device_id not in logged:
                evidence.fail(
                    f"{table}.{column} {id_label(device_id)}",
                    f"{count} rows name a device that is not in the log",
                )
