"""Configuration: limits validated, TOML files read, the command line wired up."""

from __future__ import annotations

from pathlib import Path

import pytest

from client.cli import build_parser
from server.cli import load_config
from server.config import ConfigError, Limits, RelayConfig

ROOT = "ab" * 32


def test_limits_must_be_positive() -> None:
    with pytest.raises(ConfigError):
        Limits(max_fetch=0)
    with pytest.raises(ConfigError):
        Limits(max_message_bytes=10, max_json_body=5)


def test_toml_file_with_overrides(tmp_path: Path) -> None:
    path = tmp_path / "relay.toml"
    path.write_text(
        f'host = "0.0.0.0"\nport = 9000\nroot_key = "{ROOT}"\n[limits]\nmax_fetch = 7\n'
    )
    config = RelayConfig.from_file(path, data_dir=tmp_path, port=9001)
    assert (config.host, config.port, config.limits.max_fetch) == ("0.0.0.0", 9001, 7)
    assert config.root_public_key == bytes.fromhex(ROOT)
    assert not config.access_log


def test_the_access_log_is_turned_on_in_the_file_or_on_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "relay.toml"
    path.write_text("access_log = true\n")
    assert RelayConfig.from_file(path, data_dir=tmp_path).access_log
    assert RelayConfig.from_mapping({}, data_dir=tmp_path, access_log=True).access_log


@pytest.mark.parametrize(
    "text",
    [
        "port = 'x'\n[limits]\nnope = 1\n",
        "colour = 1\n",
        "root_key = 'zz'\n",
        "[limits\n",
        "access_log = 'yes'\n",
    ],
)
def test_bad_files_are_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "relay.toml"
    path.write_text(text)
    with pytest.raises(ConfigError):
        RelayConfig.from_file(path, data_dir=tmp_path)


def test_tls_needs_both_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        RelayConfig(data_dir=tmp_path, tls_cert=tmp_path / "cert.pem")


def test_server_subcommand(tmp_path: Path) -> None:
    args = build_parser().parse_args(
        ["server", "--data-dir", str(tmp_path), "--port", "0", "--root-key", ROOT]
    )
    config = load_config(args)
    assert (config.data_dir, config.host, config.port) == (tmp_path, "127.0.0.1", 0)
    assert config.root_public_key == bytes.fromhex(ROOT)
