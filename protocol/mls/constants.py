"""RFC 9420 §6, §7, §8.4, §17: the code points of MLS, and how strictly each is decoded.

Two kinds of enumeration appear on the wire, and they must be decoded differently:

* **Closed** enumerations select the shape of what follows (``WireFormat``,
  ``ContentType``, ``SenderType``, ``LeafNodeSource``, ``PSKType``, ``NodeType``,
  ``ProposalOrRefType``) or carry no registry at all (``ResumptionPSKUsage``). A value we do
  not know cannot be parsed past, so :func:`closed` turns it into
  :class:`~protocol.errors.DecodeError`. The ``reserved(0)`` values are left out of these
  classes on purpose: no message may carry them.
* **Open** registries (protocol versions, cipher suites, extension, proposal and credential
  types) appear in lists that receivers must keep and ignore when unknown — capabilities,
  required capabilities, extension lists — and senders put GREASE values there (§13.5).
  :func:`open_value` returns the enum member when the value is known and the plain ``int``
  otherwise, so every value round-trips unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import TypeVar, cast

from protocol.codec import Reader
from protocol.errors import DecodeError

E = TypeVar("E", bound=IntEnum)


class ProtocolVersion(IntEnum):
    """§6 ``ProtocolVersion``; fields written ``= mls10`` in the RFC accept only MLS10."""

    MLS10 = 1


class WireFormat(IntEnum):
    """§17.2 MLS Wire Formats."""

    MLS_PUBLIC_MESSAGE = 1
    MLS_PRIVATE_MESSAGE = 2
    MLS_WELCOME = 3
    MLS_GROUP_INFO = 4
    MLS_KEY_PACKAGE = 5


class ContentType(IntEnum):
    """§6 ``ContentType``: what a FramedContent carries."""

    APPLICATION = 1
    PROPOSAL = 2
    COMMIT = 3


class SenderType(IntEnum):
    """§6 ``SenderType``."""

    MEMBER = 1
    EXTERNAL = 2
    NEW_MEMBER_PROPOSAL = 3
    NEW_MEMBER_COMMIT = 4


class ProposalType(IntEnum):
    """§17.4 MLS Proposal Types (open registry)."""

    ADD = 1
    UPDATE = 2
    REMOVE = 3
    PSK = 4
    REINIT = 5
    EXTERNAL_INIT = 6
    GROUP_CONTEXT_EXTENSIONS = 7


class ExtensionType(IntEnum):
    """§17.3 MLS Extension Types (open registry)."""

    APPLICATION_ID = 1
    RATCHET_TREE = 2
    REQUIRED_CAPABILITIES = 3
    EXTERNAL_PUB = 4
    EXTERNAL_SENDERS = 5


class CredentialType(IntEnum):
    """§17.5 MLS Credential Types (open registry)."""

    BASIC = 1
    X509 = 2


class LeafNodeSource(IntEnum):
    """§7.2 ``LeafNodeSource``: how a leaf node came into the tree."""

    KEY_PACKAGE = 1
    UPDATE = 2
    COMMIT = 3


class PSKType(IntEnum):
    """§8.4 ``PSKType``."""

    EXTERNAL = 1
    RESUMPTION = 2


class ResumptionPSKUsage(IntEnum):
    """§8.4 ``ResumptionPSKUsage``."""

    APPLICATION = 1
    REINIT = 2
    BRANCH = 3


class NodeType(IntEnum):
    """§7.8 ``NodeType``."""

    LEAF = 1
    PARENT = 2


class ProposalOrRefType(IntEnum):
    """§12.4 ``ProposalOrRefType``."""

    PROPOSAL = 1
    REFERENCE = 2


# §13.5: values reserved in every open registry for GREASE.
GREASE_VALUES: frozenset[int] = frozenset(0x0A0A + 0x1010 * i for i in range(15))

# §7.2: proposal and extension types every client supports; never listed in capabilities.
DEFAULT_PROPOSAL_TYPES: frozenset[ProposalType] = frozenset(ProposalType)
DEFAULT_EXTENSION_TYPES: frozenset[ExtensionType] = frozenset(ExtensionType)


def closed(enum: type[E], value: int) -> E:
    """Interpret ``value`` in a closed enumeration, rejecting any value it does not name."""
    member = _members(enum).get(value)
    if member is None:
        raise DecodeError(f"unknown {enum.__name__} {value}")
    return member


def open_value(enum: type[E], value: int) -> int:
    """Interpret ``value`` in an open registry: the member if known, else the bare ``int``."""
    return _members(enum).get(value, value)


def open_values(enum: type[E], values: Iterable[int]) -> tuple[int, ...]:
    """:func:`open_value` of each of ``values``."""
    members = _members(enum)
    return tuple([members.get(value, value) for value in values])


_MEMBERS: dict[type[IntEnum], dict[int, IntEnum]] = {}


def _members(enum: type[E]) -> dict[int, E]:
    """The enumeration's members by value: what ``enum(value)`` finds, as one dict look-up
    (decoding a tree looks up a few code points for each of its nodes)."""
    table = _MEMBERS.get(enum)
    if table is None:
        table = _MEMBERS[enum] = {member.value: member for member in enum}
    return cast(dict[int, E], table)


def read_mls10(r: Reader) -> ProtocolVersion:
    """Read a field the RFC writes ``ProtocolVersion version = mls10``: nothing else parses."""
    version = r.uint16()
    if version != ProtocolVersion.MLS10:
        raise DecodeError(f"unsupported protocol version {version}")
    return ProtocolVersion.MLS10
