"""Printing problems for people: compiler-style lines on stderr."""

from __future__ import annotations

import sys

from mermaidgen.errors import DiagramError, MermaidgenError, Problem


def print_problems(problems: tuple[Problem, ...] | list[Problem], stream=None) -> None:
    """Errors as `file:line:col: error: ...`; warnings and notes with their rule code."""
    stream = stream or sys.stderr
    for problem in problems:
        print(problem.render(with_code=problem.severity != "error"), file=stream)


def print_error(error: MermaidgenError, stream=None) -> None:
    stream = stream or sys.stderr
    if isinstance(error, DiagramError):
        print_problems(error.problems, stream)
        count = len(error.problems)
        if count > 1:
            print(f"{count} errors", file=stream)
    else:
        print(f"mermaidgen: error: {error}", file=stream)
