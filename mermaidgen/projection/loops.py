"""Choreography: loops whose iterations span handlers, and where a taken `break` leads.

A loop decided by service P (the sender of the body's first message, conformance.md "who
decides a branch") is a plain bounded loop when P's part of the body runs in one handler.
When P receives something inside the body (a retry around a request and its reply), it
cannot be: the request is sent in one handler and the reply arrives in another. Then

* where the loop starts, P sends its first iteration's start (the *head*: what P sends
  before its first receipt in the body) once, and starts counting iterations;
* each handler of P in which an iteration ends gets a `loop_back` fragment: `again`
  sends the head once more (the loop's back edge, within the label's bound and as the
  user's `repeat_` hook decides), `done` holds what follows the loop.

The head is what P's start sends in the body, in every section of a block (a `par`
section, an `alt`'s or `critical`'s other section starts from the state before the block,
even when drawn after P's first receipt), and its arrival at a `par`'s join. When P's
start goes on in some sections of an `alt`, `opt` or `critical` only (a reply's handler
took over in the others), the iteration ends in those sections: what follows the block
and the back edge go to a join of that one arrival, which every copy of the head arrives
at too (the copy holds the block again).

A taken `break` ends the block that holds it (conformance.md): what follows a loop it
ends follows the break's section too (a break in a section of another block:
choreography.py, `section_end`, the same rule). A reaction that started inside the
section (the handler of a reply that took the break) simply goes on; a reaction that
decided the break in its own code and runs inside the loop (its `if should_break_...:`
ends the handler) gets what follows the loop inside the break's branch, before it returns.
"""

from __future__ import annotations

import re

from mermaidgen.analysis.events import Hops, actor
from mermaidgen.analysis.flow import Enter, Item, Leave, Occurrence, Path
from mermaidgen.model import Block, Section
from mermaidgen.projection.views import InTime


def deciders(items: list[Item], brokers: frozenset[str], hops: Hops,
             occurrences: list[Occurrence]) -> dict[int, str]:
    """Loop and critical block id -> the service that sends the first message of its
    first section (the producer, when that message is a broker's delivery)."""
    found: dict[int, str] = {}
    waiting: dict[int, Path] = {}  # block id -> the path of its first section
    for it in items:
        if isinstance(it, Enter) and it.block.kind in ("loop", "critical"):
            waiting[it.block_id] = (*it.path, (it.block_id, 0))
        elif isinstance(it, Leave):
            waiting.pop(it.block_id, None)  # a section without messages decides nothing
        elif isinstance(it, Occurrence) and waiting:
            sender = actor(it, hops, occurrences, brokers)
            for block_id, first in list(waiting.items()):
                if it.path[:len(first)] == first:
                    found[block_id] = sender
                del waiting[block_id]
    return found


_DURATION = re.compile(
    r"(\d{1,6}(?:\.\d{1,3})?)\s*(ms|millis(?:econds?)?|s|secs?|seconds?|m|mins?|minutes?|h|"
    r"hours?)\b", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "mi": 0.001, "s": 1.0, "se": 1.0, "m": 60.0, "mi_": 60.0,
                 "h": 3600.0, "ho": 3600.0}


def option_seconds(label: str) -> float | None:
    """The duration an option's label gives ("timeout 5s", "no answer in 30 seconds",
    "after 2 min", "500 ms"), in seconds; None when it gives none."""
    found = _DURATION.search(label)
    if found is None:
        return None
    unit = found.group(2).lower()
    if unit.startswith("ms") or unit.startswith("milli"):
        factor = 0.001
    elif unit.startswith("h"):
        factor = 3600.0
    elif unit.startswith("m"):
        factor = 60.0
    else:
        factor = 1.0
    return float(found.group(1)) * factor


class _Loop:
    __slots__ = ("body", "decider", "heads", "holders", "received")

    def __init__(self, decider: str | None, body: Path):
        self.decider = decider
        self.body = body
        self.heads: dict[str, list[tuple[Path, object]]] = {}
        """Per service that sends in the body before it receives there (the decider, and
        any other that starts each iteration too): what it sends first."""
        self.holders: dict[str, dict[int, object]] = {}
        """Per such service, the reactions its head was sent from (their loop is
        unrolled)."""
        self.received: set[str] = set()
        """The services that received something in the body (their head is complete)."""


