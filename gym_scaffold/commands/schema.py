"""`gym-scaffold schema`: the JSON Schemas gym-scaffold checks servers against.

    gym-scaffold schema derive resources_servers/my_env/app.py

`derive` reads the server's pydantic config class (never importing or running it) and
prints the JSON Schema that `validate` applies to every block of that implementation
which has no checked-in schema under `schemas/`. Exit 2 when the file holds no server
config class or cannot be parsed.
"""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group(name="schema")
def command() -> None:
    """Show the JSON Schemas server blocks are checked against."""


@command.command(name="derive")
@click.argument("app", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="NeMo Gym root for imports of other servers (default: two levels above APP's directory).",
)
def derive_command(app: Path, root: Path | None) -> None:
    """Print the JSON Schema derived from the config class in APP (an app.py)."""
    from gym_scaffold import derive

    try:
        derived = derive.derive_uncached(app, root)
    except derive.DeriveError as exc:
        error = click.ClickException(str(exc))
        error.exit_code = 2
        raise error from None
    click.echo(json.dumps(derived.schema, indent=2))
