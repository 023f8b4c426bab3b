"""Finished OpenTelemetry spans written as OTLP JSON lines: the writing side of what
`formats.py` reads.

Generated engine projects (FastStream, Temporal) get a verbatim copy of this module as
`_generated/otlp_file.py` (like the vendored checker), so that a traced run writes the file
`mermaidgen verify` maps to the diagram with no configuration. The OpenTelemetry SDK has an
OTLP exporter for the network and a console one, but none that writes the collector's
file-exporter shape (hex ids, kinds and status codes as numbers), hence this one.

Standard library only, and no import of the SDK at module level: spans are read by the
attributes the SDK's `ReadableSpan` has, and `SpanExportResult` is imported when a batch is
exported, so that mermaidgen itself (which has no OpenTelemetry dependency) can test it.
"""

from __future__ import annotations

import importlib
import json
from typing import Any


class OtlpJsonFile:
    """A span exporter (the SDK's protocol) that appends each batch to a file as one OTLP
    JSON document, in the shape of the OpenTelemetry collector's file exporter. `scope`
    names the instrumentation the spans come from."""

    def __init__(self, path: str, scope: str) -> None:
        self.path = path
        self.scope = scope

    def export(self, spans: Any) -> Any:
        results = importlib.import_module("opentelemetry.sdk.trace.export").SpanExportResult
        self.append(json.dumps(otlp_json(spans, self.scope), separators=(",", ":")) + "\n")
        return results.SUCCESS

    def append(self, line: str) -> None:
        """Add one line to the file (a subclass may guard the write)."""
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(line)

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def otlp_json(spans: Any, scope: str) -> dict[str, Any]:
    """Finished SDK spans as one OTLP JSON document, grouped by resource (hex ids, kinds
    and status codes as numbers)."""
    resources: dict[int, tuple[Any, list[dict[str, Any]]]] = {}
    for span in spans:
        here, parent = span.context, span.parent
        resources.setdefault(id(span.resource), (span.resource, []))[1].append({
            "traceId": f"{here.trace_id:032x}", "spanId": f"{here.span_id:016x}",
            "parentSpanId": f"{parent.span_id:016x}" if parent is not None else "",
            # the SDK's kinds count from INTERNAL = 0, OTLP's from UNSPECIFIED = 0
            "name": span.name, "kind": span.kind.value + 1,
            "startTimeUnixNano": str(span.start_time), "endTimeUnixNano": str(span.end_time),
            "attributes": _attributes(span.attributes),
            "status": {"code": span.status.status_code.value},
            "links": [{"traceId": f"{link.context.trace_id:032x}",
                       "spanId": f"{link.context.span_id:016x}"} for link in span.links]})
    return {"resourceSpans": [
        {"resource": {"attributes": _attributes(resource.attributes)},
         "scopeSpans": [{"scope": {"name": scope}, "spans": found}]}
        for resource, found in resources.values()]}


def _attributes(attributes: Any) -> list[dict[str, Any]]:
    out = []
    for key, value in (attributes or {}).items():
        if isinstance(value, bool):  # before int: a bool is an int
            typed: dict[str, Any] = {"boolValue": value}
        elif isinstance(value, int):
            typed = {"intValue": str(value)}  # OTLP JSON writes 64-bit integers as strings
        elif isinstance(value, float):
            typed = {"doubleValue": value}
        elif isinstance(value, str):
            typed = {"stringValue": value}
        else:  # the SDK's only other attribute values: sequences of those
            typed = {"arrayValue": {"values": [{"stringValue": str(v)} for v in value]}}
        out.append({"key": key, "value": typed})
    return out
