"""`mermaidgen preview`: the diagram drawn in the terminal and how mermaidgen reads it."""

from __future__ import annotations

import os
import shutil
import sys

from mermaidgen.collection import paused_collection, skip_teardown
from mermaidgen.errors import UsageError
from mermaidgen.mermaid.sources import load_diagrams, print_findings


def run(source: str, fmt: str, orchestrator: str | None = None, width: int | None = None,
        ascii_only: bool = False, analysis: bool = True, *, compact: bool = False,
        projections: bool = False) -> None:
    # the model, the analysis and the document all live until the output is written:
    # collector passes over them would only re-scan them, and with a 100k-message
    # diagram they made the command grow faster than the diagram
    with paused_collection():
        _run(source, fmt, orchestrator, width, ascii_only, analysis, compact, projections)
    skip_teardown()  # it only prints: no need to free everything it built one by one


def _run(source: str, fmt: str, orchestrator: str | None, width: int | None,
         ascii_only: bool, analysis: bool, compact: bool, projections: bool) -> None:
    from mermaidgen.analysis import analyse

    diagrams = load_diagrams(source)
    if fmt in ("json", "mermaid") and len(diagrams) > 1:
        raise UsageError(
            f"{source} holds {len(diagrams)} sequence diagrams; pick one with "
            f"{source}#N (1 to {len(diagrams)}) or {source}#<title>")
    if fmt == "json":
        from mermaidgen.model import nesting
        from mermaidgen.model.serialize import dump
        from mermaidgen.preview.document import analysis_to_dict, model_to_dict

        document = model_to_dict(diagrams[0])
        if analysis:
            found = analyse(diagrams[0], orchestrator)
            print_findings(diagrams[0], found.diagnostics)
            document["analysis"] = analysis_to_dict(found, projections)
        # indented JSON grows with the square of the nesting: thousands of nested blocks
        # would print gigabytes of spaces, so such a document is printed compact
        deepest = max((d for _, d in nesting(diagrams[0].statements)), default=0)
        compact = compact or deepest > _MAX_INDENTED_NESTING
        try:
            dump(document, sys.stdout.write, compact=compact)
            sys.stdout.write("\n")
        except BrokenPipeError:  # `preview --format json | head`: the reader has enough
            _quiet_stdout()
        return
    if fmt == "mermaid":
        from mermaidgen.mermaid.emit import to_mermaid

        sys.stdout.write(to_mermaid(diagrams[0]))
        return
    from rich.console import Console

    from mermaidgen.preview import views
    from mermaidgen.preview.drawing import draw

    columns = width or shutil.get_terminal_size((100, 24)).columns
    # rich draws tables and trees in ASCII when its output cannot encode more
    console = Console(file=_AsciiStdout() if ascii_only else None, highlight=False,
                      soft_wrap=False, width=columns, no_color=ascii_only or None)
    for i, diagram in enumerate(diagrams):
        if i:
            print()
        print(draw(diagram, width=columns, ascii=ascii_only))
        if analysis and i < MAX_ANALYSED:
            found = analyse(diagram, orchestrator)
            print_findings(diagram, found.diagnostics)
            print()
            console.print(views.render(found))
    if analysis and len(diagrams) > MAX_ANALYSED:
        where = ("save them to a file: `mermaidgen preview FILE#N` shows diagram N with its own"
                 if source == "-" else
                 f"`mermaidgen preview {source}#N` shows diagram N with its own")
        print(f"\nThe analysis is shown for the first {MAX_ANALYSED} of {len(diagrams):,} "
              f"diagrams; {where}.")


MAX_ANALYSED = 20
"""Diagrams of one source shown with their analysis (rich takes about 3 ms to lay out one
diagram's tables and trees: a text file holding 20,000 diagrams would take a minute)."""


_MAX_INDENTED_NESTING = 200


def _quiet_stdout() -> None:
    """Standard output to the null device: what is still buffered for a reader that has
    gone would fail again at the final flush. (The document is written in pieces: the
    first piece past what the pipe holds is where the reader's leaving shows.)"""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


class _AsciiStdout:
    """Standard output, as a file that says it encodes ASCII only."""

    encoding = "ascii"

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()

    def isatty(self) -> bool:
        return False
