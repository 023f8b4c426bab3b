"""The Temporal target under the faults and starts of production (issue 14): idempotent
starts from a business key, no execution timeout unless configured, `start` never ends a
workflow, workers that log when they are ready and survive being killed mid-run, sagas
that roll back on a failed call and only then, retry loops as retry policies.

Tests that need a running server use the one on 127.0.0.1:7233 (or
$MERMAIDGEN_TEMPORAL_ADDRESS) and skip, saying so, when none answers; the others run in
the time-skipping test server from the pinned wheel.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from background import Background, start
from projects import clean_env, run_python
from test_target_temporal import NOWHERE, PROJECT, generate, server_address


def _needs_server() -> str:
    address = server_address()
    if address is None:
        pytest.skip("no Temporal server answers on 127.0.0.1:7233 (.ci/servers/temporal.sh)")
    return address


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, path
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


START_TWICE = """
import asyncio, sys
from {package}._generated import app

async def main() -> None:
    client = await app.connect(sys.argv[1])
    first = await app.start(client, key=sys.argv[2])  # no worker: it stays running
    second = await app.start(client, key=sys.argv[2])
    described = await first.describe()
    timeout = described.raw_description.execution_config.workflow_execution_timeout
    print(first.id, second.id, first.result_run_id, second.result_run_id,
          described.status.name, timeout.seconds)
    await first.terminate("the test is done with it")

app.run_sync(main())
"""


@pytest.mark.engine
def test_starting_a_running_business_key_returns_the_running_workflow(
        tmp_path: Path, temporal_python: Path) -> None:
    address = _needs_server()
    out = tmp_path / "out"
    generate(PROJECT / "samples" / "checkout.mmd", out, package="twice")
    (out / "start_twice.py").write_text(START_TWICE.format(package="twice"))
    key = f"order-{uuid.uuid4().hex[:8]}"
    done = run_python(temporal_python, ["start_twice.py", address, key], out, timeout=60)
    assert done.returncode == 0, done.stderr
    first_id, second_id, first_run, second_run, status, timeout = done.stdout.split()
    assert first_id == second_id == f"twice-{key}"
    assert first_run == second_run  # the second start returned the run under way
    assert status == "RUNNING"
    assert timeout == "0"  # no execution timeout unless configured


def _wait_for(process: subprocess.Popen, text: str, seconds: float) -> str:
    """What the process wrote to stderr up to the line holding `text`."""
    seen = []
    deadline = time.monotonic() + seconds
    assert process.stderr is not None
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return "".join(seen)
    raise AssertionError(f"no {text!r} within {seconds}s:\n{''.join(seen)}")


def _worker(python: Path, out: Path, package: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([str(python), "-m", package, "worker"], cwd=out,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env=clean_env(**env))


SLOW_STEP = '''    def reply_create_shipment(self, ctx):
        import pathlib
        import time
        marker = pathlib.Path("started")
        done = ctx.progress()  # the last heartbeat of a killed attempt
        # 4 s in all, over the 2 s heartbeat timeout: without heartbeats it never ends
        for second in range(done[0] + 1 if done else 0, 4):
            ctx.heartbeat(second)
            marker.write_text(str(second))
            time.sleep(1)
        return wiring.Result(0, wiring.messages.ShipmentCreated(trackingNumber="dhl-1"))
'''
FAST_HEARTBEAT = '''    def call_options(self, service, operation, message, compensation):
        from datetime import timedelta
        options = super().call_options(service, operation, message, compensation)
        options.heartbeat = timedelta(seconds=2)
        return options

    def business_key(self, start):
        import os
        return os.environ["ORDER_KEY"]
'''


@pytest.mark.engine
def test_a_bug_in_workflow_code_does_not_roll_the_saga_back(
        tmp_path: Path, temporal_python: Path) -> None:
    """A KeyError in a hook inside the `critical` block is a bug, not a failed call: the
    run fails with it and nothing is compensated (no refund, no release)."""
    out = tmp_path / "out"
    generate(PROJECT / "samples" / "order-saga.mmd", out, package="buggy")
    _edit(out / "buggy" / "workflow.py", "    pass\n",
          "    def request_shipping_create_shipment(self, ctx):\n"
          "        return {'address': ctx.data['no such step']}\n")
    main = run_python(temporal_python, ["-m", "buggy"], out, TEMPORAL_CLI_PATH=NOWHERE)
    assert main.returncode != 0, main.stdout
    assert "KeyError" in main.stderr, main.stderr
    assert "Refund payment" not in main.stdout + main.stderr
    assert "Release stock" not in main.stdout + main.stderr


@pytest.mark.engine
def test_a_permanent_failure_ends_the_saga_compensated(tmp_path: Path,
                                                      temporal_python: Path) -> None:
    out = tmp_path / "out"
    generate(PROJECT / "samples" / "order-saga.mmd", out, package="compensated")
    _edit(out / "compensated" / "services" / "shipping.py", "    pass\n",
          "    def reply_create_shipment(self, ctx):\n"
          "        from temporalio.exceptions import ApplicationError\n"
          "        raise ApplicationError('no carrier today', non_retryable=True)\n")
    main = run_python(temporal_python, ["-m", "compensated"], out, TEMPORAL_CLI_PATH=NOWHERE)
    assert main.returncode == 0, main.stderr
    trace = main.stdout.split("\n\n")[0]
    refund, release = trace.index("Refund payment"), trace.index("Release stock")
    assert refund < release  # the reverse of the order they were taken in
    assert "the workflow ended compensated" in main.stderr
    outcomes_ok = run_python(temporal_python, ["-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "-k", "time_skipping"], out, TEMPORAL_CLI_PATH=NOWHERE)
    assert outcomes_ok.returncode == 0, outcomes_ok.stdout  # the contract accepts it


RETRY_LOOP = """sequenceDiagram
    participant Orchestrator
    participant Partner
    loop up to 3 times
        Orchestrator->>+Partner: Deliver webhook
        Partner-->>-Orchestrator: Delivered
    end
