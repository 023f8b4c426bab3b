"""`mermaidgen check` reports every kind of drift between a configured generation and its
folder: the diagram changed, a generated file edited by hand, deleted, a file added where
only generated files live, the manifest gone. Each kind is its own test, so that a check
that stops seeing one of them fails here (one kind only used to be tested)."""

from __future__ import annotations

from pathlib import Path

import check_tree
import pytest

from mermaidgen.commands.cli import _run

OUT = "services/orders"
PACKAGE = "orders"
GENERATED = f"{PACKAGE}/_generated/wiring.py"
USER_OWNED = f"{PACKAGE}/services/billing.py"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    """A repository with one configured generation, generated and up to date."""
    (tmp_path / "design").mkdir()
    (tmp_path / "design" / "orders.mmd").write_text(check_tree.GOOD.format(n=1),
                                                   encoding="utf-8")
    (tmp_path / "mermaidgen.toml").write_text(
        f'[[generate]]\nsource = "design/orders.mmd"\nout = "{OUT}"\n'
        f'style = "choreography"\npackage = "{PACKAGE}"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert _run(["generate"]) == 0
    assert (tmp_path / OUT / GENERATED).is_file()
    assert (tmp_path / OUT / USER_OWNED).is_file()
    assert _run(["check", "design"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    return tmp_path


def _drift(capsys) -> list[str]:
    """The drift lines of `check design`, which must fail when there are any."""
    code = _run(["check", "design"])
    err = capsys.readouterr().err
    found = [line for line in err.splitlines() if line.endswith("[drift]")]
    assert code == (1 if found else 0), err
    return found


def test_a_changed_diagram_is_drift(repo: Path, capsys) -> None:
    source = repo / "design" / "orders.mmd"
    source.write_text(source.read_text(encoding="utf-8") + "    Orders->>Billing: Refund\n",
                      encoding="utf-8")
    [line] = _drift(capsys)
    assert OUT in line and "no longer match the diagram" in line and GENERATED in line
    assert _run(["generate"]) == 0
    assert _drift(capsys) == []


def test_a_generated_file_edited_by_hand_is_drift(repo: Path, capsys) -> None:
    wiring = repo / OUT / GENERATED
    wiring.write_text(wiring.read_text(encoding="utf-8") + "# a quick fix\n",
                      encoding="utf-8")
    [line] = _drift(capsys)
    assert OUT in line and GENERATED in line


def test_a_deleted_generated_file_is_drift(repo: Path, capsys) -> None:
    (repo / OUT / GENERATED).unlink()
    [line] = _drift(capsys)
    assert OUT in line and "1 missing" in line and GENERATED in line
    assert _run(["generate"]) == 0
    assert _drift(capsys) == []


def test_a_file_added_among_the_generated_ones_is_drift(repo: Path, capsys) -> None:
    """`_generated/` is rewritten on every run: a module someone adds there is code that no
    diagram describes, in a folder nobody reviews; check names it."""
    added = f"{PACKAGE}/_generated/my_patch.py"
    (repo / OUT / added).write_text("PATCHED = True\n", encoding="utf-8")
    [line] = _drift(capsys)
    assert OUT in line and added in line and "not generated" in line
    (repo / OUT / added).unlink()
    assert _drift(capsys) == []


def test_bytecode_and_user_files_are_not_drift(repo: Path, capsys) -> None:
    cache = repo / OUT / PACKAGE / "_generated" / "__pycache__"
    cache.mkdir()
    (cache / "wiring.cpython-311.pyc").write_bytes(b"\0")
    user_file = repo / OUT / USER_OWNED
    user_file.write_text(user_file.read_text(encoding="utf-8") + "# mine\n",
                         encoding="utf-8")
    (repo / OUT / PACKAGE / "services" / "helpers.py").write_text("X = 1\n",
                                                                   encoding="utf-8")
    (repo / OUT / "tests" / "test_mine.py").write_text("def test_x():\n    pass\n",
                                                       encoding="utf-8")
    assert _drift(capsys) == []


def test_a_missing_manifest_is_drift(repo: Path, capsys) -> None:
    """Without its manifest, a folder's generated files cannot be told from the user's:
    the next `generate` would adopt every edited generated file as the user's."""
    (repo / OUT / ".mermaidgen" / "manifest.json").unlink()
    [line] = _drift(capsys)
    assert OUT in line and "manifest" in line
