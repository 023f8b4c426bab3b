"""`mermaidgen generate` from the command line: exit codes, what reaches stdout and
stderr, and that no run, however wrong its input, ends in a Python traceback.

The commands run in-process through `mermaidgen.commands.cli._run` (what `main` runs, without the
`sys.exit`); a few run as a real process (`python -m mermaidgen`) to cover `main` too.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from projects import tree

from mermaidgen.codegen.write import output

PROJECT = Path(__file__).resolve().parents[1]
CHECKOUT = (PROJECT / "samples" / "checkout.mmd").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    """fsync matters only when the machine loses power, which no test here can cause;
    skipping it in this process keeps the suite fast (child processes still sync)."""
    monkeypatch.setattr(output.os, "fsync", lambda fd: None)


@pytest.fixture
def source(tmp_path) -> Path:
    path = tmp_path / "checkout.mmd"
    path.write_text(CHECKOUT, encoding="utf-8")
    return path


def counts(err: str) -> dict[str, int]:
    found = re.search(r"(\d+) created, (\d+) updated, (?:(\d+) replaced, )?(\d+) unchanged, "
                      r"(\d+) of yours kept", err)
    assert found, err
    names = ("created", "updated", "replaced", "unchanged", "kept")
    return {k: int(v or 0) for k, v in zip(names, found.groups(), strict=True)}


# --- exit codes --------------------------------------------------------------------------

def _foreign(tmp_path: Path) -> Path:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    return tmp_path / "out"


def _a_file(tmp_path: Path) -> Path:
    (tmp_path / "out").write_text("a file")
    return tmp_path / "out"


def _empty(tmp_path: Path) -> Path:
    return tmp_path / "out"


# id: (folder maker, extra arguments, exit code, what stderr says)
USAGE = {
    "missing-out": (None, [], 2, "--out DIR is required"),
    "unknown-style": (_empty, ["--style", "sideways"], 2, "Invalid value for '--style'"),
    "unknown-target": (_empty, ["--target", "cobol"], 2, "--target cobol: unknown target"),
    "broker-with-python": (_empty, ["--broker", "kafka"], 2,
                           "--broker applies to --target faststream only"),
    "package-with-dash": (_empty, ["--package", "order-service"], 2, "--package"),
    "package-escaping": (_empty, ["--package", "../evil"], 2, "--package"),
    "package-absolute": (_empty, ["--package", "/etc"], 2, "--package"),
    "package-keyword": (_empty, ["--package", "class"], 2,
                        "--package 'class': `class` is a Python keyword"),
    "templates-not-a-folder": (_empty, ["--templates", "no-such-folder"], 2,
                               "--templates no-such-folder: not a folder"),
    "out-is-a-file": (_a_file, [], 2, "exists and is not a folder"),
    "foreign-folder": (_foreign, [], 2, "not empty and mermaidgen did not create it"),
}


@pytest.mark.parametrize("make_out, extra, code, message", USAGE.values(), ids=USAGE.keys())
def test_usage_errors_exit_2_with_a_message_and_write_nothing(
        cli, source, tmp_path, make_out, extra, code, message):
    args = ["generate", source, *extra]
    if make_out is not None:
        args += ["--out", make_out(tmp_path)]
    before = tree(tmp_path)
    result = cli(*args)
    assert result.code == code
    assert message in result.err
    assert result.out == ""
    assert tree(tmp_path) == before


def test_a_missing_source_is_a_clear_error(cli, tmp_path):
    result = cli("generate", tmp_path / "nowhere.mmd", "--out", tmp_path / "out")
    assert result.code != 0
    assert "nowhere.mmd" in result.err and "no such file" in result.err
    assert not (tmp_path / "out").exists()


INVALID = {
    "no-header": "participant A\n    A->>B: hi\n",
    "bad-arrow": "sequenceDiagram\n    A-=>B: hi\n",
    "missing-text": "sequenceDiagram\n    A->>B hi\n",
    "unclosed-block": "sequenceDiagram\n    loop forever\n    A->>B: hi\n",
}


@pytest.mark.parametrize("text", INVALID.values(), ids=INVALID.keys())
def test_an_invalid_diagram_exits_1_and_writes_nothing(cli, tmp_path, text):
    path = tmp_path / "broken.mmd"
    path.write_text(text)
    result = cli("generate", path, "--out", tmp_path / "out")
    assert result.code == 1
    assert re.search(r"broken\.mmd:\d+:\d+", result.err), result.err
    assert "error" in result.err
    assert not (tmp_path / "out").exists()


# --- a normal run ------------------------------------------------------------------------

def test_generate_writes_the_skeleton_and_says_what_it_did(cli, source, tmp_path):
    out = tmp_path / "out"
    result = cli("generate", source, "--out", out)
    assert result.code == 0
    assert result.out == ""  # diagnostics go to stderr
    assert re.search(r"style: orchestration \(auto: .+\)", result.err)
    manifest = json.loads((out / output.MANIFEST).read_text())
    done = counts(result.err)
    assert done["created"] == len(manifest["files"])
    assert done["updated"] == done["unchanged"] == done["kept"] == 0
    assert f"run it: cd {out} && python -m checkout" in result.err
    assert (out / "checkout" / "services" / "payments.py").is_file()


def test_a_chosen_style_is_reported_as_chosen(cli, source, tmp_path):
    result = cli("generate", source, "--out", tmp_path / "out", "--style", "choreography")
    assert result.code == 0
    assert "style: choreography (chosen with --style)" in result.err


EVENTS = """sequenceDiagram
    participant Orders
    participant Billing
    Orders-)Billing: Order placed
    Billing-)Orders: Invoice sent
