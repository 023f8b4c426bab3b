"""Runs generated projects' tests, modules and scripts one after another in one
long-lived Python process: the engine's imports (FastStream and its brokers' clients,
pydantic, temporalio, pytest), which cost a second or two in every new process, happen
once, before the first request.

Started by tests/projects.py (`run_python`, `shared_project_tests`) with a generated
project's virtual environment's python; stdlib and pytest only, since that environment
has nothing else. It reads one request per line on stdin (JSON: the project's folder, its
environment, what to run: `pytest ARGS`, `-m MODULE ARGS` or `SCRIPT ARGS`, with `-W`
options, and two files) and answers one line per request on stdout: {"code": exit code}.
What the run writes on its standard output and error, the subprocesses it starts
included, goes to the request's two files.

Between requests it puts the process back as it found it: the working folder, the
environment, sys.path, sys.argv, the warning filters, SIGINT's and SIGTERM's handlers,
every logger's handlers and filters, and every module imported from the project's folder
(two projects may hold packages of the same name, and every project has a
tests/test_contract.py), so that a project's modules are always its own. What stays is
what the engine's packages imported: a project that uses a submodule it never imports
could pass here after another project imported it; the tests that install a project and
run it in processes of their own (test_target_*.py, a fresh machine) would catch that.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import importlib
import importlib.machinery
import json
import linecache
import logging
import os
import runpy
import signal
import sys
import traceback
import warnings
from pathlib import Path

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _under(module: object, folders: tuple[str, ...]) -> bool:
    """Whether `module` was loaded from one of `folders` (each ending in a separator)."""
    places = [getattr(module, "__file__", None) or "",
              *list(getattr(module, "__path__", None) or [])]
    return any(os.path.join(place, "").startswith(folders) for place in places if place)


def _keep_compiled() -> None:
    """Compile each source once per content: wrap the compilation step of Python's source
    loader (what `import` does when no valid bytecode file exists) in a cache keyed by the
    file's path, the source's digest and the compile options."""
    loader = importlib.machinery.SourceFileLoader
    compile_source = loader.source_to_code
    kept: dict[tuple, object] = {}

    def source_to_code(self, data, path, *args, **kwargs):  # noqa: ANN001, ANN202
        if not isinstance(data, (bytes, bytearray, str)):
            return compile_source(self, data, path, *args, **kwargs)
        text = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        key = (str(path), hashlib.sha256(text).digest(), type(data), args,
               tuple(sorted(kwargs.items())))
        code = kept.get(key)
        if code is None:
            code = kept[key] = compile_source(self, data, path, *args, **kwargs)
        return code

    loader.source_to_code = source_to_code  # type: ignore[method-assign]


def _loggers() -> dict[str, tuple]:
    """Every logger's settings: FastStream adds a handler and a filter (which holds the
    app, and through it the project) to its loggers for every app it creates."""
    found = {"": logging.getLogger()} | {
        name: logger for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)}
    return {name: (logger, list(logger.handlers), list(logger.filters), logger.level,
                   logger.propagate, logger.disabled) for name, logger in found.items()}


def _restore(saved: dict[str, tuple]) -> None:
    for name, (logger, *_) in _loggers().items():
        _, handlers, filters, level, propagate, disabled = saved.get(
            name, (logger, [], [], logging.NOTSET, True, False))
        logger.handlers[:], logger.filters[:] = handlers, filters
        logger.setLevel(level)
        logger.propagate, logger.disabled = propagate, disabled


def _run(request: dict) -> int:
    """Run one request in this process; its exit code. Everything it changed in the
    process is put back (see the module's docstring)."""
    cwd = Path(request["cwd"]).resolve()
    env = request["env"]
    kind, target, *argv = request["run"]  # pytest|module|script, its name, its arguments
    added = [str(Path(p).resolve()) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    # what `python -m ...` puts first on sys.path (the working folder), or `python script`
    # (the script's folder)
    first = str((cwd / target).parent) if kind == "script" else str(cwd)
    folders = tuple(os.path.join(folder, "") for folder in (str(cwd), first, *added))
    modules = set(sys.modules)
    saved_environ = dict(os.environ)
    saved_path, saved_argv = list(sys.path), list(sys.argv)
    saved_signals = {number: signal.getsignal(number) for number in _SIGNALS}
    loggers = _loggers()
    importlib.invalidate_caches()
    linecache.clearcache()
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    sys.path[:0] = [first, *added]
    sys.argv = [target, *argv]
    try:
        with warnings.catch_warnings():
            for option in request.get("warnings", []):  # as `python -W option`
                warnings._setoption(option)  # type: ignore[attr-defined]
            try:
                if kind == "pytest":
                    import pytest
                    return int(pytest.main(argv))
                if kind == "module":
                    runpy.run_module(target, run_name="__main__", alter_sys=True)
                else:
                    runpy.run_path(str(cwd / target), run_name="__main__")
            except SystemExit as done:
                if done.code is None or isinstance(done.code, int):
                    return done.code or 0
                print(done.code, file=sys.stderr)
                return 1
            except BaseException:  # as the interpreter reports an uncaught exception
                traceback.print_exc()
                return 1
            finally:
                gc.collect()  # what finalizers print (a coroutine never awaited) goes here
        return 0
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        for name in set(sys.modules) - modules:
            if _under(sys.modules[name], folders):
                del sys.modules[name]
        _restore(loggers)
        for number, handler in saved_signals.items():
            signal.signal(number, handler)
        sys.path[:], sys.argv[:] = saved_path, saved_argv
        os.environ.clear()
        os.environ.update(saved_environ)


def main() -> None:
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        del sys.path[0]  # mermaidgen's tests/ folder, which no project may import from
    # the requests and answers travel on the descriptors we were given as stdin and stdout;
    # what the projects print goes to each request's log, never into the answers
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    home = os.getcwd()
    _keep_compiled()
    for name in sys.argv[1:]:  # the engine's packages, imported once, outside any request
        importlib.import_module(name)
    # what is there now lives as long as the process: the garbage collector, which pytest
    # runs several times per project, need not walk through it again each time
    gc.collect()
    gc.freeze()
    for line in requests:
        request = json.loads(line)
        saved = os.dup(1), os.dup(2)
        for descriptor, name in ((1, "stdout"), (2, "stderr")):
            log = os.open(request[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(log, descriptor)
            os.close(log)
        try:
            code = _run(request)
        except BaseException:  # a broken project must not stop the next ones
            traceback.print_exc()
            code = 3
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for descriptor in saved:
                os.close(descriptor)
            os.chdir(home)
        # the project's modules are gone: free what they held, and leave what stays (the
        # caches the engine's packages filled) out of the collections of later projects
        gc.collect()
        gc.freeze()
        answers.write(json.dumps({"code": code}) + "\n")
        answers.flush()
    # the SDKs' threads may still run; leave without tearing the interpreter down
    # (temporalio/sdk-python#300: a process that exits while they run can crash on its way out)
    os._exit(0)


if __name__ == "__main__":
    main()
