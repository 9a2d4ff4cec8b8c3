"""The relay under load, side by side with a bare aiohttp + aiosqlite insert handler.

Run on demand, not by pytest::

    python -m tests.benchmarks.bench_relay [--out FILE.md] [--duration 10] [--rounds 3]
        [--workers 2] [--idle-sockets 800] [--fanout-messages 100] [--access-log]
        [--phases memory,sends,fanout]

Both servers run as processes of their own on free ports of 127.0.0.1 with temporary data
directories: the relay exactly as ``casecircle server`` runs it (access log off, its default, unless
``--access-log``; only the
per-device and per-address rate limits raised, so that 50 senders are not refused), and
the baseline of :mod:`tests.benchmarks.baseline_server` (same SQLite settings: WAL,
``synchronous=FULL``, one writer with group commit). The load comes from ``--workers``
processes (:mod:`tests.benchmarks.relay_load`; one Python process cannot generate more
than about 10,000 requests a second), each running its share of the senders or sockets on
its own event loop; senders write their requests as bytes on kept-alive connections, since
a general HTTP client would spend more CPU per request than the servers it measures::

    setup     root key ─► 251 devices: credential published, challenge signed, token
              creator: group T (+ 50 senders) and group F (+ 200 devices), each by one
              real MLS commit with a Welcome; messages are real PrivateMessages
    memory    relay RSS (/proc/PID/status) before and after N idle WebSockets, each
              authenticated and subscribed to group F at its latest sequence number
    sends     --rounds × (baseline, relay): 50 senders in closed loop for --duration
              seconds after a warm-up; every request is the same JSON body for both
              servers; sends/s, latency p50/p99, the relay/baseline ratio, and the
              server's CPU time (all threads, /proc/PID/stat) per stored message
    disk      around each relay round: checkpoint (wal_checkpoint TRUNCATE), data
              directory size; bytes per stored message = size delta / sequence delta
    fan-out   200 devices, one WebSocket each, subscribed to group F; the creator sends
              --fanout-messages messages, one every 50 ms; latency = receipt of the push
              at a device − start of the send request (so it includes the durable commit);
              the devices' sockets are :mod:`tests.benchmarks.push_receiver`'s, which note
              when a frame arrived and decode it after the measurement

Every measured message is one MLSMessage of :data:`MESSAGE_BYTES` bytes (a PrivateMessage
padded to 32 bytes; the smallest such size of at least 1 KiB). The relay stores it as
bytes; the baseline stores the request body as it came (base64 inside JSON). Sends cycle
through a pool of distinct messages protected by the creator for the group's epoch — the
relay reads only their public header — each with a fresh client message id.

Latencies are taken with ``time.monotonic`` (one clock for every process of the machine).
The load generators share the machine's CPUs with the server they measure, and the
report says how many there are, and how much CPU time a virtual machine's hypervisor took
from them during the sends and the fan-out (``steal`` in /proc/stat).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from crypto.signatures import ED25519, SigningKey
from crypto.suites import cipher_suite
from protocol.directory import DeviceCredential, platform_fingerprint, sign_device_credential
from tests.benchmarks.relay_load import TIMEOUT, HeldSockets, SendStats, run_sends
from tests.helpers import DeterministicRandom
from tests.protocol.mls.group_devices import NOW, Device

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
SUITE = cipher_suite(1)
SENDERS = 50
FANOUT_DEVICES = 200
MESSAGE_BYTES = 1038  # the padded PrivateMessage size for 860..891 plaintext bytes
PLAINTEXT_BYTES = 880
MESSAGE_POOL = 4096
FANOUT_INTERVAL = 0.05
SEND_PATH = "/v1/groups/{group}/messages"

PHASES = ("memory", "sends", "fanout")

TARGET_RATIO = 0.7
TARGET_FANOUT_P99_MS = 25.0
TARGET_IDLE_SOCKET_KIB = 32.0
TARGET_DISK_PER_MESSAGE = 1.5 * 1024

RELAY_SETTINGS = """
[limits]
requests_per_second = 1000000
request_burst = 1000000
auth_per_minute = 1000000
"""
"""Rate limits out of the way: 50 senders are a load test, not an abusive device."""


# --- the servers ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ServerProcess:
    """A server on 127.0.0.1 in a process of its own, its output in a log file."""

    name: str
    data_dir: Path
    port: int
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, name: str, base: Path, args: Sequence[str]) -> ServerProcess:
        data_dir = base / name
        port = free_port()
        with (base / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", *args, "--data-dir", str(data_dir), "--port", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPOSITORY_ROOT,
            )
        server = cls(name, data_dir, port, process)
        server.wait_ready()
        return server

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the {self.name} server exited ({self.process.returncode})")
            try:
                with urllib.request.urlopen(self.url + "/v1/platform", timeout=1):
                    return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the {self.name} server did not start") from None
                time.sleep(0.1)

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS in /proc/PID/status")

    def cpu_seconds(self) -> float:
        """User and system time of the process, all its threads."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def disk_bytes(self, database: str) -> int:
        """The data directory's size after folding the WAL into the database file."""
        with sqlite3.connect(self.data_dir / database, timeout=30) as conn:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise RuntimeError(f"the {self.name} database could not be checkpointed")
        return sum(path.stat().st_size for path in self.data_dir.iterdir() if path.is_file())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- devices and groups, through the relay's own API ---------------------------------------


