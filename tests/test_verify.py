"""`mermaidgen verify`: OpenTelemetry traces of a running system checked against a diagram.

The trace files under tests/fixtures/traces/ are written by hand, in the three formats
(OTLP JSON lines, Jaeger JSON, Zipkin v2 JSON), for samples/checkout.mmd (a conforming
run, and three broken ones: a call skipped, two calls swapped, a call made twice; their
Jaeger and Zipkin twins written from the OTLP files by convert.py there) and
samples/broker-fanout.mmd (events through a broker, with a `par`). Malformed input is
written by the tests themselves.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mermaidgen import parse_file
from mermaidgen.verify import verify
from mermaidgen.verify.formats import read
from mermaidgen.verify.grouping import traces
from mermaidgen.verify.jsonstream import TraceFileError
from mermaidgen.verify.shapes import Shapes
from mermaidgen.verify.spans import Span

ROOT = Path(__file__).resolve().parents[1]
TRACES = ROOT / "tests" / "fixtures" / "traces"
CHECKOUT = ROOT / "samples" / "checkout.mmd"
FANOUT = ROOT / "samples" / "broker-fanout.mmd"


def _verify(diagram: Path, *files: Path, **options):
    return verify(parse_file(str(diagram))[0], [(f, f.name) for f in files], **options)


# --- conforming runs, in every format -----------------------------------------------------


@pytest.mark.parametrize("name, traces_in_file", [
    ("checkout.otlp.jsonl", 2), ("checkout.jaeger.json", 1), ("checkout.zipkin.json", 1)])
def test_a_conforming_run_verifies_in_every_format(cli, name, traces_in_file):
    result = cli("verify", CHECKOUT, "--traces", TRACES / name)
    assert result.code == 0, result.out + result.err
    assert (f"traces: {traces_in_file} checked, {traces_in_file} conforming, 0 failing"
            in result.out)


def test_events_through_a_broker_verify():
    report = _verify(FANOUT, TRACES / "fanout.otlp.jsonl")
    assert (report.checked, report.conforming) == (1, 1), report.failures
    # the publish is one hop however many consumers; every delivery is its own
    assert report.coverage.messages[9] == 1
    assert [report.coverage.messages[line] for line in (11, 13, 15, 18, 20)] == [1] * 5
    assert report.coverage.messages[21] == 1  # the INTERNAL span named like the self step


def test_several_files_are_one_run(cli):
    result = cli("verify", CHECKOUT, "--traces", TRACES / "checkout.otlp.jsonl",
                 TRACES / "checkout.jaeger.json", "-t", TRACES / "checkout.zipkin.json")
    assert result.code == 0
    assert "traces: 4 checked, 4 conforming" in result.out


# --- broken runs: reported with the diagram line --------------------------------------------


@pytest.mark.parametrize("suffix", [".otlp.jsonl", ".jaeger.json", ".zipkin.json"])
@pytest.mark.parametrize("name, kind, says", [
    ("checkout-skipped-call", "missing",
     "`Orders->>Payments: Charge card(amount: Decimal, currency)` (line 9) never happened"),
    ("checkout-swapped", "out of order",
     "`Orders->>Web: Order status(orderId: UUID, paid: bool)` (line 16) happened before "
     "`Orders->>Payments: Charge card(amount: Decimal, currency)` (line 9)"),
    ("checkout-twice", "unexpected",
     "`Orders->>Payments: Charge card(amount: Decimal, currency)` happens more often than "
     "the diagram allows (line 9)"),
], ids=["call-skipped", "calls-swapped", "call-twice"])
def test_a_broken_run_is_reported_with_its_diagram_line(cli, name, kind, says, suffix):
    # the Jaeger and Zipkin files are the OTLP runs span for span (fixtures/traces/convert.py)
    result = cli("verify", CHECKOUT, "--traces", TRACES / (name + suffix))
    assert result.code == 1
    assert says in result.out
    assert f"0 conforming, 1 failing (1 {kind})" in result.out
    assert "expected (one valid order):" in result.out  # the contract test's table


def test_failures_of_one_shape_are_reported_once(tmp_path, cli):
    broken = (TRACES / "checkout-twice.otlp.jsonl").read_text()
    again = broken.replace("33333333333333333333333333333333",
                           "33333333333333333333333333333334")
    (tmp_path / "two.jsonl").write_text(broken + again)
    result = cli("verify", CHECKOUT, "--traces", tmp_path / "two.jsonl")
    assert "(and 1 more trace with the same messages)" in result.out
    assert result.out.count("does not conform") == 1
    assert "2 failing (2 unexpected)" in result.out


# --- clock skew: causality first, timestamps second -----------------------------------------


def _shift(text: str, service: str, seconds: int) -> str:
    """The OTLP lines with one service's clock moved by `seconds`."""
    out = []
    for line in text.splitlines():
        doc = json.loads(line)
        for resource in doc["resourceSpans"]:
            names = [a["value"]["stringValue"] for a in resource["resource"]["attributes"]
                     if a["key"] == "service.name"]
            if names != [service]:
                continue
            for scope in resource["scopeSpans"]:
                for span in scope["spans"]:
                    for key in ("startTimeUnixNano", "endTimeUnixNano"):
                        span[key] = str(int(span[key]) + seconds * 1_000_000_000)
        out.append(json.dumps(doc))
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("service", ["payment-service", "order-service", "web-shop"])
@pytest.mark.parametrize("seconds", [-5, 5])
def test_clock_skew_of_seconds_is_tolerated(tmp_path, service, seconds):
    skewed = tmp_path / "skewed.jsonl"
    skewed.write_text(_shift((TRACES / "checkout.otlp.jsonl").read_text(), service, seconds))
    report = _verify(CHECKOUT, skewed)
    assert (report.checked, report.conforming) == (2, 2), [f.explanation for f in
                                                           report.failures]


