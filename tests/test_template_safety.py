"""Diagram text can never become code in any built-in template, and user template folders
stay in Jinja's sandbox with errors that name the template file and line.

Part 1 builds, for each injection payload, one diagram that carries the payload in every
place diagram text can go (title, box title, participant id and alias, message and note
texts, every block and section label, `link`, `links` and `properties`, and the source
name), and generates it for every target and style. In every generated Python file the
payload must stay data: the file compiles, its AST calls nothing the payloads call, every
occurrence of a payload fragment lies inside a string or comment token, no comment carries
a tool directive, the first two lines declare no encoding, and the payload itself is
there, intact, in some string constant. The trees pass `ruff check --isolated` with
nothing excluded, and the python target's skeletons run with a canary on PATH that notices
any `os.system` a payload asks for.

Part 2 exports the built-in templates, breaks a copy (sandbox escapes, syntax errors,
undefined variables, filters failing on their data, files.toml paths that reach into
Python objects) and checks that `mermaidgen generate` and `mermaidgen check --templates`
report the template file and line with exit code 1, print no traceback and write
nothing, and that an unmodified export generates byte-identical output. An export records
the template context version it was written for: an older set (or one from before the
record) is warned about with what changed since, a newer one refused, a broken record
named.
"""

from __future__ import annotations

import ast
import functools
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tokenize
import tomllib
import unicodedata
from pathlib import Path

import pytest
from projects import CliResult, run_python

import mermaidgen
from mermaidgen.codegen.context import CONTEXT_CHANGES, CONTEXT_VERSION
from mermaidgen.codegen.generate import TARGETS, Generation, build
from mermaidgen.codegen.write import output
from mermaidgen.codegen.write.render import MARKER
from mermaidgen.commands.cli import _run
from mermaidgen.contract import vendored_sources
from mermaidgen.model import Diagram
from mermaidgen.model.serialize import to_dict
from mermaidgen.projection.choreography import RUNTIME_METHODS as CHOREOGRAPHY_RESERVED
from mermaidgen.projection.orchestration import RUNTIME_METHODS as ORCHESTRATION_RESERVED

PROJECT = Path(__file__).resolve().parents[1]
CHECKOUT = PROJECT / "samples" / "checkout.mmd"
GENERATIONS = [(target, style) for target, styles in TARGETS.items() for style in styles]


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    """fsync guards against power loss, which no test here causes; skipping it in this
    process keeps the file fast (as in test_cli_generate.py)."""
    monkeypatch.setattr(output.os, "fsync", lambda fd: None)


# --- part 1: injection payloads ------------------------------------------------------------

PAYLOADS: dict[str, str] = {
    "triple-double": '"""; import os; os.system("pwned") #',
    "triple-single": "'''; import os; os.system('pwned') #",
    "escaped-newline": '\\n__import__("os").system("x")',
    "real-newline": 'x\n__import__("os").system("x")',
    "carriage-return": 'x\r__import__("os").system("x")',
    "backslash": "\\",
    "trailing-backslash": "x \\",
    "quote-break": "\\\" + __import__('os').getcwd() + \\\"",
    "jinja-expression": "tpl {{ 7*7 }} tpl",
    "jinja-raw": "{% raw %} tpl {{ 6*7 }}",
    "shell": "${HOME} $(id) `id`",
    "script": "</script><script>alert(1)</script>",
    "noqa": "# noqa\nimport os",
    "file-directives": "x # ruff: noqa # flake8: noqa # pylint: disable=all # type: ignore",
    "line-separators": "a\u2028__import__('os').system('ls')\u2029b\u0085c",
    "bidi": "ok\u202e\u2066 __import__('os').system('bidi') \u2069",
    "controls": "c\x01\x07\x08\x0b\x0c\x1b\x7f\x9bc",
    "entity-text": "#55296; #quot;",
    "lone-surrogate": "s\ud800 and \udfffs",
    "long": "L" * 250 + "'\"" + "M" * 248,
    "python-escapes": "\\N{BOGUS} \\x \\u12 {0} %s {{",
    "coding-cookie": "x coding: utf-7 +AAo-print(+ACI-pwned+ACI-)",
}

def _mark(pid: str, *extra: str) -> object:
    """A test case for payload `pid`."""
    return pytest.param(pid, *extra, id="-".join((pid, *extra)))


def _entity(c: str) -> str:
    return f"#{ord(c)};"


def as_text(p: str) -> str:
    """`p` as mermaid text (message, note, label, title): `#` and `;` would end the text and
    a newline the statement, so they, control characters and surrogates become entities."""
    return "".join(
        _entity(c) if c in "#;" or unicodedata.category(c) in ("Cc", "Cs") else c for c in p)


def as_id(p: str) -> str:
    """`p` as a participant id usable in messages: everything but letters, digits and `_`
    as an entity (an id cannot hold `-`, `:`, `,`, `<`, ... literally)."""
    return "".join(c if (c.isascii() and c.isalnum()) or c == "_" else _entity(c) for c in p)


