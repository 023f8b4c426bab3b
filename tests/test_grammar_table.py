"""The LALR table in `mermaidgen/mermaid/grammar/table.py` is lark's, for the grammar as it is now,
and the command line pays only for the libraries each command needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mermaidgen.mermaid.grammar import build, table
from mermaidgen.mermaid.lalr import Grammar, Parser, UnexpectedToken
from mermaidgen.mermaid.syntax import Tok

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "checkout.mmd"


def test_table_is_what_lark_builds_from_the_grammar():
    pytest.importorskip("lark")
    expected = build.table_source(build.GRAMMAR.read_text(encoding="utf-8"))
    assert build.TABLE.read_text(encoding="utf-8") == expected, (
        "grammar/table.py is out of date: run `python -m mermaidgen.mermaid.grammar.build`")


def test_table_numbering_does_not_depend_on_hash_seeds():
    pytest.importorskip("lark")
    code = ("from mermaidgen.mermaid.grammar import build; import hashlib; print(hashlib.sha256("
            "build.table_source(build.GRAMMAR.read_text()).encode()).hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True, env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout
               for seed in ("1", "2", "3")}
    assert len(digests) == 1


def _tok(kind: str, value: object = None) -> Tok:
    return Tok(kind, value, None)  # type: ignore[arg-type]


def test_driver_splices_inlined_rules_and_reports_what_was_expected():
    seen: dict[str, list] = {}

    def keep(name):
        def reduce(children):
            seen.setdefault(name, []).append([getattr(c, "type", c) for c in children])
            return name
        return reduce

    names = {name for _, name, _, _ in table.RULES if not name.startswith("_")}
    parser = Parser(Grammar(table, {name: keep(name) for name in names}))
    for kind in ("SD", "ALT", "SIGNAL", "ELSE", "SIGNAL", "ELSE", "END"):
        parser.feed(_tok(kind))
    with pytest.raises(UnexpectedToken) as caught:
        parser.feed(_tok("AND"))
    assert "AND" not in caught.value.expected and {"SIGNAL", "ALT", "$END"} <= caught.value.expected
    assert parser.finish(_tok("$END")) == "start"
    # the `else_section*` helper rule is gone: both sections are children of the block
    assert seen["alt_block"] == [["ALT", "document", "else_section", "else_section", "END"]]


def _modules_loaded(*argv: str) -> set[str]:
    code = (
        "import sys, json, contextlib, io\n"
        "from mermaidgen.commands.cli import _run\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    _run({list(argv)!r})\n"
        "print(json.dumps(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return set(json.loads(out.stdout.splitlines()[-1]))


@pytest.mark.parametrize(("argv", "unwanted"), [
    (["--version"], {"lark", "jinja2", "markdown_it", "rich", "mermaidgen.mermaid.parser"}),
    (["preview", str(SAMPLE), "--format", "json"], {"lark", "jinja2", "markdown_it", "rich"}),
    (["check", str(SAMPLE)], {"lark", "jinja2", "markdown_it"}),
])
def test_commands_import_only_what_they_need(argv, unwanted):
    loaded = _modules_loaded(*argv)
    assert not {m for m in loaded if m in unwanted or m.split(".")[0] in unwanted}


def test_the_import_check_sees_heavy_imports(tmp_path):
    loaded = _modules_loaded("generate", str(SAMPLE), "--out", str(tmp_path / "out"))
    assert "jinja2" in loaded and "mermaidgen.mermaid.parser" in loaded