def test_skew_does_not_hide_a_real_swap(tmp_path):
    skewed = tmp_path / "skewed.jsonl"
    skewed.write_text(_shift((TRACES / "checkout-swapped.otlp.jsonl").read_text(),
                             "payment-service", -5))
    report = _verify(CHECKOUT, skewed)
    assert report.failing_by_kind == {"out_of_order": 1}


# --- coverage ------------------------------------------------------------------------------


def test_coverage_counts_the_sections_the_traces_took(cli):
    result = cli("verify", CHECKOUT, "--traces", TRACES / "checkout.jaeger.json",
                 "--format", "json")
    doc = json.loads(result.out)
    assert result.code == 0 and doc["ok"]
    (choice,) = doc["coverage"]["choices"]
    assert (choice["line"], choice["kind"]) == (10, "alt")
    assert [a["traces"] for a in choice["alternatives"]] == [1, 0]
    assert (doc["coverage"]["covered"], doc["coverage"]["total"]) == (1, 2)
    counts = {m["line"]: m["count"] for m in doc["coverage"]["messages"]}
    assert counts == {7: 1, 8: 1, 9: 1, 11: 1, 13: 0, 16: 1, 17: 1}


def test_min_coverage_fails_the_run(cli):
    short = cli("verify", CHECKOUT, "--traces", TRACES / "checkout.jaeger.json",
                "--min-coverage", "100")
    assert short.code == 1
    assert "coverage: 1 of 2 alternatives seen, 50% (minimum 100%: not met)" in short.out
    enough = cli("verify", CHECKOUT, "--traces", TRACES / "checkout.otlp.jsonl",
                 "--min-coverage", "100")
    assert enough.code == 0, enough.out
    assert "100% (minimum 100%: met)" in enough.out


def test_an_undetermined_reply_conforms_but_covers_nothing():
    # the Zipkin run names no reply (no mermaidgen.reply): either of the alt's replies
    # makes it conform, so the trace conforms, and says nothing about which section ran
    report = _verify(CHECKOUT, TRACES / "checkout.zipkin.json")
    assert report.conforming == 1
    assert report.coverage.covered == 0


