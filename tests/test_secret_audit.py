"""Secret audit: no command, in any output format, prints or writes an API key.

Every run places fresh random keys in each place a key lives: env.yaml, a config file
(a literal key, itself a mistake the tool reports), an environment variable (read by
`${oc.env:...}`, by `doctor --api-key-env` and by `new`), and a log fed to `doctor --log`.
After each command, neither a key nor any 8-character piece of its random part may appear
in stdout, stderr, or any file the command created or changed: the checkout, the result
cache ($XDG_CACHE_HOME), the template repository ($XDG_DATA_HOME).

The one exception is deliberate: `new` writes the key from $OPENAI_API_KEY into the env.yaml
it creates (mode 600, git-ignored), because that file is where NeMo Gym reads keys from and
the user asked for it. That file is checked for the key (it must be there, whole), every
other file `new` writes (the rendered server, its config, tests, answers file, .gitignore)
must not hold any piece of it.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import string
import subprocess
import sys
from pathlib import Path

import pytest
from doctor_support import FakeEndpoint, mask, scenario
from new_support import make_gym_tree

MODEL = "gpt-4o-mini"
PIECE = 8
_ALPHABET = string.ascii_letters + string.digits


def make_key(prefix: str = "sk-proj-") -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(48))


def pieces(key: str) -> set[str]:
    """The key whole and every 8-character piece of its random part (after the prefix)."""
    random_part = key.split("-")[-1] if key.startswith("sk-") else key
    return {key} | {random_part[i : i + PIECE] for i in range(len(random_part) - PIECE + 1)}


def leaks(text: str | bytes, keys: dict[str, str]) -> list[str]:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return [f"{where}: {piece!r}" for where, key in keys.items() for piece in pieces(key) if piece in text]


def snapshot(*roots: Path) -> dict[Path, tuple[int, int, bytes]]:
    files = {}
    for root in roots:
        if not root.exists():
            continue
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                info = path.stat()
                files[path] = (info.st_mtime_ns, info.st_size, path.read_bytes())
    return files


def written(before: dict, after: dict) -> dict[Path, bytes]:
    return {path: data for path, (*_, data) in after.items() if before.get(path, (None,))[-1] != data}


class Audit:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.repo = tmp / "repo"
        self.cache = tmp / "cache"
        self.data = tmp / "data"
        self.keys = {
            "env.yaml": make_key(),
            "config": make_key(),
            "environment": make_key(),
            "log": make_key(),
        }

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GIT_", "GITHUB_", "OPENAI_")) and not k.lower().endswith("_proxy")
        }
        env.pop("NO_COLOR", None)
        env |= {
            "XDG_CACHE_HOME": str(self.cache),
            "XDG_DATA_HOME": str(self.data),
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "NO_PROXY": "127.0.0.1,localhost",
            "AUDIT_KEY": self.keys["environment"],
        }
        return env | extra

    def run(
        self, *args: str, stdin: str | None = None, allowed: dict[Path, str | tuple[str, ...]] | None = None, **env: str
    ):
        """Run the CLI; fail on any piece of any key in its output or in files it wrote."""
        before = snapshot(self.tmp)
        done = subprocess.run(
            [sys.executable, "-m", "gym_scaffold", *args],
            cwd=self.repo,
            env=self.env(**env),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert "Traceback" not in done.stderr, done.stderr
        assert not leaks(done.stdout, self.keys), (args, leaks(done.stdout, self.keys), done.stdout[-3000:])
        assert not leaks(done.stderr, self.keys), (args, leaks(done.stderr, self.keys), done.stderr[-3000:])
        changed = written(before, snapshot(self.tmp))
        for path, data in changed.items():
            keys = dict(self.keys)
            if allowed and path in allowed:
                names = allowed[path]
                for name in (names,) if isinstance(names, str) else names:
                    keys.pop(name)
            assert not leaks(data, keys), (args, path, leaks(data, keys))
        return done, changed


def _server(name: str, url: str, key_value: str) -> str:
    return (
        f"{name}:\n  responses_api_models:\n    openai_model:\n      entrypoint: app.py\n"
        f"      openai_base_url: {url}\n      openai_api_key: {key_value}\n      openai_model: {MODEL}\n"
    )


@pytest.fixture
def audit(tmp_path: Path) -> Audit:
    return Audit(tmp_path)


@pytest.fixture
def endpoint():
    """A server answering 401 the way OpenAI does, echoing the key masked (first 8, last 4)."""
    with FakeEndpoint() as ep:
        ep.play(scenario("openai", "invalid_api_key"))
        yield ep


def _checkout(a: Audit, url: str, *, ignored: bool) -> Path:
    """env.yaml with a key (ignored or not), and a config using all three placements."""
    make_gym_tree(a.repo, git_repo=True, gitignore="env.yaml\n" if ignored else "cache/\n")
    server_dir = a.repo / "responses_api_models" / "openai_model"
    (server_dir / "configs").mkdir(parents=True)
    (server_dir / "app.py").write_text("# the server\n")
    (server_dir / "requirements.txt").write_text("nemo-gym\n")
    (a.repo / "env.yaml").write_text(
        f"policy_base_url: {url}\npolicy_api_key: {a.keys['env.yaml']}\npolicy_model_name: {MODEL}\n"
        f"judge_api_key: '  {a.keys['env.yaml']}\n'\n"  # whitespace around a key: reported, never shown
    )
    config = server_dir / "configs" / "openai_model.yaml"
    config.write_text(
        _server("policy_model", url, "${policy_api_key}")
        + _server("literal_model", url, a.keys["config"])
        + _server("environment_model", url, "${oc.env:AUDIT_KEY}")
        + _server("judge_model", url, "${judge_api_key}")
    )
    return config


@pytest.mark.parametrize("ignored", [True, False], ids=["env-ignored", "env-not-ignored"])
def test_validate_every_format(audit: Audit, ignored: bool) -> None:
    config = _checkout(audit, "https://api.openai.com/v1", ignored=ignored)
    rel = str(config.relative_to(audit.repo))
    reported = set()
    for fmt in ("text", "json", "github", "sarif"):
        for args in (["validate"], ["validate", rel], ["validate", "--config", rel], ["validate", "--env-check-only"]):
            done, _ = audit.run(*args, "--format", fmt, "--no-cache" if fmt == "sarif" else "--strict")
            assert done.returncode in (0, 1), done.stderr
            reported.add(done.stdout)
    # The audit looks at real reports: the literal key and the whitespace are found, redacted.
    text = "\n".join(reported)
    assert "literal-secret" in text and "..." + audit.keys["config"][-4:] in text
    # The cache under XDG_CACHE_HOME was written and audited too.
    assert any(audit.cache.rglob("*.pickle"))


def test_show_every_format(audit: Audit) -> None:
    config = _checkout(audit, "https://api.openai.com/v1", ignored=True)
    rel = str(config.relative_to(audit.repo))
    seen = []
    for fmt in ("yaml", "json"):
        for run, extra in (
            (["--config", rel], []),
            (["--config", rel], ["--show-origin"]),
            (["--config", rel], ["--show-origin", "literal_model.responses_api_models.openai_model"]),
            ([], ["--show-origin"]),  # env.yaml alone
        ):
            done, _ = audit.run("show", *run, "--format", fmt, *extra)
            assert done.returncode in (0, 1), done.stderr
            seen.append(done.stdout)
    # The audit looked at real output: every key was there, masked to its last four.
    text = "\n".join(seen)
    for where in ("env.yaml", "config", "environment"):
        assert "****..." + audit.keys[where][-4:] in text, where
    assert "$AUDIT_KEY via oc.env" in text

def test_fix_and_diff(audit: Audit) -> None:
    config = _checkout(audit, "https://api.openai.com/v1/chat/completions", ignored=False)
    rel = str(config.relative_to(audit.repo))
    for fmt in ("text", "json", "github", "sarif"):
        done, changed = audit.run("validate", "--diff", "--unsafe-fixes", "--format", fmt)
        assert done.returncode == 1 and not changed.keys() - set(audit.cache.rglob("*")), done.stderr
    shown = audit.run("validate", "--diff", "--unsafe-fixes", rel)[0].stdout
    assert "+      openai_api_key: ${literal_model_api_key}" in shown  # the diff is a real one
    assert "+literal_model_api_key: ..." + audit.keys["config"][-4:] in shown
    done, changed = audit.run(
        "validate", "--fix", "--unsafe-fixes", allowed={audit.repo / "env.yaml": ("env.yaml", "config")}
    )
    assert audit.repo / "env.yaml" in changed and config in changed, done.stdout
    assert audit.keys["config"] not in config.read_text()
    assert f"literal_model_api_key: {audit.keys['config']}" in (audit.repo / "env.yaml").read_text()


def test_rules_command(audit: Audit) -> None:
    audit.repo.mkdir()
    for args in (["rules"], ["rules", "literal-secret"], ["rules", "api-key-format"]):
        done, _ = audit.run(*args)
        assert done.returncode == 0


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_doctor_live(audit: Audit, endpoint: FakeEndpoint, fmt: str) -> None:
    config = _checkout(audit, endpoint.url, ignored=True)
    done, _ = audit.run("doctor", "--config", str(config), "--format", fmt, "--timeout", "15")
    assert done.returncode == 1
    assert "invalid_api_key" in done.stdout
    # The server got each key whole (that is what doctor is for), and echoed it masked.
    sent = {request["key"] for request in endpoint.requests}
    assert {audit.keys["env.yaml"], audit.keys["config"], audit.keys["environment"]} <= sent
    done, _ = audit.run(
        "doctor", "--base-url", endpoint.url, "--model", MODEL, "--api-key-env", "AUDIT_KEY", "--format", fmt
    )
    assert done.returncode == 1


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_doctor_log(audit: Audit, fmt: str) -> None:
    _checkout(audit, "https://api.openai.com/v1", ignored=True)
    body = json.dumps(scenario("openai", "invalid_api_key")["body"])
    log = audit.repo / "server.log"
    lines = [
        f"openai.AuthenticationError: Error code: 401 - {body.replace('sk-proj-****************************1234', mask(audit.keys['log']))}",
        f"request headers: Authorization: Bearer {audit.keys['log']}",
        f"env dump: OPENAI_API_KEY={audit.keys['environment']} policy_api_key={audit.keys['env.yaml']}",
        f"literal key in a config: {audit.keys['config']}",
        "openai.RateLimitError: Error code: 429 - {'error': {'message': 'Rate limit reached', 'code': 'rate_limit_exceeded'}}",
    ]
    log.write_text("\n".join(lines) + "\n")
    for args in (["doctor", "--log", "server.log"], ["doctor", "--log", "server.log", "--api-key-env", "AUDIT_KEY"]):
        done, _ = audit.run(*args, "--format", fmt)
        assert done.returncode == 1 and "invalid_api_key" in done.stdout
    done, _ = audit.run("doctor", "--log", "-", "--format", fmt, stdin=log.read_text())
    assert done.returncode == 1


def test_new_writes_the_key_only_into_env_yaml(audit: Audit) -> None:
    make_gym_tree(audit.repo)
    key = make_key()
    audit.keys["new"] = key
    env_yaml = audit.repo / "env.yaml"
    done, changed = audit.run(
        "new", "openai-model", "--no-input", "--name", "audited_model", OPENAI_API_KEY=key, allowed={env_yaml: "new"}
    )
    assert done.returncode == 0, done.stderr
    assert key in env_yaml.read_text()  # where NeMo Gym reads it: the one allowed place
    assert stat.S_IMODE(env_yaml.stat().st_mode) == 0o600
    rendered = [p for p in changed if "audited_model" in p.parts]
    assert len(rendered) >= 5, sorted(changed)  # the rendered server was audited, not skipped
    assert "..." + key[-4:] in done.stdout


def test_the_audit_sees_pieces_not_only_whole_keys() -> None:
    key = make_key()
    assert leaks(f"echo: {key[12:20]}", {"k": key}) and leaks(key, {"k": key})
    assert not leaks(f"redacted: ...{key[-4:]} sk-proj-", {"k": key})


def test_internal_error_line_redacts_key_shaped_text(tmp_path: Path) -> None:
    """The last-resort line for a crash quotes the exception, which may quote a value."""
    key = make_key()
    script = (
        "import sys\n"
        "import gym_scaffold.cli as cli\n"
        f"def boom(*a, **k): raise ValueError('bad value {key}')\n"
        "cli.cli.main = boom\n"
        "cli.main(['rules'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path
    )
    assert done.returncode == 2 and "internal error: ValueError" in done.stderr, done.stderr
    assert not leaks(done.stderr, {"k": key}), done.stderr
    assert "..." + key[-4:] in done.stderr
