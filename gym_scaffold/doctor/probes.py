"""Ask the endpoint, with the official openai SDK, the way NeMo Gym will.

Steps per server: network + auth (`GET /models` with the key), model (listed, or
`GET /models/{model}`), inference (one minimal request of the kind the server makes).
The first step that fails gives the diagnosis.

Time: the SDK runs with `max_retries=0` (so it never sleeps on `retry-after`) and a
per-request timeout taken from what is left of the run's budget; each server is probed in a
daemon thread, and whatever has not finished at the deadline is diagnosed as a timeout at the
step it was in, so a server that trickles bytes forever cannot hold the run.
"""

from __future__ import annotations

import difflib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from gym_scaffold.doctor.classify import Category, Diagnosis, classify_http
from gym_scaffold.doctor.results import ServerResult, Status
from gym_scaffold.doctor.transport import classify_transport, transport_kind
from gym_scaffold.urls import split_url

STEPS = ("network", "auth", "model", "inference")
INFERENCE_PROMPT = "Reply with the single word OK."
RESPONSES_MIN_OUTPUT_TOKENS = 16  # the Responses API rejects max_output_tokens below 16
DEFAULT_AZURE_API_VERSION = "2024-10-21"


@dataclass
class _Probe:
    res: ServerResult
    deadline: float
    no_inference: bool
    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: bool = False
    step: str = "network"
    connected: bool = False

    # All writes go through these, so nothing changes after the deadline closed the record.
    def add(self, step: str, status: Status, message: str, hint: str | None = None) -> None:
        with self.lock:
            if not self.closed:
                self.res.add(step, status, message, hint)

    def finish(self, diagnosis: Diagnosis) -> None:
        with self.lock:
            if self.closed:
                return
            self.res.diagnosis = diagnosis
            self.closed = True

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


class _Stop(Exception):
    pass


def _host(url: Any) -> str | None:
    parts = split_url(url) if isinstance(url, str) else None
    if parts is None or not parts.hostname:
        return None
    return f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname


def _make_client(openai: Any, target: Any, timeout: float) -> Any:
    key = target.api_key.reveal() if target.api_key is not None else ""
    base = target.base_url.rstrip("/")
    headers = dict(target.default_headers) or None
    # The SDK's HTTP client follows redirects, to any host, and strips only Authorization on
    # the way: Azure's `api-key` header would reach whatever host the server names. The key
    # goes to the configured endpoint only; a redirect is diagnosed (classify_http, 3xx).
    http_client = openai.DefaultHttpxClient(follow_redirects=False)
    if target.where.provider == "azure" and "/openai/v1" not in base:
        # The deployment URL form (https://<resource>.openai.azure.com/openai/deployments/<name>)
        # is the resource endpoint plus the deployment.
        endpoint, _, deployment = base.partition("/openai/deployments/")
        return openai.AzureOpenAI(
            azure_endpoint=endpoint,
            azure_deployment=deployment.strip("/") or None,
            api_key=key,
            api_version=target.azure_api_version or DEFAULT_AZURE_API_VERSION,
            max_retries=0,
            timeout=timeout,
            default_headers=headers,
            http_client=http_client,
        )
    return openai.OpenAI(
        base_url=base, api_key=key, max_retries=0, timeout=timeout, default_headers=headers, http_client=http_client
    )


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def probe(res: ServerResult, deadline: float, no_inference: bool) -> _Probe:
    """Start probing one target in a daemon thread; returns the probe to wait on."""
    p = _Probe(res, deadline, no_inference)
    thread = threading.Thread(target=_run, args=(p,), name=f"doctor-{res.target.server}", daemon=True)
    p.thread = thread  # type: ignore[attr-defined]
    thread.start()
    return p


def wait(probes: list[_Probe], deadline: float) -> None:
    for p in probes:
        left = deadline - time.monotonic()
        p.thread.join(max(0.0, left))  # type: ignore[attr-defined]
    for p in probes:
        with p.lock:
            if p.closed:
                continue
        _timeout(p, "the run's --timeout was reached")


