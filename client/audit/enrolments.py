"""Part of check 4: every member device has a matching invite record (DESIGN §5).

The relay keeps each enrolment request by invite id (``enrolments``) and the credential the
root signs names the same invite id. For every member device in the log the auditor
requires a request under that invite id, from that device, approved, whose public key and
suite are the ones certified, with the device's possession signature valid.

What this shows: the device asked through the relay's enrolment channel, holding the
private key the root certified, under the invite the root named. What it cannot show: that
the requester held the invite *code* — its MAC is keyed by the code, which only the
coordinator's invite book and the member have — nor that the invite reached the right
person. A device without a record was issued outside the invite flow (a ghost device from
a misused root, ATTACKS A1) or its record was deleted; either needs explaining.

Coordinator devices are registered by the root holder directly and have no request; they
are listed as notes so the signer can confirm each with the platform manager.
"""

from __future__ import annotations

import sqlite3

from client.audit.results import Evidence, id_label
from client.audit.translog import LogView
from crypto.errors import CasecircleError
from crypto.labels import verify_with_label
from crypto.suites import cipher_suite
from protocol.directory import COORDINATOR_ROLE, DeviceCredential
from protocol.invites import POSSESSION_LABEL, EnrolmentRequest


def _request_problem(raw: object, credential: DeviceCredential) -> str | None:
    if not isinstance(raw, bytes):
        return "its request is not stored as bytes"
    try:
        request = EnrolmentRequest.from_bytes(raw)
    except (CasecircleError, ValueError, TypeError) as exc:
        return f"its request does not decode ({exc})"
    expected = (
        credential.invite_id,
        credential.device_id,
        credential.cipher_suite,
        credential.signature_key,
    )
    found = (request.invite_id, request.device_id, request.cipher_suite, request.signature_key)
    if found != expected:
        return "its request asked for another key, suite or device than was certified"
    try:
        verify_with_label(
            cipher_suite(request.cipher_suite),
            request.signature_key,
            POSSESSION_LABEL,
            request.to_be_signed(),
            request.possession,
        )
    except CasecircleError:
        return "its request's possession signature does not verify under the certified key"
    return None


def check_enrolments(db: sqlite3.Connection, view: LogView, evidence: Evidence) -> None:
    records = {
        invite_id: (device_id, request, status)
        for invite_id, device_id, request, status in db.execute(
            "SELECT invite_id, device_id, request, status FROM enrolments"
        )
    }
    issued: set[tuple[bytes, bytes]] = set()
    matched = 0
    for entry in view.credential_entries():
        credential = entry.statement
        assert isinstance(credential, DeviceCredential)
        issued.add((credential.invite_id, credential.device_id))
        subject = f"device {id_label(credential.device_id)} (log entry {entry.index})"
        if credential.role == COORDINATOR_ROLE:
            evidence.note(
                subject,
                f"coordinator device {credential.display_name!r} ({credential.organisation!r})"
                ": registered by the root holder without an enrolment request; confirm it"
                " with the platform manager",
            )
            continue
        record = records.get(credential.invite_id)
        if record is None:
            evidence.fail(
                subject,
                "no enrolment request under the invite id its credential names: issued"
                " outside the invite flow, or the record was removed",
            )
            continue
        device_id, request, status = record
        if device_id != credential.device_id:
            evidence.fail(subject, "the request under its invite id came from another device")
        elif status != "approved":
            evidence.fail(subject, f"its enrolment request is {status}, not approved")
        else:
            problem = _request_problem(request, credential)
            if problem:
                evidence.fail(subject, problem)
            else:
                matched += 1
    for invite_id, (device_id, _, status) in records.items():
        if status == "approved" and (invite_id, device_id) not in issued:
            evidence.fail(
                f"enrolment under invite {id_label(invite_id)}",
                "approved, yet no logged credential names this invite and device",
            )
    evidence.fact("member devices with a matching invite record", matched)
    evidence.fact("enrolment requests stored", len(records))
