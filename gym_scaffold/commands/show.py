"""`gym-scaffold show`: print one run's composed, resolved config, with origins; exit 1 on errors.

Option parsing only; the work is in gym_scaffold.show.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command(name="show")
@click.argument("dotted_path", required=False, metavar="[DOTTED.PATH]")
@click.option("--config", "configs", multiple=True, type=click.Path(path_type=Path),
              help="Config files of the run, composed as `ng_run +config_paths=[A,B]` composes them. Repeatable.")
@click.option("--env-file", type=click.Path(path_type=Path),
              help="env.yaml to use (default: <root>/env.yaml).")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)
@click.option("--no-defaults", is_flag=True,
              help="Leave out the defaults of the servers' config classes: only what the files set, as `gym env resolve` prints.")
@click.option("--show-origin", is_flag=True,
              help="Annotate every value with where it came from (file:line, env.yaml via ${...}, $VAR, a default).")
def command(dotted_path: str | None, configs: tuple[Path, ...], env_file: Path | None, fmt: str,
            show_origin: bool, no_defaults: bool) -> int:
    """Print the config NeMo Gym would run: the files given, their includes and env.yaml,
    merged and resolved, with the defaults of each server's config class.

    DOTTED.PATH (e.g. policy_model.responses_api_models.openai_model) prints that part only.
    With no --config, env.yaml alone. API keys are masked (****...last4). Problems are
    listed after the config with validate's rule ids; exit 1 when there are errors.
    """
    from gym_scaffold.show import ShowError, ShowOptions, render_json, render_yaml, run_show

    if dotted_path and dotted_path.endswith((".yaml", ".yml")) and ("/" in dotted_path or Path(dotted_path).is_file()):
        # `show path/to/config.yaml`: the argument selects a part of the run, files are --config.
        click.echo(f"gym-scaffold show: {dotted_path} is a file, not a dotted path: "
                   f"give config files with --config {dotted_path}", err=True)
        return 2
    try:
        shown = run_show(ShowOptions(configs=list(configs), env_file=env_file, select=dotted_path, defaults=not no_defaults))
    except ShowError as exc:
        click.echo(f"gym-scaffold show: {exc}", err=True)
        return 2
    render = render_json if fmt == "json" else render_yaml
    click.echo(render(shown, show_origin=show_origin), nl=False)
    return 1 if shown.failed else 0
