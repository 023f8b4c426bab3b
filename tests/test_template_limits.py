"""Template sets are someone else's code: `templates export` never writes through a link,
a custom set is read as regular files inside its folder (never through a link), and a
template that runs away (time, memory, output, recursion) stops with a clear error that
names the template and the limit, exit code 1, no traceback.

Each test reproduces one attack: links point into a throw-away decoy folder whose listing
(with the hash of every file) must not change; the runaway snippets are the ones of the
issue (nested `range(100000)`, `'a' * 10000000000`, a macro calling itself).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from projects import tree

from mermaidgen.codegen.write import output, sandbox
from mermaidgen.commands.cli import _run

PROJECT = Path(__file__).resolve().parents[1]
CHECKOUT = PROJECT / "samples" / "checkout.mmd"
needs_links = pytest.mark.skipif(os.name == "nt", reason="needs symbolic links")


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    """fsync guards against power loss, which no test here causes (as in test_output.py)."""
    monkeypatch.setattr(output.os, "fsync", lambda fd: None)


@pytest.fixture
def decoy(tmp_path) -> Path:
    folder = tmp_path / "decoy"
    (folder / "sub").mkdir(parents=True)
    (folder / "secret.txt").write_text("TOP-SECRET-TOKEN\n")
    (folder / "victim.toml").write_text("precious = true\n")
    return folder


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("export") / "python-choreography"
    assert _run(["templates", "export", str(folder), "--target", "python",
                 "--style", "choreography"]) == 0
    return folder


@pytest.fixture
def custom(export, tmp_path) -> Path:
    """A copy of the python choreography export, to attack."""
    return Path(shutil.copytree(export, tmp_path / "templates"))


def generate_with(cli, templates: Path, out: Path):
    return cli("generate", CHECKOUT, "--target", "python", "--style", "choreography",
               "--templates", templates, "--out", out)


def append(folder: Path, template: str, snippet: str) -> int:
    """Append `snippet` as the last line of `folder/template`; its line number."""
    path = folder / template
    text = path.read_text(encoding="utf-8")
    path.write_text(text + snippet + "\n", encoding="utf-8")
    return text.count("\n") + 1


# --- `templates export` into a folder with links -----------------------------------------

@needs_links
@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
@pytest.mark.parametrize("target_file", ["victim.toml", "not-there.toml"],
                         ids=["existing", "dangling"])
def test_export_does_not_write_through_a_linked_file(cli, tmp_path, decoy, force,
                                                     target_file):
    """`files.toml` in the target links to a file elsewhere (or to a name that does not
    exist yet there): exporting must neither overwrite nor create it."""
    target = tmp_path / "mine"
    target.mkdir()
    (target / "files.toml").symlink_to(decoy / target_file)
    before = tree(decoy)
    result = cli("templates", "export", target, "--target", "python", "--style",
                 "choreography", *(["--force"] if force else []))
    assert result.code == 1, result.err
    assert "symbolic link" in result.err
    assert tree(decoy) == before


@needs_links
def test_export_does_not_write_into_a_linked_subfolder(cli, tmp_path, decoy):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "transport").symlink_to(decoy / "sub", target_is_directory=True)
    before = tree(decoy)
    result = cli("templates", "export", target, "--target", "faststream", "--style",
                 "choreography", "--force")
    assert result.code == 1, result.err
    assert "symbolic link" in result.err
    assert tree(decoy) == before


def test_export_still_overwrites_with_force(cli, tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "files.toml").write_text("mine\n")
    args = ("templates", "export", target, "--target", "python", "--style", "choreography")
    assert cli(*args).code == 2
    assert cli(*args, "--force").code == 0
    assert "[[file]]" in (target / "files.toml").read_text()


# --- reading a custom set through links ----------------------------------------------------

@needs_links
@pytest.mark.parametrize("name", ["_header.jinja", "files.toml", "mermaidgen-templates.toml"])
def test_a_set_file_linked_elsewhere_is_not_read(cli, custom, tmp_path, decoy, name):
    """`_header.jinja` linked to a secret would put the secret in every generated module;
    a linked `files.toml` would let a set read any file as its list."""
    (decoy / "secret.txt").write_bytes((custom / name).read_bytes() + b"# TOP-SECRET\n")
    (custom / name).unlink()
    (custom / name).symlink_to(decoy / "secret.txt")
    out = tmp_path / "out"
    result = generate_with(cli, custom, out)
    assert result.code == 1, result.err
    assert "symbolic link" in result.err and name in result.err
    assert not out.exists()


@needs_links
def test_a_set_folder_linked_elsewhere_is_not_read(cli, custom, tmp_path, decoy):
    (decoy / "sub" / "leak.jinja").write_text("{# TOP-SECRET #}leaked\n")
    (custom / "inc").symlink_to(decoy / "sub", target_is_directory=True)
    append(custom, "events.py.jinja", '{% include "inc/leak.jinja" %}')
    out = tmp_path / "out"
    result = generate_with(cli, custom, out)
    assert result.code == 1, result.err
    assert "symbolic link" in result.err
    assert not out.exists()


def test_a_set_that_is_not_linked_still_generates(cli, custom, tmp_path):
    assert generate_with(cli, custom, tmp_path / "out").code == 0


# --- runaway templates --------------------------------------------------------------------

RUNAWAYS = {
    "nested-ranges": ("{% for i in range(100000) %}{% for j in range(100000) %}"
                      "{% endfor %}{% endfor %}", "time limit"),
    "string-repeat": ("{{ 'a' * 10000000000 }}", "size limit"),
    "list-repeat": ("{{ ([0] * 100000) * 100000 }}", "size limit"),
    "power": ("{{ 10 ** 10000000000 }}", "size limit"),
    "percent-width": ("{{ '%10000000000d' % 1 }}", "size limit"),
    "percent-star": ("{{ '%*d' % (10000000000, 1) }}", "size limit"),
    "format-width": ("{{ '{:>10000000000}'.format(1) }}", "size limit"),
    "format-nested": ("{{ '{:>{}}'.format(1, 10000000000) }}", "size limit"),
    "method-width": ("{{ 'a'.center(10000000000) }}", "size limit"),
    "filter-width": ("{{ 'a' | center(10000000000) }}", "size limit"),
    "filter-batch": ("{{ 'ab' | batch(10000000000, 'x') | list }}", "size limit"),
    "filter-slice": ("{{ 'ab' | slice(10000000000) | list }}", "size limit"),
    "filter-format": ("{{ '%10000000000d' | format(1) }}", "size limit"),
    "recursive-macro": ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
                        "depth limit"),
    "recursive-loop": ("{% for x in [[1]] recursive %}{{ loop([x]) }}{% endfor %}",
                       "depth limit"),
    "big-output": ("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}",
                   "output limit"),
    "doubling": ("{% set ns = namespace(s='x' * 1000) %}{% for i in range(60) %}"
                 "{% set ns.s = ns.s ~ ns.s %}{% endfor %}", "memory limit"),
}


@pytest.mark.parametrize("snippet, says", RUNAWAYS.values(), ids=RUNAWAYS.keys())
def test_a_runaway_template_stops_at_a_limit(cli, custom, tmp_path, monkeypatch, snippet,
                                             says):
    # Small limits keep the test quick; the defaults stop the same templates, later. The
    # time limit is small only where it is the one to reach, so that a slow machine
    # cannot make another case stop at it first.
    if says == "time limit":
        monkeypatch.setattr(sandbox, "RENDER_SECONDS", 1.0)
    monkeypatch.setattr(sandbox, "MAX_OUTPUT", 10_000_000)
    monkeypatch.setattr(sandbox, "MAX_MEMORY", 256 << 20)
    line = append(custom, "events.py.jinja", snippet)
    out = tmp_path / "out"
    result = generate_with(cli, custom, out)
    assert result.code == 1, result.err
    assert f"template {custom / 'events.py.jinja'}" in result.err, result.err
    assert says in result.err, result.err
    assert not out.exists()
    if says not in ("time limit", "output limit"):  # those stop between two lines
        assert f"events.py.jinja:{line}:" in result.err, result.err


def test_the_memory_limit_is_lifted_after_rendering(cli, custom, tmp_path):
    resource = pytest.importorskip("resource")
    before = resource.getrlimit(resource.RLIMIT_AS)
    assert generate_with(cli, custom, tmp_path / "out").code == 0
    assert resource.getrlimit(resource.RLIMIT_AS) == before


def test_ordinary_uses_of_the_limited_operations_still_work():
    """The checks wrap operators, str methods and filters: each still does its job (the
    filters that take Jinja's environment or context first included)."""
    from jinja2 import DictLoader

    text = ("{{ 'hello world' | truncate(9, leeway=0) }}|{{ 'a b c d' | wordwrap(3) }}|"
            "{{ [1, 2, 3] | slice(2) | list }}|{{ '%05d' | format(42) }}|"
            "{{ 'x' | center(5) }}|{{ 'a\nb' | indent(2) }}|{{ [1, 2, 3] | batch(2) | list }}|"
            "{{ '{:>4}'.format(1) }}|{{ '%3d' % 7 }}|{{ 'ab' * 3 }}|{{ 2 ** 10 }}|"
            "{{ 'x'.rjust(3, '.') }}")
    env = sandbox.LimitedSandbox(loader=DictLoader({"t": text}))
    assert sandbox.render(env.get_template("t"), {}) == (
        "hello...|a b\nc d|[[1, 2], [3]]|00042|  x  |a\n  b|[[1, 2], [3]]|"
        "   1|  7|ababab|1024|..x")
