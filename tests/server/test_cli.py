"""``casecircle server`` as a process: it serves, and SIGTERM shuts it down cleanly."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_server_process_serves_and_stops(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "data"
    output = (tmp_path / "relay.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "client.cli", "server", "--data-dir", str(data),
         "--port", str(port), "--root-key", "ab" * 32],
        stdout=output, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/platform", timeout=1) as r:
                    body = json.loads(r.read())
                break
            except OSError:
                assert time.monotonic() < deadline, "the relay did not start"
                time.sleep(0.1)
        assert body["root_key"] == "ab" * 32
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        output.close()
    assert (data / "relay.sqlite3").exists()
    assert (data / "relay-identity.key").stat().st_mode & 0o077 == 0
    log = (tmp_path / "relay.log").read_text()
    assert "relay listening" in log and "Traceback" not in log
