"""Brokers, event names and the event catalogue.

In real choreography diagrams most events go through a drawn broker: `A->>Kafka:
OrderCreated` then `Kafka->>B: OrderCreated` is one event on channel `Kafka`, published by
A and consumed by B, not two services talking. The two hops rarely carry the same text
(`Publish: ORDER_CREATED` in, `Consume: ORDER_CREATED` out), so texts are reduced to an
event *key* (the words that name the event, without verbs like publish/consume and
without a trailing "event"), and a topic written in parentheses (`OrderCreated
(orders.v1)`) becomes the channel.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from mermaidgen.analysis.flow import Occurrence
from mermaidgen.model import Participant
from mermaidgen.naming import NameTable, pascal, words

_BROKER_WORDS = frozenset({
    "kafka", "rabbitmq", "rabbit", "sns", "sqs", "nats", "jetstream", "pubsub", "topic",
    "topics", "stream", "streams", "queue", "queues", "bus", "broker", "kinesis",
    "eventbridge", "eventhub", "mq", "activemq", "amqp", "pulsar", "redpanda", "mqtt",
})
_BROKER_PHRASES = ("event bus", "message bus", "message broker", "pub sub", "event hub",
                   "event stream", "service bus")
_SERVICE_WORDS = frozenset({"service", "svc", "api", "app", "server", "worker",
                            "processor", "handler", "consumer", "producer", "gateway"})
_VERBS = frozenset({
    "publish", "publishes", "published", "emit", "emits", "emitted", "produce", "produces",
    "produced", "send", "sends", "sent", "consume", "consumes", "consumed", "deliver",
    "delivers", "delivered", "receive", "receives", "received", "forward", "forwards",
    "push", "pushes", "notify", "notifies", "subscribe", "subscribes", "dispatch",
    "dispatches", "raise", "raises", "fire", "fires", "broadcast", "broadcasts", "on",
})
_TRAILING = frozenset({"event", "events", "message", "msg", "notification"})
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TOPIC = re.compile(r"[(\[]\s*([A-Za-z0-9][\w.\-/:]*)\s*[)\]]")


def is_broker(p: Participant) -> bool:
    """A participant drawn as a queue, or named like a broker or channel."""
    if p.kind == "queue":
        return True
    names = [words(p.id), words(p.label)]
    for ws in names:
        if not ws or _SERVICE_WORDS & set(ws):
            continue
        joined = " ".join(ws)
        if _BROKER_WORDS & set(ws) or any(ph in joined for ph in _BROKER_PHRASES):
            return True
    return False


def topic(text: str) -> str | None:
    """A topic written in the text: `OrderCreated (orders.v1)` -> `orders.v1`."""
    m = _TOPIC.search(text)
    return m.group(1) if m else None


def event_words(text: str) -> list[str]:
    """The words that name the event a message text carries."""
    if "(" in text or "[" in text:
        text = _TOPIC.sub(" ", text)
    if "<" in text:
        text = _BR.sub(" ", text)
    found = words(text)
    while len(found) > 1 and found[0] in _VERBS:
        found = found[1:]
    if found[:1] == ["event"] and len(found) > 1 and not all(w.isdigit() for w in found[1:]):
        found = found[1:]
    while len(found) > 1 and found[-1] in _TRAILING:
        found = found[:-1]
    return found


@functools.lru_cache(maxsize=65536)
def event_key(text: str) -> str:
    """What two hops of one event have in common: `Publish: ORDER_CREATED` and
    `OrderCreated event` both give `order created`."""
    return " ".join(event_words(text)) or text.strip().lower()


@dataclass(frozen=True, slots=True)
class Event:
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

    @property
    def name(self) -> str:
        """A readable name: the first text without verbs and topic, as the author spelled
        it (`Publish: ORDER_CREATED (orders.v1)` -> `ORDER_CREATED`)."""
        return _display(self.text) or self.key


@dataclass(frozen=True, slots=True)
class Hops:
    """How broker hops pair up."""

    source: tuple[int | None, ...]
    """Per message: for a delivery from a broker, the publish it delivers."""
    deliveries: tuple[tuple[int, ...], ...]
    """Per message: for a publish to a broker, its deliveries."""


def pair_hops(occurrences: list[Occurrence], brokers: frozenset[str]) -> Hops:
    """Match every delivery from a broker to the publish it passes on."""
    source: list[int | None] = [None] * len(occurrences)
    deliveries: list[list[int]] = [[] for _ in occurrences]
    published: dict[str, list[int]] = {}  # broker -> publishes, most recent last
    last_publish: dict[str, int] = {}
    for o in occurrences:
        m = o.message
        if m.receiver in brokers and m.sender not in brokers:
            published.setdefault(m.receiver, []).append(o.index)
            last_publish[m.receiver] = o.index
        elif m.sender in brokers and m.receiver not in brokers:
            key = event_key(m.text)
            match = next((i for i in reversed(published.get(m.sender, []))
                          if event_key(occurrences[i].message.text) == key), None)
            if match is None:
                match = last_publish.get(m.sender)
            if match is not None:
                source[o.index] = match
                deliveries[match].append(o.index)
    return Hops(tuple(source), tuple(tuple(d) for d in deliveries))


@functools.lru_cache(maxsize=65536)
def _facts(text: str) -> tuple[str, str, str, str | None]:
    """What the catalogue needs from one message text, computed once per text:
    (event key, class name base, channel base, topic)."""
    found = _TOPIC.search(text) if "(" in text or "[" in text else None
    ws = event_words(text)
    key = " ".join(ws) or text.strip().lower()
    return key, pascal(key, "Event"), "-".join(ws) or "events", found.group(1) if found else None


def catalogue(occurrences: list[Occurrence], brokers: frozenset[str], hops: Hops,
              class_names: NameTable) -> tuple[tuple[Event, ...], tuple[str | None, ...]]:
    """The events of a diagram, and each message's event key (None for self messages)."""
    keys: list[str | None] = [None] * len(occurrences)
    # key -> [facts, channel, broker, producers, consumers, occurrences, lines]
    found: dict[str, list] = {}
    for o in occurrences:
        m = o.message
        sender, receiver = m.sender, m.receiver
        if sender == receiver or (sender in brokers and receiver in brokers):
            continue
        facts = _facts(m.text)
        origin = hops.source[o.index]
        key = keys[origin] if sender in brokers and origin is not None else facts[0]
        keys[o.index] = key
        entry = found.get(key)
        if entry is None:
            entry = found[key] = [facts, None, None, [], [], [], []]
        entry[5].append(o.index)
        entry[6].append(o.line)
        if receiver in brokers:
            entry[2] = entry[2] or receiver
            entry[1] = entry[1] or facts[3] or receiver
            _add(entry[3], sender)
        elif sender in brokers:
            entry[2] = entry[2] or sender
            entry[1] = entry[1] or facts[3] or sender
            _add(entry[4], receiver)
        else:
            entry[1] = entry[1] or facts[3]
            _add(entry[3], sender)
            _add(entry[4], receiver)
    events = tuple(
        Event(key, occurrences[occs[0]].message.text, class_names.name(("event", key), facts[1]),
              channel or facts[2], broker, tuple(producers), tuple(consumers), tuple(occs),
              tuple(lines))
        for key, (facts, channel, broker, producers, consumers, occs, lines) in found.items()
    )
    return events, tuple(keys)


@functools.lru_cache(maxsize=65536)
def _display(text: str) -> str:
    """A readable event name from a message text: verbs, topic and `event` dropped, the
    author's spelling kept (`Publish: ORDER_CREATED (orders.v1)` -> `ORDER_CREATED`)."""
    text = _TOPIC.sub(" ", text).replace(":", " ")
    tokens = text.split()
    while len(tokens) > 1 and words(tokens[0]) and all(w in _VERBS for w in words(tokens[0])):
        tokens = tokens[1:]
    while len(tokens) > 1 and words(tokens[-1]) and all(w in _TRAILING
                                                         for w in words(tokens[-1])):
        tokens = tokens[:-1]
    return " ".join(tokens)


def _add(items: list[str], value: str) -> None:
    if value not in items:
        items.append(value)
