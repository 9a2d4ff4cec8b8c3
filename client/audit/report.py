"""The audit report: JSON for machines, one self-contained HTML page for the signer.

The HTML page has its style sheet and its chart (:mod:`client.audit.chart`) inline and no
script, so it opens offline, anywhere, and can be archived as the signed record. Every
string that came from the relay's data — subjects, details, table names, file names —
is escaped with :func:`html.escape`: a hostile relay controls those bytes.

Layout: the verdict; the four checks with what each proves and cannot prove; how ATTACKS
Z1–Z4 are covered; the evidence of each check; the inventory table; the log's growth; a
block for the auditor's signature.
"""

from __future__ import annotations

import time
from html import escape
from typing import Any

from client.audit.auditor import AuditReport
from client.audit.chart import log_growth_svg
from client.audit.claims import ATTACKS, CHECKS
from client.audit.results import CheckResult, Status

REPORT_FORMAT = "casecircle-audit-report/1"


def _when(timestamp: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))


def _key(key: bytes | None) -> str | None:
    return key.hex() if key is not None else None


def attack_status(report: AuditReport, checks: tuple[str, ...]) -> str:
    """``pass``, ``fail``, or ``incomplete`` when a check it relies on was not run."""
    statuses = {report.check(key).status for key in checks}
    if Status.FAIL in statuses:
        return "fail"
    return "incomplete" if Status.SKIPPED in statuses else "pass"


def check_json(check: CheckResult) -> dict[str, Any]:
    claim = CHECKS[check.check]
    return {
        "key": check.check,
        "number": claim.number,
        "title": claim.title,
        "status": check.status.value,
        "summary": check.summary,
        "proves": claim.proves,
        "cannot_prove": claim.cannot_prove,
        "facts": dict(check.facts),
        "failures": check.failures_total,
        "notes": check.notes_total,
        "omitted": check.omitted,
        "findings": [
            {"failed": f.failed, "subject": f.subject, "detail": f.detail} for f in check.findings
        ],
    }


def report_json(report: AuditReport) -> dict[str, Any]:
    return {
        "format": REPORT_FORMAT,
        "verdict": "pass" if report.passed else "fail",
        "created_at": report.created_at,
        "data_dir": report.data_dir,
        "audit_export": report.is_export,
        "platform_root_public_key": _key(report.root_key),
        "relay_public_key": _key(report.relay_key),
        "checks": [check_json(check) for check in report.checks],
        "attacks": [
            {
                "id": attack,
                "status": attack_status(report, checks),
                "covered_by": list(checks),
                "what_it_proves": text,
            }
            for attack, (text, checks) in ATTACKS.items()
        ],
        "inventory": [
            {
                "table": row.table,
                "column": row.column,
                "class": row.data_class,
                "declared_type": row.declared_type,
                "rows": row.rows,
                "storage": dict(row.storage),
                "state": row.state,
            }
            for row in report.inventory
        ],
        "log_growth": [{"appended_at": t, "size": size} for t, size in report.timeline],
    }


# --- HTML ---------------------------------------------------------------------------------

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222;
       padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; width: 100%; margin: .5em 0 1em; }