"""


@pytest.mark.engine
def test_a_retry_loop_label_is_the_calls_retry_policy(tmp_path: Path,
                                                      temporal_python: Path) -> None:
    """`loop up to 3 times` around one call: the call is tried 3 times in all (Temporal's
    retry policy), not 3 loop turns of 5 retries each."""
    source = tmp_path / "hook.mmd"
    out = tmp_path / "out"
    generate(source, out, text=RETRY_LOOP, package="retried")
    _edit(out / "retried" / "services" / "partner.py", "    pass\n",
          "    def reply_deliver_webhook(self, ctx):\n"
          "        import pathlib\n"
          "        with pathlib.Path('attempts').open('a') as f:\n"
          "            f.write('x')\n"
          "        raise ConnectionError('partner down')\n")
    wiring = (out / "retried" / "_generated" / "wiring.py").read_text()
    assert "attempts=3" in wiring and "for iteration" not in wiring, wiring
    main = run_python(temporal_python, ["-m", "retried"], out, TEMPORAL_CLI_PATH=NOWHERE)
    assert main.returncode != 0
    assert (out / "attempts").read_text() == "xxx", main.stderr


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, *sys.argv[1:]]))


EVOLVING = """sequenceDiagram
    participant Orchestrator
    participant ServiceA
    participant ServiceB
    Orchestrator->>+ServiceA: Step 1
    ServiceA-->>-Orchestrator: Step 1 Completed
    Orchestrator->>+ServiceB: Step 2
    ServiceB-->>-Orchestrator: Step 2 Completed
"""
INSERTED = """    Orchestrator->>+ServiceA: Step 1.5
    ServiceA-->>-Orchestrator: Step 1.5 Completed
