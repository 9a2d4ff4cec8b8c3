"""The report: JSON for machines, and one self-contained HTML page in which nothing the relay
stored can inject markup."""

from __future__ import annotations

import dataclasses
import json
import re

from client.audit.auditor import AuditReport
from client.audit.chart import MAX_POINTS, log_growth_svg
from client.audit.report import render_html, report_json, summary_lines
from client.audit.results import Finding, Status
from tests.client.audit.conftest import DemoRelay

HOSTILE = '<script>alert("x")</script><img src=http://evil.example/x.png onerror=go()>'


def _hostile(report: AuditReport) -> AuditReport:
    """The report with a finding whose subject and detail came from a hostile relay."""
    inventory = report.check("inventory")
    broken = dataclasses.replace(
        inventory,
        status=Status.FAIL,
        summary=HOSTILE,
        findings=(Finding(failed=True, subject=HOSTILE, detail=HOSTILE),),
        failures_total=1,
        notes_total=0,
    )
    checks = tuple(broken if c.check == "inventory" else c for c in report.checks)
    return dataclasses.replace(report, checks=checks, data_dir=HOSTILE)


def test_the_html_report_escapes_everything_from_the_relay(demo_relay: DemoRelay) -> None:
    page = render_html(_hostile(demo_relay.audit()))
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "Verdict: " in page and 'class="badge fail"' in page


def test_the_html_report_is_self_contained(demo_relay: DemoRelay) -> None:
    page = render_html(demo_relay.audit())
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:|//)", page)
    assert "<script" not in page and "@import" not in page and "url(" not in page
    assert "<style>" in page and "<svg" in page and "<polyline" in page
    for title in ("Inventory", "Ciphertext only", "Canary", "Transparency log"):
        assert title in page
    for claim in ("Z1", "Z2", "Z3", "Z4"):
        assert f"<td>{claim}</td>" in page
    assert "<code>blob_chunks</code></td><td><code>data</code></td><td>C</td>" in page
    assert "signature" in page


def test_the_json_report_carries_the_verdict_and_the_evidence(demo_relay: DemoRelay) -> None:
    data = json.loads(json.dumps(report_json(demo_relay.audit())))
    assert data["verdict"] == "pass"
    assert [c["key"] for c in data["checks"]] == ["inventory", "payloads", "canary", "transparency"]
    assert {a["id"]: a["status"] for a in data["attacks"]} == {
        "Z1": "incomplete", "Z2": "incomplete", "Z3": "pass", "Z4": "pass",
    }  # fmt: skip
    assert data["log_growth"][-1]["size"] == 6
    assert all(row["state"] == "documented" for row in data["inventory"])
    assert data["checks"][3]["proves"] and data["checks"][3]["cannot_prove"]


def test_the_terminal_summary_lists_failures(demo_relay: DemoRelay) -> None:
    lines = summary_lines(_hostile(demo_relay.audit()))
    assert lines[0].endswith("FAIL")
    assert any(HOSTILE in line for line in lines[1:])


def test_the_chart_draws_every_entry_or_an_even_sample() -> None:
    assert "The log is empty" in log_growth_svg(())
    small = log_growth_svg([(100 + i, i + 1) for i in range(10)])
    assert small.count(",") == 1 + 2 * 10
    large = log_growth_svg([(i, i + 1) for i in range(3 * MAX_POINTS)])
    assert large.count(",") == 1 + 2 * MAX_POINTS
    assert ">6000<" in large
