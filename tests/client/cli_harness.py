"""Running ``casecircle`` commands in-process against a real relay, for the CLI tests.

Each command goes through :func:`client.cli.main` exactly as typed, with its own console
streams and the tests' tiny Argon2id costs. Enrolment runs ``accept`` in a thread (it waits
for approval) while the coordinator's ``approve --wait`` runs here.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from pathlib import Path

from client.cli import main
from client.cli_session import ClientSettings, Console
from tests.client.conftest import TEST_FLOOR, TINY
from tests.client.relay_thread import RelayThread

SETTINGS = ClientSettings(params=TINY, insecure_floor_for_tests=TEST_FLOOR, poll_interval=0.05)
PASSPHRASE = "correct horse battery staple"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def ok(self) -> Result:
        assert self.code == 0, f"exit {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}"
        return self

    def line_after(self, label: str) -> str:
        """The rest of the first output line that starts with ``label``."""
        for line in self.out.splitlines():
            if line.strip().startswith(label):
                return line.strip()[len(label) :].strip()
        raise AssertionError(f"no line {label!r} in:\n{self.out}")


@dataclass(frozen=True)
class Invite:
    result: Result
    words: str
    invite_id: str
    member_id: str


class Cli:
    """Runs commands with a passphrase file (unless told otherwise) and captured streams."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.passphrase_file = root / "passphrase"
        self.passphrase_file.write_text(PASSPHRASE + "\n", encoding="utf-8")

    def run(
        self,
        *argv: str,
        profile: Path | None = None,
        stdin: str = "",
        passphrase_file: Path | bool | None = True,
    ) -> Result:
        args = list(argv)
        if profile is not None:
            args += ["--profile", str(profile)]
        if passphrase_file is True:
            args += ["--passphrase-file", str(self.passphrase_file)]
        elif isinstance(passphrase_file, Path):
            args += ["--passphrase-file", str(passphrase_file)]
        out, err = io.StringIO(), io.StringIO()
        console = Console(out=out, err=err, input=io.StringIO(stdin))
        code = main(args, console=console, settings=SETTINGS)
        return Result(code, out.getvalue(), err.getvalue())


class CliPlatform:
    """A platform made with the commands: root, relay, registered coordinator."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cli = Cli(root)
        self.coordinator = root / "coordinator"
        created = self.cli.run("coordinator", "create-platform", profile=self.coordinator).ok()
        root_key = bytes.fromhex(created.line_after("platform root public key:"))
        self.relay = RelayThread(root / "relay", root_key)
        self.relay.start()
        self.cli.run(
            "coordinator",
            "register",
            "--relay",
            self.relay.url,
            "--name",
            "Koordinátorka",
            "--organisation",
            "Město Jirkov",
            profile=self.coordinator,
        ).ok()

    def close(self) -> None:
        self.relay.stop()

    def coordinate(self, *argv: str) -> Result:
        return self.cli.run("coordinator", *argv, profile=self.coordinator)

    def invite(self, name: str, *extra: str) -> Invite:
        result = self.coordinate(
            "invite", "--name", name, "--organisation", "Agency", "--role", "tester", *extra
        ).ok()
        lines = result.out.splitlines()
        start = next(n for n, line in enumerate(lines) if line.startswith("Invite code ("))
        words = " ".join(line.strip() for line in lines[start + 1 : start + 5])
        return Invite(result, words, result.line_after("invite id"), result.line_after("member id"))

    def accept_with_approval(self, profile: Path, code_text: str) -> tuple[Result, Result]:
        """``accept`` (code on standard input) in a thread, ``approve --wait`` here."""
        accepted: list[Result] = []

        def accept() -> None:
            accepted.append(
                self.cli.run(
                    "accept",
                    "--relay",
                    self.relay.url,
                    "--code-file",
                    "-",
                    "--timeout",
                    "30",
                    "--key-packages",
                    "3",
                    profile=profile,
                    stdin=code_text,
                )
            )

        thread = threading.Thread(target=accept)
        thread.start()
        approved = self.coordinate("approve", "--wait", "30")
        thread.join(60)
        assert accepted, "accept did not finish"
        return accepted[0], approved

    def enrol(self, name: str) -> Path:
        profile = self.root / name
        invite = self.invite(name)
        accepted, approved = self.accept_with_approval(profile, invite.words)
        approved.ok()
        accepted.ok()
        return profile
