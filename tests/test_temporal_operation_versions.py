"""An operation's own workflow (an operation that calls other services, run as a workflow
type of its own: `catalog.get_product` in samples/nested-calls.mmd) is versioned as the
orchestrator's workflow is (docs/temporal.md, Evolution): its history is recorded with the
run's, a change to its calls keeps the recorded body behind `workflow.patched`, and an
earlier body that can no longer run stops generation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from projects import run_python
from test_target_temporal import NOWHERE, PROJECT

NESTED = (PROJECT / "samples" / "nested-calls.mmd").read_text(encoding="utf-8")
SET_CACHE = "    Catalog-)Cache: SET product:42 EX 300\n"
INSERTED = ("    Catalog->>+Pricing: Get price(productId: int)\n"
            "    Pricing-->>-Catalog: Price(amount: Decimal)\n")
SELECT = "    Catalog->>+DB: SELECT product 42\n    DB->>-Catalog: Product row\n"
DECLARED = "    participant Reviews as Reviews Service\n"
OPERATION_TYPE = "catalog.get_product"


def _workflow_type(history: Path) -> str:
    events = json.loads(history.read_text(encoding="utf-8"))["events"]
    return events[0]["workflowExecutionStartedEventAttributes"]["workflowType"]["name"]


def _replay(python: Path, out: Path) -> str:
    done = run_python(python, ["-m", "pytest", "-q", "-p", "no:cacheprovider",
                               "-p", "no:randomly", "tests/test_replay.py"], out,
                      TEMPORAL_CLI_PATH=NOWHERE)
    return done.stdout + done.stderr


@pytest.mark.engine
def test_an_operations_workflow_keeps_its_recorded_body(
        tmp_path: Path, temporal_python: Path, cli) -> None:
    """Record a run (the orchestrator's history and its operation's), insert a call inside
    the operation, regenerate: both histories replay (the operation's recorded body stays
    behind its own patch) and a new run takes the new call. The same change without the
    versions file fails the operation's replay with Temporal's nondeterminism error; a
    change that drops a call the recorded body makes stops generation (exit 1)."""
    source = tmp_path / "nested.mmd"
    out = tmp_path / "out"
    source.write_text(NESTED, encoding="utf-8")
    args = ["generate", source, "-o", out, "--target", "temporal",
            "--style", "orchestration", "--orchestrator", "GW", "--package", "nested"]
    assert cli(*args).code == 0
    recorded = run_python(temporal_python, ["-m", "nested", "--record"], out,
                          TEMPORAL_CLI_PATH=NOWHERE)
    assert recorded.returncode == 0, recorded.stderr
    histories = out / "tests" / "histories"
    assert sorted(_workflow_type(h) for h in histories.glob("*.json")) == [
        "ApiGatewayWorkflow", OPERATION_TYPE, "reviews.get_reviews"]

    # without the versions file (as before operations were versioned), the operation's
    # history no longer replays once a call is inserted in it
    unguarded = tmp_path / "unguarded"
    shutil.copytree(out, unguarded)
    (unguarded / "nested" / "_generated" / "versions.py").unlink()
    inserted = NESTED.replace(SET_CACHE, INSERTED + SET_CACHE).replace(
        DECLARED, DECLARED + "    participant Pricing\n")
    assert inserted.count("Pricing") == 3
    source.write_text(inserted, encoding="utf-8")
    assert cli(*[unguarded if a == out else a for a in args]).code == 0
    log = _replay(temporal_python, unguarded)
    assert "1 failed, 2 passed" in log, log
    assert "Nondeterminism" in log and "no longer replays" in log, log

    assert cli(*args).code == 0
    wiring = (out / "nested" / "_generated" / "wiring.py").read_text(encoding="utf-8")
    assert f"if workflow.patched('{OPERATION_TYPE}-" in wiring, wiring
    assert "_flow_get_product__version_1" in wiring
    log = _replay(temporal_python, out)
    assert "3 passed" in log and "failed" not in log, log
    new_run = run_python(temporal_python, ["-m", "nested"], out, TEMPORAL_CLI_PATH=NOWHERE)
    assert new_run.returncode == 0, new_run.stderr
    assert "Get price(productId: int)" in new_run.stdout, new_run.stdout
    again = cli(*args)
    assert again.code == 0 and "0 updated" in again.err + again.out, again

    # the recorded body calls DB.select_product_42: a diagram without it cannot run it
    source.write_text(inserted.replace(SELECT, ""), encoding="utf-8")
    before = wiring.encode()
    removed = cli(*args)
    assert removed.code == 1, removed.err
    assert OPERATION_TYPE in removed.err and "recorded histor" in removed.err, removed.err
    assert "operation 'DB'.select_product_42" in removed.err, removed.err
    assert (out / "nested" / "_generated" / "wiring.py").read_bytes() == before


def _versions_file(tmp_path: Path, operations: str) -> Path:
    out = tmp_path / "out"
    (out / "pkg" / "_generated").mkdir(parents=True)
    (out / "pkg" / "_generated" / "versions.py").write_text(
        "VERSIONS: list = [{'patch': None, 'ops': []}]\n"
        f"OPERATIONS: dict = {operations}\n", encoding="utf-8")
    return out


VARIANT = "{{'messages': {messages}, 'ops': [{{'op': 'call', 'indent': 0, 'hook': {hook}}}]}}"


def _operations(workflow_type: str = "a.op", messages: str = "[['O', 'A', 'Op', 1]]",
                hook: str = "'request_a_op'") -> str:
    variant = VARIANT.format(messages=messages, hook=hook)
    return f"{{{workflow_type!r}: [{{'patch': None, 'variants': [{variant}]}}]}}"


def test_the_versions_of_operations_are_read_back_as_data(tmp_path: Path) -> None:
    from mermaidgen.codegen.temporal_versions import previous

    found = previous(_versions_file(tmp_path, _operations()))
    assert found["operations"]["a.op"][0]["variants"][0]["messages"] == [["O", "A", "Op", 1]]
    # a file written before operations were versioned has none
    old = tmp_path / "old"
    (old / "pkg" / "_generated").mkdir(parents=True)
    (old / "pkg" / "_generated" / "versions.py").write_text(
        "VERSIONS: list = [{'patch': None, 'ops': []}]\n", encoding="utf-8")
    assert previous(old)["operations"] is None


@pytest.mark.parametrize("edit", [
    {"hook": "\"'x'); __import__('os').system('touch pwned'\""},
    {"workflow_type": "a.op'); __import__('os')"},
    {"messages": "[['O', 'A', 'Op', '__import__']]"},
    {"messages": "'O'"},
])
def test_an_edited_operations_entry_is_refused(tmp_path: Path, edit: dict) -> None:
    """OPERATIONS is printed again as code, as VERSIONS is: anything in it that is not a
    name, a string literal, a comment or a message identity stops generation."""
    from mermaidgen.codegen.temporal_versions import previous
    from mermaidgen.errors import MermaidgenError

    with pytest.raises(MermaidgenError, match="not a versions file mermaidgen wrote"):
        previous(_versions_file(tmp_path, _operations(**edit)))


PLAIN = """sequenceDiagram
    participant O as Orchestrator
    participant A
    participant B
    O->>+A: Quote
    A-->>-O: Quoted
    O->>+A: Order
    A->>+B: Reserve
    B-->>-A: Reserved
    A-->>-O: Ordered
