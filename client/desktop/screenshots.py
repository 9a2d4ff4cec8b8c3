"""``python -m client.desktop.screenshots DIR`` (``make screenshots``): PNG pictures of each
main screen of the desktop app, in English and Czech, taken from the real app.

It sets up what the demo does — a relay on 127.0.0.1, a coordinator, three professionals,
a case with notes and a document, a revoked device — in a temporary directory, with the
production Argon2id cost, then opens the app's window offscreen on each screen and saves
``<screen>-en.png`` and ``<screen>-cs.png``. Nothing it makes outlives the run.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QEventLoop, QSettings
from PySide6.QtWidgets import QApplication, QWidget

from client.coordinator import Coordinator, create_root, start_coordinator
from client.demo import FILE, FILE_NAME, PASSPHRASE, enrol_with_approval, local_relay
from client.desktop.auditor_page import AuditorPage, open_auditor_page
from client.desktop.coordinator_page import CoordinatorPage
from client.desktop.i18n import LanguageSwitch
from client.desktop.member_page import MemberPage
from client.desktop.window import DesktopWindow
from client.desktop.worker import AsyncWorker
from client.invite_codes import words_of
from client.member import Member
from client.profile import Profile
from client.random import SystemRandom
from protocol.case_items import HistoryPolicy

T = TypeVar("T")
LANGUAGES = ("en", "cs")
SIZE = (1180, 720)
TIMEOUT = 60.0


class ScreenshotError(Exception):
    """The app did not reach the screen to be pictured in time."""


def wait_until(app: QApplication, condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise ScreenshotError(f"timed out waiting for {what}")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


class Scene:
    """The platform the screens show, driven through the library in a loop of its own."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.loop = AsyncWorker()
        self.loop.start()
        self.exits = contextlib.AsyncExitStack()
        self.members: dict[str, Member] = {}

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_blocking(coroutine, TIMEOUT)

    def build(self) -> None:
        coordinator_profile = Profile(self.root / "coordinator")
        public = create_root(coordinator_profile, PASSPHRASE, SystemRandom())
        self.root_public = public
        self.relay_dir = self.root / "relay"
        self.url = self.run(self.exits.enter_async_context(local_relay(self.relay_dir, public)))
        self.coordinator: Coordinator = self.run(
            start_coordinator(
                coordinator_profile, PASSPHRASE, self.url, "Koordinátorka", "Město Jirkov"
            )
        )
        people = {
            "police": ("Jana Dvořáková", "Policie ČR, OO Jirkov", "police officer"),
            "hospital": ("Petr Novák", "Nemocnice Chomutov", "nurse"),
            "social": ("Eva Horáková", "OSPOD Jirkov", "social worker"),
        }
        for who, person in people.items():
            code = self.coordinator.invite(*person).code
            self.members[who] = self.run(
                enrol_with_approval(self.coordinator, self.url, Profile(self.root / who), code)
            )
        police, hospital, social = (self.members[w] for w in ("police", "hospital", "social"))
        case_id = self.run(
            police.create_case(
                "Rodina N. – opakované napadení", "Případ Modrá 17", HistoryPolicy.FULL
            )
        )
        self.run(police.add_member(case_id, hospital.member_id))
        self.run(police.add_member(case_id, social.member_id))
        for member in (hospital, social):
            self.run(member.sync())
        notes = [
            (police, "Oznámení přijato 28. 11., poškozená souhlasí se spoluprací.", None),
            (
                hospital,
                "Ošetřena v nemocnici, zpráva v příloze.",
                (FILE_NAME, "application/pdf", FILE),
            ),
            (social, "Děti v péči babičky, návštěva domluvena na pondělí.", None),
        ]
        for author, text, attachment in notes:
            self.run(author.post_note(case_id, text, [attachment] if attachment else None))
        self.run(self.coordinator.revoke_device(social.device_id))
        for who in ("police", "social"):
            self.run(self.members.pop(who).close())
        self.pending_code = self.coordinator.invite(
            "Marie Svobodová", "Poradna Jirkov", "therapist"
        ).code
        self.case_id = case_id

    def close(self) -> None:
        for member in self.members.values():
            self.run(member.close())
        self.run(self.coordinator.close())
        self.run(self.exits.aclose())
        self.loop.stop()