def _timeout(p: _Probe, detail: str) -> None:
    t = p.res.target
    budget = max(0.0, p.deadline - getattr(p, "started", p.deadline))
    step = p.step
    if p.connected and not any(c.id.endswith("/network") for c in p.res.checks):
        p.add("network", Status.OK, f"connected to {_host(t.base_url)}")
    if step == "network" and not p.connected:
        d = classify_transport("timeout", detail, where=t.where, host=_host(t.base_url), timeout_s=budget or None)
    else:
        what = {"auth": "GET /models", "model": "the model lookup", "inference": "the inference call"}.get(step, step)
        d = Diagnosis(
            Category.UNREACHABLE,
            f"timeout: the server accepted the connection but {what} got no complete answer in time",
            "The server is up but does not answer: it may still be loading the model, be overloaded, or stream "
            "very slowly. Check its log; raise --timeout for a slow server.",
            details={"kind": "timeout", "step": step},
        )
    p.add(step, Status.FAILURE, d.message, d.fix)
    p.finish(d)


def _run(p: _Probe) -> None:
    p.started = time.monotonic()  # type: ignore[attr-defined]
    try:
        _steps(p)
    except _Stop:
        pass
    except Exception as exc:  # noqa: BLE001 - a probe thread must never die with a traceback
        kind, detail = transport_kind(exc)
        d = classify_transport(kind, f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__,
                               where=p.res.target.where, host=_host(p.res.target.base_url))
        p.add(p.step, Status.FAILURE, d.message, d.fix)
        p.finish(d)


def _call(p: _Probe, step: str, endpoint: str, fn: Any) -> Any:
    """Run one SDK call; on failure record the check, finish with the diagnosis and stop."""
    import openai

    t = p.res.target
    p.step = step
    left = p.remaining()
    if left <= 0.05:
        _timeout(p, "the run's --timeout was reached")
        raise _Stop
    try:
        raw = fn(max(0.05, left - 0.05))
    except openai.APIStatusError as exc:
        p.connected = True
        if step == "auth":
            p.add("network", Status.OK, f"connected to {_host(t.base_url)}")
        resp = exc.response
        try:
            text = resp.text
        except Exception:  # noqa: BLE001 - a body that cannot be read is classified as empty
            text = ""
        d = classify_http(resp.status_code, dict(resp.headers), text, endpoint=endpoint, where=t.where, model=t.model)
        return _Answer(resp.status_code, dict(resp.headers), text, d)
    except openai.APIConnectionError as exc:
        kind, detail = transport_kind(exc)
        if isinstance(exc, openai.APITimeoutError):
            kind = "timeout"
            if _in_chain(exc, ("ReadTimeout", "WriteTimeout")):
                p.connected = True  # the connection was made; the answer did not come
        if p.connected and kind in ("timeout", "reset"):
            if kind == "timeout":
                _timeout(p, "no answer within the per-request timeout")
                raise _Stop from None
            d = classify_transport("reset", detail, where=t.where, host=_host(t.base_url))
        else:
            d = classify_transport(kind, detail, where=t.where, host=_host(t.base_url),
                                   timeout_s=left if kind == "timeout" else None)
        p.add("network" if not p.connected else step, Status.FAILURE, d.message, d.fix)
        p.finish(d)
        raise _Stop from None
    except openai.OpenAIError as exc:
        msg = str(exc)
        if "api_key" in msg or "API key" in msg:
            d = Diagnosis(Category.MISSING_API_KEY, "the SDK refused to send a request without an API key",
                          f"Set {t.where.key}.")
        else:
            d = Diagnosis(Category.UNEXPECTED_RESPONSE, f"the SDK failed: {type(exc).__name__}: {msg[:200]}",
                          "Run with --format json and report it with the SDK version.")
        p.add(step, Status.FAILURE, d.message, d.fix)
        p.finish(d)
        raise _Stop from None
    p.connected = True
    http = raw.http_response
    try:
        text = http.text
    except Exception:  # noqa: BLE001
        text = ""
    d = classify_http(http.status_code, dict(http.headers), text, endpoint=endpoint, where=t.where, model=t.model)
    return _Answer(http.status_code, dict(http.headers), text, d)


def _in_chain(exc: BaseException, names: tuple[str, ...]) -> bool:
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 12:
        if type(current).__name__ in names:
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


@dataclass
class _Answer:
    status: int
    headers: dict
    text: str
    diagnosis: Diagnosis


def _stop_with(p: _Probe, step: str, d: Diagnosis) -> None:
    p.add(step, Status.FAILURE, d.message, d.fix)
    p.finish(d)
    raise _Stop


