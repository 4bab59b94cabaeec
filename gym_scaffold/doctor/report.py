"""Output of `doctor`: text for people, JSON for tools. Every external text is scrubbed here.

JSON shape (stable):
    {"ok": bool,
     "checks": [{"id", "status", "message", "hint"}],
     "diagnoses": [{"server", "category", "status_code", "message", "fix"}]}
"""

from __future__ import annotations

import textwrap
from typing import Literal

from pydantic import BaseModel

from gym_scaffold.doctor.results import DoctorResult, Status
from gym_scaffold.secrets import scrub_all


class CheckOut(BaseModel):
    id: str
    status: Literal["ok", "warning", "failure", "skipped"]
    message: str
    hint: str | None = None


class DiagnosisOut(BaseModel):
    server: str
    category: str
    status_code: int | None = None
    message: str
    fix: str


class DoctorReport(BaseModel):
    ok: bool
    checks: list[CheckOut]
    diagnoses: list[DiagnosisOut]


def build(result: DoctorResult) -> DoctorReport:
    secrets = result.secrets

    def clean(text: str | None) -> str | None:
        return None if text is None else scrub_all(text, secrets)

    checks = [CheckOut(id=c.id, status=c.status.value, message=clean(c.message), hint=clean(c.hint))
              for c in result.checks]
    diagnoses = []
    for s in result.servers:
        checks.extend(CheckOut(id=c.id, status=c.status.value, message=clean(c.message), hint=clean(c.hint))
                      for c in s.checks)
        d = s.diagnosis
        if d is not None:
            diagnoses.append(DiagnosisOut(server=s.target.server, category=d.category.value,
                                          status_code=d.status_code, message=clean(d.message), fix=clean(d.fix)))
    for source, d in result.log_diagnoses:
        diagnoses.append(DiagnosisOut(server=source, category=d.category.value, status_code=d.status_code,
                                      message=clean(d.message), fix=clean(d.fix)))
    return DoctorReport(ok=result.ok, checks=checks, diagnoses=diagnoses)


def render_json(result: DoctorResult) -> str:
    return build(result).model_dump_json(indent=2)


_MARK = {"ok": "ok  ", "warning": "warn", "failure": "FAIL", "skipped": "skip"}


def _fix_line(indent: str, fix: str, width: int | None) -> str:
    """`indent + "fix: " + fix`, wrapped to `width` (a terminal's) under its first word."""
    line = f"{indent}fix: {fix}"
    if width is None:
        return line  # a file or a pipe: one line per fix, for grep
    return textwrap.fill(
        line, width, subsequent_indent=" " * (len(indent) + 5), break_long_words=False, break_on_hyphens=False
    )


def render_text(result: DoctorResult, width: int | None = None) -> str:
    """The report for a person; `width` wraps the fix lines (None: never)."""
    report = build(result)
    lines: list[str] = []
    by_server: dict[str, list[CheckOut]] = {}
    general = []
    for c in report.checks:
        server, sep, _ = c.id.rpartition("/")
        if sep:
            by_server.setdefault(server, []).append(c)
        else:
            general.append(c)
    for c in general:
        lines.append(f"{_MARK[c.status]}  {c.id:<12} {c.message}")
        if c.hint and c.status in ("failure", "warning"):
            lines.append(_fix_line(f"      {'':<12} ", c.hint, width))
    servers = {s.target.server: s for s in result.servers}
    for d in report.diagnoses:
        s = servers.get(d.server)
        if s is not None:
            t = s.target
            url = t.base_url if isinstance(t.base_url, str) else "?"
            model = t.model if isinstance(t.model, str) else "?"
            lines.append("")
            lines.append(f"{d.server} ({t.implementation}, {scrub_all(url, result.secrets)}, model {model})")
            hints = set()
            messages = set()
            for c in by_server.get(d.server, []):
                name = c.id.rpartition("/")[2]
                lines.append(f"  {_MARK[c.status]}  {name:<11} {c.message}")
                messages.add(c.message)
                if c.hint and c.status in ("failure", "warning"):
                    lines.append(_fix_line(f"        {'':<11} ", c.hint, width))
                    hints.add(c.hint)
            code = f" ({d.status_code})" if d.status_code and d.category != "ok" else ""
            said = "" if d.message in messages or d.message.removesuffix("; no request was sent with it") in messages \
                else f": {d.message}"
            lines.append(f"  => {d.server}: {d.category}{code}{said}")
            if d.fix and d.fix not in hints:
                lines.append(_fix_line("     ", d.fix, width))
        else:
            lines.append(f"{d.server}: {d.category}{f' ({d.status_code})' if d.status_code else ''}: {d.message}")
            if d.fix:
                lines.append(_fix_line("  ", d.fix, width))
    lines.append("")
    lines.append(summary(result, report))
    return "\n".join(lines).lstrip("\n")


def summary(result: DoctorResult, report: DoctorReport) -> str:
    n = len(report.diagnoses)
    bad = [d for d in report.diagnoses if d.category != "ok"]
    failing_checks = [c for c in report.checks if c.status == Status.FAILURE.value and "/" not in c.id]
    took = f" in {result.elapsed_s:.1f} s" if result.elapsed_s else ""
    if result.log_mode:
        if not n:
            return "summary: no model-server error found in the log" + (
                "" if not failing_checks else f"; {len(failing_checks)} problem(s) reading it"
            )
        cats = sorted({d.category for d in bad})
        return f"summary: {n} distinct error(s) in the log: {', '.join(cats)}"
    if not n:
        return "summary: no model server checked" + took
    cats = sorted({d.category for d in bad})
    state = "all ok" if report.ok else f"{len(bad)} failing ({', '.join(cats) or 'config problems'})"
    return f"summary: {n} server(s) checked, {state}{took}"
