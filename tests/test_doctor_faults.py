"""`gym-scaffold doctor` against servers that misbehave at the transport level, and a key that
must never travel to a host other than the configured one.

Complements tests/test_doctor_cli.py (hang, reset before the answer, invalid JSON, HTML 502,
plain HTTP spoken to https://): here a reset in the middle of the body, a TLS handshake
the server refuses, and redirects to another host, which must not carry the key there.
Real sockets on 127.0.0.1; the command runs as a subprocess with a bounded --timeout.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from doctor_support import (
    KEY,
    KEY_ENV,
    MODEL,
    FakeEndpoint,
    Reply,
    assert_no_key,
    clean_env,
    run_cli,
)

TIMEOUT_S = 4.0
AZURE_KEY = "7c1e9a4b2d8f4e3a9b6c5d0e1f2a3b4c"  # Azure keys: 32 hex characters


class RawServer:
    """A TCP server on 127.0.0.1 whose every connection is handled by `handle(conn)`."""

    def __init__(self, handle: Callable[[socket.socket], None]) -> None:
        self.handle = handle
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.stop = threading.Event()
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        try:
            self.handle(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[socket.socket], None]], RawServer]]:
    servers: list[RawServer] = []

    def start(handle: Callable[[socket.socket], None]) -> RawServer:
        servers.append(RawServer(handle))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _read_request(conn: socket.socket) -> bytes:
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def doctor(base_url: str, tmp_path: Path, *extra: str, key: str = KEY) -> tuple[int, dict, float, str]:
    started = time.monotonic()
    done = run_cli(
        ["doctor", "--base-url", base_url, "--model", MODEL, "--api-key-env", KEY_ENV,
         "--timeout", str(TIMEOUT_S), "--format", "json", *extra],
        cwd=tmp_path,
        env=clean_env(**{KEY_ENV: key}),
        timeout=60,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert "Traceback" not in done.stderr, done.stderr
    assert_no_key(done.stdout + done.stderr, key)
    return done.returncode, json.loads(done.stdout), elapsed, done.stderr


def test_reset_in_the_middle_of_the_body(raw_server, tmp_path: Path) -> None:
    body = json.dumps({"object": "list", "data": [{"id": MODEL, "object": "model"}] * 50}).encode()

    def handle(conn: socket.socket) -> None:
        _read_request(conn)
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        conn.sendall(head.encode() + body[: len(body) // 2])
        time.sleep(0.05)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST

    server = raw_server(handle)
    code, report, elapsed, _ = doctor(f"http://127.0.0.1:{server.port}/v1", tmp_path)
    d = report["diagnoses"][0]
    assert code == 1 and d["category"] == "unreachable", d
    assert "closed" in d["message"] or "reset" in d["message"], d["message"]
    assert elapsed < TIMEOUT_S + 1


def test_tls_handshake_refused(raw_server, tmp_path: Path) -> None:
    # A fatal handshake_failure alert (TLS 1.2 record: type 21, version 3.3, length 2, level 2, code 40).
    def handle(conn: socket.socket) -> None:
        conn.settimeout(5)
        conn.recv(65536)  # the ClientHello
        conn.sendall(bytes([21, 3, 3, 0, 2, 2, 40]))

    server = raw_server(handle)
    code, report, elapsed, _ = doctor(f"https://127.0.0.1:{server.port}/v1", tmp_path)
    d = report["diagnoses"][0]
    assert code == 1 and d["category"] == "unreachable", d
    assert "TLS" in d["message"], d["message"]
    assert server.connections >= 1 and elapsed < TIMEOUT_S + 1


def test_tls_server_that_never_answers_the_hello(raw_server, tmp_path: Path) -> None:
    def handle(conn: socket.socket) -> None:
        conn.settimeout(10)
        conn.recv(65536)
        time.sleep(TIMEOUT_S + 2)

    server = raw_server(handle)
    code, report, elapsed, _ = doctor(f"https://127.0.0.1:{server.port}/v1", tmp_path)
    d = report["diagnoses"][0]
    assert code == 1 and d["category"] == "unreachable" and "timeout" in d["message"], d
    assert elapsed < TIMEOUT_S + 1


@pytest.fixture
def two_hosts() -> Iterator[tuple[FakeEndpoint, FakeEndpoint]]:
    with FakeEndpoint() as configured, FakeEndpoint() as elsewhere:
        yield configured, elsewhere


def _redirect(to: FakeEndpoint, path: str, status: int = 307) -> Reply:
    # "localhost" and another port: another host as far as any HTTP client is concerned.
    return Reply(status, {"Location": f"http://localhost:{to.port}{path}"}, "")


def _keys_received(endpoint: FakeEndpoint) -> list[str]:
    found = []
    for request in endpoint.requests:
        headers = {k.lower(): v for k, v in request["headers"].items()}
        found += [headers[name] for name in ("authorization", "api-key") if name in headers]
    return found


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("where", ["models", "inference"])
def test_redirect_to_another_host_never_carries_the_key(two_hosts, tmp_path: Path, status: int, where: str) -> None:
    configured, elsewhere = two_hosts
    configured.set(where, _redirect(elsewhere, "/v1/models" if where == "models" else "/v1/chat/completions", status))
    code, report, elapsed, _ = doctor(configured.url, tmp_path)
    assert _keys_received(elsewhere) == [], elsewhere.requests
    assert configured.requests and configured.requests[0]["key"] == KEY  # the configured host got it
    d = report["diagnoses"][0]
    assert code == 1 and d["category"] != "ok", d
    assert "redirect" in (d["message"] + d["fix"]).lower(), d
    assert f"localhost:{elsewhere.port}" in d["message"] + d["fix"]
    assert elapsed < TIMEOUT_S + 1


def test_azure_key_header_is_not_sent_to_a_redirect_target(two_hosts, tmp_path: Path) -> None:
    """Azure sends the key in `api-key`, a header HTTP clients do not strip on redirects."""
    configured, elsewhere = two_hosts
    configured.set("inference", _redirect(elsewhere, "/openai/deployments/x/chat/completions"))
    config = tmp_path / "azure.yaml"
    config.write_text(
        "policy_model:\n  responses_api_models:\n    azure_openai_model:\n      entrypoint: app.py\n"
        f"      openai_base_url: http://127.0.0.1:{configured.port}\n      openai_api_key: ${{oc.env:{KEY_ENV}}}\n"
        f"      openai_model: {MODEL}\n      default_query:\n        api-version: 2024-10-21\n"
    )
    done = run_cli(
        ["doctor", "--config", str(config), "--timeout", str(TIMEOUT_S), "--format", "json"],
        cwd=tmp_path,
        env=clean_env(**{KEY_ENV: AZURE_KEY}),
        timeout=60,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert_no_key(done.stdout + done.stderr, AZURE_KEY)
    assert configured.requests and configured.requests[0]["key"] == AZURE_KEY, done.stdout
    assert _keys_received(elsewhere) == [], elsewhere.requests
    assert json.loads(done.stdout)["diagnoses"][0]["category"] != "ok"
