"""Configured paths stay inside the repository (issue 10 defect 8), and path papercuts
(defect 9): a cloned repository's configuration is hostile input, so its `source`, `out`,
`templates` and `check.paths` may not reach outside the folder of the configuration file,
links resolved, unless the person running mermaidgen passes `--allow-outside`."""

from __future__ import annotations

from pathlib import Path

import pytest

DIAGRAM = """sequenceDiagram
    participant Shop
    participant Orders
    Shop->>Orders: Place order
    Orders-->>Shop: Order id
"""
SECRET = "sequenceDiagram\n    Shop->>Orders: hunter2-the-password\n    oops\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository folder next to a folder it must not reach (`outside`)."""
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "flow.mmd").write_text(DIAGRAM, encoding="utf-8")
    (root / ".git").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "creds.mmd").write_text(SECRET, encoding="utf-8")
    monkeypatch.chdir(root)
    return root


def _configure(root: Path, **keys: str) -> None:
    entry = {"source": "docs/flow.mmd", "out": "svc", **keys}
    body = "".join(f'{k} = "{v}"\n' for k, v in entry.items())
    (root / "mermaidgen.toml").write_text(f"[[generate]]\n{body}", encoding="utf-8")


def _listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.mark.parametrize("out", ["../outside/x", "{outside}/x", "svc/../../outside/x"],
                         ids=["relative", "absolute", "dotted"])
def test_an_out_folder_outside_the_repository_is_refused(repo: Path, cli, out: str) -> None:
    out = out.format(outside=repo.parent / "outside")
    _configure(repo, out=out)
    before = _listing(repo.parent / "outside")
    for command in (["generate"], ["check"]):
        result = cli(*command)
        assert result.code == 2, result
        assert "mermaidgen.toml" in result.err and f'out = "{out}"' in result.err
        assert "--allow-outside" in result.err
    assert _listing(repo.parent / "outside") == before


def test_a_source_outside_is_neither_read_nor_echoed(repo: Path, cli) -> None:
    _configure(repo, source="../outside/creds.mmd")
    result = cli("check", "--format", "github")
    assert result.code == 2
    assert 'source = "../outside/creds.mmd"' in result.err
    assert "hunter2" not in result.out + result.err


def test_a_source_linked_to_a_file_outside_counts_as_outside(repo: Path, cli) -> None:
    (repo / "docs" / "creds.mmd").symlink_to(repo.parent / "outside" / "creds.mmd")
    _configure(repo, source="docs/creds.mmd")
    result = cli("generate")
    assert result.code == 2 and 'source = "docs/creds.mmd"' in result.err
    assert "hunter2" not in result.out + result.err
    assert not (repo / "svc").exists()


def test_an_out_folder_linked_outside_counts_as_outside(repo: Path, cli) -> None:
    (repo / "svc").symlink_to(repo.parent / "outside", target_is_directory=True)
    _configure(repo)
    before = _listing(repo.parent / "outside")
    result = cli("generate")
    assert result.code == 2 and 'out = "svc"' in result.err
    assert _listing(repo.parent / "outside") == before


def test_templates_and_check_paths_outside_are_refused(repo: Path, cli) -> None:
    _configure(repo, templates="../outside")
    result = cli("generate")
    assert result.code == 2 and 'templates = "../outside"' in result.err
    (repo / "mermaidgen.toml").write_text('[check]\npaths = ["../outside"]\n',
                                          encoding="utf-8")
    result = cli("check")
    assert result.code == 2 and 'paths = "../outside"' in result.err
    assert "hunter2" not in result.out + result.err


def test_a_checked_folder_does_not_follow_links_to_files_outside(repo: Path, cli) -> None:
    (repo / "docs" / "notes.mmd").symlink_to(repo.parent / "outside" / "creds.mmd")
    result = cli("check", "--format", "github")
    assert "hunter2" not in result.out + result.err
    assert "notes.mmd" not in result.out + result.err


def test_allow_outside_lets_the_person_running_it_opt_in(repo: Path, cli) -> None:
    _configure(repo, out="../outside/x")
    result = cli("generate", "--allow-outside")
    assert result.code == 0, result
    assert (repo.parent / "outside" / "x" / "flow" / "_generated" / "diagram.py").is_file()
    assert cli("check", "--allow-outside").code == 0


def test_paths_inside_the_repository_are_fine(repo: Path, cli) -> None:
    (repo / "docs" / "alias.mmd").symlink_to(repo / "docs" / "flow.mmd")
    _configure(repo, source="./docs/../docs/alias.mmd", out="services/./flow")
    assert cli("generate").code == 0
    header = (repo / "services/flow/alias/_generated/diagram.py").read_text().splitlines()[0]
    assert header.endswith(" from docs/alias.mmd."), header
    assert cli("check").code == 0


@pytest.mark.parametrize("key", ["source", "out", "templates"])
def test_an_empty_configured_path_is_refused(repo: Path, cli, key: str) -> None:
    _configure(repo, **{key: ""})
    result = cli("generate")
    assert result.code == 2 and f"`{key}`" in result.err and "mermaidgen.toml" in result.err


def test_an_empty_out_option_is_refused(repo: Path, cli, monkeypatch) -> None:
    (repo / "empty").mkdir()
    monkeypatch.chdir(repo / "empty")  # where `--out ''` used to generate, as `.`
    result = cli("generate", "../docs/flow.mmd", "--out", "")
    assert result.code == 2 and "--out ''" in result.err and "empty" in result.err
    assert _listing(repo / "empty") == []


def test_a_too_long_package_name_is_blamed_on_the_package(repo: Path, cli) -> None:
    result = cli("generate", "docs/flow.mmd", "--out", "svc", "--package", "a" * 300)
    assert result.code == 2, result
    assert "--package" in result.err and "too long" in result.err
    assert "cannot read svc" not in result.err
