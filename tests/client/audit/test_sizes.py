"""The padded sizes the auditor accepts are exactly those the clients produce."""

from __future__ import annotations

import pytest

from client.audit.sizes import (
    AEAD_TAG_SIZE,
    attachment_stream_size,
    is_padded,
    is_padded_ciphertext,
)
from crypto.attachments import AttachmentSealer
from crypto.padding import padded_length
from tests.helpers import DeterministicRandom


@pytest.mark.parametrize("length", [0, 1, 100, 255, 256, 257, 1000, 4097, 70_000, 10**6])
def test_every_padded_length_is_accepted(length: int) -> None:
    assert is_padded(padded_length(length))
    assert is_padded_ciphertext(padded_length(length) + AEAD_TAG_SIZE)


@pytest.mark.parametrize("length", [0, 100, 255, 257, 1001, 4097])
def test_unpadded_lengths_are_refused(length: int) -> None:
    assert not is_padded(length)


@pytest.mark.parametrize("size", [0, 1, 500, 65_527, 65_528, 65_529, 200_000, 3_000_000])
def test_attachment_blob_sizes_match_the_sealer(size: int) -> None:
    sealer = AttachmentSealer(size, DeterministicRandom("size"))
    assert attachment_stream_size(sealer.blob_size) == sealer.padded_size


@pytest.mark.parametrize("size", [0, 32, 100, 304 + 1, 127_041, 65_536 + 32 + 16 + 1])
def test_other_blob_sizes_are_refused(size: int) -> None:
    assert attachment_stream_size(size) is None
