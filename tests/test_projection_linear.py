"""Both projections do work linear in the diagram's size (benchmarks/scale.py measures the
time; no test here asserts one). The guard counts the lines of projection code run on a
diagram and on the same diagram four times longer: a step that rescans what piled up so far
(the orchestration asked every `break` left open at the top level about every send, which
made `preview --format json --projections` grow 11.95x from 10k to 100k messages) makes
that count grow about sixteen times, not four."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mermaidgen
from mermaidgen.analysis import analyse
from mermaidgen.projection import breaks, choreography_of, orchestration_of

PROJECTION = str(Path(breaks.__file__).parent)


def _diagram(units: int) -> str:
    """Each unit: a call whose operation calls another service, a message sent without
    waiting, a top-level `break` (it stays open to the end), then a send of a service."""
    lines = ["sequenceDiagram", "participant O as Orchestrator", "participant A",
             "participant B"]
    for i in range(units):
        lines += [f"O->>A: go {i}", f"A->>B: ask {i}", f"B-->>A: ok {i}", f"A-->>O: done {i}",
                  f"O-)A: tell {i}", f"break stop {i}", f"O->>B: halt {i}", "end",
                  f"A->>B: more {i}"]
    return "\n".join(lines) + "\n"


def _lines_run(project, units: int) -> int:
    """How many lines of mermaidgen/projection/ run to project the diagram."""
    analysis = analyse(mermaidgen.parse(_diagram(units)))
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def calls(frame, event, arg):  # only projection code is traced line by line
        return local if frame.f_code.co_filename.startswith(PROJECTION) else None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        project(analysis)
    finally:
        sys.settrace(previous)
    return count


@pytest.mark.parametrize("project", [orchestration_of, choreography_of],
                         ids=["orchestration", "choreography"])
def test_projection_work_grows_linearly(project):
    small, large = _lines_run(project, 50), _lines_run(project, 200)
    # 4x is linear; the quadratic scan of open breaks made the orchestration's 9x
    assert large / small < 4.4, (small, large)


class _Op:
    def __init__(self, parent: _Op | None):
        self.parent = parent


@st.composite
def _scripts(draw):
    ops: list[_Op] = []
    for _ in range(draw(st.integers(1, 8))):
        ops.append(_Op(draw(st.sampled_from([None, *ops]))))
    steps = draw(st.lists(st.one_of(
        st.tuples(st.just("open"), st.integers(0, 3),
                  st.sets(st.integers(0, len(ops) - 1))),
        st.tuples(st.just("close"), st.integers(0, 4)),
        st.tuples(st.just("ask"), st.integers(0, len(ops) - 1))), max_size=30))
    return ops, steps


@settings(max_examples=60, deadline=None)
@given(_scripts())
def test_open_breaks_answer_as_a_scan_of_every_open_break(script):
    """The index answers what the scan it replaced answered: per open break, in order, the
    innermost of the operation and its callers that was in progress where it started."""
    ops, steps = script
    index, scanned = breaks.OpenBreaks(), []
    for n, step in enumerate(steps):
        if step[0] == "open":  # (a break is opened when its block ends: deeper ones closed)
            _, depth, alive = step
            index.close_from(depth + 1)
            scanned = [b for b in scanned if b[1] <= depth]
            index.open(n, depth, [ops[i] for i in alive])
            scanned.append((n, depth, {ops[i] for i in alive}))
        elif step[0] == "close":
            index.close_from(step[1])
            scanned = [b for b in scanned if b[1] < step[1]]
        else:
            expected = []
            for block_id, _, alive in scanned:
                at = ops[step[1]]
                while at is not None and at not in alive:
                    at = at.parent
                if at is not None:
                    expected.append((block_id, at))
            assert index.holding(ops[step[1]]) == expected