def diagram_text(p: str, in_json: str | None = None) -> str:
    """A diagram with `p` everywhere diagram text can go (`in_json`, default `p`, in the
    JSON of `links` and `properties`)."""
    t, i = as_text(p), as_id(p)
    j = as_text(json.dumps(p if in_json is None else in_json))  # keeps \ud800 escaped
    return f"""sequenceDiagram
    title {t}
    box {t}
        participant Caller as {t}
    end
    participant {i}
    Caller->>{i}: {t}
    Note over Caller: {t}
    {i}-->>Caller: {t}
    loop {t}
        Caller->>Svc: {t}
        Svc-->>Caller: done
    end
    alt {t}
        Caller->>Svc: yes
    else {t}
        Caller->>Svc: no
    end
    opt {t}
        Svc->>Caller: maybe
    end
    par {t}
        Svc->>Caller: left
    and {t}
        Svc->>{i}: right
    end
    critical {t}
        Caller->>Svc: try
    option {t}
        Note right of Svc: {t}
    end
    rect {t}
        Caller->>Svc: in rect
    end
    link Caller: {t} @ https://example.com/{t}
    links Svc: {{{j}: "https://example.com/"}}
    properties Svc: {{"note": {j}}}
"""


def source_name(pid: str) -> str:
    return f"{PAYLOADS[pid]}.mmd"


@functools.cache
def parsed(pid: str) -> Diagram:
    return mermaidgen.parse(diagram_text(PAYLOADS[pid]), source=source_name(pid))


@functools.cache
def generation(pid: str, target: str, style: str) -> Generation:
    return build(parsed(pid), diagram_text(PAYLOADS[pid]), style=style, target=target)


def _strings(value: object, path: str = "") -> dict[str, str]:
    """Every string of a JSON-like document, keys included, by its path."""
    found: dict[str, str] = {}
    if isinstance(value, str):
        found[path] = value
    elif isinstance(value, dict):
        for k, v in value.items():
            found[f"{path}{{key {k!r}}}"] = str(k)
            found.update(_strings(v, f"{path}[{k!r}]"))
    elif isinstance(value, list):
        for n, v in enumerate(value):
            found.update(_strings(v, f"{path}[{n}]"))
    return found


def _places(text_marker: str, json_marker: str) -> tuple[list[str], list[str]]:
    """The paths in the model where a marker diagram puts its text, and its JSON, marker."""
    document = to_dict(mermaidgen.parse(diagram_text(text_marker, json_marker), source="m"))
    strings = _strings(document)
    return ([p.replace(repr(text_marker), "MARKER") for p, s in strings.items()
             if s == text_marker],
            [p.replace(repr(json_marker), "MARKER") for p, s in strings.items()
             if s == json_marker])


# every place a payload must reach: diagram text, and JSON (links, properties)
TEXT_PLACES, JSON_PLACES = _places("TEXTMARKER", "JSONMARKER")


def _in_model(p: str) -> str:
    """What mermaid keeps of a text: lone surrogates from entities become U+FFFD, and the
    text is trimmed."""
    return "".join("\ufffd" if unicodedata.category(c) == "Cs" else c for c in p).strip()


def test_the_marker_diagram_reaches_every_place():
    """The places the payload diagrams cover; if the parser stopped keeping one of them,
    every payload test would silently lose it."""
    assert len(TEXT_PLACES) >= 24 and len(JSON_PLACES) == 2
    for kind in ("title", "'label'", "'box'", "'id'", "'text'", "'sections'", "'links'",
                 "'boxes'", "'from'", "'to'"):
        assert any(kind in place for place in TEXT_PLACES), kind
    assert any("'properties'" in place for place in JSON_PLACES)


@pytest.mark.parametrize("pid", PAYLOADS)
def test_each_payload_diagram_parses_and_keeps_the_payload_everywhere(pid, tmp_path, capsys):
    path = tmp_path / "payload.mmd"
    path.write_text(diagram_text(PAYLOADS[pid]), encoding="utf-8")
    code = _run(["preview", str(path), "--ascii", "--width", "200"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.err
    strings = _strings(to_dict(parsed(pid)))
    # JSON values arrive as written, except lone surrogates: like entity codes for them,
    # they become U+FFFD (such a string cannot be printed or written as UTF-8)
    in_json = re.sub("[\ud800-\udfff]", "\ufffd", PAYLOADS[pid])
    for places, expected in ((TEXT_PLACES, _in_model(PAYLOADS[pid])),
                             (JSON_PLACES, in_json)):
        for place in places:
            concrete = place.replace("MARKER", repr(expected))
            assert strings.get(concrete) == expected, (place, strings.get(concrete))


# -- what "stays data" means, checked on the generated source --------------------------------

# Fragments of the payloads that, wherever they occur in generated Python, must be inside a
# string or comment token. (Bare words such as `pwned` legitimately reach identifiers.)
FRAGMENTS = ("os.system(", "__import__(", ").getcwd(", "{{ 7*7 }}", "{{ 6*7 }}", "{% raw %}",
             "${HOME}", "$(id)", "</script>", "alert(1)", "import os;", "\\N{BOGUS}",
             "{0} %s", '"pwned"', "'pwned'", "+AAo-")
CALLS = frozenset({"system", "__import__", "getcwd", "popen", "eval", "exec", "alert"})
_SAFE_TOKENS = {tokenize.STRING, tokenize.COMMENT} | (
    {tokenize.FSTRING_MIDDLE} if hasattr(tokenize, "FSTRING_MIDDLE") else set())
# what tools read out of a comment; only the text after the comment's own `#` is searched
_DIRECTIVE = re.compile(r"#\s*(noqa|ruff\s*:|flake8\s*:|pylint\s*:|type\s*:|mypy\s*:|"
                        r"pyright\s*:|fmt\s*:|isort\s*:|pragma\b)", re.IGNORECASE)
_CODING = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+", re.ASCII)  # PEP 263
# characters no generated file may hold raw: controls (but newline), line and paragraph
# separators, and the bidirectional controls of "Trojan Source" (CVE-2021-42574)
_INVISIBLE = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067"
                       "\u2068\u2069\ufeff")


# the same set as one character class: Unicode's Cc (U+0000-001F, U+007F-009F), Zl
# (U+2028), Zp (U+2029) and Cs (the surrogates), newline left out (test_the_raw_...)
_RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"
                  + "".join(sorted(_INVISIBLE)) + "]")


