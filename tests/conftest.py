"""Shared pytest setup for mermaidgen's tests."""

import sys
from pathlib import Path

# Make `tests/conformance` importable as the package `conformance` (its helpers are shared
# by test_conformance.py, test_docs_corpus.py and the scripts in that folder), whatever
# pytest import mode is in use.
_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
