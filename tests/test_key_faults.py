"""One detector of key hygiene faults serves `validate` (api-key-format) and `doctor`."""

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
