"""Regenerate the docs that are derived from code.

    python scripts/gen_rule_docs.py           # write docs/rules.md and docs/report.schema.json
    python scripts/gen_rule_docs.py --check   # exit 1 if either is out of date

docs/rules.md comes from the rule docstrings (gym_scaffold/rules/*.py); docs/report.schema.json
is the JSON Schema of `validate --format json`, generated from its pydantic model.
tests/test_rules_command.py and tests/test_reporters.py fail when a committed file is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES_MD = ROOT / "docs" / "rules.md"
REPORT_SCHEMA = ROOT / "docs" / "report.schema.json"


def generated() -> dict[Path, str]:
    """Each generated file and the text it should hold."""
    from gym_scaffold.commands.rules import markdown
    from gym_scaffold.report.json import schema_text
    from gym_scaffold.rules import all_rules

    return {RULES_MD: markdown(all_rules()), REPORT_SCHEMA: schema_text()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    stale = []
    for path, text in generated().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    if args.check and stale:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date", file=sys.stderr)
        print("run: python scripts/gen_rule_docs.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
