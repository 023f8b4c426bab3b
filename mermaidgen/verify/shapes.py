"""Traces that must get the same verdict: traces of one *shape*.

Production traces repeat a few flows many thousands of times, differing only in ids and
times. Mapping spans to messages (`mapping.py`), ordering them (`ordering.py`) and the
checker's verdict (`verdicts.py`) read of a trace only: each span's service, clock, kind,
name, the attributes the mapping reads, which span of the trace is its parent and which
it links to, and its times *compared with each other* (equal, before, after: never their
values). Traces equal in all of these are one shape, and get one verdict, worked out
once. Comparing times by their order makes a shape sensitive to jitter between spans the
mapping never compares (an INTERNAL span's times): such traces are more shapes, each
still checked correctly; the cache only saves work.

`Shapes` finds the shape of a trace among those seen, and is built for the trace that
*is* of a known shape (nearly all of them): it looks the known shapes up by the spans'
names and compares the trace with each, column by column (`zip(*spans)`, comparisons in
C), checking the parent relation and the time order *against* the known shape's (is
this span's parent the span the shape says? are the times increasing in the shape's
order?) rather than working them out anew: no hashing of ids, no sorting of times.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice, repeat
from operator import eq, itemgetter, le, lt
from typing import Any, Generic, TypeVar

from mermaidgen.verify.spans import Span

V = TypeVar("V")
Columns = tuple[tuple[Any, ...], ...]
"""`zip(*spans)`: one tuple per `Span` field, in the field order."""


@dataclass(frozen=True, slots=True)
class _Known(Generic[V]):
    services: tuple[str | None, ...]
    clocks: tuple[str, ...]
    kinds: tuple[str, ...]
    attributes: tuple[dict[str, object], ...]
    links: tuple[tuple[str, ...], ...]
    """The links as they were: only compared when there are none (`fast`)."""
    form: tuple[Any, ...]
    """The relations and the time order, by position (`_form`)."""
    fast: bool
    """The shape's span ids are distinct, its parents are in it (or absent), it has no
    links: a trace is then compared without working out its `_form`."""
    parents: Callable[[tuple[str | None, ...]], tuple[str | None, ...]]
    """From a trace's span ids and None, its spans' parents were it of the shape."""
    order: Callable[[tuple[int, ...]], tuple[int, ...]]
    """From a trace's times (starts, then ends), the times in the shape's time order."""
    ties: tuple[bool, ...] | None
    """Per neighbour in `order`, whether the two times are equal; None when none are."""
    value: V


class Shapes(Generic[V]):
    """Known shapes, each with a value (its verdict), at most `limit` of them.

    Per tuple of span names, the first `COMPARED` shapes are compared with (`_same`);
    any further ones are found by their whole key (`_key`: the relations and the time
    order worked out, as when every trace is a shape of its own), so that a trace is
    never compared with more than `COMPARED` shapes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        self._by_names: dict[tuple[str, ...], _Group[V]] = {}
        self._last: tuple[Sequence[Span], Hashable | None] | None = None
        """The trace `get` last worked out the key of, and the key (for `add`)."""

    def get(self, spans: Sequence[Span]) -> V | None:
        """The value of the trace's shape, or None when it is not known."""
        if not spans:
            return None
        columns: Columns = tuple(zip(*spans, strict=False))  # all of a Span's fields
        group = self._by_names.get(columns[3])
        if group is None:
            return None
        for known in group.compared:
            if _same(known, columns):
                return known.value
        if not group.keyed:
            return None
        key = _key(columns)
        self._last = spans, key
        return group.keyed.get(key) if key is not None else None

    def values(self) -> Iterator[V]:
        """The values kept, one per shape."""
        for group in self._by_names.values():
            for known in group.compared:
                yield known.value
            yield from group.keyed.values()

    def add(self, spans: Sequence[Span], value: V) -> None:
        """Keep the trace's shape (unless `limit` shapes are kept) with its value."""
        if not spans or self.count >= self.limit:
            return
        columns: Columns = tuple(zip(*spans, strict=True))
        group = self._by_names.setdefault(columns[3], _Group())
        if len(group.compared) < COMPARED:
            group.compared.append(_known(columns, value))
        else:
            last, self._last = self._last, None
            key = last[1] if last is not None and last[0] is spans else _key(columns)
            if key is None:
                return  # an attribute's value that cannot be a key (a list): not kept
            group.keyed[key] = value
        self.count += 1


COMPARED = 8


@dataclass(slots=True)
class _Group(Generic[V]):
    compared: list[_Known[V]] = field(default_factory=list)
    keyed: dict[Hashable, V] = field(default_factory=dict)


def _known(columns: Columns, value: V) -> _Known[V]:
    _, ids, parents, _, kinds, services, clocks, starts, ends, attributes, links, _, _ = \
        columns
    form = _form(columns)
    positions = form[0]
    fast = len(set(ids)) == len(ids) and not any(links) and all(
        p >= 0 or parent is None for p, parent in zip(positions, parents, strict=True))
    times = starts + ends
    order = sorted(range(len(times)), key=times.__getitem__)
    ordered = [times[i] for i in order]
    ties = tuple(map(eq, ordered, islice(ordered, 1, None)))
    return _Known(services, clocks, kinds, attributes, links, form, fast,
                  _picker([len(ids) if p < 0 else p for p in positions]), _picker(order),
                  ties if any(ties) else None, value)


def _picker(positions: list[int]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """What takes the items at `positions` from a tuple, as a tuple (in C)."""
    if len(positions) == 1:
        (only,) = positions
        return lambda items: (items[only],)
    return itemgetter(*positions)


def _key(columns: Columns) -> Hashable | None:
    """The whole shape as one key (names aside); None when an attribute's value cannot
    be part of a key (a list)."""
    key = (columns[5], columns[6], columns[4],
           tuple(map(tuple, map(dict.items, columns[9]))), _form(columns))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _same(known: _Known[V], columns: Columns) -> bool:
    """Is the trace (its columns; names already equal) of the known shape? With a `fast`
    shape: its parents are the spans at the shape's positions (None where it has none),
    its ids are distinct (so that a parent id means one span), and its times increase
    in the shape's order (equal where the shape's are)."""
    _, ids, parents, _, kinds, services, clocks, starts, ends, attributes, links, _, _ = \
        columns
    if services != known.services or clocks != known.clocks or kinds != known.kinds \
            or attributes != known.attributes:
        return False
    if not known.fast:
        return _form(columns) == known.form
    if links != known.links or known.parents((*ids, None)) != parents \
            or len(set(ids)) != len(ids):
        return False
    ordered = known.order(starts + ends)
    following = ordered[1:]
    if known.ties is None:
        return all(map(lt, ordered, following))
    return all(map(le, ordered, following)) and tuple(map(eq, ordered, following)) == known.ties


def _form(columns: Columns) -> tuple[Any, ...]:
    """The relations and the time order of a trace, by position: each span's parent's
    position (-1: none, or not in the trace), its links' positions, and the rank of each
    of its times (starts, then ends) among all of them."""
    _, ids, parents, _, _, _, _, starts, ends, _, links, _, _ = columns
    index = dict(zip(ids, range(len(ids)), strict=True))
    times = starts + ends
    ranks = {t: i for i, t in enumerate(sorted(set(times)))}
    return (tuple(map(index.get, parents, repeat(-1))),
            tuple(tuple(index.get(i, -1) for i in own) for own in links),
            tuple(map(ranks.__getitem__, times)))