"""


def test_an_orchestrator_the_choreography_does_not_use_is_reported(cli, tmp_path):
    path = tmp_path / "events.mmd"
    path.write_text(EVENTS)
    result = cli("generate", path, "--out", tmp_path / "out", "--orchestrator", "Orders")
    assert result.code == 0
    assert "style: choreography" in result.err
    (note,) = [line for line in result.err.splitlines() if "--orchestrator" in line]
    assert "--orchestrator Orders: ignored" in note and "--style orchestration" in note


def test_an_orchestrator_with_a_chosen_choreography_is_reported(cli, source, tmp_path):
    result = cli("generate", source, "--out", tmp_path / "out", "--style", "choreography",
                 "--orchestrator", "Web")
    assert result.code == 0
    assert "--orchestrator Web: ignored" in result.err


def test_an_orchestrator_that_orchestrates_gets_no_note(cli, source, tmp_path):
    result = cli("generate", source, "--out", tmp_path / "out", "--orchestrator", "Web")
    assert result.code == 0
    assert "style: orchestration" in result.err and "ignored" not in result.err


@pytest.mark.parametrize("name", ["match", "case", "type"])
def test_a_soft_keyword_is_a_package_name(cli, source, tmp_path, name):
    """`match`, `case` and `type` are keywords only in some statements; `import match`
    works, so they are fine module names."""
    out = tmp_path / "out"
    result = cli("generate", source, "--out", out, "--package", name)
    assert result.code == 0, result.err
    assert (out / name / "__init__.py").is_file()


def test_an_empty_diagram_is_generated_with_a_warning(cli, tmp_path):
    path = tmp_path / "empty.mmd"
    path.write_text("sequenceDiagram\n    participant Web\n")
    result = cli("generate", path, "--out", tmp_path / "out")
    assert result.code == 0
    assert re.search(r"empty\.mmd:1:1: warning\[empty-diagram\]: .*no messages", result.err)
    checked = cli("check", path)
    assert "warning[empty-diagram]" in checked.err


def test_a_second_run_reports_everything_unchanged(cli, source, tmp_path):
    out = tmp_path / "out"
    first = counts(cli("generate", source, "--out", out).err)
    before = tree(out)
    result = cli("generate", source, "--out", out)
    assert result.code == 0
    done = counts(result.err)
    assert done["created"] == done["updated"] == 0
    assert done["unchanged"] + done["kept"] == first["created"]
    assert "run it" not in result.err
    assert tree(out) == before


def test_dry_run_lists_every_action_and_writes_nothing(cli, source, tmp_path):
    out = tmp_path / "out"
    result = cli("generate", source, "--out", out, "--dry-run")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines and all(re.fullmatch(r"create {4}\S+", line) for line in lines), lines
    assert "create    checkout/services/payments.py" in lines
    assert not out.exists()
    cli("generate", source, "--out", out)
    (out / "checkout" / "services" / "payments.py").write_text("# mine\n")
    before = tree(out)
    again = cli("generate", source.parent / "checkout.mmd", "--out", out, "--dry-run")
    assert "keep      checkout/services/payments.py" in again.out.splitlines()
    assert {line.split()[0] for line in again.out.splitlines()} == {"unchanged", "keep"}
    assert tree(out) == before


def test_diff_shows_a_unified_diff_and_writes_nothing(cli, source, tmp_path):
    out = tmp_path / "out"
    cli("generate", source, "--out", out)
    before = tree(out)
    assert cli("generate", source, "--out", out, "--diff").out == ""
    source.write_text(CHECKOUT.replace("Charge card", "Charge wallet"))
    result = cli("generate", source, "--out", out, "--diff")
    assert result.code == 0
    assert re.search(r"^--- a/checkout/_generated/\S+$", result.out, re.M)
    assert re.search(r"^\+\+\+ b/checkout/_generated/\S+$", result.out, re.M)
    assert re.search(r"^@@ .* @@", result.out, re.M)
    assert re.search(r"^-.*charge_card", result.out, re.M)
    assert re.search(r"^\+.*charge_wallet", result.out, re.M)
    assert tree(out) == before


# --- the user's work ---------------------------------------------------------------------

def test_user_files_are_kept(cli, source, tmp_path):
    out = tmp_path / "out"
    cli("generate", source, "--out", out)
    mine = out / "checkout" / "services" / "payments.py"
    mine.write_text(mine.read_text() + "# my business logic\n")
    expected = mine.read_bytes()
    source.write_text(CHECKOUT.replace("Charge card", "Charge wallet"))
    for extra in ([], ["--force"]):
        result = cli("generate", source, "--out", out, *extra)
        assert result.code == 0
        assert counts(result.err)["kept"] > 0
        assert mine.read_bytes() == expected


def test_a_hand_edited_generated_file_is_refused_then_replaced_with_force(
        cli, source, tmp_path):
    out = tmp_path / "out"
    cli("generate", source, "--out", out)
    edited = out / "checkout" / "_generated" / "wiring.py"
    edited.write_text(edited.read_text() + "# tuned by hand\n")
    before = tree(out)
    refused = cli("generate", source, "--out", out)
    assert refused.code == 1
    assert "edited by hand" in refused.err and "checkout/_generated/wiring.py" in refused.err
    assert tree(out) == before
    forced = cli("generate", source, "--out", out, "--force")
    assert forced.code == 0
    assert "replaced your edits in checkout/_generated/wiring.py" in forced.err
    assert counts(forced.err)["replaced"] == 1
    kept = out / ".mermaidgen" / "replaced" / "checkout" / "_generated" / "wiring.py"
    assert kept.read_text().endswith("# tuned by hand\n")
    assert "# tuned by hand" not in edited.read_text()


def test_force_writes_into_a_foreign_folder_and_keeps_its_files(cli, source, tmp_path):
    """Its files stay as they are, even one where a generated file would go (the user's
    own tests/test_contract.py): --force never overwrites what mermaidgen did not write."""
    out = _foreign(tmp_path)
    theirs = {"notes.txt": "mine", "pyproject.toml": "[project]\nname = 'mine'\n",
              "tests/test_contract.py": "# my own contract test\n"}
    for path, text in theirs.items():
        (out / path).parent.mkdir(exist_ok=True)
        (out / path).write_text(text)
    result = cli("generate", source, "--out", out, "--force")
    assert result.code == 0
    assert counts(result.err)["kept"] == 2
    assert (out / "checkout" / "_generated" / "wiring.py").is_file()
    again = cli("generate", source, "--out", out)  # now it is mermaidgen's folder
    assert again.code == 0
    dry = cli("generate", source, "--out", out, "--dry-run")
    assert "keep      tests/test_contract.py" in dry.out.splitlines()
    for path, text in theirs.items():
        assert (out / path).read_text() == text


def test_a_link_inside_the_folder_is_refused(cli, source, tmp_path):
    out = tmp_path / "out"
    cli("generate", source, "--out", out)
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(out / "checkout" / "_generated")
    (out / "checkout" / "_generated").symlink_to(outside, target_is_directory=True)
    result = cli("generate", source, "--out", out)
    assert result.code == 1
    assert "symbolic link" in result.err
    assert list(outside.iterdir()) == []


# --- reports: stale files and hooks, interrupted runs ------------------------------------

def test_files_no_longer_generated_are_reported(cli, source, tmp_path):
    out = tmp_path / "out"
    cli("generate", source, "--out", out)
    source.write_text(CHECKOUT.replace("Payments", "Billing").replace("Payment Service",
                                                                      "Billing Service"))
    result = cli("generate", source, "--out", out)
    assert result.code == 0
    assert re.search(r"checkout/services/payments\.py: no longer generated from the diagram",
                     result.err), result.err
    assert (out / "checkout" / "services" / "payments.py").is_file()
    assert (out / "checkout" / "services" / "billing.py").is_file()


def test_a_hook_whose_message_was_renamed_stops_then_follows(cli, source, tmp_path):
    """A renamed message renames its hook: generate stops with the rename to make (never
    exit 0 with the user's hook left uncalled), and --apply-renames makes it."""
    out = tmp_path / "out"
    cli("generate", source, "--out", out)
    mine = out / "checkout" / "services" / "payments.py"
    text = mine.read_text()
    assert "reply_charge_card" in text
    mine.write_text(text.replace("    pass\n", "    def reply_charge_card(self, request):\n"
                                 "        return super().reply_charge_card(request)\n"))
    edited = mine.read_text()
    source.write_text(CHECKOUT.replace("Charge card", "Charge wallet"))
    result = cli("generate", source, "--out", out)
    assert result.code == 1
    assert "checkout/services/payments.py: rename reply_charge_card -> reply_charge_wallet" \
        in result.err, result.err
    assert "--apply-renames" in result.err
    assert mine.read_text() == edited
    result = cli("generate", source, "--out", out, "--apply-renames")
    assert result.code == 0, result.err
    assert "def reply_charge_wallet(self, request):\n        return super()." \
        "reply_charge_wallet(request)" in mine.read_text()


def test_an_interrupted_run_is_undone_first(cli, source, tmp_path):
    """The state a killed run leaves (built by hand): one generated file already replaced,
    its backup and the journal. --dry-run refuses to read it; a real run puts it back and
    then writes."""
    out = tmp_path / "out"
    cli("generate", source, "--out", out)
    before = tree(out)
    wiring = out / "checkout" / "_generated" / "wiring.py"
    state = out / ".mermaidgen"
    (state / "backup" / "checkout" / "_generated").mkdir(parents=True)
    shutil.copy2(wiring, state / "backup" / "checkout" / "_generated" / "wiring.py")
    (state / "backup" / ".mermaidgen").mkdir()
    shutil.copy2(out / output.MANIFEST, state / "backup" / output.MANIFEST)
    wiring.write_text("half of a new run\n")
    (state / "journal.json").write_text(json.dumps({
        "paths": ["checkout/_generated/wiring.py", output.MANIFEST],
        "existed": ["checkout/_generated/wiring.py", output.MANIFEST], "dirs": []}))
    dry = cli("generate", source, "--out", out, "--dry-run")
    assert dry.code == 1
    assert "interrupted" in dry.err and dry.out == ""
    result = cli("generate", source, "--out", out)
    assert result.code == 0
    assert f"{out}: undid an interrupted earlier run" in result.err
    assert counts(result.err)["created"] == counts(result.err)["updated"] == 0
    assert tree(out) == before


def test_a_corrupt_manifest_is_a_clear_error(cli, source, tmp_path):
    out = tmp_path / "out"
    cli("generate", source, "--out", out)
    (out / output.MANIFEST).write_text('{"files": {"../x": 1}}')
    result = cli("generate", source, "--out", out)
    assert result.code == 1
    assert "not a mermaidgen manifest" in result.err


# --- as a real process -------------------------------------------------------------------

def _process(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mermaidgen", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_the_command_line_exits_with_the_codes_of_the_library(source, tmp_path):
    ok = _process("generate", source, "--out", "out", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "out" / "checkout" / "__main__.py").is_file()
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("mine")
    refused = _process("generate", source, "--out", "foreign", cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr
    broken = tmp_path / "broken.mmd"
    broken.write_text("sequenceDiagram\n    A->>B hi\n")
    invalid = _process("generate", broken, "--out", "other", cwd=tmp_path)
    assert invalid.returncode == 1
    for done in (ok, refused, invalid):
        assert "Traceback" not in done.stdout + done.stderr