def _is_raw(c: str) -> bool:
    return unicodedata.category(c) in ("Cc", "Zl", "Zp", "Cs") or c in _INVISIBLE


def _raw_character_problems(name: str, text: str) -> list[str]:
    """A line for every line of `text` that holds a character `_is_raw` refuses (the
    first such), found with `_RAW`: looking up every character's category was a third
    of what this file's checks cost."""
    found = []
    if _RAW.search(text) is None:
        return found
    for n, line in enumerate(text.split("\n"), 1):
        c = _RAW.search(line)
        if c is not None:
            found.append(f"{name}:{n}: raw character U+{ord(c.group()):04X} in the file")
    return found


def test_the_raw_character_class_is_the_categories():
    every = "".join(map(chr, range(0x110000)))
    assert set(_RAW.findall(every)) == {c for c in every if _is_raw(c)} - {"\n"}


@functools.lru_cache(maxsize=8)
def _nodes(source: str) -> list[ast.AST]:
    """Every node of the parsed source (both checks below read them)."""
    return list(ast.walk(ast.parse(source)))


def python_problems(name: str, source: str) -> list[str]:
    """Everything that shows diagram text escaping into code; empty when clean."""
    found = _raw_character_problems(name, source)
    try:
        nodes = _nodes(source)
    except SyntaxError as exc:
        return [*found, f"{name}:{exc.lineno}: does not compile: {exc.msg}"]
    for node in nodes:
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else \
                func.attr if isinstance(func, ast.Attribute) else None
            if called in CALLS:
                found.append(f"{name}:{node.lineno}: calls {called}()")
        if isinstance(node, ast.Name) and node.id == "pwned" or \
                isinstance(node, ast.Attribute) and node.attr == "pwned":
            found.append(f"{name}:{node.lineno}: uses the name `pwned`")
    for n, line in enumerate(source.split("\n")[:2], 1):
        if _CODING.match(line):
            found.append(f"{name}:{n}: declares an encoding: {line!r}")
    safe: list[tuple[tuple[int, int], tuple[int, int]]] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in _SAFE_TOKENS:
                safe.append((tok.start, tok.end))
            if tok.type == tokenize.COMMENT and _DIRECTIVE.search(tok.string[1:]):
                found.append(f"{name}:{tok.start[0]}: a comment holds a directive: "
                             f"{tok.string!r}")
    except (tokenize.TokenError, SyntaxError) as exc:
        return [*found, f"{name}: does not tokenize: {exc}"]
    present = [fragment for fragment in FRAGMENTS if fragment in source]
    for n, line in enumerate(source.split("\n") if present else (), 1):
        for fragment in present:
            col = line.find(fragment)
            while col >= 0:
                end = (n, col + len(fragment))
                if not any(start <= (n, col) and end <= stop for start, stop in safe):
                    found.append(f"{name}:{n}:{col + 1}: {fragment!r} outside any string "
                                 "or comment")
                col = line.find(fragment, col + 1)
    return found


