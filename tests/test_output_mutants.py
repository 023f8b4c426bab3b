"""What `--diff` shows and what a run into a folder that lost its manifest says, exactly.

Written for survivors of mutmut's first (partial) run over `output.py` (docs/mutation.md):
a user reads these texts to decide whether to let mermaidgen write, so every changed file
must be in the diff, each line as it is, and the plan must list what it does to each file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mermaidgen.codegen.write import output
from mermaidgen.codegen.write.output import Action, OutputError, Plan
from mermaidgen.codegen.write.render import RenderedFile


def gen(path: str, content: str, owner: str = "generated") -> RenderedFile:
    return RenderedFile(path, content, owner)


def test_diff_shows_every_changed_file_line_by_line(tmp_path):
    (tmp_path / "same.txt").write_text("same\n", encoding="utf-8")
    (tmp_path / "old.txt").write_bytes(b"one\n\xff two\nthree\n")  # not UTF-8: still shown
    files = {"same.txt": gen("same.txt", "same\n"),
             "old.txt": gen("old.txt", "one\nTWO\nthree\n"),
             "user.py": gen("user.py", "mine\n", "user"),
             "new.txt": gen("new.txt", "fresh\n")}
    actions = (Action("same.txt", "unchanged", "generated"),  # skipped, not the end
               Action("user.py", "keep", "user"),
               Action("old.txt", "update", "generated"),
               Action("new.txt", "create", "generated"))
    text = output.diff(Plan(tmp_path, actions, files, {}, False))
    assert text == ("--- a/old.txt\n+++ b/old.txt\n@@ -1,3 +1,3 @@\n one\n-\ufffd two\n"
                    "+TWO\n three\n"
                    "--- a/new.txt\n+++ b/new.txt\n@@ -0,0 +1 @@\n+fresh\n")


def test_the_plan_for_a_folder_that_lost_its_manifest(tmp_path):
    reclaimed = [f"pkg/m{i}.py" for i in range(9)]
    actions = (*(Action(q, "reclaim", "generated") for q in reclaimed),
               Action("pkg/hooks.py", "keep", "user"),
               Action("pkg/foreign.py", "keep", "generated"),
               Action("pkg/api.py", "conflict", "generated"))
    text = output.rebuild_plan(Plan(tmp_path, actions, {}, {}, False, rebuilt=True))
    assert text == (
        f"{tmp_path}: mermaidgen generated this folder, but its manifest "
        "(.mermaidgen/manifest.json) is missing, so each file is judged by its header:\n"
        "  9 file(s) carry mermaidgen's generated header, so are regenerated (the old "
        "copies are kept under .mermaidgen/replaced/): " + ", ".join(reclaimed[:8])
        + ", ...\n"
        "  1 file(s) are yours (mermaidgen creates them once, never overwrites them): "
        "kept as they are: pkg/hooks.py\n"
        "  1 file(s) sit where mermaidgen writes generated files but carry no mermaidgen "
        "header, so they may be yours: nothing is written until you decide: pkg/api.py\n"
        "Move those files away, or run again with --force to regenerate them too (your "
        "copies are kept under .mermaidgen/replaced/). Restoring the manifest (for "
        "example from version control) also works.")


def test_the_plan_lists_eight_files_in_full(tmp_path):
    reclaimed = [f"m{i}.py" for i in range(8)]
    actions = tuple(Action(q, "reclaim", "generated") for q in reclaimed)
    text = output.rebuild_plan(Plan(tmp_path, actions, {}, {}, False, rebuilt=True))
    assert text.endswith("): " + ", ".join(reclaimed))
    assert "Move those files" not in text


def test_a_folder_with_a_journal_says_how_to_go_on(tmp_path: Path):
    (tmp_path / ".mermaidgen").mkdir()
    (tmp_path / ".mermaidgen" / "journal.json").write_text("{}", encoding="utf-8")
    with pytest.raises(OutputError) as err:
        output.plan([gen("a.py", "a\n")], tmp_path, {})
    assert str(err.value) == (
        f"another mermaidgen is writing into {tmp_path}, or one was interrupted; run "
        "`mermaidgen generate` again (without --dry-run or --diff it first puts back the "
        "files of an interrupted run)")


GOOD_MANIFEST = {"mermaidgen_manifest": 2, "files": {"shop/a.py": {
    "owner": "generated", "sha256": "0" * 64}}, "package": "shop",
    "names": {"Order": "order"}, "orchestrator": "saga",
    "settings_of_yours": {"target": "python"}}

HOSTILE_MANIFESTS = {
    "package that is a path": {"package": "../x"},
    "names not a mapping": {"names": ["order"]},
    "name that is a path": {"names": {"Order": "../../etc/x"}},
    "orchestrator not a text": {"orchestrator": ["saga"]},
    "settings not a mapping": {"settings_of_yours": ["python"]},
    "setting not a text": {"settings_of_yours": {"target": 1}},
}


def _manifest_at(out: Path, data: dict) -> None:
    (out / ".mermaidgen").mkdir(parents=True, exist_ok=True)
    (out / ".mermaidgen" / "manifest.json").write_text(json.dumps(data), encoding="utf-8")


def test_a_well_formed_manifest_is_read(tmp_path):
    _manifest_at(tmp_path, GOOD_MANIFEST)
    assert output.read_manifest(tmp_path) == GOOD_MANIFEST


@pytest.mark.parametrize("change", HOSTILE_MANIFESTS.values(), ids=HOSTILE_MANIFESTS)
def test_a_manifest_whose_names_could_become_bad_paths_is_refused(tmp_path, change):
    """A cloned repository's manifest is hostile: its package and names become paths."""
    _manifest_at(tmp_path, {**GOOD_MANIFEST, **change})
    with pytest.raises(OutputError) as err:
        output.read_manifest(tmp_path)
    assert str(err.value).startswith(
        f"{tmp_path / '.mermaidgen' / 'manifest.json'}: not a mermaidgen manifest; ")