@dataclass
class Enrolled:
    mls: Device
    device_id: bytes
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}


@dataclass
class Fixture:
    """What the load needs: tokens, two groups, and their messages."""

    creator: Enrolled
    senders: list[Enrolled]
    receivers: list[Enrolled]
    send_group: bytes
    fanout_group: bytes
    send_messages: list[str] = field(default_factory=list)  # base64
    fanout_messages: list[str] = field(default_factory=list)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


async def _call(
    http: aiohttp.ClientSession,
    url: str,
    body: dict[str, Any] | None = None,
    *,
    headers: dict[str, str] | None = None,
    expect: int = 200,
) -> Any:
    method = "GET" if body is None else "POST"
    async with http.request(method, url, json=body, headers=headers) as reply:
        answer = await reply.json()
        if reply.status != expect:
            raise RuntimeError(f"{method} {url}: {reply.status} {answer}")
        return answer


async def _enrol(
    http: aiohttp.ClientSession, url: str, root: SigningKey, name: str, limit: asyncio.Semaphore
) -> Enrolled:
    mls = Device(SUITE, name)
    rng = DeterministicRandom(f"bench ids of {name}")
    device = Enrolled(mls, rng.random_bytes(16))
    now = int(time.time())
    signed = sign_device_credential(
        root,
        DeviceCredential(
            platform_id=platform_fingerprint(root.public_key),
            member_id=rng.random_bytes(16),
            device_id=device.device_id,
            display_name=name,
            organisation="Benchmark Agency",
            role="load",
            signature_key=mls.signing_key.public_key,
            cipher_suite=SUITE.suite_id,
            not_before=now - 3600,
            not_after=now + 86400,
            invite_id=rng.random_bytes(16),
        ),
    )
    async with limit:
        await _call(
            http,
            url + "/v1/directory/credentials",
            {"credential": _b64(signed.to_bytes())},
            expect=201,
        )
        challenge = await _call(http, url + "/v1/auth/challenge", {"device_id": _hex_id(device)})
        signature = mls.signing_key.sign(base64.b64decode(challenge["to_sign"]))
        session = await _call(
            http,
            url + "/v1/auth/session",
            {
                "device_id": _hex_id(device),
                "nonce": challenge["nonce"],
                "signature": _b64(signature),
            },
        )
    device.token = session["token"]
    return device


def _hex_id(device: Enrolled) -> str:
    return device.device_id.hex()