def string_constants(source: str) -> list[str]:
    return [node.value for node in _nodes(source)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


BAD_SOURCES = {
    "docstring-closed": '"""Doc: """; import os; os.system("pwned") #"""\n',
    "comment-broken-by-newline": "x = 1\n# line 3: a\n__import__('os').system('x')\n",
    "string-broken": "x = '\\\\' + __import__('os').getcwd() + ''\n",
    "fragment-as-code": "pwned = 1\n",
    "jinja-evaluated-into-code": "x = {{ 7*7 }}\n",
    "directive-in-comment": "# line 7: hello # noqa\n",
    "file-level-directive": "x = 1  # text # ruff: noqa\n",
    "encoding-cookie": "# Generated from x coding: utf-7 .\nx = 1\n",
    "trojan-source": "x = 'a'  # \u202e reversed\n",
    "raw-line-separator": "x = 'a\u2028b'\n",
    "does-not-compile": "x = '''\n",
}


@pytest.mark.parametrize("source", BAD_SOURCES.values(), ids=BAD_SOURCES.keys())
def test_the_checks_catch_code_made_of_diagram_text(source):
    assert python_problems("bad.py", source)


def test_the_checks_pass_clean_code():
    clean = ('"""A module."""\n\nimport os\n\n# line 3: os.system("pwned") and # spaces\n'
             'TEXT = \'"""; import os; os.system("pwned") #\'\nprint(os.sep, TEXT)\n')
    assert python_problems("clean.py", clean) == []


# The payloads' diagrams differ in their texts only, so half of the generated files (by
# size) are the same for every payload: each is checked once.
@functools.cache
def _python_problems_once(name: str, source: str) -> tuple[str, ...]:
    return tuple(python_problems(name, source))


@functools.cache
def _string_constants_once(source: str) -> tuple[str, ...]:
    return tuple(string_constants(source))


def _vendored() -> frozenset[str]:
    return frozenset(vendored_sources().values())


@pytest.mark.parametrize("pid, target, style",
                         [_mark(pid, t, s) for pid in PAYLOADS for t, s in GENERATIONS])
def test_generated_files_keep_diagram_text_inert(pid, target, style):
    files = generation(pid, target, style).files
    vendored = _vendored()
    problems: list[str] = []
    constants: list[str] = []
    for f in files:
        python = f.path.endswith(".py") and f.content not in vendored
        if not python:  # python_problems checks for raw characters too
            problems += _raw_character_problems(f.path, f.content)
        if python:
            found = _python_problems_once(f.path, f.content)
            problems += found
            if not any("does not compile" in p for p in found):
                constants += _string_constants_once(f.content)
        elif f.path.endswith(".toml"):
            try:
                tomllib.loads(f.content)
            except tomllib.TOMLDecodeError as exc:
                problems.append(f"{f.path}: not TOML: {exc}")
        for evaluated in ("tpl 49 tpl", "tpl 42"):
            if evaluated in f.content:
                problems.append(f"{f.path}: holds {evaluated!r}: a template expression "
                                "from the diagram was evaluated")
    assert problems == [], "\n".join(problems)
    # the text is still there, exactly: escaping kept it rather than dropping it
    assert any(_in_model(PAYLOADS[pid]) in c for c in constants), \
        "the payload is in no string constant of the generated code"
    readme = next(f.content for f in files if f.path == "README.md")
    for expression in re.findall(r"\{\{.*?\}\}|\{%.*?%\}", PAYLOADS[pid]):
        assert expression in readme  # the README names the source: verbatim, not rendered


def _write(files, root: Path) -> None:
    for f in files:
        path = root / f.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.content, encoding="utf-8")


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith("MERMAIDGEN_")}
    return {**env, **extra}


def ruff(root: Path, trees: list[str]) -> subprocess.CompletedProcess:
    """`ruff check --isolated` over several trees in one process, nothing excluded; each
    tree is a source root, as when ruff runs inside it (so its package is first-party)."""
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated",
                           "--config", f"src = {json.dumps(trees)}", "--output-format",
                           "concise", "."], cwd=root, capture_output=True, text=True,
                          env=_clean_env(), timeout=120)


# ruff reads generated files as UTF-8 whatever they declare, and obeys file-level noqa, so
# of the known bugs only the unused line-level noqa shows here
@pytest.mark.parametrize("pid", [_mark(pid) for pid in PAYLOADS])
def test_generated_trees_pass_ruff_with_nothing_excluded(pid, tmp_path):
    trees = [f"{target}-{style}" for target, style in GENERATIONS]
    for (target, style), name in zip(GENERATIONS, trees, strict=True):
        _write(generation(pid, target, style).files, tmp_path / name)
    checked = ruff(tmp_path, trees)
    assert checked.returncode == 0, checked.stdout + checked.stderr


CANARIES = ("pwned", "x", "ls", "bidi", "id")


@pytest.fixture
def canary_path(tmp_path) -> tuple[str, Path]:
    """A PATH whose first folder has a program for every command a payload runs; each
    one leaves a file behind if anything ever starts it."""
    folder = tmp_path / "canary-bin"
    folder.mkdir()
    tripped = tmp_path / "tripped"
    for name in CANARIES:
        program = folder / name
        program.write_text(f"#!/bin/sh\necho {name} >> '{tripped}'\n")
        program.chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ.get('PATH', '')}", tripped


@pytest.mark.skipif(os.name == "nt", reason="the canaries are shell scripts")
@pytest.mark.parametrize("pid", [_mark(pid) for pid in PAYLOADS])
def test_python_skeletons_run_without_running_diagram_text(pid, tmp_path, canary_path):
    path, tripped = canary_path
    for style in TARGETS["python"]:
        gen = generation(pid, "python", style)
        tree = tmp_path / style
        _write(gen.files, tree)
        # in a long-lived process that runs one project after another, the canaries on
        # its PATH as in a process of its own (tests/project_runner.py): about 0.15 CPU-s
        # less a run
        run = run_python(Path(sys.executable), ["-m", gen.package], tree, timeout=120,
                         PATH=path, HOME=str(tmp_path))
        assert run.returncode == 0, f"{style}: {run.stderr[-2000:]}"
        assert "sequenceDiagram" in run.stdout
    assert not tripped.exists(), f"generated code ran {tripped.read_text()!r}"


# Python keywords, soft keywords, builtins, dunders and the generated runtime's own names,
# as participants and as message texts (which become modules, classes and methods).
NAMES = ["class", "None", "__init__", "print", "self", "def", "lambda", "True", "async",
         "await", "import", "return", "yield", "type", "object", "str", "super", "ctx", "os",
         "sys", "__class__", "_", "match", "__builtins__", "ClassVar", "Any", "wiring",
         "runtime"]