th, td { border: 1px solid #ccc; padding: .3em .5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
code, .mono { font-family: ui-monospace, monospace; font-size: .92em; word-break: break-all; }
.badge { display: inline-block; padding: .1em .6em; border-radius: .3em; font-weight: bold;
         color: #fff; }
.pass { background: #2e7d32; } .fail { background: #c62828; }
.skipped, .incomplete { background: #8d6e00; }
.verdict { font-size: 1.3em; margin: .6em 0; }
.note td { color: #555; }
.sign td { height: 2.5em; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }
dt { font-weight: bold; } dd { margin: 0; }
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _badge(status: str) -> str:
    return f'<span class="badge {_e(status)}">{_e(status.upper())}</span>'


_NOTE = ' class="note"'


def _check_section(check: CheckResult) -> str:
    claim = CHECKS[check.check]
    facts = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in check.facts)
    rows = "".join(
        f"<tr{_NOTE if not f.failed else ''}><td>{'failure' if f.failed else 'note'}</td>"
        f'<td class="mono">{_e(f.subject)}</td><td>{_e(f.detail)}</td></tr>'
        for f in check.findings
    )
    findings = (
        f"<table><tr><th>kind</th><th>where</th><th>what</th></tr>{rows}</table>"
        if rows
        else "<p>No findings.</p>"
    )
    omitted = (
        f"<p>{check.omitted} further findings are counted but not listed.</p>"
        if check.omitted
        else ""
    )
    return (
        f'<section id="check-{_e(check.check)}"><h2>{claim.number}. {_e(claim.title)}'
        f" {_badge(check.status.value)}</h2>"
        f"<p><strong>{_e(check.summary)}</strong></p>"
        f"<p><strong>Proves:</strong> {_e(claim.proves)}</p>"
        f"<p><strong>Cannot prove:</strong> {_e(claim.cannot_prove)}</p>"
        f"<dl>{facts}</dl>{findings}{omitted}</section>"
    )


def _inventory_table(report: AuditReport) -> str:
    rows = []
    for row in report.inventory:
        storage = ", ".join(f"{kind} × {count}" for kind, count in row.storage) or "—"
        state = row.state if row.state == "documented" else f"<strong>{_e(row.state)}</strong>"
        rows.append(
            f"<tr><td><code>{_e(row.table)}</code></td><td><code>{_e(row.column)}</code></td>"
            f"<td>{_e(row.data_class or '—')}</td><td>{_e(row.declared_type or '—')}</td>"
            f"<td>{row.rows}</td><td>{_e(storage)}</td><td>{state}</td></tr>"
        )
    return (
        "<table><tr><th>table</th><th>column</th><th>class</th><th>type</th><th>rows</th>"
        f"<th>stored as</th><th>inventory</th></tr>{''.join(rows)}</table>"
    )


def render_html(report: AuditReport) -> str:
    verdict = "pass" if report.passed else "fail"
    overview = "".join(
        f'<tr><td>{CHECKS[c.check].number}</td><td><a href="#check-{_e(c.check)}">'
        f"{_e(CHECKS[c.check].title)}</a></td><td>{_badge(c.status.value)}</td>"
        f"<td>{_e(c.summary)}</td></tr>"
        for c in report.checks
    )
    attacks = "".join(
        f"<tr><td>{_e(attack)}</td><td>{_badge(attack_status(report, checks))}</td>"
        f"<td>{_e(', '.join(CHECKS[c].title for c in checks))}</td><td>{_e(text)}</td></tr>"
        for attack, (text, checks) in ATTACKS.items()
    )
    source = "an audit export" if report.is_export else "a relay data directory"
    keys = (
        f'<dt>platform root key</dt><dd class="mono">{_e(_key(report.root_key) or "not given")}'
        f'</dd><dt>relay identity key</dt><dd class="mono">'
        f"{_e(_key(report.relay_key) or 'unknown')}</dd>"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>casecircle relay audit — {_e(verdict.upper())}</title>
<style>{_STYLE}</style></head>
<body>
<h1>casecircle relay audit</h1>
<p class="verdict">Verdict: {_badge(verdict)}</p>
<dl><dt>audited</dt><dd class="mono">{_e(report.data_dir)} ({_e(source)})</dd>
<dt>at</dt><dd>{_e(_when(report.created_at))}</dd>{keys}</dl>
<h2>Checks</h2>
<table><tr><th>#</th><th>check</th><th>result</th><th>summary</th></tr>{overview}</table>
<h2>Zero-knowledge claims (ATTACKS Z1–Z4)</h2>
<table><tr><th>claim</th><th>result</th><th>shown by</th><th>what it proves</th></tr>{attacks}
</table>
{"".join(_check_section(c) for c in report.checks)}
<h2>Inventory: what the relay stores</h2>
<p>Classes as in docs/zero-knowledge.md — C: ciphertext the relay cannot read; P: public
directory data; M: metadata the relay can read (what it can correlate, Z4).</p>
{_inventory_table(report)}
<h2>Growth of the transparency log</h2>
{log_growth_svg(report.timeline)}
<h2>Signature</h2>
<table class="sign"><tr><th>auditor</th><td></td></tr><tr><th>organisation</th><td></td></tr>
<tr><th>date</th><td></td></tr><tr><th>signature</th><td></td></tr></table>
</body></html>
"""


def summary_lines(report: AuditReport) -> list[str]:
    """A short plain-text account for the terminal."""
    lines = [f"casecircle audit of {report.data_dir}: {'PASS' if report.passed else 'FAIL'}"]
    for check in report.checks:
        claim = CHECKS[check.check]
        status = check.status.value.upper()
        lines.append(f"  {claim.number}. {claim.title}: {status} — {check.summary}")
        lines.extend(
            f"       {finding.subject}: {finding.detail}"
            for finding in check.findings[:5]
            if finding.failed
        )
    return lines
