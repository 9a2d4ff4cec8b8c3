"""RFC 9420 §7.2: leaf nodes — a member's keys, credential and capabilities, self-signed.

::

    LeafNode = encryption_key · signature_key · credential · capabilities
               · leaf_node_source · { lifetime | ∅ | parent_hash }   (by source)
               · extensions · signature

The source decides which field is present: a key package leaf carries a ``lifetime``, a
leaf from a commit carries a ``parent_hash``, an update leaf neither. :class:`LeafNode`
refuses to be built with the wrong one, so the variant is checked once, here.

The signature covers :meth:`LeafNode.tbs`: the same fields without the signature, and for
``update`` and ``commit`` leaves also the group id and leaf index, which bind the leaf to
one place in one group (a key package leaf is made before its group is known).

HPKE and signature public keys (§5.1.1, ``opaque HPKEPublicKey<V>`` and
``opaque SignaturePublicKey<V>``) are kept as the raw bytes; turning them into key objects
is the cipher suite's job.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Self

from crypto.tls import opaque
from protocol.codec import Reader, Struct, Writer
from protocol.mls.constants import (
    CredentialType,
    ExtensionType,
    LeafNodeSource,
    ProposalType,
    ProtocolVersion,
    closed,
)
from protocol.mls.credentials import Credential
from protocol.mls.extensions import (
    Extension,
    read_code_points,
    read_extensions,
    write_code_points,
    write_extensions,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Capabilities(Struct):
    """What a client supports; unknown and GREASE values are kept as plain ints (§13.4)."""

    versions: tuple[int, ...] = (ProtocolVersion.MLS10,)
    cipher_suites: tuple[int, ...] = ()
    extensions: tuple[int, ...] = ()
    proposals: tuple[int, ...] = ()
    credentials: tuple[int, ...] = ()

    def encode(self, w: Writer) -> None:
        w.fixed(_encoded_capabilities(self))

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(
            versions=read_code_points(r, ProtocolVersion),
            cipher_suites=read_code_points(r),
            extensions=read_code_points(r, ExtensionType),
            proposals=read_code_points(r, ProposalType),
            credentials=read_code_points(r, CredentialType),
        )


@functools.lru_cache(maxsize=64)
def _encoded_capabilities(capabilities: Capabilities) -> bytes:
    """The encoding of ``capabilities``, kept by value: the members of a group mostly run
    the same few clients, so the leaves of a tree share a handful of these, and writing
    the five lists is most of the cost of encoding a leaf."""
    w = Writer()
    write_code_points(w, capabilities.versions)
    write_code_points(w, capabilities.cipher_suites)
    write_code_points(w, capabilities.extensions)
    write_code_points(w, capabilities.proposals)
    write_code_points(w, capabilities.credentials)
    return w.getvalue()


@dataclass(frozen=True, slots=True, kw_only=True)
class Lifetime(Struct):
    """Validity window of a key package leaf, in seconds since the Unix epoch."""

    not_before: int
    not_after: int

    def encode(self, w: Writer) -> None:
        w.uint64(self.not_before)
        w.uint64(self.not_after)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(not_before=r.uint64(), not_after=r.uint64())


@dataclass(frozen=True, slots=True, kw_only=True)
class LeafNode(Struct):
    """A leaf of the ratchet tree (also the leaf inside a KeyPackage)."""

    encryption_key: bytes
    signature_key: bytes
    credential: Credential
    capabilities: Capabilities
    leaf_node_source: LeafNodeSource
    lifetime: Lifetime | None = None
    parent_hash: bytes | None = None
    extensions: tuple[Extension, ...] = ()
    signature: bytes = b""
    _content: bytes | None = field(default=None, init=False, repr=False, compare=False)
    """The encoding of every field but ``signature``, kept once written: a tree's leaves
    are encoded for its tree hash, their signatures, and every Welcome, and the fields
    never change (``dataclasses.replace`` makes a new leaf, without it)."""

    def __post_init__(self) -> None:
        source = LeafNodeSource(self.leaf_node_source)
        if (self.lifetime is not None) != (source == LeafNodeSource.KEY_PACKAGE):
            raise ValueError(f"lifetime is for key_package leaf nodes only, not {source.name}")
        if (self.parent_hash is not None) != (source == LeafNodeSource.COMMIT):
            raise ValueError(f"parent_hash is for commit leaf nodes only, not {source.name}")

    def _encoded_content(self) -> bytes:
        """The fields up to, not including, ``signature``: the common head of the leaf's
        encoding and of its ``LeafNodeTBS``."""
        content = self._content
        if content is None:
            w = Writer()
            w.opaque(self.encryption_key)
            w.opaque(self.signature_key)
            self.credential.encode(w)
            self.capabilities.encode(w)
            w.uint8(self.leaf_node_source)
            if self.lifetime is not None:
                self.lifetime.encode(w)
            if self.parent_hash is not None:
                w.opaque(self.parent_hash)
            write_extensions(w, self.extensions)
            content = w.getvalue()
            object.__setattr__(self, "_content", content)
        return content

    def encode(self, w: Writer) -> None:
        w.fixed(self._encoded_content())
        w.opaque(self.signature)

    def to_bytes(self) -> bytes:
        return self._encoded_content() + opaque(self.signature)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        encryption_key = r.opaque()
        signature_key = r.opaque()
        credential = Credential.decode(r)
        capabilities = Capabilities.decode(r)
        source = closed(LeafNodeSource, r.uint8())
        lifetime = Lifetime.decode(r) if source == LeafNodeSource.KEY_PACKAGE else None
        parent_hash = r.opaque() if source == LeafNodeSource.COMMIT else None
        return cls(
            encryption_key=encryption_key,
            signature_key=signature_key,
            credential=credential,
            capabilities=capabilities,
            leaf_node_source=source,
            lifetime=lifetime,
            parent_hash=parent_hash,
            extensions=read_extensions(r),
            signature=r.opaque(),
        )

    def tbs(self, group_id: bytes | None = None, leaf_index: int | None = None) -> bytes:
        """The ``LeafNodeTBS`` encoding that ``signature`` signs (label "LeafNodeTBS").

        ``group_id`` and ``leaf_index`` are required for ``update`` and ``commit`` leaves
        and refused for ``key_package`` leaves.
        """
        in_group = self.leaf_node_source != LeafNodeSource.KEY_PACKAGE
        if in_group != (group_id is not None) or in_group != (leaf_index is not None):
            needs = "needs" if in_group else "takes no"
            raise ValueError(f"the TBS of this leaf node {needs} group_id and leaf_index")
        w = Writer()
        w.fixed(self._encoded_content())
        if group_id is not None and leaf_index is not None:
            w.opaque(group_id)
            w.uint32(leaf_index)
        return w.getvalue()
