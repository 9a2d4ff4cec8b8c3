"""RFC 9420 §10: key packages, the signed offers a client pre-publishes to be added.

::

    KeyPackage = version · cipher_suite · init_key · leaf_node · extensions · signature
    KeyPackageTBS = the same without the signature (label "KeyPackageTBS")

``version`` is kept as read (an open value): §10 has the receiver compare it with the
enclosing MLSMessage's version, which :mod:`protocol.mls.framing` does. Unknown
``extensions`` round-trip untouched and are ignored by receivers (§13.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from protocol.codec import Reader, Struct, Writer
from protocol.mls.constants import ProtocolVersion, open_value
from protocol.mls.extensions import Extension, read_extensions, write_extensions
from protocol.mls.leaf_node import LeafNode


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyPackage(Struct):
    """A signed bundle: the init key to encrypt a Welcome to, and the leaf to add."""

    version: int = ProtocolVersion.MLS10
    cipher_suite: int
    init_key: bytes
    leaf_node: LeafNode
    extensions: tuple[Extension, ...] = ()
    signature: bytes = b""

    def _encode_content(self, w: Writer) -> None:
        w.uint16(self.version)
        w.uint16(self.cipher_suite)
        w.opaque(self.init_key)
        self.leaf_node.encode(w)
        write_extensions(w, self.extensions)

    def encode(self, w: Writer) -> None:
        self._encode_content(w)
        w.opaque(self.signature)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(
            version=open_value(ProtocolVersion, r.uint16()),
            cipher_suite=r.uint16(),
            init_key=r.opaque(),
            leaf_node=LeafNode.decode(r),
            extensions=read_extensions(r),
            signature=r.opaque(),
        )

    def tbs(self) -> bytes:
        """The ``KeyPackageTBS`` encoding that ``signature`` signs."""
        w = Writer()
        self._encode_content(w)
        return w.getvalue()
