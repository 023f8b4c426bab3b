"""Edits of the diagram or the options never leave the user's code unreachable (issue 12,
"Stable names"): the package name is pinned in the manifest, a different diagram is not
generated into a folder made from another one, a relabelled participant keeps its module,
and a broker or target change names the user-owned files still set up for the old one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from projects import run, run_here, tree

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
    ran = run_here(["-m", package], out)
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


# --- renames that migrate (the manifest's bindings and model, --apply-renames) ------------

SAGA = """sequenceDiagram
    participant Client
    participant OS as Order Saga
    participant Inv as Inventory
    Client-)OS: Order placed
    OS-)Inv: Reserve stock
    Inv-)OS: Stock reserved
    OS-)Client: Order confirmed
"""
RENAMED_ID = SAGA.replace("Inv as", "Stock as").replace(")Inv:", ")Stock:") \
    .replace("Inv-)", "Stock-)")
RENAMED_MESSAGE = SAGA.replace("Reserve stock", "Hold stock")
REMOVED = SAGA.replace("    participant Inv as Inventory\n", "").replace(
    "    OS-)Inv: Reserve stock\n    Inv-)OS: Stock reserved\n", "")
# Inv gone, and a new participant with other messages and another label: nothing says
# which one Inv became
REPLACED = REMOVED.replace("    OS-)Client", "    OS-)Pay: Charge card\n    OS-)Client")


def _hook(user_file: Path, method: str, who: str) -> None:
    """Override `method` (an async handler) so that it prints `who` and goes on."""
    text = user_file.read_text(encoding="utf-8").replace(
        "    pass\n", f"    async def {method}(self, ctx):\n        print({who!r})\n"
        f"        return await super().{method}(ctx)\n")
    user_file.write_text(text, encoding="utf-8")


def _ran(out: Path) -> str:
    ran = run_here(["-m", "flow"], out)
    assert ran.returncode == 0, ran.stderr
    return ran.stdout


def _saga(cli, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    assert _generate(cli, tmp_path, SAGA).code == 0
    _hook(out / "flow" / "services" / "inv.py", "on_reserve_stock", "the user's stock code")
    assert "the user's stock code" in _ran(out)
    return out


def test_a_renamed_participant_id_stops_with_a_plan_then_moves_its_module(cli, tmp_path):
    out = _saga(cli, tmp_path)
    before = tree(out)
    done = _generate(cli, tmp_path, RENAMED_ID)
    assert done.code == 1, done.err
    assert tree(out) == before  # nothing written
    assert "flow/services/inv.py -> flow/services/stock.py: `Inv` was renamed `Stock`" \
        in done.err
    assert "rename Inv -> Stock" in done.err and "rename InvBase -> StockBase" in done.err
    assert "--apply-renames" in done.err

    done = _generate(cli, tmp_path, RENAMED_ID, "--apply-renames")
    assert done.code == 0, done.err
    moved = (out / "flow" / "services" / "stock.py").read_text(encoding="utf-8")
    assert "class Stock(wiring.StockBase):" in moved and "the user's stock code" in moved
    assert not (out / "flow" / "services" / "inv.py").exists()
    kept = out / ".mermaidgen" / "replaced" / "flow" / "services" / "inv.py"
    assert "the user's stock code" in kept.read_text(encoding="utf-8")
    assert "the user's stock code" in _ran(out)
    assert _manifest(out)["names"]["Stock"] == "stock"
    assert "flow/services/inv.py" not in _manifest(out)["files"]


def test_a_renamed_message_stops_with_a_plan_then_renames_the_hook(cli, tmp_path):
    out = _saga(cli, tmp_path)
    before = tree(out)
    done = _generate(cli, tmp_path, RENAMED_MESSAGE)
    assert done.code == 1, done.err
    assert tree(out) == before
    assert "flow/services/inv.py: rename on_reserve_stock -> on_hold_stock" in done.err

    done = _generate(cli, tmp_path, RENAMED_MESSAGE, "--apply-renames")
    assert done.code == 0, done.err
    mine = (out / "flow" / "services" / "inv.py").read_text(encoding="utf-8")
    assert "async def on_hold_stock(self, ctx):" in mine
    assert "await super().on_hold_stock(ctx)" in mine  # its uses follow too
    assert "the user's stock code" in _ran(out)


def test_a_removed_participant_stops_with_a_plan_then_its_code_is_set_aside(cli, tmp_path):
    out = _saga(cli, tmp_path)
    saga = out / "flow" / "services" / "order_saga.py"
    _hook(saga, "on_stock_reserved", "the saga's code for the reserved stock")
    before = tree(out)
    done = _generate(cli, tmp_path, REMOVED)
    assert done.code == 1, done.err
    assert tree(out) == before
    assert "flow/services/inv.py: `Inv` is no longer in the diagram" in done.err
    assert "OrderSaga.on_stock_reserved customises a hook the diagram no longer has" \
        in done.err

    done = _generate(cli, tmp_path, REMOVED, "--apply-renames")
    assert done.code == 0, done.err
    assert not (out / "flow" / "services" / "inv.py").exists()
    assert "def on_stock_reserved" not in saga.read_text(encoding="utf-8")
    replaced = out / ".mermaidgen" / "replaced" / "flow" / "services"
    assert "the user's stock code" in (replaced / "inv.py").read_text(encoding="utf-8")
    assert "on_stock_reserved" in (replaced / "order_saga.py").read_text(encoding="utf-8")
    _ran(out)


def test_an_untouched_module_of_a_removed_participant_does_not_stop(cli, tmp_path):
    """A skeleton nobody filled in holds no code of the user's: reported, not a plan."""
    assert _generate(cli, tmp_path, SAGA).code == 0
    done = _generate(cli, tmp_path, REMOVED)
    assert done.code == 0, done.err
    assert "flow/services/inv.py: no longer generated" in done.err


