"""`gym-scaffold new <template>`: parse options, ask what is missing, call `gym_scaffold.scaffold`.

Imports stay light: `scaffold` (and pydantic with it) is imported when the command runs,
not when `gym-scaffold --help` lists it; copier only when `scaffold.new_openai_model`
renders.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from gym_scaffold import scaffold


@click.group(name="new")
def command() -> None:
    """Generate a NeMo Gym server from a template."""


def _ask(question: scaffold.Question, default: Any) -> Any:
    from gym_scaffold import scaffold

    def convert(text: str) -> Any:
        try:
            return scaffold.check_answer(question.name, text)
        except scaffold.AnswersError as exc:
            raise click.BadParameter(exc.message) from None

    shown = "" if default is None else str(default)
    return click.prompt(
        question.prompt, default=shown, value_proc=convert, show_default=bool(shown)
    )


class _Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: unwinds like Ctrl-C, so the half-made server is rolled back."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into an exception while `new` changes the destination.

    Their default action ends the process at once, leaving a half-written server, a staging
    directory and an edited .gitignore behind; an exception runs the rollback instead.
    """

    def stop(signum: int, frame: object) -> None:
        raise _Terminated(signum)

    previous = {}
    for number in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if number is not None:
            try:
                previous[number] = signal.signal(number, stop)
            except ValueError:  # not the main thread (embedded use): leave signals alone
                pass
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@command.command(name="openai-model")
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default="current directory",
    help="Root of the NeMo Gym checkout.",
)
@click.option(
    "--name",
    "server_name",
    help="Server name: responses_api_models/<name>/ (default openai_model).",
)
@click.option(
    "--instance", "instance_name", help="Instance name in the config (default policy_model)."
)
@click.option("--model", help="Model sent upstream (default gpt-4o-mini).")
@click.option(
    "--base-url", help="Base URL of the OpenAI-compatible API (default https://api.openai.com/v1)."
)
@click.option(
    "--max-concurrent-requests",
    help="Cap on in-flight upstream requests (positive integer; default no cap).",
)
@click.option(
    "--api-key-env",
    help="Environment variable whose key goes into a new env.yaml (??? when unset; default OPENAI_API_KEY).",
)
@click.option("--no-input", is_flag=True, help="Ask nothing; use options and defaults.")
@click.option(
    "--sync-template",
    is_flag=True,
    help="Only record this gym-scaffold's template version for `copier update`; render nothing.",
)
def openai_model(
    dest: Path,
    api_key_env: str | None,
    no_input: bool,
    sync_template: bool,
    **given: str | None,
) -> int:
    """A model server forwarding to an OpenAI-compatible endpoint, plus env.yaml and .gitignore."""
    from gym_scaffold import scaffold

    if api_key_env is None:
        api_key_env = scaffold.DEFAULT_API_KEY_ENV
    if sync_template:
        try:
            ref = scaffold.sync_template()
        except (scaffold.ScaffoldError, OSError) as exc:
            click.echo(f"gym-scaffold new: {exc}", err=True)
            return scaffold.EXIT_PROBLEMS
        state = "recorded" if ref.created else "already recorded"
        click.echo(f"Template {scaffold.TEMPLATE_NAME} {state} as {ref.tag} in {ref.repo}")
        return 0

    provided = {name: value for name, value in given.items() if value is not None}
    try:
        answers = scaffold.parse_answers(provided)
    except scaffold.AnswersError as exc:
        click.echo(f"gym-scaffold new: {exc}", err=True)
        return scaffold.EXIT_USAGE

    if not no_input and sys.stdin.isatty():
        asked = {}
        for question in scaffold.QUESTIONS:
            if question.name in provided:
                continue
            asked[question.name] = _ask(question, getattr(answers, question.name))
        answers = answers.model_copy(update=asked)

    try:
        with _interruptible():
            outcome = scaffold.new_openai_model(dest, answers, api_key_env=api_key_env)
    except scaffold.ScaffoldError as exc:
        click.echo(f"gym-scaffold new: {exc}", err=True)
        return exc.exit_code
    except OSError as exc:
        click.echo(f"gym-scaffold new: {exc}; nothing was changed", err=True)
        return scaffold.EXIT_PROBLEMS
    except (KeyboardInterrupt, _Terminated) as exc:
        number = exc.signum if isinstance(exc, _Terminated) else signal.SIGINT
        name = signal.Signals(number).name
        click.echo(f"gym-scaffold new: interrupted by {name}; nothing was changed", err=True)
        return 128 + number

    for line in outcome.done:
        click.echo(line[0].upper() + line[1:])
    for note in outcome.notes:
        click.echo(f"Note: {note}")
    steps = list(outcome.next_steps)
    if dest.resolve() != Path.cwd().resolve():
        steps.insert(0, f"cd {dest}")
    click.echo("\nNext steps:")
    for number, step in enumerate(steps, start=1):
        click.echo(f"  {number}. {step}")
    return 0
