"""The choreography projection: each service reacts to the events it receives.

For each service P: what P sends before it has received anything is its entry point;
each receipt (a message to P, or a broker delivering an event to P) starts a reaction:
everything P sends after it, up to P's next receipt, with the blocks kept. A service has
one handler per event it consumes; when it receives the same event at several places in
the diagram, the handler has one case per place (identical cases are shown once).

Blocks decide where a send belongs:

* `alt`/`critical` sections and `par` sections each start from the state before the
  block (a reaction started in one section does not collect another section's sends);
* after an `alt`, a reaction that a section replaced by a new receipt continues only on
  the paths where it survived: what follows is placed at the end of those sections
  (`Shipping` publishes `ShipmentScheduled` in the `[standard]` branch, and in its
  `on CourierBooked` handler for the express path); `opt` counts as an alternative with
  an empty "skipped" section;
* a `break` ends its path inside the block that holds it: what follows that block joins
  the reactions current at the end of the break's section (the handler of a reply that
  took the break goes on after the loop); at top level nothing follows;
* after a `par`, events that follow from different sections of it may come in either
  order (a broker keeps order per publisher only): a service that receives them one
  after the other goes on once all have arrived, a join as when its own paths through
  the par end in different handlers (see origins.py); so do two events drawn one after
  the other from senders that nothing orders (`joined`: analysis/receipts.py);
* a `loop` whose body spans a receipt of the service that decides it (the sender of the
  body's first message) cannot be a `for` loop in one handler: its start sends the
  first iteration only, and each handler the body ends in decides whether to send the
  next one (a `loop_back` fragment: `again` repeats the body's start, `done` holds what
  follows the loop). See loops.py.
"""

from __future__ import annotations

from mermaidgen.analysis.events import Event, Hops
from mermaidgen.analysis.flow import (
    Enter,
    Item,
    Leave,
    Occurrence,
    Other,
    Path,
    SectionStart,
)
from mermaidgen.analysis.naming import NameTable, pascal, snake
from mermaidgen.contract.keys import strip_fields
from mermaidgen.model import Block, Note, Section
from mermaidgen.projection.loops import Spans, deciders, inside, keep
from mermaidgen.projection.origins import NONE, Origin, Origins, merge, unordered
from mermaidgen.projection.tree import TreeBuilder
from mermaidgen.projection.views import (
    Arrive,
    Choreography,
    Comment,
    Handler,
    HandlerCase,
    Join,
    LocalStep,
    Publish,
    ServiceChoreography,
    Timer,
)

_ALTERNATIVES = frozenset({"alt", "critical"})

# The methods and attributes the generated Service bases have (python's bus, faststream's
# service): a handler named like one (the event `Startup` has the hook `on_startup`) gets
# another name, or it would replace the runtime's own. tests/test_template_safety.py reads
# the runtimes for names missing here.
RUNTIME_METHODS = ("again", "arrive", "arrived", "begin_critical", "begin_loop", "broker",
                   "bus", "context", "critical_option", "criticals", "deliver",
                   "deliveries_in_order", "deps", "enter_critical", "forget_sent", "in_time",
                   "inputs", "iterations", "keep", "max_attempts", "message_id", "on_shutdown",
                   "on_startup", "publish", "publishers", "recall", "receive", "redelivery",
                   "sent_steps", "start", "start_sections", "step", "timers", "was_sent",
                   "which_message")


class _Reaction:
    """A handler case, the entry point or a join, being collected."""

    __slots__ = ("trigger", "event", "source", "tree", "line", "redirects", "pending",
                 "origin")

    def __init__(self, trigger: int | None, event: str | None, source: str | None,
                 tree: TreeBuilder, line: int, origin: Origin = NONE):
        self.trigger, self.event, self.source = trigger, event, source
        self.tree, self.line = tree, line
        self.origin = origin
        """The par sections the events it waited for follow from (origins.py)."""
        # (path of an alt, the paths inside it where this reaction survived)
        self.redirects: list[tuple[Path, list[Path]]] = []
        # a join not wired yet: (participant, arriving reactions, path, line, what it
        # follows: "par", "events", or the alt, opt or critical one of whose sections
        # ends an iteration of a loop: loops.py)
        self.pending: tuple[str, list[tuple], Path, int, str] | None = None

    def add(self, path: Path, action) -> None:
        for t in self.targets(path):
            self.tree.add(t, action)

    def targets(self, path: Path) -> list[Path]:
        """Where an action drawn at `path` goes in this reaction's tree (its redirects
        applied)."""
        targets = [path]
        # the latest first: a later block's sections are in the coordinates the actions
        # had before the earlier redirects moved them (into the sections they survived)
        for start, into in reversed(self.redirects):
            expanded = []
            for t in targets:
                if t[: len(start)] == start:
                    expanded.extend(dst + t[len(start):] for dst in into)
                else:
                    expanded.append(t)
            targets = expanded
        return targets


