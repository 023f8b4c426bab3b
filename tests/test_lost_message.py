"""A lost message (`-x` that neither answers nor destroys) in orchestration: it is sent,
the trace records it and the contract expects it, and it reaches nobody. It once became a
call to an operation of its receiver (`Monitor.heartbeat`, the orchestrator itself).

Each of its senders: a service inside the operation it is handling, the orchestrator,
and the orchestrator on behalf of a participant that is not acting (a relay).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from projects import lint, run_here

import mermaidgen
from mermaidgen.analysis import analyse
from mermaidgen.codegen.generate import build
from mermaidgen.codegen.write import output
from mermaidgen.contract import check_trace, contract_of
from mermaidgen.contract.mutants import mutants
from mermaidgen.projection.contract import projected

LOST = """sequenceDiagram
    participant Monitor
    participant Worker
    participant Log
    Monitor->>Worker: Health check
    Worker-xMonitor: Heartbeat
    Worker-->>Monitor: Healthy
    Monitor-xLog: Ping
    Log-xWorker: Noise
"""

RUN = [("Monitor", "Worker", "Health check"), ("Worker", "Monitor", "Heartbeat"),
       ("Worker", "Monitor", "Healthy"), ("Monitor", "Log", "Ping"),
       ("Monitor", "Worker", "Noise")]


def _generate(tmp_path: Path, target: str) -> Path:
    generation = build(mermaidgen.parse(LOST, source="lost.mmd"), LOST, target=target,
                       style="orchestration", orchestrator="Monitor", package="lost")
    out = tmp_path / "out"
    output.write(output.plan(list(generation.files), out, generation.meta()))
    return out


def test_the_contract_expects_every_lost_message_and_nothing_more() -> None:
    diagram = mermaidgen.parse(LOST, source="lost.mmd")
    contract = contract_of(projected(analyse(diagram, "Monitor"), "orchestration"))
    verdict = check_trace(contract, RUN)
    assert verdict.ok, verdict.explanation
    assert not check_trace(contract, [m for m in RUN if m[2] != "Heartbeat"]).ok


def test_the_python_run_sends_them_and_nobody_receives_them(tmp_path: Path) -> None:
    out = _generate(tmp_path, "python")
    wiring = (out / "lost" / "_generated" / "wiring.py").read_text(encoding="utf-8")
    # no operation takes a lost message, so nobody is called for it
    assert '"heartbeat"' not in wiring and '"noise"' not in wiring
    main = run_here(["-m", "lost"], out)
    assert main.returncode == 0, main.stderr
    table = main.stdout.split("sequenceDiagram")[0]
    assert [tuple(row.groups()) for row in _ROW.finditer(table)] == RUN
    tests = run_here(["-m", "pytest", "-q", "-p", "no:cacheprovider"], out,
                PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert tests.returncode == 0, tests.stdout + tests.stderr


_ROW = re.compile(r"^ *\d+  (\S+) -> (\S+) +(.+?)  \(line \d+\)$", re.MULTILINE)
"""A row of the trace `python -m lost` prints."""


@pytest.mark.parametrize("target", ["python", "temporal"])
def test_the_project_compiles_and_passes_ruff(tmp_path: Path, target: str) -> None:
    """The temporal engine run is test_target_temporal.py's business."""
    lint(_generate(tmp_path, target))


CREATED_BY_A_LOST_MESSAGE = """sequenceDiagram
    create actor A
    B--xA: lost
    A->>B: next
"""


def test_a_lost_message_does_not_order_what_its_receiver_sends() -> None:
    """It reaches nobody (found by test_properties on a random diagram: the contract had
    the receiver send only after it, which no implementation can do)."""
    diagram = mermaidgen.parse(CREATED_BY_A_LOST_MESSAGE, source="created.mmd")
    lost, following = ("B", "A", "lost"), ("A", "B", "next")
    assert check_trace(diagram, [following, lost]).ok
    assert check_trace(diagram, [lost, following]).ok
    # the contract data says so, and a swap of the two is no mutant
    rows = contract_of(diagram, stream=True)["stream"]
    assert rows[0] == ["message", "B", "A", "lost", 3, {"lost": True}]
    assert not [m for m in mutants([lost, following], contract_of(diagram))
                if m.kind == "swapped"]


def test_a_cross_that_destroys_is_received() -> None:
    """`destroy A` then `B-xA`: the message that destroys A, not a lost one; a lost
    message still orders its own sender's sends."""
    text = "sequenceDiagram\n  A->>B: hi\n  destroy A\n  B-xA: bye\n  A->>B: late\n"
    diagram = mermaidgen.parse(text, source="destroy.mmd")
    hi, bye, late = ("A", "B", "hi"), ("B", "A", "bye"), ("A", "B", "late")
    assert check_trace(diagram, [hi, bye, late]).ok
    assert not check_trace(diagram, [hi, late, bye]).ok
    diagram = mermaidgen.parse(CREATED_BY_A_LOST_MESSAGE + "    B-xA: again\n",
                               source="created.mmd")
    assert not check_trace(diagram, [("B", "A", "again"), ("B", "A", "lost"),
                                     ("A", "B", "next")]).ok


def test_a_participant_created_by_a_lost_message_conforms_in_choreography(
        tmp_path: Path) -> None:
    generation = build(mermaidgen.parse(CREATED_BY_A_LOST_MESSAGE, source="created.mmd"),
                       CREATED_BY_A_LOST_MESSAGE, style="choreography", package="created")
    out = tmp_path / "out"
    output.write(output.plan(list(generation.files), out, generation.meta()))
    tests = run_here(["-m", "pytest", "-q", "-p", "no:cacheprovider"], out,
                PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert tests.returncode == 0, tests.stdout + tests.stderr