def test_an_unclear_rename_stops_even_with_the_flag(cli, tmp_path):
    out = _saga(cli, tmp_path)
    before = tree(out)
    done = _generate(cli, tmp_path, REPLACED, "--apply-renames")
    assert done.code == 1, done.err
    assert tree(out) == before
    assert "nothing shows which new participant it became (`Pay`" in done.err
    assert "you decide" in done.err


def test_a_manifest_without_bindings_leaves_renames_to_the_user(cli, tmp_path):
    """Version 2 manifests kept no hooks: a stale hook is never guessed, it stops."""
    out = _saga(cli, tmp_path)
    manifest = _manifest(out)
    for key in ("bindings", "model"):
        del manifest[key]
    manifest["mermaidgen_manifest"] = 2
    (out / output.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    done = _generate(cli, tmp_path, RENAMED_MESSAGE, "--apply-renames")
    assert done.code == 1, done.err
    assert "Inv.on_reserve_stock customises a hook the diagram no longer has, and this " \
        "folder's manifest is too old" in done.err


def _repackaged_saga(cli, tmp_path: Path) -> Path:
    """The saga with the user's code in `flow`: a hook in inv.py, and a helper module of
    theirs that another hook imports by the package's absolute name."""
    out = _saga(cli, tmp_path)
    saga = out / "flow" / "services" / "order_saga.py"
    imports = "import flow.services.inv\nfrom flow.services import inv as stock\n"
    saga.write_text(saga.read_text(encoding="utf-8").replace(
                        "import wiring\n", "import wiring\n" + imports).replace(
                        "    pass\n", "    async def on_stock_reserved(self, ctx):\n"
                        "        print(flow.services.inv.__name__, stock.__name__)\n"
                        "        return await super().on_stock_reserved(ctx)\n"),
                    encoding="utf-8")
    assert "flow.services.inv flow.services.inv" in _ran(out)
    return out


def test_a_package_change_is_applied_with_the_flag(cli, tmp_path):
    """--package with --apply-renames moves the user's files to the new package in the
    same swap: their hooks run from there, absolute imports of the old package follow,
    the old package's files leave (the originals kept), and the manifest says `shop`."""
    out = _repackaged_saga(cli, tmp_path)
    before = tree(out)
    done = _generate(cli, tmp_path, SAGA, "--package", "shop")
    assert done.code == 1, done.err
    assert tree(out) == before
    assert "flow/services/inv.py -> shop/services/inv.py" in done.err
    assert "--package flow" in done.err and "--apply-renames" in done.err

    done = _generate(cli, tmp_path, SAGA, "--package", "shop", "--apply-renames")
    assert done.code == 0, done.err
    assert _manifest(out)["package"] == "shop"
    mine = out / "shop" / "services"
    assert "the user's stock code" in (mine / "inv.py").read_text(encoding="utf-8")
    assert "import wiring\nimport shop.services.inv\nfrom shop.services import inv as " \
        "stock\n" in (mine / "order_saga.py").read_text(encoding="utf-8")
    left = [p.relative_to(out).as_posix() for p in (out / "flow").rglob("*") if p.is_file()]
    assert not [p for p in left if "__pycache__" not in p]
    replaced = out / ".mermaidgen" / "replaced" / "flow" / "services"
    assert "the user's stock code" in (replaced / "inv.py").read_text(encoding="utf-8")
    assert "flow.services" in (replaced / "order_saga.py").read_text(encoding="utf-8")
    assert not [p for p in _manifest(out)["files"] if p.startswith("flow/")]
    ran = run_here(["-m", "shop"], out)
    assert ran.returncode == 0, ran.stderr
    assert "the user's stock code" in ran.stdout
    assert "shop.services.inv shop.services.inv" in ran.stdout
    # and the next run is a plain one
    again = _generate(cli, tmp_path, SAGA, "--package", "shop")
    assert again.code == 0, again.err
    assert "no longer generated" not in again.err


def test_a_package_change_with_files_mermaidgen_does_not_know_stops(cli, tmp_path):
    """A module the user added to the old package may be imported by their hooks: moving
    the rest without it would break them, so the run stops and names it."""
    out = _repackaged_saga(cli, tmp_path)
    (out / "flow" / "helpers.py").write_text("X = 1\n", encoding="utf-8")
    before = tree(out)
    done = _generate(cli, tmp_path, SAGA, "--package", "shop", "--apply-renames")
    assert done.code == 1, done.err
    assert tree(out) == before
    assert "flow/helpers.py" in done.err and "you decide" in done.err


def test_a_package_change_and_a_renamed_participant_together(cli, tmp_path):
    out = _saga(cli, tmp_path)
    done = _generate(cli, tmp_path, RENAMED_ID, "--package", "shop", "--apply-renames")
    assert done.code == 0, done.err
    moved = (out / "shop" / "services" / "stock.py").read_text(encoding="utf-8")
    assert "class Stock(wiring.StockBase):" in moved
    assert not (out / "flow" / "services" / "inv.py").exists()
    ran = run_here(["-m", "shop"], out)
    assert ran.returncode == 0, ran.stderr
    assert "the user's stock code" in ran.stdout


@pytest.mark.parametrize("field, value", [
    ("bindings", {"../evil.py": {"participant": "Inv", "class": "Inv", "base": "InvBase",
                                 "hooks": []}}),
    ("bindings", {"flow/services/inv.py": {"participant": "Inv", "class": "os.system",
                                           "base": "InvBase", "hooks": []}}),
    ("bindings", {"flow/services/inv.py": {"participant": "Inv", "class": "Inv",
                                           "base": "InvBase", "hooks": [["x", "y"]]}}),
    ("model", {"participants": [["Inv"]], "messages": []}),
    ("model", []),
], ids=["path", "class", "hook", "participant", "model"])
def test_hostile_bindings_in_a_manifest_are_refused(cli, tmp_path, field, value):
    out = _saga(cli, tmp_path)
    manifest = _manifest(out)
    manifest[field] = value
    (out / output.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    before = tree(out)
    done = _generate(cli, tmp_path, RENAMED_ID, "--apply-renames")
    assert done.code == 1
    assert "not a mermaidgen manifest" in done.err
    assert tree(out) == before


def test_a_failed_swap_puts_a_moved_user_file_back(tmp_path, monkeypatch):
    """Moves are part of the one swap: when the swap fails after the old file was taken
    away, undoing it puts the file back (and the new one is gone)."""
    from mermaidgen.codegen.write import swap
    from mermaidgen.codegen.write.safefs import Root

    out = tmp_path / "out"
    (out / swap.STATE_DIR).mkdir(parents=True)
    (out / "old.py").write_bytes(b"mine\n")
    real = Root.replace

    def failing(self, src, dst):
        if dst == swap.MANIFEST:
            raise OSError(28, "No space left on device")
        return real(self, src, dst)

    monkeypatch.setattr(Root, "replace", failing)
    with pytest.raises(swap.OutputError):
        swap.commit(out, {"new.py": b"mine, moved\n"}, b"{}", ["old.py"], ["old.py"])
    assert (out / "old.py").read_bytes() == b"mine\n"
    assert not (out / "new.py").exists()
    monkeypatch.setattr(Root, "replace", real)
    swap.commit(out, {"new.py": b"mine, moved\n"}, b"{}", ["old.py"], ["old.py"])
    assert not (out / "old.py").exists()
    assert (out / "new.py").read_bytes() == b"mine, moved\n"
    assert (out / swap.REPLACED / "old.py").read_bytes() == b"mine\n"


# --- the engines: moved hooks still called in a real run ---------------------------------

ORCHESTRATED = """sequenceDiagram
    participant Orchestrator
    participant Inv as Inventory
    participant Pay as Payments
    Orchestrator->>+Inv: Reserve stock
    Inv-->>-Orchestrator: Stock reserved
    Orchestrator->>+Pay: Charge card
    Pay-->>-Orchestrator: Card charged
"""


def _renamed_everything(text: str) -> str:
    """`Inv` renamed `Stock` and its request renamed: its module moves, its class and
    base are renamed, and so are the hooks of that message."""
    return text.replace("Inv as", "Stock as").replace("+Inv:", "+Stock:") \
        .replace(")Inv:", ")Stock:").replace("Inv-", "Stock-").replace("Reserve stock",
                                                                      "Hold stock")


def _add_method(user_file: Path, code: str) -> None:
    text = user_file.read_text(encoding="utf-8")
    assert "    pass\n" in text, user_file
    user_file.write_text(text.replace("    pass\n", code), encoding="utf-8")


@pytest.mark.engine
def test_faststream_hooks_moved_by_apply_renames_still_run(cli, tmp_path: Path,
                                                           faststream_python: Path) -> None:
    """A FastStream project (in-memory broker): after a participant id, a message and the
    package are renamed at once, --apply-renames moves the user's hooks and a run of the
    new package calls them."""
    out = tmp_path / "out"
    args = ("--target", "faststream", "--broker", "nats")
    assert _generate(cli, tmp_path, SAGA, *args, "--package", "flow").code == 0
    _add_method(out / "flow" / "services" / "inv.py",
                "    async def on_reserve_stock(self, ctx):\n"
                "        print('the user hook on the stock request')\n"
                "        return await super().on_reserve_stock(ctx)\n\n"
                "    def payload_stock_reserved(self, ctx):\n"
                "        print('the user payload of the reservation')\n"
                "        return super().payload_stock_reserved(ctx)\n")

    done = _generate(cli, tmp_path, _renamed_everything(SAGA), *args, "--package", "shop",
                     "--apply-renames")
    assert done.code == 0, done.err
    moved = (out / "shop" / "services" / "stock.py").read_text(encoding="utf-8")
    assert "async def on_hold_stock(self, ctx):" in moved
    ran = run([faststream_python, "-m", "shop"], out)
    assert ran.returncode == 0, ran.stderr
    assert "the user hook on the stock request" in ran.stdout, ran.stdout + ran.stderr
    assert "the user payload of the reservation" in ran.stdout


@pytest.mark.engine
def test_temporal_hooks_moved_by_apply_renames_still_run(cli, tmp_path: Path,
                                                         temporal_python: Path) -> None:
    """A Temporal project (the time-skipping test server): the workflow's hook and the
    activity's hook of a renamed participant and message, and the package, follow."""
    out = tmp_path / "out"
    args = ("--target", "temporal", "--style", "orchestration")
    source = tmp_path / "flow.mmd"
    source.write_text(ORCHESTRATED, encoding="utf-8")
    assert cli("generate", source, "--out", out, *args, "--package", "flow").code == 0
    _add_method(out / "flow" / "services" / "inv.py",
                "    def reply_reserve_stock(self, ctx):\n"
                "        print('the user activity reserving stock')\n"
                "        return super().reply_reserve_stock(ctx)\n")
    _add_method(out / "flow" / "workflow.py",
                "    def request_inv_reserve_stock(self, ctx):\n"
                "        print('the user workflow asking for stock')\n"
                "        return super().request_inv_reserve_stock(ctx)\n")
    source.write_text(_renamed_everything(ORCHESTRATED), encoding="utf-8")
    done = cli("generate", source, "--out", out, *args, "--package", "shop",
               "--apply-renames")
    assert done.code == 0, done.err
    assert "def reply_hold_stock(self, ctx):" in \
        (out / "shop" / "services" / "stock.py").read_text(encoding="utf-8")
    ran = run([temporal_python, "-m", "shop"], out, TEMPORAL_CLI_PATH="/nonexistent/temporal")
    assert ran.returncode == 0, ran.stderr
    assert "the user activity reserving stock" in ran.stdout, ran.stdout + ran.stderr
    assert "the user workflow asking for stock" in ran.stdout
