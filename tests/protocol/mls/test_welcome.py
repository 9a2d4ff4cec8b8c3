"""Welcome, GroupSecrets and GroupInfo (RFC 9420 §12.4.3)."""

from __future__ import annotations

import dataclasses

import pytest

from protocol.errors import DecodeError
from protocol.mls.welcome import (
    EncryptedGroupSecrets,
    GroupInfo,
    GroupSecrets,
    PathSecret,
    Welcome,
)
from tests.protocol.mls.samples import group_info, group_secrets, welcome


def test_welcome_round_trip() -> None:
    message = welcome()
    encoded = message.to_bytes()
    assert encoded[:2] == b"\x00\x01"
    assert Welcome.from_bytes(encoded) == message
    entry = message.secrets[0]
    assert EncryptedGroupSecrets.from_bytes(entry.to_bytes()) == entry


def test_group_secrets_round_trip_with_and_without_path_secret() -> None:
    secrets = group_secrets()
    assert GroupSecrets.from_bytes(secrets.to_bytes()) == secrets
    bare = GroupSecrets(joiner_secret=b"j" * 32)
    assert bare.to_bytes() == b"\x20" + b"j" * 32 + b"\x00" + b"\x00"
    assert GroupSecrets.from_bytes(bare.to_bytes()) == bare


def test_path_secret_presence_flag_must_be_0_or_1() -> None:
    encoded = bytearray(GroupSecrets(joiner_secret=b"j").to_bytes())
    encoded[2] = 2
    with pytest.raises(DecodeError, match="presence flag"):
        GroupSecrets.from_bytes(bytes(encoded))


def test_secrets_stay_out_of_repr() -> None:
    shown = repr(group_secrets()) + repr(PathSecret(path_secret=b"p" * 32))
    assert "jjjj" not in shown
    assert "pppp" not in shown


def test_group_info_round_trip_and_tbs() -> None:
    info = group_info()
    encoded = info.to_bytes()
    assert GroupInfo.from_bytes(encoded) == info
    assert info.tbs() + b"\x0c" + info.signature == encoded
    assert info.tbs().endswith(b"\x20" + b"T" * 32 + (3).to_bytes(4, "big"))
    assert dataclasses.replace(info, signature=b"").tbs() == info.tbs()


def test_group_info_with_a_bad_group_context_is_refused() -> None:
    encoded = bytearray(group_info().to_bytes())
    encoded[1] = 2  # group_context.version
    with pytest.raises(DecodeError, match="protocol version"):
        GroupInfo.from_bytes(bytes(encoded))


def test_truncated_welcome_is_refused() -> None:
    encoded = welcome().to_bytes()
    for cut in range(len(encoded)):
        with pytest.raises(DecodeError):
            Welcome.from_bytes(encoded[:cut])
