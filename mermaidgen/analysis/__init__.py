"""Interaction analysis: roles, brokers, events, style and lint.

`analyse(diagram)` is one pass over the statements per concern, each linear; the result
is immutable data that templates and previews read and never change. The projections
(what each service or the orchestrator does) are the next stage, `mermaidgen.projection`,
which reads an analysis; the analysis knows nothing of them, so the pipeline flows one way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeVar

from mermaidgen.analysis import lint
from mermaidgen.analysis.events import Event, Hops, catalogue, is_broker, pair_hops
from mermaidgen.analysis.flow import Item, Occurrence, occurrences, stream
from mermaidgen.analysis.naming import NameTable, Pins, snake, stable_names
from mermaidgen.analysis.receipts import unordered_receipts
from mermaidgen.analysis.roles import Roles, assign
from mermaidgen.collection import paused_collection
from mermaidgen.errors import UsageError
from mermaidgen.model import Diagnostic, Diagram
from mermaidgen.model.quick_init import quicken

_ORCHESTRATOR_NAME = re.compile(
    r"orchestrat|coordinat|saga|workflow|process[\s_-]*manager|conductor", re.IGNORECASE)
STYLES = ("choreography", "orchestration")


@dataclass(frozen=True, slots=True)
class MessageInfo:
    """What one message is: its role, the call it answers and its broker hop."""

    index: int
    occurrence: Occurrence
    role: str
    """request, reply, event, self, lost or destroy."""
    reply_to: int | None
    replies: tuple[int, ...]
    hop: str | None
    """publish (to a broker), deliver (from a broker to a consumer), forward (from one
    broker to another), ack (from a broker back to the publisher) or None."""


@dataclass(frozen=True, slots=True)
class StyleChoice:
    """The style `auto` picks for a diagram, and why."""

    style: str
    reason: str


class Analysis:
    """What a diagram means. Roles, brokers, style and diagnostics are computed by
    `analyse()`; the event catalogue is built on first use (a `check` needs none), then
    kept. The attributes the projections read (`items`, `broker_set`, `event_keys`,
    `orchestrator_choice`, `joined_receipts`) are public for that reason."""

    def __init__(self, diagram: Diagram, items: list[Item], occs: list[Occurrence],
                 roles: Roles, brokers: frozenset[str], services: tuple[str, ...],
                 module_names: dict[str, str], hops: Hops, orchestrator: tuple[str, bool, str],
                 style: StyleChoice, diagnostics: tuple[Diagnostic, ...],
                 joined_receipts: frozenset[int] = frozenset()):
        self.diagram = diagram
        self.roles = roles
        self._occurrences = occs
        self._messages: tuple[MessageInfo, ...] | None = None
        self.brokers = tuple(p.id for p in diagram.participants if p.id in brokers)
        self.services = services
        self.module_names = module_names
        """A unique snake_case identifier per participant (and the orchestrator)."""
        self.hops = hops
        self.style = style
        self.diagnostics = diagnostics
        self.items = items
        """The statements as a flat stream: message occurrences and block boundaries."""
        self.broker_set = brokers
        self.orchestrator_choice = orchestrator
        self.joined_receipts = joined_receipts
        """The receipts a choreography joins with their receiver's previous one: they may
        arrive first (analysis/receipts.py)."""
        """(participant, synthetic, reason): the orchestrator an orchestration would have."""
        self._events: tuple[tuple[Event, ...], tuple[str | None, ...]] | None = None

    @property
    def messages(self) -> tuple[MessageInfo, ...]:
        """Every message with its role, its request or replies, and its broker hop."""
        if self._messages is None:
            roles = self.roles
            self._messages = tuple(
                MessageInfo(o.index, o, roles.role[o.index], roles.reply_to[o.index],
                            roles.replies[o.index],
                            self._hop(o))
                for o in self._occurrences)
        return self._messages

    def _hop(self, o: Occurrence) -> str | None:
        brokers = self.broker_set
        if o.sender in brokers:
            if o.receiver in brokers:
                return "forward"
            return "ack" if o.index in self.hops.acks else "deliver"
        return "publish" if o.receiver in brokers else None

    def _catalogue(self) -> tuple[tuple[Event, ...], tuple[str | None, ...]]:
        if self._events is None:
            self._events = catalogue(self._occurrences, self.broker_set, self.hops,
                                     NameTable())
        return self._events

    @property
    def events(self) -> tuple[Event, ...]:
        """Every distinct event: name, class name, channel, producers, consumers."""
        return self._catalogue()[0]

    def event_of(self, index: int) -> str | None:
        """The key of the event message `index` carries (None for self messages)."""
        return self._catalogue()[1][index]

    @property
    def event_keys(self) -> tuple[str | None, ...]:
        """Per message index, the key of the event it carries (None for self messages)."""
        return self._catalogue()[1]

    def event(self, key: str) -> Event | None:
        return next((e for e in self.events if e.key == key), None)


A = TypeVar("A", bound=Analysis)


def analyse(diagram: Diagram, orchestrator: str | None = None,
            pins: Pins | None = None, *, kind: type[A] = Analysis) -> A:  # type: ignore[assignment]
    """Roles, brokers, style and lint of a diagram (`mermaidgen.projection` reads it on).
    `pins`: the module names earlier runs gave participants (kept, see `stable_names`).
    `kind`: the class of the result, `Analysis` or a subclass (the public
    `mermaidgen.analyse` returns one that offers the projections as attributes too)."""
    with paused_collection():  # like parsing: many objects that all live on
        return _analyse(diagram, orchestrator, pins, kind)


def _analyse(diagram: Diagram, orchestrator: str | None, pins: Pins | None,
             kind: type[A]) -> A:
    items = stream(diagram)
    occs = occurrences(items)
    brokers = frozenset(p.id for p in diagram.participants if is_broker(p))
    hops = pair_hops(occs, brokers)
    # a queue that sends what nobody published into it (a scheduler's tick, an external
    # feed) is where those events start: it acts as a service, not as a broker
    sources = {o.message.sender for o in occs
               if o.message.sender in brokers and hops.source[o.index] is None
               and o.index not in hops.acks}
    if sources:
        brokers -= sources
        hops = pair_hops(occs, brokers)
    services = tuple(p.id for p in diagram.participants if p.id not in brokers)
    roles = assign(items, brokers)

    collisions: list[tuple[str, str, str]] = []
    bases = [(p.id, snake(p.label if len(p.id) <= 2 < len(p.label) else p.id,
                          f"participant_{i}"))
             for i, p in enumerate(diagram.participants, 1)]
    modules, module_names = stable_names(bases, pins)
    base_owner: dict[str, str] = {}
    for pid, base in bases:
        if base in base_owner and module_names[pid] != base:
            collisions.append(("participant", base_owner[base], pid))
        base_owner.setdefault(base, pid)

    chosen = _orchestrator(diagram, roles, occs, brokers, orchestrator)
    if chosen[1]:
        module_names[chosen[0]] = modules.name(("participant", chosen[0]), snake(chosen[0]))
    style = _style(occs, roles, brokers, *chosen)
    lost = frozenset(i for i, r in enumerate(roles.role) if r == "lost")
    receipts = unordered_receipts(items, hops, occs, brokers, lost)
    diagnostics = lint.check(diagram, items, roles, hops, brokers, collisions, receipts)
    return kind(diagram, items, occs, roles, brokers, services, module_names, hops, chosen,
                style, tuple(diagnostics), receipts.joined)


def _orchestrator(diagram: Diagram, roles: Roles, occs: list[Occurrence],
                  brokers: frozenset[str], requested: str | None) -> tuple[str, bool, str]:
    """(orchestrator id, synthetic?, why)."""
    ids = [p.id for p in diagram.participants]
    if requested is not None:
        for p in diagram.participants:
            if requested in (p.id, p.label):
                return p.id, False, f"`{p.id}` was chosen with --orchestrator"
        raise UsageError(f"--orchestrator {requested}: the diagram has no such participant "
                         f"(participants: {', '.join(ids) or 'none'})")
    for p in diagram.participants:
        if p.id in brokers:
            continue
        if _ORCHESTRATOR_NAME.search(p.id):
            return p.id, False, f"`{p.id}` is named like an orchestrator"
        if _ORCHESTRATOR_NAME.search(p.label):  # say so: the id alone may not look it
            return p.id, False, f"`{p.id}` is labelled like an orchestrator (`{p.label}`)"
    part: dict[str, int] = {}
    calls: dict[str, int] = {}
    pairs = 0
    for o in occs:
        if roles.role[o.index] == "request":
            pairs += 1
            part[o.sender] = part.get(o.sender, 0) + 1
            part[o.receiver] = part.get(o.receiver, 0) + 1
            calls[o.sender] = calls.get(o.sender, 0) + 1
    if part:
        kinds = {p.id: p.kind for p in diagram.participants}
        hub = max(part, key=lambda p: (part[p], kinds.get(p) != "actor", calls.get(p, 0),
                                       -ids.index(p)))
        return hub, False, (f"`{hub}` takes part in {part[hub]} of the {pairs} "
                            "request/reply pairs")
    name, n = "Orchestrator", 2
    while name in ids:
        name, n = f"Orchestrator{n}", n + 1
    return name, True, ("no participant is named like an orchestrator and none answers "
                        f"requests, so a new `{name}` drives each message as a step")


def _style(occs: list[Occurrence], roles: Roles, brokers: frozenset[str], orchestrator: str,
           synthetic: bool, reason: str) -> StyleChoice:
    if not synthetic and "like an orchestrator" in reason:
        return StyleChoice("orchestration", reason)
    talk = [o for o in occs if roles.role[o.index] != "self"]
    paired = sum(1 for o in talk if roles.role[o.index] in ("request", "reply"))
    if talk and not synthetic and paired * 2 >= len(talk):
        return StyleChoice("orchestration", f"{paired} of {len(talk)} messages are "
                           f"request/reply pairs, centred on `{orchestrator}`")
    if brokers:
        names = ", ".join(f"`{b}`" for b in sorted(brokers))
        return StyleChoice("choreography", f"events go through the broker {names}")
    asyncs = sum(1 for o in talk if o.message.arrow in ("-)", "--)"))
    if talk and asyncs * 2 >= len(talk):
        return StyleChoice("choreography", "most messages are async events (`-)` arrows)")
    share = "none" if paired == 0 else f"only {paired}"
    return StyleChoice("choreography", f"{share} of the {len(talk)} messages are "
                       "request/reply pairs and no participant is named like an "
                       "orchestrator: the services react to each other's messages")

# built by the thousand for a large diagram (see model/quick_init.py)
quicken(MessageInfo, StyleChoice)
