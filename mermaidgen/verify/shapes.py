"""What a trace's verdict depends on, as one hashable key: its *shape*.

Production traces repeat a few flows many thousands of times, differing only in ids and
times. Mapping spans to messages (`mapping.py`), ordering them (`ordering.py`) and the
checker's verdict (`verdicts.py`) read of a trace only: each span's service, clock, kind,
name, the attributes the mapping reads, which span of the trace is its parent and which
it links to, and its times *compared with each other* (equal, before, after: never their
values). The key holds exactly these, the times as ranks, so traces of one key get one
verdict, worked out once. Ranks make the key sensitive to jitter between spans the
mapping never compares (an INTERNAL span's times): such traces are more shapes, each
still checked correctly; the cache only saves work.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from mermaidgen.verify.spans import Span


def shape_of(spans: Sequence[Span]) -> Hashable | None:
    """The trace's shape; None when an attribute's value cannot be a key (a list)."""
    index = {s.span_id: i for i, s in enumerate(spans)}
    times = sorted({t for s in spans for t in (s.start, s.end)})
    rank = {t: i for i, t in enumerate(times)}
    get = index.get
    key = tuple((s.service, s.clock, s.kind, s.name, get(s.parent_id, -1),  # type: ignore[arg-type]
                 tuple(s.attributes.items()) if s.attributes else (),
                 tuple(get(i, -1) for i in s.links) if s.links else (),
                 rank[s.start], rank[s.end]) for s in spans)
    try:
        hash(key)
    except TypeError:
        return None
    return key