def test_loop_iterations_are_counted(tmp_path):
    diagram = tmp_path / "poll.mmd"
    diagram.write_text("sequenceDiagram\n    participant A\n    participant B\n"
                       "    loop until done\n        A-)B: Poll\n    end\n")
    spans = [_otlp("a", "5" * 32, f"e{i:015x}", None, "Poll", 4, 1000 * i,
                   {"messaging.destination.name": "poll"}) for i in range(1, 4)]
    file = tmp_path / "poll.jsonl"
    file.write_text("".join(json.dumps(s) + "\n" for s in spans))
    report = _verify(diagram, file)
    assert report.conforming == 1
    assert report.coverage.iterations == {0: {3: 1}}
    assert report.coverage.seen[(0, 2)] == 1 and report.coverage.seen[(0, 1)] == 0


# --- mapping -------------------------------------------------------------------------------


def _otlp(service: str | None, trace: str, span: str, parent: str | None, name: str,
          kind: int, start: int, attributes: dict | None = None) -> dict:
    resource = [{"key": "service.name", "value": {"stringValue": service}}] if service else []
    return {"resourceSpans": [{"resource": {"attributes": resource}, "scopeSpans": [{
        "spans": [{"traceId": trace, "spanId": span, "parentSpanId": parent or "",
                   "name": name, "kind": kind, "startTimeUnixNano": str(start),
                   "endTimeUnixNano": str(start + 100),
                   "attributes": [{"key": k, "value": {"stringValue": str(v)}}
                                  for k, v in (attributes or {}).items()]}]}]}]}


def _write(path: Path, docs: list[dict]) -> Path:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    return path


PING = "sequenceDiagram\n    participant A as Alpha\n    participant B as Beta\n" \
       "    A-)B: Ping\n    A-)B: Pong\n"


def _ping(tmp_path, services=("svc-a", "svc-b"), names=("ping", "pong"), extra=None):
    diagram = tmp_path / "ping.mmd"
    diagram.write_text(PING)
    t = "6" * 32
    docs = []
    for n, name in enumerate(names):
        docs.append(_otlp(services[0], t, f"a{n:015x}", None, f"{name} send", 4, 10 + n * 10,
                          {"messaging.destination.name": name, **(extra or {})}))
        docs.append(_otlp(services[1], t, f"b{n:015x}", f"a{n:015x}", f"{name} process", 5,
                          12 + n * 10, {"messaging.destination.name": name}))
    return diagram, _write(tmp_path / "ping.jsonl", docs)


def test_services_map_by_the_configured_names(tmp_path, cli, monkeypatch):
    diagram, file = _ping(tmp_path)
    unmapped = cli("verify", diagram, "--traces", file)
    assert unmapped.code == 1
    assert "service `svc-a` is no participant of the diagram" in unmapped.out
    mapped = cli("verify", diagram, "--traces", file, "--service", "svc-a=A",
                 "--service", "svc-b=Beta")  # by id or by label
    assert mapped.code == 0, mapped.out + mapped.err
    wrong = cli("verify", diagram, "--traces", file, "--service", "svc-a=Gamma")
    assert wrong.code == 2
    assert ("the service `svc-a` is mapped to `Gamma`, which is no participant of the "
            "diagram (its participants: A (Alpha), B (Beta))") in wrong.err
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mermaidgen.verify.services]\n"svc-a" = "A"\n"svc-b" = "B"\n')
    monkeypatch.chdir(tmp_path)
    configured = cli("verify", diagram, "--traces", file, "--explain")
    assert configured.code == 0, configured.out + configured.err
    assert "service `svc-a` -> A: the configured mapping" in configured.out


def test_services_map_by_label_after_normalisation(tmp_path):
    diagram, file = _ping(tmp_path, services=("ALPHA", "beta"))
    report = _verify(diagram, file)
    assert report.conforming == 1
    assert report.services["ALPHA"] == ("A", "the same name after normalisation (alpha)")