def _steps(p: _Probe) -> None:
    import openai

    t = p.res.target
    host = _host(t.base_url)
    client = _make_client(openai, t, max(0.1, p.remaining()))
    started = time.monotonic()

    # network + auth: GET /models
    ans = _call(p, "auth", "models", lambda s: client.models.with_raw_response.list(timeout=s))
    if not any(c.id.endswith("/network") for c in p.res.checks):
        p.add("network", Status.OK, f"connected to {host} ({(time.monotonic() - started) * 1000:.0f} ms)")
    if not ans.diagnosis.ok:
        _stop_with(p, "auth", ans.diagnosis)
    ids: list[str] = []
    data = _json(ans.text)
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        ids = [str(m.get("id")) for m in data["data"] if isinstance(m, dict) and m.get("id") is not None]
        p.add("auth", Status.OK, f"GET /models: key accepted, {len(ids)} model(s) listed")
    else:
        p.add("auth", Status.WARNING, "GET /models answered 200 but not with an OpenAI model list",
              "The server may not be OpenAI-compatible; the inference call will tell.")

    # model
    model = t.model
    if t.where.provider == "azure":
        p.add("model", Status.SKIPPED, "Azure deployments are not listed by GET /models: the inference call checks it")
    elif model in ids:
        p.add("model", Status.OK, f"model {model} is listed")
    else:
        ans = _call(p, "model", "model", lambda s: client.models.with_raw_response.retrieve(model, timeout=s))
        d = ans.diagnosis
        if d.ok:
            p.add("model", Status.OK, f"GET /models/{model}: found")
        elif d.category in (Category.BAD_BASE_URL, Category.UNEXPECTED_RESPONSE):
            # the server has no GET /models/{id} route: judge from the list
            if ids:
                close = difflib.get_close_matches(str(model), ids, n=3, cutoff=0.4)
                shown = ", ".join(ids[:8]) + (", ..." if len(ids) > 8 else "")
                msg = f"model {model!r} is not among the {len(ids)} model(s) the server lists ({shown})"
                fix = f"Set {t.where.model} to one of the listed names" + (
                    f" (closest: {', '.join(close)})." if close else "."
                )
                _stop_with(p, "model", Diagnosis(Category.MODEL_NOT_FOUND, msg, fix, status_code=ans.status,
                                                 details={"listed": ids[:50]}))
            p.add("model", Status.WARNING, f"could not check model {model!r} (no list, no GET /models/{{id}})",
                  "The inference call will tell.")
        else:
            _stop_with(p, "model", d)

    if p.no_inference:
        p.add("inference", Status.SKIPPED, "not run (--no-inference): billing, quota and rate limits are unverified")
        p.finish(Diagnosis(Category.OK, f"reachable, key accepted, model {model} available (inference not tried)",
                           "", status_code=200))
        return

    # inference: the kind of request the server makes, with the smallest output budget
    t0 = time.monotonic()
    if t.api == "responses":
        def call(s: float, extra: dict | None = None) -> Any:
            kwargs = {"max_output_tokens": RESPONSES_MIN_OUTPUT_TOKENS} if extra is None else extra
            return client.responses.with_raw_response.create(model=model, input=INFERENCE_PROMPT, timeout=s, **kwargs)
        label = "POST /responses"
        budget_param = "max_output_tokens"
        fallback: dict = {}
    else:
        def call(s: float, extra: dict | None = None) -> Any:
            kwargs = {"max_tokens": 1} if extra is None else extra
            return client.chat.completions.with_raw_response.create(
                model=model, messages=[{"role": "user", "content": INFERENCE_PROMPT}], timeout=s, **kwargs
            )
        label = "POST /chat/completions"
        budget_param = "max_tokens"
        fallback = {"max_completion_tokens": 1}
    ans = _call(p, "inference", "inference", lambda s: call(s))
    if ans.status == 400 and budget_param in ans.text:
        # the model wants another output-budget parameter (reasoning models: max_completion_tokens)
        ans = _call(p, "inference", "inference", lambda s: call(s, fallback))
    d = ans.diagnosis
    if not d.ok:
        _stop_with(p, "inference", d)
    if _json(ans.text) is None:
        _stop_with(p, "inference", Diagnosis(
            Category.BAD_BASE_URL, f"{label} answered {ans.status} without JSON: not an OpenAI-compatible endpoint",
            f"Point {t.where.base_url} at the API root (usually ending in /v1).", status_code=ans.status))
    ms = (time.monotonic() - t0) * 1000
    p.add("inference", Status.OK, f"{label} answered {ans.status} in {ms:.0f} ms")
    p.finish(Diagnosis(Category.OK, f"{model} answered a minimal {label} in {ms:.0f} ms", "", status_code=ans.status))
