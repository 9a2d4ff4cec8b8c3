"""The one error hierarchy of casecircle, rooted here because crypto/ is the lowest layer.

Every check that fails raises a subclass of :class:`CasecircleError` whose ``code`` is a
stable, machine-readable string (shown to users, logged as security events, returned in
relay error bodies). Messages never contain secret material.
"""

from __future__ import annotations

from typing import ClassVar


class CasecircleError(Exception):
    """Root of every error casecircle raises on purpose."""

    code: ClassVar[str] = "error"


class CryptoError(CasecircleError):
    """A cryptographic check or operation failed."""

    code = "crypto"


class UnsupportedCipherSuiteError(CryptoError):
    """The cipher suite (or one of its algorithms) is not implemented; never downgraded."""

    code = "unsupported_cipher_suite"


class InvalidKeyError(CryptoError):
    """A public or private key is malformed, off the curve, or of low order."""

    code = "invalid_key"


class InvalidSignatureError(CryptoError):
    """A signature did not verify (or was not in canonical form)."""

    code = "invalid_signature"


class InvalidTagError(CryptoError):
    """An AEAD tag or MAC did not verify; no detail is given on purpose."""

    code = "invalid_tag"


class InvalidLengthError(CryptoError):
    """An input had a length the algorithm cannot accept (key, nonce, output size)."""

    code = "invalid_length"
