"""Orchestration skeletons that failed their own contract tests on random diagrams
(tests/strategies.py; issue 11, "a contract test that cannot be fooled"), minimised.

Each part below is what a failing random diagram came down to. One diagram holds them
all, one after the other (so every path of one is run with every path of the others):
the python target's own tests, and the Temporal target's in the time-skipping server (an
engine test).

* LOOP_THEN_REPLY: a call made in a `loop`, answered after it. The workflow waited for
  a reply in every iteration, so the trace held one reply per iteration where the
  diagram draws one. Nobody can tell which iteration is the last when its request goes
  out, so the request goes out unanswered and the reply is awaited after the loop.
* LATE_REPLY: the callee receives another message (`two`) before it answers `one`. The
  workflow waited for the reply to `one` before sending `two`, so `three` came before
  `two`, which it depends on. The call no longer waits; `three` is what `B` tells the
  workflow once it has `two` (TOLD_AFTER_AN_EVENT).
* TOLD_AFTER_AN_EVENT: what a service tells the workflow (`gone`) while it acts on a
  message sent without waiting (`go`) was sent by its operation while the workflow went
  on (`next` came first, though it depends on `gone`). The workflow now waits for the
  operation of such a message.
* NESTED_LATE_REPLY: LATE_REPLY one call deeper: `ask` no longer waits (`J` gets `hint`
  first), so `answer` is something `H` receives before it answers `start`, which then
  cannot wait either (repeated until nothing changes).
* OPTIONS_AFTER_A_LOOP, OPTIONS_AFTER_AN_AWAIT: a `critical` whose main section does
  not start with a step (a loop, a message the workflow awaits). The path of an option
  makes the main section's first step fail; with no first step, nothing failed, the
  path ran the whole main section and its test passed without ever taking the option.
  Now the first step taken anywhere in the main section fails (the loop's first
  iteration's, the one after the awaited message): what ran before it is a prefix of
  the main section.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from projects import run_python, shared_project_tests

import mermaidgen
from mermaidgen.codegen.generate import build
from mermaidgen.codegen.write import output

LOOP_THEN_REPLY = """\
    loop retry
        O->>S: ask
    end
    S-->>O: done
"""

LATE_REPLY = """\
    O->>B: one
    O-)B: two
    B-->>O: three
"""

TOLD_AFTER_AN_EVENT = """\
    O-)E: go
    E->>F: check
    F-->>E: checked
    E-)O: gone
    O->>G: next
"""

NESTED_LATE_REPLY = """\
    O->>H: start
    H->>J: ask
    O-)J: hint
    J-->>H: answer
    H-->>O: started
"""

OPTIONS_AFTER_A_LOOP = """\
    critical book
        loop per item
            O->>C: reserve
        end
    option failed
        O->>B: notify
    end
"""

OPTIONS_AFTER_AN_AWAIT = """\
    critical pay
        D-)O: paid
        O->>B: ship
    option unpaid
        O->>B: remind
    end
"""

DIAGRAM = ("sequenceDiagram\n    participant O as Orchestrator\n"
           + LOOP_THEN_REPLY + LATE_REPLY + TOLD_AFTER_AN_EVENT + NESTED_LATE_REPLY
           + OPTIONS_AFTER_A_LOOP + OPTIONS_AFTER_AN_AWAIT)


def _generate(out: Path, target: str) -> Path:
    generation = build(mermaidgen.parse(DIAGRAM, source="random.mmd"), DIAGRAM,
                       style="orchestration", target=target, package="random_orch")
    output.write(output.plan(list(generation.files), out, generation.meta()))
    return out


def test_the_python_skeleton_passes_every_path(tmp_path: Path) -> None:
    out = _generate(tmp_path / "out", "python")
    done = run_python(Path(sys.executable), ["-m", "pytest", "-q", "-p", "no:cacheprovider"],
                      out, timeout=240)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    # the loop's path with two iterations is among them
    assert "retry-twice" in (out / "random_orch" / "_generated" / "paths.py").read_text()
    # the options' path takes both options: their messages, not the main sections' steps
    done = run_python(Path(sys.executable), ["-m", "random_orch", "--path", "failed+unpaid"],
                      out, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    sent = [line.split(None, 4)[4].rsplit("  (line", 1)[0] for line in
            done.stdout.split("sequenceDiagram")[0].splitlines() if line.strip()]
    assert sent == ["ask", "done", "one", "two", "three", "go", "check", "checked", "gone",
                    "next", "start", "ask", "hint", "answer", "started", "notify", "paid",
                    "remind"], \
        done.stdout


@pytest.mark.engine
def test_the_temporal_skeleton_passes_every_path(tmp_path: Path,
                                                 temporal_python: Path) -> None:
    out = _generate(tmp_path / "out", "temporal")
    outcomes, log = shared_project_tests(temporal_python, out,
                                         TEMPORAL_CLI_PATH="/nonexistent/temporal")
    assert outcomes.get("test_the_run_conforms_in_the_time_skipping_environment") == "passed", log
    assert any(t.startswith("test_every_path") for t in outcomes), log
    assert not [t for t, kind in outcomes.items() if kind in ("failure", "error")], log