def test_explicit_attributes_name_the_message(tmp_path):
    # the spans' names say nothing; mermaidgen.line says which message each one is
    diagram = tmp_path / "ping.mmd"
    diagram.write_text(PING)
    t = "7" * 32
    docs = [_otlp("A", t, "a1", None, "send", 4, 10, {"mermaidgen.line": 5}),
            _otlp("A", t, "a2", None, "send", 4, 20, {"mermaidgen.line": 4})]
    report = _verify(diagram, _write(tmp_path / "t.jsonl", docs))
    assert report.failing_by_kind == {"out_of_order": 1}  # Pong (line 5) went first
    docs = [_otlp("A", t, "a1", None, "send", 4, 10, {"mermaidgen.event": "PING"}),
            _otlp("A", t, "a2", None, "send", 4, 20, {"mermaidgen.event": "pong"})]
    assert _verify(diagram, _write(tmp_path / "t.jsonl", docs)).conforming == 1


def test_unmatched_spans_are_reported_not_dropped(tmp_path, cli):
    diagram, file = _ping(tmp_path, services=("A", "B"), names=("ping", "pong", "health"))
    result = cli("verify", diagram, "--traces", file)
    assert "unmatched spans: 1 (not checked)" in result.out
    assert "no message from A to B is named like `health process`" in result.out
    assert result.code == 0


def test_explain_prints_each_decision(cli):
    result = cli("verify", CHECKOUT, "--traces", TRACES / "checkout.otlp.jsonl", "--explain")
    assert "service `web-shop` -> Web: the same name after normalisation (web_shop)" \
        in result.out
    assert ("span `POST /orders` (server): Web->>Orders: Create order(customerId, items: "
            "list[str]) (line 8), by the only message from Web to Orders") in result.out
    assert "its reply: Payments->>Orders: Payment declined(reason)" in result.out


# --- bad input: a located, worded error or a tolerated result, never a traceback -----------


GOOD = (TRACES / "checkout.otlp.jsonl").read_text().splitlines()


@pytest.mark.parametrize("text, says", [
    (GOOD[0] + "\n" + GOOD[1][:-40] + "\n" + GOOD[2] + "\n",
     "bad.json:3:1: not valid JSON: expecting ',' delimiter (in the value that starts on "
     "line 2)"),  # a line cut short in the middle of the file
    (GOOD[0] + "\n" + GOOD[1][:300], "bad.json:2:298: the file ends inside a JSON value"),
    ('{"resourceSpans": [}\n', "bad.json:1:20: not valid JSON"),
    ('{"resourceLogs": []}\n', "bad.json:1:1: not a trace export mermaidgen reads: the "
                               "object's first key is `resourceLogs`"),
    ("42\n", "bad.json:1:1: not a trace export mermaidgen reads: it starts with `4`"),
    ('[{"traceId": "ab", "name": "x"}]', "bad.json:1: a span without `id`"),
    ('{"data": [{"spans": [{"spanID": "1"}]}]}', "bad.json:1: a span without `traceID`"),
    ('[{"traceId": "ab", "id": "1", "timestamp": "soon"}]',
     "a span time that is not a number: 'soon'"),
    (b"\xff\xfe[", "not UTF-8"),
], ids=["cut-line", "truncated", "malformed", "logs-not-spans", "not-an-object",
        "zipkin-no-id", "jaeger-no-trace-id", "bad-time", "not-utf8"])
def test_bad_trace_files_are_located_errors(tmp_path, cli, text, says):
    bad = tmp_path / "bad.json"
    bad.write_bytes(text if isinstance(text, bytes) else text.encode())
    result = cli("verify", CHECKOUT, "--traces", bad)
    assert result.code == 1
    assert says in result.err, result.err
    assert str(tmp_path) not in says  # (the file is named as given)


def test_a_truncated_file_says_it_was_cut_short(tmp_path, cli):
    bad = tmp_path / "bad.json"
    bad.write_text(GOOD[0] + "\n" + GOOD[1][:300])
    result = cli("verify", CHECKOUT, "--traces", bad)
    assert "the file ends inside a JSON value" in result.err
    assert "hint: the file is cut short (truncated?)" in result.err


def test_spans_without_parents_and_service_names_are_tolerated(tmp_path):
    # orphans (a parent that is not in the file) and spans whose resource has no
    # service.name: the first are mapped like any span, the second reported as unmatched
    diagram, file = _ping(tmp_path, services=("A", "B"))
    docs = [json.loads(line) for line in file.read_text().splitlines()]
    docs[0]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["parentSpanId"] = "f" * 16
    docs.append(_otlp(None, "6" * 32, "c" * 16, None, "mystery", 3, 50))
    report = _verify(diagram, _write(tmp_path / "t.jsonl", docs))
    assert report.conforming == 1
    assert report.unmatched == {"a span without `service.name` is no participant of the "
                                "diagram": 1}, report.unmatched


