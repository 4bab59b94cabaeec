"""The answers of the model-server templates, validated the way templates/copier.yml validates
them, and the provider presets that fill in their defaults.

No click and no copier here: the command asks, this module checks.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from gym_scaffold import urls

ENV_KEYS = ("policy_base_url", "policy_api_key", "policy_model_name")
_ENV_PREFIX = re.compile(r"^[a-z][a-z0-9_]*$")


def env_keys(prefix: str) -> tuple[str, str, str]:
    """The env.yaml keys a server's config reads: <prefix>_base_url, _api_key, _model_name."""
    return (f"{prefix}_base_url", f"{prefix}_api_key", f"{prefix}_model_name")


# The same rules as the validators in templates/copier.yml (a test keeps them equal).
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INSTANCE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_MODEL = re.compile(r"^\S+$")
_NOT_A_URL = frozenset({urls.WHITESPACE, urls.UNPARSEABLE, urls.NO_SCHEME, urls.BAD_SCHEME, urls.NO_HOST})


def _is_http_url(url: str) -> bool:
    """An http(s) URL with a host, as urls.inspect_url (validate's and doctor's check) sees it.
    Advice such as a missing /v1 is validate's to give, on the config written."""
    faults, _ = urls.inspect_url(url)
    return not any(fault.kind in _NOT_A_URL for fault in faults)


_API_VERSION = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(-preview)?$|^preview$|^latest$")
# Top-level keys NeMo Gym reads as settings, plus the env.yaml keys the config interpolates.
RESERVED_TOP_LEVEL = frozenset(
    [
        "config_paths", "default_host", "head_server", "disallowed_ports", "head_server_deps",
        "python_version", "pip_install_verbose", "use_absolute_ip", "uv_pip_set_python",
        "skip_venv_if_present", "hf_token", "ray_head_node_address", "port_range_low",
        "port_range_high", "dry_run", "model_endpoint_readiness_timeout_seconds",
        "allow_openai_version_skew", "uv_cache_dir", "uv_venv_dir", "results_dir", "cache_dir",
        "nemo_gym_log_dir", "verbose", "json", "query", "observability_enabled",
        "model_call_capture_dir", "token_id_capture", "component_name", "skip_verification",
        "skip_verification_reward", "entrypoint", "_inherit_from", "_copy",
    ]
    + list(ENV_KEYS)
)  # fmt: skip

TemplateName = Literal["openai-model", "azure-openai-model", "vllm-model"]
UpstreamAPI = Literal["responses", "chat_completions"]


@dataclass(frozen=True)
class Preset:
    """What one provider needs; None where there is no default (it is asked)."""

    name: str
    base_url: str | None
    model: str | None
    upstream_api: str
    api_key_env: str
    # What env.yaml gets as the key when the variable is unset: None means `???` (the provider
    # needs a real key); local servers started without a key accept any value.
    local_key: str | None
    base_url_hint: str
    model_hint: str


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset("openai", "https://api.openai.com/v1", "gpt-4o-mini", "responses", "OPENAI_API_KEY", None,
               "", ""),
        Preset("azure", None, None, "chat_completions", "AZURE_OPENAI_API_KEY", None,
               "https://<resource>.openai.azure.com/openai/v1 or https://<resource>.openai.azure.com/openai/deployments/<deployment>",
               "the deployment name"),
        Preset("nim", "https://integrate.api.nvidia.com/v1", "meta/llama-3.1-8b-instruct", "chat_completions",
               "NVIDIA_API_KEY", None, "", ""),
        Preset("openrouter", "https://openrouter.ai/api/v1", "openai/gpt-4o-mini", "chat_completions",
               "OPENROUTER_API_KEY", None, "", ""),
        Preset("vllm", "http://localhost:8000/v1", None, "chat_completions", "VLLM_API_KEY", "EMPTY",
               "", "the name the vLLM server serves (--served-model-name, else the model path)"),
        Preset("ollama", "http://localhost:11434/v1", "llama3.2", "chat_completions", "OLLAMA_API_KEY", "ollama",
               "", ""),
        Preset("custom", None, None, "chat_completions", "OPENAI_API_KEY", None,
               "the API root of the endpoint, usually ending in /v1", "the model name the endpoint serves"),
    )
}  # fmt: skip
TEMPLATE_PROVIDER = {"azure-openai-model": "azure", "vllm-model": "vllm"}  # templates tied to one provider


@dataclass(frozen=True)
class Question:
    name: str  # answer key in copier.yml
    option: str  # CLI option
    prompt: str
    templates: tuple[str, ...] = ("openai-model", "azure-openai-model", "vllm-model")
    providers: tuple[str, ...] | None = None  # None: every provider


