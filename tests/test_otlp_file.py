"""The OTLP JSON span writer the engine targets copy (mermaidgen/verify/otlp_file.py) writes
what `mermaidgen verify` reads back: ids, parents, kinds, times, the attributes verify
maps by, error status, links and the service per resource. Spans here are stand-ins with
the attributes of the SDK's `ReadableSpan`; the generated projects' traced runs
(test_verify_generated.py) use the real SDK."""

from __future__ import annotations

import sys
import types
from enum import Enum
from pathlib import Path
from types import SimpleNamespace

import pytest

from mermaidgen.verify.formats import read
from mermaidgen.verify.otlp_file import OtlpJsonFile
from mermaidgen.verify.spans import failed


class Kind(Enum):  # the SDK's SpanKind: INTERNAL counts from 0
    INTERNAL = 0
    SERVER = 1
    CLIENT = 2
    PRODUCER = 3
    CONSUMER = 4


class Code(Enum):  # the SDK's StatusCode
    UNSET = 0
    OK = 1
    ERROR = 2


def _span(name, trace_id, span_id, parent=None, *, service, kind=Kind.INTERNAL,
          attributes=None, status=Code.UNSET, links=()):
    return SimpleNamespace(
        name=name, context=SimpleNamespace(trace_id=trace_id, span_id=span_id),
        parent=None if parent is None else SimpleNamespace(span_id=parent),
        resource=service, kind=kind, start_time=1_000 + span_id, end_time=2_000 + span_id,
        attributes=attributes, status=SimpleNamespace(status_code=status),
        links=[SimpleNamespace(context=SimpleNamespace(trace_id=t, span_id=s))
               for t, s in links])


@pytest.fixture
def sdk_export_result(monkeypatch):
    """The one name the writer imports from the SDK, when it exports."""
    module = types.ModuleType("opentelemetry.sdk.trace.export")
    module.SpanExportResult = Enum("SpanExportResult", "SUCCESS FAILURE")
    for name in ("opentelemetry", "opentelemetry.sdk", "opentelemetry.sdk.trace"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module.SpanExportResult


def test_written_spans_read_back_as_verify_sees_them(tmp_path: Path, sdk_export_result):
    shop = SimpleNamespace(attributes={"service.name": "Shop", "service.instance.id": "a"})
    pay = SimpleNamespace(attributes={"service.name": "Payments"})
    trace = 0xABC
    path = tmp_path / "spans.jsonl"
    writer = OtlpJsonFile(str(path), "faststream")
    first = writer.export([
        _span("PlaceOrder", trace, 1, service=shop, kind=Kind.PRODUCER,
              attributes={"mermaidgen.line": 7, "mermaidgen.event": "order placed",
                          "retried": True, "ratio": 0.5, "tags": ("a", "b")})])
    second = writer.export([
        _span("ChargeCard", trace, 2, 1, service=pay, kind=Kind.CONSUMER,
              status=Code.ERROR, links=[(0xDEF, 9)]),
        _span("Refund", trace, 3, 2, service=pay, kind=Kind.SERVER)])
    assert first is second is sdk_export_result.SUCCESS
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2  # a line per batch

    spans = [span for batch in read(path) for span in batch.spans]
    assert [(s.name, s.service, s.kind, s.parent_id) for s in spans] == [
        ("PlaceOrder", "Shop", "producer", None),
        ("ChargeCard", "Payments", "consumer", f"{1:016x}"),
        ("Refund", "Payments", "server", f"{2:016x}")]
    assert {s.trace_id for s in spans} == {f"{trace:032x}"}
    assert [s.span_id for s in spans] == [f"{i:016x}" for i in (1, 2, 3)]
    assert [(s.start, s.end) for s in spans] == [(1_001, 2_001), (1_002, 2_002), (1_003, 2_003)]
    assert spans[0].attributes["mermaidgen.line"] == 7
    assert spans[0].attributes["mermaidgen.event"] == "order placed"
    assert [failed(s) for s in spans] == [False, True, False]
    assert spans[1].other_traces == (f"{0xDEF:032x}",)
    # one clock per service instance: spans of two instances are never compared exactly
    assert spans[0].clock != spans[1].clock


def test_a_subclass_guards_the_write(tmp_path: Path, sdk_export_result):
    """The Temporal target writes from workflow code, inside its sandbox's escape hatch:
    `append` is the one place a subclass wraps."""
    seen = []

    class Guarded(OtlpJsonFile):
        def append(self, line: str) -> None:
            seen.append(line)
            super().append(line)

    path = tmp_path / "spans.jsonl"
    service = SimpleNamespace(attributes={"service.name": "Saga"})
    Guarded(str(path), "temporalio").export([_span("RunWorkflow", 1, 1, service=service)])
    assert seen == path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert '"scope":{"name":"temporalio"}' in seen[0]
