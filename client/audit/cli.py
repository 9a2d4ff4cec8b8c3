"""``casecircle audit …``: the auditor's commands, a thin shell over :mod:`client.audit`.

::

    casecircle audit --data-dir DIR [--root-key HEX] [--heads FILE]… [--markers FILE]
                     [--log PATH]… [--report FILE.html] [--json]
    casecircle audit heads  --profile DIR --out heads.json       a client's tree heads
    casecircle audit canary --profile DIR [--data-dir DIR] [--log PATH]… [--markers-out FILE]
    casecircle audit export --data-dir DIR --out DIR             a snapshot for an auditor

Exit status: 0 only when every check that ran passed; 1 when a check failed or the audit
could not run (``casecircle: <code>: <message>``); 2 for a wrong command line. Text from
the relay's data is shown through :func:`~client.cli_session.shown`, so a hostile relay
cannot drive the terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from client.audit.auditor import AuditOptions, run_audit
from client.audit.canary import check_canary, search, write_markers
from client.audit.canary_post import CanarySettings, plant_canary
from client.audit.errors import AuditInputError
from client.audit.export import export_relay_data
from client.audit.heads import export_heads, write_heads
from client.audit.report import check_json, render_html, report_json, summary_lines
from client.cli_session import (
    EXIT_FAILED,
    ClientSettings,
    CommandError,
    Console,
    add_profile_arguments,
    connected,
    console_of,
    profile_of,
    read_passphrase,
    report,
    run_async,
    settings_of,
    shown,
    unlocked,
)
from client.coordinator import ROOT_FILE, Coordinator, open_root
from crypto.errors import CasecircleError

CANARY_POLL_INTERVAL = 0.5


def _hex_key(text: str) -> bytes:
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise argparse.ArgumentTypeError("a key is 64 hex digits") from None
    if len(key) != 32:
        raise argparse.ArgumentTypeError("a key is 64 hex digits")
    return key


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "audit",
        help="check from outside that the relay holds only ciphertext and an honest log",
        description="Audit a relay's data directory (or an audit export): inventory,"
        " ciphertext only, canary, transparency log. Exit status 0 only when all pass.",
    )
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help="relay data or export")
    parser.add_argument("--root-key", type=_hex_key, metavar="HEX", help="platform root key")
    parser.add_argument(
        "--relay-key", type=_hex_key, metavar="HEX", help="relay identity key (for an old copy)"
    )
    parser.add_argument(
        "--heads", type=Path, action="append", default=[], metavar="FILE",
        help="tree heads exported by a client (`casecircle audit heads`); repeatable",
    )  # fmt: skip
    parser.add_argument("--markers", type=Path, metavar="FILE", help="canary markers to search")
    parser.add_argument(
        "--log", type=Path, action="append", default=[], metavar="PATH",
        help="a relay log file or directory to check and search; repeatable",
    )  # fmt: skip
    parser.add_argument("--report", type=Path, metavar="FILE.html", help="write the HTML report")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=_audit)
    sub = parser.add_subparsers(dest="audit_command", metavar="{heads,canary,export}")

    heads = sub.add_parser("heads", help="export the tree heads this device has seen")
    add_profile_arguments(heads)
    heads.add_argument("--out", type=Path, required=True, metavar="FILE", dest="heads_out")
    heads.set_defaults(handler=run_async(_heads))

    canary = sub.add_parser(
        "canary", help="plant markers through throwaway devices and search the relay for them"
    )
    add_profile_arguments(canary)
    canary.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        dest="canary_data_dir",
        help="the relay's data directory to search (else only plant: needs --markers-out)",
    )
    canary.add_argument(
        "--log", type=Path, action="append", default=[], metavar="PATH", dest="canary_logs"
    )
    canary.add_argument("--markers-out", type=Path, metavar="FILE")
    canary.add_argument("--json", action="store_true", dest="canary_json")
    canary.set_defaults(handler=run_async(_canary))

    export = sub.add_parser("export", help="write a read-only snapshot of a relay for an audit")
    export.add_argument(
        "--data-dir", type=Path, required=True, metavar="DIR", dest="export_data_dir"
    )
    export.add_argument("--out", type=Path, required=True, metavar="DIR", dest="export_out")
    export.set_defaults(handler=_export)


def _audit(args: argparse.Namespace) -> int:
    console = console_of(args)
    if args.data_dir is None:
        raise AuditInputError("give --data-dir DIR (a relay data directory or an audit export)")
    options = AuditOptions(
        data_dir=args.data_dir,
        root_key=args.root_key,
        relay_key=args.relay_key,
        heads=tuple(args.heads),
        markers=args.markers,
        logs=tuple(args.log),
    )
    result = run_audit(options, int(time.time()))
    if args.report is not None:
        try:
            args.report.write_text(render_html(result), encoding="utf-8")
        except OSError as exc:
            raise AuditInputError(f"{args.report} cannot be written: {exc.strerror}") from exc
    if args.json:
        console.say(json.dumps(report_json(result), indent=1))
    else:
        for line in summary_lines(result):
            console.say(shown(line))
    return 0 if result.passed else EXIT_FAILED


async def _heads(args: argparse.Namespace) -> int:
    async with unlocked(args) as opened:
        export = await export_heads(opened.identity, await opened.store(), int(time.time()))
    try:
        write_heads(export, args.heads_out)
    except OSError as exc:
        raise AuditInputError(f"{args.heads_out} cannot be written: {exc.strerror}") from exc
    console_of(args).say(f"{len(export.heads)} tree heads written to {args.heads_out}")
    return 0


async def _canary(args: argparse.Namespace) -> int:
    console, settings = console_of(args), settings_of(args)
    profile = profile_of(args)
    if not (profile.layout.root / ROOT_FILE).is_file():
        raise CommandError(f"{profile.layout.root} holds no platform root: the coordinator's")
    if args.canary_data_dir is None and args.markers_out is None:
        raise CommandError("give --data-dir to search now, or --markers-out to search later")
    passphrase = read_passphrase(args)
    canary_settings = CanarySettings(
        params=settings.params,
        insecure_floor_for_tests=settings.insecure_floor_for_tests,
        poll_interval=min(settings.poll_interval, CANARY_POLL_INTERVAL),
    )
    opened = await profile.unlock(passphrase)
    try:
        async with connected(opened, Coordinator) as coordinator:
            root = await asyncio.to_thread(
                open_root,
                profile.layout.root,
                passphrase,
                insecure_floor_for_tests=settings.insecure_floor_for_tests,
            )
            coordinator.attach_root(root)
            console.tell("planting the canary:")
            with tempfile.TemporaryDirectory(prefix="casecircle-canary-") as workdir:
                markers = await plant_canary(
                    coordinator, Path(workdir), canary_settings, console.tell
                )
    finally:
        await opened.lock()
    if args.markers_out is not None:
        write_markers(markers, args.markers_out)
    if args.canary_data_dir is None:
        console.say(
            f"canary planted; search with: casecircle audit --data-dir DIR"
            f" --markers {args.markers_out}"
        )
        return 0
    result = check_canary(search([args.canary_data_dir, *args.canary_logs], markers), markers)
    if args.canary_json:
        console.say(json.dumps(check_json(result), indent=1))
    else:
        console.say(f"canary: {result.status.value.upper()} — {result.summary}")
        for finding in result.findings:
            console.say(shown(f"  {finding.subject}: {finding.detail}"))
    return 0 if result.passed else EXIT_FAILED


def _export(args: argparse.Namespace) -> int:
    out = export_relay_data(args.export_data_dir, args.export_out)
    console_of(args).say(f"audit export written to {out}")
    return 0


def main(
    argv: list[str] | None = None,
    *,
    console: Console | None = None,
    settings: ClientSettings | None = None,
) -> int:
    """``casecircle audit`` on its own, without the rest of the command line (tests)."""
    parser = argparse.ArgumentParser(prog="casecircle")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    args.console = console if console is not None else Console()
    args.settings = settings if settings is not None else ClientSettings()
    try:
        code: int = args.handler(args)
    except CasecircleError as exc:
        return report(args.console, exc)
    return code


if __name__ == "__main__":
    sys.exit(main())
