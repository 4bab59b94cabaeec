"""`gym-scaffold validate` (not written yet)."""

import click


@click.command(name="validate")
def command() -> int:
    """Not written yet."""
    click.echo("gym-scaffold validate: not written yet", err=True)
    return 2
