"""The template context of the FastStream target (choreography): the python target's
context, plus what a message broker needs.

Handlers, cases, joins and hooks are the python target's (`context.choreography`), so a
user learns one model. Added here:

* `broker`: which FastStream transport (`--broker nats|redis|kafka|rabbit`), its package
  extra and how it keeps events durably (NATS JetStream, Redis Streams, Kafka topics,
  durable RabbitMQ queues).
* `channels`: the analysis' event channels, made valid names for every broker (NATS
  subject tokens, Redis stream keys, Kafka topics, RabbitMQ routing keys all accept
  `[A-Za-z0-9_-]` tokens separated by dots) and prefixed with the package name, so that
  several flows can share one server. Events whose channels end up with the same address
  share one subscriber, which receives a discriminated union of them.
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
             "durable": "NATS JetStream: one stream per flow, a durable pull consumer per "
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
               "durable": "RabbitMQ: a durable direct exchange per flow, a durable queue "
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


def context(analysis: Analysis, package: str, source_text: str, target: str = "faststream",
            broker: str | None = None, refinements: Refinements | None = None,
            capabilities: Capabilities = DEFAULT_CAPABILITIES) -> dict:
    broker = broker or DEFAULT_BROKER
    if broker not in BROKERS:
        raise UsageError(f"--broker {broker}: the faststream target supports "
                         f"{', '.join(BROKERS)}")
    ctx = choreography(analysis, package, source_text, target, refinements, capabilities)
    # a channel named after its broker participant (no topic written) reads best lower-case
    raw = [kebab(e.channel, "events") if e.channel == e.broker else e.channel
           for e in choreography_of(analysis).events]
    channels, channel_of = _channels(ctx["events"], raw, package, broker)
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


def _channels(events: list[dict], raw: list[str], package: str,
              broker: str) -> tuple[list[dict], dict]:
    """The channels: events grouped by the address their channel gets."""
    grouped: dict[str, list[dict]] = {}
    for e, channel in zip(events, raw, strict=True):
        slug = _slug(channel, kebab(e["class_name"], "events"))
        grouped.setdefault(slug, []).append(e)
    constants = NameTable(_TAKEN + ("NAMESPACE", "STREAM", "EXCHANGE"))
    aliases = NameTable(_TAKEN + tuple(e["class_name"] for e in events))
    idents = NameTable()
    out = []
    channel_of: dict[str, str] = {}
    for slug, members in sorted(grouped.items()):
        base = "_".join(words(slug)).upper() or "CHANNEL"
        const = constants.name(slug, "CHANNEL_" + base if base[0].isdigit() else base)
        address = slug if broker == "rabbit" else f"{package}.{slug}"
        names = [m["class_name"] for m in members]
        for m in members:
            m["channel_constant"] = const
            channel_of[m["class_name"]] = const
        out.append({
            "constant": const, "slug": slug.replace(".", "-"),
            "ident": idents.name(slug, const.lower()),
            "alias": aliases.name(slug, pascal(slug, "Channel") + "Events"),
            "address_lit": string(address), "events": names, "union": len(names) > 1,
            "comment": comment(f"{slug}: {', '.join(names)}"),
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
