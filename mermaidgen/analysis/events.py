"""Brokers, event names and the event catalogue.

In real choreography diagrams most events go through a drawn broker: `A->>Kafka:
OrderCreated` then `Kafka->>B: OrderCreated` is one event on channel `Kafka`, published by
A and consumed by B, not two services talking. The two hops rarely carry the same text
(`Publish: ORDER_CREATED` in, `Consume: ORDER_CREATED` out), so texts are reduced to an
event *key* (the words that name the event, without verbs like publish/consume and
without a trailing "event"), and a topic written in parentheses (`OrderCreated
(orders.v1)`, `OrderCreated (topic: orders)`) or, on a hop, after to/on/from at the end
(`Publish OrderCreated to orders.v1`) becomes the channel (docs/notation.md).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from mermaidgen.analysis.fields import Field, fields_of, merged
from mermaidgen.analysis.flow import Occurrence
from mermaidgen.analysis.naming import NameTable, kebab, pascal, pascal_of_words, words
from mermaidgen.contract.keys import (
    BR,
    ROUTED,
    TOPIC,
    TRAILING,
    VERBS,
    _event_words,
    _key_split,
    _split,
    event_key,
    event_words,  # noqa: F401 - projection.orchestration imports it from here
    strip_fields,
)
from mermaidgen.model import Participant
from mermaidgen.model.quick_init import quicken

_BROKER_WORDS = frozenset({
    "kafka", "rabbitmq", "rabbit", "sns", "sqs", "nats", "jetstream", "pubsub", "topic",
    "topics", "stream", "streams", "queue", "queues", "bus", "broker", "kinesis",
    "eventbridge", "eventhub", "mq", "activemq", "amqp", "pulsar", "redpanda", "mqtt",
})
_BROKER_PHRASES = ("event bus", "message bus", "message broker", "pub sub", "event hub",
                   "event stream", "service bus")
_SERVICE_WORDS = frozenset({"service", "svc", "api", "app", "server", "worker",
                            "processor", "handler", "consumer", "producer", "gateway"})


def is_broker(p: Participant) -> bool:
    """A participant drawn as a queue, or named like a broker or channel."""
    if p.kind == "queue":
        return True
    for ws in (words(p.id), words(p.label)):
        joined = " ".join(ws)
        if any(ph in joined for ph in _BROKER_PHRASES):  # "Azure Service Bus" too
            return True
        if ws and _BROKER_WORDS & set(ws) and not _SERVICE_WORDS & set(ws):
            return True
    return False


def topic(text: str, hop: bool = True) -> str | None:
    """A topic written in the text: `OrderCreated (orders.v1)` -> `orders.v1`; on a broker
    `hop`, `Publish OrderCreated to orders.v1` -> `orders.v1` too."""
    return _facts(text, hop)[3]


@functools.lru_cache(maxsize=65536)
def _routed(text: str) -> tuple[str, str | None]:
    """A hop's text without a topic named at its end (`Publish X to orders`), and that
    topic (None: the text names none that way)."""
    bare = strip_fields(text, True)
    found = ROUTED.search(bare) if " " in bare else None
    if found is None:
        return text, None
    return bare[:found.start()], found.group(1)


def _hop_key(text: str) -> str:
    """The event key of a hop's text: the key of its text without a topic it names at
    its end, so that `Publish X to orders` and `Consume X from orders` pair up."""
    return event_key(_routed(text)[0])


@dataclass(frozen=True, slots=True)
class Event:
    """An event of the choreography: one kind of message, with its class and channel."""

    key: str
    text: str
    """The text of the event's first message."""
    class_name: str
    channel: str
    broker: str | None
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    occurrences: tuple[int, ...]
    """Message indexes that carry this event (both hops of a broker event)."""
    lines: tuple[int, ...]
    fields: tuple[Field, ...] = ()
    """What the event carries, as its texts write it (`OrderCreated {orderId, amount}`)."""
    topic: str | None = None
    """The channel as the diagram writes it (`OrderCreated (orders.v1)`); None when the
    channel is derived (from the broker participant, or from the event's name)."""

    @property
    def name(self) -> str:
        """A readable name: the first text as the author spelled it, for a broker event
        without verbs and topic (`Publish: ORDER_CREATED (orders.v1)` -> `ORDER_CREATED`)."""
        return (_display(self.text) if self.broker else strip_fields(self.text).strip()) \
            or self.key