def test_usage_errors(tmp_path, cli):
    missing = cli("verify", CHECKOUT, "--traces", tmp_path / "nope.json")
    assert missing.code == 2 and "no such trace file" in missing.err
    none = cli("verify", CHECKOUT)
    assert none.code == 2 and "no trace files" in none.err
    bad = cli("verify", CHECKOUT, "--traces", TRACES / "checkout.zipkin.json",
              "--service", "oops")
    assert bad.code == 2 and "SERVICE=PARTICIPANT" in bad.err


def test_no_trace_of_the_diagram_fails(tmp_path, cli):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = cli("verify", CHECKOUT, "--traces", empty)
    assert result.code == 1
    assert "traces: 0 checked" in result.out


# --- streaming -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["checkout.otlp.jsonl", "checkout.jaeger.json",
                                  "checkout.zipkin.json", "fanout.otlp.jsonl"])
@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_reading_in_small_chunks_gives_the_same_spans(monkeypatch, name, chunk):
    whole = [s for b in read(TRACES / name) for s in b.spans]
    monkeypatch.setattr("mermaidgen.verify.jsonstream.CHUNK", chunk)
    monkeypatch.setattr("mermaidgen.verify.formats.JsonStream.__init__.__defaults__",
                        (chunk,))
    pieces = [s for b in read(TRACES / name) for s in b.spans]
    assert pieces == whole and whole


def test_sorted_input_checks_a_trace_before_the_file_ends(tmp_path):
    lines = (TRACES / "checkout.otlp.jsonl").read_text().splitlines(keepends=True)
    file = tmp_path / "t.jsonl"
    file.write_text("".join(lines) + "this is not JSON\n")
    found = traces([(file, "t.jsonl")], sorted_input=True)
    first = next(found)  # the first trace is complete when the second begins
    assert first.trace_id == "5b8efff798038103d269b633813fc60c" and len(first.spans) == 5
    with pytest.raises(TraceFileError, match="t.jsonl:5:1: expected an object `{`, found `t`"):
        list(found)


def test_sorted_input_that_is_not_sorted_is_an_error(tmp_path):
    lines = (TRACES / "checkout.otlp.jsonl").read_text().splitlines(keepends=True)
    file = tmp_path / "t.jsonl"
    file.write_text(lines[0] + lines[3] + lines[1])  # trace 1, trace 2, trace 1 again
    with pytest.raises(TraceFileError, match="appear again after another trace began"):
        list(traces([(file, "t.jsonl")], sorted_input=True))
    assert len(list(traces([(file, "t.jsonl")]))) == 2  # unsorted: grouped at the end


# --- traces of one shape share a verdict, and only they ------------------------------------


def test_traces_that_differ_only_in_time_order_are_checked_apart(tmp_path):
    # the same spans, relations and names; only the order of the two sends differs: the
    # shape cache (shapes.py) must tell them apart, or the second gets the first's verdict
    diagram = tmp_path / "ping.mmd"
    diagram.write_text(PING)
    docs = []
    for trace, (ping, pong) in (("8" * 32, (10, 20)), ("9" * 32, (20, 10)),
                                ("a" * 32, (110, 120))):
        docs.append(_otlp("A", trace, "a1", None, "send", 4, ping, {"mermaidgen.event": "ping"}))
        docs.append(_otlp("A", trace, "a2", None, "send", 4, pong, {"mermaidgen.event": "pong"}))
    report = _verify(diagram, _write(tmp_path / "t.jsonl", docs))
    assert (report.checked, report.conforming) == (3, 2)
    assert report.failing_by_kind == {"out_of_order": 1}
    assert report.checker_calls == 2  # the third trace is the first's shape


