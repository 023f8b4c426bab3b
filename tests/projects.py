"""Helpers for tests that generate projects and run them in their own processes, shared
by test_generate.py, test_target_faststream.py, test_target_temporal.py and the CLI tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import pytest

# A small diagram that regeneration tests change step by step.
V1 = """sequenceDiagram
    participant ServiceA
    participant ServiceB
    participant ServiceC
    ServiceA->>ServiceB: Event 1
    ServiceB->>ServiceC: Event 2
    ServiceC->>ServiceA: Event 3
"""


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment, without what would leak into a generated project's run:
    our PYTHONPATH and virtual environment, and mermaidgen's and Temporal's settings."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV")
           and not k.startswith(("MERMAIDGEN_", "TEMPORAL_"))}
    return {**env, **extra}


def run(cmd: list, cwd: Path, timeout: float = 300, **env: str
        ) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                          env=clean_env(**env), timeout=timeout)


def make_venv(home: Path, with_pip: bool = True) -> Path:
    """A new virtual environment in `home`; its python."""
    venv.EnvBuilder(with_pip=with_pip).create(home)
    return home / ("Scripts" if os.name == "nt" else "bin") / "python"


def uv_command() -> str | None:
    """uv's executable, when it is installed (the test extra has it): beside this Python,
    or on PATH."""
    beside = Path(sys.executable).parent / ("uv.exe" if os.name == "nt" else "uv")
    return str(beside) if beside.is_file() else shutil.which("uv")


def quick_venv(home: Path, *requirements: str) -> Path:
    """A virtual environment in `home` with `requirements` from PyPI, for the tests that run
    generated projects: built by uv when there is one (seconds; pip spends most of a minute
    unpacking temporalio), by pip otherwise. The same skip-or-fail rules as `pip_install`."""
    uv = uv_command()
    if uv is None:
        python = make_venv(home)
        pip_install(python, *requirements)
        return python
    python = make_venv(home, with_pip=False)
    done = run([uv, "pip", "install", "--quiet", "--python", python, *requirements],
               Path.cwd(), timeout=900)
    _judge(done, "uv pip install", requirements, skip_without_pypi=True)
    return python


# What pip prints when it cannot reach an index at all (urllib3's and the resolver's words),
# as against an index that answered and has no matching distribution.
OFFLINE = ("NewConnectionError", "Failed to establish a new connection", "Max retries exceeded",
           "Temporary failure in name resolution", "Name or service not known",
           "Network is unreachable", "ConnectTimeoutError", "ReadTimeoutError", "ProxyError",
           "connection error:", "No route to host",
           # uv's words for the same
           "dns error", "tcp connect error", "error sending request")
CI_VARIABLE = "MERMAIDGEN_REQUIRE_ENGINES"
"""Set to 1 (or run with `CI` set, as CI services do): engine and real-server tests that
cannot run fail instead of skipping (tests/conftest.py), and expectations never rewrite
themselves."""


def ci_mode() -> bool:
    """Whether this is a CI run, where a skipped engine test would hide what matters."""
    ci = os.environ.get("CI", "").strip().lower()
    return os.environ.get(CI_VARIABLE, "").strip() == "1" or ci not in ("", "0", "false", "no")


def pip_install(python: Path, *args: str, skip_without_pypi: bool = True) -> None:
    """Install from PyPI. Without a network (no index answers), skip the test saying why
    (the engines' packages are optional on a laptop; in CI mode the skip becomes a failure,
    tests/conftest.py); with `skip_without_pypi=False`, fail it. Any other pip failure (a
    pin that does not exist, extras that cannot be resolved together) fails the test."""
    done = run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                *args], Path.cwd(), timeout=900)
    _judge(done, "pip install", args, skip_without_pypi)


def _judge(done: subprocess.CompletedProcess, what: str, args: tuple[str, ...],
           skip_without_pypi: bool) -> None:
    if done.returncode != 0:
        output = done.stdout + done.stderr
        why = (done.stderr.strip().splitlines() or [f"{what} failed"])[-1]
        offline = any(word in output for word in OFFLINE)
        if offline and skip_without_pypi:
            pytest.skip(f"cannot reach the package index to install {' '.join(args)}: {why}")
        pytest.fail(f"{what} {' '.join(args)} failed"
                    + (" (no network)" if offline else "") + f":\n{output[-3000:]}")


def project_tests(python: Path, out: Path, **env: str) -> tuple[dict[str, str], str]:
    """Run a generated project's own tests with `python`: each test's outcome (passed,
    failure, error, skipped), and the output."""
    report = out / ".pytest-report.xml"
    done = run([python, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                f"--junitxml={report}"], out, **env)
    outcomes: dict[str, str] = {}
    if report.is_file():
        for case in ElementTree.parse(report).getroot().iter("testcase"):
            kinds = [child.tag for child in case if child.tag in ("failure", "error",
                                                                    "skipped")]
            outcomes[case.get("name", "")] = kinds[0] if kinds else "passed"
        report.unlink()
    return outcomes, done.stdout + done.stderr


def lint(out: Path) -> None:
    """Every file under `out` (the vendored checker included) compiles and passes
    `ruff check` with ruff's default rules."""
    compiled = run([sys.executable, "-m", "compileall", "-q", "."], out)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    ruff = run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "."], out)
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr


def tree(root: Path) -> dict[str, object]:
    """Every file (bytes), link (its target) and folder under `root`, links not followed."""
    found: dict[str, object] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                found[rel + "/"] = "dir"
            else:
                found[rel] = path.read_bytes()
    return found


@dataclass
class CliResult:
    """What `mermaidgen` answered, run in this process by the `cli` fixture."""

    code: int
    out: str
    err: str


KNOWN_PATH_DEFECTS: dict[tuple[str, str], dict[str, str]] = {
    ("hostile", "choreography"): dict.fromkeys(
        ["else", "else+while-true-twice"],
        "a non-local choice (conformance.md, who decides a branch): L runs the loop after "
        "the alt, but learns of the alt only in its first section; in `else` no message "
        "reaches it, so no choreography can follow this path"),
}
"""(diagram, style) -> path -> why it fails: paths of the python target that fail because
of a runtime defect another branch is fixing. test_paths.py checks that exactly these
fail (so the entry must go when the fix lands); test_generate.py deselects them."""


def known_defect_deselections(diagram: str, style: str) -> list[str]:
    """pytest arguments that leave out the generated path tests known to fail."""
    return [arg for name in KNOWN_PATH_DEFECTS.get((diagram, style), {}) for arg in
            ("--deselect",
             f"tests/test_contract.py::test_every_path_conforms_to_the_diagram[{name}]")]


def known_path_failure(test: str, diagram: str, style: str) -> bool:
    """Is `test` (a generated project's test name, with its parameters) a path test of a
    path listed in KNOWN_PATH_DEFECTS?"""
    if not test.startswith("test_every_path_conforms") or "[" not in test:
        return False
    params = test[test.index("[") + 1:-1]
    return any(params == name or params.endswith("-" + name)
               for name in KNOWN_PATH_DEFECTS.get((diagram, style), {}))
