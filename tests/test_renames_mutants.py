"""`codegen/write/renames.py` tested directly, fast enough to run for every mutant
(docs/mutation.md): what a rename of the diagram makes of the user's code, computed in
process on a folder generated once. The CLI-level scenarios, with the generated project
run, are in test_renames.py; these pin each decision and each text on its own: which
participant a renamed one became, which hook a renamed message's hook became, what is
rewritten in a user file and what is left alone, what a hostile manifest may not say.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
from pathlib import Path

import pytest

from mermaidgen.codegen.generate import build
from mermaidgen.codegen.write import output
from mermaidgen.codegen.write import renames as r
from mermaidgen.commands.cli import _run
from mermaidgen.mermaid.parser import parse

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
REPLACED = REMOVED.replace("    OS-)Client", "    OS-)Pay: Charge card\n    OS-)Client")
INV = "flow/services/inv.py"
SAGA_FILE = "flow/services/order_saga.py"
HOOK = ("    async def on_reserve_stock(self, ctx):\n        print('the user')\n"
        "        return await super().on_reserve_stock(ctx)\n")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SAGA generated once (package `flow`), with a hook of the user's in inv.py."""
    out = tmp_path_factory.mktemp("renames") / "out"
    source = out.parent / "flow.mmd"
    source.write_text(SAGA, encoding="utf-8")
    assert _run(["generate", str(source), "--out", str(out), "--style", "choreography"]) == 0
    inv = out / INV
    inv.write_text(inv.read_text(encoding="utf-8").replace("    pass\n", HOOK),
                   encoding="utf-8")
    return out


