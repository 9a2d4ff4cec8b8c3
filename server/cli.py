"""``casecircle server``: run the relay.

Without ``--tls-cert``/``--tls-key`` the relay speaks plain HTTP and must sit behind a
reverse proxy that terminates TLS (docs/operations.md); it listens on 127.0.0.1 by default.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from server.app import run_relay
from server.config import ConfigError, RelayConfig, parse_root_key


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("server", help="run the relay")
    parser.add_argument("--data-dir", type=Path, required=True, help="where the relay keeps data")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8443)")
    parser.add_argument("--config", type=Path, help="TOML file with settings and limits")
    parser.add_argument("--root-key", help="the platform root public key, hex")
    parser.add_argument("--tls-cert", type=Path, help="PEM certificate chain")
    parser.add_argument("--tls-key", type=Path, help="PEM private key")
    parser.add_argument(
        "--access-log",
        action="store_true",
        default=None,
        help="log a line per request, with the client's address (off by default)",
    )
    parser.set_defaults(handler=run)


def load_config(args: argparse.Namespace) -> RelayConfig:
    overrides = {
        "data_dir": args.data_dir,
        "host": args.host,
        "port": args.port,
        "tls_cert": args.tls_cert,
        "tls_key": args.tls_key,
        "access_log": args.access_log,
        "root_public_key": parse_root_key(args.root_key) if args.root_key else None,
    }
    if args.config is not None:
        return RelayConfig.from_file(args.config, **overrides)
    return RelayConfig.from_mapping({}, **overrides)


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args)
    except ConfigError as exc:
        print(f"casecircle server: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(_serve(config))
    return 0


async def _serve(config: RelayConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await run_relay(config, stop)
