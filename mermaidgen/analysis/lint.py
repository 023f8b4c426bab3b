"""Lint rules: findings about a diagram that parses, each with a stable code.

| code                    | severity | finding |
|-------------------------|----------|---------|
| undeclared-participant  | warning  | used but never declared, while others are declared |
| unused-participant      | warning  | declared but never in a message or note |
| deactivate-inactive     | warning  | deactivated on a path where it was never activated |
| unclosed-activation     | warning  | an activation that no `-` or `deactivate` closes |
| reply-without-request   | warning  | a dotted reply with no open request to answer |
| request-without-reply   | warning  | a request that starts an activation but is never answered |
| event-without-consumer  | warning  | published to a broker that delivers it to nobody |
| unrealizable-choice     | warning  | a service acts in or after a choice before it learns it |
| unordered-receipts      | warning  | receipts that may come either way round (joined: info) |
| name-collision          | warning  | two names that become the same identifier |
| create-without-message  | info     | `create` with no message after it |
| flattened-diagram       | warning  | (from the parser) a one-line diagram was recovered |
| empty-diagram           | warning  | no messages: the generated project would do nothing |
| unknown-field-type      | warning  | a field's type is outside docs/fields.md's set |
"""

from __future__ import annotations

import difflib

from mermaidgen.analysis.events import Hops, actor
from mermaidgen.analysis.fields import KNOWN_TYPES, fields_of
from mermaidgen.analysis.flow import Enter, Item, Leave, Occurrence, Other, SectionStart
from mermaidgen.analysis.receipts import Race, Receipts
from mermaidgen.analysis.roles import Roles
from mermaidgen.analysis.unreached import unreached_after_blocks
from mermaidgen.model import (
    Activate,
    Create,
    Deactivate,
    Diagnostic,
    Diagram,
    Message,
    Note,
    Span,
)

RULES = (
    "undeclared-participant", "unused-participant", "deactivate-inactive",
    "unclosed-activation", "reply-without-request", "request-without-reply",
    "event-without-consumer", "unrealizable-choice", "unordered-receipts", "name-collision",
    "create-without-message", "flattened-diagram", "empty-diagram", "unknown-field-type",
)


def _at(span: Span, code: str, message: str, hint: str | None = None,
        severity: str = "warning") -> Diagnostic:
    return Diagnostic(severity, code, message, span, hint)  # type: ignore[arg-type]


def _field_types(occurrences: list[Occurrence], brokers: frozenset[str]) -> list[Diagnostic]:
    """A field type outside the documented set: generated as the default, said once per
    message so that a typo (`Decmal`) does not pass for a type."""
    found = []
    for o in occurrences:
        m = o.message
        if ")" not in m.text and "}" not in m.text:  # fields are written in brackets
            continue
        for f in fields_of(m.text, m.sender in brokers or m.receiver in brokers) or ():
            if not f.known:
                found.append(_at(m.span, "unknown-field-type",
                                 f"field `{f.name}` of `{m.text}` has the type `{f.written}`, "
                                 f"which mermaidgen does not know: it is generated as `{f.type}`",
                                 f"use one of {', '.join(KNOWN_TYPES)} (docs/fields.md), or "
                                 "refine the type in the generated package's schema.py"))
    return found


def check(diagram: Diagram, items: list[Item], roles: Roles, hops: Hops,
          brokers: frozenset[str], collisions: list[tuple[str, str, str]],
          receipts: Receipts) -> list[Diagnostic]:
    found: list[Diagnostic] = list(diagram.warnings)
    occurrences = [it for it in items if type(it) is Occurrence]
    if not occurrences:
        found.append(_at(diagram.span, "empty-diagram",
                         "the diagram has no messages: a project generated from it does "
                         "nothing",
                         "draw at least one message, e.g. `Web->>Orders: Place order`"))
    found += _participants(diagram, items)
    found += _activations(items)
    for i in roles.unanswered_replies:
        m = occurrences[i].message
        found.append(_at(m.span, "reply-without-request",
                         f"`{m.sender}` answers `{m.receiver}` with a dotted arrow, but "
                         f"`{m.receiver}` asked `{m.sender}` nothing that is still open",
                         "use a solid arrow for a new message, or draw the request first"))
    for i in roles.unanswered_calls:
        m = occurrences[i].message
        found.append(_at(m.span, "request-without-reply",
                         f"`{m.sender}` calls `{m.receiver}` (it activates `{m.receiver}`) but "
                         "no reply comes back; an orchestration would wait for it forever",
                         f"draw the reply, e.g. `{m.receiver}-->>-{m.sender}: done`, or use "
                         "an async arrow `-)` for a message nobody waits for"))
    for o in occurrences:
        m = o.message
        if m.receiver in brokers and m.sender not in brokers and not hops.deliveries[o.index]:
            found.append(_at(m.span, "event-without-consumer",
                             f"`{m.text}` is published to `{m.receiver}` but nobody consumes it",
                             f"draw who consumes it: `{m.receiver}->>Consumer: {m.text}`"))
    found += _choices(items, hops, occurrences, brokers)
    found += unreached_after_blocks(items, hops, occurrences, brokers)
    found += [_race(race) for race in receipts.races]
    found += _field_types(occurrences, brokers)
    spans = {p.id: p.span for p in diagram.participants}
    for kind, first, second in collisions:
        found.append(_at(spans.get(second, diagram.span), "name-collision",
                         f"the {kind}s `{first}` and `{second}` become the same identifier "
                         "in code; the second one gets a numbered name",
                         "rename one of them if the numbered name is not what you want"))
    return sorted(found, key=lambda d: (d.span.line, d.span.column, d.code))


