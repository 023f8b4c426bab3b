"""The test modules' bytecode, written once per run by the first process (xdist's
controller) while the workers start, instead of by every worker as it collects.

Each pytest-xdist worker imports every test module to collect it, and pytest rewrites each
module's asserts first (parse, rewrite, compile): about 3.5 of the 6 CPU-s a worker spent
collecting, in every worker, on every run where bytecode may not be written
(PYTHONDONTWRITEBYTECODE) and on the first run of a fresh clone (the workers rewrite the
same modules at the same time). pytest reads a rewritten module's bytecode wherever it
finds it, checked against the source's hash (a checked-hash pyc, PEP 552), so the
controller writes it, with pytest's own functions, under the run's own options; the
helper modules (projects.py, strategies.py...) get ordinary checked-hash bytecode. A
worker that reaches a module first rewrites it itself, as before: pytest writes each pyc
whole or not at all.

pytest's rewriting functions are internal: if they change, nothing is written and the
run collects as before."""

from __future__ import annotations

import fcntl
import importlib.util
import py_compile
import threading
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
CHECKED_HASH = b"\x03\x00\x00\x00"  # PEP 552: hash-based, checked on every import

HELPER_FOLDERS = (TESTS, TESTS / "conformance")
"""Where the helper modules that the test modules import are."""


NOT_TESTS = ("golden", "fixtures", "fuzz", "conformance", "analysis")
"""Folders pytest does not collect from (norecursedirs in pyproject.toml): data, whose
files may look like tests of this suite."""


def _is_test_module(path: Path) -> bool:
    return path.name.startswith("test_") or path.name == "conftest.py"


def selected_files(args: list[str], invocation_dir: Path) -> list[Path]:
    """The test files these command-line arguments name, whole or in part (`::`)."""
    found: list[Path] = []
    for arg in args:
        path = invocation_dir / arg.split("::")[0]
        if path.is_dir():
            found += [file for file in sorted(path.rglob("test_*.py"))
                      if not set(file.relative_to(path).parts[:-1]) & set(NOT_TESTS)]
        elif path.is_file():
            found.append(path)
    return found


def write_checked(sources: list[Path]) -> None:
    """Ordinary bytecode for `sources`, checked against each source's hash on every import
    (an edited module is compiled anew even at the same size and second); a source whose
    bytecode is current is left alone. (compileall cannot tell: it compares a hash-based
    pyc's header with the source's timestamp, and so compiled every module on every run.)"""
    for source in sources:
        cached = Path(importlib.util.cache_from_source(str(source)))
        try:
            header = cached.read_bytes()[:16]
            current = (header[:4] == importlib.util.MAGIC_NUMBER
                       and header[4:8] == CHECKED_HASH
                       and header[8:16] == importlib.util.source_hash(source.read_bytes()))
        except OSError:
            current = False
        if not current:
            try:
                py_compile.compile(str(source), str(cached), doraise=True,
                                   invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
            except (OSError, py_compile.PyCompileError):
                pass  # its import reports it, as it would have


def _write(config: pytest.Config, files: list[Path]) -> None:
    try:
        from _pytest.assertion import rewrite
    except ImportError:
        return
    write_checked([path for folder in HELPER_FOLDERS for path in sorted(folder.glob("*.py"))
                   if not _is_test_module(path)])
    state = config.stash[rewrite.assertstate_key]
    for path in [TESTS / "conftest.py", *files]:
        try:
            cache = rewrite.get_cache_dir(path)
            pyc = cache / (path.name[:-3] + rewrite.PYC_TAIL)
            if rewrite._read_pyc(path, pyc) is not None:
                continue  # written by an earlier run, and current
            if not rewrite.try_makedirs(cache):
                return  # a read-only checkout: every worker rewrites, as before
            source_hash, code = rewrite._rewrite_test(path, config)
            rewrite._write_pyc(state, code, source_hash, pyc)
        except (AttributeError, TypeError, KeyError):
            return  # pytest's internals changed: collect as before
        except (OSError, SyntaxError):
            continue  # the worker reports it, as it would have


LOCK = "test-bytecode.lock"
"""In the run's shared folder: held by the controller while it writes the bytecode."""


def start(config: pytest.Config, root: Path) -> threading.Thread | None:
    """Write the bytecode in the background, when workers will collect (xdist) with
    pytest's assert rewriting on. The workers start meanwhile (1 to 2 s of imports), and
    wait for it before they collect (`wait`)."""
    if (config.getoption("dist", "no") == "no" or config.option.collectonly
            or config.getoption("assertmode") != "rewrite"):
        return None  # one process collects (xdist does not distribute --collect-only)
    files = selected_files(config.args, config.invocation_params.dir)
    lock = open(root / LOCK, "w")  # noqa: SIM115  (closed by the thread: released then)
    fcntl.flock(lock, fcntl.LOCK_EX)  # before any worker starts

    def write() -> None:
        with lock:
            _write(config, files)

    thread = threading.Thread(target=write, daemon=True, name="test modules' bytecode")
    thread.start()
    return thread


def wait(root: Path, patience: float = 60.0) -> None:
    """A worker: wait until the controller has written the bytecode (at most `patience`
    seconds; after that, or without a controller writing it, collect as before)."""
    try:
        lock = open(root / LOCK)
    except OSError:
        return
    with lock:
        ends = time.monotonic() + patience
        while time.monotonic() < ends:
            try:
                fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                time.sleep(0.02)
