"""From a source spec on the command line to parsed diagrams."""

from __future__ import annotations

import os
import sys

from mermaidgen.errors import DiagramError, Problem
from mermaidgen.mermaid.extract import load
from mermaidgen.mermaid.parser import parse
from mermaidgen.model import Diagram
from mermaidgen.report import print_problems


def load_diagrams(spec: str | os.PathLike[str], *, warn: bool = True) -> list[Diagram]:
    """Every sequence diagram of a source (`PATH`, `PATH#N`, `PATH#title`, or `-` for
    standard input; a path object too), parsed; all errors of all diagrams together."""
    return [d for _, d in load_with_text(spec, warn=warn)]


def load_with_text(spec: str | os.PathLike[str], *, warn: bool = True
                   ) -> list[tuple[str, Diagram]]:
    """Every diagram of a source with the text it was parsed from."""
    spec = os.fspath(spec)
    found: list[tuple[str, Diagram]] = []
    problems: list[Problem] = []
    for snippet in load(spec, stdin=sys.stdin):
        try:
            found.append((snippet.text, parse(
                snippet.text, snippet.source, line_offset=snippet.line_offset,
                column_offset=snippet.column_offset)))
        except DiagramError as err:
            problems.extend(err.problems)
    if problems:
        raise DiagramError(problems)
    if warn:
        print_problems([warning_problem(d, w) for _, d in found for w in d.warnings])
    return found


def single(spec: str, found: list) -> object:
    """The one diagram a command that needs exactly one gets."""
    if len(found) > 1:
        from mermaidgen.errors import UsageError

        raise UsageError(f"{spec} holds {len(found)} sequence diagrams; pick one with "
                         f"{spec}#N (1 to {len(found)}) or {spec}#<title>")
    return found[0]


def warning_problem(diagram: Diagram, warning) -> Problem:
    """A model diagnostic as a printable problem."""
    return Problem(warning.message, warning.span.line, warning.span.column, hint=warning.hint,
                   file=diagram.source, severity=warning.severity, code=warning.code)


def print_findings(diagram: Diagram, diagnostics) -> None:
    """The analysis' findings that the parser has not reported already, on stderr as
    `check` shows them: the generated code follows them (a name numbered because it
    collides, a call that waits for a reply never drawn), so whoever generates sees them."""
    reported = set(diagram.warnings)
    print_problems([warning_problem(diagram, d) for d in diagnostics if d not in reported])
