"""`gym-scaffold schema`: the JSON Schemas gym-scaffold checks servers against.

    gym-scaffold schema derive resources_servers/my_env/app.py
    gym-scaffold schema export [--dest DIR] [--editor vscode] [--commit]

`derive` reads the server's pydantic config class (never importing or running it) and
prints the JSON Schema that `validate` applies to every block of that implementation
which has no checked-in schema under `schemas/`. Exit 2 when the file holds no server
config class or cannot be parsed.

`export` writes the schemas editors use as you type (gym_scaffold/schema_export.py) to
`.gym-scaffold/schemas/` of the checkout, which git ignores (a .gitignore inside it) unless
`--commit` (or git already tracks schemas there: they stay committed);
`--editor vscode` points `.vscode/settings.json` at them. Exit 1 when a file cannot be
written or the settings cannot be read (they are then left as they were).
"""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group(name="schema")
def command() -> None:
    """The JSON Schemas configs are checked against: derive one, export them for editors."""


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


@command.command(name="export")
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write the schemas to (default: .gym-scaffold/schemas/ of the checkout).",
)
@click.option(
    "--editor",
    type=click.Choice(["vscode"]),
    help="Also point this editor's settings at the schemas (vscode: .vscode/settings.json yaml.schemas).",
)
@click.option("--commit", is_flag=True, help="Keep the schemas out of .gitignore, to commit them.")
def export_command(dest: Path | None, editor: str | None, commit: bool) -> None:
    """Write JSON Schemas of the checkout's config files for editors (yaml-language-server)."""
    import os

    from gym_scaffold import editor_settings, schema_export
    from gym_scaffold.cache import derived_schema_dir
    from gym_scaffold.discover import CONFIG_DIRS, find_root

    root = find_root(Path.cwd())
    if not any((root / name).is_dir() for name in CONFIG_DIRS):
        click.echo(f"Note: {root} has none of {', '.join(CONFIG_DIRS)}: the schemas name no implementation")
    dest = (root / schema_export.DEST) if dest is None else dest.absolute()
    try:
        exported = schema_export.export(root, dest, derived_cache=derived_schema_dir(os.environ))
        # Without --commit, schemas the team already commits stay committed.
        ignore_change = schema_export.set_ignored(dest, ignored=not commit and not schema_export.committed(root, dest))
    except OSError as exc:
        raise _failure(f"cannot write the schemas: {exc}") from None
    shown = _shown(dest)
    counts = ", ".join(f"{len(names)} {kind}" for kind, names in exported.implementations.items())
    if exported.written:
        click.echo(f"Wrote {len(exported.written)} schemas to {shown}/ ({counts} implementations)")
    else:
        click.echo(f"Schemas in {shown}/ are up to date ({counts} implementations)")
    if ignore_change and commit:
        click.echo(f"Git no longer ignores {shown}/: commit it with the configs")
    elif ignore_change:
        click.echo(f"Git ignores {shown}/ (a .gitignore inside it); --commit to commit the schemas")
    if editor == "vscode":
        settings = root / editor_settings.SETTINGS
        try:
            changed = editor_settings.update_settings(settings, schema_export.settings_schemas(root, dest))
        except (editor_settings.SettingsError, OSError) as exc:
            raise _failure(f"{editor_settings.SETTINGS} left unchanged: {exc}") from None
        click.echo(f"{'Updated' if changed else 'No change to'} {editor_settings.SETTINGS} (yaml.schemas)")


def _shown(path: Path) -> str:
    try:
        return path.relative_to(Path.cwd()).as_posix() or "."
    except ValueError:
        return str(path)


def _failure(message: str) -> click.ClickException:
    error = click.ClickException(message)
    error.exit_code = 1
    return error
