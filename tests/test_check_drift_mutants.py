"""Drift as `check.drift` reports it, tested directly (written for the mutants mutation
testing left alive, docs/mutation.md): the one-line summary CI prints and the per-file
first differing line that becomes an annotation. Each kind of drift is one a user relies
on `mermaidgen check` to catch before a stale skeleton is merged: the diagram changed, a
generated file edited, deleted or added, the manifest gone, a hook file the new code
cannot load."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from mermaidgen.commands import check_run as check
from mermaidgen.commands.cli import _run
from mermaidgen.commands.config import Generation
from mermaidgen.commands.config import load as load_config
from mermaidgen.errors import MermaidgenError

DIAGRAM = """sequenceDiagram
    participant Orders
    participant Billing
    Orders->>Billing: Invoice
    Billing-->>Orders: Invoiced
"""
OUT = "services/orders"
SPEC = "design/orders.mmd"
WIRING = "orders/_generated/wiring.py"
# the files mermaidgen owns in this skeleton, in the order drift lists them
OWNED = ["orders/__init__.py", "orders/__main__.py", "orders/_generated/__init__.py",
         "orders/_generated/runtime.py", "orders/_generated/diagram.py",
         "orders/_generated/events.py", "orders/_generated/bus.py", WIRING,
         "orders/_generated/app.py", "orders/_generated/keys.py",
         *(f"orders/_generated/checker/{m}.py"
           for m in ("__init__", "data", "sagas", "program", "search", "verdict")),
         "tests/test_contract.py"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository with one configured generation, generated once for the module."""
    root = tmp_path_factory.mktemp("drift") / "repo"
    (root / "design").mkdir(parents=True)
    (root / SPEC).write_text(DIAGRAM, encoding="utf-8")
    (root / "mermaidgen.toml").write_text(
        f'[[generate]]\nsource = "{SPEC}"\nout = "{OUT}"\nstyle = "choreography"\n'
        'package = "orders"\n', encoding="utf-8")
    here = Path.cwd()
    try:
        os.chdir(root)
        assert _run(["generate"]) == 0
    finally:
        os.chdir(here)
    return root


