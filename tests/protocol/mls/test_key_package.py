"""Key packages (RFC 9420 §10): round trip, KeyPackageTBS, and refused malformed input."""

from __future__ import annotations

import dataclasses

import pytest

from protocol.errors import DecodeError
from protocol.mls.constants import ProtocolVersion
from protocol.mls.key_package import KeyPackage
from tests.protocol.mls.samples import key_package


def test_round_trip_and_layout() -> None:
    package = key_package()
    encoded = package.to_bytes()
    assert encoded[:4] == b"\x00\x01\x00\x01"  # mls10, suite 1
    assert encoded[4:37] == b"\x20" + b"I" * 32
    decoded = KeyPackage.from_bytes(encoded)
    assert decoded == package
    assert decoded.version is ProtocolVersion.MLS10


def test_tbs_is_everything_but_the_signature() -> None:
    package = key_package()
    assert package.tbs() + b"\x0c" + package.signature == package.to_bytes()
    assert dataclasses.replace(package, signature=b"x").tbs() == package.tbs()


def test_other_version_is_kept_for_the_caller_to_judge() -> None:
    package = dataclasses.replace(key_package(), version=0x0A0A)
    decoded = KeyPackage.from_bytes(package.to_bytes())
    assert decoded.version == 0x0A0A


def test_malformed_key_packages_are_refused() -> None:
    encoded = key_package().to_bytes()
    with pytest.raises(DecodeError, match="trailing"):
        KeyPackage.from_bytes(encoded + b"\x00")
    with pytest.raises(DecodeError, match="truncated"):
        KeyPackage.from_bytes(encoded[:-1])