QUESTIONS: tuple[Question, ...] = (
    Question("provider", "--provider", "Provider (" + ", ".join(PRESETS) + ")", ("openai-model",)),
    Question("server_name", "--name", "Server name (Python identifier)"),
    Question("instance_name", "--instance", "Instance name"),
    Question("env_prefix", "--env-prefix", "Prefix of the env.yaml keys (policy, judge, ...)"),
    Question("base_url", "--base-url", "Base URL"),
    Question("model", "--model", "Model"),
    Question("upstream_api", "--upstream-api", "Upstream API (responses, chat_completions)", ("openai-model",)),
    Question("api_version", "--api-version", "Azure api-version (empty for the v1 URL form)",
             ("openai-model", "azure-openai-model"), ("azure",)),
    Question("openrouter_referer", "--openrouter-referer", "HTTP-Referer for OpenRouter (optional)",
             ("openai-model",), ("openrouter",)),
    Question("openrouter_title", "--openrouter-title", "X-Title for OpenRouter (optional)",
             ("openai-model",), ("openrouter",)),
    Question("max_concurrent_requests", "--max-concurrent-requests",
             "Max concurrent upstream requests (empty for no cap)", ("openai-model", "azure-openai-model")),
    Question("return_token_id_information", "--token-ids/--no-token-ids",
             "Return token IDs and log-probs for training (yes/no)", ("vllm-model",)),
    Question("uses_reasoning_parser", "--reasoning-parser/--no-reasoning-parser",
             "vLLM runs with --reasoning-parser (yes/no)", ("vllm-model",)),
    Question("chat_template_kwargs", "--chat-template-kwargs",
             "chat_template_kwargs as YAML, e.g. {enable_thinking: false} (empty for none)", ("vllm-model",)),
)  # fmt: skip
QUESTION_BY_NAME = {q.name: q for q in QUESTIONS}


def questions_for(template: str, provider: str) -> list[Question]:
    return [
        q for q in QUESTIONS
        if template in q.templates and (q.providers is None or provider in q.providers)
    ]  # fmt: skip


class AnswersError(ValueError):
    """An answer that the template would refuse; names the question."""

    def __init__(self, question: str, message: str) -> None:
        self.question = question
        self.message = message
        q = QUESTION_BY_NAME.get(question)
        label = f"{question} ({q.option})" if q else question
        super().__init__(f"invalid answer to {label}: {message}")


def default_server_name(template: str, provider: str, upstream_api: str | None = None) -> str:
    """As copier.yml's default: never a stock NeMo Gym server whose fields differ from ours
    (openai_model only when the config has nothing the stock openai_model lacks)."""
    if template == "azure-openai-model":
        return "azure_deployment_model"
    if template == "vllm-model":
        return "my_vllm_model"  # not vllm_model: the server it builds on
    if provider == "openai":
        return "openai_chat_model" if upstream_api in ("chat_completions", "chat-completions") else "openai_model"
    return {"vllm": "vllm_chat_model"}.get(provider, f"{provider}_model")


def with_defaults(raw: Mapping[str, Any]) -> dict[str, Any]:
    """`raw` with the defaults of its template and provider preset filled in (not validated)."""
    data = dict(raw)
    template = data.get("template") or "openai-model"
    fixed = TEMPLATE_PROVIDER.get(template)
    if fixed is not None:
        if data.get("provider") not in (None, fixed):
            raise ValueError(f"provider: {template} is for {fixed} only")
        data["provider"] = fixed
    provider = data.get("provider") or "openai"
    preset = PRESETS.get(provider)
    if preset is None:
        raise ValueError(f"provider: must be one of {', '.join(PRESETS)}")
    data.setdefault("server_name", default_server_name(template, provider, data.get("upstream_api")))
    if data.get("base_url") is None and preset.base_url:
        data["base_url"] = preset.base_url
    if data.get("model") is None and preset.model:
        data["model"] = preset.model
    data.setdefault("upstream_api", "chat_completions" if template != "openai-model" else preset.upstream_api)
    if provider == "azure" and data.get("api_version") is None:
        data["api_version"] = "" if "/openai/v1" in str(data.get("base_url") or "") else "2024-10-21"
    return data


