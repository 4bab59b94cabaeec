"""`gym-scaffold new <template>`: parse options, ask what is missing, call `gym_scaffold.scaffold`.

Imports stay light: `scaffold` (and pydantic with it) is imported when the command runs,
not when `gym-scaffold --help` lists it; copier only when `scaffold.new_server`
renders.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from gym_scaffold import answers


@click.group(name="new")
def command() -> None:
    """Generate a NeMo Gym server from a template."""


def _ask(question: answers.Question, default: Any, given: dict[str, Any], dest: Path) -> Any:
    from gym_scaffold import answers, scaffold

    def convert(text: str) -> Any:
        try:
            value = answers.check_answer(question.name, text, given)
        except answers.AnswersError as exc:
            raise click.BadParameter(exc.message) from None
        if question.name == "server_name" and scaffold.server_dir_taken(dest, value):
            # Checked here, so the other questions are not answered for nothing.
            raise click.BadParameter(f"{scaffold.SERVER_TYPE_DIR}/{value}/ already exists; choose another name")
        return value

    if isinstance(default, bool):
        default = "yes" if default else "no"
    elif isinstance(default, dict):
        default = json.dumps(default)
    shown = "" if default is None else str(default)
    return click.prompt(question.prompt, default=shown, value_proc=convert, show_default=bool(shown))


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


def _common_options(template: str) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """The options every template shares, then the command itself."""

    def decorate(function: Callable[..., int]) -> Callable[..., int]:
        for option in reversed(
            [
                click.option(
                    "--dest",
                    type=click.Path(file_okay=False, path_type=Path),
                    default=Path("."),
                    show_default="current directory",
                    help="Root of the NeMo Gym checkout.",
                ),
                click.option(
                    "--name",
                    "server_name",
                    help="Server name: responses_api_models/<name>/ (default: free, from the provider).",
                ),
                click.option("--instance", "instance_name", help="Instance name in the config (default policy_model)."),
                click.option(
                    "--env-prefix",
                    help="Prefix of the env.yaml keys the config reads: <prefix>_base_url, <prefix>_api_key, "
                    "<prefix>_model_name (default policy; judge for a judge model).",
                ),
                click.option("--model", help="Model sent upstream (default: the provider's)."),
                click.option("--base-url", help="Base URL of the API (default: the provider's)."),
                click.option(
                    "--api-key-env",
                    help="Environment variable whose key goes into a new env.yaml (default: the provider's, "
                    "e.g. OPENAI_API_KEY).",
                ),
                click.option("--no-input", is_flag=True, help="Ask nothing; use options and defaults."),
                click.option(
                    "--sync-template",
                    is_flag=True,
                    help="Only record this gym-scaffold's templates for `copier update`; render nothing.",
                ),
            ]
        ):
            function = option(function)
        return command.command(name=template)(function)

    return decorate


@_common_options("openai-model")
@click.option(
    "--provider",
    type=click.Choice(["openai", "azure", "nim", "openrouter", "vllm", "ollama", "custom"]),
    help="Preset for the base URL, model, key variable, upstream API and headers (default openai).",
)
@click.option(
    "--upstream-api",
    type=click.Choice(["responses", "chat-completions", "chat_completions"]),
    help="The API the upstream serves; overrides the preset (openai: responses, others: chat-completions).",
)
@click.option("--api-version", help="Azure: the api-version query parameter (default 2024-10-21; none for .../openai/v1).")
@click.option("--openrouter-referer", help="OpenRouter: HTTP-Referer header (your app's URL).")
@click.option("--openrouter-title", help="OpenRouter: X-Title header (your app's name).")
@click.option(
    "--max-concurrent-requests",
    help="Cap on in-flight upstream requests (positive integer; default no cap).",
)
def openai_model(**options: Any) -> int:
    """A model server forwarding to an OpenAI-compatible endpoint, plus env.yaml and .gitignore."""
    return _new("openai-model", options)


@_common_options("azure-openai-model")
@click.option(
    "--api-version",
    help="The api-version query parameter (default 2024-10-21; none for the .../openai/v1 URL form).",
)
@click.option(
    "--max-concurrent-requests",
    help="Cap on in-flight upstream requests (positive integer; default no cap).",
)
def azure_openai_model(**options: Any) -> int:
    """A model server for an Azure OpenAI deployment (api-key header, api-version), plus env.yaml."""
    return _new("azure-openai-model", options)


@_common_options("vllm-model")
@click.option(
    "--token-ids/--no-token-ids",
    "return_token_id_information",
    default=None,
    help="Return prompt and generation token IDs and log-probs, for training (default on).",
)
@click.option(
    "--reasoning-parser/--no-reasoning-parser",
    "uses_reasoning_parser",
    default=None,
    help="vLLM runs with --reasoning-parser (default off).",
)
@click.option("--chat-template-kwargs", help="YAML mapping for the chat template, e.g. '{enable_thinking: false}'.")
def vllm_model(**options: Any) -> int:
    """A model server on NeMo Gym's vllm_model for a running vLLM server (token IDs for training)."""
    return _new("vllm-model", options)


