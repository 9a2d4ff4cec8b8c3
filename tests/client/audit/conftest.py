"""Fixtures of the auditor's tests: a relay that served the whole demo scenario (enrolment,
a forged request, a case across agencies with notes and a file, a later member, a revoked
device and the coordinator's external Remove proposal), stopped, with the tree heads its
clients saw exported — the "relay used by the end-to-end tests" the auditor must pass."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from client.audit.auditor import AuditOptions, AuditReport, run_audit
from client.audit.heads import export_heads, write_heads
from client.coordinator import open_root
from client.demo import PASSPHRASE, DemoSettings, run_demo
from client.profile import Profile
from crypto.signatures import SigningKey
from tests.client.conftest import TEST_FLOOR, TINY

PROFILES = ("coordinator", "member0", "member1", "member2", "therapist")


@dataclass(frozen=True)
class DemoRelay:
    relay_dir: Path
    profiles: Path
    root: SigningKey
    heads: tuple[Path, ...]

    @property
    def root_key(self) -> bytes:
        return self.root.public_key

    def options(self, data_dir: Path | None = None, **changes: object) -> AuditOptions:
        settings: dict[str, object] = {
            "data_dir": data_dir or self.relay_dir,
            "root_key": self.root_key,
            "heads": self.heads,
        }
        settings.update(changes)
        return AuditOptions(**settings)  # type: ignore[arg-type]

    def audit(self, data_dir: Path | None = None, **changes: object) -> AuditReport:
        return run_audit(self.options(data_dir, **changes), int(time.time()))

    def copy(self, target: Path) -> Path:
        """A copy of the relay's data directory to break."""
        shutil.copytree(self.relay_dir, target)
        return target


async def _export_all(profiles: Path, out: Path) -> tuple[Path, ...]:
    files = []
    for name in PROFILES:
        profile = Profile(profiles / name, params=TINY, insecure_floor_for_tests=TEST_FLOOR)
        opened = await profile.unlock(PASSPHRASE)
        try:
            export = await export_heads(opened.identity, await opened.store(), int(time.time()))
        finally:
            await opened.lock()
        path = out / f"heads-{name}.json"
        write_heads(export, path)
        files.append(path)
    return tuple(files)


@pytest.fixture(scope="session")
def demo_relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRelay]:
    base = tmp_path_factory.mktemp("audited-demo")
    lines: list[str] = []
    settings = DemoSettings(params=TINY, insecure_floor_for_tests=TEST_FLOOR)
    assert asyncio.run(run_demo(base, lines.append, settings)) == 0, "\n".join(lines)
    root = open_root(
        base / "profiles" / "coordinator", PASSPHRASE, insecure_floor_for_tests=TEST_FLOOR
    )
    heads = asyncio.run(_export_all(base / "profiles", base))
    yield DemoRelay(relay_dir=base / "relay", profiles=base / "profiles", root=root, heads=heads)
