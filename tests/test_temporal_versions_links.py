"""The Temporal target reads what an earlier generation left (`_generated/versions.py`,
`tests/histories/`) to keep running workflows replaying; in a cloned output folder a link
on the way must not make it read from outside the project."""

from __future__ import annotations

from pathlib import Path

import pytest

from mermaidgen.codegen.temporal_versions import previous
from mermaidgen.errors import MermaidgenError


def _outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    (outside / "_generated").mkdir(parents=True)
    (outside / "_generated" / "versions.py").write_text('VERSIONS: list = [{"x": 1}]\n')
    (outside / "histories").mkdir()
    (outside / "histories" / "run.json").write_text("{}")
    (tmp_path / "out").mkdir()
    return outside


def test_a_linked_package_folder_is_refused(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    (tmp_path / "out" / "pkg").symlink_to(outside)
    with pytest.raises(MermaidgenError, match="symbolic link"):
        previous(tmp_path / "out")


def test_a_linked_tests_folder_is_refused(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    (tmp_path / "out" / "tests").symlink_to(outside)
    with pytest.raises(MermaidgenError, match="symbolic link"):
        previous(tmp_path / "out")


def test_without_links_what_is_there_is_read(tmp_path: Path) -> None:
    _outside(tmp_path)
    out = tmp_path / "out"
    (out / "tests" / "histories").mkdir(parents=True)
    (out / "tests" / "histories" / "a.json").write_text("{}")
    assert previous(out)["histories"] == 1
