"""`gym-scaffold new` (not written yet)."""

import click


@click.command(name="new")
def command() -> int:
    """Not written yet."""
    click.echo("gym-scaffold new: not written yet", err=True)
    return 2
