"""Spans → the diagram's messages (*hops*), with every decision written down.

A message is sent by one span and received by another: a PRODUCER span and the CONSUMER
span that links to it or is its child (messaging), a CLIENT span and its SERVER child
(HTTP, RPC); several SERVER spans of one service under one CLIENT span are attempts of
one call (an activity retried): it arrives with the first, the last one answers unless
it ended in error. Its sender and receiver are the participants of the two spans' services
(`participants.py`); a side without a span (an actor nobody instruments, a service that
exports no traces) is found from the diagram: the one message of that name into the
receiver (out of the sender) whose other end has no spans in the trace.

Which diagram message, among those between the two participants, in this order:

1. `mermaidgen.line` on either span: the message drawn on that line;
2. `mermaidgen.event` on either span: its event key;
3. the messaging destination (`messaging.destination.name`) equals the topic written in
   the message's text (`OrderPlaced (orders.v1)`);
4. the event key (`contract/keys.py`) of a name the spans carry equals the message's:
   the destination, `METHOD route` and the route (`http.route`, `http.request.method`),
   the RPC method, the span names (and the type in Temporal's `RunActivity:svc.operation`);
5. failing all of these, the only message (the only event key) between the two.

Between two participants with a broker drawn between them (`A->>Kafka`, `Kafka->>B`) the
pair becomes the two hops the diagram draws: the publish once per producer span, a
delivery per consumer span. A sending span whose parent is a sending span of the same
service is part of its parent's send (FastStream writes a `create` span, the consumer's
parent, and under it the `publish` span), not a message of its own.

A request that the diagram answers (`analysis` roles) over HTTP or RPC (a CLIENT/SERVER
pair) gets its reply when the server span ends (over messaging, the reply is an event of
its own, with its own spans): the reply named by `mermaidgen.reply`, else the only one
the diagram draws; when the diagram draws several (an `alt` of replies) and no attribute
names one, the hop keeps them all and `check.py` tries each. A reply that some span names
by line is a message of its own (a Temporal workflow's answer), not inferred. A client
span that ends as it starts (a Temporal workflow writes its spans as instants) does not
say when the reply came: an INTERNAL span of the receiver naming the reply's line does
(a *receipt*; such a span is no message itself). An INTERNAL span is a self
message (`A->>A`) when its name's event key (or its attributes) says so; other INTERNAL
spans are the services' own business and are not reported. A span between participants
that matches no message is *unmatched*: reported, not checked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from mermaidgen.analysis import Analysis
from mermaidgen.analysis.events import topic
from mermaidgen.contract.keys import event_key
from mermaidgen.verify.participants import Participants
from mermaidgen.verify.spans import (
    CLIENT,
    CONSUMER,
    INTERNAL,
    PRODUCER,
    RECEIVING,
    SENDING,
    Span,
    failed,
)

MESSAGING = frozenset({PRODUCER, CONSUMER})

Clocked = tuple[str, int]
"""(clock, nanoseconds): a time as one service's clock read it."""


@dataclass(frozen=True, slots=True)
class DiagramMessage:
    index: int
    sender: str
    receiver: str
    text: str
    line: int
    key: str
    topic: str | None
    role: str
    replies: tuple[int, ...]


class Catalogue:
    """The diagram's messages, indexed for the lookups the mapping makes (built once)."""

    def __init__(self, analysis: Analysis) -> None:
        self.messages: list[DiagramMessage] = []
        for info in analysis.messages:
            m = info.occurrence.message
            drawn = topic(m.text, info.hop is not None)
            self.messages.append(DiagramMessage(
                info.index, m.sender, m.receiver, m.text, m.span.line, event_key(m.text),
                drawn.lower() if drawn else None, info.role, info.replies))
        self.brokers = frozenset(analysis.brokers)
        self.by_pair: dict[tuple[str, str], list[DiagramMessage]] = {}
        self.by_line: dict[int, list[DiagramMessage]] = {}
        for m in self.messages:
            self.by_pair.setdefault((m.sender, m.receiver), []).append(m)
            self.by_line.setdefault(m.line, []).append(m)

    def between(self, sender: str | None, receiver: str | None,
                silent: frozenset[str]) -> list[DiagramMessage]:
        """Messages from `sender` to `receiver`; an unknown end is any participant without
        spans in the trace (`silent`)."""
        if sender is not None and receiver is not None:
            return self.by_pair.get((sender, receiver), [])
        return [m for m in self.messages
                if (m.sender == sender if sender is not None else m.sender in silent)
                and (m.receiver == receiver if receiver is not None else m.receiver in silent)
                and m.sender != m.receiver]


