"""A process compiles each template once (`sandbox.LimitedSandbox.compile`): compiling the
templates was three quarters of what generating a skeleton cost, and the tests generate
hundreds of skeletons in one process. The cache must never serve a template that is not
the one on disk: an edited template is compiled again, the same text in another folder
keeps its own file name in errors, and a syntax error is reported every time.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2
import pytest

from mermaidgen.codegen.write import output

PROJECT = Path(__file__).resolve().parents[1]
CHECKOUT = PROJECT / "samples" / "checkout.mmd"


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    """fsync guards against power loss, which no test here causes (as in test_output.py)."""
    monkeypatch.setattr(output.os, "fsync", lambda fd: None)


@pytest.fixture
def compiled(monkeypatch) -> list[str]:
    """The file names of the templates Jinja compiles to Python from now on."""
    names: list[str] = []
    real = jinja2.Environment._compile

    def counting(self, source: str, filename: str):  # noqa: ANN202
        names.append(filename)
        return real(self, source, filename)

    monkeypatch.setattr(jinja2.Environment, "_compile", counting)
    return names


@pytest.fixture
def exported(cli, tmp_path) -> Path:
    folder = tmp_path / "set"
    assert cli("templates", "export", "--target", "python", "--style", "choreography",
               folder).code == 0
    return folder


def generate(cli, out: Path, *options: object):  # noqa: ANN201
    return cli("generate", CHECKOUT, "--target", "python", "--style", "choreography",
               "--out", out, *options)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_second_generation_compiles_no_template(cli, tmp_path, compiled):
    assert generate(cli, tmp_path / "first").code == 0
    assert generate(cli, tmp_path / "second").code == 0
    # none compiled twice (the first may find them compiled by an earlier test)
    assert len(compiled) == len(set(compiled)), sorted(compiled)
    assert tree(tmp_path / "first") == tree(tmp_path / "second")


def test_an_edited_template_is_compiled_again(cli, exported, tmp_path):
    assert generate(cli, tmp_path / "before", "--templates", exported).code == 0
    events = exported / "events.py.jinja"
    events.write_text(events.read_text(encoding="utf-8") + "# edited-in-between\n",
                      encoding="utf-8")
    assert generate(cli, tmp_path / "after", "--templates", exported).code == 0
    before, after = tree(tmp_path / "before"), tree(tmp_path / "after")
    # the manifest records the files' hashes; of the skeleton, only the events changed
    changed = [name for name in after if after[name] != before[name]
               and not name.startswith(".mermaidgen/")]
    assert changed == ["checkout/_generated/events.py"], changed
    assert after[changed[0]].endswith(b"# edited-in-between\n")


def test_the_same_template_in_two_folders_names_its_own_file(cli, exported, tmp_path):
    events = exported / "events.py.jinja"
    text = events.read_text(encoding="utf-8")
    events.write_text(text + "{{ no_such_variable }}\n", encoding="utf-8")
    line = text.count("\n") + 1
    twin = tmp_path / "twin"
    shutil.copytree(exported, twin)
    for folder in (exported, twin, exported):
        result = generate(cli, tmp_path / "out", "--templates", folder)
        assert result.code == 1
        assert f"template {folder / 'events.py.jinja'}:{line}:" in result.err, result.err


def test_a_syntax_error_is_reported_every_time(cli, exported, tmp_path):
    bus = exported / "bus.py.jinja"
    text = bus.read_text(encoding="utf-8")
    bus.write_text(text + "{% if %}{% endif %}\n", encoding="utf-8")
    for _ in range(2):
        result = generate(cli, tmp_path / "out", "--templates", exported)
        assert result.code == 1
        assert f"template {bus}:{text.count(chr(10)) + 1}:" in result.err, result.err
    bus.write_text(text, encoding="utf-8")  # mended, the set generates again
    assert generate(cli, tmp_path / "out", "--templates", exported).code == 0