def _through_rect(current: dict[str, tuple[_Reaction, ...]], path: Path, block_id: int) -> None:
    """A `rect` only colours the drawing: what follows it is what follows the blocks
    inside it. A reaction whose later actions a block inside the rect redirects (the
    sections of an alt it survived, the end of a loop it heard) keeps doing so after the
    rect: actions drawn after it go into the rect first, then where those blocks send
    them."""
    inner = (*path, (block_id, 0))
    for reactions in current.values():
        for r in reactions:
            if any(start[:len(inner)] == inner for start, _ in r.redirects):
                r.redirects.append((path, [inner]))


def project(items: list[Item], services: list[str], brokers: frozenset[str],
            keys: tuple[str | None, ...], hops: Hops, events: tuple[Event, ...],
            module_names: dict[str, str], lost: frozenset[int] = frozenset(),
            joined_receipts: frozenset[int] = frozenset()) -> Choreography:
    """`lost`: the messages that never arrive (`-x` that neither answers nor destroys).
    `joined_receipts`: the receipts that may arrive before their receiver's previous one
    (`Analysis.joined_receipts`)."""
    blocks: dict[int, Block] = {it.block_id: it.block for it in items if isinstance(it, Enter)}
    occurrences = [it for it in items if isinstance(it, Occurrence)]
    entries: dict[str, _Reaction] = {}
    reactions: dict[str, list[_Reaction]] = {p: [] for p in services}
    joins: dict[str, list[tuple[_Reaction, int, str, bool]]] = {}
    join_names: set[tuple[str, str]] = set()  # (participant, join name)
    # what each participant is reacting to right now (after an alternative, possibly
    # several reactions at once: what follows belongs to each of them)
    current: dict[str, tuple[_Reaction, ...]] = {}
    # open blocks: (kind, block id, path inside it, state before, state per section)
    frames: list[tuple[str, int, Path, dict, list[dict]]] = []

    # joins made at the end of a par (or on receipts that follow from its sections) are
    # wired (arrivals and all) only once something follows: a par that ends its
    # participant's reaction needs no join. What
    # wiring needs is kept on the join itself, not by id(): a join dropped unwired frees
    # its id for a later reaction, which would become that join.

    # holder block id -> (a break inside it, the services that first act in the break)
    not_taken: dict[int, list[tuple[int, list[str]]]] = {}
    # the breaks in the current section of a block other than a loop, while the rest of
    # the section is walked (a taken break ends the rest of that section)
    broken: list[_Break] = []
    # block id -> the reactions that began inside a break in one of its sections, kept
    # until the block's sections are merged (an alt, opt or critical)
    began_in_breaks: dict[int, list[tuple[str, _Reaction]]] = {}

    def section_end(block_id: int, path: Path, state: dict, kind: str) -> dict:
        """A section of the block `block_id` (drawn at `path`) ends in `state`; so does
        each break taken in it, for a par, alt, opt or critical alike: the reactions that
        began inside the break (the handler of a reply that took it) end the section
        too, and so does the taken branch of a reaction whose code holds the break (its
        own decision, or its copy of another's: _after_a_break) but not the block (it
        began inside the section): what follows the block goes there, before its code
        returns. A reaction whose code holds the block goes on after it (the taken branch
        ends the section's code, codegen)."""
        done = [b for b in broken if b.holder == block_id]
        if not done:
            return state
        broken[:] = [b for b in broken if b.holder != block_id]
        state = dict(state)
        for b in done:
            if kind in ("par", "par_over", "break"):  # (a par's ends arrive at its join;
                # an enclosing break's are its own)
                for p, r in b.began:
                    keep(state, p, r)
            else:  # (after the merge: reached only in the break, a service has no
                # entry point's copy of the block's choice, but of the break's: _not_taken)
                began_in_breaks.setdefault(block_id, []).extend(b.began)
            for _, r in b.copied.values():
                # (its section is over: nothing more goes to `not taken`)
                r.redirects = [x for x in r.redirects if x[0] != b.at]
            taken = [*((p, r, (*b.at, (-(b.block + 1), 0))) for p, r in b.copied.values()),
                     *((p, r, (*b.at, (b.block, 0))) for p, r in b.own)]
            for p, r, branch in taken:
                if not inside(r.tree.base, path, block_id):
                    continue
                goes_on = r in state.get(p, ())
                r.redirects.append((path, [path, branch] if goes_on else [branch]))
                keep(state, p, r)
        return state
    found_deciders = deciders(items, brokers, hops, occurrences)
    spans = Spans(blocks)
    origins = Origins(blocks)

    def new_join(p: str, arriving: list[tuple], at: Path, line: int,
                 follows: str = "par") -> _Reaction:
        origin = merge(*(r.origin for reaction in arriving for r in reaction))
        join = _Reaction(None, None, None, TreeBuilder(at, blocks), line, origin)
        join.pending = (p, arriving, at, line, follows)
        return join

    def entry_of(p: str) -> _Reaction:
        if p not in entries:
            entries[p] = _Reaction(None, None, None, TreeBuilder((), blocks), 0)
        return entries[p]

    def entered(before: dict, ends: list[dict]) -> dict:
        """`before`, with the entry point of each participant that had neither sent nor
        received anything before the block but does in some section: on a path that never
        reaches it, what follows the block is sent on its own, from its entry point (as
        when it acts before the block), deciding the block with its own hook (a non-local
        choice: lint unrealizable-choice)."""
        late = [p for end in ends for p in end if p not in before]
        return {**{p: (entry_of(p),) for p in dict.fromkeys(late)}, **before}

    def add(p: str, path: Path, action) -> None:
        if p not in current:
            current[p] = (entry_of(p),)
        for b in broken:
            if path[:len(b.at)] == b.at:
                _after_a_break(p, current[p], entries.get(p), blocks, b)
        spans.sent(p, path, action, current[p])
        for r in current[p]:
            wire(r)
            r.add(path, action)

    def wire(r: _Reaction) -> None:
        """A join gets its arrivals once something follows it."""
        if r.pending is not None:
            owner, arriving, at, line, follows = r.pending
            r.pending = None
            after_par = follows == "par"
            after_section = follows if follows not in ("par", "events") else ""
            base = (f"after_{after_section}_line_{line}" if after_section else
                    f"after_par_line_{line}" if after_par else f"after_line_{line}")
            name, n = base, 1
            while (owner, name) in join_names:  # a second join after the same par
                n += 1
                name = f"{base}_{n}"
            join_names.add((owner, name))
            for reaction in arriving:
                for arrived in reaction:
                    arrival = Arrive(name, line, after_par, after_section)
                    arrived.add(at, arrival)
                    spans.arrived(owner, at, arrival, arrived)
            joins.setdefault(owner, []).append((r, len(arriving), name, after_par,
                                                after_section))

    def receive(p: str, o: Occurrence, source: str, origin: Origin) -> None:
        r = _Reaction(o.index, keys[o.index], source, TreeBuilder(o.path, blocks), o.line,
                      origin)
        reactions.setdefault(p, []).append(r)
        current[p] = joined(p, r, o.path) or (r,)
        spans.received(p, r, o.path)

    def joined(p: str, r: _Reaction, at: Path) -> tuple[_Reaction, ...] | None:
        """When `r`'s event may come before what `p`'s current reaction waited for (they
        follow from different sections of a par, or nothing orders them): the join both
        arrive at."""
        now = current.get(p, ())
        if not now:
            return None
        par = unordered(merge(*(x.origin for x in now)), r.origin) if r.origin else None
        if par is None and r.trigger not in joined_receipts:
            return None
        if any(x.tree.base != at for x in now):
            return None  # (in another block: left to the blocks' own joins)
        if len(now) == 1 and now[0].pending is not None:  # nothing followed it yet
            now[0].pending[1].append((r,))
            now[0].origin = merge(now[0].origin, r.origin)
            return now
        if par is None:
            return (new_join(p, [now, (r,)], at, r.line, follows="events"),)
        return (new_join(p, [now, (r,)], at, blocks[par].span.line),)

    for it in items:
        if isinstance(it, Enter):
            frames.append((it.block.kind, it.block_id, it.path, dict(current), []))
            origins.enter()
            spans.enter(it.block_id, it.block, it.path, found_deciders.get(it.block_id))
        elif isinstance(it, SectionStart):
            kind, _, _, before, ends = frames[-1]
            if it.index > 0:
                origins.section()
            if kind in _ALTERNATIVES or kind in ("par", "par_over"):
                if it.index > 0:
                    ends.append(section_end(it.block_id, frames[-1][2], current, kind))
                    current = spans.section(
                        it.block_id, it.index, it.path, dict(before),
                        lambda at, line=it.section.span.line: _Reaction(
                            None, None, None, TreeBuilder(at, blocks), line))
        elif isinstance(it, Leave):
            kind, block_id, path, before, ends = frames.pop()
            origins.leave()
            current = section_end(block_id, path, current, kind)  # (its last section)
            if kind == "break":  # when taken, what follows the enclosing block follows
                holder = next((f for f in reversed(frames) if f[0] != "rect"), None)
                inner = (*path, (block_id, 0))
                if holder is not None and holder[0] != "loop":
                    broken.append(_Break(holder[1], block_id, path, before, current))
                elif holder is not None:  # (its reactions go on after the loop: loops.py)
                    spans.exit(holder[1], current, inner, block_id)
                if holder is not None and holder[0] not in ("par", "par_over"):
                    late = [p for p, rs in current.items() if p not in before and rs
                            and all(r.tree.base[:len(inner)] == inner for r in rs)]
                    if late:
                        not_taken.setdefault(holder[1], []).append((block_id, late))
                elif holder is None:  # taken, it ends the run: nobody else goes on
                    current = _stopped(before, current, services, blocks, block_id, path,
                                       entry_of)
                    continue
                current = before
                continue
            if kind in _ALTERNATIVES:
                ends = [*ends, current]
                current = _merge(entered(before, ends), ends, path, block_id)
                if kind == "critical":
                    _decided_elsewhere(current, blocks, block_id, path,
                                       found_deciders.get(block_id))
                current = spans.sections_end(block_id, path, current, new_join)
            elif kind in ("par", "par_over"):
                # in the order drawn, not a set's: the projection must not depend on the
                # hash seed
                for p in dict.fromkeys(p for end in [*ends, current] for p in end):
                    arriving = _arrivals(before, [*ends, current], p)
                    if len(arriving) <= 1:
                        current[p] = arriving[0] if arriving else ()
                        continue
                    # branches end in different handlers: continue once all have arrived
                    current[p] = (new_join(p, arriving, path, blocks[block_id].span.line),)
            elif kind == "opt":  # an alternative to an implicit "skipped" section
                before = entered(before, [current])
                current = _merge(before, [current, before], path, block_id)
                current = spans.sections_end(block_id, path, current, new_join)
            for p, r in began_in_breaks.pop(block_id, ()):
                keep(current, p, r)
            current = spans.leave(block_id, path, current, wire)
            if kind == "rect":
                _through_rect(current, path, block_id)
            for break_id, late in not_taken.pop(block_id, ()):
                current = _not_taken(current, late, blocks, break_id, path, entry_of)
        elif isinstance(it, Occurrence):
            m = it.message
            if it.index in hops.acks or (m.sender in brokers and m.receiver in brokers):
                continue  # a broker's own business
            # what the message carries: the par sections its sender's state follows from
            sent = origins.send(m.sender, it.path, it.index) if m.sender not in brokers \
                else NONE
            if m.sender == m.receiver:
                if m.sender not in brokers:
                    add(m.sender, it.path, LocalStep(it.index, m.text,
                                                     snake(strip_fields(m.text), "step"), it.line))
            elif m.sender in brokers:
                published = hops.source[it.index]
                producer = occurrences[published].sender if published is not None else m.sender
                receive(m.receiver, it, producer,
                        origins.deliver(m.receiver, it.path, published))
            else:
                add(m.sender, it.path, Publish(it.index, keys[it.index] or "", m.receiver,
                                               it.line))
                if m.receiver not in brokers and it.index not in lost:
                    receive(m.receiver, it, m.sender, origins.receive(m.receiver, sent))
        elif isinstance(it, Other) and isinstance(it.statement, Note):
            note = it.statement
            for p in dict.fromkeys(note.participants):
                if p not in brokers:
                    add(p, it.path, Comment(note.text, note.span.line))

    by_key = {e.key: e for e in events}
    views = []
    for p in services:
        names = NameTable(RUNTIME_METHODS)
        handlers: dict[str, list[_Reaction]] = {}
        for r in reactions.get(p, []):
            handlers.setdefault(r.event or "", []).append(r)
        built = []
        for key, group in handlers.items():
            event = by_key.get(key)
            base = "on_" + snake(event.name if event else "message", "message")
            cases = tuple(HandlerCase(r.trigger or 0, r.source or "", r.line,
                                      r.tree.build(names)) for r in group)
            built.append(Handler(key, names.name(("handler", key), base), cases))
        entry = entries.get(p)
        publishes = [e.key for e in events if p in e.producers]
        consumes = [e.key for e in events if p in e.consumers]
        built_joins = tuple(Join(name, arrivals, j.line, j.tree.build(names), after_par,
                                 after_section)
                            for j, arrivals, name, after_par, after_section in joins.get(p, []))
        timers = tuple(
            Timer(f"timeout_{c.key}", c.key, f"seconds_{c.key}", c.seconds, c.timer.line,
                  c.timer.tree.build(names))
            for decider, c in spans.timers if decider == p)
        views.append(ServiceChoreography(
            p, module_names[p], pascal(module_names[p], "Service"),
            entry.tree.build(names) if entry else (), tuple(built), tuple(publishes),
            tuple(consumes), built_joins, timers))
    return Choreography(tuple(views), events)


