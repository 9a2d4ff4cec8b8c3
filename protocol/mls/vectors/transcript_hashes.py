"""transcript-hashes.json: a commit's confirmation tag and the transcript hashes after it.

The commit's AuthenticatedContent is decoded strictly, its confirmation tag must verify
under ``confirmation_key`` over the new confirmed transcript hash, and both hashes after
the commit must match (§8.2).
"""

from __future__ import annotations

from crypto.suites import cipher_suite
from protocol.mls.framing import AuthenticatedContent
from protocol.mls.transcript import TranscriptHashes, verify_confirmation_tag
from protocol.mls.vectors import VectorCase
from protocol.mls.vectors.checks import VectorMismatchError, expect_hex, unhex


def run_case(case: VectorCase) -> None:
    suite = cipher_suite(case["cipher_suite"])
    content = AuthenticatedContent.from_bytes(unhex(case["authenticated_content"]))
    tag = content.auth.confirmation_tag
    if tag is None:
        raise VectorMismatchError("authenticated_content has no confirmation tag")

    before = TranscriptHashes(interim=unhex(case["interim_transcript_hash_before"]))
    after = before.after_commit(
        suite,
        content.confirmed_transcript_hash_input(),
        content.interim_transcript_hash_input(),
    )
    expect_hex(
        "confirmed_transcript_hash_after", after.confirmed, case["confirmed_transcript_hash_after"]
    )
    verify_confirmation_tag(suite, unhex(case["confirmation_key"]), after.confirmed, tag)
    expect_hex(
        "interim_transcript_hash_after", after.interim, case["interim_transcript_hash_after"]
    )
