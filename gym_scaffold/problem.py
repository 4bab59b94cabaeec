"""The one record every check produces and every reporter formats.

A plain dataclass rather than a pydantic model: it is created on every commit's path,
where pydantic's import would cost more than the whole check. The JSON report
(`report/json.py`) is the pydantic view of these records.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"  # information only (a skipped file, a skipped check); never fails a run

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong (or worth knowing) at one place in one file.

    `line` and `column` are 1-based; 0 means the problem concerns the whole file.
    """

    path: str
    line: int
    column: int
    severity: Severity
    rule: str
    message: str
    hint: str | None = None

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.rule, self.message)


QUOTE_LIMIT = 60


def shorten(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A value the user wrote, as a message or hint quotes it: at most `limit` characters.

    Keys and values come from the user's files and may be any length (a 100,000-character
    URL, a 0x integer of 20,000 hex digits); longer text is cut and ends in "...". An
    integer with more digits than Python writes in decimal (4,300) is shown in hex.
    """
    if isinstance(value, str):
        text = value
    elif isinstance(value, int) and not isinstance(value, bool):
        try:
            text = str(value)
        except ValueError:
            text = hex(value)
    else:
        text = str(value)
    if len(text) <= limit:
        return text
    return text[: max(limit - 3, 0)] + "..."