def _new(template: str, options: dict[str, Any]) -> int:
    from gym_scaffold import answers, scaffold, template_repo

    dest: Path = options.pop("dest")
    api_key_env: str | None = options.pop("api_key_env")
    no_input: bool = options.pop("no_input")
    if options.pop("sync_template"):
        try:
            ref = template_repo.sync_template()
        except (template_repo.TemplateError, OSError) as exc:
            click.echo(f"gym-scaffold new: {exc}", err=True)
            return scaffold.EXIT_PROBLEMS
        state = "recorded" if ref.created else "already recorded"
        click.echo(f"Templates {state} as {ref.tag} in {ref.repo}")
        return 0

    given: dict[str, Any] = {"template": template}
    given |= {name: value for name, value in options.items() if value is not None}
    interactive = not no_input and sys.stdin.isatty()
    notes: list[str] = []
    try:
        if interactive:
            if template == "openai-model" and "provider" not in given:
                given["provider"] = _ask(answers.QUESTION_BY_NAME["provider"], "openai", given, dest)
            provider = given.get("provider") or answers.TEMPLATE_PROVIDER.get(template, "openai")
            for question in answers.questions_for(template, provider):
                if question.name in given:
                    continue
                default = _default_of(question.name, given, dest)
                given[question.name] = _ask(question, default, given, dest)
        elif "server_name" not in given:
            provider = given.get("provider") or answers.TEMPLATE_PROVIDER.get(template, "openai")
            preferred = answers.default_server_name(template, provider, given.get("upstream_api"))
            given["server_name"] = scaffold.free_server_name(dest, preferred)
            if given["server_name"] != preferred:
                notes.append(
                    f"{scaffold.SERVER_TYPE_DIR}/{preferred}/ exists, so the new server is named "
                    f"{given['server_name']} (choose another with --name)"
                )
        parsed = answers.parse_answers(given)
    except answers.AnswersError as exc:
        click.echo(f"gym-scaffold new: {exc}", err=True)
        return scaffold.EXIT_USAGE

    try:
        with _interruptible():
            outcome = scaffold.new_server(dest, parsed, api_key_env=api_key_env)
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
    for note in notes + outcome.notes:
        click.echo(f"Note: {note}")
    steps = list(outcome.next_steps)
    if dest.resolve() != Path.cwd().resolve():
        steps.insert(0, f"cd {dest}")
    click.echo("\nNext steps:")
    for number, step in enumerate(steps, start=1):
        click.echo(f"  {number}. {step}")
    return 0


def _default_of(name: str, given: dict[str, Any], dest: Path) -> Any:
    """The default shown at a prompt: the preset's, and for the name a free one."""
    from gym_scaffold import answers, scaffold

    if name == "server_name":
        provider = given.get("provider") or answers.TEMPLATE_PROVIDER.get(given["template"], "openai")
        preferred = answers.default_server_name(given["template"], provider, given.get("upstream_api"))
        return scaffold.free_server_name(dest, preferred)
    try:
        value = answers.with_defaults(given).get(name)
    except ValueError:
        value = None
    if value is None:
        value = answers.ServerAnswers.model_fields[name].default
    return None if value == "" and name in ("model", "base_url") else value
