"""psk_secret.json: ``psk_secret`` from external PSKs with the given ids and nonces (§8.4)."""

from __future__ import annotations

from crypto.suites import cipher_suite
from protocol.mls.proposals import ExternalPSKID
from protocol.mls.psk import PskInput, derive_psk_secret
from protocol.mls.vectors import VectorCase
from protocol.mls.vectors.checks import expect_hex, unhex


def run_case(case: VectorCase) -> None:
    suite = cipher_suite(case["cipher_suite"])
    psks = [
        PskInput(
            ExternalPSKID(psk_id=unhex(entry["psk_id"]), psk_nonce=unhex(entry["psk_nonce"])),
            unhex(entry["psk"]),
        )
        for entry in case["psks"]
    ]
    expect_hex("psk_secret", derive_psk_secret(suite, psks).value, case["psk_secret"])