async def _create_group(
    http: aiohttp.ClientSession,
    url: str,
    creator: Enrolled,
    group_id: bytes,
    members: list[Enrolled],
) -> list[str]:
    """Group ``group_id`` with ``members`` added by one commit; a pool of its messages."""
    await _call(
        http, url + "/v1/groups", {"group_id": group_id.hex()}, headers=creator.headers, expect=201
    )
    group = creator.mls.create_group(group_id)
    packages = tuple(member.mls.key_package() for member in members)
    pending = group.commit(creator.mls.rng, NOW, add=packages)
    assert pending.welcome is not None
    ids = [_hex_id(member) for member in members]
    await _call(
        http,
        url + SEND_PATH.format(group=group_id.hex()),
        {
            "client_message_id": f"add-{group_id.hex()}",
            "message": _b64(pending.message),
            "roster_add": ids,
            "welcome": {"message": _b64(pending.welcome), "recipients": ids},
        },
        headers=creator.headers,
        expect=201,
    )
    group.merge_pending()
    rng = creator.mls.rng
    messages = [group.protect(rng.random_bytes(PLAINTEXT_BYTES), rng) for _ in range(MESSAGE_POOL)]
    assert {len(message) for message in messages} == {MESSAGE_BYTES}
    return [_b64(message) for message in messages]


async def _set_up(url: str, root: SigningKey) -> Fixture:
    limit = asyncio.Semaphore(16)
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
        names = ["creator", *(f"device-{i}" for i in range(SENDERS + FANOUT_DEVICES))]
        devices = await asyncio.gather(*(_enrol(http, url, root, n, limit) for n in names))
        creator, rest = devices[0], list(devices[1:])
        fixture = Fixture(
            creator=creator,
            senders=rest[:SENDERS],
            receivers=rest[SENDERS:],
            send_group=bytes.fromhex("5e" * 16),
            fanout_group=bytes.fromhex("fa" * 16),
        )
        fixture.send_messages = await _create_group(
            http, url, creator, fixture.send_group, fixture.senders
        )
        # the creator's MLS state moves to the second group; the first's messages are made
        fixture.fanout_messages = await _create_group(
            http, url, creator, fixture.fanout_group, fixture.receivers
        )
    return fixture


async def _last_seq(url: str, device: Enrolled, group_id: bytes) -> int:
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
        answer = await _call(http, f"{url}/v1/groups/{group_id.hex()}", headers=device.headers)
    seq: int = answer["last_seq"]
    return seq


# --- the phases ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SendRound:
    """One server's share of a round: the load's view and the server's costs."""

    stats: SendStats
    stored: int  # messages stored during the round (warm-up included)
    disk: int  # bytes the data directory grew by, after a checkpoint
    cpu: float  # seconds of server CPU time


@dataclass
class Report:
    cpus: int
    args: Any
    baseline: list[SendRound] = field(default_factory=list)
    relay: list[SendRound] = field(default_factory=list)
    idle_sockets: int = 0
    idle_rss_delta: int = 0
    fanout: list[float] = field(default_factory=list)  # seconds
    fanout_expected: int = 0
    fanout_sent: int = 0
    sends_steal: float = 0.0  # share of the machine's CPU time stolen, during the sends
    fanout_steal: float = 0.0  # and during the fan-out


class StolenTime:
    """The share of the machine's CPU time that its hypervisor gave to others while the
    block ran (``steal`` of /proc/stat): a virtual machine's neighbours show up in the
    latency tails, and the report says how much they took."""

    def __enter__(self) -> StolenTime:
        self._start = self._read()
        self.share = 0.0
        return self

    def __exit__(self, *_: object) -> None:
        end = self._read()
        total = sum(end) - sum(self._start)
        self.share = (end[7] - self._start[7]) / total if total else 0.0

    @staticmethod
    def _read() -> list[int]:
        """user nice system idle iowait irq softirq steal (USER_HZ ticks, all CPUs)."""
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:9]
        return [int(value) for value in fields] + [0] * (8 - len(fields))


