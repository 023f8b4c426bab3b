"""The built-in templates' compiled code is kept between processes in the folder the user
names in MERMAIDGEN_CACHE_DIR (mermaidgen/codegen/write/template_cache.py): a process that
finds it compiles no built-in template. It must never change what is generated: a stale
or corrupt entry is compiled anew, a folder that cannot be used means no cache, only the
built-in templates are kept, and without the variable (the default) nothing is written
outside the output folder."""

from __future__ import annotations

import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import jinja2
import pytest

from mermaidgen.codegen.write import output, sandbox, template_cache
from mermaidgen.resources import templates_dir

PROJECT = Path(__file__).resolve().parents[1]
CHECKOUT = PROJECT / "samples" / "checkout.mmd"
HEAD = len(b"mermaidgen-template-code 1\n")


@pytest.fixture(autouse=True)
def _fresh(monkeypatch, tmp_path):
    """Each test a process of its own as far as templates go (nothing compiled yet), with a
    cache of its own; no fsync (no test here loses power)."""
    monkeypatch.setattr(sandbox, "_COMPILED", OrderedDict())
    monkeypatch.setenv("MERMAIDGEN_CACHE_DIR", str(tmp_path / "cache"))
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


def generate(cli, out: Path, *options: object) -> dict[str, bytes]:
    result = cli("generate", CHECKOUT, "--target", "python", "--style", "choreography",
                 "--out", out, *options)
    assert result.code == 0, result.err
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for p in sorted(out.rglob("*")) if p.is_file()}


def entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "templates").glob("*.code"))


def a_new_process(monkeypatch) -> None:
    monkeypatch.setattr(sandbox, "_COMPILED", OrderedDict())


def test_a_later_process_compiles_no_built_in_template_and_writes_the_same(
        cli, tmp_path, compiled, monkeypatch) -> None:
    first = generate(cli, tmp_path / "first")
    assert compiled and len(entries(tmp_path)) == len(set(compiled))
    compiled.clear()
    a_new_process(monkeypatch)
    assert generate(cli, tmp_path / "second") == first
    assert compiled == []


def test_a_process_of_its_own_loads_the_cache(cli, tmp_path) -> None:
    generate(cli, tmp_path / "first")
    script = ("import jinja2, sys\n"
              "names = []\n"
              "real = jinja2.Environment._compile\n"
              "def counted(self, source, filename):\n"
              "    names.append(filename)\n"
              "    return real(self, source, filename)\n"
              "jinja2.Environment._compile = counted\n"
              "from mermaidgen.commands.cli import _run\n"
              "code = _run(sys.argv[1:])\n"
              "print(code, len(names))\n")
    done = subprocess.run([sys.executable, "-c", script, "generate", str(CHECKOUT),
                           "--target", "python", "--style", "choreography",
                           "--out", str(tmp_path / "second")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.stdout.split()[-2:] == ["0", "0"], done.stdout + done.stderr


@pytest.mark.parametrize("damage", ["flipped", "truncated", "emptied", "stale", "swapped"])
def test_a_damaged_or_stale_entry_is_compiled_anew_and_changes_nothing(
        cli, tmp_path, compiled, monkeypatch, damage) -> None:
    first = generate(cli, tmp_path / "first")
    files = entries(tmp_path)
    contents = [path.read_bytes() for path in files]
    for n, (path, data) in enumerate(zip(files, contents, strict=True)):
        if damage == "flipped":  # a bit of the code, past both digests
            data = data[:-20] + bytes([data[-20] ^ 1]) + data[-19:]
        elif damage == "truncated":
            data = data[:len(data) // 2]
        elif damage == "emptied":
            data = b""
        elif damage == "stale":  # compiled from other text, or by another version
            data = data[:HEAD] + bytes(32) + data[HEAD + 32:]
        else:  # another template's code, under this one's digests
            other = contents[(n + 1) % len(contents)]
            data = data[:HEAD + 64] + other[HEAD + 64:]
        path.write_bytes(data)
    compiled.clear()
    a_new_process(monkeypatch)
    assert generate(cli, tmp_path / "second") == first
    assert len(compiled) == len(files)


def test_an_edited_template_is_compiled_from_its_new_text(tmp_path, monkeypatch) -> None:
    name = str(templates_dir() / "python" / "no-such-template.jinja")  # as if built in
    environment = sandbox.LimitedSandbox()
    old = environment.from_string("{{ 1 + 1 }}")  # from_string: no file name, no cache
    assert old.render() == "2"
    for text, rendered in (("one {{ 1 }}", "one 1"), ("two {{ 2 }}", "two 2")):
        a_new_process(monkeypatch)
        code = environment.compile(text, "t", name)
        template = environment.template_class.from_code(environment, code, {})
        assert template.render() == rendered
    assert len(entries(tmp_path)) == 1  # one entry a template: the new text replaced it


def test_a_custom_template_set_is_not_kept(cli, tmp_path, compiled) -> None:
    exported = tmp_path / "set"
    assert cli("templates", "export", "--target", "python", "--style", "choreography",
               exported).code == 0
    generate(cli, tmp_path / "out", "--templates", exported)
    assert compiled and all(name.startswith(str(exported)) for name in compiled)
    assert entries(tmp_path) == []


@pytest.mark.parametrize("where", ["under-a-file", "shared-with-others", "relative"])
def test_a_folder_that_cannot_be_used_means_no_cache(cli, tmp_path, compiled, monkeypatch,
                                                     where) -> None:
    if where == "under-a-file":
        (tmp_path / "file").write_text("", encoding="utf-8")
        folder = tmp_path / "file" / "cache"
    elif where == "shared-with-others":  # another user could put code there
        folder = tmp_path / "shared"
        (folder / "templates").mkdir(parents=True)
        (folder / "templates").chmod(0o777)
    else:  # relative to the current folder: the project's, someone else's input
        folder = Path("cache")
        monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MERMAIDGEN_CACHE_DIR", str(folder))
    first = generate(cli, tmp_path / "first")
    a_new_process(monkeypatch)
    count = len(compiled)
    assert generate(cli, tmp_path / "second") == first
    assert len(compiled) == 2 * count  # compiled again: nothing was kept
    assert not list(tmp_path.rglob("*.code"))


def test_without_a_folder_chosen_by_the_user_nothing_is_kept(cli, tmp_path, compiled,
                                                             monkeypatch) -> None:
    """By default mermaidgen writes nothing outside the folder a command writes (the
    spec: `generate` never writes outside its `--out`), and a project cannot choose."""
    monkeypatch.delenv("MERMAIDGEN_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    project = tmp_path / "project"
    project.mkdir()
    (project / "mermaidgen.toml").write_text('cache = "here"\n', encoding="utf-8")
    monkeypatch.chdir(project)
    assert template_cache.cache_folder() is None
    generate(cli, project / "out")
    assert compiled
    outside = [p for p in tmp_path.rglob("*") if not p.is_relative_to(project / "out")
               and p not in (project, project / "mermaidgen.toml")]
    assert outside == [], outside
