"""`mermaidgen preview`: what a diagram says and how mermaidgen reads it."""

from __future__ import annotations

import json
import sys

from mermaidgen.errors import UsageError
from mermaidgen.sources import load_diagrams


def run(source: str, fmt: str, orchestrator: str | None = None) -> None:
    from mermaidgen.analysis import analyse

    diagrams = load_diagrams(source)
    if fmt == "json":
        if len(diagrams) > 1:
            raise UsageError(
                f"{source} holds {len(diagrams)} sequence diagrams; pick one for JSON with "
                f"{source}#N (1 to {len(diagrams)}) or {source}#<title>")
        from mermaidgen.serialize import analysis_to_dict, to_dict

        document = to_dict(diagrams[0])
        document["analysis"] = analysis_to_dict(analyse(diagrams[0], orchestrator))
        json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    from rich.console import Console

    from mermaidgen.preview import views
    from mermaidgen.preview.summary import summary

    console = Console(highlight=False, soft_wrap=False)
    for i, diagram in enumerate(diagrams):
        if i:
            console.print()
        console.print(summary(diagram), markup=False)
        console.print()
        console.print(views.render(analyse(diagram, orchestrator)))