def measure_idle_sockets(relay: ServerProcess, fixture: Fixture, report: Report) -> None:
    args = report.args
    url = relay.url.replace("http", "ws", 1)
    devices = fixture.receivers
    cursor = asyncio.run(_last_seq(relay.url, fixture.creator, fixture.fanout_group))
    warm = HeldSockets.open(url, [d.token for d in devices[:8]], 1, fixture.fanout_group,
                            cursor, 1)  # fmt: skip
    warm.release()
    time.sleep(1.0)
    per_device = max(1, math.ceil(args.idle_sockets / len(devices)))
    tokens = [d.token for d in devices[: math.ceil(args.idle_sockets / per_device)]]
    before = relay.rss_bytes()
    held = HeldSockets.open(url, tokens, per_device, fixture.fanout_group, cursor, args.workers)
    time.sleep(2.0)  # every socket's first (empty) catch-up has run
    after = relay.rss_bytes()
    report.idle_sockets = held.release().opened
    report.idle_rss_delta = after - before


def measure_sends(
    relay: ServerProcess, baseline: ServerProcess, fixture: Fixture, report: Report
) -> None:
    args = report.args
    path = SEND_PATH.format(group=fixture.send_group.hex())
    tokens = [d.token for d in fixture.senders]

    def baseline_rows() -> int:
        with sqlite3.connect(baseline.data_dir / "baseline.sqlite3", timeout=30) as conn:
            rows: int = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        return rows

    def relay_rows() -> int:
        return asyncio.run(_last_seq(relay.url, fixture.creator, fixture.send_group))

    def one_round(server: ServerProcess, tag: str, database: str, count: Any) -> SendRound:
        print(f"sends, round {tag}: {server.name}…", file=sys.stderr, flush=True)
        size, stored, cpu = server.disk_bytes(database), count(), server.cpu_seconds()
        stats = run_sends(
            server.url + path,
            tag,
            tokens,
            fixture.send_messages,
            workers=args.workers,
            warmup=args.warmup,
            duration=args.duration,
        )
        cpu = server.cpu_seconds() - cpu
        return SendRound(stats, count() - stored, server.disk_bytes(database) - size, cpu)

    with StolenTime() as stolen:
        for n in range(1, args.rounds + 1):
            report.baseline.append(one_round(baseline, f"{n}b", "baseline.sqlite3", baseline_rows))
            report.relay.append(one_round(relay, f"{n}r", "relay.sqlite3", relay_rows))
    report.sends_steal = stolen.share


async def _send_fanout(url: str, fixture: Fixture, count: int) -> dict[int, float]:
    sent: dict[int, float] = {}
    path = url + SEND_PATH.format(group=fixture.fanout_group.hex())
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
        next_at = time.monotonic()
        for index in range(count):
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            next_at += FANOUT_INTERVAL
            body = json.dumps(
                {"client_message_id": f"fan-{index}", "message": fixture.fanout_messages[index]}
            ).encode()
            begun = time.monotonic()
            async with http.post(path, data=body, headers=fixture.creator.headers) as reply:
                answer = await reply.json()
                if reply.status != 201:
                    raise RuntimeError(f"fan-out send refused: {reply.status} {answer}")
            sent[answer["seq"]] = begun
    return sent


def measure_fanout(relay: ServerProcess, fixture: Fixture, report: Report) -> None:
    args = report.args
    cursor = asyncio.run(_last_seq(relay.url, fixture.creator, fixture.fanout_group))
    held = HeldSockets.open(relay.url.replace("http", "ws", 1),
                            [d.token for d in fixture.receivers], 1, fixture.fanout_group,
                            cursor, args.workers)  # fmt: skip
    try:
        with StolenTime() as stolen:
            sent = asyncio.run(_send_fanout(relay.url, fixture, args.fanout_messages))
        time.sleep(2.0)
    finally:
        stats = held.release()
    report.fanout_steal = stolen.share
    report.fanout_sent = len(sent)
    report.fanout_expected = len(sent) * len(fixture.receivers)
    report.fanout = [arrived - sent[seq] for _, seq, arrived in stats.receipts if seq in sent]


# --- the report ----------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _rate(rounds: list[SendRound], duration: float) -> float:
    return statistics.median(r.stats.completed / duration for r in rounds)


def _per_message(rounds: list[SendRound], value: str) -> float:
    return float(sum(getattr(r, value) for r in rounds)) / sum(r.stored for r in rounds)


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


