"""RFC 9420 §8.1: the group context, the shared summary of a group's state in one epoch.

::

    GroupContext = version (= mls10) · cipher_suite · group_id · epoch · tree_hash
                   · confirmed_transcript_hash · extensions

Its encoding enters the key schedule, the FramedContentTBS of members' messages and the
HPKE context of UpdatePath secrets, so it is written exactly as received. The RFC fixes
``version`` to mls10; any other value is a :class:`~protocol.errors.DecodeError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from protocol.codec import Reader, Struct, Writer
from protocol.mls.constants import ProtocolVersion, read_mls10
from protocol.mls.extensions import Extension, read_extensions, write_extensions


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupContext(Struct):
    """The group's parameters and commitments for one epoch."""

    cipher_suite: int
    group_id: bytes
    epoch: int
    tree_hash: bytes
    confirmed_transcript_hash: bytes
    extensions: tuple[Extension, ...] = ()

    @property
    def version(self) -> ProtocolVersion:
        return ProtocolVersion.MLS10

    def encode(self, w: Writer) -> None:
        w.uint16(self.version)
        w.uint16(self.cipher_suite)
        w.opaque(self.group_id)
        w.uint64(self.epoch)
        w.opaque(self.tree_hash)
        w.opaque(self.confirmed_transcript_hash)
        write_extensions(w, self.extensions)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        read_mls10(r)
        return cls(
            cipher_suite=r.uint16(),
            group_id=r.opaque(),
            epoch=r.uint64(),
            tree_hash=r.opaque(),
            confirmed_transcript_hash=r.opaque(),
            extensions=read_extensions(r),
        )
