"""Helpers for tests that generate projects and run them in their own processes, shared
by test_generate.py, test_target_faststream.py, test_target_temporal.py and the CLI tests."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
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


def make_venv(home: Path) -> Path:
    """A new virtual environment in `home`; its python."""
    venv.EnvBuilder(with_pip=True).create(home)
    return home / ("Scripts" if os.name == "nt" else "bin") / "python"


def pip_install(python: Path, *args: str, skip_without_pypi: bool = True) -> None:
    """Install from PyPI. If that fails: skip the test saying why (the engines' packages
    are optional), or with `skip_without_pypi=False` fail it (pytest itself is not)."""
    done = run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                *args], Path.cwd(), timeout=900)
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
        assert skip_without_pypi, f"pip install {' '.join(args)} failed: {why}"
        pytest.skip(f"cannot install the generated projects' dependencies from PyPI: {why}")


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
