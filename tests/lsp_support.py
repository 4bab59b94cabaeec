"""The real yaml-language-server (npm, pinned), installed once, and a small LSP client for it.

    python tests/lsp_support.py install     # what `./dev test` runs first; quick when done

The server is installed under the tests' cache directory
($XDG_CACHE_HOME/gym-scaffold-tests/yaml-language-server-<version>/), once per version;
`.complete` is written last, so a broken install is redone. The client speaks LSP over
the server's stdin/stdout: initialize, settings, didOpen, the diagnostics it publishes,
completion and hover. Every wait is bounded, and the server process is always killed.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

YAML_LANGUAGE_SERVER_VERSION = "1.25.0"
TIMEOUT = 30.0  # seconds for any one answer of the server


def install_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "gym-scaffold-tests" / f"yaml-language-server-{YAML_LANGUAGE_SERVER_VERSION}"


def server_script(base: Path | None = None) -> Path:
    base = install_dir() if base is None else base
    return base / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"


def ensure_yaml_language_server() -> Path:
    """The server's start script, installed with npm when missing (under a lock: test runs
    in parallel may both get here)."""
    base = install_dir()
    if (base / ".complete").is_file() and server_script(base).is_file():
        return server_script(base)
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise RuntimeError("yaml-language-server needs node and npm on PATH (node 20 or newer)")
    base.parent.mkdir(parents=True, exist_ok=True)
    with (base.parent / f"{base.name}.lock").open("a") as lock:
        import fcntl

        fcntl.flock(lock, fcntl.LOCK_EX)
        if (base / ".complete").is_file() and server_script(base).is_file():
            return server_script(base)
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir()
        (base / "package.json").write_text('{"private": true}\n')
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--save-exact", "--loglevel=error",
             f"yaml-language-server@{YAML_LANGUAGE_SERVER_VERSION}"],
            cwd=base, capture_output=True, text=True, timeout=600, check=False,
        )
        if done.returncode != 0 or not server_script(base).is_file():
            shutil.rmtree(base, ignore_errors=True)
            raise RuntimeError(f"npm install yaml-language-server failed:\n{done.stderr[-4000:]}")
        (base / ".complete").write_text(YAML_LANGUAGE_SERVER_VERSION + "\n")
    return server_script(base)


class LspError(Exception):
    pass


class YamlLanguageServer:
    """`with YamlLanguageServer(root, settings) as server:` a running, initialized server."""

    def __init__(self, root: Path, schemas: dict[str, list[str]] | None = None) -> None:
        self.root = root
        self.schemas = schemas or {}
        self.process: subprocess.Popen | None = None
        self.messages: queue.Queue = queue.Queue()
        self.diagnostics: dict[str, list[queue.Queue]] = {}
        self.next_id = 0
        self.stderr: list[str] = []

    # -- process and framing ------------------------------------------------------------

    def __enter__(self) -> YamlLanguageServer:
        script = ensure_yaml_language_server()
        self.process = subprocess.Popen(
            ["node", str(script), "--stdio"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=self.root, start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        try:
            self.request("initialize", {
                "processId": os.getpid(),
                "rootUri": self.root.as_uri(),
                "workspaceFolders": [{"uri": self.root.as_uri(), "name": self.root.name}],
                "capabilities": {
                    "textDocument": {
                        "publishDiagnostics": {},
                        "completion": {"completionItem": {"snippetSupport": False}},
                        "hover": {"contentFormat": ["markdown", "plaintext"]},
                    },
                },
            })
            self.notify("initialized", {})
            self.notify("workspace/didChangeConfiguration", {"settings": {"yaml": {
                "validate": True, "hover": True, "completion": True,
                "schemaStore": {"enable": False}, "schemas": self.schemas,
            }}})
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        process = self.process
        if process is None:
            return
        try:
            if process.poll() is None and process.stdin:
                self._send({"jsonrpc": "2.0", "id": self._id(), "method": "shutdown"})
                self._send({"jsonrpc": "2.0", "method": "exit"})
                process.wait(timeout=3)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            pass
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
            for stream in (process.stdin, process.stdout, process.stderr):
                try:
                    stream.close()
                except OSError:
                    pass

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def _send(self, message: dict) -> None:
        body = json.dumps(message).encode()
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        stream = self.process.stdout
        try:
            while True:
                length = None
                while True:
                    line = stream.readline()
                    if not line:
                        return
                    line = line.strip()
                    if not line:
                        break
                    name, _, value = line.decode("ascii", "replace").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                if length is None:
                    continue
                message = json.loads(stream.read(length))
                if message.get("method") == "textDocument/publishDiagnostics":
                    params = message["params"]
                    for waiter in self.diagnostics.get(params["uri"], []):
                        waiter.put(params["diagnostics"])
                elif "method" in message and "id" in message:
                    self._answer(message)
                else:
                    self.messages.put(message)
        except (OSError, ValueError):
            return
        finally:
            self.messages.put(None)

    def _drain_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line.decode("utf-8", "replace"))

    def _answer(self, request: dict) -> None:
        """Requests from the server: settings asked for, registrations, progress."""
        result: Any = None
        if request["method"] == "workspace/configuration":
            result = [
                {"schemas": self.schemas, "validate": True, "hover": True, "completion": True}
                if item.get("section") == "yaml" else None
                for item in request["params"].get("items", [])
            ]
        self._send({"jsonrpc": "2.0", "id": request["id"], "result": result})

    # -- requests -----------------------------------------------------------------------

    def notify(self, method: str, params: dict) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: dict, timeout: float = TIMEOUT) -> Any:
        ident = self._id()
        self._send({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LspError(f"no answer to {method} within {timeout} s; stderr: {''.join(self.stderr)[-2000:]}")
            try:
                message = self.messages.get(timeout=remaining)
            except queue.Empty:
                continue
            if message is None:
                raise LspError(f"the server exited; stderr: {''.join(self.stderr)[-2000:]}")
            if message.get("id") == ident:
                if "error" in message:
                    raise LspError(f"{method}: {message['error']}")
                return message.get("result")

    def open(self, path: Path, text: str | None = None, timeout: float = TIMEOUT) -> list[dict]:
        """Open a document; the diagnostics the server publishes for it."""
        return self.open_many([path], {path: text} if text is not None else None, timeout)[path]

    def open_many(self, paths: list[Path], texts: dict[Path, str] | None = None,
                  timeout: float = TIMEOUT) -> dict[Path, list[dict]]:
        """Open documents together (the server waits a moment before validating each, so
        one at a time is slow); the diagnostics published for each."""
        waiters = {}
        for path in paths:
            uri = path.resolve().as_uri()
            waiters[path] = (uri, queue.Queue())
            self.diagnostics.setdefault(uri, []).append(waiters[path][1])
        found = {}
        try:
            for path, (uri, _) in waiters.items():
                text = (texts or {}).get(path)
                self.notify("textDocument/didOpen", {"textDocument": {
                    "uri": uri, "languageId": "yaml", "version": 1,
                    "text": path.read_text(encoding="utf-8") if text is None else text,
                }})
            deadline = time.monotonic() + timeout + 0.05 * len(paths)
            for path, (_, waiter) in waiters.items():
                try:
                    found[path] = waiter.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    raise LspError(f"no diagnostics for {path} within {timeout} s") from None
        finally:
            for uri, waiter in waiters.values():
                self.diagnostics[uri].remove(waiter)
        return found

    def close_document(self, path: Path) -> None:
        self.notify("textDocument/didClose", {"textDocument": {"uri": path.resolve().as_uri()}})

    def completion(self, path: Path, line: int, character: int) -> list[str]:
        result = self.request("textDocument/completion", {
            "textDocument": {"uri": path.resolve().as_uri()},
            "position": {"line": line, "character": character},
        })
        items = result.get("items", []) if isinstance(result, dict) else (result or [])
        return [item["label"] for item in items]

    def hover(self, path: Path, line: int, character: int) -> str:
        result = self.request("textDocument/hover", {
            "textDocument": {"uri": path.resolve().as_uri()},
            "position": {"line": line, "character": character},
        })
        if not result:
            return ""
        contents = result["contents"]
        if isinstance(contents, dict):
            return contents.get("value", "")
        if isinstance(contents, list):
            return "\n".join(c if isinstance(c, str) else c.get("value", "") for c in contents)
        return str(contents)


if __name__ == "__main__":
    if sys.argv[1:] != ["install"]:
        sys.exit("usage: python tests/lsp_support.py install")
    try:
        print(ensure_yaml_language_server())
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        sys.exit(f"lsp_support: {exc}")
