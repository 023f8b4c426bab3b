"""A process that generates several skeletons (the library, the tests) compiles each
template once: Jinja's compiled code is kept by the template's name, file and text, so a
template edited between two generations is compiled again."""

from __future__ import annotations

from pathlib import Path

import pytest

import mermaidgen
from mermaidgen.codegen.generate import build
from mermaidgen.codegen.write import sandbox
from mermaidgen.resources import templates_dir

PROJECT = Path(__file__).resolve().parents[1]
TEXT = (PROJECT / "samples" / "checkout.mmd").read_text(encoding="utf-8")


@pytest.fixture
def compiled(monkeypatch) -> list[str]:
    """The names of the templates Jinja compiles from here on."""
    names: list[str] = []
    original = sandbox.LimitedSandbox.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):
        names.append(name)
        return original(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(sandbox.LimitedSandbox, "compile", counting)
    return names


def _files(target: str, templates: Path | None = None) -> dict[str, str]:
    generation = build(mermaidgen.parse(TEXT, source="checkout.mmd"), TEXT,
                       target=target, templates=templates)
    return {f.path: f.content for f in generation.files}


@pytest.mark.parametrize("target", ["python", "faststream", "temporal"])
def test_a_second_generation_compiles_no_template(target: str, compiled: list[str]) -> None:
    first = _files(target)
    _files(target)  # primes nothing more: a test run before this one may have compiled them
    compiled.clear()
    assert _files(target) == first
    assert compiled == []


def test_an_edited_user_template_is_compiled_again(tmp_path: Path,
                                                   compiled: list[str]) -> None:
    header = "_header.jinja"
    assert (templates_dir() / "python" / "common" / header).is_file()  # what it overrides
    (tmp_path / header).write_text("# first version\n", encoding="utf-8")
    first = _files("python", tmp_path)
    assert any(text.startswith("# first version") for text in first.values())
    (tmp_path / header).write_text("# second version\n", encoding="utf-8")
    compiled.clear()
    second = _files("python", tmp_path)
    assert header in compiled
    assert any(text.startswith("# second version") for text in second.values())
    assert not any("first version" in text for text in second.values())
