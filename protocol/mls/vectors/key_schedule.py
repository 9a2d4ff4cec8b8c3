"""key-schedule.json: every epoch's GroupContext, secrets, exporter output and external key.

Epoch ``i`` starts from the previous epoch's ``init_secret`` (``initial_init_secret`` for
the first), and its GroupContext is built from the case's fields with empty extensions
(§8, §8.1, §8.5).
"""

from __future__ import annotations

from crypto.suites import cipher_suite
from protocol.mls.group_context import GroupContext
from protocol.mls.key_schedule import CommitSecret, InitSecret, PskSecret, start_epoch
from protocol.mls.vectors import VectorCase
from protocol.mls.vectors.checks import expect_hex, unhex

_EPOCH_SECRETS = (
    "sender_data_secret",
    "encryption_secret",
    "exporter_secret",
    "external_secret",
    "confirmation_key",
    "membership_key",
    "resumption_psk",
    "epoch_authenticator",
)


def run_case(case: VectorCase) -> None:
    suite = cipher_suite(case["cipher_suite"])
    group_id = unhex(case["group_id"])
    init_secret = InitSecret(unhex(case["initial_init_secret"]))
    for epoch, entry in enumerate(case["epochs"]):
        where = f"epoch {epoch}"
        context = GroupContext(
            cipher_suite=suite.suite_id,
            group_id=group_id,
            epoch=epoch,
            tree_hash=unhex(entry["tree_hash"]),
            confirmed_transcript_hash=unhex(entry["confirmed_transcript_hash"]),
        ).to_bytes()
        expect_hex(f"{where} group_context", context, entry["group_context"])

        start = start_epoch(
            suite,
            init_secret,
            CommitSecret(unhex(entry["commit_secret"])),
            PskSecret(unhex(entry["psk_secret"])),
            context,
        )
        expect_hex(f"{where} joiner_secret", start.joiner_secret.value, entry["joiner_secret"])
        expect_hex(f"{where} welcome_secret", start.welcome_secret.value, entry["welcome_secret"])
        secrets = start.secrets
        for name in _EPOCH_SECRETS:
            expect_hex(f"{where} {name}", getattr(secrets, name), entry[name])
        expect_hex(f"{where} init_secret", secrets.init_secret.value, entry["init_secret"])

        exporter = entry["exporter"]
        # The vectors' exporter label is a text label (its characters happen to be hex
        # digits); the context is hex-encoded bytes.
        exported = secrets.export(exporter["label"], unhex(exporter["context"]), exporter["length"])
        expect_hex(f"{where} exporter", exported, exporter["secret"])
        expect_hex(f"{where} external_pub", secrets.external_public_key(), entry["external_pub"])
        init_secret = secrets.init_secret
