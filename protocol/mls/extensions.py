"""RFC 9420 §7.2, §13.4: extensions, and the typed payloads of the ones §5.3.3, §11.1,
§12.1.8.1 and §12.4.3.2 define.

::

    struct { ExtensionType extension_type; opaque extension_data<V>; } Extension;

An :class:`Extension` keeps its data as opaque bytes, so unknown and GREASE extensions
round-trip untouched (§13.4: receivers ignore them). A known payload is read on demand with
:meth:`ExtensionPayload.from_extension` or :func:`find_extension`, and written with
:meth:`ExtensionPayload.to_extension`. The ``ratchet_tree`` payload lives in
:mod:`protocol.mls.tree_nodes` beside the nodes it carries, because leaf nodes themselves
hold extensions and this module must stay below them.

A list of extensions with two entries of the same type is rejected when decoded (§13.4
forbids it, and two readers picking different entries would disagree on the group).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Self, TypeVar

from protocol.codec import Reader, Struct, Writer
from protocol.errors import DecodeError
from protocol.mls.constants import (
    CredentialType,
    ExtensionType,
    ProposalType,
    open_value,
    open_values,
)
from protocol.mls.credentials import Credential

P = TypeVar("P", bound="ExtensionPayload")


@dataclass(frozen=True, slots=True, kw_only=True)
class Extension(Struct):
    """One extension: a type from the open registry and its still-encoded data."""

    extension_type: int
    extension_data: bytes

    def encode(self, w: Writer) -> None:
        w.uint16(self.extension_type)
        w.opaque(self.extension_data)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        extension_type = open_value(ExtensionType, r.uint16())
        return cls(extension_type=extension_type, extension_data=r.opaque())


def write_extensions(w: Writer, extensions: Iterable[Extension]) -> None:
    """Write ``Extension extensions<V>``."""
    w.vector(extensions, Struct.write)


def read_extensions(r: Reader) -> tuple[Extension, ...]:
    """Read ``Extension extensions<V>``, refusing a type that appears twice."""
    extensions = tuple(r.vector(Extension.decode))
    seen: set[int] = set()
    for extension in extensions:
        if extension.extension_type in seen:
            raise DecodeError(f"extension type {extension.extension_type} appears twice")
        seen.add(extension.extension_type)
    return extensions


class ExtensionPayload(Struct):
    """The decoded ``extension_data`` of one known extension type."""

    __slots__ = ()

    extension_type: ClassVar[int]

    def to_extension(self) -> Extension:
        return Extension(extension_type=self.extension_type, extension_data=self.to_bytes())

    @classmethod
    def from_extension(cls, extension: Extension) -> Self:
        if extension.extension_type != cls.extension_type:
            raise DecodeError(f"extension type {extension.extension_type} is not {cls.__name__}")
        return cls.from_bytes(extension.extension_data)


def find_extension(extensions: Iterable[Extension], payload: type[P]) -> P | None:
    """The decoded payload of the extension of ``payload``'s type, or ``None`` if absent."""
    for extension in extensions:
        if extension.extension_type == payload.extension_type:
            return payload.from_extension(extension)
    return None


def _write_uint16(w: Writer, value: int) -> None:
    w.uint16(value)


def write_code_points(w: Writer, values: Iterable[int]) -> None:
    """Write a ``uint16 x<V>`` list of code points (versions, suites, types)."""
    w.vector(values, _write_uint16)


def read_code_points(r: Reader, registry: type[IntEnum] | None = None) -> tuple[int, ...]:
    """Read a ``uint16 x<V>`` list of an open registry's code points, keeping unknown ones.

    The list is read as one byte string and cut into ``uint16`` values: every leaf of a
    tree carries five such lists, so this is a large part of reading a whole tree."""
    body = r.opaque()
    count, odd = divmod(len(body), 2)
    if odd:
        raise DecodeError(f"truncated: a uint16 list of {len(body)} bytes")
    values: tuple[int, ...] = struct.unpack(f">{count}H", body)
    return values if registry is None else open_values(registry, values)


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationId(ExtensionPayload):
    """§5.3.3 ``opaque application_id<V>``: an application's own, unauthenticated, client id."""

    extension_type: ClassVar[int] = ExtensionType.APPLICATION_ID
    application_id: bytes

    def encode(self, w: Writer) -> None:
        w.opaque(self.application_id)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(application_id=r.opaque())


@dataclass(frozen=True, slots=True, kw_only=True)
class RequiredCapabilities(ExtensionPayload):
    """§11.1: extension, proposal and credential types every member must support."""

    extension_type: ClassVar[int] = ExtensionType.REQUIRED_CAPABILITIES
    extension_types: tuple[int, ...] = ()
    proposal_types: tuple[int, ...] = ()
    credential_types: tuple[int, ...] = ()

    def encode(self, w: Writer) -> None:
        write_code_points(w, self.extension_types)
        write_code_points(w, self.proposal_types)
        write_code_points(w, self.credential_types)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(
            extension_types=read_code_points(r, ExtensionType),
            proposal_types=read_code_points(r, ProposalType),
            credential_types=read_code_points(r, CredentialType),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalPub(ExtensionPayload):
    """§12.4.3.2: the group's external HPKE public key, for external commits."""

    extension_type: ClassVar[int] = ExtensionType.EXTERNAL_PUB
    external_pub: bytes

    def encode(self, w: Writer) -> None:
        w.opaque(self.external_pub)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(external_pub=r.opaque())


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalSender(Struct):
    """§12.1.8.1: one party allowed to send proposals from outside the group."""

    signature_key: bytes
    credential: Credential

    def encode(self, w: Writer) -> None:
        w.opaque(self.signature_key)
        self.credential.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(signature_key=r.opaque(), credential=Credential.decode(r))


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalSenders(ExtensionPayload):
    """§12.1.8.1 ``ExternalSender external_senders<V>``; a sender_index points into it."""

    extension_type: ClassVar[int] = ExtensionType.EXTERNAL_SENDERS
    senders: tuple[ExternalSender, ...]

    def encode(self, w: Writer) -> None:
        w.vector(self.senders, Struct.write)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(senders=tuple(r.vector(ExternalSender.decode)))
