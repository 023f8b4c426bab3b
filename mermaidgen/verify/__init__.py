"""Verify a running system against its diagram: OpenTelemetry traces in, conformance and
path coverage out (docs/verify.md).

The stage reads trace exports as a stream (`formats`, `jsonstream`), groups their spans
into traces (`grouping`), maps each trace's spans onto the diagram's messages
(`participants`, `mapping`), orders them by causality before timestamps (`ordering`),
checks them with the very checker the generated contract tests use (`verdicts`), and
counts which paths of the diagram the conforming traces took (`coverage`).
`verify(...)` returns a `Report`; printing it is the command's business.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mermaidgen.analysis import analyse
from mermaidgen.contract import contract_of
from mermaidgen.model import Diagram
from mermaidgen.verify.coverage import Coverage
from mermaidgen.verify.grouping import Trace, traces
from mermaidgen.verify.jsonstream import TraceFileError
from mermaidgen.verify.mapping import Catalogue, Mapper
from mermaidgen.verify.ordering import ordered
from mermaidgen.verify.participants import Participants
from mermaidgen.verify.shapes import Shapes
from mermaidgen.verify.verdicts import Verdict, Verdicts

__all__ = ["Failure", "Report", "TraceFileError", "verify"]

MAX_EXPLAINED_SHAPES = 20
"""`explain`: the mapping decisions of the first trace of this many distinct shapes."""
MAX_SHAPES = 10_000
"""Trace shapes (`shapes.py`) whose outcome is kept (a few kB each): the first this many;
traces of any other shape are worked out anew, so memory stays bounded when every trace
is a shape of its own (times jittering between spans the mapping never compares)."""


@dataclass(slots=True)
class Failure:
    """A trace that does not conform (and how many more failed the same way)."""

    trace_id: str
    where: str
    kind: str
    """The checker's first failure: missing, unexpected or out_of_order."""
    reason: str
    line: int | None
    """The diagram line of the first message that could not happen (or was missing)."""
    expected: list[dict]
    explanation: str
    same: int = 0
    """Further traces with the very same messages."""


@dataclass(slots=True)
class Report:
    checked: int = 0
    conforming: int = 0
    skipped: int = 0
    """Traces with no message of the diagram (other flows of the system)."""
    failures: list[Failure] = field(default_factory=list)
    failing_by_kind: Counter[str] = field(default_factory=Counter)
    unmatched: Counter[str] = field(default_factory=Counter)
    """Reasons spans matched no message, with how many spans each."""
    unmatched_examples: dict[str, str] = field(default_factory=dict)
    """Per reason, where the first such span was."""
    decisions: list[str] = field(default_factory=list)
    services: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    coverage: Coverage | None = None
    spans: int = 0
    checker_calls: int = 0

    @property
    def failing(self) -> int:
        return self.checked - self.conforming


def verify(diagram: Diagram, files: Iterable[tuple[Path, str]], *,
           services: Mapping[str, str] | None = None, sorted_input: bool = False,
           explain: bool = False) -> Report:
    """Check every trace in `files` ((path, name to show) pairs) against `diagram`."""
    analysis = analyse(diagram)
    participants = Participants(diagram, services)
    mapper = Mapper(Catalogue(analysis), participants)
    verdicts = Verdicts(contract_of(diagram, relays=analysis.brokers))
    report = Report(coverage=Coverage.of(diagram))
    tally = _Tally(report)
    explained: set[tuple] = set()
    known: Shapes[_Outcome] = Shapes(MAX_SHAPES)
    for trace in traces(files, sorted_input=sorted_input):
        spans = trace.spans
        outcome = known.get(spans)
        if outcome is not None:
            outcome.more += 1  # counted at the end, all at once
            continue
        mapped = mapper.map(spans, explain)
        for span, why in mapped.unmatched:
            report.unmatched_examples.setdefault(why, span.where)
        verdict = verdicts.of([(h.sender, h.receiver, h.texts) for h in
                               (mapped.hops[i] for i in ordered(mapped.hops))]) \
            if mapped.hops else None
        outcome = _Outcome(len(spans), [why for _, why in mapped.unmatched], verdict)
        known.add(spans, outcome)
        tally.add(outcome, 1, trace)
        if explain and verdict is not None and verdict.trace not in explained \
                and len(explained) < MAX_EXPLAINED_SHAPES:
            explained.add(verdict.trace)
            report.decisions.append(f"trace {trace.trace_id} ({trace.where}):")
            report.decisions += [f"  {d}" for d in mapped.decisions]
            report.decisions += [f"  unmatched: {s.where} span `{s.name}`: {why}"
                                 for s, why in mapped.unmatched]
    for outcome in known.values():
        tally.add(outcome, outcome.more)
    tally.close()
    report.services = {k: v for k, v in participants.decisions.items() if k is not None}
    report.checker_calls = verdicts.checked
    return report


@dataclass(slots=True)
class _Outcome:
    """What a trace came to: the same for every trace of its shape."""

    spans: int
    unmatched: list[str]
    """Why spans matched no message, per such span."""
    verdict: Verdict | None
    """None: no message of the diagram (the trace is skipped)."""
    more: int = 0
    """Traces of the same shape after the first: counted at the end."""


class _Tally:
    """Counts traces into the report, each outcome once however many traces had it."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.failed: dict[tuple, Failure] = {}  # by the messages checked
        self.conformed: dict[int, tuple[Verdict, int]] = {}

    def add(self, outcome: _Outcome, times: int, trace: Trace | None = None) -> None:
        """Count `times` traces of the outcome; `trace` is the first of them (its failure
        is reported with its id, unless one with the same messages was reported)."""
        if not times:
            return
        report = self.report
        report.spans += outcome.spans * times
        for why in outcome.unmatched:
            report.unmatched[why] += times
        verdict = outcome.verdict
        if verdict is None:
            report.skipped += times
            return
        report.checked += times
        if verdict.ok:
            report.conforming += times
            # counted per verdict at the end: traces of one verdict took the same paths
            seen = self.conformed.get(id(verdict))
            self.conformed[id(verdict)] = (verdict, seen[1] + times if seen else times)
            return
        first = verdict.result.get("first_failure") or {}
        kind = first.get("kind", "unexpected")
        report.failing_by_kind[kind] += times
        failure = self.failed.get(verdict.trace)
        if failure is not None:
            failure.same += times
            return
        assert trace is not None, "a failure is first met in a trace worked out on its own"
        line = (first.get("message") or {}).get("line")
        if line is None and first.get("position") is not None:
            line = next((m["line"] for m in first.get("expected") or []), None)
        self.failed[verdict.trace] = failure = Failure(
            trace.trace_id, trace.where, kind, first.get("reason", ""), line,
            first.get("expected") or [], verdict.result["explanation"], times - 1)
        report.failures.append(failure)

    def close(self) -> None:
        assert self.report.coverage is not None
        for verdict, times in self.conformed.values():
            self.report.coverage.add(verdict.lines, times)
