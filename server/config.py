"""The relay's configuration: where it keeps its data, where it listens, and every limit.

Every bound the relay enforces (DESIGN.md §7: sizes, rates, queue lengths, connections) is a
field of :class:`Limits`, so an operator can read them in one place and a test can shrink
them. A TOML file given with ``--config`` may set any of them::

    host = "0.0.0.0"
    port = 8443
    root_key = "3b6a27bc..."          # the platform root public key, hex
    access_log = false                # true: a line per request, with the client's address

    [limits]
    max_message_bytes = 262144
    blob_quota_bytes = 1073741824
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

KIB = 1024
MIB = 1024 * KIB


class ConfigError(ValueError):
    """The configuration file or a command-line value is not acceptable."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Bounds on everything a client can make the relay hold or do."""

    max_json_body: int = 1 * MIB  # any request body except blob chunks
    max_message_bytes: int = 256 * KIB  # one MLSMessage (after base64 decoding)
    max_roster_change: int = 256  # devices named in one send
    max_roster_size: int = 2048  # devices on one group's roster
    max_key_packages: int = 100  # stored one-time KeyPackages per device
    max_pending_enrolments: int = 1000  # enrolment requests awaiting the coordinator
    max_fetch: int = 500  # messages returned by one fetch
    max_blob_bytes: int = 64 * MIB  # declared size of one blob
    max_chunk_bytes: int = 1 * MIB  # one PUT of blob data
    blob_quota_bytes: int = 512 * MIB  # blob bytes declared per device
    requests_per_second: float = 50.0  # per authenticated device, sustained
    request_burst: int = 200  # per authenticated device
    auth_per_minute: int = 60  # challenges and logins per client address
    max_in_flight: int = 2000  # requests being handled at once
    max_websockets: int = 10_000  # open WebSockets in total
    max_websockets_per_device: int = 4
    ws_queue_length: int = 256  # undelivered notifications before a socket is closed
    ws_max_frame: int = 64 * KIB  # incoming WebSocket message
    ws_send_timeout: float = 10.0  # seconds a push may wait for a slow reader
    ws_heartbeat: float = 30.0
    header_timeout: float = 10.0  # seconds a new connection has to send its request head
    body_timeout: float = 30.0  # seconds to receive a request body
    challenge_ttl: int = 60  # seconds a login challenge stays valid
    max_challenges: int = 10_000  # outstanding login challenges
    session_ttl: int = 3600  # seconds a session token stays valid
    write_batch: int = 256  # write operations committed in one transaction

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"limit {item.name} must be a positive number")
        if self.max_message_bytes > self.max_json_body:
            raise ConfigError("max_message_bytes must fit in max_json_body")


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayConfig:
    """What one relay process needs to run."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8443
    root_public_key: bytes | None = None  # the platform root; credentials are checked against it
    tls_cert: Path | None = None
    tls_key: Path | None = None
    access_log: bool = False  # one line per request, with the client's address: opt-in
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError("port must be 0..65535")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ConfigError("TLS needs both a certificate and a key")
        if self.root_public_key is not None and len(self.root_public_key) != 32:
            raise ConfigError("the platform root key is an Ed25519 public key of 32 bytes")

    @property
    def database_path(self) -> Path:
        return self.data_dir / "relay.sqlite3"

    @property
    def identity_path(self) -> Path:
        return self.data_dir / "relay-identity.key"

    @classmethod
    def from_file(cls, path: Path, **overrides: Any) -> Self:
        """Read a TOML file; keyword arguments that are not ``None`` take precedence."""
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from None
        return cls.from_mapping(raw, **overrides)

    @classmethod
    def from_mapping(cls, raw: dict[str, Any], **overrides: Any) -> Self:
        values = dict(raw)
        limits_raw = values.pop("limits", {})
        known = {item.name for item in dataclasses.fields(Limits)}
        if not isinstance(limits_raw, dict) or set(limits_raw) - known:
            raise ConfigError(f"unknown limits: {sorted(set(limits_raw) - known)}")
        root = values.pop("root_key", None)
        settings: dict[str, Any] = {
            "limits": Limits(**limits_raw),
            "root_public_key": parse_root_key(root) if root is not None else None,
        }
        if "access_log" in values:
            access_log = values.pop("access_log")
            if not isinstance(access_log, bool):
                raise ConfigError("access_log is true or false")
            settings["access_log"] = access_log
        for name in ("data_dir", "host", "port", "tls_cert", "tls_key"):
            if name in values:
                value = values.pop(name)
                settings[name] = (
                    Path(value) if name in {"data_dir", "tls_cert", "tls_key"} else value
                )
        if values:
            raise ConfigError(f"unknown settings: {sorted(values)}")
        settings.update({key: value for key, value in overrides.items() if value is not None})
        if "data_dir" not in settings:
            raise ConfigError("a data directory is required")
        return cls(**settings)


def parse_root_key(text: object) -> bytes:
    """The platform root public key from its hex form."""
    if not isinstance(text, str):
        raise ConfigError("the root key is a hex string")
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ConfigError("the root key is not hex") from None
    if len(key) != 32:
        raise ConfigError("the root key is 32 bytes (64 hex digits)")
    return key