def _arrivals(before: dict, ends: list[dict], p: str) -> list[tuple]:
    """The distinct reactions that `p`'s paths end in, one per `par` section."""
    distinct: dict[tuple, tuple] = {}
    for end in ends:
        reactions = end.get(p, before.get(p, ()))
        distinct.setdefault(tuple(id(r) for r in reactions), reactions)
    return [r for r in distinct.values() if r]


def _merge(before: dict, ends: list[dict], alt_path: Path | None, block_id: int) -> dict:
    """After a block whose sections are alternatives (or run side by side): what
    follows belongs to every reaction some section left current. With `alt_path`, a
    reaction that some section replaced continues only inside the sections where it
    survived (alternatives that cannot be told apart after the block)."""
    merged = dict(before)
    for p in dict.fromkeys(p for end in ends for p in end):  # drawn order, not a set's
        found: dict[int, tuple] = {}
        survived: dict[int, list[int]] = {}
        for k, end in enumerate(ends):
            for r in end.get(p, before.get(p, ())):
                found[id(r)] = r
                survived.setdefault(id(r), []).append(k)
        for rid, r in found.items():
            sections = survived[rid]
            if alt_path is not None and len(sections) < len(ends) and \
                    not inside(r.tree.base, alt_path, block_id):  # (it holds no block)
                into = [(*alt_path, (block_id, k)) for k in sections]
                r.redirects.append((alt_path, into))
        merged[p] = tuple(found.values())
    return merged


