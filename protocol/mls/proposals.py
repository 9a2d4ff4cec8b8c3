"""RFC 9420 §8.4, §12.1, §12.4: proposals, pre-shared key ids, and commits.

::

    Proposal      = proposal_type · { Add | Update | Remove | PreSharedKey | ReInit
                                      | ExternalInit | GroupContextExtensions }
    ProposalOrRef = type · { Proposal | ProposalRef }
    Commit        = ProposalOrRef proposals<V> · optional<UpdatePath> path

Each proposal body is its own struct (the RFC names them, and the interoperability vectors
encode them bare); :class:`Proposal` wraps one and writes the type from the body's class,
looked up in :data:`PROPOSAL_TYPES` when decoding. A proposal of a type not in that table
cannot be parsed — its body has no length prefix — so it is a
:class:`~protocol.errors.DecodeError`; §13.5 forbids GREASE here for that reason.

``PreSharedKeyID`` is either :class:`ExternalPSKID` or :class:`ResumptionPSKID`; both end
with the ``psk_nonce``.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Self

from protocol.codec import Reader, Struct, Writer
from protocol.errors import DecodeError
from protocol.mls.constants import (
    ProposalOrRefType,
    ProposalType,
    ProtocolVersion,
    PSKType,
    ResumptionPSKUsage,
    closed,
    open_value,
)
from protocol.mls.extensions import Extension, read_extensions, write_extensions
from protocol.mls.key_package import KeyPackage
from protocol.mls.leaf_node import LeafNode
from protocol.mls.tree_nodes import UpdatePath

# --- §8.4 pre-shared key ids ------------------------------------------------------------


class PreSharedKeyID(Struct):
    """Base of the two PSK id kinds; ``decode`` returns the one the ``psktype`` names."""

    __slots__ = ()

    psk_type: ClassVar[PSKType]

    def encode(self, w: Writer) -> None:
        w.uint8(self.psk_type)
        self.encode_body(w)

    @abstractmethod
    def encode_body(self, w: Writer) -> None:
        """Write the fields after ``psktype``, ``psk_nonce`` last."""

    @classmethod
    @abstractmethod
    def decode_body(cls, r: Reader) -> Self:
        """Read the fields after ``psktype``."""

    @classmethod
    def decode(cls, r: Reader) -> Self:
        psk_type = closed(PSKType, r.uint8())
        psk_id = _PSK_TYPES[psk_type].decode_body(r)
        if not isinstance(psk_id, cls):
            raise DecodeError(f"expected a {cls.__name__}, got a {psk_type.name} PSK id")
        return psk_id


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalPSKID(PreSharedKeyID):
    """A PSK the application provisioned, named by ``psk_id``."""

    psk_type: ClassVar[PSKType] = PSKType.EXTERNAL
    psk_id: bytes
    psk_nonce: bytes

    def encode_body(self, w: Writer) -> None:
        w.opaque(self.psk_id)
        w.opaque(self.psk_nonce)

    @classmethod
    def decode_body(cls, r: Reader) -> Self:
        return cls(psk_id=r.opaque(), psk_nonce=r.opaque())


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumptionPSKID(PreSharedKeyID):
    """The resumption secret of ``psk_group_id`` at ``psk_epoch`` (§8.6)."""

    psk_type: ClassVar[PSKType] = PSKType.RESUMPTION
    usage: ResumptionPSKUsage
    psk_group_id: bytes
    psk_epoch: int
    psk_nonce: bytes

    def encode_body(self, w: Writer) -> None:
        w.uint8(self.usage)
        w.opaque(self.psk_group_id)
        w.uint64(self.psk_epoch)
        w.opaque(self.psk_nonce)

    @classmethod
    def decode_body(cls, r: Reader) -> Self:
        return cls(
            usage=closed(ResumptionPSKUsage, r.uint8()),
            psk_group_id=r.opaque(),
            psk_epoch=r.uint64(),
            psk_nonce=r.opaque(),
        )


_PSK_TYPES: dict[PSKType, type[PreSharedKeyID]] = {
    PSKType.EXTERNAL: ExternalPSKID,
    PSKType.RESUMPTION: ResumptionPSKID,
}

# --- §12.1 proposal bodies --------------------------------------------------------------


class ProposalBody(Struct):
    """Base of the proposal structs; ``proposal_type`` is the tag :class:`Proposal` writes."""

    __slots__ = ()

    proposal_type: ClassVar[ProposalType]


@dataclass(frozen=True, slots=True, kw_only=True)
class Add(ProposalBody):
    """§12.1.1: add the client of ``key_package``."""

    proposal_type: ClassVar[ProposalType] = ProposalType.ADD
    key_package: KeyPackage

    def encode(self, w: Writer) -> None:
        self.key_package.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(key_package=KeyPackage.decode(r))


@dataclass(frozen=True, slots=True, kw_only=True)
class Update(ProposalBody):
    """§12.1.2: replace the sender's leaf."""

    proposal_type: ClassVar[ProposalType] = ProposalType.UPDATE
    leaf_node: LeafNode

    def encode(self, w: Writer) -> None:
        self.leaf_node.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(leaf_node=LeafNode.decode(r))


