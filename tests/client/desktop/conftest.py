"""Fixtures of the desktop tests: Qt offscreen, a real relay on 127.0.0.1 with a coordinator
(driven through the library in a worker loop of its own), colleagues as library devices,
and the app's window on a profile with tiny Argon2id costs."""

from __future__ import annotations

import os
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PySide6.QtCore import QSettings

from client.coordinator import Coordinator, create_root, start_coordinator
from client.demo import enrol_with_approval
from client.desktop.i18n import LanguageSwitch
from client.desktop.window import DesktopWindow
from client.desktop.worker import AsyncWorker
from client.member import Member
from client.profile import Profile
from client.random import SystemRandom
from protocol.invites import InviteCode
from tests.client.conftest import TEST_FLOOR, TINY
from tests.client.relay_thread import RelayThread

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # read when the application is made

T = TypeVar("T")
PASSPHRASE = "demo passphrase – not for real use"  # what client.demo enrols with
NEW_PASSPHRASE = "violet tram oyster lantern 42"
PEOPLE = {
    "police": ("Jana Dvořáková", "Policie ČR, OO Jirkov", "police officer"),
    "hospital": ("Petr Novák", "Nemocnice Chomutov", "nurse"),
    "social": ("Eva Horáková", "OSPOD Jirkov", "social worker"),
}
TIMEOUT_MS = 30_000


def tiny_profile(path: Path) -> Profile:
    return Profile(path, params=TINY, insecure_floor_for_tests=TEST_FLOOR)


@dataclass
class Platform:
    """A relay and its coordinator; colleagues are library devices in ``loop``."""

    root: Path
    relay: RelayThread
    loop: AsyncWorker
    coordinator: Coordinator
    colleagues: dict[str, Member] = field(default_factory=dict)
    coordinator_closed: bool = False

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return self.loop.run_blocking(coroutine, timeout)

    def invite(self, who: str) -> InviteCode:
        return self.coordinator.invite(*PEOPLE[who]).code

    def approve(self) -> int:
        return len(self.run(self.coordinator.process_enrolments()))

    def colleague(self, who: str) -> Member:
        """A member enrolled through the library, online in the platform's loop."""
        member = self.run(
            enrol_with_approval(
                self.coordinator, self.relay.url, tiny_profile(self.root / who), self.invite(who)
            )
        )
        self.colleagues[who] = member
        return member

    def coordinator_profile(self) -> Profile:
        """The coordinator's profile, closed by the library so that the app can open it."""
        if not self.coordinator_closed:
            self.run(self.coordinator.close())
            self.coordinator_closed = True
        return tiny_profile(self.root / "coordinator")

    def enrolled_profile(self, who: str) -> Profile:
        """A member enrolled through the library and closed again: the app unlocks it."""
        member = self.colleague(who)
        self.run(member.close())
        del self.colleagues[who]
        return tiny_profile(self.root / who)


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    profile = tiny_profile(tmp_path / "coordinator")
    root_public = create_root(
        profile, PASSPHRASE, SystemRandom(), params=TINY, insecure_floor_for_tests=TEST_FLOOR
    )
    relay = RelayThread(tmp_path / "relay", root_public)
    relay.start()
    loop = AsyncWorker()
    loop.start()
    try:
        coordinator = loop.run_blocking(
            start_coordinator(
                profile,
                PASSPHRASE,
                relay.url,
                "Koordinátorka",
                "Město Jirkov",
                insecure_floor_for_tests=TEST_FLOOR,
            ),
            60,
        )
        platform = Platform(tmp_path, relay, loop, coordinator)
        try:
            yield platform
        finally:
            for member in platform.colleagues.values():
                loop.run_blocking(member.close(), 30)
            if not platform.coordinator_closed:
                loop.run_blocking(coordinator.close(), 30)
    finally:
        loop.stop()
        relay.stop()


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "desktop.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def open_window(qtbot: Any, settings: QSettings) -> Iterator[Callable[..., DesktopWindow]]:
    """Opens the app's window on a profile; every window is closed (profile locked) after."""
    windows: list[DesktopWindow] = []

    def opener(profile: Profile, relay_url: str = "", language: str = "en") -> DesktopWindow:
        switch = LanguageSwitch(settings)
        switch.switch(language, remember=False)
        window = DesktopWindow(
            profile,
            settings=settings,
            language=switch,
            relay_url=relay_url,
            session_options={"resync_interval": 0.5},
            enrol_poll_interval=0.1,
        )
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield opener
    for window in windows:
        window.close()
    LanguageSwitch(settings).switch("en", remember=False)
