"""One enrolled device at work: its unlocked profile, its relay connection and its replay of
the transparency log — what a member's and the coordinator's clients share.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import aiohttp

from client.directory import Directory
from client.profile import UnlockedProfile
from client.random import SystemRandom
from client.relay_api import RelayApi, RelayUnavailableError
from client.store import LocalStore
from crypto.errors import CasecircleError
from crypto.random import RandomSource
from protocol.directory import DeviceCredential, Revocation
from protocol.errors import ValidationError

Clock = Callable[[], int]


def system_clock() -> int:
    return int(time.time())


class RelayIdentityError(ValidationError):
    """The relay names another platform root than the one this device pinned."""

    code = "relay_identity"


def _check_root(served: bytes | None, pinned: bytes) -> None:
    if served != pinned:
        raise RelayIdentityError("the relay serves another platform root than the pinned one")


class Device:
    """An unlocked device connected to its relay. Close it with :meth:`close`."""

    def __init__(
        self,
        profile: UnlockedProfile,
        store: LocalStore,
        api: RelayApi,
        directory: Directory,
        http: aiohttp.ClientSession,
        *,
        rng: RandomSource,
        clock: Clock,
    ) -> None:
        self.profile = profile
        self.store = store
        self.api = api
        self.directory = directory
        self._http = http
        self.rng = rng
        self.clock = clock
        self.suite = profile.suite
        self.device_id = profile.identity.device_id
        self.member_id = profile.identity.member_id

    @classmethod
    async def connect(
        cls,
        profile: UnlockedProfile,
        *,
        rng: RandomSource | None = None,
        clock: Clock = system_clock,
    ) -> Device:
        """Connect to the relay the profile names; the relay must serve the pinned root."""
        http = aiohttp.ClientSession()
        try:
            identity = profile.identity
            api = RelayApi(identity.relay_url, http)
            root, relay_key = await api.platform()
            _check_root(root, identity.platform_root_public_key)
            api.use_identity(identity.device_id, profile.signing_key)
            store = await profile.store()
            directory = Directory(identity.platform_root_public_key, relay_key)
            device = cls(
                profile,
                store,
                api,
                directory,
                http,
                rng=rng if rng is not None else SystemRandom(),
                clock=clock,
            )
            await device.refresh_directory()
        except BaseException:
            await http.close()
            raise
        return device

    @property
    def credential(self) -> DeviceCredential:
        return self.directory.device(self.device_id, self.clock())

    async def refresh_directory(self) -> list[Revocation]:
        """Replay the log up to the relay's newest head (:meth:`Directory.refresh`); a
        rollback, fork or forged entry is recorded in the security event log, then raised
        (an unreachable relay is not a rejection and is only raised)."""
        try:
            return await self.directory.refresh(self.api, self.store)
        except RelayUnavailableError:
            raise
        except CasecircleError as exc:
            await self.record(exc)
            raise

    async def record(
        self,
        error: CasecircleError,
        *,
        group_id: bytes | None = None,
        device_id: bytes | None = None,
        seq: int | None = None,
    ) -> None:
        """Log a rejection in the security event log (its code only, never its text)."""
        await self.store.record_security_event(
            error.code, group_id=group_id, device_id=device_id, seq=seq
        )

    async def close(self) -> None:
        await self._http.close()
        await self.profile.lock()
