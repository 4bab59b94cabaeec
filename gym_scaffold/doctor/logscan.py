"""Diagnose from text a user already has, with no network.

Recognised, anywhere in a log:
- the openai SDK's messages: `Error code: 429 - {'error': {...}}` (1.x prints the body as a
  Python dict) or `Error code: 429 - <message>` (later versions print only the message);
- NeMo Gym's wrapped errors: `Hit an exception in policy_model calling an inner server:
  b'{"error": ...}'`, nested any number of times and possibly JSON-escaped inside a response;
- NeMo Gym's upstream failure log: `[upstream_request_failed] ... status=401` followed by
  `Response content: {...}`;
- a bare error body (`{"error": {...}}`), a failures JSONL file (each line a JSON object whose
  strings and nested objects are scanned), and transport errors (aiohttp and httpx wording).

Each distinct cause becomes one diagnosis with the same categories and fixes as the probes.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gym_scaffold.doctor.bodies import parse_body
from gym_scaffold.doctor.classify import Diagnosis, Where, classify_http
from gym_scaffold.doctor.transport import classify_transport

MAX_LINE = 200_000
MAX_DEPTH = 6

_SDK = re.compile(r"(?:(\w+Error):\s*)?Error code:\s*(\d{3})\s*-\s*")
_WRAPPED = re.compile(r"Hit an exception in (\S+) calling an inner server:\s*")
_WRAPPED_ANY = re.compile(r"Hit an exception (?:in (\S+) )?calling an inner server:\s*")
_UPSTREAM = re.compile(r"\[upstream_request_failed\][^\n]*?server=(\S+)[^\n]*?status=(\d{3})")
_RESPONSE_CONTENT = re.compile(r"Response content:\s*")
_TRANSPORT = [
    (re.compile(r"Temporary failure in name resolution|Name or service not known|nodename nor servname|"
                r"getaddrinfo failed|No address associated with hostname", re.IGNORECASE), "dns"),
    (re.compile(r"CERTIFICATE_VERIFY_FAILED|SSLError|SSL: WRONG_VERSION_NUMBER|ssl\.SSLError|TLS handshake", re.IGNORECASE), "tls"),
    (re.compile(r"Connection refused|Connect call failed|ECONNREFUSED|\[Errno 111\]", re.IGNORECASE), "refused"),
    (re.compile(r"ServerDisconnectedError|Server disconnected|Connection reset by peer|ConnectionResetError|"
                r"RemoteProtocolError", re.IGNORECASE), "reset"),
    (re.compile(r"APITimeoutError|Request timed out\.|ServerTimeoutError|ConnectTimeout|ReadTimeout", re.IGNORECASE), "timeout"),
]
_HOST = re.compile(r"(?:Cannot connect to host|host=|url=)\s*'?([A-Za-z0-9.\-_]+(?::\d+)?)")


@dataclass
class Finding:
    source: str  # server name, or "log:LINE"
    line: int
    diagnosis: Diagnosis
    count: int = 1


def infer_status(body: Any) -> int | None:
    """The HTTP status an error body implies when the status itself was not logged."""
    eb = parse_body(body)
    code = (eb.code or "").lower()
    etype = (eb.type or "").lower()
    msg = eb.message.lower()
    if eb.shape == "nim" and eb.code and eb.code.isdigit():
        return int(eb.code)
    if code.isdigit() and 100 <= int(code) < 600:
        return int(code)
    if etype == "insufficient_quota" or code in ("insufficient_quota", "credit_balance_exhausted") or \
            code in ("rate_limit_exceeded", "slow_down") or "rate limit" in msg:
        return 429
    if code in ("invalid_api_key", "account_deactivated", "mismatched_organization") or \
            "incorrect api key" in msg or "didn't provide an api key" in msg or "unauthorized" in msg or \
            "missing scopes" in msg:
        return 401
    if code == "unsupported_country_region_territory" or "does not have access to model" in msg:
        return 403
    if code in ("model_not_found", "deploymentnotfound") or "does not exist" in msg:
        return 404
    if etype in ("server_error", "service_unavailable_error") or code == "server_is_overloaded":
        return 503 if "overloaded" in msg or code == "server_is_overloaded" else 500
    if eb.shape == "html":
        m = re.search(r"\b(5\d\d)\b", eb.message)
        return int(m.group(1)) if m else 502
    if "exceeded your current quota" in msg:
        return 429
    return None


_JSON = json.JSONDecoder()


def _python_literal(text: str) -> tuple[Any, int] | None:
    """Parse a Python/JSON literal at the start of `text`: a dict, a bytes or str literal."""
    text = text.lstrip()
    if not text:
        return None
    if text[0] in "{[":
        try:  # JSON: the decoder finds where the value ends
            return _JSON.raw_decode(text)
        except (ValueError, RecursionError):
            pass
        end = _balanced_end(text)  # a Python repr (single quotes, None, True), as logged by print
        if end is None:
            return None
        try:
            return ast.literal_eval(text[:end]), end
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None
    if text[:2] in ("b'", 'b"') or text[0] in "'\"":
        start = 1 if text[0] == "b" else 0
        quote = text[start]
        i = start + 1
        while i < len(text):
            if text[i] == "\\":
                i += 2
                continue
            if text[i] == quote:
                try:
                    return ast.literal_eval(text[: i + 1]), i + 1
                except (ValueError, SyntaxError, MemoryError, RecursionError):
                    return None
            i += 1
    return None


def _balanced_end(text: str) -> int | None:
    depth = 0
    quote = None
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _as_body(value: Any) -> Any:
    """bytes/str holding JSON -> the decoded value; anything else unchanged."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "[", '"'):
            try:
                return json.loads(stripped)
            except ValueError:
                pass
    return value


class Scanner:
    def __init__(self, where: Where | None = None) -> None:
        self.where = where or Where()
        self.findings: list[Finding] = []
        self._index: dict[tuple, Finding] = {}

    # ---- recording
    def _record(self, source: str, line: int, d: Diagnosis) -> None:
        key = ("log" if source.startswith("log:") else source, d.category, d.status_code, d.message)
        if key in self._index:
            self._index[key].count += 1
            return
        f = Finding(source, line, d)
        self._index[key] = f
        self.findings.append(f)

    def body(self, source: str, line: int, status: int | None, body: Any, depth: int = 0) -> bool:
        """Classify one error body; unwrap NeMo Gym's wrappers first. True if something was recorded."""
        if depth > MAX_DEPTH:
            return False
        body = _as_body(body)
        if isinstance(body, str):
            m = _WRAPPED_ANY.search(body)
            if m:
                inner = _python_literal(body[m.end():])
                inner_source = m.group(1) or source
                if inner is not None:
                    return self.body(inner_source, line, None, inner[0], depth + 1)
                return self.text(inner_source, line, body[m.end():], depth + 1)
        if status is None:
            status = infer_status(body)
        if status is None:
            if isinstance(body, str):
                return self.text(source, line, body, depth + 1)
            return False
        d = classify_http(status, {}, body if not isinstance(body, (dict, list)) else json.dumps(body),
                          endpoint="inference", where=self.where)
        d.details["from_log"] = True
        self._record(source, line, d)
        return True

    def text(self, source: str, line: int, text: str, depth: int = 0) -> bool:
        """Scan one line (or fragment) of free text."""
        if depth > MAX_DEPTH or not text:
            return False
        found = False
        # NeMo Gym wrapped errors (possibly JSON-escaped inside a response body)
        for m in _WRAPPED_ANY.finditer(text):
            rest = text[m.end():]
            inner = _python_literal(rest)
            if inner is None:
                # JSON-escaped form: decode the JSON string the marker sits in
                start = text.rfind('"', 0, m.start())
                if start >= 0:
                    lit = _python_literal(text[start:])
                    if (
                        lit is not None
                        and isinstance(lit[0], str)
                        and lit[0] != text[start:]
                        and self.text(source, line, lit[0], depth + 1)
                    ):
                        found = True
                continue
            if self.body(m.group(1) or source, line, None, inner[0], depth + 1):
                found = True
        if found:
            return True
        # SDK messages
        for m in _SDK.finditer(text):
            status = int(m.group(2))
            rest = text[m.end():]
            lit = _python_literal(rest)
            if lit is not None and isinstance(lit[0], (dict, list)):
                body: Any = lit[0]
            else:
                message = rest.strip().splitlines()[0] if rest.strip() else ""
                body = {"error": {"message": message}}
            if self.body(source, line, status, body, depth + 1):
                found = True
        if found:
            return True
        # a bare JSON error body on the line
        idx = text.find("{")
        while idx >= 0 and not found:
            lit = _python_literal(text[idx:])
            if lit is not None and isinstance(lit[0], dict):
                found = self.json_value(source, line, lit[0], depth + 1)
                idx = text.find("{", idx + lit[1])
            else:
                idx = text.find("{", idx + 1)
        if found:
            return True
        for pattern, kind in _TRANSPORT:
            if pattern.search(text):
                hm = _HOST.search(text)
                d = classify_transport(kind, text.strip()[:200], where=self.where, host=hm.group(1) if hm else None)
                d.details["from_log"] = True
                self._record(source, line, d)
                return True
        return False

    def json_value(self, source: str, line: int, value: Any, depth: int = 0) -> bool:
        """A decoded JSON value (a failures JSONL record): error bodies, nested records, strings."""
        if depth > MAX_DEPTH:
            return False
        if isinstance(value, dict):
            err = value.get("error")
            is_body = (isinstance(err, dict) and ("message" in err or "code" in err)) or \
                      (isinstance(err, str) and set(value) <= {"error"}) or \
                      value.get("object") == "error" or ("title" in value and "detail" in value)
            if is_body:
                status = None
                for k in ("status_code", "status", "http_status"):
                    v = value.get(k)
                    if isinstance(v, int) and 100 <= v < 600:
                        status = v
                return self.body(source, line, status, value, depth + 1)
            status = next((value[k] for k in ("status_code", "status", "http_status")
                           if isinstance(value.get(k), int) and 100 <= value[k] < 600), None)
            found = False
            for k, v in value.items():
                if isinstance(v, (dict, list)):
                    found = self.json_value(source, line, v, depth + 1) or found
                elif isinstance(v, str) and v:
                    if status is not None and k in ("body", "response", "response_content", "content"):
                        found = self.body(source, line, status, v, depth + 1) or found
                    else:
                        found = self.text(source, line, v, depth + 1) or found
            return found
        if isinstance(value, list):
            found = False
            for v in value[:1000]:
                found = self.json_value(source, line, v, depth + 1) or found
            return found
        if isinstance(value, str):
            return self.text(source, line, value, depth + 1)
        return False


def scan(text: str, where: Where | None = None) -> list[Finding]:
    """Every distinct error cause in `text`, in order of first appearance."""
    scanner = Scanner(where)
    lines = text.splitlines()
    pending_status: tuple[str, int] | None = None
    for number, line in enumerate(lines, start=1):
        line = line[:MAX_LINE]
        source = f"log:{number}"
        up = _UPSTREAM.search(line)
        if up:
            pending_status = (up.group(1), int(up.group(2)))
            continue
        if pending_status is not None:
            m = _RESPONSE_CONTENT.search(line)
            server, status = pending_status
            pending_status = None
            if m:
                content = line[m.end():].strip()
                lit = _python_literal(content)
                value = lit[0] if lit is not None else content
                if scanner.body(server, number, status, value):
                    continue
        stripped = line.strip()
        if stripped.startswith("{") and stripped.endswith("}"):
            try:
                record = json.loads(stripped)
            except ValueError:
                record = None
            if record is not None:
                scanner.json_value(source, number, record)
                continue
        scanner.text(source, number, line)
    return scanner.findings


def iter_diagnoses(findings: list[Finding]) -> Iterator[tuple[str, Diagnosis]]:
    for f in findings:
        d = f.diagnosis
        if f.count > 1:
            d.message += f" (seen {f.count} times, first at line {f.line})"
        else:
            d.message += f" (line {f.line})"
        yield f.source, d
