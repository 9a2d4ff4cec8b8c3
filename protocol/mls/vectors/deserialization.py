"""deserialization.json: the variable-length integer header decodes to ``length`` (§2.1.2)."""

from __future__ import annotations

from crypto.tls import encode_varint
from protocol.codec import Reader
from protocol.mls.vectors import VectorCase
from protocol.mls.vectors.checks import expect_equal, unhex


def run_case(case: VectorCase) -> None:
    header = unhex(case["vlbytes_header"])
    reader = Reader(header)
    expect_equal("length", reader.varint(), case["length"])
    reader.finish()
    expect_equal("re-encoding", encode_varint(case["length"]), header)
