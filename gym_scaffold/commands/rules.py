"""`gym-scaffold rules` (not written yet)."""

import click


@click.command(name="rules")
def command() -> int:
    """Not written yet."""
    click.echo("gym-scaffold rules: not written yet", err=True)
    return 2
