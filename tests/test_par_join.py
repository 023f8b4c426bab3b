"""Choreography joins after a `par` (projection/choreography.py, projection/origins.py).

A service whose paths through a par end in different handlers goes on once all have
arrived: a join. So does a service that, after the par, receives events that follow from
different sections of it (issue #11, broker-par-replies): they come in either order, and
its handler of the first one drawn must not go on alone.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import mermaidgen
from mermaidgen.projection.views import Arrive, Fragment

PROJECT = Path(__file__).resolve().parents[1]
BIG_DIAGRAMS = PROJECT.parent / "shared" / "tools" / "gen_big_diagram.py"


def _actions(actions):
    for a in actions:
        yield a
        if isinstance(a, Fragment):
            for branch in a.branches:
                yield from _actions(branch.actions)


def _par_lines(statements) -> set[int]:
    found: set[int] = set()
    stack = list(statements)
    while stack:
        s = stack.pop()
        if hasattr(s, "sections"):
            if s.kind in ("par", "par_over"):
                found.add(s.span.line)
            stack.extend(x for section in s.sections for x in section.statements)
    return found


def test_every_join_follows_a_par_and_is_arrived_at(tmp_path: Path) -> None:
    """Joins not wired yet were kept by id(): one dropped unwired (its service received
    something before sending again) freed its id, a later reaction of any service got
    it and became that join, its handler's sends moved into a join that waits for
    arrivals that never come. The samples are too small to show it; 700 messages of
    every kind (the benchmark generator's mix) made 4 of 8 joins such impostors."""
    if not BIG_DIAGRAMS.is_file():
        pytest.skip(f"needs {BIG_DIAGRAMS} (../shared beside the project)")
    source = tmp_path / "big.mmd"
    subprocess.run([sys.executable, str(BIG_DIAGRAMS), "700", str(source)], check=True,
                   capture_output=True)
    diagram = mermaidgen.parse(source.read_text(encoding="utf-8"))
    pars = _par_lines(diagram.statements)
    services = mermaidgen.analyse(diagram).choreography.services
    joins = [(s.participant, j) for s in services for j in s.joins]
    assert joins, "the generator's mix should need joins"
    for participant, join in joins:
        s = next(s for s in services if s.participant == participant)
        code = [s.entry, *(c.actions for h in s.handlers for c in h.cases),
                *(j.actions for j in s.joins), *(t.actions for t in s.timers)]
        arrivals = [a for actions in code for a in _actions(actions)
                    if isinstance(a, Arrive) and a.join == join.name]
        assert join.line in pars, f"{participant}: {join.name} follows no par"
        assert arrivals, f"{participant}: nothing arrives at {join.name}"
