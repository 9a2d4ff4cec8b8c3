"""RFC 9420 §12.4.3: what a joiner receives — Welcome, its secrets, and the GroupInfo.

::

    Welcome               = cipher_suite · EncryptedGroupSecrets secrets<V>
                            · encrypted_group_info
    EncryptedGroupSecrets = new_member (KeyPackageRef) · HPKECiphertext
        └─ decrypts to GroupSecrets = joiner_secret · optional<PathSecret> · psks<V>
    encrypted_group_info  ─ decrypts to GroupInfo = group_context · extensions
                            · confirmation_tag · signer · signature

The signature of a GroupInfo covers :meth:`GroupInfo.tbs` (label "GroupInfoTBS"). Unknown
GroupInfo extensions round-trip untouched; the joiner ignores them (§12.4.3). Secret fields
are left out of ``repr`` so they do not end up in logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

from protocol.codec import Reader, Struct, Writer
from protocol.mls.extensions import Extension, read_extensions, write_extensions
from protocol.mls.group_context import GroupContext
from protocol.mls.proposals import PreSharedKeyID
from protocol.mls.tree_nodes import HPKECiphertext


@dataclass(frozen=True, slots=True, kw_only=True)
class EncryptedGroupSecrets(Struct):
    """GroupSecrets sealed to the init key of the key package ``new_member`` refers to."""

    new_member: bytes
    encrypted_group_secrets: HPKECiphertext

    def encode(self, w: Writer) -> None:
        w.opaque(self.new_member)
        self.encrypted_group_secrets.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(new_member=r.opaque(), encrypted_group_secrets=HPKECiphertext.decode(r))


@dataclass(frozen=True, slots=True, kw_only=True)
class Welcome(Struct):
    """One Welcome, which may serve several new members."""

    cipher_suite: int
    secrets: tuple[EncryptedGroupSecrets, ...]
    encrypted_group_info: bytes

    def encode(self, w: Writer) -> None:
        w.uint16(self.cipher_suite)
        w.vector(self.secrets, Struct.write)
        w.opaque(self.encrypted_group_info)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(
            cipher_suite=r.uint16(),
            secrets=tuple(r.vector(EncryptedGroupSecrets.decode)),
            encrypted_group_info=r.opaque(),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PathSecret(Struct):
    """The path secret of the lowest node shared by the committer's and joiner's paths."""

    path_secret: bytes = field(repr=False)

    def encode(self, w: Writer) -> None:
        w.opaque(self.path_secret)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(path_secret=r.opaque())


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupSecrets(Struct):
    """The secrets a joiner needs: joiner secret, path secret if any, and the PSKs used."""

    joiner_secret: bytes = field(repr=False)
    path_secret: PathSecret | None = field(default=None, repr=False)
    psks: tuple[PreSharedKeyID, ...] = ()

    def encode(self, w: Writer) -> None:
        w.opaque(self.joiner_secret)
        w.optional(self.path_secret, Struct.write)
        w.vector(self.psks, Struct.write)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(
            joiner_secret=r.opaque(),
            path_secret=r.optional(PathSecret.decode),
            psks=tuple(r.vector(PreSharedKeyID.decode)),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupInfo(Struct):
    """The signed state of the group in one epoch, for joiners."""

    group_context: GroupContext
    extensions: tuple[Extension, ...] = ()
    confirmation_tag: bytes
    signer: int
    signature: bytes = b""

    def _encode_content(self, w: Writer) -> None:
        self.group_context.encode(w)
        write_extensions(w, self.extensions)
        w.opaque(self.confirmation_tag)
        w.uint32(self.signer)

    def encode(self, w: Writer) -> None:
        self._encode_content(w)
        w.opaque(self.signature)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(
            group_context=GroupContext.decode(r),
            extensions=read_extensions(r),
            confirmation_tag=r.opaque(),
            signer=r.uint32(),
            signature=r.opaque(),
        )

    def tbs(self) -> bytes:
        """The ``GroupInfoTBS`` encoding that ``signature`` signs."""
        w = Writer()
        self._encode_content(w)
        return w.getvalue()