# method names of the targets' runtime base classes (and `startup`, whose choreography
# hook would be faststream's `on_startup`)
RUNTIME_METHODS = ["invoke", "context", "signal", "call", "run", "step", "start", "publish",
                   "receive", "answer", "register", "send", "deliver", "record", "NAME",
                   "deadline", "methods", "compensated", "on_startup", "startup", "shutdown"]


def names_diagram() -> str:
    lines = ["sequenceDiagram", "    title class"]
    for a, b in zip(NAMES, NAMES[1:], strict=False):
        lines += [f"    {a}->>{b}: {b}", f"    {b}-->>{a}: {a}"]
    return "\n".join(lines) + "\n"


def methods_diagram() -> str:
    lines = ["sequenceDiagram", "    participant Workflow"]
    for name in RUNTIME_METHODS:
        lines += [f"    Workflow->>Svc: {name}", f"    Svc-->>Workflow: {name}"]
    return "\n".join(lines) + "\n"


NAME_CASES = {"keywords-builtins": names_diagram, "runtime-methods": methods_diagram}


@pytest.mark.parametrize("case", NAME_CASES)
def test_reserved_names_make_inert_compiling_code(case, tmp_path):
    text = NAME_CASES[case]()
    path = tmp_path / "names.mmd"
    path.write_text(text, encoding="utf-8")
    assert _run(["preview", str(path), "--ascii", "--diagram-only"]) == 0
    diagram = mermaidgen.parse(text, source="names.mmd")
    vendored = _vendored()
    trees = []
    for target, style in GENERATIONS:
        gen = build(diagram, text, style=style, target=target)
        problems = [p for f in gen.files if f.path.endswith(".py") and f.content not in vendored
                    for p in python_problems(f.path, f.content)]
        assert problems == [], f"{target}/{style}: " + "\n".join(problems)
        trees.append(f"{target}-{style}")
        _write(gen.files, tmp_path / "trees" / trees[-1])
    checked = ruff(tmp_path / "trees", trees)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("case, style", [
    pytest.param(case, style, id=f"{case}-{style}")
    for case in NAME_CASES for style in TARGETS["python"]])
def test_reserved_names_make_python_skeletons_that_run(case, style, tmp_path):
    text = NAME_CASES[case]()
    gen = build(mermaidgen.parse(text, source="names.mmd"), text, style=style,
                target="python")
    _write(gen.files, tmp_path)
    run = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-m", gen.package],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env=_clean_env())
    assert run.returncode == 0, run.stderr[-2000:]
    assert "RuntimeWarning" not in run.stderr, run.stderr[-2000:]


def _runtime_members(source: str) -> set[str]:
    """The methods and instance attributes of the runtime classes in `source` that a
    generated service class inherits or sits beside: Participant, Service and Workflow,
    and each `...Activities` class (its operations, `@activity.defn` methods, aside)."""
    found: set[str] = set()
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef) or not (
                node.name in ("Participant", "Service", "Workflow")
                or node.name.endswith("Activities")):
            continue
        for item in node.body:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                if not any("defn" in ast.unparse(d) for d in item.decorator_list):
                    found.add(item.name)
            elif isinstance(item, ast.Assign | ast.AnnAssign):
                targets = item.targets if isinstance(item, ast.Assign) else [item.target]
                found.update(t.id for t in targets if isinstance(t, ast.Name))
        for sub in ast.walk(node):  # self.x = ... in any method
            if isinstance(sub, ast.Attribute) and isinstance(sub.ctx, ast.Store) and \
                    isinstance(sub.value, ast.Name) and sub.value.id == "self":
                found.add(sub.attr)
    return {n for n in found if not n.startswith("_") and not n.isupper()}


@pytest.mark.parametrize(("target", "style"), GENERATIONS)
def test_names_from_the_diagram_never_take_a_name_of_the_runtime(target: str,
                                                                  style: str) -> None:
    """Operations and handler hooks are methods of the generated service classes, beside
    what the runtime's base classes define: an operation named `deadline` replaced the
    base's own (mypy --strict failed on the override), the event `Startup`'s hook
    `on_startup` faststream's (the service never started). Every name the runtime
    defines is reserved."""
    text = "sequenceDiagram\n    Workflow->>Svc: go\n    Svc-->>Workflow: done\n"
    gen = build(mermaidgen.parse(text), text, style=style, target=target,
                options={"broker": "nats"} if target == "faststream" else None)
    runtime = {name for f in gen.files if f.path.endswith(".py") and "/_generated/" in f.path
               for name in _runtime_members(f.content)}
    assert "context" in runtime  # the classes were found
    reserved = ORCHESTRATION_RESERVED if style == "orchestration" else CHOREOGRAPHY_RESERVED
    assert sorted(runtime - set(reserved)) == []


# --- part 2: user template folders ---------------------------------------------------------

@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[tuple[str, str], Path]:
    """Every built-in template set, exported once with `mermaidgen templates export`."""
    root = tmp_path_factory.mktemp("exports")
    found = {}
    for target, style in GENERATIONS:
        folder = root / f"{target}-{style}"
        assert _run(["templates", "export", str(folder), "--target", target,
                     "--style", style]) == 0
        found[target, style] = folder
    return found


@pytest.fixture
def broken(exports, tmp_path) -> Path:
    """A copy of the python choreography export, to break."""
    return Path(shutil.copytree(exports["python", "choreography"], tmp_path / "templates"))


