"""Records the doctor produces: one line per check, one diagnosis per server."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from gym_scaffold.doctor.classify import Category, Diagnosis, Where
from gym_scaffold.secrets import Secret


class Status(str, enum.Enum):
    OK = "ok"
    WARNING = "warning"
    FAILURE = "failure"
    SKIPPED = "skipped"

    def __str__(self) -> str:
        return self.value


@dataclass
class Check:
    id: str  # "<server>/<check>", e.g. "policy_model/auth"
    status: Status
    message: str
    hint: str | None = None


@dataclass
class Target:
    """One endpoint to check: what NeMo Gym would call, and where each value was written."""

    server: str  # instance name (with [i] for one entry of a vLLM base_url list)
    implementation: str  # openai_model, vllm_model, ..., or "env.yaml" / "flags"
    base_url: Any
    api_key: Secret | None
    model: Any
    where: Where = field(default_factory=Where)
    api: str = "chat"  # "responses" for openai_model / litellm_model, else "chat"
    azure_api_version: str | None = None
    provider_hint: str | None = None  # what the config says of the provider (e.g. azure), over the host's
    api_version_where: str | None = None  # where an Azure server's api-version is set (its default_query)
    default_headers: dict[str, str] = field(default_factory=dict)
    # field -> the unresolved text (e.g. "${policy_api_key}" or "???") for values not resolved
    unresolved: dict[str, str] = field(default_factory=dict)
    raw_key: Any = None  # the key value when it is not a string (a typo'd YAML type)


@dataclass
class ServerResult:
    target: Target
    checks: list[Check] = field(default_factory=list)
    diagnosis: Diagnosis | None = None

    def add(self, name: str, status: Status, message: str, hint: str | None = None) -> Check:
        check = Check(f"{self.target.server}/{name}", status, message, hint)
        self.checks.append(check)
        return check


@dataclass
class DoctorResult:
    servers: list[ServerResult] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)  # checks not tied to one server (config, log)
    log_diagnoses: list[tuple[str, Diagnosis]] = field(default_factory=list)  # (source, diagnosis)
    secrets: list[Secret] = field(default_factory=list)  # every key seen, to scrub from output
    elapsed_s: float = 0.0
    log_mode: bool = False

    @property
    def ok(self) -> bool:
        if any(c.status is Status.FAILURE for c in self.checks):
            return False
        diagnoses = [s.diagnosis for s in self.servers] + [d for _, d in self.log_diagnoses]
        if not diagnoses:
            return self.log_mode  # a log without errors is fine; checking nothing is not
        return all(d is not None and d.category is Category.OK for d in diagnoses)
