"""The template context of the FastStream target (choreography): the python target's
context, plus what a message broker needs.

Handlers, cases, joins and hooks are the python target's (`context.choreography`), so a
user learns one model. Added here:

* `broker`: which FastStream transport (`--broker nats|redis|kafka|rabbit`), its package
  extra and how it keeps events durably (NATS JetStream, Redis Streams, Kafka topics,
  durable RabbitMQ queues).
* `channels`: the analysis' event channels and their default addresses on the broker. A
  channel the diagram writes (`OrderPlaced (orders.v1)`) is its address as written, so
  that an existing topic can be bound; only what the broker cannot hold is replaced (a
  Kafka topic holds `[A-Za-z0-9._-]` only, a NATS subject no empty token). A channel the
  diagram does not write (named after a broker participant or an event) is made of
  `[A-Za-z0-9_-]` tokens and put under the package name, so that several flows can share
  one server. The generated settings may set each address (`channel_<ident>`), and put a
  prefix before the defaults. Events whose channels have the same address share one
  subscriber, which receives a discriminated union of them.
* per service, `subscriptions`: one subscriber per channel the service consumes from,
  each with its own consumer name (durable consumer, consumer group or queue), so that
  every consuming service gets its own copy of an event.
* `records` and `routes`: per published message, the diagram messages a publish stands
  for (the publish, then the hops the broker participants draw), and which service
  handles which of them. A published event carries its event key, its schema version
  and the name of the diagram message it was published as (names.Message) in headers,
  never an index; the consumer looks the name up here to run the right handler case,
  and routes by event (`published_events`) when the name is missing or unknown to it.
"""

from __future__ import annotations

import re
from collections import deque

from mermaidgen.analysis import Analysis
from mermaidgen.analysis.events import Event
from mermaidgen.analysis.naming import NameTable, kebab, pascal, words
from mermaidgen.analysis.paths import DEFAULT_CAPABILITIES, Capabilities
from mermaidgen.codegen.context import RESERVED_CLASS_NAMES, choreography
from mermaidgen.codegen.literals import comment, string
from mermaidgen.codegen.schema import Refinements
from mermaidgen.errors import UsageError
from mermaidgen.model import messages
from mermaidgen.projection import choreography_of

BROKERS: dict[str, dict[str, str]] = {
    "nats": {"title": "NATS", "extra": "nats", "url": "nats://127.0.0.1:4222",
             "durable": "NATS JetStream: a stream per channel, a durable pull consumer per "
                        "service and channel",
             "server": "nats-server -js",
             "redelivery": "JetStream redelivers it after a nak with that delay, and "
                           "stops at the consumer's `max_deliver`"},
    "redis": {"title": "Redis", "extra": "redis", "url": "redis://127.0.0.1:6379",
              "durable": "Redis Streams: one stream per channel, a consumer group per "
                         "service and channel (plain pub/sub would lose events)",
              "server": "redis-server",
              "redelivery": "it stays pending in the consumer group, and a claiming "
                            "subscriber (XAUTOCLAIM) hands it over again after "
                            "transport.CLAIM_AFTER_MS"},
    "kafka": {"title": "Kafka", "extra": "kafka", "url": "127.0.0.1:9092",
              "durable": "Kafka topics: one per channel, a consumer group per service and "
                         "channel",
              "server": "a Kafka broker",
              "redelivery": "in process, its offset not committed until it is handled "
                            "or dead-lettered"},
    "rabbit": {"title": "RabbitMQ", "extra": "rabbit",
               "url": "amqp://guest:guest@127.0.0.1:5672/",
               "durable": "RabbitMQ: a durable topic exchange per channel, a durable queue "
                          "per service and channel, persistent messages",
               "server": "rabbitmq-server",
               "redelivery": "in process, unacknowledged; after the last attempt it is "
                             "rejected into the queue's dead-letter exchange"},
}
DEFAULT_BROKER = "nats"
FASTSTREAM = ">=0.7,<0.8"
# names the generated modules define next to the event classes
_TAKEN = RESERVED_CLASS_NAMES
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_MAX_ADDRESS = 180  # Kafka topics stop at 249 characters, NATS subjects are best short
_NOT_KAFKA = re.compile(r"[^A-Za-z0-9._-]")
_NOT_RABBIT = re.compile(r"[^A-Za-z0-9._:/-]")  # AMQP 0-9-1's exchange names, less @#,+ and blanks
_MAX_EXCHANGE = 127
# what the generated channels and settings modules define next to the channels
_CHANNEL_MODULE = ("NAMESPACE", "PREFIX", "CHANNELS", "DEAD_LETTER_PREFIX",
                   "DEAD_LETTER_STREAM", "SETTINGS", "ADDRESS", "STREAM_NAME")