Row = tuple[str, str, str, str, str, str]
MS = 1000.0


def _send_rows(report: Report) -> list[Row]:
    duration = report.args.duration
    base_rate, relay_rate = _rate(report.baseline, duration), _rate(report.relay, duration)
    ratio = relay_rate / base_rate
    base_lat = [x for r in report.baseline for x in r.stats.latencies]
    relay_lat = [x for r in report.relay for x in r.stats.latencies]
    errors = (
        sum(r.stats.errors for r in report.baseline),
        sum(r.stats.errors for r in report.relay),
    )
    base_cpu = _per_message(report.baseline, "cpu") * 1e6
    relay_cpu = _per_message(report.relay, "cpu") * 1e6
    base_disk = _per_message(report.baseline, "disk")
    per_message = _per_message(report.relay, "disk")
    return [
        ("durable sends/s, 50 senders", f"{base_rate:,.0f}", f"{relay_rate:,.0f}",
         f"{ratio:.2f}", f"≥ {TARGET_RATIO} of baseline", _mark(ratio >= TARGET_RATIO)),
        ("send latency p50 (ms)", f"{percentile(base_lat, 0.5) * MS:.1f}",
         f"{percentile(relay_lat, 0.5) * MS:.1f}", "", "", ""),
        ("send latency p99 (ms)", f"{percentile(base_lat, 0.99) * MS:.1f}",
         f"{percentile(relay_lat, 0.99) * MS:.1f}", "", "", ""),
        ("server CPU per send (µs, all threads)", f"{base_cpu:,.0f}", f"{relay_cpu:,.0f}",
         f"{relay_cpu / base_cpu:.2f}", "", ""),
        ("failed sends in the window", f"{errors[0]}", f"{errors[1]}", "", "0",
         _mark(errors == (0, 0))),
        ("CPU time stolen by the hypervisor during the sends", "",
         f"{report.sends_steal:.0%}", "", "", ""),
        (f"disk per stored {MESSAGE_BYTES}-byte message",
         f"{base_disk:,.0f} B (JSON body as sent)", f"{per_message:,.0f} B",
         "", f"≤ {TARGET_DISK_PER_MESSAGE:,.0f} B",
         _mark(per_message <= TARGET_DISK_PER_MESSAGE)),
    ]  # fmt: skip


def _fanout_rows(report: Report) -> list[Row]:
    fan_p50, fan_p99 = percentile(report.fanout, 0.5), percentile(report.fanout, 0.99)
    return [
        (f"fan-out to {FANOUT_DEVICES} devices p50 (ms)", "", f"{fan_p50 * MS:.1f}", "", "", ""),
        (f"fan-out to {FANOUT_DEVICES} devices p99 (ms)", "", f"{fan_p99 * MS:.1f}", "",
         f"< {TARGET_FANOUT_P99_MS:.0f} ms", _mark(fan_p99 * MS < TARGET_FANOUT_P99_MS)),
        ("pushes received / expected", "", f"{len(report.fanout)} / {report.fanout_expected}",
         "", "all", _mark(len(report.fanout) == report.fanout_expected)),
        ("CPU time stolen by the hypervisor during the fan-out", "",
         f"{report.fanout_steal:.0%}", "", "", ""),
    ]  # fmt: skip


def _memory_rows(report: Report) -> list[Row]:
    idle_kib = report.idle_rss_delta / report.idle_sockets / 1024
    return [
        (f"relay memory per idle WebSocket ({report.idle_sockets} open)", "",
         f"{idle_kib:.1f} KiB", "", f"≤ {TARGET_IDLE_SOCKET_KIB:.0f} KiB",
         _mark(idle_kib <= TARGET_IDLE_SOCKET_KIB)),
    ]  # fmt: skip


