"""Helpers for the tests of `gym-scaffold new` and its template: real files, git, processes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml
from typing_extensions import Self

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "templates"  # one Copier template: copier.yml, _shared/, a subdirectory per kind

# NeMo Gym's own lint settings (pyproject.toml of NVIDIA-NeMo/Gym), so generated code is
# checked the way a NeMo Gym checkout checks it.
NEMO_GYM_PYPROJECT = """\
[tool.pytest.ini_options]
addopts = "--strict-markers"
asyncio_mode = "auto"

[tool.ruff]
line-length = 119

[tool.ruff.lint]
select = ["F541", "F841", "F401", "E741", "F821", "I"]
ignore = ["E501"]

[tool.ruff.lint.isort]
known-first-party = ["nemo_gym"]
known-third-party = ["examples", "scripts"]
section-order = ["future", "standard-library", "third-party", "first-party", "local-folder"]
lines-after-imports = 2
"""


def clean_env(**extra: str | None) -> dict[str, str]:
    """os.environ without GIT_* and provider keys, plus `extra` (None removes a variable)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GIT_") and k not in ("OPENAI_API_KEY", "GYM_SCAFFOLD_TEMPLATE_HOME")
    }
    env |= {
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env or clean_env(), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"git {args} failed: {done.stderr}"
    return done.stdout


def make_gym_tree(root: Path, *, git_repo: bool = True, gitignore: str | None = "cache/\n") -> Path:
    """A NeMo Gym-like checkout: nemo_gym/, responses_api_models/, its lint settings."""
    root.mkdir(parents=True, exist_ok=True)
    # Not a package: it must not shadow the installed nemo_gym in the end-to-end test.
    (root / "nemo_gym").mkdir()
    (root / "nemo_gym" / "README.md").write_text(
        "NeMo Gym's package lives here in a real checkout\n"
    )
    (root / "responses_api_models").mkdir()
    (root / "responses_api_models" / "README.md").write_text("model servers\n")
    (root / "pyproject.toml").write_text(NEMO_GYM_PYPROJECT)
    if gitignore is not None:
        (root / ".gitignore").write_text(gitignore)
    if git_repo:
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "checkout")
    return root


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text())


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under root with its content (None for directories), .git excluded."""
    state: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] == ".git":
            continue
        state[rel.as_posix()] = None if path.is_dir() else path.read_bytes()
    return state


def run_cli(
    args: list[str], cwd: Path, env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gym_scaffold", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def copy_template_as_git_repo(dest: Path) -> Path:
    """The templates in a git repository of their own, tagged 1.0.0 (what `copier update` needs)."""
    shutil.copytree(TEMPLATES, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "template 1.0.0")
    git(dest, "tag", "1.0.0")
    return dest


# --- an OpenAI-compatible upstream -----------------------------------------------------


def responses_payload(text: str, model: str) -> dict:
    return {
        "id": "resp_e2e",
        "created_at": 1753983920.0,
        "model": model,
        "object": "response",
        "output": [
            {
                "id": "msg_e2e",
                "content": [{"annotations": [], "text": text, "type": "output_text"}],
                "role": "assistant",
                "status": "completed",
                "type": "message",
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }


class _JSONHandler(BaseHTTPRequestHandler):
    """Reads and answers JSON, quietly (no access log on the test's stderr)."""

    def _body(self) -> dict:
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")

    def _send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


class _LocalServer:
    """A real HTTP server on 127.0.0.1 (a free port) serving `handler` on a thread; a
    context manager, or start() and stop()."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.root = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Upstream(_LocalServer):
    """A real HTTP server on 127.0.0.1 answering /v1/responses like OpenAI; records requests."""

    def __init__(self, answer: str = "upstream says hi") -> None:
        self.seen: list[dict] = []
        upstream = self

        class Handler(_JSONHandler):
            def do_POST(self) -> None:
                body = self._body()
                upstream.seen.append(
                    {
                        "path": self.path,
                        "authorization": self.headers.get("Authorization"),
                        "body": body,
                    }
                )
                self._send(200, responses_payload(answer, body.get("model", "")))

        super().__init__(Handler)
        self.base_url = self.root + "/v1"


class ChatOnlyUpstream(_LocalServer):
    """A provider that serves only Chat Completions (404 at /responses), like vLLM, NIM,
    OpenRouter or Ollama; with `api_key_header="api-key"` and an `api_version`, like an Azure
    deployment, which also refuses a request without them. Asked with tools, it calls the
    first tool; given that tool's output, it answers with text. Records every request."""

    # A 401 as each provider words it.
    UNAUTHORIZED = {
        "openai": {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                             "code": "invalid_api_key"}},
        "nim": {"status": 401, "title": "Unauthorized", "detail": "Authentication failed"},
        "openrouter": {"error": {"message": "No auth credentials found", "code": 401}},
        "azure": {"error": {"code": "401", "message": "Access denied due to invalid subscription key or wrong API "
                            "endpoint. Make sure to provide a valid key for an active subscription and use a "
                            "correct regional API endpoint for your resource."}},
        "vllm": {"error": "Unauthorized"},
    }  # fmt: skip

    def __init__(
        self, key: str, api_key_header: str = "Authorization", api_version: str | None = None, shape: str = "openai"
    ) -> None:
        self.seen: list[dict] = []
        upstream = self
        unauthorized = self.UNAUTHORIZED[shape]
        expected = f"Bearer {key}" if api_key_header == "Authorization" else key  # the key header's value

        class Handler(_JSONHandler):
            def do_POST(self) -> None:
                body = self._body()
                path, _, query = self.path.partition("?")
                upstream.seen.append({"path": path, "query": query, "headers": dict(self.headers), "body": body})
                if self.headers.get(api_key_header, "") != expected:
                    return self._send(401, unauthorized)
                if api_version is not None and f"api-version={api_version}" not in query.split("&"):
                    return self._send(404, {"error": {"code": "404", "message": "Resource not found"}})
                if not path.endswith("/chat/completions"):
                    return self._send(404, {"detail": "Not Found"})
                messages = body.get("messages", [])
                if body.get("tools") and not any(m.get("role") == "tool" for m in messages):
                    tool = body["tools"][0]["function"]["name"]
                    message = {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {"id": "call_e2e_42", "type": "function",
                             "function": {"name": tool, "arguments": '{"city": "Paris"}'}}
                        ],
                    }  # fmt: skip
                    finish = "tool_calls"
                else:
                    tool_outputs = [m["content"] for m in messages if m.get("role") == "tool"]
                    text = f"it is {tool_outputs[-1]}" if tool_outputs else "hello from chat"
                    message, finish = {"role": "assistant", "content": text}, "stop"
                self._send(200, {
                    "id": "chatcmpl-e2e", "object": "chat.completion", "created": 1753983922,
                    "model": body.get("model", ""),
                    "choices": [{"index": 0, "finish_reason": finish, "message": message}],
                    "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25},
                })  # fmt: skip

            def do_GET(self) -> None:
                path = self.path.partition("?")[0]
                upstream.seen.append({"path": path, "query": "", "headers": dict(self.headers), "body": None})
                if self.headers.get(api_key_header, "") != expected:
                    return self._send(401, unauthorized)
                if path.endswith("/models"):
                    return self._send(200, {"object": "list", "data": [{"id": "e2e-configured-model", "object": "model"}]})
                self._send(404, {"detail": "Not Found"})

        super().__init__(Handler)


