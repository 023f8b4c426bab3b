"""The repository as a newcomer meets it: what the README's quick start leaves behind in
the checkout, and docs that state the versions the code has."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mermaidgen.codegen.context import CONTEXT_VERSION

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# the README and the docs site, where they name the template context's version
PAGES = [README, *(p.read_text(encoding="utf-8")
                   for p in sorted((ROOT / "docs").rglob("*.md")))]
CONTEXT_DOC = (ROOT / "docs" / "template-context.md").read_text(encoding="utf-8")


def _git_checkout() -> bool:
    return shutil.which("git") is not None and subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--is-inside-work-tree"],
        capture_output=True).returncode == 0


def test_the_quick_start_output_is_ignored_by_git():
    """The quick start runs from the repository root and writes a folder there: it must
    not show up as untracked work in `git status`."""
    if not _git_checkout():
        pytest.skip("not a git checkout")
    (out,) = re.findall(r"^pip install \. && mermaidgen generate \S+ --out (\S+)", README,
                        re.MULTILINE)
    found = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "--no-index", "-q",
                            f"{out}/checkout/__init__.py"])
    assert found.returncode == 0, f"{out}/ is not in .gitignore"


def test_the_readme_names_the_template_context_version():
    stated = [v for page in PAGES
              for v in re.findall(r"template-context\.md\)\s+\(version (\d+)\)", page)]
    assert stated and set(stated) == {str(CONTEXT_VERSION)}


def test_the_template_context_page_has_the_code_s_version():
    assert re.match(r"# The template context \(version (\d+)\)", CONTEXT_DOC)[1] \
        == str(CONTEXT_VERSION)
    row = re.search(r"\| `context_version` \| this page's version \((\d+)", CONTEXT_DOC)
    assert row and row[1] == str(CONTEXT_VERSION)


def test_the_project_s_own_code_passes_ruff():
    """The house style's lint (pyproject.toml [tool.ruff]) holds for the project itself, not
    only for the code it generates: a long line slipped into main unnoticed once."""
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
