"""Modules parsed with their function bodies cut out (derive_source._parse_outline).

The outline must be the module's own, whole but for what lies inside functions, or not be
used at all: every case here is compared with Python's parse of the whole source.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from corpus_support import CORPUS, needs_corpus

from gym_scaffold.derive_source import _parse_outline, parse_module, parse_quietly


def without_function_bodies(tree: ast.AST) -> str:
    """The tree as derive reads it: function bodies, signatures and end positions dropped
    (in place)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.body, node.args, node.returns = [], None, None
        if hasattr(node, "end_lineno"):
            node.end_lineno = node.end_col_offset = None
    return ast.dump(tree, include_attributes=True)


def outline(source: str | bytes) -> ast.Module | None:
    data = source.encode() if isinstance(source, str) else source
    found = _parse_outline(data, Path("app.py"))
    try:
        whole = parse_quietly(data)
    except SyntaxError:
        return found  # an error inside a function body is not derive's to see
    if found is not None:
        again = _parse_outline(data, Path("app.py"))  # a copy to strip: `found` is returned whole
        assert without_function_bodies(again) == without_function_bodies(whole)
    return found


SERVER = '''\
from pydantic import Field
from nemo_gym.base_resources_server import BaseResourcesServerConfig, SimpleResourcesServer


class QuizConfig(BaseResourcesServerConfig):
    judge_url: str
    """Where the judge listens."""
    rounds: int = Field(default=3, description="Rounds per game.")

    @field_validator("rounds")
    @classmethod
    def positive(
        cls,
        value: int,
    ) -> int:
        if value < 1:
            raise ValueError("rounds")
        return value


class QuizServer(SimpleResourcesServer):
    config: QuizConfig

    async def verify(self, body: dict) -> dict:
        prompt = """
            Answer the question below.
        class NotAConfig(BaseResourcesServerConfig):
            nothing: int
        """
        return {"prompt": prompt}

    def one_line(self): return 1


if __name__ == "__main__":
    QuizServer.run_webserver()
'''


def test_a_server_module_is_parsed_without_its_function_bodies() -> None:
    tree = outline(SERVER)  # the prompt is paired inside its function: cut with it
    assert tree is not None
    module = parse_module(Path("app.py"), SERVER.encode())
    assert list(module.classes) == ["QuizConfig", "QuizServer"]
    config = module.classes["QuizConfig"]
    assert [node.lineno for node in config.body] == [6, 7, 8, 12]  # line numbers hold
    methods = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    assert [(m.name, m.body[0].__class__.__name__) for m in methods] == [
        ("positive", "Expr"), ("verify", "Expr"), ("one_line", "Expr")
    ]  # `...` in place of each body


@pytest.mark.parametrize(
    "source",
    [
        # A template of Python code in a string: its `def` lines are text, not functions.
        'TEMPLATE = """\nimport sys\n\ndef helper(x):\n    return x\n\nclass Evil(BaseResourcesServerConfig):\n'
        '    x: int\n"""\n\ndef real():\n    return TEMPLATE\n',
        # A body that goes on in a string starting at column 0.
        'def f():\n    return """text\nclass Evil(BaseResourcesServerConfig):\n    x: int\n"""\n'
        "class Config(BaseResourcesServerConfig):\n    y: int\n",
        # ... after a backslash.
        'def f():\n    assert g() == \\\n"""digraph{\n}"""\n\n\ndef h():\n    pass\n',
        "def f():\n    x = \\\nclass_thing = 3\n",
        # A body whose bracket closes at column 0.
        "def f():\n    return [\n1]\nclass C:\n    pass\n",
        # Single-quoted triple strings, and the two kinds inside each other.
        "def f():\n    s = '''a \"\"\" b'''\n    return s\nclass C:\n    x: int = 1\n",
        "def f():\n    return '''\nclass Evil: pass\n'''\n",
        # Tabs, CRLF line ends, a byte order mark, async and nested definitions.
        "class C:\r\n\tdef f(self):\r\n\t\treturn 1\r\n\tx: int = 2\r\n",
        "\ufeffasync def f():\n    async def g():\n        pass\n    return g\n",
        "class Outer:\n    class Inner:\n        def f(self):\n            pass\n    y: int = 1\n",
        # Decorators whose arguments span lines; a signature that closes at the def's indent.
        "@decorate(\n    1,\n)\ndef f(\n    a,\n) -> dict[\n    str, int\n]:\n    return {}\nz = 1\n",
        # Nothing to cut, and sources that do not parse.
        "x: int = 1\n",
        "def f(:\n    pass\n",
        "def f():\n    pass\nclass (:\n",
    ],
)
def test_an_outline_is_the_modules_own_or_none(source: str) -> None:
    outline(source)


def test_cuts_that_leave_text_outside_any_function_are_not_used() -> None:
    # A prompt written from column 0 inside a method: the whole module is parsed.
    assert outline(SERVER.replace("\n            Answer", "\nAnswer")) is None
    assert outline('def f():\n    return """text\nmore"""\n') is None
    assert outline("def f():\n    x = \\\nclass_thing = 3\n") is None
    assert outline('TEMPLATE = """\ndef helper(x):\n    return x\n"""\n') is None


def outlined(modules: list[Path]) -> int:
    """How many of the modules that Python parses are outlined (each checked by `outline`)."""
    used = 0
    for path in modules:
        data = path.read_bytes()
        try:
            parse_quietly(data)
        except (SyntaxError, ValueError):
            continue
        used += outline(data) is not None
    return used


@needs_corpus
def test_every_python_module_of_the_corpus_outlines_as_python_parses_it() -> None:
    modules = sorted(CORPUS.rglob("*.py"))
    assert len(modules) > 150
    assert outlined(modules) > len(modules) / 2, "the outline should serve most server modules"


def test_the_servers_own_syntax_warnings_are_not_printed(tmp_path: Path) -> None:
    import warnings

    from gym_scaffold import derive

    app = tmp_path / "resources_servers" / "quiz" / "app.py"
    app.parent.mkdir(parents=True)
    app.write_text(SERVER.replace('"rounds"', '"rounds \\%"'))  # an invalid escape sequence
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for text in (app.read_text(), app.read_text() + 'x: "list[\\%]" = 1\n'):
            app.write_text(text)
            assert derive.derive_uncached(app, tmp_path).class_name == "QuizConfig"
    assert [str(w.message) for w in caught] == []


def test_the_standard_library_outlines_as_python_parses_it() -> None:
    # Some 200 modules of every style (the json, email, asyncio, unittest packages, ...).
    library = Path(ast.__file__).parent
    modules = sorted(library.glob("*.py")) + sorted((library / "email").glob("*.py"))
    assert len(modules) > 150, sys.version
    outlined(modules)