@dataclass(frozen=True, slots=True, kw_only=True)
class Remove(ProposalBody):
    """§12.1.3: remove the member at leaf index ``removed``."""

    proposal_type: ClassVar[ProposalType] = ProposalType.REMOVE
    removed: int

    def encode(self, w: Writer) -> None:
        w.uint32(self.removed)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(removed=r.uint32())


@dataclass(frozen=True, slots=True, kw_only=True)
class PreSharedKey(ProposalBody):
    """§12.1.4: inject the PSK ``psk`` into the next epoch's key schedule."""

    proposal_type: ClassVar[ProposalType] = ProposalType.PSK
    psk: PreSharedKeyID

    def encode(self, w: Writer) -> None:
        self.psk.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(psk=PreSharedKeyID.decode(r))


@dataclass(frozen=True, slots=True, kw_only=True)
class ReInit(ProposalBody):
    """§12.1.5: restart the group with new parameters (``version`` may be a future one)."""

    proposal_type: ClassVar[ProposalType] = ProposalType.REINIT
    group_id: bytes
    version: int = ProtocolVersion.MLS10
    cipher_suite: int
    extensions: tuple[Extension, ...] = ()

    def encode(self, w: Writer) -> None:
        w.opaque(self.group_id)
        w.uint16(self.version)
        w.uint16(self.cipher_suite)
        write_extensions(w, self.extensions)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(
            group_id=r.opaque(),
            version=open_value(ProtocolVersion, r.uint16()),
            cipher_suite=r.uint16(),
            extensions=read_extensions(r),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalInit(ProposalBody):
    """§12.1.6: the KEM output from which members derive an external joiner's init secret."""

    proposal_type: ClassVar[ProposalType] = ProposalType.EXTERNAL_INIT
    kem_output: bytes

    def encode(self, w: Writer) -> None:
        w.opaque(self.kem_output)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(kem_output=r.opaque())


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupContextExtensions(ProposalBody):
    """§12.1.7: replace the group context's extensions wholesale."""

    proposal_type: ClassVar[ProposalType] = ProposalType.GROUP_CONTEXT_EXTENSIONS
    extensions: tuple[Extension, ...] = ()

    def encode(self, w: Writer) -> None:
        write_extensions(w, self.extensions)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(extensions=read_extensions(r))


PROPOSAL_TYPES: dict[int, type[ProposalBody]] = {
    body.proposal_type: body
    for body in (Add, Update, Remove, PreSharedKey, ReInit, ExternalInit, GroupContextExtensions)
}

# --- §12.1 Proposal, §12.4 ProposalOrRef and Commit -------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Proposal(Struct):
    """A tagged proposal; the tag is taken from the body's class."""

    body: ProposalBody

    @property
    def proposal_type(self) -> ProposalType:
        return self.body.proposal_type

    def encode(self, w: Writer) -> None:
        w.uint16(self.body.proposal_type)
        self.body.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        proposal_type = r.uint16()
        body = PROPOSAL_TYPES.get(proposal_type)
        if body is None:
            raise DecodeError(f"unsupported proposal type {proposal_type}")
        return cls(body=body.decode(r))


@dataclass(frozen=True, slots=True, kw_only=True)
class ProposalOrRef(Struct):
    """A committed proposal: inline (a :class:`Proposal`) or by ProposalRef (``bytes``)."""

    value: Proposal | bytes

    @property
    def type(self) -> ProposalOrRefType:
        if isinstance(self.value, Proposal):
            return ProposalOrRefType.PROPOSAL
        return ProposalOrRefType.REFERENCE

    def encode(self, w: Writer) -> None:
        w.uint8(self.type)
        if isinstance(self.value, Proposal):
            self.value.encode(w)
        else:
            w.opaque(self.value)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        match closed(ProposalOrRefType, r.uint8()):
            case ProposalOrRefType.PROPOSAL:
                return cls(value=Proposal.decode(r))
            case ProposalOrRefType.REFERENCE:
                return cls(value=r.opaque())


@dataclass(frozen=True, slots=True, kw_only=True)
class Commit(Struct):
    """§12.4: the proposals a commit applies, and the committer's UpdatePath if any."""

    proposals: tuple[ProposalOrRef, ...] = ()
    path: UpdatePath | None = None

    def encode(self, w: Writer) -> None:
        w.vector(self.proposals, Struct.write)
        w.optional(self.path, Struct.write)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(
            proposals=tuple(r.vector(ProposalOrRef.decode)),
            path=r.optional(UpdatePath.decode),
        )