def render(report: Report) -> str:
    args = report.args
    rows = [
        *(_send_rows(report) if report.relay else []),
        *(_fanout_rows(report) if report.fanout else []),
        *(_memory_rows(report) if report.idle_sockets else []),
    ]
    lines = [
        "## Relay benchmark",
        "",
        f"{report.cpus} CPUs, Python {platform.python_version()}, aiohttp {aiohttp.__version__},"
        f" SQLite {sqlite3.sqlite_version}; {args.workers} load processes, {SENDERS} senders,"
        f" {args.rounds} round(s) of {args.warmup:g} s warm-up + {args.duration:g} s measured"
        " per server (sends/s: median of rounds; latencies: all rounds);"
        f" {report.fanout_sent} fan-out messages, one every {FANOUT_INTERVAL * MS:.0f} ms;"
        f" relay access log {'on' if args.access_log else 'off (its default)'}.",
        "",
        "| measure | baseline | relay | relay / baseline | target | |",
        "| --- | ---: | ---: | ---: | --- | --- |",
        *(f"| {' | '.join(row)} |" for row in rows),
    ]
    if report.relay:
        duration = args.duration
        lines += [
            "",
            "Per round, sends/s: baseline "
            + ", ".join(f"{r.stats.completed / duration:,.0f}" for r in report.baseline)
            + "; relay "
            + ", ".join(f"{r.stats.completed / duration:,.0f}" for r in report.relay)
            + ".",
        ]
    return "\n".join(lines) + "\n"


def run(args: Any) -> str:
    root = ED25519.generate(DeterministicRandom("bench platform root"))
    report = Report(cpus=os.cpu_count() or 0, args=args)
    with tempfile.TemporaryDirectory(prefix="bench-relay-") as tmp:
        base = Path(tmp)
        (base / "relay.toml").write_text(RELAY_SETTINGS, encoding="utf-8")
        servers: list[ServerProcess] = []
        try:
            relay = ServerProcess.start(
                "relay", base,
                ["client.cli", "server", "--config", str(base / "relay.toml"),
                 "--root-key", root.public_key.hex(),
                 *(["--access-log"] if args.access_log else [])],
            )  # fmt: skip
            servers.append(relay)
            baseline = ServerProcess.start("baseline", base, ["tests.benchmarks.baseline_server"])
            servers.append(baseline)
            print("enrolling devices, creating groups…", file=sys.stderr, flush=True)
            fixture = asyncio.run(_set_up(relay.url, root))
            if "memory" in args.phases:
                print("idle WebSockets…", file=sys.stderr, flush=True)
                measure_idle_sockets(relay, fixture, report)
            if "sends" in args.phases:
                measure_sends(relay, baseline, fixture, report)
            if "fanout" in args.phases:
                print("fan-out…", file=sys.stderr, flush=True)
                measure_fanout(relay, fixture, report)
        finally:
            for server in servers:
                server.stop()
        if "Traceback" in (base / "relay.log").read_text(errors="replace"):
            print("the relay logged a traceback:", file=sys.stderr)
            print((base / "relay.log").read_text(errors="replace")[-4000:], file=sys.stderr)
    return render(report)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--out", help="also write the Markdown report to this file")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring")
    parser.add_argument(
        "--rounds", type=int, default=3, help="baseline/relay rounds (the median is reported)"
    )
    parser.add_argument("--workers", type=int, default=2, help="load processes (at least 2)")
    parser.add_argument("--idle-sockets", type=int, default=800, help="idle WebSockets opened")
    parser.add_argument("--fanout-messages", type=int, default=100, help="fan-out sends")
    parser.add_argument("--access-log", action="store_true", help="run the relay with it on")
    parser.add_argument(
        "--phases",
        type=lambda text: set(text.split(",")),
        default=set(PHASES),
        help=f"which of {','.join(PHASES)} to measure (all by default)",
    )
    args = parser.parse_args(argv)
    if not args.phases or not args.phases <= set(PHASES):
        parser.error(f"--phases is a comma-separated subset of {','.join(PHASES)}")
    if args.workers < 2:
        parser.error("--workers must be at least 2")
    if args.fanout_messages > MESSAGE_POOL:
        parser.error(f"--fanout-messages is at most {MESSAGE_POOL}")
    text = run(args)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            out.write(text)


if __name__ == "__main__":
    main()