def test_hook_modules_are_found_in_every_package_and_never_through_links(tmp_path):
    away = tmp_path / "away"
    (away / "services").mkdir(parents=True)
    (away / "services" / "planted.py").write_text("", encoding="utf-8")
    out = tmp_path / "out"
    for package, modules in (("a", ["order", "stock"]), ("b", ["pay"])):
        (out / package / "services").mkdir(parents=True)
        for m in modules:
            (out / package / "services" / f"{m}.py").write_text("", encoding="utf-8")
        (out / package / "services" / "notes.txt").write_text("", encoding="utf-8")
    (out / "linked").symlink_to(away)  # a package that is a link
    (out / "c").mkdir()
    (out / "c" / "services").symlink_to(away / "services")  # services that is a link
    (out / "d").mkdir()  # a package without services
    (out / "e").mkdir()
    (out / "e" / "services").write_text("", encoding="utf-8")  # services that is a file
    (out / "top.txt").write_text("", encoding="utf-8")
    _manifest_at(out, GOOD_MANIFEST)
    pins = output.pins(out)
    assert pins.present == {"order", "stock", "pay"}
    assert pins.bound == {"Order": "order"} and pins.package == "shop"


COPIED_FIRST_LINE = '"""A trace checker copied verbatim into every package."""'


@pytest.mark.parametrize("current,rendered,carries", [
    (b"# Generated by mermaidgen 1.0 \r\nx = 1\n", "anything\n", True),
    (b"# Generated by mermaidgen", "", True),
    (b"  # Generated by mermaidgen\n", "# Generated by mermaidgen\n", False),  # indented
    (b"x = 1  # Generated by mermaidgen\n", "", False),
    (COPIED_FIRST_LINE.encode() + b"   \nold body\n", COPIED_FIRST_LINE + "\nnew\n", True),
    (b" " + COPIED_FIRST_LINE.encode() + b"\n", COPIED_FIRST_LINE + "\n", False),
    (b"import os  # twenty-nine char\n", "import os  # twenty-nine char\n", False),  # short
    (b"import os  # thirty characters\n", "import os  # thirty characters\n", True),
    (b"\xff# Generated by mermaidgen\n", "", False),
])
def test_which_files_count_as_written_by_mermaidgen(current, rendered, carries):
    """A folder that lost its manifest: only these files are regenerated, the rest kept."""
    assert output._carries_mark(current, rendered) is carries


