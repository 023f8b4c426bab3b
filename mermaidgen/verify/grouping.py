"""Spans grouped into traces, and when a trace is complete.

* A Jaeger trace, and a trace in Zipkin's array of traces, is complete where it ends in
  the file: the format holds each trace whole.
* OTLP (and a flat Zipkin array of spans) may spread one trace over the whole file and
  over several files: the file exporter writes spans in batches as they end, and each
  service often writes its own file. By default a trace is therefore complete when every
  file has been read (correct for any file layout; memory grows with the files).
* With `sorted_input` (`--sorted`), each file holds the spans of a trace together: a trace
  is complete when a span of another trace begins, or the file ends. Memory is then
  bounded by the largest trace. Spans of a trace that appear again after another trace
  began break that promise: an error says so (checked against the last `RECENT` traces).

A consumer span that links to a span of another trace (a batch consumer, a message
processed in a trace of its own) joins the two traces into one, when both are pending at
the end (without `--sorted`, for OTLP and flat Zipkin); a trace held whole or checked
early (Jaeger, `--sorted`) is checked on its own.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator
from itertools import groupby
from operator import attrgetter
from pathlib import Path
from typing import NamedTuple

from mermaidgen.verify.formats import read
from mermaidgen.verify.jsonstream import TraceFileError
from mermaidgen.verify.spans import Span

RECENT = 4096
_TRACE_ID = attrgetter("trace_id")


class Trace(NamedTuple):
    trace_id: str
    spans: list[Span]

    @property
    def where(self) -> str:
        """Where its first span was read: `file:line`."""
        return self.spans[0].where if self.spans else ""


def traces(files: Iterable[tuple[Path, str]], *, sorted_input: bool = False
           ) -> Iterator[Trace]:
    """The traces of the files (path, name to show), each complete (see the module)."""
    pending: OrderedDict[str, list[Span]] = OrderedDict()
    for path, shown in files:
        current: str | None = None
        current_spans: list[Span] = []
        closed: deque[str] = deque(maxlen=RECENT)
        closed_set: set[str] = set()
        for batch in read(path, shown):
            if batch.whole:
                if batch.spans:
                    yield Trace(batch.spans[0].trace_id, batch.spans)
                continue
            # a batch's spans are mostly of one trace (often the reader knows): a run of
            # spans of one trace is moved at once
            runs: Iterable[tuple[str, list[Span]]] = ((batch.trace, batch.spans),) \
                if batch.trace is not None else \
                ((t, list(run)) for t, run in groupby(batch.spans, _TRACE_ID))
            if not sorted_input:
                for trace_id, spans in runs:
                    pending.setdefault(trace_id, []).extend(spans)
                continue
            for trace_id, spans in runs:
                if trace_id == current:
                    current_spans += spans
                    continue
                if current is not None:
                    yield Trace(current, current_spans)
                    if len(closed) == RECENT:
                        closed_set.discard(closed[0])
                    closed.append(current)
                    closed_set.add(current)
                if trace_id in closed_set:
                    raise TraceFileError(
                        f"spans of trace {trace_id} appear again after another trace "
                        "began, but --sorted promised each trace's spans together",
                        spans[0].where, "run without --sorted (every trace is then "
                        "complete when all files are read)")
                current, current_spans = trace_id, spans
        if current is not None:
            yield Trace(current, current_spans)
    yield from _joined(pending)


def _joined(pending: OrderedDict[str, list[Span]]) -> Iterator[Trace]:
    """The pending traces, those that link to each other (a consumer span linking to a
    producer span of another trace) joined into one, under the first one's id."""
    root: dict[str, str] = {}

    def find(t: str) -> str:
        while root.get(t, t) != t:
            root[t] = root.get(root[t], root[t])
            t = root[t]
        return t

    order: dict[str, int] = {}
    for trace_id, spans in pending.items():
        for span in spans:
            for other in span.other_traces:
                if other in pending:
                    if not order:
                        order = {t: i for i, t in enumerate(pending)}
                    a, b = find(trace_id), find(other)
                    if a != b:  # the one read first stays the root
                        first, second = sorted((a, b), key=order.__getitem__)
                        root[second] = first
    if not root:
        for trace_id, spans in pending.items():
            yield Trace(trace_id, spans)
        return
    groups: OrderedDict[str, list[Span]] = OrderedDict()
    for trace_id, spans in pending.items():
        groups.setdefault(find(trace_id), []).extend(spans)
    for trace_id, spans in groups.items():
        yield Trace(trace_id, spans)

