"""Hostile repositories (fuzz/hostile.py): nothing a cloned repository holds makes mermaidgen
write, delete or move anything outside it, or read outside files into its output.

* Every recipe the fuzzer saved under tests/fuzz/hostile/ is built again in a sandbox and
  replayed: no escape, no traceback, no hang.
* The harness itself is tested: a command that does write or read outside (an explicit
  path outside the sandbox's repository) must be reported as an escape, and building a
  recipe never writes through a link.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("mermaidgen_fuzz_hostile",
                                               PROJECT / "fuzz" / "hostile.py")
assert _spec and _spec.loader
hostile = importlib.util.module_from_spec(_spec)
sys.modules["mermaidgen_fuzz_hostile"] = hostile
_spec.loader.exec_module(hostile)

TIMEOUT = 30.0  # seconds of CPU time per command: a clean one takes under one


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in hostile.reproducers()])
def test_saved_recipe(path: Path, tmp_path: Path) -> None:
    outcome = hostile.play(hostile.load(path), tmp_path, TIMEOUT)
    assert outcome.failure is None, \
        f"{outcome.failure[0]}\n{outcome.failure[1]}\n" + "\n".join(outcome.log)


def _recipe(*steps: dict) -> dict:
    return {"recipe": 1, "steps": [{"dir": f"{hostile.REPO}/.git"}, *steps]}


def test_a_write_outside_is_an_escape(tmp_path: Path) -> None:
    recipe = _recipe({"run": ["templates", "export", "{R}/outer/exported"]})
    failure = hostile.play(recipe, tmp_path, TIMEOUT).failure
    assert failure is not None and failure[0] == "escape-write-templates-export-created", failure


def test_a_deleted_decoy_is_an_escape(tmp_path: Path) -> None:
    """`--force` export over a decoy folder changes the decoy `files.toml`."""
    recipe = _recipe({"run": ["templates", "export", "{R}/outer/inner/data", "--force"]})
    failure = hostile.play(recipe, tmp_path, TIMEOUT).failure
    assert failure is not None and failure[0].startswith("escape-write-templates-export"), \
        failure


def test_a_decoy_shown_is_an_escape(tmp_path: Path) -> None:
    recipe = _recipe({"run": ["preview", "{R}/outer/inner/data/design.mmd", "-f", "json"]})
    failure = hostile.play(recipe, tmp_path, TIMEOUT).failure
    assert failure is not None and failure[0] == "escape-read-preview-output", failure


def test_a_decoy_copied_into_the_repository_is_an_escape(tmp_path: Path) -> None:
    recipe = _recipe({"run": ["generate", "{R}/outer/inner/data/design.mmd", "--out", "svc",
                              "--package", "app"]})
    # the marker is a message text: shown in no output, but written into the skeleton
    failure = hostile.play(recipe, tmp_path, TIMEOUT).failure
    assert failure is not None and failure[0].startswith("escape-read-generate"), failure


def test_a_clean_repository_passes(tmp_path: Path) -> None:
    diagram = (PROJECT / "samples" / "checkout.mmd").read_text(encoding="utf-8")
    recipe = _recipe({"file": f"{hostile.REPO}/docs/flow.mmd", "text": diagram},
                     {"run": ["generate", "docs/flow.mmd", "--out", "svc", "--package", "app"]},
                     {"run": ["check", "--format", "github"]})
    outcome = hostile.play(recipe, tmp_path, TIMEOUT)
    assert outcome.failure is None, outcome
    assert outcome.runs == 2


def test_building_a_recipe_never_writes_through_a_link(tmp_path: Path) -> None:
    """The harness's own steps: a file step below a link to a decoy folder is skipped."""
    recipe = _recipe({"link": f"{hostile.REPO}/x", "to": "outer/inner/data"},
                     {"file": f"{hostile.REPO}/x/design.mmd", "text": "overwritten"},
                     {"remove": f"{hostile.REPO}/x/deep"},
                     {"file": "outer/notes.txt", "text": "outside the repository"},
                     {"run": ["--version"]})
    outcome = hostile.play(recipe, tmp_path, TIMEOUT)
    assert outcome.failure is None, outcome


def test_recipes_are_fixed_by_their_seed() -> None:
    first = [hostile.make_recipe(random.Random(f"s-{i}")) for i in range(30)]
    again = [hostile.make_recipe(random.Random(f"s-{i}")) for i in range(30)]
    assert first == again
    assert len({hostile.recipe_id(r) for r in first}) == 30
    steps = [s for r in first for s in r["steps"]]
    assert any("link" in s for s in steps) and any("run" in s for s in steps)
    # every step but a command stays inside the repository
    assert all(s.get("file", s.get("dir", s.get("link", s.get("remove", hostile.REPO + "/"))))
               .startswith(hostile.REPO + "/") for s in steps)


def test_a_command_changes_only_its_own_folder() -> None:
    """`generate --out svc` may change svc/ only; `check` and `--dry-run` nothing."""
    svc, docs = f"{hostile.REPO}/svc/app/x.py", f"{hostile.REPO}/docs/flow.mmd"
    before = {svc: ("file", "1"), docs: ("file", "1")}
    in_svc = {svc: ("file", "2"), docs: ("file", "1")}
    in_docs = {svc: ("file", "1"), docs: ("file", "2")}
    generate = ["generate", "docs/flow.mmd", "--out", "svc"]
    assert hostile._stayed_in(generate, before, in_svc) is None
    assert hostile._stayed_in(generate, before, in_docs)[0] == "outside-its-folder-generate"
    assert hostile._stayed_in([*generate, "--dry-run"], before, in_svc) is not None
    assert hostile._stayed_in(["check", "--format", "github"], before, in_docs)[0] == \
        "outside-its-folder-check-github"
    assert hostile._stayed_in(["generate"], before, in_docs) is None  # the config decides