def tree(root: Path) -> dict[str, bytes]:
    """The files under `root` (folders left out) and their bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def append(folder: Path, template: str, snippet: str) -> int:
    """Append `snippet` as the last line of `folder/template`; its line number."""
    path = folder / template
    text = path.read_text(encoding="utf-8")
    if not text.endswith("\n"):
        text += "\n"
    path.write_text(text + snippet + "\n", encoding="utf-8")
    return text.count("\n") + 1


def generate_with(cli, folder: Path, out: Path) -> CliResult:
    return cli("generate", CHECKOUT, "--target", "python", "--style", "choreography",
               "--templates", folder, "--out", out)


def assert_named_failure(result: CliResult, where: str, *words: str) -> None:
    assert result.code == 1, result.err
    assert f"template {where}:" in result.err, result.err
    for word in words:
        assert word in result.err, result.err
    assert result.out == ""


ESCAPES = {
    "mro-subclasses": ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "unsafe"),
    "cycler-globals": ("{{ cycler.__init__.__globals__ }}", "unsafe"),
    "joiner-globals": ("{{ joiner.__init__.__globals__['os'] }}", "unsafe"),
    "lipsum-globals": ("{{ lipsum.__globals__['os'].popen('id').read() }}", "unsafe"),
    "template-reference": ("{{ self._TemplateReference__context }}", "unsafe"),
    "format-attribute": ("{{ '{0.__class__.__init__.__globals__}'.format(package) }}",
                         "unsafe"),
    "context-mutation": ("{{ services.clear() }}", "unsafe"),
    "huge-range": ("{% for i in range(10**9) %}{% endfor %}", "MAX_RANGE"),
    "include-outside": ('{% include "../../../../etc/passwd" %}', "not found"),
}


@pytest.mark.parametrize("snippet, says", ESCAPES.values(), ids=ESCAPES.keys())
def test_a_sandbox_escape_is_refused_with_file_and_line(cli, broken, tmp_path, snippet,
                                                        says):
    line = append(broken, "events.py.jinja", snippet)
    out = tmp_path / "out"
    result = generate_with(cli, broken, out)
    assert_named_failure(result, f"{broken / 'events.py.jinja'}:{line}", says)
    assert not out.exists()


def test_a_failing_template_leaves_an_existing_output_untouched(cli, broken, tmp_path):
    out = tmp_path / "out"
    assert generate_with(cli, broken, out).code == 0
    before = tree(out)
    line = append(broken, "wiring.py.jinja", "{{ ''.__class__ }}")
    result = generate_with(cli, broken, out)
    assert_named_failure(result, f"{broken / 'wiring.py.jinja'}:{line}", "unsafe")
    assert tree(out) == before


SYNTAX = {
    "empty-if": ("{% if %}{% endif %}", "Expected an expression"),
    "stray-endfor": ("{% endfor %}", "endfor"),
    "unclosed-expression": ("{{ package ", "unexpected end of template"),
}


@pytest.mark.parametrize("snippet, says", SYNTAX.values(), ids=SYNTAX.keys())
def test_a_syntax_error_names_file_and_line(cli, broken, tmp_path, snippet, says):
    line = append(broken, "bus.py.jinja", snippet)
    result = generate_with(cli, broken, tmp_path / "out")
    assert_named_failure(result, f"{broken / 'bus.py.jinja'}:{line}", says)
    assert not (tmp_path / "out").exists()


UNDEFINED = {
    "variable": ("{{ no_such_variable }}", "'no_such_variable' is undefined"),
    "attribute": ("{{ package.no_such_attribute }}", "no_such_attribute"),
    "in-a-loop": ("{% for s in services %}{{ s.no_such_key }}{% endfor %}", "no_such_key"),
}


@pytest.mark.parametrize("snippet, says", UNDEFINED.values(), ids=UNDEFINED.keys())
def test_an_undefined_variable_names_file_line_and_variable(cli, broken, tmp_path, snippet,
                                                            says):
    line = append(broken, "events.py.jinja", snippet)
    result = generate_with(cli, broken, tmp_path / "out")
    assert_named_failure(result, f"{broken / 'events.py.jinja'}:{line}", says)


FILTERS = {
    "sum-of-dicts": ("{{ services | sum }}", "TypeError"),
    "dictsort-of-a-list": ("{{ services | dictsort }}", "AttributeError"),
    "format-mismatch": ("{{ '%d' | format(package) }}", "TypeError"),
    "division-by-zero": ("{{ services | length // 0 }}", "ZeroDivisionError"),
}


@pytest.mark.parametrize("snippet, says", FILTERS.values(), ids=FILTERS.keys())
def test_a_filter_failing_on_its_data_names_file_and_line(cli, broken, tmp_path, snippet,
                                                          says):
    line = append(broken, "events.py.jinja", snippet)
    result = generate_with(cli, broken, tmp_path / "out")
    assert_named_failure(result, f"{broken / 'events.py.jinja'}:{line}", says)
    assert not (tmp_path / "out").exists()


def test_an_error_inside_a_macro_names_the_macro_template(cli, broken, tmp_path):
    line = append(broken, "_ops.jinja", "{% macro boom() %}{{ 1 // 0 }}{% endmacro %}")
    append(broken, "events.py.jinja", '{% from "_ops.jinja" import boom %}{{ boom() }}')
    result = generate_with(cli, broken, tmp_path / "out")
    assert_named_failure(result, f"{broken / '_ops.jinja'}:{line}", "ZeroDivisionError")


PATHS = {
    "attribute": "{package.__class__}/x.py",
    "index": "{package[0]}/x.py",
    "conversion": "{package!r}/x.py",
    "unknown-field": "{nothing}/x.py",
    "unmatched-brace": "{package/x.py",
}


@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_a_files_toml_path_cannot_reach_into_python_objects(cli, broken, tmp_path, path):
    with (broken / "files.toml").open("a", encoding="utf-8") as spec:
        spec.write(f'\n[[file]]\ntemplate = "events.py.jinja"\npath = "{path}"\n'
                   'owner = "generated"\n')
    out = tmp_path / "out"
    result = generate_with(cli, broken, out)
    assert result.code == 1, result.err
    assert "files.toml" in result.err and path in result.err
    assert "<class" not in result.err  # nothing of a Python object leaked into the message
    assert not out.exists()


@pytest.mark.parametrize("target, style", GENERATIONS,
                         ids=[f"{t}-{s}" for t, s in GENERATIONS])
def test_an_unmodified_export_generates_byte_identical_output(cli, exports, tmp_path, target,
                                                              style):
    built_in, custom = tmp_path / "built-in", tmp_path / "custom"
    args = ["generate", CHECKOUT, "--target", target, "--style", style]
    assert cli(*args, "--out", built_in).code == 0
    result = cli(*args, "--templates", exports[target, style], "--out", custom)
    assert result.code == 0
    assert "warning" not in result.err  # a set exported today is for today's context
    assert tree(custom) == tree(built_in)
    assert len(tree(custom)) > 10


@pytest.mark.parametrize("target, style", [
    pytest.param(t, s, id=f"{t}-{s}") for t, s in GENERATIONS])
def test_an_export_holds_every_template_of_the_set(exports, target, style):
    from mermaidgen.resources import templates_dir

    wanted: set[str] = set()
    for folder in (templates_dir() / target / "common", templates_dir() / target / style):
        if folder.is_dir():
            wanted |= {p.relative_to(folder).as_posix() for p in folder.rglob("*")
                       if p.is_file() and "__pycache__" not in p.parts}
    assert set(tree(exports[target, style])) == wanted | {MARKER}


def check_templates(cli, folder: Path, target="python", style="choreography") -> CliResult:
    return cli("check", "--templates", folder, "--target", target, "--style", style)


@pytest.mark.parametrize("target, style", GENERATIONS,
                         ids=[f"{t}-{s}" for t, s in GENERATIONS])
def test_check_passes_an_unmodified_export(cli, exports, target, style):
    result = check_templates(cli, exports[target, style], target, style)
    assert result.code == 0, result.err
    assert "0 problem(s)" in result.err


BROKEN_FOR_CHECK = {
    "syntax": ("bus.py.jinja", "{% if %}{% endif %}", "Expected an expression"),
    "undefined": ("events.py.jinja", "{{ no_such_variable }}", "no_such_variable"),
    "sandbox": ("wiring.py.jinja", "{{ cycler.__init__.__globals__ }}", "unsafe"),
    "filter": ("events.py.jinja", "{{ services | sum }}", "TypeError"),
}


@pytest.mark.parametrize("template, snippet, says", BROKEN_FOR_CHECK.values(),
                         ids=BROKEN_FOR_CHECK.keys())
def test_check_reports_a_broken_folder_with_file_and_line(cli, broken, template, snippet,
                                                          says):
    line = append(broken, template, snippet)
    result = check_templates(cli, broken)
    assert result.code == 1, result.err
    assert f"template {broken / template}:{line}:" in result.err
    assert says in result.err
    assert "checkout.mmd (choreography)" in result.err


def test_check_reports_code_that_does_not_compile(cli, broken):
    """The rendered output, not just the template, is checked."""
    append(broken, "events.py.jinja", "def broken(:")
    result = check_templates(cli, broken)
    assert result.code == 1
    assert "_generated/events.py" in result.err and "does not compile" in result.err


# --- the context version a set was exported for ------------------------------------------

def test_an_export_records_the_context_version_it_was_written_for(exports):
    for (target, style), folder in exports.items():
        marker = tomllib.loads((folder / MARKER).read_text(encoding="utf-8"))
        assert marker == {"context_version": CONTEXT_VERSION, "target": target,
                          "style": style}


@pytest.fixture
def orchestration_set(exports, tmp_path) -> Path:
    """A copy of the python orchestration export: the set whose context changed in 5."""
    return Path(shutil.copytree(exports["python", "orchestration"], tmp_path / "ours"))


def generate_orchestration(cli, folder: Path, out: Path) -> CliResult:
    return cli("generate", CHECKOUT, "--target", "python", "--style", "orchestration",
               "--templates", folder, "--out", out)


@pytest.mark.parametrize("marker", [None, "context_version = 4\n"], ids=["none", "v4"])
def test_an_older_set_is_named_with_what_changed_and_still_generates(cli, orchestration_set,
                                                                      tmp_path, marker):
    """A set exported before markers existed is version 4 or older; either way its owner
    reads what changed since and how to carry the edits over, and the run goes on."""
    if marker is None:
        (orchestration_set / MARKER).unlink()
    else:
        (orchestration_set / MARKER).write_text(marker, encoding="utf-8")
    out = tmp_path / "out"
    result = generate_orchestration(cli, orchestration_set, out)
    assert result.code == 0, result.err
    warning = result.err[result.err.index("warning:"):]
    assert str(orchestration_set) in warning
    assert f"version {CONTEXT_VERSION}" in warning
    assert ("no " + MARKER if marker is None else "version 4") in warning
    # one line per version it may lack, from the one table the docs show too
    older = range(1, 5) if marker is None else range(4, 5)
    for version in older:
        assert f"version {version} {CONTEXT_CHANGES[version]}" in warning
    assert "undo_case" in warning  # what version 4 lacked, in words a set's owner greps for
    assert "templates export" in warning and "--style orchestration" in warning
    assert (out / "checkout" / "_generated").is_dir()


def test_a_set_exported_by_version_4_still_generates_a_project_that_passes(
        cli, orchestration_set, tmp_path):
    """Version 4's sets copied the trace checker as one file (`copy = "checker.py"`); it
    is a package now. Such a set, as exported then (that entry, no marker), still
    generates: the checker package lands beside the set's files, and the project's own
    tests (its contract test among them) pass."""
    spec = orchestration_set / "files.toml"
    entries = re.findall(r'\[\[file\]\]\ncopy = "checker/[a-z_]+\.py"\n[^\[]*', spec.read_text())
    assert len(entries) == 6, entries
    old = spec.read_text()
    for entry in entries:
        old = old.replace(entry, "")
    old += ('\n[[file]]\ncopy = "checker.py"\npath = "{package}/_generated/checker.py"\n'
            'owner = "generated"\n')
    spec.write_text(old, encoding="utf-8")
    (orchestration_set / MARKER).unlink()
    out = tmp_path / "out"
    result = generate_orchestration(cli, orchestration_set, out)
    assert result.code == 0, result.err
    assert "version 4" in result.err
    generated = out / "checkout" / "_generated"
    assert not (generated / "checker.py").exists()
    assert (generated / "checker" / "verdict.py").is_file()
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                           cwd=out, capture_output=True, text=True, timeout=300,
                           env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert tests.returncode == 0, tests.stdout + tests.stderr


def test_a_folder_of_a_few_templates_is_not_a_set_to_migrate(cli, tmp_path):
    """No marker and no files.toml: never exported (every export has both), the user's
    own few templates over the built-in set; nothing to warn about."""
    ours = tmp_path / "ours"
    ours.mkdir()
    (ours / "_header.jinja").write_text("# {{ generator }}\n", encoding="utf-8")
    result = generate_orchestration(cli, ours, tmp_path / "out")
    assert result.code == 0, result.err
    assert "warning" not in result.err


def test_a_set_for_a_newer_context_is_a_usage_error(cli, orchestration_set, tmp_path):
    (orchestration_set / MARKER).write_text(f"context_version = {CONTEXT_VERSION + 1}\n")
    out = tmp_path / "out"
    for result in (generate_orchestration(cli, orchestration_set, out),
                   check_templates(cli, orchestration_set, "python", "orchestration")):
        assert result.code == 2, result.err
        assert str(orchestration_set / MARKER) in result.err
        assert f"version {CONTEXT_VERSION + 1}" in result.err
        assert f"version {CONTEXT_VERSION}" in result.err  # what this mermaidgen knows
    assert not out.exists()


BROKEN_MARKERS = {
    "toml": ("context_version = \n", "line 1"),
    "text": ('context_version = "5"\n', "context_version"),
    "bool": ("context_version = true\n", "context_version"),
    "zero": ("context_version = 0\n", "context_version"),
    "missing": ('target = "python"\n', "context_version"),
    "utf8": (b"context_version = 5 # \xff\n", "UTF-8"),
}


@pytest.mark.parametrize("content, says", BROKEN_MARKERS.values(), ids=BROKEN_MARKERS.keys())
def test_a_broken_marker_is_a_located_error(cli, orchestration_set, tmp_path, content, says):
    path = orchestration_set / MARKER
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    result = generate_orchestration(cli, orchestration_set, out)
    assert result.code == 1, result.err
    assert f"{path}:" in result.err and says in result.err
    assert not out.exists()


def test_a_huge_marker_is_refused_without_reading_it(cli, orchestration_set, tmp_path):
    with open(orchestration_set / MARKER, "wb") as f:
        f.truncate(1 << 30)  # sparse: 1 GiB that a read would have to hold in memory
    result = generate_orchestration(cli, orchestration_set, tmp_path / "out")
    assert result.code == 1, result.err
    assert str(orchestration_set / MARKER) in result.err and "too large" in result.err


def test_the_docs_show_the_table_the_warning_prints():
    row = re.search(r"\| `context_version` \| this page's version \((.*)\) \|\n",
                    (PROJECT / "docs" / "template-context.md").read_text(encoding="utf-8"))
    assert row
    assert row[1] == f"{CONTEXT_VERSION}; " + "; ".join(
        f"version {v} {CONTEXT_CHANGES[v]}" for v in sorted(CONTEXT_CHANGES, reverse=True))
    assert sorted(CONTEXT_CHANGES) == list(range(1, CONTEXT_VERSION))
