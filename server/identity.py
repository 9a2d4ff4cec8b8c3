"""The relay's identity key: Ed25519, made on first start, kept in the data directory.

It signs transparency-log tree heads and is what login challenges are bound to, so a
challenge answered for one relay cannot be replayed to another. The file holds the 32-byte
private seed and is created with mode 0600; it is the one secret the relay keeps.
"""

from __future__ import annotations

import os
from pathlib import Path

from crypto.signatures import ED25519, SigningKey


class OsRandom:
    """A :class:`crypto.random.RandomSource` backed by the operating system."""

    def random_bytes(self, n: int) -> bytes:
        return os.urandom(n)


def load_or_create_identity(path: Path) -> SigningKey:
    """The relay identity stored at ``path``; a new one is generated if there is none."""
    try:
        return ED25519.load_private_key(path.read_bytes())
    except FileNotFoundError:
        pass
    key = ED25519.generate(OsRandom())
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, key.to_bytes())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
    return key