@dataclass(slots=True)
class Hop:
    """One message of the trace, in the diagram's names."""

    sender: str
    receiver: str
    texts: tuple[str, ...]
    """The diagram text; several for a reply the spans do not name (any may be it)."""
    send: Clocked | None
    recv: Clocked | None
    span: Span
    after: list[int] = field(default_factory=list)
    """Hops this one happened after, read off the span tree (not off timestamps)."""


@dataclass(slots=True)
class Mapped:
    hops: list[Hop]
    unmatched: list[tuple[Span, str]]
    decisions: list[str]


def _names(spans: Iterable[Span | None]) -> tuple[list[str], list[str]]:
    """Names the spans carry (most specific first) and the destinations they send to."""
    names: list[str] = []
    topics: list[str] = []
    for s in spans:
        if s is None:
            continue
        a = s.attributes
        dest = a.get("messaging.destination.name", a.get("messaging.destination"))
        if isinstance(dest, str) and dest:
            topics.append(dest.lower())
            names.append(dest)
        route = a.get("http.route")
        method = a.get("http.request.method", a.get("http.method"))
        if isinstance(route, str) and route:
            if isinstance(method, str):
                names.append(f"{method} {route}")
            names.append(route)
        rpc = a.get("rpc.method")
        if isinstance(rpc, str) and rpc:
            names.append(rpc)
        if s.name:
            names.append(s.name)
            kind, colon, what = s.name.partition(":")
            if colon and what and " " not in kind:
                # Temporal's `RunActivity:payments.charge_card`, `RunWorkflow:orders.create_order`:
                # the activity or workflow type, and the operation in it
                names += [what, what.rpartition(".")[2]]
    return names, topics


def _explicit(spans: Iterable[Span | None], key: str) -> object:
    for s in spans:
        if s is not None and s.attributes.get(key) not in (None, ""):
            return s.attributes[key]
    return None


def _pick(found: list[DiagramMessage], spans: tuple[Span | None, ...]
          ) -> tuple[list[DiagramMessage], str]:
    """The messages among `found` the spans name, and by which rule (see the module)."""
    event = _explicit(spans, "mermaidgen.event")
    if isinstance(event, str):
        key = event_key(event)
        return [m for m in found if m.key == key], f"mermaidgen.event `{event}`"
    names, topics = _names(spans)
    if topics:
        hit = [m for m in found if m.topic in topics]
        if hit:
            return hit, f"destination `{hit[0].topic}` is the topic the diagram names"
    for name in names:
        key = event_key(name)
        hit = [m for m in found if m.key == key]
        if hit:
            return hit, f"event key `{key}` (from `{name}`)"
    if len({(m.sender, m.receiver, m.key) for m in found}) == 1:
        m = found[0]
        return found, f"the only message from {m.sender} to {m.receiver}"
    return [], ""