class ServerAnswers(BaseModel):
    """The answers of one template, validated like copier.yml validates them."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    template: TemplateName = "openai-model"
    provider: str = "openai"
    server_name: str = ""
    instance_name: str = "policy_model"
    env_prefix: str = "policy"
    base_url: str = ""  # before model: an error names the first missing one, in the order they are asked
    model: str = ""
    upstream_api: UpstreamAPI = "responses"
    api_version: str = ""
    openrouter_referer: str = ""
    openrouter_title: str = ""
    max_concurrent_requests: int | None = None
    return_token_id_information: bool = True
    uses_reasoning_parser: bool = False
    chat_template_kwargs: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _preset_defaults(cls, raw: Any) -> Any:
        return with_defaults(raw) if isinstance(raw, dict) else raw

    @field_validator("server_name")
    @classmethod
    def _server_name(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError("must be a Python identifier: letters, digits and underscores, not starting with a digit")
        if keyword.iskeyword(value):
            raise ValueError("must not be a Python keyword")
        return value

    @field_validator("instance_name")
    @classmethod
    def _instance_name(cls, value: str) -> str:
        if not _INSTANCE.match(value):
            raise ValueError(
                "must start with a letter or underscore and hold only letters, digits, underscores and hyphens"
            )
        if value in RESERVED_TOP_LEVEL:
            raise ValueError("is a reserved top-level key of NeMo Gym configs")
        return value

    @field_validator("env_prefix")
    @classmethod
    def _env_prefix(cls, value: str) -> str:
        if not _ENV_PREFIX.match(value):
            raise ValueError("must be lower-case letters, digits and underscores, starting with a letter")
        return value

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        if not _MODEL.match(value):
            raise ValueError("must be a non-empty model name without spaces")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        # vllm-model takes a comma-separated list (data-parallel replicas); checked per URL.
        if not value or not all(_is_http_url(url.strip()) for url in value.split(",")):
            raise ValueError("must be an http:// or https:// URL with a host, e.g. https://api.openai.com/v1")
        return value

    @field_validator("upstream_api", mode="before")
    @classmethod
    def _upstream_api(cls, value: Any) -> Any:
        return value.replace("-", "_") if isinstance(value, str) else value

    @field_validator("max_concurrent_requests", mode="before")
    @classmethod
    def _max_concurrent_requests(cls, value: Any) -> int | None:
        if isinstance(value, str):
            text = value.strip()
            if text.lower() in ("", "none", "null", "~"):
                return None
            if not re.fullmatch(r"[+-]?[0-9]+", text):
                raise ValueError("must be a positive integer, or empty for no cap")
            value = int(text)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError("must be a positive integer, or empty for no cap")
        return value

    @field_validator("chat_template_kwargs", mode="before")
    @classmethod
    def _chat_template_kwargs(cls, value: Any) -> Any:
        if isinstance(value, str):
            import yaml

            text = value.strip()
            if not text:
                return None
            try:
                value = yaml.safe_load(text)
            except yaml.YAMLError:
                raise ValueError("must be a YAML mapping, e.g. {enable_thinking: false}") from None
        if value is not None and not isinstance(value, dict):
            raise ValueError("must be a mapping, e.g. {enable_thinking: false}, or empty for none")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> ServerAnswers:
        if self.instance_name in env_keys(self.env_prefix):
            raise AnswersError("env_prefix", "names the instance's own env.yaml key")
        if self.provider == "azure":
            if self.api_version and not _API_VERSION.match(self.api_version):
                raise AnswersError("api_version", "must look like 2024-10-21 (or 2025-04-01-preview)")
            if not self.api_version and "/openai/deployments/" in self.base_url:
                raise AnswersError("api_version", "the deployments URL form needs an api-version, e.g. 2024-10-21")
        if self.template == "vllm-model" and self.server_name == "vllm_model":
            raise AnswersError("server_name", "is NeMo Gym's own vllm_model, which this server builds on")
        if self.template != "vllm-model" and "," in self.base_url:
            raise AnswersError("base_url", "one URL only (several replicas are for vllm-model)")
        return self

    def copier_data(self) -> dict[str, Any]:
        """The answers copier.yml asks for this template and provider."""
        asked = {q.name for q in questions_for(self.template, self.provider)}
        data = self.model_dump()
        return {k: v for k, v in data.items() if k in asked or k == "template"}


def _first_error(exc: ValidationError) -> AnswersError:
    error = exc.errors()[0]
    message = error["msg"].removeprefix("Value error, ")
    question = str(error["loc"][0]) if error["loc"] else "answers"
    if error["type"] == "extra_forbidden":
        message = "not a question of this template"
    elif not error["loc"]:
        # a model-level check: its message starts with the question, or it is an AnswersError
        ctx = error.get("ctx", {}).get("error")
        if isinstance(ctx, AnswersError):
            return ctx
        question, _, message = message.partition(": ")
    return AnswersError(question, message)


def parse_answers(raw: Mapping[str, Any]) -> ServerAnswers:
    """Validate answers (missing ones take the preset's defaults); raise AnswersError naming the question."""
    data = dict(raw)
    try:
        answers = ServerAnswers.model_validate(data)
    except ValidationError as exc:
        error = _first_error(exc)
        if error.question in ("model", "base_url") and not data.get(error.question):
            provider = data.get("provider") or TEMPLATE_PROVIDER.get(data.get("template", ""), "openai")
            preset = PRESETS.get(provider)
            hint = (preset.model_hint if error.question == "model" else preset.base_url_hint) if preset else ""
            option = QUESTION_BY_NAME[error.question].option
            raise AnswersError(
                error.question, f"{provider} has no default: give {option}" + (f" ({hint})" if hint else "")
            ) from None
        raise error from None
    return answers


def check_answer(name: str, value: Any, given: Mapping[str, Any]) -> Any:
    """Validate one answer in the context of those given so far (for asking again in a terminal)."""
    # Questions not answered yet that have no default take a stand-in, so that only this answer is judged.
    stand_ins = {"model": "stand-in", "base_url": "http://stand-in/v1"}
    data = {k: v for k, v in stand_ins.items() if k != name and not given.get(k)} | dict(given) | {name: value}
    try:
        return getattr(parse_answers(data), name)
    except AnswersError as exc:
        if exc.question == name:
            raise
        return value
