"""`gym-scaffold doctor`: why a model server cannot reach its model (401, 429, ...).

Option parsing only; the work is in gym_scaffold.doctor (imported when the command runs).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click


def _is_the_process() -> bool:
    """True when run as `gym-scaffold` / `python -m gym_scaffold`, not inside another program."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path()
    return argv0.name == "gym-scaffold" or argv0.parent.name == "gym_scaffold"


@click.command(name="doctor")
@click.option("--config", "configs", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="NeMo Gym config file(s), composed as `validate` does; every model server in them is checked.")
@click.option("--env-file", type=click.Path(path_type=Path, dir_okay=False),
              help="env.yaml to use (default: the working directory's, else the git root's).")
@click.option("--server", metavar="INSTANCE", help="Check only this model server instance of the configs.")
@click.option("--base-url", metavar="URL", help="Endpoint to check (overrides the config).")
@click.option("--model", metavar="M", help="Model name to check (overrides the config).")
@click.option("--api-key-env", metavar="NAME",
              help="Read the API key from this environment variable (a key is never taken as an argument).")
@click.option("--no-inference", is_flag=True, help="Skip the minimal inference request (it costs a few tokens).")
@click.option("--timeout", type=float, default=20.0, show_default=True, metavar="S",
              help="Bound on the whole run, in seconds.")
@click.option("--log", "log", metavar="FILE|-",
              help="Diagnose from a log, SDK error text or failures JSONL (`-` for stdin); no network.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(configs, env_file, server, base_url, model, api_key_env, no_inference, timeout, log, fmt) -> int:
    """Diagnose 401, 429 and every other reason a model server can't reach its model.

    Checks each OpenAI-compatible model server of the configs (or env.yaml's policy_base_url /
    policy_api_key / policy_model_name): values, key hygiene, base URL, network, auth, model,
    and one minimal inference call. Exit 0 when every server is ok, 1 when any is not,
    2 on usage errors.
    """
    from gym_scaffold.doctor import report
    from gym_scaffold.doctor.run import Options, UsageError, run

    options = Options(
        configs=list(configs),
        env_file=env_file,
        server=server,
        base_url=base_url,
        model=model,
        api_key_env=api_key_env,
        no_inference=no_inference,
        timeout=timeout,
        log=log,
        whole_process=_is_the_process(),
    )
    try:
        result = run(options)
    except UsageError as exc:
        click.echo(f"gym-scaffold doctor: {exc}", err=True)
        return 2
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    click.echo(report.render_json(result) if fmt == "json" else report.render_text(result, width))
    return 0 if result.ok else 1
