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
from mermaidgen.verify.grouping import traces
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
    assert report.coverage is not None
    failed_shapes: dict[tuple, Failure] = {}
    explained: set[tuple] = set()
    known: Shapes[tuple[list[str], Verdict | None]] = Shapes(MAX_SHAPES)
    conformed: dict[int, tuple[Verdict, int]] = {}
    for trace in traces(files, sorted_input=sorted_input):
        spans = trace.spans
        report.spans += len(spans)
        found = known.get(spans)
        if found is None:
            mapped = mapper.map(spans, explain)
            for span, why in mapped.unmatched:
                report.unmatched_examples.setdefault(why, span.where)
            verdict = verdicts.of([(h.sender, h.receiver, h.texts) for h in
                                   (mapped.hops[i] for i in ordered(mapped.hops))]) \
                if mapped.hops else None
            found = ([why for _, why in mapped.unmatched], verdict)
            known.add(spans, found)
        else:
            mapped = None
        unmatched, verdict = found
        if unmatched:
            report.unmatched.update(unmatched)
        if verdict is None:
            report.skipped += 1
            continue
        report.checked += 1
        shape = verdict.trace
        if explain and mapped is not None and shape not in explained \
                and len(explained) < MAX_EXPLAINED_SHAPES:
            explained.add(shape)
            report.decisions.append(f"trace {trace.trace_id} ({trace.where}):")
            report.decisions += [f"  {d}" for d in mapped.decisions]
            report.decisions += [f"  unmatched: {s.where} span `{s.name}`: {why}"
                                 for s, why in mapped.unmatched]
        if verdict.ok:
            report.conforming += 1
            # counted per verdict at the end: traces of one verdict took the same paths
            seen = conformed.get(id(verdict))
            conformed[id(verdict)] = (verdict, seen[1] + 1 if seen else 1)
            continue
        first = verdict.result.get("first_failure") or {}
        kind = first.get("kind", "unexpected")
        report.failing_by_kind[kind] += 1
        if shape in failed_shapes:
            failed_shapes[shape].same += 1
            continue
        line = (first.get("message") or {}).get("line")
        if line is None and first.get("position") is not None:
            line = next((m["line"] for m in first.get("expected") or []), None)
        failed_shapes[shape] = failure = Failure(
            trace.trace_id, trace.where, kind, first.get("reason", ""), line,
            first.get("expected") or [], verdict.result["explanation"])
        report.failures.append(failure)
    for verdict, times in conformed.values():
        report.coverage.add(verdict.lines, times)
    report.services = {k: v for k, v in participants.decisions.items() if k is not None}
    report.checker_calls = verdicts.checked
    return report
