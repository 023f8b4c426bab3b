"""Names that user code binds to survive edits of the diagram (issue 10, defect 6).

A participant's module (and so its class and its user file) is chosen once and kept in
the manifest: deleting `Order-Service` must not hand its module `order_service` to
`Order_Service`, whose code lives in `order_service_2.py`. A structural change the user's
code cannot follow (the orchestrator changes) stops with exit 1 and a plan, never exit 0
with the project left to crash on a missing base class.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from projects import run, tree

from mermaidgen.codegen.write import output

# `Order-Service` and `Order_Service` both make `order_service`: the second is numbered.
BOTH = """sequenceDiagram
    participant Client
    participant Order-Service
    participant Order_Service
    Client->>Order-Service: Place order
    Order-Service->>Order_Service: Order placed
    Order_Service->>Client: Order confirmed
"""
# ... and `Order-Service` deleted.
SURVIVOR = """sequenceDiagram
    participant Client
    participant Order_Service
    Client->>Order_Service: Order placed
    Order_Service->>Client: Order confirmed
"""
# ... and a new participant whose name collides again.
NEWCOMER = """sequenceDiagram
    participant Client
    participant Order_Service
    participant Order Service
    Client->>Order_Service: Order placed
    Order_Service->>Order Service: Order noted
    Order_Service->>Client: Order confirmed
"""

# An orchestration centred on Shop (it makes every call).
SHOP = """sequenceDiagram
    participant Shop
    participant Payments
    participant Stock
    Shop->>Payments: charge card
    Payments-->>Shop: charged
    Shop->>Stock: reserve items
    Stock-->>Shop: reserved