def context(analysis: Analysis, package: str, source_text: str, target: str = "faststream",
            broker: str | None = None, refinements: Refinements | None = None,
            capabilities: Capabilities = DEFAULT_CAPABILITIES) -> dict:
    broker = broker or DEFAULT_BROKER
    if broker not in BROKERS:
        raise UsageError(f"--broker {broker}: the faststream target supports "
                         f"{', '.join(BROKERS)}")
    ctx = choreography(analysis, package, source_text, target, refinements, capabilities)
    channels, channel_of = _channels(ctx["events"], list(choreography_of(analysis).events),
                                     package, broker)
    records, routes = _routes(analysis, ctx["services"])
    event_of = {op["message"]: op["event_class"] for op in _all_ops(ctx["services"])
                if op["op"] == "publish"}
    key_of = {e["class_name"]: e["key_lit"] for e in ctx["events"]}
    consumed: dict[str, set[str]] = {}  # service id -> the channels it consumes from
    for publish, handled in routes.items():
        channel = channel_of.get(event_of.get(publish, ""))
        for _, service in handled:
            if channel is not None:
                consumed.setdefault(service, set()).add(channel)
    for service, view in zip(ctx["services"], choreography_of(analysis).services, strict=True):
        published: dict[str, list[str]] = {}  # channel -> the event classes it sends there
        for op in _all_ops([service]):
            if op["op"] == "publish" and op["event_class"] in channel_of:
                classes = published.setdefault(channel_of[op["event_class"]], [])
                if op["event_class"] not in classes:
                    classes.append(op["event_class"])
        service["publications"] = [
            {"channel": c["constant"],
             "schema": " | ".join(f"events.{e}" for e in published[c["constant"]])}
            for c in channels if c["constant"] in published
        ]
        service["subscriptions"] = [
            {"function": "on_" + c["ident"], "channel": c["constant"],
             "alias": c["alias"], "comment": c["comment"],
             "consumer_lit": string(f"{package}--{service['module']}--{c['slug']}")}
            for c in channels if c["constant"] in consumed.get(view.participant, set())
        ]
    for service in ctx["services"]:  # what flow.start(first) may start a run with
        service["start_events"] = sorted({op["event_class"] for op in _nested(service["entry"])
                                          if op.get("op") == "publish"})
    info = BROKERS[broker]
    ctx.update({
        "broker": {"name": broker, **info, "url_lit": string(info["url"])},
        "faststream_requirement": f"faststream[{info['extra']}]{FASTSTREAM}",
        "namespace": package,
        "channels": channels,
        "records": [{"publish": p, "messages": r} for p, r in sorted(records.items())],
        # publish -> its event's key: what a consumer routes by when no header names the
        # drawing it was published as
        "published_events": [{"publish": p, "key_lit": key_of[event_of[p]]}
                             for p in sorted(records) if p in event_of],
        "routes": [{"publish": p, "deliveries": [{"message": m, "service_lit": string(s)}
                                                 for m, s in handled]}
                   for p, handled in sorted(routes.items()) if handled],
    })
    return ctx


def _nested(ops: list[dict]) -> list[dict]:
    """`ops` and every op inside them (the branches of a par, an alt's cases, ...)."""
    found = []
    for op in ops:
        found.append(op)
        for value in op.values():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                found.extend(_nested([v for v in value if isinstance(v, dict)]))
    return found


def _op_lists(service: dict) -> list[list[dict]]:
    return [service["entry"]] + [c["ops"] for h in service["handlers"] for c in h["cases"]] \
        + [j["ops"] for j in service["joins"]]


def _all_ops(services: list[dict]) -> list[dict]:
    return [op for s in services for ops in _op_lists(s) for op in ops]


def _slug(channel: str, fallback: str) -> str:
    """A channel as dot-separated `[A-Za-z0-9_-]` tokens: valid in a NATS subject, a Redis
    key, a Kafka topic and a RabbitMQ routing key alike."""
    tokens = [_UNSAFE.sub("-", t).strip("-") for t in channel.split(".")]
    tokens = [t for t in tokens if t]
    slug = ".".join(tokens) or fallback
    return slug[:_MAX_ADDRESS].strip(".-") or fallback


