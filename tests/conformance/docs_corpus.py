"""Compare mermaidgen with mermaid.js over the diagrams of mermaid's own documentation.

    python tests/conformance/docs_corpus.py     # prints "N/M diagrams match" and the mismatches

The corpus is `../shared/corpus/mermaid-docs/*.mmd` (override with MERMAID_DOCS_CORPUS), with
the oracle's results in its `oracle.jsonl`. That file was made WITHOUT `--raw`, so entity
codes appear rendered: `#35;` as `&#35;`, `#quot;` as `&quot;`. Only the codes the diagram's
source spells as `#...;` are decoded, so an `&amp;` an author typed stays as it is.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `conformance` and `mermaidgen` importable
    sys.path[:0] = [
        str(Path(__file__).resolve().parents[1]),
        str(Path(__file__).resolve().parents[2]),
    ]

from conformance.compare import compare, decode_record, rendered_entity_decoder  # noqa: E402

PROJECT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("MERMAID_DOCS_CORPUS", PROJECT.parent / "shared/corpus/mermaid-docs"))


@dataclass(frozen=True)
class CorpusCase:
    """One corpus diagram and what mermaid made of it (entities decoded)."""

    name: str
    path: Path
    text: str
    record: dict[str, Any]


def load_cases(corpus: Path = CORPUS) -> list[CorpusCase]:
    """Every diagram listed in the corpus's oracle.jsonl, sorted by name ([] if absent)."""
    results = corpus / "oracle.jsonl"
    if not results.exists():
        return []
    cases = []
    for line in results.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        path = corpus / record["file"]
        text = path.read_bytes().decode("utf-8")
        decoded = decode_record(record, rendered_entity_decoder(text))
        cases.append(CorpusCase(name=record["file"], path=path, text=text, record=decoded))
    return sorted(cases, key=lambda c: c.name)


def mismatches(case: CorpusCase) -> list[str]:
    """How mermaidgen's reading of one corpus diagram differs from mermaid's (empty if none)."""
    from mermaidgen import parse
    from mermaidgen.errors import DiagramError
    from mermaidgen.model.serialize import to_dict

    try:
        model = to_dict(parse(case.text, source=str(case.path)))
    except DiagramError as err:
        if not case.record["ok"]:
            return []
        return [f"mermaid accepts it, mermaidgen rejects it:\n{err}"]
    if not case.record["ok"]:
        return [f"mermaid rejects it ({case.record.get('error_kind')}), mermaidgen accepts it"]
    return compare(model, case.record)


def main() -> int:
    cases = load_cases()
    if not cases:
        print(f"no corpus at {CORPUS} (expected *.mmd and oracle.jsonl there)", file=sys.stderr)
        return 2
    failed: dict[str, list[str]] = {}
    for case in cases:
        try:
            found = mismatches(case)
        except ImportError as err:
            print(f"cannot import mermaidgen: {err}", file=sys.stderr)
            return 2
        except Exception as err:  # report a crash as a mismatch and carry on
            found = [f"crashed: {type(err).__name__}: {err}"]
        if found:
            failed[case.name] = found
    print(f"{len(cases) - len(failed)}/{len(cases)} diagrams match")
    for name, found in failed.items():
        print(f"\n{name}:")
        for item in found:
            print("  " + item.replace("\n", "\n  "))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