def _trace(*spans: tuple, attributes: dict | None = None) -> list[Span]:
    """Spans of one trace, from (id, parent, name, kind, start, end) rows."""
    return [Span("t", span_id, parent, name, kind, "svc", "svc/", start, end,
                 dict(attributes or {}) if name == "POST" else {}, (), "t.jsonl:1")
            for span_id, parent, name, kind, start, end in spans]


# a client span, its server span, and a query the server made
SHAPE = (("c1", None, "POST", "client", 10, 90), ("s1", "c1", "POST /x", "server", 20, 80),
         ("q1", "s1", "SELECT", "internal", 30, 40))
TIED = (SHAPE[0], SHAPE[1], ("q1", "s1", "SELECT", "internal", 30, 80))  # ends with s1


@pytest.mark.parametrize("known, rows, attributes, same", [
    (SHAPE, (("c2", None, "POST", "client", 110, 190),
             ("s2", "c2", "POST /x", "server", 115, 150),
             ("q2", "s2", "SELECT", "internal", 120, 149)), None, True),  # ids, times
    (SHAPE[:1], (("c2", None, "POST", "client", 5, 6),), None, True),  # a span alone
    (SHAPE, SHAPE, {"peer.service": "x"}, False),  # an attribute the mapping reads
    (SHAPE, (SHAPE[0], SHAPE[1], ("q1", "c1", "SELECT", "internal", 30, 40)), None, False),
    (SHAPE, (SHAPE[0], SHAPE[1], ("q1", "s1", "SELECT", "internal", 30, 85)), None, False),
    (SHAPE, TIED, None, False),
    (TIED, (SHAPE[0], SHAPE[1], ("q1", "s1", "SELECT", "internal", 31, 80)), None, True),
    (TIED, SHAPE, None, False),
    (TIED, (SHAPE[0], SHAPE[1], ("q1", "s1", "SELECT", "internal", 20, 81)), None, False),
    (TIED, (("c1", None, "POST", "client", 10, 70), *TIED[1:]), None, False),
    (SHAPE, (SHAPE[0], SHAPE[1], ("q1", "x1", "SELECT", "internal", 30, 40)), None, False),
    # the query has the client's id: the server's parent is then the query (the mapping
    # keeps the last span of an id), though the parent id still names the first span
    (SHAPE, (SHAPE[0], SHAPE[1], ("c1", "s1", "SELECT", "internal", 30, 40)), None, False),
], ids=["same", "one-span", "attribute", "parent", "order", "a-tie", "same-tie", "no-tie",
        "another-tie", "tie-and-order", "parent-elsewhere", "id-twice"])
def test_a_shape_is_found_for_traces_of_that_shape_only(known, rows, attributes, same):
    shapes: Shapes[str] = Shapes(10)
    shapes.add(_trace(*known), "verdict")
    assert (shapes.get(_trace(*rows, attributes=attributes)) == "verdict") is same


def test_many_shapes_of_the_same_spans_are_told_apart():
    # more shapes of one tuple of span names than are compared one by one (COMPARED):
    # the rest are found by their whole key, each still with its own value
    shapes: Shapes[int] = Shapes(100)

    def nth(n: int) -> list[Span]:  # the last query ends between other times: 12 ways
        return _trace(("c", None, "POST", "client", 0, 100),
                      *[(f"q{k}", "c", "SELECT", "internal", 10 * k, 10 * k + 5)
                        for k in range(1, 9)],
                      ("r", "c", "SELECT", "internal", 1, 7 + 5 * n))
    for n in range(12):
        assert shapes.get(nth(n)) is None
        shapes.add(nth(n), n)
    assert [shapes.get(nth(n)) for n in range(12)] == list(range(12))
    assert shapes.count == 12


def test_the_drawing_shows_counts_and_what_no_trace_did(cli):
    result = cli("verify", CHECKOUT, "--traces", TRACES / "checkout.jaeger.json", "--draw",
                 "--width", "90")
    assert result.code == 0, result.out + result.err
    drawing = result.out.split("what the conforming traces did:\n", 1)[1]
    assert "[1x] Place" in drawing  # a message, with how often the traces sent it
    assert "alt [card accepted [1 trace]]" in drawing
    assert "else [card declined [never]]" in drawing  # the section no trace took
    assert "[never] Payment" in drawing  # and its message
    assert max(len(line) for line in drawing.splitlines()) <= 90


