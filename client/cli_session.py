"""What every client command of ``casecircle`` shares (DESIGN §8): the console it talks
through, the profile directory and its passphrase, how a device is opened and closed, ids
typed by people, text shown safely, and how an error ends a command.

The passphrase is never a command-line argument (it would be in the shell history and in
every process listing): it comes from ``--passphrase-file``, the ``CASECIRCLE_PASSPHRASE``
environment variable, or a prompt that does not echo.

Exit status: 0 done, 1 a check or a request failed, 2 the command line is wrong (argparse),
75 the relay is unreachable (try again later: nothing was lost), 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
import time
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO, TypeVar

from client.device import Device
from client.directory import DeviceStanding, IssuedDevice, reason_name
from client.keystore_payload import check_relay_url
from client.profile import (
    MAX_PASSPHRASE_BYTES,
    PassphrasePolicyError,
    Profile,
    ProfileExistsError,
    UnlockedProfile,
)
from client.relay_api import RelayUnavailableError
from crypto.errors import CasecircleError
from crypto.keystore import KeystoreParams
from protocol.errors import InternalError

PASSPHRASE_ENV = "CASECIRCLE_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret
PROFILE_ENV = "CASECIRCLE_PROFILE"
EXIT_FAILED = 1
EXIT_UNAVAILABLE = 75  # sysexits.h EX_TEMPFAIL: try again later
EXIT_INTERRUPTED = 130
MIN_ID_PREFIX = 4

D = TypeVar("D", bound=Device)


class CommandError(CasecircleError):
    """A command cannot run as given (its input, not the protocol, is at fault)."""

    code = "command"


class PassphraseRequiredError(CommandError):
    """No passphrase was given and there is no terminal to ask for one."""

    code = "passphrase_required"


class PassphraseMismatchError(CommandError):
    code = "passphrase_mismatch"


class InputFileError(CommandError):
    """A file named on the command line could not be read, or written anew."""

    code = "input_file"


class RelayUrlError(CommandError):
    code = "relay_url"


class UnknownIdError(CommandError):
    code = "unknown_id"


class AmbiguousIdError(CommandError):
    code = "ambiguous_id"


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """The commands' costs and timings: the production defaults unless a test lowers them
    (there is no command-line switch for the test-only Argon2id floor)."""

    params: KeystoreParams | None = None
    insecure_floor_for_tests: KeystoreParams | None = None
    poll_interval: float = 1.0


@dataclass(slots=True)
class Console:
    """Where a command reads and writes: the process's streams unless a test hands others."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    input: TextIO = field(default_factory=lambda: sys.stdin)

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def tell(self, text: str) -> None:
        """Progress and notices: on the error stream, so that output stays parseable."""
        print(text, file=self.err, flush=True)

    def interactive(self) -> bool:
        return self.input.isatty()

    def ask(self, prompt: str) -> str:
        self.err.write(prompt)
        self.err.flush()
        return self.input.readline().rstrip("\r\n")

    def ask_secret(self, prompt: str) -> str:
        return getpass.getpass(prompt, stream=self.err)


def report(console: Console, error: CasecircleError) -> int:
    """Print ``casecircle: <code>: <message>``; the exit status for the error."""
    message = str(error) or next(iter((error.__doc__ or "").strip().splitlines()), "")
    console.tell(f"casecircle: {error.code}: {message}")
    return EXIT_UNAVAILABLE if isinstance(error, RelayUnavailableError) else EXIT_FAILED


# --- arguments ----------------------------------------------------------------------------


def add_profile_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        default=os.environ.get(PROFILE_ENV) or None,
        help=f"the device's profile directory (default: ${PROFILE_ENV})",
    )
    parser.add_argument(
        "--passphrase-file",
        type=Path,
        metavar="FILE",
        help=f"read the passphrase from this file's first line (else ${PASSPHRASE_ENV}, "
        "else a prompt)",
    )


Handler = Callable[[argparse.Namespace], int]


def run_async(command: Callable[[argparse.Namespace], Awaitable[int]]) -> Handler:
    """A synchronous handler running ``command`` in a fresh event loop."""

    def handler(args: argparse.Namespace) -> int:
        async def run() -> int:
            return await command(args)

        return asyncio.run(run())

    return handler


def console_of(args: argparse.Namespace) -> Console:
    console = getattr(args, "console", None)
    return console if isinstance(console, Console) else Console()


def settings_of(args: argparse.Namespace) -> ClientSettings:
    settings = getattr(args, "settings", None)
    return settings if isinstance(settings, ClientSettings) else ClientSettings()


# --- the profile and its passphrase -------------------------------------------------------


def profile_of(args: argparse.Namespace) -> Profile:
    if args.profile is None:
        raise CommandError(f"no profile directory: give --profile DIR or set ${PROFILE_ENV}")
    settings = settings_of(args)
    if settings.params is None:
        return Profile(args.profile, insecure_floor_for_tests=settings.insecure_floor_for_tests)
    return Profile(
        args.profile,
        params=settings.params,
        insecure_floor_for_tests=settings.insecure_floor_for_tests,
    )


def read_text_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path} could not be read as UTF-8 text") from exc


