"""Generated files carry nothing machine-specific (issue 10 defect 2, issue 12): the same
repository generated in two checkouts gives byte-identical trees, `check` passes in a fresh
clone of a repository whose generations are up to date, and drift annotations point at
the drifted file."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from mermaidgen.commands.cli import _run

DIAGRAM = """sequenceDiagram
    participant Shop
    participant Orders
    Shop->>Orders: Place order
    Orders-->>Shop: Order id
"""
CONFIG = """[[generate]]
source = "docs/orders.md"
diagram = 1
out = "services/orders"
package = "orders"
"""
ANNOTATION = re.compile(r"^::error file=(?P<file>[^,:]+)(,line=(?P<line>\d+),col=\d+)?,"
                        r"title=[^,:]+::\S.*$")


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com",
                    "-c", "init.defaultBranch=main", *args], cwd=cwd, check=True,
                   capture_output=True)


def _project(root: Path) -> Path:
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "orders.md").write_text(f"# Orders\n\n```mermaid\n{DIAGRAM}```\n",
                                             encoding="utf-8")
    (root / "mermaidgen.toml").write_text(CONFIG, encoding="utf-8")
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(root).parts
            and "lock" not in p.name and "__pycache__" not in p.parts}


def test_check_passes_in_a_fresh_clone(tmp_path: Path, monkeypatch, capsys) -> None:
    first = _project(tmp_path / "first")
    _git("init", "-q", cwd=first)
    monkeypatch.chdir(first)
    assert _run(["generate"]) == 0
    _git("add", "-A", cwd=first)
    _git("commit", "-q", "-m", "generated", cwd=first)
    second = tmp_path / "elsewhere" / "deeper" / "second"
    second.parent.mkdir(parents=True)
    _git("clone", "-q", str(first), str(second), cwd=tmp_path)
    monkeypatch.chdir(second)
    capsys.readouterr()
    assert _run(["check", "--format", "github"]) == 0, capsys.readouterr()
    assert "::error" not in capsys.readouterr().out


def test_two_checkouts_generate_identical_trees(tmp_path: Path, monkeypatch) -> None:
    trees = []
    for where in ("a", "b/much/deeper"):
        root = _project(tmp_path / where / "repo")
        monkeypatch.chdir(root)
        assert _run(["generate"]) == 0
        trees.append(_files(root))
    assert trees[0].keys() == trees[1].keys()
    for rel, data in trees[0].items():
        assert data == trees[1][rel], rel
    for rel, data in trees[0].items():
        assert str(tmp_path).encode() not in data, rel
    header = trees[0]["services/orders/orders/_generated/diagram.py"].decode()
    assert "from docs/orders.md." in header.splitlines()[0]


def test_a_source_on_the_command_line_is_named_the_same_from_any_checkout_or_folder(
        tmp_path: Path, monkeypatch) -> None:
    trees = []
    for where, cwd, source, out in [("a", "", "docs/flow.mmd", "svc"),
                                    ("b/deeper", "", "docs/flow.mmd", "svc"),
                                    ("c", "docs", "flow.mmd", "../svc")]:
        root = tmp_path / where / "repo"
        (root / "docs").mkdir(parents=True)
        (root / "docs" / "flow.mmd").write_text(DIAGRAM, encoding="utf-8")
        _git("init", "-q", cwd=root)
        monkeypatch.chdir(root / cwd)
        assert _run(["generate", source, "--out", out]) == 0
        trees.append(_files(root / "svc"))
    assert trees[0] == trees[1] == trees[2]
    header = trees[0]["flow/_generated/diagram.py"].decode().splitlines()[0]
    assert header.endswith(" from docs/flow.mmd."), header
    # without a repository or configuration: relative to the output folder's parent
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "flow.mmd").write_text(DIAGRAM, encoding="utf-8")
    monkeypatch.chdir(plain)
    assert _run(["generate", str(plain / "flow.mmd"), "--out", "svc"]) == 0
    header = (plain / "svc/flow/_generated/diagram.py").read_text().splitlines()[0]
    assert header.endswith(" from flow.mmd."), header


def test_drift_annotations_point_at_the_drifted_file(tmp_path: Path, monkeypatch,
                                                     capsys) -> None:
    root = _project(tmp_path / "repo")
    _git("init", "-q", cwd=root)
    monkeypatch.chdir(root)
    assert _run(["generate"]) == 0
    drifted = root / "services/orders/orders/_generated/diagram.py"
    before = drifted.read_text(encoding="utf-8").splitlines()
    source = root / "docs" / "orders.md"
    source.write_text(source.read_text().replace("Order id", "Order number"))
    missing = root / "services/orders/orders/_generated/__init__.py"
    missing.unlink()
    capsys.readouterr()
    assert _run(["check", "--format", "github"]) == 1
    annotations = [ANNOTATION.match(line) for line in capsys.readouterr().out.splitlines()
                   if "drift" in line]
    assert annotations and all(annotations), annotations
    located = {m["file"]: int(m["line"] or 0) for m in annotations}
    assert located.get("services/orders/orders/_generated/__init__.py") == 0
    line = located["services/orders/orders/_generated/diagram.py"]
    assert line >= 1 and "Order id" in before[line - 1]
    assert _run(["generate"]) == 0
    assert _run(["check", "--format", "github"]) == 0


def test_a_configuration_that_was_never_generated_is_annotated_at_the_configuration(
        tmp_path: Path, monkeypatch, capsys) -> None:
    root = _project(tmp_path / "repo")
    _git("init", "-q", cwd=root)
    monkeypatch.chdir(root)
    assert _run(["check", "--format", "github"]) == 1
    out = capsys.readouterr().out
    assert any(line.startswith("::error file=mermaidgen.toml,") for line in out.splitlines()), out

