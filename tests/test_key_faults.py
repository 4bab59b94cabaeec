"""One detector of key hygiene faults, and one of placeholders, serve `validate` and `doctor`."""

from __future__ import annotations

import pytest

from gym_scaffold.secrets import (
    KEY_AROUND_NEWLINE,
    KEY_AROUND_WHITESPACE,
    KEY_BEARER,
    KEY_INNER_WHITESPACE,
    KEY_NOT_ASCII,
    KEY_QUOTES,
    key_faults,
)


@pytest.mark.parametrize(
    ("key", "faults"),
    [
        ("sk-abc123\n", [KEY_AROUND_NEWLINE]),
        (" sk-abc123", [KEY_AROUND_WHITESPACE]),
        ("sk-abc 123", [KEY_INNER_WHITESPACE]),
        ('"sk-abc123"', [KEY_QUOTES]),
        ("'sk-abc123", [KEY_QUOTES]),
        ("Bearer sk-abc123", [KEY_BEARER]),
        ("Bearer sk-abc 123", [KEY_INNER_WHITESPACE, KEY_BEARER]),
        ("sk-abc\u2013123", [KEY_NOT_ASCII]),
        ("sk-abc\x01123", [KEY_NOT_ASCII]),
        (" 'sk-abc123' ", [KEY_AROUND_WHITESPACE, KEY_QUOTES]),
        ("sk-abc123", []),
        ("EMPTY", []),
        ("", []),
    ],
)
def test_key_faults(key, faults):
    assert key_faults(key) == faults


def test_validate_and_doctor_word_every_fault():
    from gym_scaffold.doctor.static import _KEY_FAULT_WORDING
    from gym_scaffold.rules.api_key_format import _WORDING

    every = {KEY_AROUND_NEWLINE, KEY_AROUND_WHITESPACE, KEY_INNER_WHITESPACE, KEY_QUOTES, KEY_BEARER, KEY_NOT_ASCII}
    assert set(_WORDING) == every == set(_KEY_FAULT_WORDING)


PLACEHOLDERS = ["sk-your-api-key", "your-api-key", "YOUR_API_KEY", "<api_key>", "changeme", "replace-me", "fixme",
                "todo", "TBD", "placeholder", "xxxx", "***", "...", "sk-xxxxxxxxxxxx", "sk-...", "api-key-here",
                "token_here", "insert-your-key", "enter your key", "redacted", "secret"]
NOT_PLACEHOLDERS = ["EMPTY", "dummy", "", "sk-proj-Q8wErT5yUi9oPa3sDf7gHj2kLz6xCv4bNm1Q", "nvapi-abcdefghijklmnop",
                    "gpt-4o-mini", "local", "secrets-manager-ref"]


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_validate_and_doctor_see_the_same_placeholders(value):
    from gym_scaffold.doctor.static import _is_placeholder
    from gym_scaffold.rules._fields import API_KEY
    from gym_scaffold.rules.placeholder_value import placeholder_in

    assert placeholder_in(value, API_KEY)
    assert _is_placeholder(value)


@pytest.mark.parametrize("value", NOT_PLACEHOLDERS)
def test_real_and_customary_values_are_not_placeholders(value):
    from gym_scaffold.doctor.static import _is_placeholder
    from gym_scaffold.rules._fields import API_KEY
    from gym_scaffold.rules.placeholder_value import placeholder_in

    assert not placeholder_in(value, API_KEY)
    assert not _is_placeholder(value)


@pytest.mark.parametrize("marker", ["???", "??", "${policy_api_key}"])
def test_run_time_markers_are_placeholders_for_doctor_only(marker):
    """validate has its own rules for them (missing-value, double-question-mark, interpolation)."""
    from gym_scaffold.doctor.static import _is_placeholder
    from gym_scaffold.rules._fields import API_KEY
    from gym_scaffold.rules.placeholder_value import placeholder_in

    assert _is_placeholder(marker) and not placeholder_in(marker, API_KEY)


def test_a_placeholder_key_is_one_finding_not_also_a_malformed_key():
    # resources_servers/aviary/configs/bbh_remote.yaml: `api_key: [insert server api key]`.
    from gym_scaffold.config.view import view_from_text
    from gym_scaffold.rules import api_key_format, placeholder_value

    text = (
        "policy_model:\n  responses_api_models:\n    openai_model:\n      entrypoint: app.py\n"
        "      openai_base_url: https://api.openai.com/v1\n      openai_api_key: {key}\n      openai_model: m\n"
    )
    view = view_from_text(text.format(key="insert model api key"))
    assert [p for p in api_key_format.check(view) if p] == []
    assert [p.rule for p in placeholder_value.check(view) if p] == ["placeholder-value"]
    view = view_from_text(text.format(key='"sk-abc 123"'))
    assert [p.rule for p in api_key_format.check(view) if p] == ["api-key-format"]