@dataclass(frozen=True, slots=True)
class Hops:
    """How broker hops pair up."""

    source: tuple[int | None, ...]
    """Per message: for a hop out of a broker, the publish (to the first broker) it
    passes on."""
    deliveries: tuple[tuple[int, ...], ...]
    """Per message: for a message into a broker, the hops that carry it on (deliveries
    to consumers, forwards to another broker, acknowledgements to the publisher)."""
    acks: frozenset[int] = frozenset()
    """Hops from a broker back to the publisher that are acknowledgements, not events."""


def actor(o: Occurrence, hops: Hops, occurrences: list[Occurrence],
          brokers: frozenset[str]) -> str:
    """Who acts when `o` is sent: its sender, or, for a delivery out of a broker, the
    participant that published what it carries."""
    if o.sender in brokers:
        origin = hops.source[o.index]
        if origin is not None:
            return occurrences[origin].sender
    return o.sender


def pair_hops(occurrences: list[Occurrence], brokers: frozenset[str]) -> Hops:
    """Match every hop out of a broker to the publish it passes on.

    A hop is matched by event key among what the broker received, most recent first
    (a forward from one broker to another counts as received by the second); when no key
    matches, the broker's most recent publish is assumed, unless the hop goes back to that
    publish's sender: then it is an acknowledgement (`Kafka-->>Orders: ack`).
    """
    source: list[int | None] = [None] * len(occurrences)
    deliveries: list[list[int]] = [[] for _ in occurrences]
    acks: set[int] = set()
    # broker -> event key -> messages into it, most recent last (indexed by key, so that
    # pairing stays linear however many events a broker carries)
    received: dict[str, dict[str, list[int]]] = {}
    last_into: dict[str, int] = {}  # broker -> the most recent message into it
    origin: dict[int, int] = {}  # message into a broker -> the original publish
    for o in occurrences:
        m = o.message
        if m.sender in brokers:
            same_key = received.get(m.sender, {}).get(_hop_key(m.text))
            match = same_key[-1] if same_key else None
            last = last_into.get(m.sender)
            if match is None and last is not None:
                if occurrences[origin[last]].sender == m.receiver:
                    acks.add(o.index)  # it answers the publish: it carries nothing on
                else:
                    match = last
            if match is not None:
                source[o.index] = origin[match]
                deliveries[match].append(o.index)
        if m.receiver in brokers and m.sender != m.receiver:
            received.setdefault(m.receiver, {}).setdefault(_hop_key(m.text), []) \
                .append(o.index)
            last_into[m.receiver] = o.index
            origin[o.index] = source[o.index] if m.sender in brokers and \
                source[o.index] is not None else o.index
    return Hops(tuple(source), tuple(tuple(d) for d in deliveries), frozenset(acks))


def _facts_of(text: str, hop: bool) -> tuple[str, str, str, str | None]:
    """What the catalogue needs from one message text, computed once per text:
    (event key, class name base, channel base, topic). Pub/sub verbs are wording of a
    broker `hop` (`Publish: OrderCreated`); sent straight to a service, `Send invoice` is
    a command named by its verb, not the event `Invoice`. On a hop, a topic named at the
    end (`Publish Invoice to billing`) is no part of the event's name.

    The same as `event_key(text, hop)`, `pascal(key, "Event")`, `"-".join(event_words(text,
    hop))` and `topic(text, hop)` (tests/test_catalogue_facts.py holds it to them), with
    each step taken once: a 100k-message diagram has as many distinct texts, and taking
    the text apart four times was a quarter of its preview."""
    routed = None
    if hop:
        text, routed = _routed(text)
    bare = strip_fields(text)
    found = None
    if "(" in text or "[" in text:
        found = TOPIC.search(strip_fields(text, True) if hop else bare)
    if "(" in bare or "[" in bare:  # `contract.keys._bare`, taken once for both word lists
        bare = TOPIC.sub(" ", bare)
    if "<" in bare:
        bare = BR.sub(" ", bare)
    ws = _event_words(list(_split(bare)), hop)  # `words`, without its cache
    if bare.isascii():  # then the key's words are `words`' (`contract.keys._key_split`)
        key = " ".join(ws)
        name = pascal_of_words(ws, "Event") if key else None
    else:
        key = " ".join(_event_words(list(_key_split(bare)), hop))
        name = None
    key = key or text.strip().lower()
    # a key of ASCII words is made of them, so its class name is theirs; any other key
    # is split again, as `pascal` splits it
    return key, name or pascal(key, "Event"), "-".join(ws) or "events", \
        found.group(1) if found else routed