@pytest.fixture
def repo(generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(generated, root, symlinks=True)
    monkeypatch.chdir(root)
    return root


def _generation(root: Path) -> Generation:
    [generation] = load_config(root / "mermaidgen.toml").generations
    return generation


def _drift(root: Path) -> check.Drift | None:
    return check.drift(_generation(root))


def _listed(summary: str, after: str) -> list[str]:
    """The names in the parentheses that follow `after` in a summary."""
    start = summary.index(after) + len(after)
    assert summary[start] == "("
    return summary[start + 1:summary.index(")", start)].split(", ")


def test_an_up_to_date_folder_is_no_drift(repo: Path) -> None:
    assert _drift(repo) is None
    report = check.run([], [_generation(repo)])
    assert report.drift == [] and not report.failed(strict=True)


def test_a_folder_never_generated(repo: Path) -> None:
    shutil.rmtree(repo / OUT)
    found = _drift(repo)
    assert found == check.Drift(f"{repo / OUT}: not generated yet; run `mermaidgen generate`")
    assert found.files == () and found.config is None


def test_an_edited_generated_file_points_at_its_first_changed_line(repo: Path) -> None:
    wiring = repo / OUT / WIRING
    lines = wiring.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = "# changed by hand\n"
    wiring.write_text("".join(lines), encoding="utf-8")
    found = _drift(repo)
    out = repo / OUT
    assert found.summary == (f"{out}: 1 generated file(s) no longer match the diagram "
                             f"({WIRING}); regenerate from {repo / SPEC}")
    assert found.files == ((out / WIRING, 3),)


def test_lines_added_or_cut_at_the_end_point_at_the_end(repo: Path) -> None:
    out = repo / OUT
    wiring, app = out / WIRING, out / "orders/_generated/app.py"
    wiring_lines = wiring.read_text(encoding="utf-8").count("\n")
    app_lines = app.read_text(encoding="utf-8").splitlines(keepends=True)
    wiring.write_text(wiring.read_text(encoding="utf-8") + "# one more\n# and another\n",
                      encoding="utf-8")
    app.write_text("".join(app_lines[:4]), encoding="utf-8")
    found = _drift(repo)
    # the first line past the generated text; for a cut file, its last line
    assert dict(found.files) == {wiring: wiring_lines + 1, app: 4}
    app.write_text("", encoding="utf-8")
    assert dict(_drift(repo).files)[app] == 1


def test_a_changed_diagram_names_the_files_and_the_source(repo: Path) -> None:
    (repo / SPEC).write_text(DIAGRAM + "    Orders->>Billing: Refund\n", encoding="utf-8")
    found = _drift(repo)
    out = repo / OUT
    assert found.summary.startswith(f"{out}: ")
    assert found.summary.endswith(f"; regenerate from {repo / SPEC}")
    changed = _listed(found.summary, "generated file(s) no longer match the diagram ")
    assert WIRING in changed
    for path, line in found.files:
        assert path.is_file() and line >= 1


def test_more_than_five_changed_files_are_cut(repo: Path) -> None:
    out = repo / OUT
    for rel in OWNED[:7]:
        (out / rel).write_text("# replaced\n", encoding="utf-8")
    found = _drift(repo)
    assert found.summary.startswith(f"{out}: 7 generated file(s) no longer match the diagram (")
    assert _listed(found.summary, "no longer match the diagram ") == [*OWNED[:5], "..."]
    assert [(p, n) for p, n in found.files] == [(out / rel, 1) for rel in OWNED[:7]]


def test_deleted_generated_files_are_missing(repo: Path) -> None:
    out = repo / OUT
    (out / WIRING).unlink()
    found = _drift(repo)
    assert found.summary == f"{out}: 1 missing ({WIRING}); regenerate from {repo / SPEC}"
    assert found.files == ((out / WIRING, 0),)
    for rel in OWNED[:6]:
        (out / rel).unlink()
    assert WIRING not in OWNED[:6]
    found = _drift(repo)
    assert found.summary.startswith(f"{out}: 7 missing (")
    assert _listed(found.summary, "7 missing ") == [*OWNED[:5], "..."]
    assert sorted(found.files) == sorted((out / rel, 0) for rel in [*OWNED[:6], WIRING])


def test_files_added_where_only_generated_files_live(repo: Path) -> None:
    out = repo / OUT
    added = ["orders/_generated/a_patch.py", "orders/_generated/deeper/more.py"]
    (out / "orders/_generated/deeper").mkdir()
    for rel in added:
        (out / rel).write_text("PATCHED = True\n", encoding="utf-8")
    found = _drift(repo)
    # nothing to regenerate: the way out is to move them
    assert found.summary == (f"{out}: 2 not generated, in a folder mermaidgen rewrites "
                             f"({', '.join(added)}): move them out or delete them")
    assert found.files == tuple((out / rel, 0) for rel in added)
    for n in range(5):
        (out / f"orders/_generated/b{n}.py").write_text("", encoding="utf-8")
    found = _drift(repo)
    assert _listed(found.summary, "7 not generated, in a folder mermaidgen rewrites ") == [
        "orders/_generated/a_patch.py", *(f"orders/_generated/b{n}.py" for n in range(4)),
        "..."]
    assert len(found.files) == 7


def test_bytecode_caches_and_user_folders_are_not_drift(repo: Path) -> None:
    out = repo / OUT
    for folder in ("orders/_generated/__pycache__", "orders/_generated/deeper/__pycache__"):
        (out / folder).mkdir(parents=True)
        (out / folder / "x.cpython-311.pyc").write_bytes(b"\0")
    (out / "orders/services/helpers.py").write_text("X = 1\n", encoding="utf-8")
    (out / "orders/notes.txt").write_text("mine\n", encoding="utf-8")
    assert _drift(repo) is None


def test_a_missing_manifest_is_drift_even_when_every_file_matches(repo: Path) -> None:
    out = repo / OUT
    (out / ".mermaidgen" / "manifest.json").unlink()
    found = _drift(repo)
    assert found.summary == (f"{out}: no manifest (.mermaidgen/manifest.json); "
                             f"regenerate from {repo / SPEC}")
    assert found.files == ()


def test_every_kind_at_once_in_a_fixed_order(repo: Path) -> None:
    out = repo / OUT
    (out / ".mermaidgen" / "manifest.json").unlink()
    (out / WIRING).write_text("# mine now\n", encoding="utf-8")
    (out / "orders/_generated/keys.py").unlink()
    (out / "orders/_generated/extra.py").write_text("", encoding="utf-8")
    summary = _drift(repo).summary
    assert summary == (
        f"{out}: no manifest (.mermaidgen/manifest.json); "
        f"1 generated file(s) no longer match the diagram ({WIRING}); "
        "1 missing (orders/_generated/keys.py); "
        "1 not generated, in a folder mermaidgen rewrites (orders/_generated/extra.py): "
        f"move them out or delete them; regenerate from {repo / SPEC}")


def test_an_edited_file_that_keeps_its_header_is_drift_without_a_manifest(repo: Path) -> None:
    """Without a manifest, a file is judged by its header: an edited generated file that
    still carries it is regenerated, so it is listed as not matching the diagram."""
    out = repo / OUT
    (out / ".mermaidgen" / "manifest.json").unlink()
    wiring = out / WIRING
    wiring.write_text(wiring.read_text(encoding="utf-8") + "# added by hand\n",
                      encoding="utf-8")
    found = _drift(repo)
    assert found.summary == (f"{out}: no manifest (.mermaidgen/manifest.json); "
                             f"1 generated file(s) no longer match the diagram ({WIRING}); "
                             f"regenerate from {repo / SPEC}")
    assert [p for p, _ in found.files] == [wiring]


def test_six_files_are_cut(repo: Path) -> None:
    out = repo / OUT
    for rel in OWNED[:6]:
        (out / rel).write_text("# replaced\n", encoding="utf-8")
    for rel in OWNED[6:12]:
        (out / rel).unlink()
    for n in range(6):
        (out / f"orders/_generated/b{n}.py").write_text("", encoding="utf-8")
    summary = _drift(repo).summary
    assert _listed(summary, "6 generated file(s) no longer match the diagram ") == [
        *OWNED[:5], "..."]
    assert _listed(summary, "6 missing ") == [*OWNED[6:11], "..."]
    assert _listed(summary, "6 not generated, in a folder mermaidgen rewrites ") == [
        *(f"orders/_generated/b{n}.py" for n in range(5)), "..."]


def test_drift_prints_nothing_of_its_own(repo: Path, capsys: pytest.CaptureFixture) -> None:
    """The diagram's warnings are `check`'s findings (linted once, with their file and
    line); regenerating it to compare must not print them a second time."""
    (repo / SPEC).write_text(DIAGRAM + "    links Orders: not json\n", encoding="utf-8")
    report = check.run([repo / SPEC], [_generation(repo)])
    assert [f.code for f in report.findings] == ["ignored-json"]
    assert capsys.readouterr().err == ""


def test_a_hook_file_without_its_class_is_drift(repo: Path) -> None:
    out = repo / OUT
    (out / "orders/services/billing.py").write_text("X = 1\n", encoding="utf-8")
    found = _drift(repo)
    assert found is not None and found.summary.startswith(f"{out}: ")
    assert "orders/services/billing.py" in found.summary
    assert "regenerate from" not in found.summary  # regenerating does not fix a user file
    assert found.files == ()


def test_a_diagram_that_no_longer_parses_is_reported_not_raised(repo: Path) -> None:
    (repo / SPEC).write_text("sequenceDiagram\n    Orders->>Billing Invoice\n",
                             encoding="utf-8")
    generation = _generation(repo)
    with pytest.raises(MermaidgenError):
        check.drift(generation)
    config = repo / "mermaidgen.toml"
    report = check.run([], [generation], config=config)
    [found] = report.drift
    assert found.summary.startswith(f"{generation.out}: cannot regenerate from "
                                    f"{generation.spec}: ")
    assert found.config == config and report.failed(strict=False)


def test_drift_found_by_run_names_the_configuration(repo: Path) -> None:
    (repo / OUT / WIRING).unlink()
    config = repo / "mermaidgen.toml"
    report = check.run([], [_generation(repo), _generation(repo)], config=config)
    assert len(report.drift) == 2
    assert all(d.config == config and "1 missing" in d.summary for d in report.drift)
    assert report.failed(strict=False)


def test_run_reports_progress_per_file(repo: Path) -> None:
    seen: list[int] = []
    files = [repo / SPEC, repo / SPEC]
    report = check.run(files, progress=seen.append)
    assert seen == [1, 2] and report.files == 2 and report.diagrams == 2


def test_names_kept_from_earlier_runs_are_not_drift(repo: Path) -> None:
    """`Order-Service` and `Order_Service` share a base name; after the first is deleted
    and the folder regenerated, the second keeps `order_service_2` (the manifest's pins).
    Checking without those pins would expect `order_service` and call it drift."""
    both = ("sequenceDiagram\n    participant Client\n    participant Order-Service\n"
            "    participant Order_Service\n    Client->>Order-Service: Place order\n"
            "    Order-Service->>Order_Service: Order placed\n"
            "    Order_Service->>Client: Order confirmed\n")
    survivor = ("sequenceDiagram\n    participant Client\n    participant Order_Service\n"
                "    Client->>Order_Service: Order placed\n"
                "    Order_Service->>Client: Order confirmed\n")
    (repo / SPEC).write_text(both, encoding="utf-8")
    assert _run(["generate"]) == 0
    (repo / SPEC).write_text(survivor, encoding="utf-8")
    assert _run(["generate"]) == 0
    assert (repo / OUT / "orders/services/order_service_2.py").is_file()
    assert _drift(repo) is None


def test_a_broker_setting_is_part_of_what_is_compared(repo: Path) -> None:
    shutil.rmtree(repo / OUT)  # (a new target leaves the old one's modules: that is drift)
    (repo / "mermaidgen.toml").write_text(
        f'[[generate]]\nsource = "{SPEC}"\nout = "{OUT}"\nstyle = "choreography"\n'
        'package = "orders"\ntarget = "faststream"\nbroker = "redis"\n', encoding="utf-8")
    assert _run(["generate"]) == 0
    generation = _generation(repo)
    assert generation.broker == "redis"
    assert check.drift(generation) is None
    # the same folder checked as if it were for another broker is out of date
    assert check.drift(replace(generation, broker="kafka")) is not None


def test_the_source_name_in_generated_headers_is_the_configured_one(repo: Path) -> None:
    generation = _generation(repo)
    assert generation.shown == SPEC
    assert check.drift(generation) is None
    # an unnamed source would be written differently in the generated headers
    assert check.drift(replace(generation, shown="")) is not None


def test_a_generated_file_that_is_not_utf8_is_drift_not_a_crash(repo: Path) -> None:
    wiring = repo / OUT / WIRING
    lines = wiring.read_bytes().splitlines(keepends=True)
    lines[1] = b"\xff\xfe not text\n"
    wiring.write_bytes(b"".join(lines))
    found = _drift(repo)
    assert found.files == ((repo / OUT / WIRING, 2),)


def test_a_generated_file_replaced_by_a_folder_is_reported_not_raised(repo: Path) -> None:
    wiring = repo / OUT / WIRING
    wiring.unlink()
    wiring.mkdir()
    [found] = check.run([], [_generation(repo)]).drift
    assert found.summary.startswith(f"{repo / OUT}: cannot regenerate from ")
    assert found.summary.endswith(f"{wiring}: exists and is not a file")


def test_a_file_gone_before_it_is_compared_has_no_line_to_point_at(tmp_path: Path) -> None:
    # (between the plan and the comparison, or unreadable: the file is still listed)
    assert check._first_difference(tmp_path / "gone.py", "x = 1\n") == 0


@pytest.mark.parametrize(("severity", "plain", "strict"), [
    ("error", True, True), ("warning", False, True), ("info", False, False)])
def test_what_fails_a_check(severity: str, plain: bool, strict: bool) -> None:
    report = check.Report(findings=[check.Finding("a.mmd", 2, 1, severity, "x", "y")])
    assert report.failed(strict=False) is plain
    assert report.failed(strict=True) is strict
    clean = check.Report(findings=[check.Finding("a.mmd", 2, 1, "info", "x", "y")])
    clean.drift.append(check.Drift("out: 1 missing (a.py)"))
    assert clean.failed(strict=False) and clean.failed(strict=True)


def test_every_setting_of_the_generation_is_part_of_what_is_compared(repo: Path) -> None:
    """A package, orchestrator and templates that are not the defaults: the folder
    generated with them is up to date, and the same folder checked as if one of them were
    left to its default is not (check regenerates exactly what generate wrote)."""
    shutil.rmtree(repo / OUT)
    (repo / "ours").mkdir()
    (repo / "ours" / "_header.jinja").write_text(
        "# Generated by {{ generator }} from {{ source_comment }}. Do not edit.\n"
        "# Copyright Example Corp.\n", encoding="utf-8")
    (repo / "mermaidgen.toml").write_text(
        f'[[generate]]\nsource = "{SPEC}"\nout = "{OUT}"\nstyle = "orchestration"\n'
        'package = "shop"\norchestrator = "Billing"\ntemplates = "ours"\n', encoding="utf-8")
    assert _run(["generate"]) == 0
    generation = _generation(repo)
    assert (generation.package, generation.orchestrator) == ("shop", "Billing")
    assert "Copyright Example Corp." in (repo / OUT / "shop/__main__.py").read_text("utf-8")
    assert check.drift(generation) is None
    for default in ({"orchestrator": None}, {"templates": None}):
        assert check.drift(replace(generation, **default)) is not None, default
    # the package is also kept by the manifest (a run without one keeps the last run's):
    # without the manifest, only the configured package names the same files
    (repo / OUT / ".mermaidgen" / "manifest.json").unlink()
    lost = (f"{repo / OUT}: no manifest (.mermaidgen/manifest.json); "
            f"regenerate from {repo / SPEC}")
    assert check.drift(generation).summary == lost
    assert check.drift(replace(generation, package=None)).summary != lost


def test_a_temporal_folder_keeps_its_workflow_versions(repo: Path) -> None:
    """The Temporal target keeps every earlier version of the workflow (running workflows
    replay on them): the folder regenerated after a change is up to date, versions and
    all, not drift."""
    shutil.rmtree(repo / OUT)
    (repo / "mermaidgen.toml").write_text(
        f'[[generate]]\nsource = "{SPEC}"\nout = "{OUT}"\nstyle = "orchestration"\n'
        'target = "temporal"\npackage = "orders"\n', encoding="utf-8")
    assert _run(["generate"]) == 0
    # a recorded history: runs of this version may still be under way, so it is kept
    (repo / OUT / "tests/histories").mkdir(exist_ok=True)
    (repo / OUT / "tests/histories/run.json").write_text("{}", encoding="utf-8")
    (repo / SPEC).write_text(DIAGRAM + "    Orders->>Billing: Refund\n", encoding="utf-8")
    assert _drift(repo) is not None
    assert _run(["generate"]) == 0
    assert "Refund" in (repo / OUT / "orders/_generated/versions.py").read_text("utf-8")
    assert _drift(repo) is None


def test_a_folder_of_someone_elses_files_is_drift_not_an_error(repo: Path) -> None:
    """A configured folder that holds files mermaidgen did not write and no manifest:
    every generated file is missing (check never refuses a folder as generate does)."""
    manifest = json.loads((repo / OUT / ".mermaidgen/manifest.json").read_text("utf-8"))
    written = [repo / OUT / p for p, i in manifest["files"].items() if i["owner"] == "generated"]
    shutil.rmtree(repo / OUT)
    (repo / OUT).mkdir()
    (repo / OUT / "README.md").write_text("not a skeleton\n", encoding="utf-8")
    found = _drift(repo)
    assert found.summary.startswith(f"{repo / OUT}: no manifest (.mermaidgen/manifest.json); "
                                    f"{len(written)} missing (")
    assert sorted(p for p, _ in found.files) == sorted(written)
    assert (repo / OUT / "README.md", 0) not in found.files


def test_a_source_with_two_diagrams_says_how_to_pick_one(repo: Path) -> None:
    fence = "```mermaid\n" + DIAGRAM + "```\n"
    (repo / "design/two.md").write_text(f"# Two\n\n{fence}\n{fence}", encoding="utf-8")
    generation = replace(_generation(repo), source=repo / "design/two.md")
    spec = generation.spec
    [found] = check.run([], [generation]).drift
    assert found.summary == (
        f"{generation.out}: cannot regenerate from {spec}: {spec} holds 2 sequence diagrams; "
        f"pick one with {spec}#N (1 to 2) or {spec}#<title>")


def test_five_files_are_listed_in_full(repo: Path) -> None:
    out = repo / OUT
    for rel in OWNED[:5]:
        (out / rel).write_text("# replaced\n", encoding="utf-8")
    for rel in OWNED[5:10]:
        (out / rel).unlink()
    for n in range(5):
        (out / f"orders/_generated/b{n}.py").write_text("", encoding="utf-8")
    summary = _drift(repo).summary
    assert _listed(summary, "5 generated file(s) no longer match the diagram ") == OWNED[:5]
    assert _listed(summary, "5 missing ") == OWNED[5:10]
    assert _listed(summary, "5 not generated, in a folder mermaidgen rewrites ") == [
        f"orders/_generated/b{n}.py" for n in range(5)]
    assert "..." not in summary


# --- renames the user's code has not followed yet (issue 12) --------------------------

RENAMED = DIAGRAM.replace("Billing-->>Orders: Invoiced", "Billing-->>Orders: Invoice sent")


def _customise_billing(repo: Path) -> Path:
    hooks = repo / OUT / "orders/services/billing.py"
    hooks.write_text(hooks.read_text(encoding="utf-8").replace(
        "    pass\n", "    def payload_invoiced(self, ctx):\n        return {}\n"),
        encoding="utf-8")
    return hooks


def test_a_rename_the_users_code_has_not_followed_is_drift_with_the_plan(repo: Path) -> None:
    """The diagram renamed a message whose hook the user filled in: regenerating as
    configured would leave that hook uncalled, so `check` says so and how to follow."""
    _customise_billing(repo)
    assert _drift(repo) is None
    (repo / SPEC).write_text(RENAMED, encoding="utf-8")
    found = _drift(repo)
    assert found is not None
    assert "code of yours binds to names the diagram changed: orders/services/billing.py: " \
        "rename payload_invoiced -> payload_invoice_sent" in found.summary
    assert found.summary.endswith(
        f"regenerate from {repo / SPEC} with `mermaidgen generate --apply-renames`")
    # an untouched hook file has nothing to follow: only the generated files differ
    (repo / OUT / "orders/services/billing.py").write_text(
        (repo / OUT / "orders/services/billing.py").read_text(encoding="utf-8").replace(
            "    def payload_invoiced(self, ctx):\n        return {}\n", "    pass\n"),
        encoding="utf-8")
    plain = _drift(repo)
    assert plain is not None and "binds to names" not in plain.summary


def test_every_step_of_a_pending_rename_is_in_the_summary(repo: Path) -> None:
    _customise_billing(repo)
    (repo / SPEC).write_text(DIAGRAM.replace("Billing", "Accounts"), encoding="utf-8")
    found = _drift(repo)
    assert "code of yours binds to names the diagram changed: orders/services/billing.py -> " \
        "orders/services/accounts.py: `Billing` was renamed `Accounts`; " \
        "orders/services/accounts.py: rename Billing -> Accounts; " \
        "orders/services/accounts.py: rename BillingBase -> AccountsBase; " in found.summary


def test_a_rename_only_the_user_can_decide_is_drift_with_the_steps(repo: Path) -> None:
    """A manifest from before version 3 kept no hooks: what the hook became is for the
    user to say, and the flag would not do it."""
    _customise_billing(repo)
    manifest_file = repo / OUT / ".mermaidgen/manifest.json"
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    del manifest["bindings"], manifest["model"]
    manifest_file.write_text(json.dumps({**manifest, "mermaidgen_manifest": 2}),
                             encoding="utf-8")
    (repo / SPEC).write_text(RENAMED, encoding="utf-8")
    found = _drift(repo)
    assert found is not None and "you decide" in found.summary
    assert "--apply-renames" not in found.summary


def test_check_fails_on_a_pending_rename_and_prints_the_plan(repo: Path, capsys) -> None:
    _customise_billing(repo)
    (repo / SPEC).write_text(RENAMED, encoding="utf-8")
    assert _run(["check"]) == 1  # drift: product.md's exit code 1
    err = capsys.readouterr().err
    assert "rename payload_invoiced -> payload_invoice_sent" in err and "[drift]" in err
    assert _run(["generate"]) == 1  # the plan, nothing written
    assert _run(["generate", "--apply-renames"]) == 0
    capsys.readouterr()
    assert _run(["check"]) == 0, capsys.readouterr().err