def test_consumers_linked_from_another_trace_are_joined_to_it(tmp_path):
    # the consumer spans are in a trace of their own and link to the producer spans (a
    # batch consumer does this): one trace is checked, with both hops paired
    diagram = tmp_path / "ping.mmd"
    diagram.write_text(PING)
    sent, processed = "b" * 32, "c" * 32
    docs = []
    for n, name in enumerate(("ping", "pong")):
        docs.append(_otlp("A", sent, f"a{n:015x}", None, f"{name} send", 4, 10 + 10 * n,
                          {"messaging.destination.name": name}))
        consumer = _otlp("B", processed, f"b{n:015x}", None, f"{name} process", 5,
                         12 + 10 * n, {"messaging.destination.name": name})
        consumer["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["links"] = [
            {"traceId": sent, "spanId": f"a{n:015x}"}]
        docs.append(consumer)
    report = _verify(diagram, _write(tmp_path / "t.jsonl", docs), explain=True)
    assert (report.checked, report.conforming) == (1, 1), report.failures
    assert report.decisions[0].startswith(f"trace {sent} ")
    assert sum("(consumer)" in d for d in report.decisions) == 2  # paired by the links


# --- Temporal's spans: instants in the workflow, attempts of one activity -----------------


SHIP = ("sequenceDiagram\n    participant W as Flow\n    participant S as Shipping\n"
        "    W->>+S: Create shipment\n    S-->>-W: Shipment created\n    W->>S: Notify\n")


def _span(service: str, span: str, parent: str | None, name: str, kind: int, start: int,
          end: int, attributes: dict | None = None, error: bool = False) -> dict:
    return {"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": service}}]}, "scopeSpans": [{
            "spans": [{"traceId": "8" * 32, "spanId": span, "parentSpanId": parent or "",
                       "name": name, "kind": kind, "startTimeUnixNano": str(start),
                       "endTimeUnixNano": str(end), "status": {"code": 2 if error else 0},
                       "attributes": [{"key": k, "value": {"intValue": str(v)}}
                                      for k, v in (attributes or {}).items()]}]}]}]}


def test_attempts_of_one_activity_are_one_call_and_a_workflow_span_says_when_it_had_the_reply(
        tmp_path):
    # as Temporal's TracingInterceptor writes them: the workflow's spans (W) are instants
    # at workflow time; an activity tried three times is three server spans under one
    # client span, the first two failed; the workflow's span naming the reply (line 5)
    # is when it had it. Shipping's clock runs 10 s ahead: only that span orders Notify
    # after the reply
    diagram = tmp_path / "ship.mmd"
    diagram.write_text(SHIP)
    ahead = 10_000_000_000
    call = [_span("W", "c1", "r0", "StartActivity:create", 3, 100, 100),
            *(_span("S", f"a{n}", "c1", "RunActivity:create", 2, ahead + 200 * n,
                    ahead + 200 * n + 100, {"mermaidgen.line": 4}, error=n < 3)
              for n in (1, 2, 3))]
    rest = [_span("W", "r0", None, "run", 1, 50, 50),
            _span("W", "w5", "r0", "Shipment created", 1, 800, 800, {"mermaidgen.line": 5}),
            _span("W", "c2", "r0", "StartActivity:notify", 3, 800, 800),
            _span("S", "a4", "c2", "RunActivity:notify", 2, ahead + 900, ahead + 950,
                  {"mermaidgen.line": 6})]
    report = _verify(diagram, _write(tmp_path / "t.jsonl", rest + call))
    assert (report.conforming, report.failing, report.unmatched_examples) == (1, 0, {})
    # the last attempt failed too: the call got no reply
    failed = [d for d in call if d["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
              ["spanId"] != "a3"]
    failed.append(_span("S", "a3", "c1", "RunActivity:create", 2, ahead + 600, ahead + 700,
                        {"mermaidgen.line": 4}, error=True))
    report = _verify(diagram, _write(tmp_path / "t.jsonl", rest[:1] + failed))
    assert report.failing_by_kind == {"missing": 1}, report.failing_by_kind