def _not_taken(current: dict, late: list[str], blocks: dict[int, Block], break_id: int,
               path: Path, entry_of) -> dict:
    """After the block that holds a break: a service that first acted in the break's
    section (the break's event reached it) still sends what follows on the paths where
    the break is not taken, from its entry point, under its own copy of the break's
    decision (`else` of `should_break_...`; a non-local choice: lint unrealizable-choice)."""
    brk = blocks[break_id]
    back = -(break_id + 1)
    blocks[back] = Block("break", (Section(brk.sections[0].label, (), brk.span),
                                   Section("not taken", (), brk.span)), brk.span)
    current = dict(current)
    for p in late:
        entry = entry_of(p)
        entry.redirects.append((path, [(*path, (back, 1))]))
        if entry not in current.get(p, ()):
            current[p] = (*current.get(p, ()), entry)
    return current


class _Break:
    """A break in a section of a block other than a loop, while the rest of that section
    is walked."""

    __slots__ = ("holder", "block", "at", "earlier", "copied", "began", "own")

    def __init__(self, holder: int, block: int, at: Path, before: dict, after: dict):
        self.holder, self.block, self.at = holder, block, at
        self.earlier = [r for rs in before.values() for r in rs]
        """The reactions current before it."""
        self.copied: dict[int, tuple[str, _Reaction]] = {}
        """Those that act after it in the section, under their own copy of it."""
        inner = (*at, (block, 0))
        self.began = [(p, r) for p, rs in after.items() for r in rs
                      if r.tree.base[:len(inner)] == inner]
        """The reactions current at the end of its section that began inside it."""
        self.own = [(p, r) for p, rs in after.items() for r in rs if block in r.tree.opened]
        """Those whose code decides it (it is among the blocks their tree holds)."""


