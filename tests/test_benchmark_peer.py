"""The benchmarks time check-jsonschema doing the same job: it must really validate.

Our schemas' references are https URLs; the peer is pointed at schemas/ for them. Were
it not, offline it would stop at the first reference, before reading any file, and the
benchmarks would time only its start-up.
"""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest
from test_validate_cli import model_config

REPO = Path(__file__).resolve().parent.parent
pytest.importorskip("check_jsonschema", reason="the peer comes with the bench extra: pip install -e '.[test,bench]'")


def load_benchmark():
    spec = importlib.util.spec_from_file_location("validate_bench", REPO / "benchmarks" / "validate_vs_check_jsonschema.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_peer_validates_with_our_schemas_offline(tmp_path, capsys):
    bench = load_benchmark()
    (tmp_path / "good.yaml").write_text(model_config())
    (tmp_path / "bad.yaml").write_text(
        "math:\n  resources_servers:\n    math_with_judge:\n      entrypoint: app.py\n      domain: maths\n"
    )
    bench.require_peer_validates(bench.peer_command(["good.yaml"]), tmp_path)
    bench.require_peer_validates(bench.peer_command(["good.yaml", "bad.yaml"]), tmp_path)
    done = subprocess.run(bench.peer_command(["bad.yaml"]), cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1 and "maths" in done.stdout + done.stderr  # it read the file's value


def test_a_peer_that_does_not_validate_is_refused(tmp_path, capsys):
    bench = load_benchmark()
    (tmp_path / "broken.schema.json").write_text('{"$ref": "missing.json"}')
    (tmp_path / "a.yaml").write_text("a: 1\n")
    command = [bench.bin_path("check-jsonschema"), "--schemafile", str(tmp_path / "broken.schema.json"), "a.yaml"]
    with pytest.raises(SystemExit) as stopped:
        bench.require_peer_validates(command, tmp_path)
    assert stopped.value.code == 2
    assert "did not validate" in capsys.readouterr().err
