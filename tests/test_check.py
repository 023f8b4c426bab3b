"""`mermaidgen check` on a repository-like folder of a few hundred files: every planted
error reported with its file and line, planted drift detected, valid GitHub annotations,
.gitignore honoured, configuration errors explained."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import check_tree
import pytest

from mermaidgen.commands.cli import _run

FINDING = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<severity>\w+)"
                     r"\[(?P<code>[\w-]+)\]: (?P<message>.+)$")
ANNOTATION = re.compile(r"^::(error|warning|notice) file=[^,:]+(,line=\d+,col=\d+)?,"
                        r"title=[^,:]+::\S.*$")


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> check_tree.Tree:
    built = check_tree.build(tmp_path / "repo")
    monkeypatch.chdir(built.root)
    return built


def _errors(text: str) -> set[tuple[str, int, str]]:
    found = set()
    for line in text.splitlines():
        m = FINDING.match(line)
        if m and m["severity"] == "error":
            found.add((m["file"], int(m["line"]), m["code"]))
    return found


def test_every_planted_error_is_reported_at_its_file_and_line(tree, capsys) -> None:
    code = _run(["check", "."])
    err = capsys.readouterr().err
    assert code == 1
    assert len(tree.files) >= 300 and tree.errors
    assert _errors(err) == set(tree.errors)
    assert f"checked {len(tree.files) + 1} file(s)" in err


def test_json_format_lists_the_same_findings(tree, capsys) -> None:
    _run(["check", ".", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    got = {(f["file"], f["line"], f["code"]) for f in data["findings"]
           if f["severity"] == "error"}
    assert got == set(tree.errors)
    assert data["ok"] is False and data["files"] == len(tree.files) + 1


def test_github_format_lines_are_valid_annotations(tree, capsys) -> None:
    _run(["check", ".", "--format", "github"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) >= len(tree.errors)
    for line in lines:
        assert ANNOTATION.match(line), line
    files = {re.search(r"file=([^,]+)", line).group(1) for line in lines}
    assert files >= {f for f, _, _ in tree.errors}


def test_a_clean_folder_exits_zero(tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "ok.mmd").write_text(check_tree.GOOD.format(n=1), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert _run(["check"]) == 0


def test_strict_makes_warnings_fail(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "warn.mmd").write_text(
        "sequenceDiagram\n    participant A\n    participant Unused\n    A->>A: x\n",
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert _run(["check"]) == 0
    assert _run(["check", "--strict"]) == 1


def test_gitignored_files_are_not_checked(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    subprocess.run(["git", "init", "-q"], check=True)
    Path(".gitignore").write_text("vendor/\n", encoding="utf-8")
    Path("vendor").mkdir()
    Path("vendor/broken.mmd").write_text("sequenceDiagram\n    A->>B nope\n",
                                         encoding="utf-8")
    Path("good.mmd").write_text(check_tree.GOOD.format(n=1), encoding="utf-8")
    assert _run(["check"]) == 0
    assert "broken.mmd" not in capsys.readouterr().err


def test_drift_is_detected_and_cleared_by_generate(tree, capsys) -> None:
    check_tree.configure(tree)
    assert _run(["generate"]) == 0
    capsys.readouterr()
    assert _run(["check", "design"]) == 0
    check_tree.drift(tree, 1)
    assert _run(["check", "design"]) == 1
    err = capsys.readouterr().err
    drifted = [line for line in err.splitlines() if line.endswith("[drift]")]
    assert len(drifted) == 1 and "service1" in drifted[0] and "wiring.py" in drifted[0]
    assert _run(["generate"]) == 0
    assert _run(["check", "design"]) == 0


def test_user_edits_are_not_drift(tree, capsys) -> None:
    check_tree.configure(tree, generations=1)
    assert _run(["generate"]) == 0
    user_file = tree.root / "services" / "service0" / "service0" / "services" / "orders.py"
    user_file.write_text(user_file.read_text(encoding="utf-8") + "# mine\n",
                         encoding="utf-8")
    assert _run(["check", "design"]) == 0


@pytest.mark.parametrize(("content", "expected"), [
    ('[[generate]]\nsource = "a.mmd"\nout = "x"\nstlye = "auto"\n', "did you mean `style`"),
    ('[[generate]]\nout = "x"\n', "needs `source`"),
    ('[[generate]]\nsource = "a.mmd"\nout = "x"\nstyle = "jazz"\n', "style `jazz`"),
    ("[[generate]\n", "not valid TOML"),
    ('[check]\npaths = "docs"\n', "check.paths must be a list"),
], ids=["unknown-key", "missing-source", "bad-style", "bad-toml", "bad-check-paths"])
def test_configuration_errors_name_the_file_and_key(tmp_path: Path, monkeypatch, capsys,
                                                    content: str, expected: str) -> None:
    (tmp_path / "mermaidgen.toml").write_text(content, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert _run(["check"]) == 2
    err = capsys.readouterr().err
    assert "mermaidgen.toml" in err and expected in err and "Traceback" not in err


def test_pyproject_configuration_is_read(tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "flow.mmd").write_text(check_tree.GOOD.format(n=1), encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[[tool.mermaidgen.generate]]\nsource = "flow.mmd"\n'
        'out = "gen"\nstyle = "orchestration"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert _run(["generate"]) == 0
    assert (tmp_path / "gen" / "flow" / "workflow.py").is_file()
    assert _run(["check"]) == 0
