"""A green CI means what it says: in CI mode (`CI` set, or MERMAIDGEN_REQUIRE_ENGINES=1) an
engine test that cannot run fails with its reason, a broken dependency fails wherever it
happens, and nothing rewrites the expectations it is compared with."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from projects import CI_VARIABLE, pip_install

PROJECT = Path(__file__).resolve().parents[1]
TESTS = PROJECT / "tests"
# a release of the Temporal SDK that does not exist: the resolver fails fast on it
MISSING_PIN = "temporalio==0.0.999"

GATED = '''
import pytest

@pytest.mark.engine
def test_needs_a_server():
    pytest.skip("no server answers on 127.0.0.1:1")

@pytest.mark.engine
def test_runs_on_the_engine():
    pass

def test_plain():
    pytest.skip("not an engine test")
'''


def _closed_port() -> int:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _pytest(cwd: Path, basetemp: Path, *args: str, **env: str
            ) -> subprocess.CompletedProcess:
    """pytest in its own process, with this project's tests/conftest.py as a plugin, and
    neither CI nor any MERMAIDGEN_* variable unless given. No other plugin is loaded: what
    is tested is the conftest's, and the hypothesis plugin alone costs a second to start.
    Its temporary folder is `basetemp`: the conftest makes one as the run starts, and a
    numbered one under the user's /tmp/pytest-of-* would make pytest delete the oldest of
    those, earlier runs' engine environments with them (seconds of this test)."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("CI", "PYTHONPATH") and not k.startswith("MERMAIDGEN_")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           f"--basetemp={basetemp}", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120,
                          env={**base, "PYTHONPATH": str(TESTS),
                               "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **env})


@pytest.mark.engine
def test_a_pin_that_does_not_exist_fails_the_install() -> None:
    """pip answers, and has no such version: a failure, never a skip (it was one)."""
    with pytest.raises(pytest.fail.Exception) as failed:
        pip_install(Path(sys.executable), "--dry-run", "--no-deps", MISSING_PIN)
    assert f"pip install --dry-run --no-deps {MISSING_PIN} failed:" in str(failed.value)
    assert "No matching distribution found for temporalio==0.0.999" in str(failed.value)


def test_no_reachable_index_skips_the_install_saying_why() -> None:
    index = f"http://127.0.0.1:{_closed_port()}/simple"
    args = ("--dry-run", "--no-deps", "--retries", "1", "--index-url", index, MISSING_PIN)
    with pytest.raises(pytest.skip.Exception, match="cannot reach the package index"):
        pip_install(Path(sys.executable), *args)
    with pytest.raises(pytest.fail.Exception, match=r"failed \(no network\)"):
        pip_install(Path(sys.executable), *args, skip_without_pypi=False)


def test_engine_tests_skip_on_a_laptop_and_are_counted(tmp_path: Path) -> None:
    (tmp_path / "test_gated.py").write_text(GATED, encoding="utf-8")
    done = _pytest(tmp_path, tmp_path / "basetemp", "-p", "conftest", "-rs")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "engine tests: 1 ran (1 passed, 0 failed), 1 skipped" in done.stdout, done.stdout
    assert "no server answers on 127.0.0.1:1" in done.stdout


@pytest.mark.parametrize("env", [{CI_VARIABLE: "1"}, {"CI": "true"}], ids=["variable", "CI"])
def test_in_ci_mode_an_engine_test_that_skips_fails_with_its_reason(
        tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "test_gated.py").write_text(GATED, encoding="utf-8")
    done = _pytest(tmp_path, tmp_path / "basetemp", "-p", "conftest", "-rfs", **env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED test_gated.py::test_needs_a_server" in done.stdout, done.stdout
    assert "no server answers on 127.0.0.1:1" in done.stdout
    assert "may not skip in CI mode" in done.stdout
    assert "SKIPPED [1] test_gated.py" in done.stdout  # not an engine test: it may skip
    assert "engine tests: 1 ran (1 passed, 0 failed), 0 skipped, 1 could not run (failed)" \
        in done.stdout, done.stdout


def test_expectations_cannot_rewrite_themselves_in_ci_mode(tmp_path: Path) -> None:
    """MERMAIDGEN_UPDATE_GOLDEN makes golden, drawing and README comparisons rewrite
    themselves and pass: in CI mode the suite refuses to start with it."""
    done = _pytest(PROJECT, tmp_path / "basetemp", "--collect-only", "tests/test_check.py",
                   MERMAIDGEN_UPDATE_GOLDEN="1", CI="true")
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert "MERMAIDGEN_UPDATE_GOLDEN is set in CI mode" in done.stderr