class Mapper:
    """Maps the spans of one trace at a time (the catalogue and participants are shared)."""

    def __init__(self, catalogue: Catalogue, participants: Participants) -> None:
        self.cat = catalogue
        self.parts = participants
        self.named: set[str] = set()
        self.receipts: dict[tuple[int, str], list[Span]] = {}

    def _receipt(self, lines: Iterable[int], receiver: str) -> Clocked | None:
        """When `receiver` had one of the messages drawn on `lines`, by the first of its
        receipt spans not taken yet (None: it has none)."""
        found = [(x.start, line) for line in lines
                 for x in self.receipts.get((line, receiver), [])[:1]]
        if not found:
            return None
        x = self.receipts[(min(found)[1], receiver)].pop(0)
        return x.clock, x.start

    def map(self, spans: list[Span], explain: bool = False) -> Mapped:
        parts = self.parts
        by_id = {s.span_id: s for s in spans}
        seen = frozenset(p for p in (parts.of(s.service) for s in spans) if p is not None)
        silent = frozenset(parts.ids) - seen
        out = Mapped([], [], [])
        paired: set[str] = set()
        received: dict[str, int] = {}  # span id -> the hop it received
        sent_by: list[Span] = []  # per hop, the span that sent it (for the tree edges)
        published: dict[str, int] = {}  # producer span id -> its publish hop (relays)

        def add(hop: Hop, sender_span: Span | None, receiver_span: Span | None) -> int:
            out.hops.append(hop)
            sent_by.append(sender_span or hop.span)
            if receiver_span is not None:
                received.setdefault(receiver_span.span_id, len(out.hops) - 1)
            return len(out.hops) - 1

        # an INTERNAL span that names (by line) a message its participant receives: when
        # it had that message (a Temporal workflow's spans are instants: its client span
        # does not say when the reply came)
        self.receipts = {}
        for x in spans:
            if x.kind == INTERNAL and "mermaidgen.line" in x.attributes:
                who = parts.of(x.service)
                line = str(x.attributes["mermaidgen.line"])
                if who is not None and line.isdigit() and any(
                        m.receiver == who != m.sender for m in self.cat.by_line.get(int(line), [])):
                    self.receipts.setdefault((int(line), who), []).append(x)
        for found in self.receipts.values():
            found.sort(key=lambda x: (x.start, x.end))
        receipt_ids = {x.span_id for found in self.receipts.values() for x in found}
        # a line some other span names: a reply named so is a message of its own, not
        # sent again when its request's server span ends
        self.named = {str(x.attributes["mermaidgen.line"]) for x in spans
                      if "mermaidgen.line" in x.attributes and x.span_id not in receipt_ids}
        attempts: dict[tuple[str, str | None, str], list[Span]] = {}
        for r in spans:
            parent = by_id.get(r.parent_id or "")
            if r.kind == CONSUMER or r.kind not in RECEIVING or parent is None \
                    or parent.kind != CLIENT:
                continue
            attempts.setdefault((parent.span_id, r.service, r.name), []).append(r)
        for r in spans:
            if r.kind not in RECEIVING:
                continue
            # a sending span it links to, else its parent: Temporal's `HandleSignal` span is
            # a child of the workflow's start and links to the signal's sending span
            s = next((by_id[i] for i in r.links if i in by_id and by_id[i].kind in SENDING),
                     None) or by_id.get(r.parent_id or "")
            if s is not None and s.kind not in SENDING:
                s = None
            attempt = r
            if s is not None and s.kind == CLIENT:
                # several server spans of one service under one client span: attempts of
                # one call (retries); the last one answers, unless it failed
                tries = attempts.get((s.span_id, r.service, r.name), [r])
                if len(tries) > 1:
                    if r is not max(tries, key=lambda t: (t.start, t.end)):
                        continue
                    attempt = min(tries, key=lambda t: (t.start, t.end))
            if s is not None:
                paired.add(s.span_id)
            self._pair(s, r, silent, out, add, published, explain, attempt)
        for s in spans:
            if s.kind in SENDING and s.span_id not in paired:
                parent = by_id.get(s.parent_id or "")
                if parent is not None and parent.kind in SENDING \
                        and parent.service == s.service:
                    continue  # one send in two spans: FastStream's `create`, then `publish`
                self._pair(s, None, silent, out, add, published, explain)
            elif s.kind == INTERNAL and s.span_id not in receipt_ids:
                self._internal(s, out, add, explain)
        # tree edges: a hop sent inside a span that received a hop came after it
        for i, span in enumerate(sent_by):
            up = by_id.get(span.parent_id or "") if span.kind in SENDING or \
                span.kind == INTERNAL else None
            steps = 0
            while up is not None and steps < len(spans):
                if up.span_id in received and received[up.span_id] != i:
                    out.hops[i].after.append(received[up.span_id])
                    break
                up = by_id.get(up.parent_id or "")
                steps += 1
        return out

    def _pair(self, s: Span | None, r: Span | None, silent: frozenset[str], out: Mapped,
              add, published: dict[str, int], explain: bool, attempt: Span | None = None
              ) -> None:
        """`attempt`: the first attempt, when `r` is the last of several."""
        parts = self.parts
        sender = parts.of(s.service) if s is not None else None
        receiver = parts.of(r.service) if r is not None else None
        if receiver is None and s is not None and isinstance(s.attributes.get("peer.service"),
                                                             str):
            receiver = parts.of(s.attributes["peer.service"])  # type: ignore[arg-type]
        spans = (s, r)
        main = r if r is not None else s
        assert main is not None
        if (s is not None and sender is None) or (r is not None and receiver is None):
            who = s.service if s is not None and sender is None else main.service
            out.unmatched.append((main, "a span without `service.name` is no participant of "
                                        "the diagram" if who is None else
                                  f"service `{who}` is no participant of the diagram"))
            return
        line = _explicit(spans, "mermaidgen.line")
        relay: tuple[DiagramMessage, DiagramMessage | None] | None = None
        if isinstance(line, (int, str)) and str(line).isdigit():
            found, rule = self.cat.by_line.get(int(line), []), f"mermaidgen.line {line}"
        else:
            found, rule = _pick(self.cat.between(sender, receiver, silent), spans)
            if not found and sender is not None:
                relay = self._relay(sender, receiver, spans)
        if relay:
            publish, deliver = relay[0], relay[1]
            if s is not None and s.span_id in published:
                first = published[s.span_id]
            else:
                first = add(Hop(publish.sender, publish.receiver, (publish.text,),
                                (s.clock, s.start) if s else None, None, main), s, None)
                if s is not None:
                    published[s.span_id] = first
            if deliver is not None and r is not None:
                i = add(Hop(deliver.sender, deliver.receiver, (deliver.text,), None,
                            (r.clock, r.start), r), None, r)
                out.hops[i].after.append(first)
            if explain:
                out.decisions.append(f"{main.where} span `{main.name}`: "
                                     f"{_arrow(publish)} (line {publish.line})"
                                     + (f" then {_arrow(deliver)} (line {deliver.line})"
                                        if deliver is not None and r is not None else "")
                                     + f", through the broker {publish.receiver}")
            return
        if not found:
            where = f"{sender or '?'} to {receiver or '?'}"
            out.unmatched.append((main, f"no message from {where} is named like "
                                        f"`{main.name}`"))
            return
        m = found[0]
        arrived = attempt if attempt is not None else r
        hop = Hop(m.sender, m.receiver, (m.text,), (s.clock, s.start) if s else None,
                  self._receipt((m.line,), m.receiver)
                  or ((arrived.clock, arrived.start) if arrived else None), main)
        i = add(hop, s, r)
        if explain:
            out.decisions.append(f"{main.where} span `{main.name}` ({main.kind}): "
                                 f"{_arrow(m)} (line {m.line}), by {rule}"
                                 + (", the last of its attempts" if arrived is not r else ""))
        if m.role != "request" or not m.replies or main.kind in MESSAGING:
            return  # over messaging, a reply is a message of its own, with its own spans
        if r is not None and failed(r):
            if explain:
                out.decisions.append(f"{main.where}   no reply: the span ended in error")
            return
        if any(str(self.cat.messages[k].line) in self.named for k in m.replies):
            return  # its reply has a span of its own
        replies = [self.cat.messages[k] for k in m.replies]
        named = _explicit(spans, "mermaidgen.reply")
        if isinstance(named, str):
            replies = [x for x in replies if x.key == event_key(named)] or replies
        texts = tuple(dict.fromkeys(x.text for x in
                                    {(x.sender, x.receiver, x.key): x for x in replies}.values()))
        # a client span that ends as it starts does not say when the reply came (a Temporal
        # workflow writes each of its spans whole at once, replay-safe)
        lines = [x.line for x in replies if x.text in texts]
        reply = Hop(m.receiver, m.sender, texts, (r.clock, r.end) if r else None,
                    (s.clock, s.end) if s and s.end > s.start
                    else self._receipt(lines, m.sender), main, [i])
        add(reply, r, s)
        if explain:
            what = texts[0] if len(texts) == 1 else " or ".join(f"`{t}`" for t in texts)
            out.decisions.append(f"{main.where}   its reply: {m.receiver}->>{m.sender}: "
                                 f"{what}" + (" (undetermined: set mermaidgen.reply on the "
                                              "server span to name it; each is tried)"
                                              if len(texts) > 1 else ""))

    def _relay(self, sender: str, receiver: str | None, spans: tuple[Span | None, ...]
               ) -> tuple[DiagramMessage, DiagramMessage | None] | None:
        """The publish (and delivery) of an event through a broker participant."""
        for broker in sorted(self.cat.brokers):
            found, _ = _pick(self.cat.by_pair.get((sender, broker), []), spans)
            if not found:
                continue
            key = found[0].key
            if receiver is None:
                return found[0], None
            deliveries = [m for m in self.cat.by_pair.get((broker, receiver), [])
                          if m.key == key]
            if deliveries:
                return found[0], deliveries[0]
        return None

    def _internal(self, s: Span, out: Mapped, add, explain: bool) -> None:
        participant = self.parts.of(s.service)
        if participant is None:
            return
        line = s.attributes.get("mermaidgen.line")
        if isinstance(line, (int, str)) and str(line).isdigit():
            found = self.cat.by_line.get(int(line), [])
            rule = f"mermaidgen.line {line}"
        else:
            own = self.cat.by_pair.get((participant, participant), [])
            found, rule = _pick(own, (s,)) if own else ([], "")
            if rule.startswith("the only"):
                found = []  # an internal span is a self message only when named like one
        if not found:
            return
        m = found[0]
        add(Hop(m.sender, m.receiver, (m.text,), (s.clock, s.start),
                self._receipt((m.line,), m.receiver), s), s, None)
        if explain:
            out.decisions.append(f"{s.where} span `{s.name}` (internal): {_arrow(m)} "
                                 f"(line {m.line}), by {rule}")


def _arrow(m: DiagramMessage) -> str:
    return f"{m.sender}->>{m.receiver}: {m.text}"