"""
REPLAY_TEST = "test_a_recorded_history_replays"


def _outcomes(python: Path, out: Path) -> tuple[dict[str, str], str]:
    """The project's test outcomes, the replay test's cases (one per history) as one."""
    from projects import shared_project_tests

    outcomes, log = shared_project_tests(python, out, TEMPORAL_CLI_PATH=NOWHERE)
    replays = [kind for name, kind in outcomes.items() if name.startswith(REPLAY_TEST)]
    outcomes[REPLAY_TEST] = "failure" if "failure" in replays else \
        (replays[0] if replays else "missing")
    return outcomes, log


@pytest.mark.engine
def test_regeneration_keeps_recorded_histories_replaying(
        tmp_path: Path, temporal_python: Path, cli) -> None:
    """Record a run's history, insert a step in the diagram, regenerate: the history
    still replays (the old path stays behind workflow.patched) and new runs take the new
    step. Without the versions file the same change breaks the replay (the test can
    fail); removing a step the recorded runs took stops generation with exit 1."""
    source = tmp_path / "flow.mmd"
    out = tmp_path / "out"
    source.write_text(EVOLVING, encoding="utf-8")
    args = ["generate", source, "-o", out, "--target", "temporal",
            "--style", "orchestration", "--package", "evo"]
    assert cli(*args).code == 0
    recorded = run_python(temporal_python, ["-m", "evo", "--record"], out,
                          TEMPORAL_CLI_PATH=NOWHERE)
    assert recorded.returncode == 0, recorded.stderr
    assert len(list((out / "tests" / "histories").glob("*.json"))) == 1

    inserted = EVOLVING.replace("    Orchestrator->>+ServiceB",
                                INSERTED + "    Orchestrator->>+ServiceB")
    source.write_text(inserted, encoding="utf-8")
    assert cli(*args).code == 0
    wiring = (out / "evo" / "_generated" / "wiring.py").read_text(encoding="utf-8")
    assert "if workflow.patched('OrchestratorWorkflow-" in wiring
    outcomes, log = _outcomes(temporal_python, out)
    assert outcomes[REPLAY_TEST] == "passed", log
    assert not [n for n, kind in outcomes.items() if kind in ("failure", "error")], log
    new_run = run_python(temporal_python, ["-m", "evo"], out, TEMPORAL_CLI_PATH=NOWHERE)
    assert "Orchestrator -> ServiceA  Step 1.5" in new_run.stdout, new_run.stderr

    unguarded = tmp_path / "unguarded"
    source.write_text(EVOLVING, encoding="utf-8")
    assert cli(*[unguarded if a == out else a for a in args]).code == 0
    (unguarded / "tests" / "histories").mkdir(parents=True)
    for history in (out / "tests" / "histories").glob("*.json"):
        (unguarded / "tests" / "histories" / history.name).write_bytes(history.read_bytes())
    (unguarded / "evo" / "_generated" / "versions.py").unlink()
    source.write_text(inserted, encoding="utf-8")
    assert cli(*[unguarded if a == out else a for a in args]).code == 0
    outcomes, log = _outcomes(temporal_python, unguarded)
    assert outcomes[REPLAY_TEST] == "failure", log
    assert "no longer replays" in log and "Nondeterminism" in log, log

    source.write_text(inserted.replace("    Orchestrator->>+ServiceB: Step 2\n"
                                       "    ServiceB-->>-Orchestrator: Step 2 Completed\n", ""),
                      encoding="utf-8")
    before = (out / "evo" / "_generated" / "wiring.py").read_bytes()
    removed = cli(*args)
    assert removed.code == 1, removed.err
    assert "recorded histor" in removed.err and "ServiceB" in removed.err, removed.err
    assert (out / "evo" / "_generated" / "wiring.py").read_bytes() == before


@pytest.mark.parametrize("edit", ["'hook': 'request_service_a_step_1'",
                                  "'result_lit': \"'ServiceA.step_1'\""])
def test_an_edited_versions_file_is_refused_not_rendered(tmp_path: Path, cli,
                                                         edit: str) -> None:
    """versions.py is read back as data and its ops printed again as code: anything in it
    that is not a name, a string literal or a comment stops generation (exit 1)."""
    source = tmp_path / "flow.mmd"
    out = tmp_path / "out"
    source.write_text(EVOLVING, encoding="utf-8")
    args = ["generate", source, "-o", out, "--target", "temporal", "--package", "evo"]
    assert cli(*args).code == 0
    (out / "tests" / "histories").mkdir(parents=True)
    (out / "tests" / "histories" / "run.json").write_text("{}")
    versions = out / "evo" / "_generated" / "versions.py"
    key, value = edit.split(": ", 1)
    hostile = value[:-1] + "); __import__('os').system('touch pwned'" + value[-1]
    _edit(versions, edit, f"{key}: {hostile}")
    source.write_text(EVOLVING.replace("    Orchestrator->>+ServiceB",
                                       INSERTED + "    Orchestrator->>+ServiceB"))
    refused = cli(*args)
    assert refused.code == 1, refused.err
    assert "not a versions file mermaidgen wrote" in refused.err
    assert "__import__" not in (out / "evo" / "_generated" / "wiring.py").read_text()


REMINDER = """sequenceDiagram
    participant Orchestrator
    participant Billing
    Orchestrator->>+Billing: Open invoice
    Billing-->>-Orchestrator: Invoice opened
    Orchestrator->>Orchestrator: Wait 2 hours
    Orchestrator->>+Billing: Send reminder
    Billing-->>-Orchestrator: Reminder sent
