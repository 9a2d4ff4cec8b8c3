"""Fixtures of the client tests: profiles with tiny Argon2id costs (allowed only through the
test-only floor override), identities, and open local stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from client.keystore_payload import DeviceIdentity
from client.profile import Profile
from client.sealed_fields import StorageKey
from client.store import LocalStore
from crypto.keystore import KeystoreParams
from crypto.signatures import ED25519, SigningKey
from crypto.suites import CipherSuite, cipher_suite
from tests.helpers import DeterministicRandom

if TYPE_CHECKING:
    from tests.client.evil_relay import World

TEST_FLOOR = KeystoreParams(memory_kib=8, iterations=1, parallelism=1)
TINY = KeystoreParams(memory_kib=32, iterations=1, parallelism=1)
PASSPHRASE = "correct horse battery staple"
SUITE: CipherSuite = cipher_suite(1)


def make_identity(seed: str = "identity") -> DeviceIdentity:
    rng = DeterministicRandom(seed)
    root = ED25519.generate(rng)
    return DeviceIdentity(
        device_id=rng.random_bytes(16),
        member_id=rng.random_bytes(16),
        platform_root_public_key=root.public_key,
        relay_url="https://relay.example.org:8443/",
    )


def make_signing_key(seed: str = "device key") -> SigningKey:
    return SUITE.signature.generate(DeterministicRandom(seed))


def tiny_profile(root: Path) -> Profile:
    """A profile object whose files cost almost nothing to open (never for production)."""
    return Profile(root, params=TINY, insecure_floor_for_tests=TEST_FLOOR)


@pytest.fixture
def profile_dir(tmp_path: Path) -> Path:
    return tmp_path / "profile"


@pytest.fixture
def storage_key() -> StorageKey:
    return StorageKey.generate(DeterministicRandom("storage key"))


@pytest_asyncio.fixture
async def store(tmp_path: Path, storage_key: StorageKey) -> AsyncIterator[LocalStore]:
    opened = await LocalStore.open(tmp_path / "local.db", storage_key)
    try:
        yield opened
    finally:
        await opened.close()


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """A relay on 127.0.0.1 with members whose relay answers a test may rewrite."""
    from tests.client.evil_relay import evil_world  # noqa: PLC0415 - it imports this module

    async with evil_world(tmp_path) as opened:
        yield opened