"""


def test_an_operation_that_turns_into_a_workflow_or_back_stops_generation(
        tmp_path: Path, cli) -> None:
    """Recorded runs called `Quote` as an activity and `Order` as a workflow of its own:
    a call inside `Quote` would make it a workflow under them, a diagram where `Order`
    makes no call would leave its recorded runs without their workflow type."""
    source = tmp_path / "d.mmd"
    out = tmp_path / "out"
    source.write_text(PLAIN, encoding="utf-8")
    args = ["generate", source, "-o", out, "--target", "temporal", "--orchestrator", "O",
            "--package", "turned"]
    assert cli(*args).code == 0
    (out / "tests" / "histories").mkdir(parents=True)
    (out / "tests" / "histories" / "run.json").write_text("{}")  # counted, never read
    before = (out / "turned" / "_generated" / "wiring.py").read_bytes()
    source.write_text(PLAIN.replace("    A-->>-O: Quoted\n", "    A->>+B: Price\n"
                                    "    B-->>-A: Priced\n    A-->>-O: Quoted\n"))
    turned = cli(*args)
    assert turned.code == 1, turned.err
    assert "operation 'A'.quote: it now runs as a workflow of its own (a.quote" in turned.err
    source.write_text(PLAIN.replace("    A->>+B: Reserve\n    B-->>-A: Reserved\n", ""))
    back = cli(*args)
    assert back.code == 1, back.err
    assert "workflow a.order: the operation no longer runs as a workflow" in back.err
    assert (out / "turned" / "_generated" / "wiring.py").read_bytes() == before