@pytest.fixture
def out(generated: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "out"
    shutil.copytree(generated, copy, symlinks=True)
    return copy


def _generation(text: str, package: str | None = None, out: Path | None = None):
    return build(parse(text, source="flow.mmd"), text, style="choreography",
                 package=package, source_name="flow.mmd",
                 pins=output.pins(out) if out is not None else None)


def _find(out: Path, text: str, package: str | None = None,
          previous: dict | None = None, pins: bool = True) -> r.Migration:
    """`pins=False`: as if the files on disk had not been seen when names were chosen
    (they are, so a new module never lands on a file; this is the case of one made
    between the two)."""
    manifest = output.read_manifest(out) if previous is None else previous
    return r.find(_generation(text, package, out if pins else None), out, manifest)


def _manifest(out: Path) -> dict:
    return json.loads((out / output.MANIFEST).read_text(encoding="utf-8"))


# --- the manifest's bindings and model: hostile input ------------------------------------

GOOD = {"bindings": {INV: {"participant": "Inv", "class": "Inv", "base": "InvBase",
                           "hooks": [["on_x", "handler", 3]]}},
        "model": {"participants": [["Inv", "Inventory"]], "messages": [["A", "B", "t"]]}}


def _with(path: tuple, value: object) -> dict:
    data = json.loads(json.dumps(GOOD))
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def test_recorded_bindings_of_the_right_shape_are_valid() -> None:
    assert r.valid(GOOD)
    assert r.valid({})  # a manifest before version 3 has neither
    assert r.valid({"bindings": {}, "model": {}})


@pytest.mark.parametrize("path, value", [
    (("bindings",), []),
    (("model",), []),
    (("bindings",), {"../x.py": GOOD["bindings"][INV]}),
    (("bindings", INV), "Inv"),
    (("bindings", INV, "participant"), 3),
    (("bindings", INV, "class"), "os.system"),
    (("bindings", INV, "base"), ""),
    (("bindings", INV, "hooks"), "on_x"),
    (("bindings", INV, "hooks"), ["on_x"]),
    (("bindings", INV, "hooks"), [["on_x", "handler"]]),
    (("bindings", INV, "hooks"), [["on_x", "handler", 3, 4]]),
    (("bindings", INV, "hooks"), [["on x", "handler", 3]]),
    (("bindings", INV, "hooks"), [["on_x", 1, 3]]),
    (("bindings", INV, "hooks"), [["on_x", "handler", "3"]]),
    (("model", "participants"), "Inv"),
    (("model", "participants"), [["Inv"]]),
    (("model", "participants"), [["Inv", "Inventory", "x"]]),
    (("model", "participants"), [("Inv", 2)]),
    (("model", "participants"), ["Inv"]),
    (("model", "messages"), [["A", "B"]]),
    (("model", "messages"), [["A", "B", None]]),
    (("model", "messages"), {"A": "B"}),
])
def test_bindings_of_any_other_shape_are_refused(path: tuple, value: object) -> None:
    assert not r.valid(_with(path, value))


@pytest.mark.parametrize("name, ok", [
    ("a", True), ("x" * 200, True), ("x" * 201, False), ("", False), ("é", False),
    ("a.b", False), ("1a", False), (None, False), (7, False), ("_", True)])
def test_identifiers_from_a_manifest(name: object, ok: bool) -> None:
    assert r._identifier(name) is ok


# --- what a plan says ----------------------------------------------------------------------

def test_a_plan_lists_each_step_and_how_to_apply_it(tmp_path: Path) -> None:
    moved = r.Edit("a/old.py", "a/new.py", (("Old", "New"), ("OldBase", "NewBase")),
                   ("on_gone",), "Old", "`Old` was renamed `New`")
    aside = r.Edit("a/gone.py", None, why="`Gone` is no longer in the diagram")
    migration = r.Migration((moved, aside))
    assert migration and not r.Migration()
    assert r.Migration(unclear=("x",))
    assert migration.plan(tmp_path).split("\n") == [
        f"{tmp_path}: the diagram's names changed, and code of yours would no longer be "
        "called, so nothing was written:",
        "  a/old.py -> a/new.py: `Old` was renamed `New`",
        "  a/new.py: rename Old -> New",
        "  a/new.py: rename OldBase -> NewBase",
        "  a/new.py: Old.on_gone customises a hook the diagram no longer has; it would be "
        "removed (the original file is kept under .mermaidgen/replaced/)",
        "  a/gone.py: `Gone` is no longer in the diagram; it would be set aside (to "
        ".mermaidgen/replaced/a/gone.py)",
        "Run again with --apply-renames to do exactly this (the files change together with "
        "the generated ones; every original is kept under .mermaidgen/replaced/), or do it "
        "by hand and run again."]


def test_a_plan_with_steps_for_the_user(tmp_path: Path) -> None:
    only = r.Migration(unclear=("x: you decide",)).plan(tmp_path).split("\n")
    assert only[1:] == ["  x: you decide", "Do the steps marked `you decide` by hand (or "
                        "change the diagram back), then run again."]
    both = r.Migration((r.Edit("a.py", "a.py", (("x", "y"),)),), ("z",)).plan(tmp_path)
    assert both.split("\n")[1:] == [
        "  a.py: rename x -> y", "  z", "Do the steps marked `you decide` by hand (or change "
        "the diagram back), then run again; --apply-renames then does the rest."]


def test_a_package_plan_says_how_to_keep_the_package(tmp_path: Path) -> None:
    ours = tuple(r.Edit(f"old/m{i}.py", None, generated=True) for i in range(5))
    mine = r.Edit("old/services/a.py", "new/services/a.py", why="moved")
    plan = r.Migration((mine, *ours), package=("old", "new")).plan(tmp_path).split("\n")
    assert plan == [
        f"{tmp_path}: this folder holds the package `old` (recorded in its manifest), and "
        "--package asks for `new`; your code in old/ would no longer run, so nothing was "
        "written. To keep the package: run again without --package, or with --package old. "
        "To move to `new`:",
        "  old/services/a.py -> new/services/a.py: moved",
        "  5 generated file(s) of the package `old` would be taken away (the new package "
        "has its own; copies kept under .mermaidgen/replaced/): old/m0.py, old/m1.py, "
        "old/m2.py, old/m3.py, ...",
        plan[-1]]
    four = r.Migration(ours[:4], package=("old", "new")).steps()
    assert four == ["4 generated file(s) of the package `old` would be taken away (the new "
                    "package has its own; copies kept under .mermaidgen/replaced/): "
                    "old/m0.py, old/m1.py, old/m2.py, old/m3.py"]
    # without a package move, mermaidgen's files are never listed as a step
    assert r.Migration(ours).steps() == []


# --- find: renames followed ------------------------------------------------------------------

def test_nothing_to_follow(out: Path) -> None:
    assert not _find(out, SAGA)
    assert r.find(_generation(SAGA), out, None) == r.Migration()
    assert r.find(_generation(SAGA), out, {}) == r.Migration()


def test_a_renamed_participant_moves_its_module(out: Path) -> None:
    found = _find(out, RENAMED_ID)
    [edit] = found.edits
    assert edit == r.Edit(INV, "flow/services/stock.py",
                          (("Inv", "Stock"), ("InvBase", "StockBase")), (), "Inv",
                          "`Inv` was renamed `Stock`")
    assert found.unclear == ()
    source = (out / INV).read_bytes()
    assert found.read == {INV: r._sha(source)}
    assert found.writes == {INV: None, "flow/services/stock.py": source.replace(
        b"class Inv(wiring.InvBase)", b"class Stock(wiring.StockBase)")}
    assert found.package is None


def test_a_renamed_participant_whose_new_module_exists_is_left_to_the_user(out: Path) -> None:
    (out / "flow/services/stock.py").write_text("X = 1\n", encoding="utf-8")
    assert _find(out, RENAMED_ID).edits[0].new == "flow/services/stock_2.py"
    found = _find(out, RENAMED_ID, pins=False)
    assert found.edits == ()
    assert found.unclear == (
        f"{INV} -> flow/services/stock.py: `Inv` was renamed `Stock`, and "
        "flow/services/stock.py exists already; you decide: merge your code from "
        f"{INV} into it (class Inv becomes Stock), then delete {INV}",)


def test_a_renamed_message_renames_the_hook(out: Path) -> None:
    found = _find(out, RENAMED_MESSAGE)
    [edit] = found.edits
    assert edit == r.Edit(INV, INV, (("on_reserve_stock", "on_hold_stock"),), (), "Inv", "")
    written = found.writes[INV] or b""
    assert b"    async def on_hold_stock(self, ctx):\n" in written
    assert b"return await super().on_hold_stock(ctx)" in written
    assert b"#   on_reserve_stock(ctx)" in written  # comments are not code
    assert written.count(b"on_reserve_stock") == 1


def test_a_removed_participant_is_set_aside_with_the_hooks_only_it_caused(out: Path) -> None:
    saga = out / SAGA_FILE
    saga.write_text(saga.read_text(encoding="utf-8").replace(
        "    pass\n", "    async def on_stock_reserved(self, ctx):\n        pass\n"),
        encoding="utf-8")
    found = _find(out, REMOVED)
    assert found.edits == (
        r.Edit(INV, None, why="`Inv` is no longer in the diagram, so nothing calls its code",
               class_name="Inv"),
        r.Edit(SAGA_FILE, SAGA_FILE, (), ("on_stock_reserved",), "OrderSaga", ""))
    assert found.writes[INV] is None
    assert b"def on_stock_reserved" not in (found.writes[SAGA_FILE] or b"")
    assert b"    pass\n" in (found.writes[SAGA_FILE] or b"")
    assert set(found.read) == {INV, SAGA_FILE}


def test_an_untouched_module_of_a_removed_participant_is_nobodys_code(out: Path) -> None:
    (out / INV).write_text((out / INV).read_text(encoding="utf-8").replace(HOOK, "    pass\n"),
                           encoding="utf-8")
    assert not _find(out, REMOVED)


def test_a_participant_replaced_by_an_unrelated_one_is_left_to_the_user(out: Path) -> None:
    found = _find(out, REPLACED)
    assert found.edits == ()
    assert found.unclear == (
        f"{INV}: `Inv` is no longer in the diagram, and nothing shows which new participant "
        "it became (`Pay` (flow/services/pay.py)); you decide: move its code to the new "
        "participant's module (class Inv becomes that module's class), or delete it",)


def test_a_user_file_that_is_not_python_is_not_followed(out: Path) -> None:
    (out / INV).write_text("def (:\n", encoding="utf-8")
    assert not _find(out, RENAMED_ID)
    assert not _find(out, RENAMED_MESSAGE)


def test_a_user_file_that_is_not_python_does_not_stop_the_others_being_followed(
        out: Path) -> None:
    # client.py comes before inv.py in the manifest: inv.py's hook is still followed
    (out / "flow/services/client.py").write_text("def (:\n", encoding="utf-8")
    [edit] = _find(out, RENAMED_MESSAGE).edits
    assert edit.old == INV and edit.names == (("on_reserve_stock", "on_hold_stock"),)


def test_a_user_file_that_cannot_be_rewritten_is_left_to_the_user(out: Path) -> None:
    # `class` and its name on two lines: the name is not where a rewrite looks for it
    (out / INV).write_text((out / INV).read_text(encoding="utf-8").replace(
        "class Inv(", "class \\\n    Inv("), encoding="utf-8")
    found = _find(out, RENAMED_ID)
    assert found.edits == () and found.writes == {} and found.read == {}
    [step] = found.unclear
    assert step.startswith(f"{INV}: cannot be rewritten safely (line ")
    assert step.endswith(f"cannot find the name Inv); you decide: {INV} -> "
                         "flow/services/stock.py: `Inv` was renamed `Stock`; "
                         "flow/services/stock.py: rename Inv -> Stock; flow/services/"
                         "stock.py: rename InvBase -> StockBase")


def test_a_user_file_deleted_meanwhile_is_not_followed(out: Path) -> None:
    migration = r._computed([r.Edit("flow/services/nothing.py", None)], [], out)
    assert migration == r.Migration()


def test_a_linked_user_file_is_never_read(out: Path, tmp_path: Path) -> None:
    decoy = tmp_path / "decoy.py"
    shutil.copy(out / INV, decoy)
    (out / INV).unlink()
    os.symlink(decoy, out / INV)
    assert r._read(out, INV) is None
    assert not _find(out, RENAMED_ID)
    assert r._read(out, "flow/services") is None  # a folder
    assert r._read(out, "flow/services/none.py") is None
    assert r._read(out, SAGA_FILE) == (out / SAGA_FILE).read_bytes()


# --- find: a manifest from before version 3 --------------------------------------------------

def _version_2(out: Path) -> dict:
    manifest = _manifest(out)
    del manifest["bindings"], manifest["model"]
    return {**manifest, "mermaidgen_manifest": 2}


def test_a_version_2_manifest_names_the_classes_it_made() -> None:
    previous = {"names": {"Inv": "inv", "OS": "order_saga", "Boss": "boss"},
                "orchestrator": "Boss"}
    assert r._recorded(previous, "flow") == {
        INV: {"participant": "Inv", "class": "Inv", "base": "InvBase", "hooks": None},
        SAGA_FILE: {"participant": "OS", "class": "OrderSaga", "base": "OrderSagaBase",
                    "hooks": None}}
    assert r._recorded({"bindings": {}, "names": {"Inv": "inv"}}, "p") == {
        "p/services/inv.py": {"participant": "Inv", "class": "Inv", "base": "InvBase",
                              "hooks": None}}
    assert r._recorded({"names": None}, "flow") == {}
    assert r._recorded({}, "flow") == {}


def test_a_version_2_manifest_leaves_a_renamed_hook_to_the_user(out: Path) -> None:
    found = _find(out, RENAMED_MESSAGE, previous=_version_2(out))
    assert found.edits == ()
    assert found.unclear == (
        f"{INV}: Inv.on_reserve_stock customises a hook the diagram no longer has, and this "
        "folder's manifest is too old to tell what it became; you decide: rename it to the "
        "new hook (see the base class), or delete it",)


@pytest.fixture(scope="module")
def orchestrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SAGA generated once as an orchestration (OS the orchestrator, in flow/workflow.py)."""
    out = tmp_path_factory.mktemp("orchestrated") / "out"
    source = out.parent / "flow.mmd"
    source.write_text(SAGA, encoding="utf-8")
    assert _run(["generate", str(source), "--out", str(out), "--style", "orchestration"]) == 0
    return out


def test_a_version_2_manifest_knows_the_orchestrator_was_there(orchestrated: Path,
                                                               tmp_path: Path) -> None:
    """A version 2 manifest records no class for the orchestrator, but names it: it did
    not arrive, so a participant removed with code of the user's is set aside, not left
    to the user as maybe having become the orchestrator."""
    out = tmp_path / "out"
    shutil.copytree(orchestrated, out, symlinks=True)
    with (out / INV).open("a", encoding="utf-8") as f:
        f.write("\n\ndef helper():\n    return 1\n")
    previous = _version_2(out)
    assert previous["orchestrator"] == "OS" and "OS" in previous["names"]
    now = build(parse(REMOVED, source="flow.mmd"), REMOVED, style="orchestration",
                source_name="flow.mmd", pins=output.pins(out))
    found = r.find(now, out, previous)
    assert found.unclear == ()
    assert found.edits == (r.Edit(INV, None, why="`Inv` is no longer in the diagram, so "
                                  "nothing calls its code", class_name="Inv"),)


def test_another_orchestrator_is_not_a_rename(orchestrated: Path) -> None:
    """The workflow module now belongs to another participant: not a renamed one (that
    case is user_code's), so nothing here follows it."""
    now = build(parse(SAGA, source="flow.mmd"), SAGA, style="orchestration",
                orchestrator="Inv", source_name="flow.mmd", pins=output.pins(orchestrated))
    assert now.bindings()["bindings"]["flow/workflow.py"]["participant"] == "Inv"
    found = r.find(now, orchestrated, output.read_manifest(orchestrated))
    assert "flow/workflow.py" not in [e.old for e in found.edits]


def test_a_version_2_manifest_pairs_no_participants(out: Path) -> None:
    found = _find(out, RENAMED_ID, previous=_version_2(out))
    assert found.edits == () and len(found.unclear) == 1
    assert "nothing shows which new participant it became (`Stock`" in found.unclear[0]


# --- which participant a renamed one became --------------------------------------------------

MODEL = {"participants": [["A", "Alpha"], ["B", "B"], ["C", "C"]],
         "messages": [["A", "C", "go"], ["C", "A", "done"], ["B", "C", "x"]]}


def _now(participants: list, messages: list) -> dict:
    return {"participants": participants, "messages": messages}


def test_a_participant_is_known_by_its_messages() -> None:
    now = _now([["Z", "Z"], ["C", "C"]], [["Z", "C", "go"], ["C", "Z", "done"]])
    assert r._renamed_participants(["A"], ["Z"], MODEL, now) == {"A": "Z"}
    # none of its messages, and another label: not the same one
    other = _now([["Z", "Zed"]], [["Z", "C", "other"]])
    assert r._renamed_participants(["A"], ["Z"], MODEL, other) == {}


def test_a_participant_is_known_by_its_label_but_not_by_a_repeated_id() -> None:
    assert r._renamed_participants(["A"], ["Z"], MODEL, _now([["Z", "Alpha"]], [])) == \
        {"A": "Z"}
    # B's label is only its id repeated: that a new one is labelled `B` proves nothing
    assert r._renamed_participants(["B"], ["Z"], MODEL, _now([["Z", "B"]], [])) == {}


def test_the_label_outweighs_messages() -> None:
    now = _now([["Y", "Alpha"], ["Z", "Z"]], [["Z", "C", "go"], ["C", "Z", "done"]])
    assert r._renamed_participants(["A"], ["Y", "Z"], MODEL, now) == {"A": "Y"}


def test_two_equal_candidates_pair_nothing() -> None:
    now = _now([["Y", "Y"], ["Z", "Z"]], [["Y", "C", "go"], ["Z", "C", "go"]])
    assert r._renamed_participants(["A"], ["Y", "Z"], MODEL, now) == {}
    # and one new participant that two old ones match equally
    both = {"participants": [["A", "A"], ["B", "B"]],
            "messages": [["A", "C", "go"], ["B", "C", "go"]]}
    assert r._renamed_participants(["A", "B"], ["Z"], both,
                                   _now([["Z", "Z"]], [["Z", "C", "go"]])) == {}


def test_the_better_match_wins_and_each_pairs_once() -> None:
    now = _now([["Y", "Y"], ["Z", "Z"]],
               [["Y", "C", "go"], ["Z", "C", "go"], ["C", "Z", "done"]])
    assert r._renamed_participants(["A"], ["Y", "Z"], MODEL, now) == {"A": "Z"}
    two = {"participants": [["A", "A"], ["B", "B"]],
           "messages": [["A", "C", "a"], ["B", "C", "b"]]}
    now = _now([["Y", "Y"], ["Z", "Z"]], [["Y", "C", "a"], ["Z", "C", "b"]])
    assert r._renamed_participants(["A", "B"], ["Y", "Z"], two, now) == {"A": "Y", "B": "Z"}


def test_each_message_counts_as_often_as_it_is_sent() -> None:
    old = {"participants": [], "messages": [["A", "C", "go"], ["A", "C", "go"]]}
    now = _now([], [["Y", "C", "go"], ["Z", "C", "go"], ["Z", "C", "go"]])
    assert r._renamed_participants(["A"], ["Y", "Z"], old, now) == {"A": "Z"}


def test_no_pairs_without_evidence_or_candidates() -> None:
    now = _now([["Z", "Alpha"]], [])
    assert r._renamed_participants([], ["Z"], MODEL, now) == {}
    assert r._renamed_participants(["A"], [], MODEL, now) == {}
    assert r._renamed_participants(["A"], ["Z"], None, now) == {}
    assert r._renamed_participants(["A"], ["Z"], {}, now) == {}
    assert r.MIN_SHARED_MESSAGES == 1


# --- which hook a renamed message's hook became ------------------------------------------

def _class(body: str, name: str = "Inv") -> ast.Module:
    return ast.parse(f"class {name}(wiring.{name}Base):\n{body}")


BEFORE = {"participant": "Inv", "class": "Inv", "base": "InvBase",
          "hooks": [["on_a", "handler", 4], ["payload_b", "payload", 5],
                    ["payload_c", "payload", 6]]}


def _after(*hooks: list, cls: str = "Inv") -> dict:
    return {"participant": "X", "class": cls, "base": f"{cls}Base", "hooks": list(hooks)}


def test_a_hook_follows_its_kind() -> None:
    tree = _class("    def on_a(self, ctx): ...\n    def payload_b(self, ctx): ...\n")
    unclear: list[str] = []
    edit = r._follow("o.py", "n.py", BEFORE, _after(["on_z", "handler", 4],
                     ["payload_b", "payload", 5], ["payload_c", "payload", 6]), tree, "w",
                     unclear)
    assert edit == r.Edit("o.py", "n.py", (("on_a", "on_z"),), (), "Inv", "w")
    assert unclear == []


def test_without_recorded_hooks_each_gone_hook_is_left_to_the_user() -> None:
    """A version 2 manifest kept no hooks: every method that customises a hook the diagram
    no longer has is a step for the user, not only the first."""
    tree = _class("    def on_a(self, ctx): ...\n    def payload_b(self, ctx): ...\n")
    unclear: list[str] = []
    edit = r._follow("o.py", "n.py", {**BEFORE, "hooks": None}, _after(["on_z", "handler", 4]),
                     tree, "w", unclear)
    assert edit == r.Edit("o.py", "n.py", (), (), "Inv", "w")
    assert [u.split(" customises")[0] for u in unclear] == ["n.py: Inv.on_a",
                                                            "n.py: Inv.payload_b"]


def test_the_class_and_base_follow_the_participant() -> None:
    edit = r._follow("o.py", "n.py", BEFORE, _after(cls="Stock"), _class("    pass\n"), "",
                     [])
    assert edit.names == (("Inv", "Stock"), ("InvBase", "StockBase"))
    base_only = {**_after(), "base": "OtherBase"}
    assert r._follow("o", "n", BEFORE, base_only, _class("    pass\n"), "", []).names == \
        (("InvBase", "OtherBase"),)


def test_two_candidates_of_a_kind_are_told_apart_by_the_line() -> None:
    tree = _class("    def payload_b(self, ctx): ...\n")
    edit = r._follow("o", "n", BEFORE, _after(["payload_x", "payload", 6],
                     ["payload_y", "payload", 5], ["on_a", "handler", 4]), tree, "", [])
    assert edit.names == (("payload_b", "payload_y"),)


def test_two_candidates_on_other_lines_are_left_to_the_user() -> None:
    tree = _class("    def payload_b(self, ctx): ...\n")
    unclear: list[str] = []
    edit = r._follow("o", "n.py", BEFORE, _after(["payload_x", "payload", 8],
                     ["payload_y", "payload", 9]), tree, "", unclear)
    assert edit.names == () and edit.retired == ()
    assert unclear == ["n.py: Inv.payload_b customises a hook the diagram no longer has; it "
                       "may have become any of payload_x, payload_y; you decide: rename it "
                       "to one of them, or delete it"]


def test_a_candidate_the_class_defines_already_is_no_candidate() -> None:
    tree = _class("    def payload_b(self, ctx): ...\n    def payload_x(self, ctx): ...\n")
    edit = r._follow("o", "n", BEFORE, _after(["payload_x", "payload", 5]), tree, "", [])
    assert edit.names == () and edit.retired == ("payload_b",)


def test_each_new_hook_is_taken_once() -> None:
    tree = _class("    def payload_b(self, ctx): ...\n    def payload_c(self, ctx): ...\n")
    unclear: list[str] = []
    edit = r._follow("o", "n", BEFORE, _after(["payload_x", "payload", 5]), tree, "",
                     unclear)
    assert edit.names == (("payload_b", "payload_x"),) and edit.retired == ("payload_c",)
    assert unclear == []


def test_methods_that_never_were_hooks_are_left_alone() -> None:
    tree = _class("    def helper(self): ...\n    def _private(self): ...\n"
                  "    def on_a(self, ctx): ...\n")
    edit = r._follow("o", "n", BEFORE, _after(["on_a", "handler", 4]), tree, "", [])
    assert edit.names == () and edit.retired == ()


def test_the_public_methods_of_the_class() -> None:
    tree = ast.parse("class Other:\n    def a(self): ...\n"
                     "class Inv:\n    x = 1\n    def b(self): ...\n"
                     "    async def c(self): ...\n    def _d(self): ...\n")
    assert r._methods(tree, "Inv") == ["b", "c"]
    assert r._methods(tree, "Missing") == []


# --- whose code a module holds --------------------------------------------------------------

@pytest.mark.parametrize("source, holds", [
    ('"""Doc."""\nfrom x import y\nimport z\nclass Inv(y):\n    """Doc."""\n    pass\n',
     False),
    ("class Inv:\n    pass\n    pass\n", False),
    ("class Inv:\n    def on_a(self): ...\n", True),
    ("class Inv:\n    x = 1\n", True),
    ("class Other:\n    pass\n", True),
    ("X = 1\nclass Inv:\n    pass\n", True),
    ("3\nclass Inv:\n    pass\n", True),
    ("class Inv:\n    pass\nX = 1\n", True),  # code after the untouched class counts too
    ("class Inv:\n    3\n", True),
    ("class Inv:\n    pass\nX = 1\n", True),  # code after the untouched class counts too
])
def test_what_counts_as_code_of_the_users(source: str, holds: bool) -> None:
    assert r._holds_code(ast.parse(source), "Inv") is holds


# --- rewriting a user file ---------------------------------------------------------------

USER = b'''"""Inv: your business logic (Inv is mentioned here and stays)."""
from .._generated import wiring


def on_reserve_stock():
    return "a function of the same name elsewhere, not a hook"


class Inv(wiring.InvBase):
    @staticmethod
    def helper(): return 1

    async  def on_reserve_stock(self, ctx):
        other.on_reserve_stock(ctx)
        self.on_reserve_stock
        return await super().on_reserve_stock(ctx)

    @decorated
    @twice
    def payload_gone(self, ctx):
        return 1

    def payload_gone_too(self, ctx): return 2


class Other(wiring.InvBase):
    def on_reserve_stock(self, ctx): ...
'''


def test_a_rewrite_changes_only_the_class_and_its_hooks() -> None:
    names = {"Inv": "Stock", "InvBase": "StockBase", "on_reserve_stock": "on_hold_stock"}
    done = r.rewrite(USER, "Inv", names, ("payload_gone", "payload_gone_too"))
    assert done == b'''"""Inv: your business logic (Inv is mentioned here and stays)."""
from .._generated import wiring


def on_reserve_stock():
    return "a function of the same name elsewhere, not a hook"


class Stock(wiring.StockBase):
    @staticmethod
    def helper(): return 1

    async  def on_hold_stock(self, ctx):
        other.on_reserve_stock(ctx)
        self.on_hold_stock
        return await super().on_hold_stock(ctx)




class Other(wiring.InvBase):
    def on_reserve_stock(self, ctx): ...
'''


def test_a_class_left_without_statements_gets_a_pass() -> None:
    source = b"class Inv:\n        def payload_gone(self): return 1\n"
    assert r.rewrite(source, "Inv", {}, ("payload_gone",)) == b"class Inv:\n        pass\n"
    # one method left: nothing added
    two = b"class Inv:\n    def a(self): ...\n    def b(self): ...\n"
    assert r.rewrite(two, "Inv", {}, ("b",)) == b"class Inv:\n    def a(self): ...\n"


def test_a_rewrite_without_changes_is_the_file() -> None:
    assert r.rewrite(USER, "Inv", {}, ()) == USER
    assert r.rewrite(USER, "Missing", {"Inv": "X"}, ("payload_gone",)) == USER


def test_a_name_written_where_the_tree_does_not_say_is_refused() -> None:
    with pytest.raises(r.RewriteError, match="line 1: cannot find the name Inv"):
        r.rewrite(b"class \\\n  Inv:\n    pass\n", "Inv", {"Inv": "X"}, ())
    with pytest.raises(r.RewriteError, match="line 2: cannot find the name a"):
        r.rewrite(b"class Inv:\n    def \\\n  a(self): ...\n", "Inv", {"a": "b"}, ())
    # `self .name`: the attribute is not right after its end column minus its length
    assert r.rewrite(b"class Inv:\n    def a(self):\n        self.  b\n", "Inv", {"b": "c"},
                     ()) == b"class Inv:\n    def a(self):\n        self.  c\n"
    # Python reads `self.\ufb01x` (a ligature) as `self.fix`: the text is not the name
    with pytest.raises(r.RewriteError, match="line 3: expected fix"):
        r.rewrite("class Inv:\n    def a(self):\n        self.\ufb01x\n".encode(), "Inv",
                  {"fix": "mend"}, ())
    assert r._parses(b"x = 1\n") and not r._parses(b"x = (\n")


def test_what_owns_an_attribute() -> None:
    def owner(text: str) -> str:
        node = ast.parse(text, mode="eval").body
        assert isinstance(node, ast.Attribute)
        return r._owner(node.value)

    assert owner("wiring.X") == "wiring" and owner("self.x") == "self"
    assert owner("super().x") == "super"
    assert owner("super(Inv, self).x") == "" and owner("a.b.x") == ""
    assert owner("f()().x") == "" and owner("'s'.x") == ""


def test_where_a_definition_names_itself() -> None:
    lines = [b"  async   def   name(self): ...\n", b"class Name: ...\n"]
    node = ast.parse("async   def   name(self): ...").body[0]
    node.lineno, node.col_offset = 1, 2
    assert r._defined_at(lines, node, "def", "name", "new") == (0, 16, "name", "new")
    with pytest.raises(r.RewriteError):
        r._defined_at(lines, node, "def", "nam", "new")  # a whole word only
    cls = ast.parse("class Name: ...").body[0]
    cls.lineno = 2
    assert r._defined_at(lines, cls, "class", "Name", "N") == (1, 6, "Name", "N")


# --- --package: the user's files move -------------------------------------------------------

def test_a_package_change_moves_every_file_of_the_users(out: Path) -> None:
    found = _find(out, SAGA, package="shop")
    assert found.package == ("flow", "shop")
    moves = {e.old: e.new for e in found.edits if not e.generated}
    assert moves == {f"flow/{rest}": f"shop/{rest}" for rest in (
        "services/inv.py", "services/order_saga.py", "services/client.py",
        "services/__init__.py", "schema.py")}
    assert all(e.why == "the package is now `shop` (--package)" for e in found.edits
               if not e.generated)
    ours = sorted(e.old for e in found.edits if e.generated)
    assert ours == sorted(p for p, i in _manifest(out)["files"].items()
                          if i["owner"] == "generated" and p.startswith("flow/"))
    assert all(found.writes[p] is None for p in ours)
    assert found.writes["shop/services/inv.py"] == (out / INV).read_bytes()
    assert found.unclear == ()


def test_a_package_change_and_a_rename_together(out: Path) -> None:
    found = _find(out, RENAMED_ID, package="shop")
    assert r.Edit(INV, "shop/services/stock.py", (("Inv", "Stock"), ("InvBase", "StockBase")),
                  (), "Inv", "`Inv` was renamed `Stock`") in found.edits
    # the renamed file's absolute imports of the old package follow the move too
    (out / INV).write_text((out / INV).read_text(encoding="utf-8").replace(
        "from .._generated import wiring", "from flow._generated import wiring"),
        encoding="utf-8")
    moved = _find(out, RENAMED_ID, package="shop").writes["shop/services/stock.py"] or b""
    assert b"from shop._generated import wiring\n" in moved
    assert b"class Stock(wiring.StockBase)" in moved and b"from flow" not in moved
    (out / "flow/services/stock.py").write_text("X = 1\n", encoding="utf-8")
    found = _find(out, RENAMED_ID, package="shop", pins=False)
    assert f"{INV} -> shop/services/stock.py: `Inv` was renamed `Stock`, and " \
        "flow/services/stock.py exists already" in found.unclear[0]
    assert not [u for u in found.unclear if u.startswith(f"{INV}: yours")]


def test_a_package_change_leaves_edited_and_unknown_files_to_the_user(out: Path) -> None:
    (out / "flow/_generated/app.py").write_text("# edited\n", encoding="utf-8")
    (out / "flow/helpers.py").write_text("X = 1\n", encoding="utf-8")
    (out / "flow/__pycache__").mkdir(exist_ok=True)
    (out / "flow/__pycache__/x.pyc").write_bytes(b"")
    manifest = _manifest(out)
    manifest["files"]["flow/extra.py"] = {"owner": "user", "sha256": "0"}
    (out / "flow/extra.py").write_text("Y = 1\n", encoding="utf-8")
    found = _find(out, SAGA, package="shop", previous=manifest)
    assert found.unclear == (
        "flow/_generated/app.py: a generated file of the package `flow`, edited by hand; "
        "you decide: move your changes into your modules, and delete it",
        "flow/extra.py: yours, and `shop` has no file of yours at shop/extra.py; you decide: "
        "move or delete it",
        "flow/helpers.py: in the package `flow`, and not written by mermaidgen; you decide: "
        "move it to shop/helpers.py (and change `flow.` imports of it), or delete it")


def test_a_package_folder_that_is_a_link_is_not_looked_into(out: Path, tmp_path: Path) -> None:
    move = r._Move("flow", "shop")
    shutil.move(out / "flow", tmp_path / "elsewhere")
    os.symlink(tmp_path / "elsewhere", out / "flow")
    assert move.rest(out, _manifest(out), set(), set(), []) == []


def test_the_move_of_a_path() -> None:
    move = r._Move.of({"package": "flow"}, "shop")
    assert move == r._Move("flow", "shop") and move
    assert move.to("flow/a.py") == "shop/a.py" and move.to("flowers/a.py") == "flowers/a.py"
    assert move.to("x/flow/a.py") == "x/flow/a.py"
    assert move.origin("shop/a.py") == "flow/a.py" and move.origin("shopx/a") == "shopx/a"
    assert move.why("shop/a.py") == "the package is now `shop` (--package)"
    assert move.why("flow/a.py") == ""
    stay = r._Move.of({"package": "shop"}, "shop")
    assert not stay and stay.to("shop/a.py") == "shop/a.py"
    assert not r._Move.of({}, "shop") and not r._Move.of({"package": 3}, "shop")
    assert r._Move().origin("shop/a.py") == "shop/a.py"


def test_imports_of_the_old_package_follow() -> None:
    source = (b"import flow\nimport flow.services.inv\nimport flowers, flow.x as fx\n"
              b"from flow import schema\nfrom flow.services import (\n    inv,\n)\n"
              b"from . import flow\nfrom .flow import z\nfrom flowers import y\n"
              b"print(flow.services.inv, flow, fx, flowers)\n")
    assert r.repackaged(source, "flow", "shop") == (
        b"import shop\nimport shop.services.inv\nimport flowers, shop.x as fx\n"
        b"from shop import schema\nfrom shop.services import (\n    inv,\n)\n"
        b"from . import flow\nfrom .flow import z\nfrom flowers import y\n"
        b"print(shop.services.inv, shop, fx, flowers)\n")


def test_a_name_bound_only_by_an_alias_is_not_the_package() -> None:
    source = b"import flow.x as fx\nflow = 1\nprint(flow, fx)\n"
    assert r.repackaged(source, "flow", "shop") == \
        b"import shop.x as fx\nflow = 1\nprint(flow, fx)\n"
    assert r.repackaged(b"x = 1\n", "flow", "shop") == b"x = 1\n"


def test_an_import_written_where_the_tree_does_not_say_is_refused() -> None:
    with pytest.raises(r.RewriteError, match="line 1: cannot find the name flow"):
        r.repackaged(b"from \\\n flow import x\n", "flow", "shop")
    with pytest.raises(r.RewriteError, match="line 1: expected flow"):
        r.repackaged("import \ufb02ow\n".encode(), "flow", "shop")


def test_several_imports_on_one_line_are_each_rewritten() -> None:
    """Names of another length: each rewrite on a line leaves the columns of the ones
    before it where the tree says."""
    source = b"import flow.a, flow.b; from flow import c; print(flow.a, flow.b)\n"
    assert r.repackaged(source, "flow", "commerce") == (
        b"import commerce.a, commerce.b; from commerce import c; "
        b"print(commerce.a, commerce.b)\n")


def test_hooks_after_one_that_stays_are_still_followed() -> None:
    """A class whose first methods are still hooks (or never were) has its later ones
    followed too: the search goes on past them."""
    tree = _class("    def helper(self): ...\n    def payload_b(self, ctx): ...\n"
                  "    def on_a(self, ctx): ...\n")
    edit = r._follow("o", "n", BEFORE, _after(["payload_b", "payload", 5],
                     ["on_z", "handler", 4]), tree, "", [])
    assert edit.names == (("on_a", "on_z"),)
