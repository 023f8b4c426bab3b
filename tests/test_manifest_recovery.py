"""A lost manifest never freezes stale code (issue 10, defect 3).

Attack: generate v1, delete `.mermaidgen/` (or never commit it), change the diagram and
generate again, with or without `--force`. It used to record every generated file as the
user's: the old protocol kept running, `check` called the folder up to date, and every
later run kept the stale files. Now files that carry mermaidgen's header are regenerated
(their old copies kept), the user's files are kept, and anything else stops with a plan.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from projects import V1, tree

from mermaidgen.codegen.write import output

V2 = V1.replace("Event 3", "Event Three")
V3 = V1.replace("Event 3", "Event Drei")
DIAGRAM = "flow/_generated/diagram.py"
USER = "flow/services/service_a.py"


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    monkeypatch.setattr(output.os, "fsync", lambda fd: None)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch) -> Path:
    """A repository with one configured generation (so `check` looks for drift)."""
    (tmp_path / "mermaidgen.toml").write_text(
        '[[generate]]\nsource = "flow.mmd"\nout = "out"\npackage = "flow"\n',
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _generate(cli, repo: Path, text: str, *args: str):
    (repo / "flow.mmd").write_text(text, encoding="utf-8")
    return cli("generate", *args)


def _lose_manifest(out: Path) -> None:
    for path in sorted((out / ".mermaidgen").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (out / ".mermaidgen").rmdir()


def _owners(out: Path) -> dict[str, str]:
    files = json.loads((out / output.MANIFEST).read_text(encoding="utf-8"))["files"]
    return {path: info["owner"] for path, info in files.items()}


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["plain", "force"])
def test_a_lost_manifest_regenerates_generated_files_and_keeps_the_users(cli, repo, force):
    out = repo / "out"
    assert _generate(cli, repo, V1).code == 0
    (out / USER).write_text((out / USER).read_text() + "# my logic\n", encoding="utf-8")
    _lose_manifest(out)

    done = _generate(cli, repo, V2, *force)
    assert done.code == 0, done.err
    assert "Event Three" in (out / DIAGRAM).read_text()  # the new protocol runs
    assert (out / USER).read_text().endswith("# my logic\n")  # the user's code is kept
    owners = _owners(out)
    assert owners[DIAGRAM] == "generated" and owners[USER] == "user"
    assert "rebuilt it from the files' headers" in done.err
    # the files it replaced are kept, as for any regenerated file without a manifest
    assert "Event 3" in (out / ".mermaidgen" / "replaced" / DIAGRAM).read_text()
    # and every later run keeps following the diagram
    assert _generate(cli, repo, V3).code == 0
    assert "Event Drei" in (out / DIAGRAM).read_text()


def test_a_lost_manifest_is_drift(cli, repo):
    out = repo / "out"
    _generate(cli, repo, V1)
    assert cli("check", "flow.mmd").code == 0
    _lose_manifest(out)
    done = cli("check", "flow.mmd")
    assert done.code == 1
    assert "no manifest" in done.err
    # a diagram changed as well: the stale generated files are named
    (repo / "flow.mmd").write_text(V2, encoding="utf-8")
    done = cli("check", "flow.mmd")
    assert done.code == 1 and DIAGRAM in done.err
    assert cli("generate").code == 0
    assert cli("check", "flow.mmd").code == 0


def test_a_corrupt_manifest_is_drift_and_says_what_removing_it_does(cli, repo):
    out = repo / "out"
    _generate(cli, repo, V1)
    (out / output.MANIFEST).write_text("<<<<<<< HEAD\n", encoding="utf-8")
    before = tree(out)
    assert cli("check", "flow.mmd").code == 1
    done = cli("generate")
    assert done.code == 1
    assert "unreadable manifest" in done.err and "keeps yours" in done.err
    assert tree(out) == before


def test_a_file_without_the_header_at_a_generated_path_stops_with_a_plan(cli, repo):
    out = repo / "out"
    _generate(cli, repo, V1)
    _lose_manifest(out)
    bus = out / "flow" / "_generated" / "bus.py"
    bus.write_text("# my own bus\n", encoding="utf-8")
    before = tree(out)

    preview = _generate(cli, repo, V2, "--dry-run")
    assert preview.code == 1 and "conflict  flow/_generated/bus.py" in preview.out
    done = _generate(cli, repo, V2)
    assert done.code == 1
    assert tree(out) == before  # nothing written
    plan = done.err
    assert "flow/_generated/bus.py" in plan and "no mermaidgen header" in plan
    assert "regenerated (the old copies are kept under .mermaidgen/replaced/): " in plan
    assert DIAGRAM in plan and USER in plan and "--force" in plan

    done = _generate(cli, repo, V2, "--force")
    assert done.code == 0, done.err
    assert bus.read_text() != "# my own bus\n"
    assert (out / ".mermaidgen" / "replaced" / "flow/_generated/bus.py").read_text() == \
        "# my own bus\n"
    assert _owners(out)["flow/_generated/bus.py"] == "generated"


def test_a_copied_module_from_another_version_is_known_by_its_first_line(cli, repo):
    """The trace checker is copied without a header; an older copy is still ours."""
    out = repo / "out"
    _generate(cli, repo, V1)
    _lose_manifest(out)
    checker = out / "flow" / "_generated" / "checker" / "__init__.py"
    checker.write_text(checker.read_text() + "OLD_VERSION = 1\n", encoding="utf-8")
    done = _generate(cli, repo, V1)
    assert done.code == 0, done.err
    assert "OLD_VERSION" not in checker.read_text()


def test_a_foreign_folder_still_needs_force_and_keeps_its_files(cli, repo):
    """No mermaidgen header anywhere: the folder is someone else's, as before."""
    out = repo / "out"
    (out / "flow" / "_generated").mkdir(parents=True)
    (out / "flow" / "_generated" / "bus.py").write_text("# theirs\n", encoding="utf-8")
    done = _generate(cli, repo, V1)
    assert done.code == 2 and "did not create it" in done.err
    assert _generate(cli, repo, V1, "--force").code == 0
    assert (out / "flow" / "_generated" / "bus.py").read_text() == "# theirs\n"
    assert _owners(out)["flow/_generated/bus.py"] == "user"
