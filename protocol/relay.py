"""What a device and the relay must both compute byte for byte: the login challenge.

The relay checks the signature and the device makes it, so the encoding lives here,
shared, instead of being written twice::

    LoginChallenge = opaque("casecircle 1 RelayLogin") || opaque(
        opaque relay_public_key<V>; opaque device_id<V>; opaque nonce<V>;
        uint64 issued_at; uint64 expires_at)

It is bound to the relay's identity key (a challenge from one relay cannot be answered
for another), to the device, to a fresh nonce and to a time window (ATTACKS.md D2), and
labelled so that the signature can be taken for no other statement.
"""

from __future__ import annotations

from crypto.tls import opaque

LOGIN_LABEL = b"casecircle 1 RelayLogin"


def login_message(
    relay_public_key: bytes, device_id: bytes, nonce: bytes, issued_at: int, expires_at: int
) -> bytes:
    """The exact bytes a device signs, with its MLS signature key, to answer a challenge."""
    content = (
        opaque(relay_public_key)
        + opaque(device_id)
        + opaque(nonce)
        + issued_at.to_bytes(8, "big")
        + expires_at.to_bytes(8, "big")
    )
    return opaque(LOGIN_LABEL) + opaque(content)
