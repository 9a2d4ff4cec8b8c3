"""Credentials (RFC 9420 §5.3): basic and X.509 round trips; unknown types refused."""

from __future__ import annotations

import pytest

from protocol.errors import DecodeError
from protocol.mls.credentials import BasicCredential, Credential, X509Credential
from tests.protocol.mls.samples import GREASE, x509_credential


def test_basic_credential_layout_and_round_trip() -> None:
    credential = BasicCredential(identity=b"alice")
    encoded = credential.to_bytes()
    assert encoded.hex() == "0001" + "05" + b"alice".hex()
    assert Credential.from_bytes(encoded) == credential
    assert BasicCredential.from_bytes(encoded) == credential


def test_x509_credential_round_trip() -> None:
    credential = x509_credential()
    encoded = credential.to_bytes()
    assert encoded[:2] == b"\x00\x02"
    decoded = Credential.from_bytes(encoded)
    assert isinstance(decoded, X509Credential)
    assert decoded.certificates == credential.certificates
    assert decoded.to_bytes() == encoded


def test_empty_certificate_chain_round_trips() -> None:
    credential = X509Credential(certificates=())
    assert Credential.from_bytes(credential.to_bytes()) == credential


@pytest.mark.parametrize("credential_type", [0, 3, GREASE, 0xF000])
def test_unknown_credential_type_cannot_be_parsed(credential_type: int) -> None:
    data = credential_type.to_bytes(2, "big") + b"\x05alice"
    with pytest.raises(DecodeError, match="unsupported credential type"):
        Credential.from_bytes(data)


def test_decoding_as_a_specific_type_refuses_the_other() -> None:
    with pytest.raises(DecodeError, match="expected a BasicCredential"):
        BasicCredential.from_bytes(x509_credential().to_bytes())


def test_truncated_and_trailing_bytes_are_refused() -> None:
    encoded = BasicCredential(identity=b"alice").to_bytes()
    with pytest.raises(DecodeError, match="truncated"):
        Credential.from_bytes(encoded[:-1])
    with pytest.raises(DecodeError, match="trailing"):
        Credential.from_bytes(encoded + b"\x00")