"""
TIMER_STARTED = """
import sys
from temporalio.client import WorkflowHistory
history = WorkflowHistory.from_json("run", open(sys.argv[1]).read())
for event in history.events:
    if event.HasField("timer_started_event_attributes"):
        print(event.timer_started_event_attributes.start_to_fire_timeout.seconds)
"""


@pytest.mark.engine
def test_a_two_hour_wait_is_a_durable_timer_that_time_skipping_skips(
        tmp_path: Path, temporal_python: Path) -> None:
    source = tmp_path / "reminder.mmd"
    out = tmp_path / "out"
    generate(source, out, text=REMINDER, package="reminder")
    wiring = (out / "reminder" / "_generated" / "wiring.py").read_text(encoding="utf-8")
    assert "wait=7200)" in wiring, wiring
    began = time.monotonic()
    main = run_python(temporal_python, ["-m", "reminder", "--record"], out,
                      TEMPORAL_CLI_PATH=NOWHERE)
    took = time.monotonic() - began
    assert main.returncode == 0, main.stderr
    assert "Orchestrator -> Billing       Send reminder" in main.stdout, main.stdout
    assert took < 60, took  # two hours of server time, skipped
    (history,) = (out / "tests" / "histories").glob("*.json")
    (out / "timers.py").write_text(TIMER_STARTED)
    fired = run_python(temporal_python, ["timers.py", history], out)
    assert fired.stdout.split() == ["7200"], fired.stdout + fired.stderr


@pytest.mark.engine
def test_async_and_plain_activity_hooks_both_run(tmp_path: Path,
                                                 temporal_python: Path) -> None:
    """An `async def` reply hook runs on the worker's event loop and its Result counts
    (it used to be called without being awaited); a plain one next to it still runs on
    the thread pool."""
    source = tmp_path / "flow.mmd"
    out = tmp_path / "out"
    text = EVOLVING.replace("Step 1 Completed", "Step 1 Completed(source)")
    generate(source, out, text=text, package="mixed")
    _edit(out / "mixed" / "services" / "service_a.py", "    pass\n",
          "    async def reply_step_1(self, ctx):\n"
          "        import asyncio\n"
          "        await asyncio.sleep(0)\n"
          "        return wiring.Result(0, wiring.messages.Step1Completed(source='async'))\n")
    _edit(out / "mixed" / "services" / "service_b.py", "    pass\n",
          "    def reply_step_2(self, ctx):\n"
          "        return wiring.Result(0, wiring.messages.Step2Completed())\n")
    _edit(out / "mixed" / "workflow.py", "    pass\n",
          "    def request_service_b_step_2(self, ctx):\n"
          "        assert ctx.data['ServiceA.step_1'].payload.source == 'async'\n"
          "        return wiring.messages.Step2()\n")
    main = run_python(temporal_python, ["-W", "error::RuntimeWarning", "-m", "mixed"], out,
                      TEMPORAL_CLI_PATH=NOWHERE)
    assert main.returncode == 0, main.stderr
    assert "never awaited" not in main.stderr
    assert "ServiceB -> Orchestrator  Step 2 Completed" in main.stdout, main.stdout


def _killed(folder: Path, temporal_python: Path) -> dict:
    """A worker killed mid-workflow, then a new one (the test at the end of the module):
    what `start` and `start --wait` said, and the shipment's last step. Its package is
    its own, so are its task queues: other runs on the server have workers too."""
    address = _needs_server()
    out = folder / "out"
    package = f"killed_{uuid.uuid4().hex[:8]}"
    generate(PROJECT / "samples" / "order-saga.mmd", out, package=package)
    _edit(out / package / "services" / "shipping.py", "    pass\n", SLOW_STEP)
    _edit(out / package / "workflow.py", "    pass\n", FAST_HEARTBEAT)
    key = f"order-{uuid.uuid4().hex[:8]}"
    env = {"TEMPORAL_ADDRESS": address, "ORDER_KEY": key}
    worker = _worker(temporal_python, out, package, env)
    try:
        ready = _wait_for(worker, "worker ready", 30)
        started = run_python(temporal_python, ["-m", package, "start"], out, timeout=60, **env)
        assert started.returncode == 0, started.stderr
        deadline = time.monotonic() + 30
        while not (out / "started").is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (out / "started").is_file(), "the shipment never started"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    # most of this scenario's 17 s: the workflow's next task waits on the killed worker's
    # sticky queue until the SDK's 10 s sticky schedule-to-start timeout moves it on (the
    # module's other tests run meanwhile)
    restarted = _worker(temporal_python, out, package, env)
    try:
        _wait_for(restarted, "worker ready", 30)
        waited = run_python(temporal_python, ["-m", package, "start", "--wait"], out,
                            timeout=90, **env)
    finally:
        restarted.send_signal(signal.SIGTERM)
        try:
            restarted.wait(10)
        except subprocess.TimeoutExpired:
            restarted.kill()
            restarted.wait(10)
    return {"package": package, "key": key, "ready": ready, "started": started,
            "waited": waited, "step": (out / "started").read_text()}


@pytest.fixture(scope="module", autouse=True)
def background(request: pytest.FixtureRequest, tmp_path_factory):
    """The killed worker's scenario, started at the module's first test, awaited by its
    test (the module's last)."""
    with start(request, tmp_path_factory, sys.modules[__name__], SCENARIOS,
               "temporal_python", 1) as running:
        yield running


@pytest.mark.engine
def test_a_worker_killed_mid_workflow_and_restarted_completes_it(
        tmp_path: Path, temporal_python: Path, background: Background,
        request: pytest.FixtureRequest) -> None:
    """The shipment is a long activity that heartbeats; its worker is killed (SIGKILL)
    while it runs. A new worker takes the workflow over: the activity's retry resumes
    from its last heartbeat and the workflow completes. `start` reports the business key's
    run each time (the same run), and the worker logs when it is ready. It ran in the
    background from the module's first test (`_killed`)."""
    result = background.result(request, tmp_path, temporal_python)
    package, started, waited = result["package"], result["started"], result["waited"]
    assert f"task queue {package}.saga" in result["ready"]
    assert f"workflow {package}-{result['key']} run" in started.stderr
    assert waited.returncode == 0, waited.stderr
    assert started.stderr.split()[-1] in waited.stderr  # the same run, not a new one
    assert "Saga -> API        Order confirmed" in waited.stdout, waited.stdout
    assert result["step"] == "3"


SCENARIOS = {"test_a_worker_killed_mid_workflow_and_restarted_completes_it": _killed}