def _after_a_break(p: str, reactions: tuple, entry, blocks: dict[int, Block],
                   b: _Break) -> None:
    """A service acts after a break in the section that holds it. A reaction that began
    after the break knows it was not taken (something told it), and the decider's code
    returns when it takes it; any other (one current before the break, or the entry
    point) goes on only under its own copy of the decision (`else` of
    `should_break_...`; a non-local choice, lint unrealizable-choice), which the path
    table drives with the decider's; when taken, it goes on after the holder (the
    caller redirects what follows it there too). As after a break at top level
    (_stopped)."""
    break_id, at = b.block, b.at
    for r in reactions:
        if id(r) in b.copied or break_id in r.tree.opened:
            continue
        if r is not entry and not any(r is x for x in b.earlier):
            continue
        b.copied[id(r)] = (p, r)
        brk = blocks[break_id]
        back = -(break_id + 1)
        blocks[back] = Block("break", (Section(brk.sections[0].label, (), brk.span),
                                       Section("not taken", (), brk.span)), brk.span)
        r.redirects.append((at, [(*at, (back, 1))]))


def _decided_elsewhere(current: dict, blocks: dict[int, Block], block_id: int, path: Path,
                       decider: str | None) -> None:
    """After a `critical`: a reaction of another service than its decider, begun before
    the block, holds what follows in the sections it goes on in. Its copy of the block
    cannot be a `try` (nothing it runs in the main section fails): it is a choice of its
    own (`choose_...`, an `alt` of the critical's sections; a non-local choice, lint
    unrealizable-choice), which the path table drives with the decider's recovery."""
    block = blocks[block_id]
    copy = -(block_id + 1)
    for p, reactions in current.items():
        if p == decider:
            continue
        for r in reactions:
            base = r.tree.base
            if len(base) > len(path) and base[:len(path)] == path and \
                    base[len(path)][0] == block_id:
                continue  # begun inside the block: its section is known
            if not r.redirects or r.redirects[-1][0] != path:
                continue
            start, into = r.redirects[-1]
            if not all(t[len(path)][0] == block_id for t in into):
                continue
            blocks.setdefault(copy, Block("alt", tuple(
                Section(s.label, (), s.span) for s in block.sections), block.span))
            r.redirects[-1] = (start, [(*path, (copy, t[len(path)][1])) for t in into])


def _stopped(before: dict, after: dict, services: list[str], blocks: dict[int, Block],
             break_id: int, path: Path, entry_of) -> dict:
    """After a break at top level: its decider's code returns when it takes it; every
    other service goes on only under its own copy of the decision (`else` of
    `should_break_...`), at its entry point when it had not acted yet (a non-local
    choice: nothing tells it the run ended)."""
    brk = blocks[break_id]
    back = -(break_id + 1)
    blocks[back] = Block("break", (Section(brk.sections[0].label, (), brk.span),
                                   Section("not taken", (), brk.span)), brk.span)
    current = dict(before)
    for p in services:
        reactions = before.get(p) or (entry_of(p),)
        if any(break_id in r.tree.opened for r in reactions):
            continue  # it decides the break: its code returns when taken
        for r in reactions:
            r.redirects.append((path, [(*path, (back, 1))]))
        current[p] = reactions
    return current