def _participants(diagram: Diagram, items: list[Item]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    used: set[str] = set()
    last = None  # a `create` no message has followed yet
    for it in items:  # one pass for both (a large diagram's items are many)
        if type(it) is Occurrence:
            used.add(it.sender)
            used.add(it.receiver)
            last = None
        elif type(it) is Other:
            if isinstance(it.statement, Note):
                used.update(it.statement.participants)
            if isinstance(it.statement, Create):
                last = it.statement
    declared = [p.id for p in diagram.participants if p.declared]
    for p in diagram.participants:
        if p.declared and p.id not in used:
            out.append(_at(p.span, "unused-participant",
                           f"`{p.id}` is declared but takes part in no message or note",
                           "remove the declaration, or draw what it does"))
        elif not p.declared and declared:
            close = difflib.get_close_matches(p.id, declared, n=1)
            hint = (f"did you mean `{close[0]}`?" if close
                    else f"declare it: `participant {p.id}`")
            out.append(_at(p.span, "undeclared-participant",
                           f"`{p.id}` is used but never declared (the other participants are)",
                           hint))
    if last is not None:
        out.append(_at(last.span, "create-without-message",
                       f"`{last.participant}` is created but no message follows",
                       f"send `{last.participant}` its first message right after `create`",
                       severity="info"))
    return out


# Per participant, its open activations as a stack of slots, innermost on top. After an
# `alt` a slot holds the activations that sit at that depth in any of its sections (the
# same call drawn once per section is one slot); ids index the activations' spans.
# A stack is a chain of immutable cells (slot, the cell below, depth), None when empty:
# a block copies the stacks as it enters and an `alt` merges its sections' stacks, and
# diagrams that leave activations open pile up thousands of slots, so copying and
# merging must not walk the slots the block never touched (with lists, 100k messages
# spent 4 s here against 0.1 s for 10k).
Cell = tuple[frozenset[int], "Cell | None", int]
Stacks = dict[str, "Cell | None"]


def _activations(items: list[Item]) -> list[Diagnostic]:
    """Activation counts per path: each `alt` section starts from the state before it.

    A deactivation with nothing open on its path is reported. An activation is reported
    as unclosed only if no path closes it: a `-` on the reply of one branch is how
    mermaid.js diagrams end a bar that every branch answers (it counts activations in
    drawing order, so a `-` on each reply would be an error)."""
    out: list[Diagnostic] = []
    spans: list[Span] = []
    closed: set[int] = set()
    active: Stacks = {}
    frames: list[tuple[str, Stacks, list[Stacks]]] = []

    def start(p: str, span: Span) -> None:
        spans.append(span)
        below = active.get(p)
        active[p] = (frozenset({len(spans) - 1}), below, below[2] + 1 if below else 1)

    def stop(p: str, span: Span, how: str) -> None:
        top = active.get(p)
        if top:
            closed.update(top[0])
            active[p] = top[1]
        else:
            out.append(_at(span, "deactivate-inactive",
                           f"`{p}` is not active on this path, yet {how} deactivates it",
                           "activate it in this branch too, or move the deactivation "
                           "after the block"))

    for it in items:
        kind_of = type(it)
        if kind_of is Occurrence:  # the most frequent item first
            m: Message = it.message
            if m.activate:
                start(m.receiver, m.span)
            if m.deactivate:
                stop(m.sender, m.span, f"`{m.sender}{m.arrow}-{m.receiver}`")
        elif kind_of is Enter:
            frames.append((it.block.kind, dict(active), []))
        elif kind_of is SectionStart:
            kind, before, ends = frames[-1]
            if it.index > 0 and kind in ("alt", "critical"):
                ends.append(active)
                active = dict(before)
        elif kind_of is Leave:
            kind, before, ends = frames.pop()
            if kind in ("alt", "critical"):
                active = _merge([*ends, active])
        elif kind_of is Other:
            s = it.statement
            if isinstance(s, Activate):
                start(s.participant, s.span)
            elif isinstance(s, Deactivate):
                stop(s.participant, s.span, "`deactivate`")
    for p, top in active.items():
        slots = []
        while top is not None:
            slots.append(top[0])
            top = top[1]
        for slot in reversed(slots):  # outermost first
            for i in sorted(slot - closed):
                out.append(_at(spans[i], "unclosed-activation",
                               f"`{p}` is activated here and never deactivated",
                               f"close it with `deactivate {p}` or a `-` on its reply"))
    return out


def _merge(sections: list[Stacks]) -> Stacks:
    """The open activations after an alternative: as deep as its deepest section, each
    slot holding what any section left open at that depth. Walks down from the deepest
    top only until every section is at the same cell, the part below the block."""
    merged: Stacks = {}
    for p in dict.fromkeys(p for stacks in sections for p in stacks):  # not a set's order
        tops = [stacks.get(p) for stacks in sections]
        merged[p] = _merged_stack(tops)
    return merged


def _merged_stack(tops: list[Cell | None]) -> Cell | None:
    # the slots above the shared part, deepest first, then rebuilt on top of it
    above: list[frozenset[int]] = []
    while True:
        live = [t for t in tops if t is not None]
        if not live:
            shared = None
            break
        depth = max(t[2] for t in live)
        if len(live) == len(tops) and all(t is live[0] for t in live):
            shared = live[0]
            break
        at_depth = [t for t in live if t[2] == depth]
        above.append(frozenset().union(*(t[0] for t in at_depth)))
        tops = [t[1] if t is not None and t[2] == depth else t for t in tops]
    for slot in reversed(above):
        shared = (slot, shared, shared[2] + 1 if shared else 1)
    return shared


def _choices(items: list[Item], hops: Hops, occurrences: list[Occurrence],
             brokers: frozenset[str]) -> list[Diagnostic]:
    """In a choreography, only who made a choice knows which branch was taken: the
    participant that sends first in the block. Inside a branch, anyone else may act only
    after a message has told it (through whoever already knew). In a loop's body, likewise:
    who sends there before anything tells it starts every iteration on its own, not
    knowing whether the decider went on."""
    out: list[Diagnostic] = []
    # per open alt/critical/loop block: [block, decider, informed per section, reported]
    open_blocks: dict[int, list] = {}
    for it in items:
        kind_of = type(it)
        if kind_of is Enter and it.block.kind in ("alt", "critical", "loop"):
            open_blocks[it.block_id] = [it.block, None, {}, False]
        elif kind_of is Occurrence:
            m = it.message
            sender = it.sender
            if sender in brokers:  # a delivery: who published it acts
                sender = actor(it, hops, occurrences, brokers)
            for block_id, section in it.path:
                state = open_blocks.get(block_id)
                if state is None:
                    continue
                block, decider, informed, reported = state
                if decider is None:
                    decider = state[1] = sender
                knows = informed.setdefault(section, {decider})
                if sender in knows:
                    knows.add(m.receiver)
                elif not reported:
                    state[3] = True
                    out.append(_hidden_choice(block, section, decider, sender, m))
        elif kind_of is Leave:
            open_blocks.pop(it.block_id, None)
    return out


def _hidden_choice(block, section: int, decider: str, sender: str, m) -> Diagnostic:
    label = block.sections[0].label or block.kind
    if block.kind == "loop":
        return _at(m.span, "unrealizable-choice",
                   f"in the `loop {label}` block, `{decider}` decides whether another "
                   f"iteration runs, but `{sender}` acts in each iteration before anything "
                   "tells it that one runs",
                   f"let `{decider}` tell `{sender}` first in the body (a message from "
                   f"`{decider}` to `{sender}`), or generate an orchestration; the "
                   f"generated `{sender}` asks its own `repeat_` hook")
    branch = block.sections[section].label or f"section {section + 1}"
    return _at(m.span, "unrealizable-choice",
               f"in the `{block.kind} {label}` block, `{decider}` chooses the branch, but "
               f"`{sender}` acts in the `{branch}` branch before anything tells it which "
               "branch was chosen",
               f"let `{decider}` tell `{sender}` the outcome first (a message from "
               f"`{decider}` to `{sender}` in this branch), or generate an orchestration")


def _race(race: Race) -> Diagnostic:
    a, b, send = race.first.message, race.second.message, race.send
    p = send.message.sender
    told = (f"order them: let `{p}` hear of `{a.text}` before `{b.sender}` sends "
            f"`{b.text}` (draw what tells `{b.sender}`)")
    if race.joined:
        return _at(b.span, "unordered-receipts",
                   f"`{p}` receives `{b.text}` (line {race.second.line}) from `{b.sender}`, "
                   f"who did not know of `{a.text}` (line {race.first.line}) from "
                   f"`{a.sender}`: they may arrive the other way round, so a choreography's "
                   f"`{p}` joins them: it sends `{send.message.text}` (line {send.line}) "
                   "once both have arrived, in either order",
                   f"nothing to do; if `{p}` must handle `{a.text}` first, {told}",
                   severity="info")
    return _at(b.span, "unordered-receipts",
               f"`{p}` receives `{b.text}` (line {race.second.line}) from `{b.sender}`, who "
               f"did not know of `{a.text}` (line {race.first.line}) from `{a.sender}`: they "
               f"may arrive the other way round, and in a choreography `{p}` then sends "
               f"`{send.message.text}` (line {send.line}) before it handled `{a.text}`",
               f"{told}, or generate an orchestration")
