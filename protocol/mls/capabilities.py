"""RFC 9420 §7.2, §13: what this implementation tells other members it supports.

Capabilities must be honest: another implementation sharing a case relies on them to
pick a cipher suite and to decide which proposals and extensions it may use. We list every
cipher suite :mod:`crypto.suites` implements, protocol version mls10, no non-default
proposal or extension types (the defaults, external_senders included, need no listing),
and the credential types the caller's credentials use.
"""

from __future__ import annotations

from collections.abc import Iterable

from crypto.suites import SUPPORTED_SUITE_IDS
from protocol.mls.constants import CredentialType, ProtocolVersion
from protocol.mls.leaf_node import Capabilities


def supported_capabilities(
    credential_types: Iterable[int] = (CredentialType.BASIC,),
) -> Capabilities:
    """The capabilities our leaves and key packages advertise."""
    return Capabilities(
        versions=(ProtocolVersion.MLS10,),
        cipher_suites=SUPPORTED_SUITE_IDS,
        extensions=(),
        proposals=(),
        credentials=tuple(credential_types),
    )
