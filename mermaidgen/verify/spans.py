"""One span, as the three trace formats agree on it.

OTLP JSON, Jaeger JSON and Zipkin v2 JSON spell the same facts differently (hex ids in
different fields, span kinds as numbers, enum names or words, times in nanoseconds or
microseconds, attributes as typed lists or plain maps). The readers in `formats.py`
turn each into a `Span`; everything after them reads only this.
"""

from __future__ import annotations

from typing import NamedTuple

INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER = ("internal", "server", "client", "producer",
                                                "consumer")
SENDING = frozenset({CLIENT, PRODUCER})
RECEIVING = frozenset({SERVER, CONSUMER})


STATUS = "otel.status_code"

# Attributes the mapping reads; the readers keep only these (a span's other attributes,
# often dozens, would cost time to convert and memory to hold while its trace is open).
READ_ATTRIBUTES = frozenset({
    "messaging.destination.name", "messaging.destination", "http.route",
    "http.request.method", "http.method", "rpc.method", "peer.service", "mermaidgen.line",
    "mermaidgen.event", "mermaidgen.reply", STATUS, "error"})
"""`STATUS` holds the span's status when it is an error: OTLP's `status` is read into it,
and Jaeger and Zipkin exports carry it as this tag (and `error`)."""


def failed(span: Span) -> bool:
    """Whether the span ended in error: a request that got no reply (a failed attempt)."""
    status = span.attributes.get(STATUS)
    error = span.attributes.get("error")
    return (isinstance(status, str) and status.upper() == "ERROR") or error is True \
        or (isinstance(error, str) and error.lower() == "true")


# A named tuple, not a dataclass: the OTLP reader builds a million of them with
# `tuple.__new__` (no Python-level `__init__`, a third of the cost), and `shapes.py` turns
# a trace's spans into columns with one `zip(*spans)`. Nothing changes a span after its
# reader.
class Span(NamedTuple):
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: str
    """internal, server, client, producer or consumer."""
    service: str | None
    """The resource's `service.name`; None when the exporter did not set one."""
    clock: str
    """Whose clock `start` and `end` are read on: the service and its instance (times of
    one clock may be compared exactly; times of two only roughly: clock skew)."""
    start: int
    """Nanoseconds since the epoch."""
    end: int
    attributes: dict[str, object]
    """The attributes the mapping reads (`READ_ATTRIBUTES`)."""
    links: tuple[str, ...]
    """The span ids this span links to, in its own trace or in `other_traces`."""
    where: str
    """`file:line` of the span (of the JSON value that holds it), for messages."""
    other_traces: tuple[str, ...] = ()
    """Other traces it links to (a consumer of a message sent in another trace): they
    are checked as one trace with this one when `grouping.py` can join them."""