def test_a_folder_counts_as_generated_only_by_its_generated_files(tmp_path):
    away = tmp_path / "away.py"
    away.write_text("# Generated by mermaidgen\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "hooks.py").write_text("# Generated by mermaidgen\n", encoding="utf-8")
    (out / "linked.py").symlink_to(away)
    files = [gen("hooks.py", "", "user"), gen("linked.py", ""), gen("gone.py", "")]
    assert output._rebuilding(files, out) is False  # a user file or a link proves nothing
    (out / "real.py").write_text("# Generated by mermaidgen x\n", encoding="utf-8")
    assert output._rebuilding([*files, gen("real.py", "")], out) is True


def test_pins_keep_the_names_and_package_of_the_last_run(tmp_path):
    out = tmp_path / "out"
    (out / "shop" / "services").mkdir(parents=True)
    (out / "shop" / "services" / "billing.py").write_text("", encoding="utf-8")
    _manifest_at(out, {**GOOD_MANIFEST, "package": "shop", "names": {"B": "billing"}})
    assert output.pins(out) == output.Pins({"B": "billing"}, frozenset({"billing"}), "shop")
    # the user's schema.py, up to its size limit (its classes keep their names)
    schema = out / "shop" / "schema.py"
    schema.write_text("class Order:\n    pass\n", encoding="utf-8")
    assert output.pins(out).schema == "class Order:\n    pass\n"
    schema.write_bytes(b"#" * output.SCHEMA_MAX_BYTES)
    assert output.pins(out).schema == "#" * output.SCHEMA_MAX_BYTES
    schema.write_bytes(b"#" * (output.SCHEMA_MAX_BYTES + 1))
    assert output.pins(out).schema is None
    schema.unlink()
    # a manifest from before names were kept still pins the package
    old = {k: v for k, v in GOOD_MANIFEST.items() if k != "names"}
    _manifest_at(out, {**old, "package": "shop"})
    assert output.pins(out) == output.Pins(package="shop")


def test_pins_are_never_read_through_a_link_or_from_nothing(tmp_path):
    real = tmp_path / "real"
    _manifest_at(real, {**GOOD_MANIFEST, "package": "shop"})
    assert output.pins(real) is not None
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    assert output.pins(link) is None
    assert output.pins(tmp_path / "nothing") is None


def test_plan_count_counts_one_kind():
    actions = (Action("a", "create", "generated"), Action("b", "create", "generated"),
               Action("c", "keep", "user"), Action("d", "update", "generated"))
    plan = Plan(Path("out"), actions, {}, {}, force=False)
    assert [plan.count(k) for k in ("create", "keep", "update", "conflict")] == [2, 1, 1, 0]


def test_the_manifest_is_written_one_key_a_line_sorted():
    """The manifest is committed with the skeleton: indented and sorted, a regeneration
    shows in a review as the few lines that changed, not one long line."""
    written = output._manifest_bytes({"package": "p", "files": {"b.py": {"sha256": "2"}}})
    assert written == (b'{\n  "files": {\n    "b.py": {\n      "sha256": "2"\n    }\n  },\n'
                       b'  "package": "p"\n}\n')


def test_a_manifest_says_its_version_and_lists_files_sorted():
    """The version decides how a later mermaidgen reads the manifest (a newer one is
    refused, an older one read as it was written)."""
    files = [gen("z.py", "z = 1\n"), gen("a.py", "a = 1\n", owner="user")]
    manifest = output.manifest_for(files, {"package": "p"})
    assert manifest["mermaidgen_manifest"] == output.MANIFEST_VERSION == 3
    assert list(manifest["files"]) == ["a.py", "z.py"]
    assert manifest["files"]["a.py"] == {"owner": "user", "sha256": output.sha256(b"a = 1\n")}
    assert manifest["package"] == "p"


def _written_once(out: Path) -> list[RenderedFile]:
    files = [gen("pkg/a.py", "a = 1\n"), gen("pkg/b.py", "b = 1\n"),
             gen("pkg/hooks.py", "mine = 1\n", "user")]
    output.write(output.plan(files, out, {"package": "pkg"}))
    return files


def test_the_refusals_name_the_files_and_the_way_out(tmp_path):
    """The two refusals a user meets most: files in the way, generated files edited."""
    out = tmp_path / "repo" / "services" / "out"  # its parents are made too
    files = _written_once(out)
    for name in ("a", "b"):  # edited by hand
        (out / f"pkg/{name}.py").write_text("edited\n", encoding="utf-8")
    with pytest.raises(OutputError) as err:
        output.write(output.plan(files, out, {"package": "pkg"}))
    assert str(err.value) == (
        "these generated files were edited by hand and would be overwritten: pkg/a.py, "
        "pkg/b.py. Move your changes into the user modules (the hooks), or use --force (the "
        "edited copies are kept under .mermaidgen/replaced/)")
    (out / "pkg/a.py").write_text("a = 1\n", encoding="utf-8")
    (out / "pkg/b.py").write_text("b = 1\n", encoding="utf-8")
    more = [*files, gen("pkg/c.py", "c = 1\n"), gen("pkg/d.py", "d = 1\n")]
    for name in ("c", "d"):  # in the way: not in the manifest
        (out / f"pkg/{name}.py").write_text("foreign\n", encoding="utf-8")
    with pytest.raises(OutputError) as err:
        output.write(output.plan(more, out, {"package": "pkg"}))
    assert str(err.value) == (
        "these files are in the way and mermaidgen did not write them: pkg/c.py, pkg/d.py. "
        "Move them away, or use --force to keep them as yours (they are then never "
        "overwritten)")
    assert (out / "pkg/c.py").read_text(encoding="utf-8") == "foreign\n"


def test_a_rename_is_written_only_from_the_files_it_was_computed_from(tmp_path):
    """`--apply-renames`: the user's file moves with the generated ones, its original
    kept; a file edited between the plan and the write is never replaced by an outdated
    copy."""
    out = tmp_path / "out"
    _written_once(out)
    hooks = (out / "pkg/hooks.py").read_bytes()
    moved = [gen("pkg/a.py", "a = 1\n"), gen("pkg/b.py", "b = 1\n"),
             gen("pkg/renamed.py", "mine = 1\n", "user")]
    migrated = {"pkg/hooks.py": None, "pkg/renamed.py": b"mine = 2\n"}
    read = {"pkg/hooks.py": output.sha256(hooks)}
    stale = output.plan(moved, out, {"package": "pkg"}, migrated=migrated, read=read)
    assert stale.actions[-2:] == (Action("pkg/renamed.py", "migrate", "user"),
                                  Action("pkg/hooks.py", "retire", "user"))
    (out / "pkg/hooks.py").write_bytes(b"mine = 3\n")  # edited meanwhile
    with pytest.raises(OutputError) as err:
        output.write(stale)
    assert str(err.value) == (
        f"{out} changed after this run looked at it (another mermaidgen wrote into it, or "
        "files were edited); nothing was written, run again")
    assert (out / "pkg/hooks.py").read_bytes() == b"mine = 3\n"
    assert not (out / "pkg/renamed.py").exists()
    (out / "pkg/hooks.py").write_bytes(hooks)
    now = output.plan(moved, out, {"package": "pkg"}, migrated=migrated, read=read)
    assert output.diff(now) == (  # --diff: the file taken away, the file it became
        "--- a/pkg/renamed.py\n+++ b/pkg/renamed.py\n@@ -0,0 +1 @@\n+mine = 2\n"
        "--- a/pkg/hooks.py\n+++ b/pkg/hooks.py\n@@ -1 +0,0 @@\n-mine = 1\n")
    output.write(now)
    assert (out / "pkg/renamed.py").read_bytes() == b"mine = 2\n"
    assert not (out / "pkg/hooks.py").exists()
    assert (out / ".mermaidgen/replaced/pkg/hooks.py").read_bytes() == hooks


def test_a_rename_takes_only_files_of_yours_out_and_old_files_are_reported(tmp_path):
    out = tmp_path / "out"
    files = _written_once(out)
    with pytest.raises(OutputError) as err:  # a generated file the new run writes too
        output.plan(files, out, {"package": "pkg"}, migrated={"pkg/a.py": None})
    assert str(err.value) == "pkg/a.py: a rename cannot move code of yours there"
    with pytest.raises(OutputError) as err:  # one it no longer writes: still not yours
        output.plan(files[1:], out, {"package": "pkg"}, migrated={"pkg/a.py": None})
    assert str(err.value) == ("pkg/a.py: a rename can only take a file of yours out of "
                              "the package")
    # files of the last run this one does not write: reported with their owner, kept
    left = output.plan(files[:1], out, {"package": "pkg"})
    assert left.actions == (Action("pkg/a.py", "unchanged", "generated"),
                            Action("pkg/b.py", "stale", "generated"),
                            Action("pkg/hooks.py", "stale", "user"))
    assert set(left.manifest["files"]) == {"pkg/a.py", "pkg/b.py", "pkg/hooks.py"}


def test_a_manifest_of_a_newer_mermaidgen_is_refused(tmp_path):
    _manifest_at(tmp_path, {**GOOD_MANIFEST, "mermaidgen_manifest": output.MANIFEST_VERSION + 1})
    with pytest.raises(OutputError) as err:
        output.read_manifest(tmp_path)
    assert str(err.value) == (
        f"{tmp_path / '.mermaidgen' / 'manifest.json'}: written by a newer mermaidgen "
        f"(manifest version {output.MANIFEST_VERSION + 1}); upgrade mermaidgen to generate "
        "into this folder")


def test_a_state_folder_that_is_a_link_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (out / ".mermaidgen").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OutputError) as err:
        output.plan([gen("a.py", "a\n")], out, {})
    assert str(err.value) == (f"{out / '.mermaidgen'} is a symbolic link, and mermaidgen "
                              "never writes through links; remove it")


def test_a_file_kept_with_force_stays_the_users(tmp_path):
    """--force keeps a file mermaidgen did not write as the user's: the next runs, without
    --force, keep it too, and the manifest goes on saying whose it is."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.py").write_text("mine\n", encoding="utf-8")
    files = [gen("a.py", "a = 1\n"), gen("b.py", "b = 1\n")]
    output.write(output.plan(files, out, {}, force=True))
    mine = {"owner": "user", "sha256": output.sha256(b"mine\n")}
    for _ in range(2):
        again = output.plan(files, out, {})
        assert again.actions == (Action("a.py", "keep", "generated"),
                                 Action("b.py", "unchanged", "generated"))
        assert again.manifest["files"]["a.py"] == mine
        output.write(again)
    assert (out / "a.py").read_text(encoding="utf-8") == "mine\n"
