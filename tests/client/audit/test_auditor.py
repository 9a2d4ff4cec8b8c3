"""The audit of a relay the end-to-end scenario used passes; each deliberately broken copy
fails, with the check that must catch it named (the issue's "done when" list)."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from client.audit.documented import IDENTITY_KEY_FILE
from client.audit.heads import HeadsExport, read_heads, write_heads
from client.audit.results import Status
from client.demo import FILE
from crypto.signatures import ED25519
from protocol.case_envelope import CaseEnvelope, EnvelopeKind, parse_envelope
from protocol.directory import (
    DeviceCredential,
    LogEntry,
    SignedDeviceCredential,
    platform_fingerprint,
    sign_device_credential,
)
from protocol.mls.framing import (
    ApplicationData,
    FramedContent,
    FramedContentAuthData,
    MLSMessage,
    PrivateMessage,
    PublicMessage,
    Sender,
)
from protocol.transparency import TreeHead, sign_tree_head
from tests.client.audit.conftest import DemoRelay
from tests.helpers import DeterministicRandom

NOTE = "Děti v péči babičky, návštěva domluvena na pondělí."


def _db(data_dir: Path) -> contextlib.closing[sqlite3.Connection]:
    return contextlib.closing(sqlite3.connect(data_dir / "relay.sqlite3", isolation_level=None))


def _fingerprint(directory: Path) -> dict[str, tuple[int, int, str]]:
    return {
        p.name: (p.stat().st_size, p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(directory.iterdir())
    }


def test_the_relay_of_the_end_to_end_scenario_passes(demo_relay: DemoRelay) -> None:
    before = _fingerprint(demo_relay.relay_dir)
    report = demo_relay.audit()
    assert _fingerprint(demo_relay.relay_dir) == before, "the audit changed the data directory"
    assert report.passed, [(c.check, c.findings) for c in report.checks]
    assert [c.status for c in report.checks] == [
        Status.PASS, Status.PASS, Status.SKIPPED, Status.PASS,
    ]  # fmt: skip
    facts = dict(report.check("transparency").facts)
    assert facts["entry signatures verified"] == facts["log entries"] == "6"
    assert facts["member devices with a matching invite record"] == "4"
    assert int(facts["consistency proofs verified"]) >= 1
    payloads = dict(report.check("payloads").facts)
    assert payloads["external proposals signed by a logged coordinator device"] == "1"
    assert report.timeline[-1][1] == 6
    assert (
        report.relay_key
        == ED25519.load_private_key(
            (demo_relay.relay_dir / IDENTITY_KEY_FILE).read_bytes()
        ).public_key
    )


def test_the_root_key_may_come_from_the_clients_pinned_root(demo_relay: DemoRelay) -> None:
    report = demo_relay.audit(root_key=None)
    assert report.passed
    assert report.root_key == demo_relay.root_key


def test_without_any_root_key_the_log_check_fails(demo_relay: DemoRelay) -> None:
    report = demo_relay.audit(root_key=None, heads=())
    assert report.failed_checks == ["Transparency log"]
    assert report.check("transparency").findings[0].subject == "platform root"


# --- broken copies ------------------------------------------------------------------------


def _plaintext_column(data_dir: Path, _: DemoRelay) -> None:
    with _db(data_dir) as db:
        db.execute("ALTER TABLE messages ADD COLUMN note_text TEXT")
        db.execute("UPDATE messages SET note_text = ?", (NOTE,))


def _note_in_a_blob(data_dir: Path, _: DemoRelay) -> None:
    with _db(data_dir) as db:
        (size,) = db.execute("SELECT size FROM blobs").fetchone()
        db.execute("UPDATE blob_chunks SET data = ?", ((FILE * 2)[:size],))


def _note_as_a_message(data_dir: Path, _: DemoRelay) -> None:
    with _db(data_dir) as db:
        db.execute("UPDATE messages SET payload = ? WHERE seq = 6", (NOTE.encode(),))


def _note_in_an_envelope(data_dir: Path, _: DemoRelay) -> None:
    """A well-formed PrivateMessage, of a padded size, whose envelope holds the note."""
    with _db(data_dir) as db:
        group_id, seq, payload = db.execute(
            "SELECT group_id, seq, payload FROM messages WHERE seq = 4"
        ).fetchone()
        body = MLSMessage.from_bytes(payload).body
        assert isinstance(body, PrivateMessage)
        envelope = parse_envelope(body.authenticated_data)
        text = NOTE.encode().ljust(len(envelope.ciphertext), b"\0")
        clear = CaseEnvelope(
            kind=EnvelopeKind.CONTENT, epoch=envelope.epoch, item_id=envelope.item_id,
            ciphertext=text,
        )  # fmt: skip
        forged = dataclasses.replace(body, authenticated_data=clear.to_bytes())
        db.execute(
            "UPDATE messages SET payload = ? WHERE group_id = ? AND seq = ?",
            (MLSMessage(body=forged).to_bytes(), group_id, seq),
        )


def _application_as_public_message(data_dir: Path, _: DemoRelay) -> None:
    with _db(data_dir) as db:
        group_id, epoch, last_seq = db.execute(
            "SELECT group_id, epoch, last_seq FROM groups"
        ).fetchone()
        content = FramedContent(
            group_id=group_id, epoch=epoch, sender=Sender.member(0),
            content=ApplicationData(data=b"see you on Monday"),
        )  # fmt: skip
        message = PublicMessage(
            content=content, auth=FramedContentAuthData(signature=bytes(64)),
            membership_tag=bytes(32),
        )  # fmt: skip
        db.execute(
            "INSERT INTO messages (group_id, seq, payload, received_at) VALUES (?, ?, ?, ?)",
            (group_id, last_seq + 1, MLSMessage(body=message).to_bytes(), int(time.time())),
        )
        db.execute("UPDATE groups SET last_seq = last_seq + 1")


def _log_entry_altered(data_dir: Path, _: DemoRelay) -> None:
    with _db(data_dir) as db:
        (leaf,) = db.execute("SELECT leaf FROM log_entries WHERE log_index = 2").fetchone()
        assert b"Petr" in leaf
        db.execute(
            "UPDATE log_entries SET leaf = ? WHERE log_index = 2", (leaf.replace(b"Petr", b"Pete"),)
        )


def _credential_not_in_the_log(data_dir: Path, demo: DemoRelay) -> None:
    rng = DeterministicRandom("ghost")
    key = ED25519.generate(rng)
    credential = DeviceCredential(
        platform_id=platform_fingerprint(demo.root_key), member_id=rng.random_bytes(16),
        device_id=rng.random_bytes(16), display_name="Ghost", organisation="Nowhere",
        role="nurse", signature_key=key.public_key, cipher_suite=1, not_before=0,
        not_after=2**40, invite_id=rng.random_bytes(16),
    )  # fmt: skip
    signed = sign_device_credential(demo.root, credential)
    with _db(data_dir) as db:
        db.execute(
            "INSERT INTO devices (device_id, member_id, cipher_suite, signature_key, not_before,"
            " not_after, credential, log_index) VALUES (?, ?, 1, ?, 0, ?, ?, 3)",
            (
                credential.device_id, credential.member_id, key.public_key, 2**40,
                signed.to_bytes(),
            ),
        )  # fmt: skip


def _enrolment_record_removed(data_dir: Path, _: DemoRelay) -> None:
    with _db(data_dir) as db:
        db.execute(
            "DELETE FROM enrolments WHERE invite_id ="
            " (SELECT invite_id FROM enrolments WHERE status = 'approved' LIMIT 1)"
        )


def _undocumented_file(data_dir: Path, _: DemoRelay) -> None:
    (data_dir / "notes-backup.txt").write_text(NOTE, encoding="utf-8")


def _trigger_copies_payloads(data_dir: Path, _: DemoRelay) -> None:
    with _db(data_dir) as db:
        db.execute(
            "CREATE TRIGGER keep AFTER INSERT ON messages BEGIN"
            " UPDATE groups SET created_at = created_at; END"
        )


def _text_in_an_integer_column(data_dir: Path, _: DemoRelay) -> None:
    with _db(data_dir) as db:
        db.execute("UPDATE messages SET received_at = ? WHERE seq = 3", (NOTE,))


def _key_package_of_another_device(data_dir: Path, _: DemoRelay) -> None:
    with _db(data_dir) as db:
        (other,) = db.execute("SELECT device_id FROM devices WHERE log_index = 0").fetchone()
        db.execute(
            "UPDATE key_packages SET device_id = ? WHERE package_id ="
            " (SELECT min(package_id) FROM key_packages)",
            (other,),
        )


Breakage = Callable[[Path, DemoRelay], None]

BROKEN: list[tuple[str, Breakage, str, str]] = [
    ("plaintext column", _plaintext_column, "Inventory", "messages.note_text"),
    ("note in a blob", _note_in_a_blob, "Ciphertext only", "not ciphertext"),
    ("note as a message", _note_as_a_message, "Ciphertext only", "not an MLSMessage"),
    ("note in an envelope", _note_in_an_envelope, "Ciphertext only", "readable UTF-8 text"),
    (
        "application message as PublicMessage",
        _application_as_public_message,
        "Ciphertext only",
        "application data sent as a PublicMessage",
    ),
    ("log entry altered", _log_entry_altered, "Transparency log", "signature does not hold"),
    (
        "credential not in the log",
        _credential_not_in_the_log,
        "Transparency log",
        "serves a credential that is not in the log",
    ),
    (
        "device without an invite record",
        _enrolment_record_removed,
        "Transparency log",
        "no enrolment request",
    ),
    ("undocumented file", _undocumented_file, "Inventory", "undocumented file"),
    ("trigger", _trigger_copies_payloads, "Inventory", "trigger"),
    ("text in an integer column", _text_in_an_integer_column, "Ciphertext only", "stored as text"),
    (
        "KeyPackage under another device",
        _key_package_of_another_device,
        "Transparency log",
        "carries the credential of",
    ),
]


@pytest.mark.parametrize(
    ("breakage", "check", "evidence"),
    [pytest.param(b, c, e, id=name) for name, b, c, e in BROKEN],
)
def test_a_broken_copy_fails_the_right_check(
    demo_relay: DemoRelay, tmp_path: Path, breakage: Breakage, check: str, evidence: str
) -> None:
    broken = demo_relay.copy(tmp_path / "relay")
    breakage(broken, demo_relay)
    report = demo_relay.audit(broken)
    assert not report.passed
    assert report.failed_checks == [check]
    failed = next(c for c in report.checks if c.status == Status.FAIL)
    found = [f"{f.subject}: {f.detail}" for f in failed.findings if f.failed]
    assert any(evidence in line for line in found), found


def test_a_forked_tree_head_fails_the_log_check(demo_relay: DemoRelay, tmp_path: Path) -> None:
    relay_key = ED25519.load_private_key((demo_relay.relay_dir / IDENTITY_KEY_FILE).read_bytes())
    honest = read_heads(demo_relay.heads[1])
    size = honest.heads[-1].tree_head.tree_size
    other_root = hashlib.sha256(b"another log").digest()
    forked = sign_tree_head(relay_key, TreeHead(tree_size=size, root_hash=other_root, timestamp=1))
    export = HeadsExport(
        device_id=honest.device_id, platform_root_public_key=honest.platform_root_public_key,
        relay_url=honest.relay_url, exported_at=1, heads=(forked,),
    )  # fmt: skip
    write_heads(export, tmp_path / "forked.json")
    report = demo_relay.audit(heads=(*demo_relay.heads, tmp_path / "forked.json"))
    assert report.failed_checks == ["Transparency log"]
    details = [f.detail for f in report.check("transparency").findings if f.failed]
    assert any(d.startswith("fork: the relay signed two different logs") for d in details)
    assert any("differs from the stored log" in d for d in details)


def test_a_truncated_log_fails_against_the_heads_clients_saw(
    demo_relay: DemoRelay, tmp_path: Path
) -> None:
    broken = demo_relay.copy(tmp_path / "relay")
    with _db(broken) as db:
        db.execute("DELETE FROM log_entries WHERE log_index = 5")
        db.execute("UPDATE devices SET revoked_at = NULL, revocation_index = NULL")
    report = demo_relay.audit(broken)
    details = [f.detail for f in report.check("transparency").findings if f.failed]
    assert any("entries were removed" in d for d in details)


def test_a_head_not_signed_by_the_relay_fails(demo_relay: DemoRelay, tmp_path: Path) -> None:
    impostor = ED25519.generate(DeterministicRandom("impostor"))
    honest = read_heads(demo_relay.heads[0])
    head = honest.heads[-1].tree_head
    export = dataclasses.replace(honest, heads=(sign_tree_head(impostor, head),))
    write_heads(export, tmp_path / "impostor.json")
    report = demo_relay.audit(heads=(tmp_path / "impostor.json",))
    details = [f.detail for f in report.check("transparency").findings if f.failed]
    assert details == ["not signed by this relay's identity key"]


def test_a_credential_signed_by_another_root_fails(demo_relay: DemoRelay, tmp_path: Path) -> None:
    broken = demo_relay.copy(tmp_path / "relay")
    other_root = ED25519.generate(DeterministicRandom("other root"))
    with _db(broken) as db:
        (leaf,) = db.execute("SELECT leaf FROM log_entries WHERE log_index = 1").fetchone()
        statement = LogEntry.from_bytes(leaf).statement
        assert isinstance(statement, SignedDeviceCredential)
        resigned = SignedDeviceCredential(
            credential=statement.credential, signature=other_root.sign(b"x")
        )
        db.execute(
            "UPDATE log_entries SET leaf = ? WHERE log_index = 1",
            (LogEntry(statement=resigned).to_bytes(),),
        )
    report = demo_relay.audit(broken)
    assert "log entry 1" in [f.subject for f in report.check("transparency").findings]


def test_a_missing_table_fails_without_stopping_the_audit(
    demo_relay: DemoRelay, tmp_path: Path
) -> None:
    broken = demo_relay.copy(tmp_path / "relay")
    with _db(broken) as db:
        db.execute("DROP TABLE roster")
        db.execute("ALTER TABLE blob_chunks DROP COLUMN data")
    report = demo_relay.audit(broken)
    assert report.failed_checks == ["Inventory", "Ciphertext only", "Transparency log"]
    failures = [f.subject for c in report.checks for f in c.findings if f.failed]
    assert "column roster.group_id" in failures
    assert "table blobs" in failures
    assert "database" in failures
