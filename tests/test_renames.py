"""Edits of the diagram or the options never leave the user's code unreachable (issue 12,
"Stable names"): the package name is pinned in the manifest, a different diagram is not
generated into a folder made from another one, a relabelled participant keeps its module,
and a broker or target change names the user-owned files still set up for the old one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from projects import run, tree

from mermaidgen.codegen.write import output

FLOW = """sequenceDiagram
    participant Client
    participant OS as Order Saga
    Client->>OS: Order placed
    OS->>Client: Order confirmed
"""
TITLED = FLOW.replace("sequenceDiagram\n", "sequenceDiagram\n    title Checkout Story\n")
RELABELLED = FLOW.replace("as Order Saga", "as Checkout Saga")
OTHER = """sequenceDiagram
    participant Driver
    participant Dispatch
    Driver->>Dispatch: Trip completed
    Dispatch->>Driver: Fare calculated
"""


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    monkeypatch.setattr(output.os, "fsync", lambda fd: None)


def _generate(cli, tmp_path: Path, text: str, *args: object, name: str = "flow.mmd"):
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    return cli("generate", source, "--out", tmp_path / "out", "--style", "choreography",
               *args)


def _mark(user_file: Path, who: str) -> None:
    """Make a user module print `who` when its participant receives the order."""
    text = user_file.read_text(encoding="utf-8").replace(
        "    pass\n", f"    async def on_order_placed(self, ctx):\n        print({who!r})\n")
    user_file.write_text(text, encoding="utf-8")


def _manifest(out: Path) -> dict:
    return json.loads((out / output.MANIFEST).read_text(encoding="utf-8"))


def _runs_user_code(out: Path, package: str) -> None:
    ran = run([sys.executable, "-m", package], out)
    assert ran.returncode == 0, ran.stderr
    assert "the user's saga code" in ran.stdout


# --- the package name is pinned ----------------------------------------------------------

def test_adding_a_title_keeps_the_package_and_the_users_code(cli, tmp_path):
    out = tmp_path / "out"
    assert _generate(cli, tmp_path, FLOW).code == 0
    _mark(out / "flow" / "services" / "order_saga.py", "the user's saga code")

    done = _generate(cli, tmp_path, TITLED)
    assert done.code == 0, done.err
    assert "no longer generated" not in done.err
    assert not (out / "checkout_story").exists()
    assert _manifest(out)["package"] == "flow"
    _runs_user_code(out, "flow")


def test_a_different_package_option_stops_with_a_plan_that_works(cli, tmp_path):
    out = tmp_path / "out"
    assert _generate(cli, tmp_path, FLOW).code == 0
    _mark(out / "flow" / "services" / "order_saga.py", "the user's saga code")
    before = tree(out)

    done = _generate(cli, tmp_path, FLOW, "--package", "shop")
    assert done.code == 1
    assert tree(out) == before  # nothing written
    assert "package `flow`" in done.err and "flow/services/order_saga.py" in done.err
    assert "--package flow" in done.err
    # the same package, named explicitly, is fine
    assert _generate(cli, tmp_path, FLOW, "--package", "flow").code == 0
    # following the plan: move the user's files to the new package, remove the old one
    (out / "shop" / "services").mkdir(parents=True)
    for name in ("__init__.py", "order_saga.py", "client.py"):
        (out / "flow" / "services" / name).rename(out / "shop" / "services" / name)
    import shutil

    shutil.rmtree(out / "flow")
    moved = _generate(cli, tmp_path, FLOW, "--package", "shop")
    assert moved.code == 0, moved.err
    assert _manifest(out)["package"] == "shop"
    _runs_user_code(out, "shop")


@pytest.mark.parametrize("field, value", [("package", "../evil"), ("package", 7),
                                          ("settings_of_yours", {"broker": ["nats"]}),
                                          ("settings_of_yours", "nats")])
def test_a_hostile_package_in_a_manifest_is_refused(cli, tmp_path, field, value):
    """A cloned repository's manifest is hostile input: the package becomes a path."""
    out = tmp_path / "out"
    _generate(cli, tmp_path, FLOW)
    manifest = _manifest(out)
    manifest[field] = value
    (out / output.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    done = _generate(cli, tmp_path, FLOW)
    assert done.code == 1
    assert "not a mermaidgen manifest" in done.err
    assert not (tmp_path / "evil").exists()


# --- a different diagram -----------------------------------------------------------------

def test_a_different_diagram_is_not_generated_into_the_folder(cli, tmp_path):
    out = tmp_path / "out"
    assert _generate(cli, tmp_path, FLOW).code == 0
    before = tree(out)
    done = _generate(cli, tmp_path, OTHER, name="trips.mmd")
    assert done.code == 1
    assert tree(out) == before
    assert "flow.mmd" in done.err and "--out" in done.err


def test_a_renamed_diagram_file_with_the_same_participants_is_generated(cli, tmp_path):
    out = tmp_path / "out"
    assert _generate(cli, tmp_path, FLOW).code == 0
    _mark(out / "flow" / "services" / "order_saga.py", "the user's saga code")
    done = _generate(cli, tmp_path, FLOW, name="orders.mmd")
    assert done.code == 0, done.err
    _runs_user_code(out, "flow")


# --- labels are documentation ------------------------------------------------------------

def test_relabelling_a_participant_keeps_its_module(cli, tmp_path):
    out = tmp_path / "out"
    assert _generate(cli, tmp_path, FLOW, "--package", "shop").code == 0
    _mark(out / "shop" / "services" / "order_saga.py", "the user's saga code")
    done = _generate(cli, tmp_path, RELABELLED, "--package", "shop")
    assert done.code == 0, done.err
    assert "no longer generated" not in done.err
    assert _manifest(out)["names"]["OS"] == "order_saga"
    _runs_user_code(out, "shop")


# --- a broker or target change -----------------------------------------------------------

def test_a_broker_change_names_the_users_files_still_on_the_old_broker(cli, tmp_path):
    out = tmp_path / "out"
    args = ("--target", "faststream", "--package", "shop")
    assert _generate(cli, tmp_path, FLOW, *args, "--broker", "nats").code == 0
    done = _generate(cli, tmp_path, FLOW, *args, "--broker", "redis")
    assert done.code == 0, done.err
    assert "pyproject.toml" in done.err and "faststream[nats]" in done.err
    assert "faststream[redis]" in done.err
    assert _manifest(out)["broker"] == "redis"
    # said again on every run until the user updates the file ...
    again = _generate(cli, tmp_path, FLOW, *args, "--broker", "redis")
    assert again.code == 0
    assert "pyproject.toml" in again.err and "faststream[nats]" in again.err
    # ... then nothing more is said
    pyproject = out / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace("[nats]", "[redis]")
                         .replace("(NATS)", "(Redis)"), encoding="utf-8")
    again = _generate(cli, tmp_path, FLOW, *args, "--broker", "redis")
    assert again.code == 0
    assert "pyproject.toml" not in again.err


def test_a_target_change_names_the_users_files_set_up_for_the_old_one(cli, tmp_path):
    assert _generate(cli, tmp_path, FLOW, "--package", "shop").code == 0
    done = _generate(cli, tmp_path, FLOW, "--package", "shop", "--target", "faststream")
    assert "pyproject.toml" in done.err and "faststream" in done.err
