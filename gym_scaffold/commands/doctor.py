"""`gym-scaffold doctor` (not written yet)."""

import click


@click.command(name="doctor")
def command() -> int:
    """Not written yet."""
    click.echo("gym-scaffold doctor: not written yet", err=True)
    return 2
