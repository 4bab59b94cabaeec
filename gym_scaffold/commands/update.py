"""`gym-scaffold update SERVER_DIR`: parse the argument, call `gym_scaffold.update`, print."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(name="update")
@click.argument("server_dir", type=click.Path(file_okay=False, path_type=Path))
def command(server_dir: Path) -> int:
    """Bring a server made by `gym-scaffold new` up to the installed template version.

    Runs `copier update` underneath: the template's changes are merged into your files, and
    where both changed the same lines the conflict is marked in the file. Needs a clean git
    work tree (commit first), as Copier does.
    """
    from gym_scaffold import scaffold
    from gym_scaffold.update import update_server

    try:
        outcome = update_server(server_dir)
    except scaffold.ScaffoldError as exc:
        click.echo(f"gym-scaffold update: {exc}", err=True)
        return exc.exit_code
    except OSError as exc:
        click.echo(f"gym-scaffold update: {exc}", err=True)
        return scaffold.EXIT_PROBLEMS
    if not outcome.changed:
        click.echo(f"{server_dir} is already at template version {outcome.new_version}")
        return 0
    click.echo(f"Updated {server_dir} from template version {outcome.old_version} to {outcome.new_version}")
    if outcome.conflicts:
        click.echo("Conflicts between your edits and the template's, marked in:")
        for path in outcome.conflicts:
            click.echo(f"  {path}")
        click.echo("Resolve them, then review with `git diff` and commit.")
        return scaffold.EXIT_PROBLEMS
    click.echo("Review with `git diff` and commit.")
    return 0
