"""The choreography projection: each service reacts to the events it receives.

For each service P: what P sends before it has received anything is its entry point;
each receipt (a message to P, or a broker delivering an event to P) starts a handler whose
reaction is everything P sends after it, up to P's next receipt, with the blocks kept.
In an `alt`, each section is an alternative: a handler that starts in one section does
not collect what P sends in another.
"""

from __future__ import annotations

from mermaidgen.analysis.events import Event, Hops
from mermaidgen.analysis.flow import Enter, Item, Leave, Occurrence, Other, SectionStart
from mermaidgen.model import Block, Note
from mermaidgen.naming import NameTable, pascal, snake
from mermaidgen.projection.tree import TreeBuilder
from mermaidgen.projection.views import (
    Choreography,
    Comment,
    Handler,
    LocalStep,
    Publish,
    ServiceChoreography,
)


class _Reaction:
    """A handler (or the entry point) being collected."""

    __slots__ = ("trigger", "event", "source", "tree", "line")

    def __init__(self, trigger: int | None, event: str | None, source: str | None,
                 tree: TreeBuilder, line: int):
        self.trigger, self.event, self.source = trigger, event, source
        self.tree, self.line = tree, line


def project(items: list[Item], services: list[str], brokers: frozenset[str],
            keys: tuple[str | None, ...], hops: Hops, events: tuple[Event, ...],
            module_names: dict[str, str]) -> Choreography:
    blocks: dict[int, Block] = {it.block_id: it.block for it in items if isinstance(it, Enter)}
    occurrences = [it for it in items if isinstance(it, Occurrence)]
    entries: dict[str, _Reaction] = {}
    handlers: dict[str, list[_Reaction]] = {p: [] for p in services}
    # what each participant is reacting to right now; after an `alt` whose sections
    # started different handlers, what follows belongs to each of them
    current: dict[str, tuple[_Reaction, ...]] = {}
    frames: list[tuple[str, dict, list[dict]]] = []

    def add(p: str, path, action) -> None:
        if p not in current:
            entries[p] = _Reaction(None, None, None, TreeBuilder((), blocks), 0)
            current[p] = (entries[p],)
        for r in current[p]:
            r.tree.add(path, action)

    def receive(p: str, o: Occurrence, source: str) -> None:
        r = _Reaction(o.index, keys[o.index], source, TreeBuilder(o.path, blocks), o.line)
        handlers.setdefault(p, []).append(r)
        current[p] = (r,)

    for it in items:
        if isinstance(it, Enter):
            frames.append((it.block.kind, dict(current), []))
        elif isinstance(it, SectionStart):
            kind, before, ends = frames[-1]
            if it.index > 0 and kind in ("alt", "critical"):
                ends.append(current)
                current = dict(before)
        elif isinstance(it, Leave):
            kind, before, ends = frames.pop()
            if kind in ("alt", "critical"):
                current = _merge(before, [*ends, current])
        elif isinstance(it, Occurrence):
            m = it.message
            if m.sender == m.receiver:
                if m.sender not in brokers:
                    add(m.sender, it.path, LocalStep(it.index, m.text, snake(m.text, "step"),
                                                     it.line))
            elif m.sender in brokers:
                origin = hops.source[it.index]
                producer = occurrences[origin].sender if origin is not None else m.sender
                if m.receiver not in brokers:
                    receive(m.receiver, it, producer)
            else:
                add(m.sender, it.path, Publish(it.index, keys[it.index] or "", m.receiver,
                                               it.line))
                if m.receiver not in brokers:
                    receive(m.receiver, it, m.sender)
        elif isinstance(it, Other) and isinstance(it.statement, Note):
            note = it.statement
            for p in dict.fromkeys(note.participants):
                if p not in brokers:
                    add(p, it.path, Comment(note.text, note.span.line))

    by_key = {e.key: e for e in events}
    views = []
    for p in services:
        names = NameTable()
        entry = entries.get(p)
        built = []
        for r in handlers.get(p, []):
            event = by_key.get(r.event or "")
            base = "on_" + snake(event.name if event else "message", "message")
            built.append(Handler(r.event or "", r.trigger or 0, r.source or "",
                                 names.name(("handler", r.trigger), base), r.line,
                                 r.tree.build(names)))
        publishes = [e.key for e in events if p in e.producers]
        consumes = [e.key for e in events if p in e.consumers]
        views.append(ServiceChoreography(
            p, module_names[p], pascal(module_names[p], "Service"),
            entry.tree.build(names) if entry else (), tuple(built), tuple(publishes),
            tuple(consumes)))
    return Choreography(tuple(views), events)


def _merge(before: dict, ends: list[dict]) -> dict:
    """After alternatives: what follows belongs to whatever each section left current."""
    merged = dict(before)
    for p in {p for end in ends for p in end}:
        reactions: dict[int, _Reaction] = {}
        for end in ends:
            for r in end.get(p, before.get(p, ())):
                reactions[id(r)] = r
        merged[p] = tuple(reactions.values())
    return merged