class Camera:
    """Opens windows and saves each screen in both languages."""

    def __init__(self, app: QApplication, out: Path, settings: QSettings) -> None:
        self.app = app
        self.out = out
        self.settings = settings
        self.windows: list[DesktopWindow] = []

    def window(self, profile: Profile, relay_url: str = "") -> DesktopWindow:
        switch = LanguageSwitch(self.settings)
        switch.switch("en", remember=False)
        window = DesktopWindow(
            profile, settings=self.settings, language=switch, relay_url=relay_url
        )
        window.resize(*SIZE)
        window.show()
        self.windows.append(window)
        return window

    def shoot(self, window: DesktopWindow, name: str, widget: QWidget | None = None) -> None:
        for language in LANGUAGES:
            window.switch_language(language)
            self.app.processEvents()
            time.sleep(0.05)
            self.app.processEvents()
            (widget or window).grab().save(str(self.out / f"{name}-{language}.png"))
        window.switch_language("en")

    def unlock(self, window: DesktopWindow) -> None:
        window.unlock_page.passphrase.setText(PASSPHRASE)
        window.unlock_page.unlock.click()
        wait_until(self.app, lambda: window.main_page is not None, "unlocking")

    def close(self) -> None:
        for window in self.windows:
            window.close()


def take(out: Path) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="casecircle-screens-") as temporary:
        root = Path(temporary)
        scene = Scene(root)
        camera = Camera(app, out, QSettings(str(root / "desktop.ini"), QSettings.Format.IniFormat))
        try:
            scene.build()
            enrol = camera.window(Profile(root / "therapist"), scene.url)
            enrol.enrol_page.code.setPlainText(" ".join(words_of(scene.pending_code)))
            enrol.enrol_page.passphrase.setText("violet tram oyster lantern")
            camera.shoot(enrol, "enrol")

            police = camera.window(Profile(root / "police"))
            camera.shoot(police, "unlock")
            camera.unlock(police)
            page = police.main_page
            assert isinstance(page, MemberPage)
            wait_until(app, lambda: len(page.case_list.rows) == 1, "the cases list")
            page.case_list.select(scene.case_id)
            wait_until(
                app,
                lambda: (
                    page.thread_view.current is not None
                    and len(page.thread_view.current.notes) == 3
                    and len(page.members.rows) >= 2
                    and bool(page.thread_view.notice_labels)
                ),
                "the case thread",
            )
            page.composer.editor.setPlainText("Matka volala z čísla 603 123 456.")
            page.composer.send.click()
            camera.shoot(police, "case")
            page.members.list.setCurrentRow(1)
            page.members.compare.click()
            wait_until(app, lambda: page.dialog is not None, "the safety number")
            assert page.dialog is not None
            camera.shoot(police, "compare-keys", page.dialog)
            page.dialog.close()

            coordinator_window = camera.window(Profile(root / "coordinator"))
            scene.run(scene.coordinator.close())
            camera.unlock(coordinator_window)
            coordinator_page = coordinator_window.main_page
            assert isinstance(coordinator_page, CoordinatorPage)
            wait_until(app, lambda: not coordinator_page.busy, "the coordinator's view")
            camera.shoot(coordinator_window, "coordinator")

            auditor = open_auditor_page(coordinator_window)
            assert isinstance(auditor, AuditorPage)
            auditor.data_dir.setText(str(scene.relay_dir))
            auditor.root_key.setText(scene.root_public.hex())
            auditor.run()
            wait_until(app, lambda: auditor.report is not None, "the audit report")
            camera.shoot(coordinator_window, "auditor")
        finally:
            camera.close()
            with contextlib.suppress(Exception):
                scene.close()
    return sorted(out.glob("*.png"))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else Path("docs/screenshots")
    for path in take(out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
