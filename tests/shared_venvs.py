"""The engines' virtual environments (FastStream, Temporal), built once per run in the
run's shared temporary folder, and started early: building one takes 10 to 30 seconds
(downloads from PyPI, installs, bytecode), and a run that starts it only when its first
engine test asks for it waits that long with the test. tests/conftest.py starts the builds
in the background as soon as it knows the run will need them: the first process of the run
(xdist's controller, or the only process) before the workers have even started, guessing
from the command line; every worker after its collection, knowing (`needed_by`). The
fixtures then wait for the build (`wait_for`).

The protocol, the same for every process and thread of the run: whoever holds
`<name>.lock` may build `<name>/`; a finished build leaves `<name>/.ready`, a failed one
`<name>.failed` (what the installer printed), so that a run without PyPI tries once, and
every test that needs the environment skips or fails with the installer's words
(projects._judge)."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import threading
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

from collection_bytecode import selected_files
from projects import clean_env, install_command

FIXTURES = {"faststream_python": "faststream-venv", "traced_python": "faststream-venv",
            "temporal_python": "temporal-venv"}
"""The fixtures that need an environment, and its name."""

Command = Callable[[Path, tuple[str, ...]], tuple[Path, list[str]]]


def shared_root(basetemp: Path) -> Path:
    """The folder every process of the run shares: xdist gives each worker a basetemp in
    the controller's (`<controller's>/popen-gw0`)."""
    return basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp


class Build:
    """One environment's build under the run's lock, in this thread (`run`) or in the
    background (`start`); `cancel` ends a background build nobody needs any more (a run
    that ends first, or is interrupted) without leaving it marked failed."""

    def __init__(self, root: Path, name: str, requirements: tuple[str, ...],
                 command: Command = install_command) -> None:
        self.root, self.name, self.requirements = root, name, requirements
        self.home = root / name
        self.command = command
        self._guard = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._cancelled = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=f"build {self.name}",
                                        daemon=True)
        self._thread.start()

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(self) -> subprocess.CompletedProcess:
        """The outcome: made now, by another process or thread before, or failed before."""
        failed = self.root / f"{self.name}.failed"
        with open(self.root / f"{self.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if (self.home / ".ready").is_file():
                return subprocess.CompletedProcess([], 0, "", "")
            if failed.is_file():
                return subprocess.CompletedProcess(**json.loads(failed.read_text()))
            if self._cancelled:  # waited for another's build that did not finish
                return subprocess.CompletedProcess([], 1, "", "cancelled")
            shutil.rmtree(self.home, ignore_errors=True)  # what a cancelled build left
            done = self._install()
            if done.returncode == 0:
                (self.home / ".ready").touch()
            elif not self._cancelled:
                failed.write_text(json.dumps({"args": done.args, "returncode": done.returncode,
                                              "stdout": done.stdout, "stderr": done.stderr}))
            return done

    def _install(self) -> subprocess.CompletedProcess:
        args: list[str] = []
        try:
            _, args = self.command(self.home, self.requirements)
            with self._guard:
                if self._cancelled:
                    return subprocess.CompletedProcess(args, 1, "", "cancelled")
                self._process = subprocess.Popen(
                    args, cwd=self.root, env=clean_env(), text=True,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = self._process.communicate(timeout=900)
            return subprocess.CompletedProcess(args, self._process.returncode, out, err)
        except Exception:  # a timeout, a venv that could not be made: the test says why
            if self._process is not None and self._process.poll() is None:
                self._process.kill()
                self._process.wait()
            return subprocess.CompletedProcess(args, 1, "", traceback.format_exc())

    def cancel(self) -> None:
        with self._guard:
            self._cancelled = True
            if self._process is not None and self._process.poll() is None:
                self._process.kill()
        if self._thread is not None:
            # one still waiting for the lock (another process's build) just stays there,
            # and ends with this process
            self._thread.join(10)


def needed_by(fixturenames: Iterable[Iterable[str]]) -> set[str]:
    """The environments that tests with these fixtures (each test's, all it depends on)
    need."""
    return {FIXTURES[name] for names in fixturenames for name in names if name in FIXTURES}


_USES = re.compile(r"\b(" + "|".join(FIXTURES) + r")\b")


def guessed_from(args: list[str], invocation_dir: Path, keyword: str, markexpr: str,
                 ) -> set[str]:
    """The environments a run of these command-line arguments will need, guessed before
    collection from the test files' text (a file that names a fixture of FIXTURES): empty
    when the run may select fewer tests than its files hold (`-k`, `-m`, single tests),
    which the workers find out after their collection instead. A wrong guess costs a
    download in the background, cancelled at the end of the run."""
    if keyword or markexpr or any("::" in arg for arg in args):
        return set()
    found: set[str] = set()
    for file in selected_files(args, invocation_dir):
        try:
            text = file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        found |= {FIXTURES[name] for name in _USES.findall(text)}
    return found
