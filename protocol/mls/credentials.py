"""RFC 9420 §5.3: credentials, the identities a leaf presents for its signature key.

::

    struct {
        CredentialType credential_type;
        select (Credential.credential_type) {
            case basic: opaque identity<V>;
            case x509:  Certificate certificates<V>;   /* opaque cert_data<V> each */
        };
    } Credential;

The body after ``credential_type`` has no length prefix, so a credential of a type we do not
know cannot be skipped: it is a :class:`~protocol.errors.DecodeError` (the type itself is an
open registry and stays a plain ``int`` in capabilities lists). Each credential type is a
small class registered in :data:`CREDENTIAL_TYPES`; :meth:`Credential.decode` dispatches on
that table. Checking what a credential asserts is the Authentication Service's job (§5.3.1),
not this module's.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Self

from protocol.codec import Reader, Struct, Writer, read_opaque, write_opaque
from protocol.errors import DecodeError
from protocol.mls.constants import CredentialType


class Credential(Struct):
    """Base of every credential type; ``decode`` returns the registered subclass."""

    __slots__ = ()

    credential_type: ClassVar[int]

    def encode(self, w: Writer) -> None:
        w.uint16(self.credential_type)
        self.encode_body(w)

    @abstractmethod
    def encode_body(self, w: Writer) -> None:
        """Write the fields selected by ``credential_type``."""

    @classmethod
    @abstractmethod
    def decode_body(cls, r: Reader) -> Self:
        """Read the fields selected by ``credential_type``."""

    @classmethod
    def decode(cls, r: Reader) -> Self:
        credential_type = r.uint16()
        variant = CREDENTIAL_TYPES.get(credential_type)
        if variant is None:
            raise DecodeError(f"unsupported credential type {credential_type}")
        credential = variant.decode_body(r)
        if not isinstance(credential, cls):
            raise DecodeError(f"expected a {cls.__name__}, got credential type {credential_type}")
        return credential


@dataclass(frozen=True, slots=True, kw_only=True)
class BasicCredential(Credential):
    """A bare identity assertion; its format is the application's."""

    credential_type: ClassVar[int] = CredentialType.BASIC
    identity: bytes

    def encode_body(self, w: Writer) -> None:
        w.opaque(self.identity)

    @classmethod
    def decode_body(cls, r: Reader) -> Self:
        return cls(identity=r.opaque())


@dataclass(frozen=True, slots=True, kw_only=True)
class X509Credential(Credential):
    """A chain of DER certificates, end-entity first (``certificates[0]``)."""

    credential_type: ClassVar[int] = CredentialType.X509
    certificates: tuple[bytes, ...]

    def encode_body(self, w: Writer) -> None:
        w.vector(self.certificates, write_opaque)

    @classmethod
    def decode_body(cls, r: Reader) -> Self:
        return cls(certificates=tuple(r.vector(read_opaque)))


CREDENTIAL_TYPES: dict[int, type[Credential]] = {
    CredentialType.BASIC: BasicCredential,
    CredentialType.X509: X509Credential,
}
