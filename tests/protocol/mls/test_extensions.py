"""Extensions (RFC 9420 §7.2, §13.4) and the typed payloads of the default extension types."""

from __future__ import annotations

import pytest

from protocol.codec import Reader, Writer, decode_exact
from protocol.errors import DecodeError
from protocol.mls.constants import CredentialType, ExtensionType, ProposalType
from protocol.mls.extensions import (
    ApplicationId,
    Extension,
    ExtensionPayload,
    ExternalPub,
    ExternalSender,
    ExternalSenders,
    RequiredCapabilities,
    find_extension,
    read_extensions,
    write_extensions,
)
from tests.protocol.mls.samples import GREASE, credential, x509_credential


def encode_list(extensions: tuple[Extension, ...]) -> bytes:
    w = Writer()
    write_extensions(w, extensions)
    return w.getvalue()


def test_unknown_extension_round_trips_as_plain_int() -> None:
    extension = Extension(extension_type=GREASE, extension_data=b"\xff" * 3)
    encoded = extension.to_bytes()
    assert encoded.hex() == "0a0a03ffffff"
    decoded = Extension.from_bytes(encoded)
    assert decoded == extension
    assert type(decoded.extension_type) is int


def test_known_extension_type_decodes_to_the_enum_member() -> None:
    decoded = Extension.from_bytes(ApplicationId(application_id=b"x").to_extension().to_bytes())
    assert decoded.extension_type is ExtensionType.APPLICATION_ID


def test_extension_list_with_a_repeated_type_is_refused() -> None:
    twice = (
        Extension(extension_type=7, extension_data=b""),
        Extension(extension_type=7, extension_data=b"\x00"),
    )
    with pytest.raises(DecodeError, match="appears twice"):
        decode_exact(encode_list(twice), read_extensions)


def test_extension_list_round_trip() -> None:
    extensions = (
        ExternalPub(external_pub=b"k" * 32).to_extension(),
        Extension(extension_type=0xF0F0, extension_data=b"private"),
    )
    assert decode_exact(encode_list(extensions), read_extensions) == extensions


@pytest.mark.parametrize(
    "payload",
    [
        ApplicationId(application_id=b"device-1"),
        ExternalPub(external_pub=b"p" * 65),
        RequiredCapabilities(
            extension_types=(ExtensionType.EXTERNAL_SENDERS, GREASE),
            proposal_types=(0xF001,),
            credential_types=(CredentialType.X509,),
        ),
        RequiredCapabilities(),
        ExternalSenders(
            senders=(
                ExternalSender(signature_key=b"s" * 32, credential=credential(b"hub")),
                ExternalSender(signature_key=b"t" * 32, credential=x509_credential()),
            )
        ),
    ],
)
def test_payload_round_trips_through_an_extension(payload: ExtensionPayload) -> None:
    extension = payload.to_extension()
    assert extension.extension_type == payload.extension_type
    reparsed = Extension.from_bytes(extension.to_bytes())
    assert type(payload).from_extension(reparsed) == payload
    assert find_extension([reparsed], type(payload)) == payload


def test_required_capabilities_keep_unknown_values() -> None:
    payload = RequiredCapabilities(proposal_types=(GREASE, ProposalType.ADD))
    decoded = RequiredCapabilities.from_bytes(payload.to_bytes())
    assert decoded.proposal_types == (GREASE, ProposalType.ADD)
    assert decoded.proposal_types[1] is ProposalType.ADD


def test_payload_from_an_extension_of_another_type_is_refused() -> None:
    extension = ApplicationId(application_id=b"x").to_extension()
    with pytest.raises(DecodeError, match="is not ExternalPub"):
        ExternalPub.from_extension(extension)


def test_payload_with_trailing_data_is_refused() -> None:
    extension = Extension(extension_type=ExtensionType.EXTERNAL_PUB, extension_data=b"\x01a!")
    with pytest.raises(DecodeError, match="trailing"):
        ExternalPub.from_extension(extension)


def test_find_extension_absent_is_none() -> None:
    assert find_extension([ApplicationId(application_id=b"x").to_extension()], ExternalPub) is None


def test_truncated_extension_is_refused() -> None:
    with pytest.raises(DecodeError, match="truncated"):
        Extension.decode(Reader(bytes.fromhex("000105aa")))