def create_new_file(path: Path, data: bytes, error: type[CasecircleError] = InputFileError) -> None:
    """Write ``data`` to ``path``, which must not exist yet, readable by its owner only (a
    received file or an invite's QR image may be secret); ``error`` if it exists or the
    disk refuses, and nothing is left behind by a failed write."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise error(f"{path} exists already; choose another file name") from None
    except OSError as exc:
        raise error(f"{path} could not be created: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise error(f"{path} could not be written: {exc.strerror}") from exc


def read_passphrase(args: argparse.Namespace, *, new: bool = False) -> str:
    """The passphrase from its file, the environment, or a prompt (asked twice if ``new``)."""
    console = console_of(args)
    if args.passphrase_file is not None:
        lines = read_text_file(args.passphrase_file).splitlines()
        passphrase = lines[0] if lines else ""
    elif os.environ.get(PASSPHRASE_ENV) is not None:
        passphrase = os.environ[PASSPHRASE_ENV]
    elif console.interactive():
        passphrase = console.ask_secret("Passphrase: ")
        if new and console.ask_secret("The same passphrase again: ") != passphrase:
            raise PassphraseMismatchError("the two passphrases differ")
    else:
        raise PassphraseRequiredError(
            f"no passphrase: use --passphrase-file or ${PASSPHRASE_ENV}, or run in a terminal"
        )
    if new:
        check_new_passphrase(passphrase)
    return passphrase


def check_new_passphrase(passphrase: str) -> None:
    """The profile's own rule, checked before anything is sent rather than after."""
    try:
        encoded = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    except UnicodeEncodeError:
        raise PassphrasePolicyError("a passphrase is text without lone surrogates") from None
    if not encoded:
        raise PassphrasePolicyError("a passphrase must not be empty")
    if len(encoded) > MAX_PASSPHRASE_BYTES:
        raise PassphrasePolicyError(f"a passphrase is at most {MAX_PASSPHRASE_BYTES} bytes")


def require_new_profile(profile: Profile) -> None:
    """Refuse a directory that already holds a device, before an invite is spent on it."""
    layout = profile.layout
    if layout.keystore.exists() or layout.database.exists():
        raise ProfileExistsError(f"{layout.root} already holds a device profile")


def checked_relay_url(url: str) -> str:
    try:
        check_relay_url(url)
    except ValueError as exc:
        raise RelayUrlError(str(exc)) from exc
    return url


@asynccontextmanager
async def unlocked(args: argparse.Namespace) -> AsyncIterator[UnlockedProfile]:
    """The profile, unlocked for the command and locked again after it."""
    profile = profile_of(args)
    opened = await profile.unlock(read_passphrase(args))
    try:
        yield opened
    finally:
        await opened.lock()


@asynccontextmanager
async def connected(profile: UnlockedProfile, kind: type[D]) -> AsyncIterator[D]:
    """The device connected to its relay (which must serve the pinned root); closed after."""
    device = await kind.connect(profile)
    if not isinstance(device, kind):
        raise InternalError("connect returned another kind of device")
    try:
        yield device
    finally:
        await device.close()


# --- ids and text as people see them ------------------------------------------------------


def resolve_id(typed: str, known: Iterable[bytes], what: str) -> bytes:
    """The one known id that ``typed`` (hex, or a prefix of at least 4 hex digits) names."""
    text = typed.strip().lower()
    if len(text) < MIN_ID_PREFIX or any(c not in "0123456789abcdef" for c in text):
        raise UnknownIdError(f"a {what} id is hex, at least {MIN_ID_PREFIX} digits")
    matches = sorted({i for i in known if i.hex().startswith(text)})
    if not matches:
        raise UnknownIdError(f"no {what} with id {text}")
    if len(matches) > 1:
        raise AmbiguousIdError(f"{len(matches)} {what}s have ids starting {text}: type more")
    return matches[0]


def shown(text: str) -> str:
    """Untrusted text made safe for a terminal: control, format and separator characters
    (escape sequences, bidi overrides, zero-width) appear as visible escapes."""
    out = []
    for char in text:
        category = unicodedata.category(char)
        if char in "\n\t" or (category[0] != "C" and category not in {"Zl", "Zp"}):
            out.append(char)
        else:
            out.append(f"\\u{ord(char):04x}")
    return "".join(out)


def when(timestamp: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


def device_status(issued: IssuedDevice, now: int) -> str:
    """A device's standing in the log at ``now``: active, expired or revoked (and why)."""
    revocation = issued.revocation
    if revocation is not None:
        return f"revoked {when(revocation.revoked_at)} ({reason_name(revocation.reason)})"
    standing = issued.standing(now)
    if standing == DeviceStanding.EXPIRED:
        return f"expired {when(issued.credential.not_after)}"
    if standing == DeviceStanding.NOT_YET_VALID:
        return "not yet valid"
    return f"active until {when(issued.credential.not_after)}"


def device_line(issued: IssuedDevice, now: int) -> str:
    c = issued.credential
    return (
        f"{c.device_id.hex()}  member {c.member_id.hex()}  {shown(c.display_name)}"
        f" ({shown(c.organisation)}), {shown(c.role)}: {device_status(issued, now)}"
    )
