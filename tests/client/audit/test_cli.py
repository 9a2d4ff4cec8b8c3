"""``casecircle audit``: exit status 0 only when every check passes, the report files, and the
export an operator hands an auditor."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from client.audit.cli import main
from client.audit.documented import DATABASE_FILE, IDENTITY_PUBLIC_FILE
from client.cli_session import Console
from tests.client.audit.conftest import DemoRelay


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), console=Console(out=out, err=err))
    return code, out.getvalue(), err.getvalue()


def _heads(demo: DemoRelay) -> list[str]:
    return [arg for path in demo.heads for arg in ("--heads", str(path))]


def test_a_passing_audit_exits_0_and_writes_its_report(
    demo_relay: DemoRelay, tmp_path: Path
) -> None:
    report = tmp_path / "report.html"
    code, out, _ = _run(
        "audit", "--data-dir", str(demo_relay.relay_dir), "--root-key", demo_relay.root_key.hex(),
        *_heads(demo_relay), "--report", str(report),
    )  # fmt: skip
    assert code == 0, out
    assert out.splitlines()[0].endswith("PASS")
    assert "4. Transparency log: PASS" in out
    assert report.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_a_failing_audit_exits_1_and_prints_json(demo_relay: DemoRelay, tmp_path: Path) -> None:
    broken = demo_relay.copy(tmp_path / "relay")
    (broken / "extra.db").write_bytes(b"")
    code, out, _ = _run(
        "audit", "--data-dir", str(broken), "--root-key", demo_relay.root_key.hex(), "--json"
    )
    assert code == 1
    data = json.loads(out)
    assert data["verdict"] == "fail"
    assert data["checks"][0]["status"] == "fail"


def test_an_audit_that_cannot_run_says_why(tmp_path: Path) -> None:
    code, _, err = _run("audit")
    assert code == 1
    assert err.startswith("casecircle: audit_input: give --data-dir")
    code, _, err = _run("audit", "--data-dir", str(tmp_path))
    assert code == 1 and "holds no relay.sqlite3" in err
    code, _, err = _run("audit", "--data-dir", str(tmp_path), "--heads", str(tmp_path / "no"))
    assert code == 1 and err.startswith("casecircle: audit_heads_file:")


def test_a_malformed_key_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["audit", "--data-dir", str(tmp_path), "--root-key", "abc"], console=Console())
    assert exit_.value.code == 2


def test_an_export_audits_like_the_data_directory(demo_relay: DemoRelay, tmp_path: Path) -> None:
    code, out, _ = _run(
        "audit", "export", "--data-dir", str(demo_relay.relay_dir), "--out", str(tmp_path / "x")
    )
    assert code == 0, out
    exported = sorted(p.name for p in (tmp_path / "x").iterdir())
    assert exported == sorted([DATABASE_FILE, IDENTITY_PUBLIC_FILE])
    report = demo_relay.audit(tmp_path / "x")
    assert report.passed and report.is_export
    code, _, err = _run(
        "audit", "export", "--data-dir", str(demo_relay.relay_dir), "--out", str(tmp_path / "x")
    )
    assert code == 1 and "cannot be created anew" in err
