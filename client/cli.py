"""The ``casecircle`` command line: a thin shell over the client library and the runners.

Client commands (a member's at the top level, the coordinator's under ``coordinator``)
end in one way on failure: ``casecircle: <code>: <message>`` on the error stream and a
non-zero exit status (:mod:`client.cli_session`), never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from client import cli_coordinator, cli_member, cli_notes
from client.audit import cli as audit_cli
from client.cli_session import EXIT_INTERRUPTED, ClientSettings, Console, report
from crypto.errors import CasecircleError
from protocol.mls.vectors import cli as vectors_cli
from server import cli as server_cli

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent


def default_vectors_dir() -> Path:
    """``$MLS_TEST_VECTORS`` if set, else ``../shared/mls-vectors`` beside the checkout."""
    configured = os.environ.get("MLS_TEST_VECTORS")
    if configured:
        return Path(configured)
    return REPOSITORY_ROOT.parent / "shared" / "mls-vectors"


def _run_vectors(args: argparse.Namespace) -> int:
    paths: list[Path] = args.paths or [default_vectors_dir()]
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.json")))
        elif path.is_file():
            files.append(path)
        else:
            print(f"casecircle vectors: {path} does not exist", file=sys.stderr)
            return 2
    if not files:
        print("casecircle vectors: no vector files found", file=sys.stderr)
        return 2
    argv = [str(f) for f in files] + (["--verbose"] if args.verbose else [])
    return vectors_cli.main(argv, prog="casecircle vectors")


def _run_demo(args: argparse.Namespace) -> int:
    from client import demo  # noqa: PLC0415 - the demo pulls in the relay: load it only when asked

    return demo.main(args.data_dir)


def _run_desktop(args: argparse.Namespace) -> int:
    try:
        from client.desktop import app  # noqa: PLC0415 - Qt loads only for this command
    except ImportError as exc:
        print(
            f"casecircle desktop: the desktop extra is not installed ({exc.name});"
            " pip install 'casecircle[desktop]'",
            file=sys.stderr,
        )
        return 2
    return app.run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="casecircle", description="End-to-end-encrypted case sharing."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    vectors = commands.add_parser(
        "vectors",
        help="check the MLS engine against the official interoperability test vectors",
    )
    vectors.add_argument(
        "paths", nargs="*", type=Path, help="vector files or directories (default: shared set)"
    )
    vectors.add_argument("-v", "--verbose", action="store_true", help="list each failure")
    vectors.set_defaults(handler=_run_vectors)
    server_cli.add_parser(commands)
    demo = commands.add_parser(
        "demo", help="run the whole scenario end to end against a relay on 127.0.0.1"
    )
    demo.add_argument(
        "--data-dir",
        type=Path,
        help="keep the relay's and the profiles' data here (default: a temporary directory)",
    )
    demo.set_defaults(handler=_run_demo)
    cli_member.add_parsers(commands)
    cli_notes.add_parsers(commands)
    cli_coordinator.add_parser(commands)
    audit_cli.add_parser(commands)
    desktop = commands.add_parser("desktop", help="the desktop app (the desktop extra)")
    desktop.add_argument("--profile", type=Path, metavar="DIR", help="the device's profile")
    desktop.add_argument("--relay", metavar="URL", help="the relay address shown when enrolling")
    desktop.add_argument("--language", choices=["cs", "en"], help="override the language")
    desktop.set_defaults(handler=_run_desktop)
    return parser


def main(
    argv: list[str] | None = None,
    *,
    console: Console | None = None,
    settings: ClientSettings | None = None,
) -> int:
    """Run one command. ``console`` and ``settings`` are for tests: other streams, and
    Argon2id costs below the production floor (never reachable from the command line)."""
    args = build_parser().parse_args(argv)
    args.console = console if console is not None else Console()
    args.settings = settings if settings is not None else ClientSettings()
    try:
        code: int = args.handler(args)
    except CasecircleError as exc:
        return report(args.console, exc)
    except KeyboardInterrupt:
        args.console.tell("casecircle: interrupted")
        return EXIT_INTERRUPTED
    return code


if __name__ == "__main__":
    sys.exit(main())
