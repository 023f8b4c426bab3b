"""mermaidgen against mermaid.js over the diagrams of mermaid's own documentation.

The corpus lives beside the project in ../shared/corpus/mermaid-docs (with the oracle's
results in oracle.jsonl); `python tests/conformance/docs_corpus.py` prints a summary.
"""

from __future__ import annotations

import pytest
from conformance.docs_corpus import CORPUS, CorpusCase, load_cases, mismatches

CASES = load_cases()
PARAMS = [pytest.param(case, id=case.name) for case in CASES] or [
    pytest.param(
        None, id="no-corpus", marks=pytest.mark.skip(reason=f"corpus not found at {CORPUS}")
    )
]


@pytest.mark.parametrize("case", PARAMS)
def test_docs_diagram(case: CorpusCase) -> None:
    found = mismatches(case)
    assert not found, f"{case.name}: mermaidgen differs from mermaid.js\n" + "\n".join(found)