_facts = functools.lru_cache(maxsize=65536)(_facts_of)


def catalogue(occurrences: list[Occurrence], brokers: frozenset[str], hops: Hops,
              class_names: NameTable) -> tuple[tuple[Event, ...], tuple[str | None, ...]]:
    """The events of a diagram, and each message's event key (None for self messages)."""
    keys: list[str | None] = [None] * len(occurrences)
    # key -> [facts, channel, broker, producers, consumers, occurrences, lines]
    found: dict[str, list] = {}
    acks, source = hops.acks, hops.source  # a loop over every message
    # the facts of each text, taken once: by hop (False, True), then by text (a cache of
    # the catalogue's own: a large diagram's texts outnumber any bounded cache's room)
    known: tuple[dict[str, tuple[str, str, str, str | None]], ...] = ({}, {})
    for o in occurrences:
        sender, receiver, index = o.sender, o.receiver, o.index
        from_broker, to_broker = sender in brokers, receiver in brokers
        if sender == receiver or (from_broker and to_broker) or index in acks:
            continue
        hop = from_broker or to_broker
        text = o.message.text
        facts = known[hop].get(text)
        if facts is None:
            facts = known[hop][text] = _facts_of(text, hop)
        origin = source[index]
        key = keys[origin] if from_broker and origin is not None else facts[0]
        keys[index] = key
        entry = found.get(key)
        if entry is None:
            entry = found[key] = [facts, None, None, [], [], [], [], o]
        entry[5].append(index)
        entry[6].append(o.line)
        if facts[3]:  # a topic written on either hop names the channel
            entry[1] = facts[3]
        producers, consumers = entry[3], entry[4]
        if to_broker:
            entry[2] = entry[2] or receiver
            if sender not in producers:
                producers.append(sender)
            continue
        if from_broker:
            entry[2] = entry[2] or sender
            producer = occurrences[origin].sender if origin is not None else None
            if producer is not None and producer not in producers:
                producers.append(producer)
        elif sender not in producers:
            producers.append(sender)
        if receiver not in consumers:
            consumers.append(receiver)
    channels = NameTable()
    events = []
    # bound once: a large diagram has nearly as many events as messages
    class_name_of, channel_name_of, append = class_names.name, channels.name, events.append
    for key, (facts, channel, broker, producers, consumers, occs, lines, first) \
            in found.items():
        class_name = class_name_of(("event", key), facts[1])
        chosen = channel or broker or (facts[2] if facts[2] != "events" else kebab(class_name))
        text = first.message.text
        if len(occs) == 1:  # most events of a large diagram: `merged` of one text
            # (fields end a text, or stand before its topic: either way, after a bracket)
            fields = (fields_of(text, _is_hop(first, brokers)) or ()) \
                if ")" in text or "}" in text else ()
        else:
            fields = merged([(occurrences[i].message.text, _is_hop(occurrences[i], brokers))
                             for i in occs])
        append(Event(
            key, text, class_name,
            chosen if channel or broker else channel_name_of(("channel", key), chosen),
            broker, tuple(producers), tuple(consumers), tuple(occs), tuple(lines),
            fields, channel))
    return tuple(events), tuple(keys)


@functools.lru_cache(maxsize=65536)
def _display(text: str) -> str:
    """A readable event name from a message text: verbs, topic and `event` dropped, the
    author's spelling kept (`Publish: ORDER_CREATED (orders.v1)` -> `ORDER_CREATED`)."""
    text = TOPIC.sub(" ", strip_fields(_routed(text)[0], True)).replace(":", " ")
    tokens = text.split()
    while len(tokens) > 1 and words(tokens[0]) and all(w in VERBS for w in words(tokens[0])):
        tokens = tokens[1:]
    while len(tokens) > 1 and words(tokens[-1]) and all(w in TRAILING
                                                         for w in words(tokens[-1])):
        tokens = tokens[:-1]
    return " ".join(tokens)


def _is_hop(o: Occurrence, brokers: frozenset[str]) -> bool:
    return o.message.sender in brokers or o.message.receiver in brokers


# built by the thousand for a large diagram (see model/quick_init.py)
quicken(Event, Hops)
