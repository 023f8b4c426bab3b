"""Printing problems for people: compiler-style lines on stderr."""

from __future__ import annotations

import sys

from mermaidgen.errors import DiagramError, MermaidgenError, Problem


def print_problems(problems: tuple[Problem, ...] | list[Problem], stream=None) -> None:
    """Errors as `file:line:col: error: ...`; warnings and notes with their rule code."""
    stream = stream or sys.stderr
    # a write per thousand problems, not per line: stderr is line-buffered, and a large
    # diagram's 25,000 findings took 50,000 system calls
    for start in range(0, len(problems), 1000):
        stream.write("".join(f"{p.render(with_code=p.severity != 'error')}\n"
                             for p in problems[start:start + 1000]))


def print_error(error: MermaidgenError, stream=None) -> None:
    stream = stream or sys.stderr
    if isinstance(error, DiagramError):
        print_problems(error.problems, stream)
        count = len(error.problems)
        if count > 1:
            print(f"{count} errors", file=stream)
    else:
        print(f"mermaidgen: error: {error}", file=stream)