# --- a Python 3.12 environment with nemo-gym, cached between runs ----------------------

NEMO_GYM_REQUIREMENTS = ["nemo-gym==0.4.0", "pytest>=8", "pytest-asyncio>=0.23"]


def find_python312() -> str | None:
    found = shutil.which("python3.12")
    candidates = [found] if found else []
    candidates += sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))
    for candidate in candidates:
        done = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 12))"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0 and done.stdout.strip() == "True":
            return candidate
    return None


def nemo_gym_venv_dir() -> Path:
    digest = hashlib.sha256("\n".join(NEMO_GYM_REQUIREMENTS).encode()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "gym-scaffold-tests" / f"nemo-gym-py312-{digest}"


def _healthy(venv: Path) -> bool:
    python = venv / "bin" / "python"
    if not (venv / ".complete").is_file() or not python.exists():
        return False
    done = subprocess.run(
        [str(python), "-c", "import nemo_gym.base_responses_api_model, fastapi.testclient, pytest"],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def ensure_nemo_gym_venv(python312: str) -> Path:
    """Build (once) a venv with nemo-gym and pytest; reuse it while it is complete and imports."""
    venv = nemo_gym_venv_dir()
    if _healthy(venv):
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    with (venv.parent / f"{venv.name}.lock").open("a") as lock:
        import fcntl

        fcntl.flock(lock, fcntl.LOCK_EX)  # another test run may be building it
        if _healthy(venv):
            return venv
        # A venv hard-codes its own path, so it is built in place; `.complete` is written last.
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([python312, "-m", "venv", str(venv)], check=True)
        done = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *NEMO_GYM_REQUIREMENTS],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise RuntimeError(
                f"pip install {NEMO_GYM_REQUIREMENTS} failed:\n{done.stderr[-4000:]}"
            )
        (venv / ".complete").write_text("\n".join(NEMO_GYM_REQUIREMENTS) + "\n")
    return venv
