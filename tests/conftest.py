"""Shared pytest setup for mermaidgen's tests."""

import sys
from pathlib import Path

import pytest

# Make `tests/conformance` importable as the package `conformance` (its helpers are shared
# by test_conformance.py, test_docs_corpus.py and the scripts in that folder), and the
# helper modules here (`projects`, `strategies`, `check_tree`), whatever pytest import mode
# is in use.
_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)


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
