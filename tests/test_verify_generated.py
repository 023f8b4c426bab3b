"""`mermaidgen verify` on generated projects, with no configuration (issue 16).

A generated FastStream project traced (`MERMAIDGEN_OTEL=1`) and told where to write its
spans (`MERMAIDGEN_OTEL_FILE`) runs its own tests; each run of the flow is one trace, each
service's spans carry its participant id as `service.name`, each consume span the diagram
message as `mermaidgen.event`, each step a service takes alone an INTERNAL span named
like it. `mermaidgen verify` then reads the file with no mapping configured: every run
conforms, no span is left unmatched, and the coverage shows every alternative the
project's path tests drove.

The projects run in the engines' shared runners (tests/project_runner.py), as the engine
tests' do: each project's tracer providers are its own (none is set as OpenTelemetry's
global one), so a span another project wrote to its file would show here as a trace too
many or an unmatched span.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from projects import shared_project_tests

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.engine
@pytest.mark.parametrize("sample", ["order-saga", "broker-fanout"])
def test_a_traced_faststream_project_verifies_with_no_configuration(
        traced_python, tmp_path, cli, sample):
    diagram = ROOT / "samples" / f"{sample}.mmd"
    out = tmp_path / "project"
    made = cli("generate", diagram, "--target", "faststream", "--broker", "nats", "-o", out)
    assert made.code == 0, made.out + made.err
    traces = tmp_path / "traces.jsonl"
    outcomes, output = shared_project_tests(traced_python, out, MERMAIDGEN_OTEL="1",
                                            MERMAIDGEN_OTEL_FILE=str(traces))
    runs = [name for name, outcome in outcomes.items() if outcome == "passed"
            and name.startswith(("test_every_path", "test_the_run")) and "in-memory" in name]
    assert runs and all(o in ("passed", "skipped") for o in outcomes.values()), output
    result = cli("verify", diagram, "--traces", traces, "--format", "json")
    doc = json.loads(result.out)
    assert result.code == 0, result.out + result.err
    assert doc["traces"] == {"checked": len(runs), "conforming": len(runs), "failing": 0,
                             "without_diagram_messages": 0}
    assert doc["unmatched"] == []
    coverage = doc["coverage"]
    assert coverage["covered"] == coverage["total"] > 0, coverage["choices"]
    assert all(m["count"] for m in coverage["messages"]), coverage["messages"]


@pytest.mark.engine
@pytest.mark.parametrize("sample", ["order-saga", "checkout", "payment-alternatives"])
def test_a_traced_temporal_project_verifies_with_no_configuration(
        temporal_python, tmp_path, cli, sample):
    """The same for the Temporal target (`TEMPORAL_TRACING=1`, Temporal's own
    TracingInterceptor): each participant's spans under its id, the caller chain before
    the workflow and the workflow's answers as spans that name their diagram line, an
    operation's own workflow as the call and its last activity as the reply, the
    workflow's receipt of each reply as a span that names it, a start and a signal by the
    client in its sender's name, naming its line (payment-alternatives: the shopper's
    `Challenge completed` is a signal). Each run (the main path and
    every path in the time-skipping test server, the mocked activities, the run on a
    server) is one trace."""
    diagram = ROOT / "samples" / f"{sample}.mmd"
    out = tmp_path / "project"
    made = cli("generate", diagram, "--target", "temporal", "-o", out)
    assert made.code == 0, made.out + made.err
    traces = tmp_path / "traces.jsonl"
    outcomes, output = shared_project_tests(temporal_python, out, TEMPORAL_TRACING="1",
                                            MERMAIDGEN_OTEL_FILE=str(traces))
    runs = [name for name, outcome in outcomes.items() if outcome == "passed"
            and name.startswith(("test_every_path", "test_the_run", "test_the_workflow"))]
    assert runs and all(o in ("passed", "skipped") for o in outcomes.values()), output
    result = cli("verify", diagram, "--traces", traces, "--format", "json")
    doc = json.loads(result.out)
    assert result.code == 0, result.out + result.err
    assert doc["traces"] == {"checked": len(runs), "conforming": len(runs), "failing": 0,
                             "without_diagram_messages": 0}, (runs, doc)
    assert doc["unmatched"] == []
    coverage = doc["coverage"]
    assert coverage["covered"] == coverage["total"] > 0, coverage["choices"]
    assert all(m["count"] for m in coverage["messages"]), coverage["messages"]
