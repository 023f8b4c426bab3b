"""`mermaidgen verify` on the traces of a hand-written system (issue 16's acceptance).

tests/fixtures/handwritten/system.py is three services written by hand (FastAPI, httpx, a
FastStream consumer on NATS), instrumented with the official OpenTelemetry packages only,
running the seed article's two diagrams: the choreography over NATS, the orchestration
over HTTP (service-c orchestrates, mapped with `--service`). The trace files it wrote, a
conforming run and three broken ones per diagram, are committed under
tests/fixtures/handwritten/traces/ and verified here everywhere; the engine test at the
end runs the system again on the shared NATS server and verifies what it writes now.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest
from projects import run

ROOT = Path(__file__).resolve().parents[1]
SYSTEM = ROOT / "tests" / "fixtures" / "handwritten"
TRACES = SYSTEM / "traces"
SEED = ROOT / "tests" / "fixtures" / "handwritten" / "diagrams"
ORCHESTRATOR = ("--service", "service-c=Orchestrator")


def _options(flow: str) -> tuple[str, ...]:
    return ORCHESTRATOR if flow == "orchestration" else ()


@pytest.mark.parametrize("flow", ["choreography", "orchestration"])
def test_a_conforming_run_of_the_handwritten_system_verifies(cli, flow):
    result = cli("verify", SEED / f"{flow}.mmd", "--traces",
                 TRACES / f"{flow}-conforming.otlp.jsonl", *_options(flow), "--explain")
    assert result.code == 0, result.out + result.err
    assert "traces: 1 checked, 1 conforming, 0 failing" in result.out
    # every span the official instrumentations wrote is a message, part of one (FastStream's
    # `publish` span under its `create` span), or a service's own business (FastAPI's
    # `http send`/`http receive`, the orchestrator's job): nothing left unmatched
    assert "unmatched" not in result.out, result.out


CHOREOGRAPHY_BROKEN = [
    ("skipped", "missing",
     "the trace ended, but the diagram still expects `ServiceB->>ServiceA: Event 4` (line 8)"),
    ("swapped", "out of order",
     "`ServiceC->>ServiceB: Event 5` (line 9) happened before `ServiceC->>ServiceA: Event 3` "
     "(line 7)"),
    ("twice", "unexpected",
     "`ServiceB->>ServiceC: Event 2` happens more often than the diagram allows (line 6)"),
]
ORCHESTRATION_BROKEN = [
    ("skipped", "missing", "`Orchestrator->>ServiceB: Step 2` (line 9) never happened"),
    ("swapped", "out of order",
     "`Orchestrator->>ServiceA: Step 3` (line 13) happened before "
     "`Orchestrator->>ServiceB: Step 2` (line 9)"),
    ("twice", "unexpected",
     "`Orchestrator->>ServiceA: Step 1` happens more often than the diagram allows (line 5)"),
]


@pytest.mark.parametrize("flow, variant, kind, says", [
    *(("choreography", *case) for case in CHOREOGRAPHY_BROKEN),
    *(("orchestration", *case) for case in ORCHESTRATION_BROKEN)],
    ids=lambda v: v if v in ("choreography", "orchestration", "skipped", "swapped",
                             "twice") else "")
def test_a_broken_run_of_the_handwritten_system_is_reported_with_its_line(
        cli, flow, variant, kind, says):
    result = cli("verify", SEED / f"{flow}.mmd", "--traces",
                 TRACES / f"{flow}-{variant}.otlp.jsonl", *_options(flow))
    assert result.code == 1, result.out + result.err
    assert says in result.out, result.out
    assert f"0 conforming, 1 failing (1 {kind})" in result.out
    assert "unmatched" not in result.out, result.out


def test_the_diagrams_are_the_seed_articles():
    seed = Path("/work/wt/shared/corpus/seed")
    if not seed.is_dir():
        pytest.skip("the seed corpus is not beside this checkout")
    for flow in ("choreography", "orchestration"):
        assert (SEED / f"{flow}.mmd").read_text() == (seed / f"{flow}.mmd").read_text()


# --- the system itself, on NATS --------------------------------------------------------------


@pytest.mark.engine
@pytest.mark.parametrize("flow, variant", [("choreography", "conforming"),
                                           ("orchestration", "swapped")])
def test_the_handwritten_system_writes_traces_that_verify(
        traced_python, tmp_path, cli, flow, variant):
    out = tmp_path / "run.otlp.jsonl"
    done = run([traced_python, SYSTEM / "system.py", out, "--flow", flow,
                "--variant", variant], tmp_path, timeout=120)
    if done.returncode == NO_BROKER:
        pytest.skip(done.stderr.strip())
    assert done.returncode == 0, done.stdout + done.stderr
    result = cli("verify", SEED / f"{flow}.mmd", "--traces", out, *_options(flow))
    assert result.code == (0 if variant == "conforming" else 1), result.out + result.err
    assert "unmatched" not in result.out, result.out
    if variant == "swapped":
        assert "`Orchestrator->>ServiceA: Step 3` (line 13) happened before" in result.out


NO_BROKER = 3
"""system.py's exit code when it cannot reach NATS."""


@pytest.mark.engine
def test_the_handwritten_system_stops_at_once_when_nats_is_not_there(traced_python, tmp_path):
    """Without a NATS server the system says so and ends within seconds: nats-py's own
    connect retries 60 times, 2 s apart, and once held a CI run until its timeout."""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"nats://127.0.0.1:{port}"
    began = time.monotonic()
    try:
        done = run([traced_python, SYSTEM / "system.py", tmp_path / "run.otlp.jsonl",
                    "--flow", "choreography", "--nats", url], tmp_path, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("system.py still tried to reach NATS after 30 s")
    took = time.monotonic() - began
    assert done.returncode == NO_BROKER, done.stdout + done.stderr
    assert f"cannot connect to NATS at {url}" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert took < 20, took
    assert not (tmp_path / "run.otlp.jsonl").exists()