"""
# The same calls, but Payments is now named like the coordinator: the orchestrator moves.
COORDINATED = SHOP.replace("participant Payments",
                           "participant Payments as Payment Coordinator")


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    monkeypatch.setattr(output.os, "fsync", lambda fd: None)


def _generate(cli, tmp_path: Path, text: str, *args: object):
    source = tmp_path / "flow.mmd"
    source.write_text(text, encoding="utf-8")
    return cli("generate", source, "--out", tmp_path / "out", "--package", "shop", *args)


def _mark(user_file: Path, who: str) -> None:
    """Make a user module print `who` when its participant receives the order."""
    text = user_file.read_text(encoding="utf-8").replace(
        "    pass\n", f"    async def on_order_placed(self, ctx):\n        print({who!r})\n")
    user_file.write_text(text, encoding="utf-8")


def _names(out: Path) -> dict[str, str]:
    return json.loads((out / output.MANIFEST).read_text(encoding="utf-8"))["names"]


# --- deleting a participant --------------------------------------------------------------

def test_deleting_a_colliding_participant_keeps_the_survivor_on_its_own_module(cli, tmp_path):
    out = tmp_path / "out"
    assert _generate(cli, tmp_path, BOTH, "--style", "choreography").code == 0
    services = out / "shop" / "services"
    _mark(services / "order_service.py", "code of the deleted Order-Service")
    _mark(services / "order_service_2.py", "code of Order_Service")

    # the deleted participant's code would no longer run: a plan, nothing written
    before = tree(out)
    done = _generate(cli, tmp_path, SURVIVOR, "--style", "choreography")
    assert done.code == 1, done.err
    assert tree(out) == before
    assert "shop/services/order_service.py: `Order-Service` is no longer in the diagram" \
        in done.err
    # applied: that module is set aside, never rebound; the survivor keeps its own
    done = _generate(cli, tmp_path, SURVIVOR, "--style", "choreography", "--apply-renames")
    assert done.code == 0, done.err
    ran = run([sys.executable, "-m", "shop"], out)
    assert ran.returncode == 0, ran.stderr
    assert "code of Order_Service" in ran.stdout
    assert "code of the deleted Order-Service" not in ran.stdout
    assert _names(out)["Order_Service"] == "order_service_2"
    assert not (services / "order_service.py").exists()
    assert "code of the deleted Order-Service" in (
        out / ".mermaidgen" / "replaced" / "shop" / "services" / "order_service.py").read_text()


def test_a_new_participant_never_takes_a_name_still_bound_or_on_disk(cli, tmp_path):
    out = tmp_path / "out"
    _generate(cli, tmp_path, BOTH, "--style", "choreography")
    _generate(cli, tmp_path, SURVIVOR, "--style", "choreography")
    # order_service.py (the deleted participant's code) is still there: not handed out
    assert _generate(cli, tmp_path, NEWCOMER, "--style", "choreography").code == 0
    names = _names(out)
    assert names["Order_Service"] == "order_service_2"
    assert names["Order Service"] not in ("order_service", "order_service_2")
    newcomer = names["Order Service"]
    # once the user deletes that old module, its binding goes; the others never move
    (out / "shop" / "services" / "order_service.py").unlink()
    assert _generate(cli, tmp_path, NEWCOMER, "--style", "choreography").code == 0
    names = _names(out)
    assert "Order-Service" not in names
    assert (names["Order_Service"], names["Order Service"]) == ("order_service_2", newcomer)


def test_a_manifest_without_names_is_read_and_gets_them(cli, tmp_path):
    """Version 1 manifests (before names were kept) still work; names are added."""
    out = tmp_path / "out"
    _generate(cli, tmp_path, BOTH, "--style", "choreography")
    manifest = json.loads((out / output.MANIFEST).read_text(encoding="utf-8"))
    del manifest["names"]
    manifest["mermaidgen_manifest"] = 1
    (out / output.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    before = tree(out / "shop")
    done = _generate(cli, tmp_path, BOTH, "--style", "choreography")
    assert done.code == 0, done.err
    assert tree(out / "shop") == before
    saved = json.loads((out / output.MANIFEST).read_text(encoding="utf-8"))
    assert saved["mermaidgen_manifest"] == output.MANIFEST_VERSION
    assert saved["names"]["Order_Service"] == "order_service_2"


@pytest.mark.parametrize("name", ["../evil", "os.path", "Order", "class", "", 7,
                                  "a" * 200], ids=repr)
def test_hostile_names_in_a_manifest_are_refused(cli, tmp_path, name):
    """A cloned repository's manifest is hostile input: a name becomes a file path."""
    out = tmp_path / "out"
    _generate(cli, tmp_path, BOTH, "--style", "choreography")
    manifest = json.loads((out / output.MANIFEST).read_text(encoding="utf-8"))
    manifest["names"]["Order_Service"] = name
    (out / output.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    before = tree(out)
    done = _generate(cli, tmp_path, BOTH, "--style", "choreography")
    assert done.code == 1
    assert "not a mermaidgen manifest" in done.err
    assert tree(out) == before


# --- the orchestrator changes ------------------------------------------------------------

@pytest.mark.parametrize("change", ["option", "diagram"])
def test_a_changed_orchestrator_stops_with_a_plan(cli, tmp_path, change):
    out = tmp_path / "out"
    assert _generate(cli, tmp_path, SHOP).code == 0
    before = tree(out)
    if change == "option":
        done = _generate(cli, tmp_path, SHOP, "--orchestrator", "Payments")
    else:
        done = _generate(cli, tmp_path, COORDINATED)
    assert done.code == 1, done.err
    assert tree(out) == before  # nothing written
    assert "orchestrator changed from `Shop` to `Payments`" in done.err
    assert "shop/workflow.py" in done.err and "ShopWorkflowBase" in done.err
    assert "shop/services/payments.py" in done.err  # Payments' code would go unused
    assert "--orchestrator Shop" in done.err
    # the way out the plan offers: keep Shop ...
    kept = _generate(cli, tmp_path, COORDINATED if change == "diagram" else SHOP,
                     "--orchestrator", "Shop")
    assert kept.code == 0, kept.err
    # ... or let the workflow module be created anew for Payments
    (out / "shop" / "workflow.py").unlink()
    moved = _generate(cli, tmp_path, SHOP, "--orchestrator", "Payments")
    assert moved.code == 0, moved.err
    ran = run([sys.executable, "-m", "shop"], out)
    assert ran.returncode == 0, ran.stderr


def test_a_dry_run_shows_the_structure_problem(cli, tmp_path):
    _generate(cli, tmp_path, SHOP)
    done = _generate(cli, tmp_path, SHOP, "--orchestrator", "Payments", "--dry-run")
    assert done.code == 1
    assert "orchestrator changed" in done.err
    assert "update " in done.out or "unchanged " in done.out  # the actions are listed


def test_a_user_module_using_a_base_the_diagram_lost_stops_the_run(cli, tmp_path):
    """Any kept user module that would fail to import stops the run, not only workflows."""
    out = tmp_path / "out"
    _generate(cli, tmp_path, SHOP)
    stock = out / "shop" / "services" / "stock.py"
    stock.write_text(stock.read_text(encoding="utf-8")
                     + "\n\nclass Extra(wiring.GoneBase):\n    pass\n", encoding="utf-8")
    done = _generate(cli, tmp_path, SHOP)
    assert done.code == 1
    assert "shop/services/stock.py:" in done.err and "wiring.GoneBase" in done.err


def test_check_reports_a_structure_change_as_drift(cli, tmp_path, monkeypatch):
    (tmp_path / "mermaidgen.toml").write_text(
        '[[generate]]\nsource = "flow.mmd"\nout = "out"\npackage = "shop"\n',
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flow.mmd").write_text(SHOP, encoding="utf-8")
    assert cli("generate").code == 0
    assert cli("check", "flow.mmd").code == 0
    (tmp_path / "flow.mmd").write_text(COORDINATED, encoding="utf-8")
    done = cli("check", "flow.mmd")
    assert done.code == 1
    assert "shop/workflow.py" in done.err and "ShopWorkflowBase" in done.err