class _Critical:
    __slots__ = ("decider", "key", "main", "holders", "collecting", "spanning", "timed",
                 "seconds", "timer")

    def __init__(self, decider: str | None, block: Block, main: Path):
        self.decider = decider
        self.key = f"critical_line_{block.span.line}"
        self.main = main
        self.holders: dict[int, object] = {}
        self.collecting = True
        self.spanning = False
        self.timed = self.seconds = None
        for k, section in enumerate(block.sections[1:], 1):
            seconds = option_seconds(section.label)
            if seconds is not None:
                self.timed, self.seconds = k, seconds
                break
        self.timer = None  # the reaction that runs the timed option


class Spans:
    """Follows the open loops and the breaks taken inside blocks while the choreography
    projection walks the diagram; shares the projection's block table (it adds the
    `loop_back` blocks)."""

    def __init__(self, blocks: dict[int, Block]):
        self.blocks = blocks
        self.loops: dict[int, _Loop] = {}
        self.criticals: dict[int, _Critical] = {}
        self.timers: list[tuple[str, _Critical]] = []
        """(the deciding service, the critical) for each timed critical that spans."""
        self.exits: dict[int, list[tuple[dict, Path, int]]] = {}
        """Loop block id -> (the state at the end of a break's section, that section's
        path, the break's block id), for each break the loop's body holds."""
        self._leaving: list[_Loop] = []
        """The loop whose back edges are being made (its joins are wired then)."""
        self.sectioned: dict[int, tuple[dict[int, set[str]], dict[int, set[str]]]] = {}
        """Block id of an open block whose sections each start from the state before it
        (alt, critical, par) -> (per open loop, the services that had received in its
        body before the block; those that received in some section so far)."""

    def enter(self, block_id: int, block: Block, path: Path, decider: str | None) -> None:
        if block.kind == "loop":
            self.loops[block_id] = _Loop(decider, (*path, (block_id, 0)))
        elif block.kind == "critical" and len(block.sections) > 1:
            self.criticals[block_id] = _Critical(decider, block, (*path, (block_id, 0)))
        if block.kind in _SECTIONED and self.loops:
            self.sectioned[block_id] = ({k: set(loop.received) for k, loop in
                                         self.loops.items()}, {})

    def sent(self, p: str, path: Path, action: object, reactions: tuple) -> None:
        for loop in self.loops.values():
            if loop.decider is not None and p not in loop.received:
                loop.heads.setdefault(p, []).append((path, action))
                loop.holders.setdefault(p, {}).update((id(r), r) for r in reactions)
        for c in self.criticals.values():
            if c.decider == p and c.collecting and path[:len(c.main)] == c.main:
                c.holders.update((id(r), r) for r in reactions)

    def arrived(self, p: str, path: Path, action: object, reaction) -> None:
        """`reaction` of `p` arrives at a join (the end of its path through a `par`): in
        the body of a loop whose start it holds, the back edge's copy of the start
        arrives there too (else the next iteration's join waits for it forever)."""
        for loop in [*self.loops.values(), *self._leaving]:
            if id(reaction) in loop.holders.get(p, {}) and path[:len(loop.body)] == \
                    loop.body:
                # where the reaction put it (the sections of a block it survived in)
                loop.heads[p].extend((at, action) for at in reaction.targets(path))

    def sections_end(self, block_id: int, path: Path, current: dict, join) -> dict:
        """After an alt, opt or critical in the body of a loop whose iterations span
        handlers: a reaction of the loop's decider that holds the loop's start and went
        on in some of the block's sections only (in the others a reply's handler took
        over: the iteration ends there) ends the iteration in those sections. What follows
        the block, and the back edge, go to a join of that one arrival (`join(p,
        arrivals, path, line, follows)` makes it), not inline: the back edge's copy of
        the start holds the block again, whose sections must end their iteration too
        (inline, each copy would need another copy)."""
        block = self.blocks[block_id]
        copy = -(block_id + 1)  # another's critical: its own choice (_decided_elsewhere)
        for loop in reversed(self.loops.values()):  # the innermost first
            p = loop.decider
            if p is None or path[:len(loop.body)] != loop.body:
                continue
            holders = loop.holders.get(p, {})
            reactions = []
            for r in current.get(p, ()):
                last = r.redirects[-1] if r.redirects else None
                if id(r) in holders and last is not None and last[0] == path and all(
                        t[len(path)][0] in (block_id, copy) for t in last[1]):
                    r = join(p, [(r,)], path, block.span.line, block.kind)
                reactions.append(r)
            current = {**current, p: tuple(reactions)}
        return current

    def received(self, p: str, reaction, path: Path) -> None:
        for loop in self.loops.values():
            loop.received.add(p)
        for c in self.criticals.values():
            if c.decider == p and c.collecting and path[:len(c.main)] == c.main \
                    and c.holders:
                # the main section goes on in this handler: it must not once an option
                # ran (conformance.md: one section of a critical, never two)
                c.collecting, c.spanning = False, True
                reaction.add(path, InTime(c.key, reaction.line))

    def section(self, block_id: int, index: int, path: Path, current: dict, make) -> dict:
        """A section starts: a timed option of a spanning critical is also run by a
        timer, a reaction of its own (`make(base path)` builds it)."""
        self._restart_heads(block_id)
        c = self.criticals.get(block_id)
        if c is None or not c.spanning or index != c.timed or c.decider is None:
            return current
        c.timer = make(path)
        self.timers.append((c.decider, c))
        current = dict(current)
        current[c.decider] = (*current.get(c.decider, ()), c.timer)
        return current

    def _restart_heads(self, block_id: int, last: bool = False) -> None:
        """A section of a block inside a loop's body starts (or the block ends, `last`):
        it runs from the state before the block, so a service that received only in an
        earlier section still sends its iteration's start in this one (the back edge
        repeats the sends of `par` sections and `critical` options drawn after its first
        receipt). After the block, a service that received in any section has."""
        saved = self.sectioned.get(block_id)
        if saved is None:
            return
        before, seen = saved
        for k, loop in self.loops.items():
            seen.setdefault(k, set()).update(loop.received)
            if k in before:
                loop.received = set(seen[k]) if last else set(before[k])
        if last:
            del self.sectioned[block_id]

    def exit(self, block_id: int, state: dict, inner: Path, break_id: int) -> None:
        """A break inside loop `block_id` ends its body in `state`."""
        self.exits.setdefault(block_id, []).append((dict(state), inner, break_id))

    def leave(self, block_id: int, path: Path, current: dict, wire=None) -> dict:
        """After the block: the back edges of a spanning loop, and the reactions its
        breaks leave current. Returns the state that what follows the block extends.
        `wire(reaction)`: makes a join not wired yet (nothing followed it) take its
        arrivals, before a back edge adds to it."""
        current = dict(current)
        self._restart_heads(block_id, last=True)
        into: dict[int, tuple[object, list[Path]]] = {}
        critical = self.criticals.pop(block_id, None)
        if critical is not None and critical.spanning:
            timer = f"timeout_{critical.key}" if critical.timer is not None else None
            for r in critical.holders.values():
                r.tree.spanning[block_id] = (critical.key, timer)
        loop = self.loops.pop(block_id, None)
        if loop is not None and loop.decider is not None:
            self._leaving = [loop]
            # the decider first: its back edge is the loop's own (made first, as before
            # other services that start each iteration too had theirs)
            for p in sorted(loop.heads, key=lambda p: p != loop.decider):
                self._back_edges(block_id, path, loop, p, current, into, wire)
            self._leaving = []
        if loop is not None and loop.decider is not None:
            self._followers(block_id, path, loop, current, into)
        for state, inner, break_id in self.exits.pop(block_id, ()):
            for p, reactions in state.items():
                for r in reactions:
                    base = r.tree.base
                    if base[:len(inner)] == inner:  # it started inside the break
                        keep(current, p, r)
                    elif break_id in r.tree.opened and inside(base, path, block_id):
                        # its code decided the break and returns from it: what follows
                        # the block goes there too (a handler that holds the block, or a
                        # loop it runs, goes on after the block itself: the break's
                        # `else` holds the rest of the section, codegen/context.py)
                        if id(r) not in into:
                            kept = r in current.get(p, ())
                            into[id(r)] = (r, [path] if kept else [])
                        into[id(r)][1].append(inner)
                        keep(current, p, r)
        for r, paths in into.values():
            r.redirects.append((path, paths))
        return current

    def _back_edges(self, block_id: int, path: Path, loop: _Loop, p: str, current: dict,
                    into: dict, wire=None) -> None:
        """`p` starts each iteration (sends in the body before it receives there): where
        its iterations end in another handler than the one they start in, that handler
        sends the next iteration's start. For another service than the decider this is a
        non-local choice (lint unrealizable-choice): it asks its own `repeat_` hook."""
        body = (*path, (block_id, 0))
        ends = [r for r in current.get(p, ()) if r.tree.base[:len(body)] == body]
        if not ends:
            return  # the loop runs inside one handler: a plain loop
        block = self.blocks[block_id]
        back = -(block_id + 1)
        self.blocks[back] = Block("loop_back", (  # type: ignore[arg-type]
            Section(block.sections[0].label, (), block.span),
            Section("done", (), block.span)), block.span)
        for r in loop.holders[p].values():
            r.tree.unrolled.add(block_id)
        if wire is not None:  # (before any copy: wiring may add to the start)
            for r in ends:
                wire(r)
        # a critical of the start whose main section goes on in other handlers does so
        # in every iteration: each copy begins it as the start does (its handlers' check
        # that no option ran needs it)
        spanning = {b: v for h in loop.holders[p].values() for b, v in h.tree.spanning.items()
                    if any(b == at_b for at, _ in loop.heads[p] for at_b, _ in at[len(body):])}
        for r in ends:
            # the iteration ends after a block at the end of the body in some of whose
            # sections only `r` goes on (the skipped side of an `opt` whose message would
            # end the iteration in another handler): the back edge goes into those
            # sections, under `r`'s copy of the choice, as anything after the block would
            # (else both handlers started the next iteration: two per iteration)
            ends_in = [path]
            for k in range(len(r.redirects) - 1, -1, -1):
                start = r.redirects[k][0]
                if start[:len(body)] == body and all(  # (at the end of the body, or of
                        self.blocks[b].kind in ("par", "par_over", "rect")  # a par in it)
                        for b, _ in start[len(body):]):
                    ends_in = list(r.redirects.pop(k)[1])  # (the body is over)
                    break
            for at, action in loop.heads[p]:
                for where in ends_in:
                    r.add((*where, (back, 0), *at[len(body):]), action)
            for b, v in spanning.items():
                r.tree.spanning.setdefault(b, v)
            into[id(r)] = (r, [(*where, (back, 1)) for where in ends_in])

    def _followers(self, block_id: int, path: Path, loop: _Loop, current: dict,
                   into: dict) -> None:
        """Another service whose reaction started in the body (it receives in every
        iteration) would send what follows the loop after each iteration; it goes on
        after the loop only when its own `repeat_` hook, asked as the decider's is, says
        the loop is done (a non-local choice: the decider never tells it)."""
        body = (*path, (block_id, 0))
        back = -(block_id + 1)
        for p, reactions in current.items():
            if p == loop.decider:
                continue
            for r in reactions:
                if r.tree.base[:len(body)] != body or id(r) in into:
                    continue
                if back not in self.blocks:
                    block = self.blocks[block_id]
                    self.blocks[back] = Block("loop_back", (  # type: ignore[arg-type]
                        Section(block.sections[0].label, (), block.span),
                        Section("done", (), block.span)), block.span)
                into[id(r)] = (r, [(*path, (back, 1))])


_SECTIONED = frozenset({"alt", "critical", "par", "par_over"})


def inside(base: Path, path: Path, block_id: int) -> bool:
    """Does a reaction based at `base` run inside the block (the block is its context)?"""
    return len(base) > len(path) and base[:len(path)] == path and base[len(path)][0] == block_id


def keep(current: dict, p: str, r: object) -> None:
    if r not in current.get(p, ()):
        current[p] = (*current.get(p, ()), r)
