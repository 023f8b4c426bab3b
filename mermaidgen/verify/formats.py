"""The three trace export formats, read as a stream of spans.

* OTLP JSON (the OpenTelemetry file exporter, the collector's `file` exporter): objects
  whose first key is `resourceSpans`, one document per line or one document; an element
  decoded at a time is one resource's spans (`resourceSpans[i]`).
* Jaeger JSON (the UI's download, the query API): an object with `data` (a list of
  traces), or a single trace (`traceID`, `spans`, `processes`); an element is one whole
  trace.
* Zipkin v2 JSON (`/api/v2/traces`, `/api/v2/trace/{id}`): an array of spans, or of
  traces (arrays of spans); an element is one span, or one whole trace.

`read(path)` yields `Batch`es: spans, and whether they are a whole trace (Jaeger, Zipkin's
array of traces) or a part of one that may continue anywhere later (OTLP, a flat Zipkin
array): `grouping.py` decides when such a trace is complete.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from mermaidgen.verify.jsonstream import JsonStream, TraceFileError
from mermaidgen.verify.spans import (
    CLIENT,
    CONSUMER,
    INTERNAL,
    PRODUCER,
    READ_ATTRIBUTES,
    SERVER,
    STATUS,
    Span,
)

FORMATS = ("otlp", "jaeger", "zipkin")
_OTLP_KINDS = {0: INTERNAL, 1: INTERNAL, 2: SERVER, 3: CLIENT, 4: PRODUCER, 5: CONSUMER}
_WORD_KINDS = {"server": SERVER, "client": CLIENT, "producer": PRODUCER,
               "consumer": CONSUMER, "internal": INTERNAL, "unspecified": INTERNAL}


class Batch(NamedTuple):
    spans: list[Span]
    whole: bool
    """The spans are one whole trace: nothing of it comes later."""
    format: str
    trace: str | None = None
    """The trace all the spans are of, when the reader knows they are of one."""


def read(path: Path, shown: str | None = None) -> Iterator[Batch]:
    """The spans of one export file, in file order. Raises `TraceFileError` (located) for
    a file that is not valid JSON or not one of the formats."""
    name = shown or str(path)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        stream = JsonStream(handle, name)
        try:
            first = stream.peek()
        except UnicodeDecodeError as exc:
            raise TraceFileError(f"not UTF-8 text ({exc.reason})", name) from None
        try:
            if first == "[":
                yield from _zipkin(stream)
            elif first == "{":
                yield from _objects(stream)
            elif first == "":
                return  # an empty file holds no spans: the exporter wrote nothing yet
            else:
                raise _unknown(stream, f"it starts with `{first}`")
        except UnicodeDecodeError as exc:
            raise TraceFileError(f"not UTF-8 text ({exc.reason})", stream.where()) from None


def _unknown(stream: JsonStream, what: str) -> TraceFileError:
    return TraceFileError(
        f"not a trace export mermaidgen reads: {what}", stream.where(),
        "expected OTLP JSON (objects with `resourceSpans`, e.g. from the OpenTelemetry "
        "file exporter), Jaeger JSON (`{\"data\": [...]}`) or Zipkin v2 JSON (an array of "
        "spans)")


def _objects(stream: JsonStream) -> Iterator[Batch]:
    """One or more top-level objects: OTLP documents, or a Jaeger export."""
    resources = _Resources()
    while stream.peek():
        line_doc = stream.whole_line(_otlp_document)
        if line_doc is not None:  # the file exporter's document per line: in one go
            doc, line = line_doc
            here = f"{stream.name}:{line}"
            yield _otlp_resources(doc["resourceSpans"], here, resources)
            continue
        where = stream.where()
        keys = stream.members()
        first = next(keys, None)
        if first in ("resourceSpans", "data", "traceID"):
            yield from _document(stream, first, keys, resources)
        elif first is None:
            continue  # `{}`: an exporter's empty flush
        else:
            raise TraceFileError(
                f"not a trace export mermaidgen reads: the object's first key is "
                f"`{first}`", where,
                "expected OTLP JSON (`resourceSpans`), Jaeger JSON (`data`) or Zipkin v2 JSON "
                "(an array of spans)")


def _otlp_document(value: object) -> bool:
    return isinstance(value, dict) and next(iter(value), None) == "resourceSpans" \
        and isinstance(value["resourceSpans"], list)


def _document(stream: JsonStream, key: str, keys: Iterator[str],
              resources: _Resources) -> Iterator[Batch]:
    if key == "traceID":  # a single Jaeger trace: its processes may come after its spans
        trace: dict[str, Any] = {}
        line = stream.line
        while True:
            trace[key] = stream.value()[0]
            next_key = next(keys, None)
            if next_key is None:
                break
            key = next_key
        yield Batch(_jaeger_trace(trace, f"{stream.name}:{line}"), True, "jaeger")
        return
    while True:
        if key == "resourceSpans":
            for element, line in stream.elements():
                yield _otlp_resources([element], f"{stream.name}:{line}", resources)
        elif key == "data":
            value = stream.peek()
            if value == "[":
                for element, line in stream.elements():
                    yield Batch(_jaeger_trace(element, f"{stream.name}:{line}"), True,
                                "jaeger")
            else:
                stream.skip()  # `"data": null`: no traces
        else:
            stream.skip()
        next_key = next(keys, None)
        if next_key is None:
            return
        key = next_key


# --- OTLP ---------------------------------------------------------------------------------


def _otlp_resources(elements: list[Any], where: str, resources: _Resources) -> Batch:
    """The spans of `resourceSpans` entries (a document's, or one). Spans are built
    inline, the common case only (a million spans: each call and allocation saved
    counts); any surprise goes the careful way, `_otlp_span`, which says what is wrong."""
    out: list[Span] = []
    one: str | None = None  # the trace of every span so far ("": several)
    append = out.append
    new = tuple.__new__
    known = resources.known
    guess = resources.first
    for element in elements:
        if type(element) is not dict:
            raise TraceFileError("a `resourceSpans` entry is not an object", where)
        resource = element.get("resource")
        attributes = (resource if type(resource) is dict else _dict(resource, where, "resource")
                      ).get("attributes")
        # documents repeat their resources in the same order: the one after the last
        # one is compared first
        if guess >= len(known) or attributes != known[guess][0]:
            guess = resources.find(attributes, where)
        if element is elements[0]:
            resources.first = guess
        _, service, clock = known[guess]
        guess += 1
        raw_trace = trace_id = ""  # the last trace id as written, and as read
        scopes = element.get("scopeSpans", element.get("instrumentationLibrarySpans")) or []
        for scope in scopes if type(scopes) is list else _list(scopes, where, "scopeSpans"):
            spans = (scope if type(scope) is dict else _dict(scope, where, "scopeSpans entry")
                     ).get("spans") or []
            for raw in spans if type(spans) is list else _list(spans, where, "spans"):
                try:
                    written = raw["traceId"]
                    if written != raw_trace:  # a batch's spans mostly share their trace
                        trace_id = written.strip().lower()
                        raw_trace = written
                        one = trace_id if one is None or one == trace_id else ""
                    span_id = raw["spanId"].strip().lower()
                    parent = raw.get("parentSpanId")
                    if parent:
                        parent = parent.strip().lower()
                        if parent[-1] == "0" and not parent.strip("0"):
                            raise ValueError  # all zeros: no parent (the careful way says so)
                    else:
                        parent = None
                    name = raw["name"]
                    start = raw["startTimeUnixNano"]
                    kept = raw.get("attributes")
                    if raw.get("links") or not (trace_id and span_id) or type(name) is not str:
                        raise ValueError  # links, and the odd cases: the careful way
                    read = _kept(kept) if kept else {}
                    status = raw.get("status")
                    if status and status.get("code") in _ERROR_CODES:
                        read[STATUS] = "ERROR"
                    append(new(Span, (trace_id, span_id, parent, name,
                                      _KINDS_FAST[raw.get("kind", 0)], service, clock,
                                      int(start), int(raw.get("endTimeUnixNano", start)),
                                      read, (), where, ())))
                except (AttributeError, LookupError, TypeError, ValueError):
                    span = _otlp_span(raw, service, clock, where)
                    append(span)
                    one = span.trace_id if one is None or one == span.trace_id else ""
    return Batch(out, False, "otlp", one or None)


class _Resources:
    """The service and clock of the last few resources read. Exporters repeat a few
    resources (a service's attributes, the same in every batch): those are compared
    with what they were, not read again. (Compared as Python compares: an instance id
    written 1 in one batch and 1.0 in the next is one instance, one clock.)"""

    LIMIT = 8

    def __init__(self) -> None:
        self.known: list[tuple[object, str | None, str]] = []
        """(the resource's attributes as written, its service, its clock)"""
        self.first = 0
        """Where the first resource of the last document was found in `known`."""

    def find(self, attributes: object, where: str) -> int:
        """Where in `known` the resource with these attributes is (added if new)."""
        for i, (seen, _, _) in enumerate(self.known):
            if attributes == seen:
                return i
        resource = _attributes(attributes, where, _RESOURCE_KEYS)
        service = _text(resource.get("service.name"))
        instance = resource.get("service.instance.id") or resource.get("host.name") or ""
        if len(self.known) == self.LIMIT:
            del self.known[0]
        self.known.append((attributes, service, f"{service}/{instance}"))
        return len(self.known) - 1


def _kept(items: list[Any]) -> dict[str, object]:
    """The attributes of an OTLP list that the mapping reads."""
    kept: dict[str, object] = {}
    for item in items:
        key = item["key"]
        if key in READ_ATTRIBUTES:
            kept[key] = _any_value(item.get("value"))
    return kept


_ERROR_CODES = (2, "STATUS_CODE_ERROR")
"""OTLP's status code of a span that ended in error, as a number and as its name."""
_RESOURCE_KEYS = frozenset({"service.name", "service.instance.id", "host.name"})


_KINDS_FAST: dict[object, str] = {**_OTLP_KINDS, **{
    f"SPAN_KIND_{word.upper()}": kind for word, kind in _WORD_KINDS.items()}}


def _otlp_span(raw: object, service: str | None, clock: str, where: str) -> Span:
    span = _dict(raw, where, "span")
    trace_id = _id(span.get("traceId"), where, "traceId")
    kind = span.get("kind", 0)
    if isinstance(kind, str):
        kind = kind.removeprefix("SPAN_KIND_").lower()
        kind = _WORD_KINDS.get(kind, INTERNAL)
    else:
        kind = _OTLP_KINDS.get(kind, INTERNAL) if isinstance(kind, int) else INTERNAL
    links = [link for link in _list(span.get("links") or [], where, "links")
             if isinstance(link, dict)]
    others = tuple(dict.fromkeys(
        linked for linked in (str(link.get("traceId") or trace_id).strip().lower()
                              for link in links) if linked != trace_id))
    attributes = _attributes(span.get("attributes"), where)
    status = span.get("status")
    if isinstance(status, dict) and status.get("code") in _ERROR_CODES:
        attributes[STATUS] = "ERROR"
    return Span(trace_id, _id(span.get("spanId"), where, "spanId"),
                _optional_id(span.get("parentSpanId")), str(span.get("name", "")), kind,
                service, clock, _time(span.get("startTimeUnixNano"), where),
                _time(span.get("endTimeUnixNano", span.get("startTimeUnixNano")), where),
                attributes,
                tuple(_id(link.get("spanId"), where, "link spanId") for link in links),
                where, others)


def _attributes(raw: object, where: str, keep: frozenset[str] | None = READ_ATTRIBUTES
                ) -> dict[str, object]:
    """OTLP's typed attribute list as a plain mapping (only the keys in `keep`)."""
    if not raw:
        return {}
    out: dict[str, object] = {}
    for item in _list(raw, where, "attributes"):
        if isinstance(item, dict):
            key = item.get("key")
            if isinstance(key, str) and (keep is None or key in keep):
                out[key] = _any_value(item.get("value"))
    return out


def _any_value(value: object) -> object:
    if not isinstance(value, dict) or not value:
        return None
    kind, inner = next(iter(value.items()))
    if kind == "intValue":
        try:
            return int(inner)
        except (TypeError, ValueError):
            return None
    if kind == "arrayValue" and isinstance(inner, dict):
        return [_any_value(v) for v in inner.get("values") or []]
    return inner


# --- Jaeger -------------------------------------------------------------------------------


def _jaeger_trace(trace: object, where: str) -> list[Span]:
    trace = _dict(trace, where, "trace")
    processes = trace.get("processes") or {}
    processes = processes if isinstance(processes, dict) else {}
    out = []
    for raw in _list(trace.get("spans") or [], where, "spans"):
        span = _dict(raw, where, "span")
        trace_id = _id(span.get("traceID"), where, "traceID")
        tags = _jaeger_tags(span.get("tags"), where, _JAEGER_KEEP)
        process = processes.get(span.get("processID")) or span.get("process") or {}
        process = process if isinstance(process, dict) else {}
        service = _text(process.get("serviceName"))
        ptags = _jaeger_tags(process.get("tags"), where, None)
        parent = _optional_id(span.get("parentSpanID"))
        links = []
        others: list[str] = []
        for ref in _list(span.get("references") or [], where, "references"):
            if not isinstance(ref, dict):
                continue
            target = _id(ref.get("spanID"), where, "reference spanID")
            linked = str(ref.get("traceID") or trace_id).strip().lower()
            if linked != trace_id:  # a link into another trace (a consumer of a batch)
                links.append(target)
                others.append(linked)
            elif ref.get("refType", "CHILD_OF") == "CHILD_OF" and parent is None:
                parent = target
            elif target != parent:
                links.append(target)
        start = _time(span.get("startTime"), where) * 1000
        kind = _WORD_KINDS.get(str(tags.pop("span.kind", "internal")).lower(), INTERNAL)
        out.append(Span(trace_id, _id(span.get("spanID"), where, "spanID"), parent,
                        str(span.get("operationName", "")), kind, service,
                        f"{service}/{_instance(ptags)}",
                        start, start + _time(span.get("duration", 0), where) * 1000, tags,
                        tuple(links), where, tuple(dict.fromkeys(others))))
    return out


def _instance(tags: dict[str, object]) -> object:
    return tags.get("service.instance.id") or tags.get("hostname") or tags.get("host.name") \
        or ""


_JAEGER_KEEP = READ_ATTRIBUTES | {"span.kind"}


def _jaeger_tags(raw: object, where: str, keep: frozenset[str] | None
                 ) -> dict[str, object]:
    if not raw:
        return {}
    return {t["key"]: t.get("value") for t in _list(raw, where, "tags")
            if isinstance(t, dict) and isinstance(t.get("key"), str)
            and (keep is None or t["key"] in keep)}


# --- Zipkin -------------------------------------------------------------------------------


def _zipkin(stream: JsonStream) -> Iterator[Batch]:
    for element, line in stream.elements():
        where = f"{stream.name}:{line}"
        if isinstance(element, list):  # /api/v2/traces: an array of traces
            yield Batch([_zipkin_span(s, where) for s in element], True, "zipkin")
        else:
            span = _zipkin_span(element, where)
            yield Batch([span], False, "zipkin", span.trace_id)


def _zipkin_span(raw: object, where: str) -> Span:
    span = _dict(raw, where, "span")
    tags = span.get("tags") or {}
    tags = {k: v for k, v in tags.items() if k in READ_ATTRIBUTES} \
        if isinstance(tags, dict) else {}
    local = span.get("localEndpoint") or {}
    remote = span.get("remoteEndpoint") or {}
    service = _text(local.get("serviceName")) if isinstance(local, dict) else None
    if isinstance(remote, dict) and remote.get("serviceName"):
        tags.setdefault("peer.service", remote["serviceName"])
    span_id = _id(span.get("id"), where, "id")
    parent = _optional_id(span.get("parentId"))
    if span.get("shared"):  # Zipkin's server half of a client span, under the same id
        span_id, parent = span_id + "/shared", span_id
    start = _time(span.get("timestamp", 0), where) * 1000
    host = (local.get("ipv4") or local.get("ipv6") or "") if isinstance(local, dict) else ""
    return Span(_id(span.get("traceId"), where, "traceId"), span_id, parent,
                str(span.get("name", "")), _WORD_KINDS.get(str(span.get("kind", "")).lower(),
                                                           INTERNAL),
                service, f"{service}/{host}", start,
                start + _time(span.get("duration", 0), where) * 1000, tags, (), where)


# --- checks -------------------------------------------------------------------------------


def _dict(value: object, where: str, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TraceFileError(f"a {what} is not a JSON object", where)
    return value


def _list(value: object, where: str, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise TraceFileError(f"`{what}` is not a JSON array", where)
    return value


def _id(value: object, where: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TraceFileError(f"a span without `{what}` (every span needs its trace and "
                             "span ids)", where)
    return value.strip().lower()


def _optional_id(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip().lower()
    return value if value and value.strip("0") else None  # all zeros: no parent


def _time(value: object, where: str) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise TraceFileError(f"a span time that is not a number: {value!r:.40}",
                             where) from None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None