def _drawn(topic: str, broker: str) -> tuple[str, str | None]:
    """The address of a channel the diagram writes: the topic as written, when the broker
    can hold it; and, when not, why it was changed."""
    if broker == "kafka":
        address = _NOT_KAFKA.sub("-", topic)[:249]
        if address != topic:
            return address, "a Kafka topic holds letters, digits, `.`, `_` and `-` only"
    elif broker == "nats":
        address = ".".join(t for t in topic.split(".") if t)
        if address != topic:
            return address, "a NATS subject has no empty token"
    elif broker == "rabbit":
        address = _NOT_RABBIT.sub("-", topic)[:_MAX_EXCHANGE]
        if address != topic:
            return address, ("a RabbitMQ exchange name holds letters, digits and `._:/-`"
                             f" only, at most {_MAX_EXCHANGE} of them")
    return topic, None


def _channels(events: list[dict], analysed: list[Event], package: str,
              broker: str) -> tuple[list[dict], dict]:
    """The channels: events grouped by the address their channel gets."""
    grouped: dict[str, list[dict]] = {}
    slugs: dict[str, str] = {}
    why: dict[str, str | None] = {}
    for e, event in zip(events, analysed, strict=True):
        fallback = kebab(e["class_name"], "events")
        if event.topic is not None:
            address, changed = _drawn(event.topic, broker)
            slug = _slug(event.topic, fallback)
            why[address] = f"drawn as `{event.topic}`; {changed}" if changed else "as drawn"
        else:
            # a channel named after its broker participant reads best lower-case
            channel = kebab(event.channel, "events") if event.channel == event.broker \
                else event.channel
            slug = _slug(channel, fallback)
            address = f"{package}.{slug}"
            if broker == "rabbit":  # an exchange's name has at most 127 characters
                address = address[:_MAX_EXCHANGE].rstrip(".-")
            why[address] = "no channel drawn"
        grouped.setdefault(address, []).append(e)
        slugs.setdefault(address, slug)
    constants = NameTable(_TAKEN + _CHANNEL_MODULE)
    aliases = NameTable(_TAKEN + tuple(e["class_name"] for e in events))
    idents = NameTable(("prefix",))  # settings.channel_prefix is taken
    out = []
    channel_of: dict[str, str] = {}
    for address, members in sorted(grouped.items()):
        slug = slugs[address]
        base = "_".join(words(slug)).upper() or "CHANNEL"
        const = constants.name(address, "CHANNEL_" + base if base[0].isdigit() else base)
        names = [m["class_name"] for m in members]
        for m in members:
            m["channel_constant"] = const
            channel_of[m["class_name"]] = const
        ident = idents.name(address, const.lower())
        out.append({
            "constant": const, "slug": slug.replace(".", "-"), "ident": ident,
            "setting": f"channel_{ident}",
            "alias": aliases.name(address, pascal(slug, "Channel") + "Events"),
            "address_lit": string(address), "events": names, "union": len(names) > 1,
            "comment": comment(f"{address}: {', '.join(names)} ({why[address]})"),
        })
    return out, channel_of


def _routes(analysis: Analysis, services: list[dict]) -> tuple[dict, dict]:
    """Per message a service publishes: the messages it stands for in the trace (itself,
    then every broker hop it causes, breadth first as the broker passes it on), and the
    deliveries among those that a service handles, as (message, service), in that order."""
    table = messages(analysis.diagram)
    brokers = analysis.brokers
    deliveries = analysis.hops.deliveries
    handles: set[tuple[int, str]] = set()
    for s in choreography_of(analysis).services:
        for h in s.handlers:
            for c in h.cases:
                handles.add((c.trigger, s.participant))
    records: dict[int, list[int]] = {}
    routes: dict[int, list[tuple[int, str]]] = {}
    for i, m in enumerate(table):
        if m.sender in brokers or m.sender == m.receiver:
            continue
        recorded, handled = [i], []
        if (i, m.receiver) in handles:
            handled.append((i, m.receiver))
        queue = deque(deliveries[i])
        seen = {i}
        while queue:
            hop = queue.popleft()
            if hop in seen:
                continue
            seen.add(hop)
            recorded.append(hop)
            receiver = table[hop].receiver
            if receiver in brokers:
                queue.extend(deliveries[hop])
            elif (hop, receiver) in handles:
                handled.append((hop, receiver))
        records[i] = recorded
        routes[i] = handled
    return records, routes
