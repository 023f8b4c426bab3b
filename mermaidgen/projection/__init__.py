"""Projections: what each service does (choreography) and what the orchestrator's workflow
does (orchestration), read off an analysis.

The stages compose in the caller: `analyse(diagram)`, then `choreography_of(analysis)` or
`orchestration_of(analysis)`. Each projection is built the first time it is asked for (a
`check` needs neither, generation one of them) and kept for as long as its analysis lives,
since the code generator, the contract and the preview each ask for it again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from mermaidgen.analysis import Analysis
from mermaidgen.analysis import analyse as _analyse
from mermaidgen.projection import choreography, orchestration
from mermaidgen.projection.sagas import compensation_guards, guarded

if TYPE_CHECKING:
    from mermaidgen.analysis.naming import Pins
    from mermaidgen.model import Diagram
    from mermaidgen.projection.views import Choreography, Orchestration

_CHOREOGRAPHIES: WeakKeyDictionary[Analysis, Choreography] = WeakKeyDictionary()
_ORCHESTRATIONS: WeakKeyDictionary[Analysis, Orchestration] = WeakKeyDictionary()


def choreography_of(analysis: Analysis) -> Choreography:
    """Per service: its entry point and one handler per event occurrence it consumes."""
    view = _CHOREOGRAPHIES.get(analysis)
    if view is None:
        lost = frozenset(i for i, r in enumerate(analysis.roles.role) if r == "lost")
        # a saga's compensations are sent only if their steps were (projection/sagas.py)
        items = guarded(analysis.items, compensation_guards(analysis))
        view = _CHOREOGRAPHIES[analysis] = choreography.project(
            items, list(analysis.services), analysis.broker_set, analysis.event_keys,
            analysis.hops, analysis.events, analysis.module_names, lost,
            analysis.joined_receipts)
    return view


def orchestration_of(analysis: Analysis) -> Orchestration:
    """The orchestrator's workflow as a tree of steps, and the operations of each service."""
    view = _ORCHESTRATIONS.get(analysis)
    if view is None:
        chosen, synthetic, reason = analysis.orchestrator_choice
        view = _ORCHESTRATIONS[analysis] = orchestration.project(
            analysis.items, chosen, synthetic, reason, analysis.roles, analysis.hops,
            analysis.broker_set, analysis.module_names)
    return view


class ProjectedAnalysis(Analysis):
    """An analysis that also offers its projections as attributes, as `mermaidgen.analyse`
    always has: `mermaidgen.analyse(diagram).choreography`."""

    @property
    def choreography(self) -> Choreography:
        return choreography_of(self)

    @property
    def orchestration(self) -> Orchestration:
        return orchestration_of(self)


def analyse(diagram: Diagram, orchestrator: str | None = None,
            pins: Pins | None = None) -> ProjectedAnalysis:
    """The public `mermaidgen.analyse`: roles, brokers, style and lint of a diagram, and its
    two projections on demand (`.choreography`, `.orchestration`)."""
    return _analyse(diagram, orchestrator, pins, kind=ProjectedAnalysis)
