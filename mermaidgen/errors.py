"""The errors mermaidgen raises, all under one root.

A `DiagramError` carries one or more `Problem`s. Each problem knows its file, line and
column and the text of the offending line, so it can print itself the way compilers do:

    orders.mmd:7:9: error: expected ':' and a message text after 'Billing'
        7 | Orders->>Billing charge card
          |                  ^
      hint: write `Orders->>Billing: charge card`
"""

from __future__ import annotations

from dataclasses import dataclass


class MermaidgenError(Exception):
    """Root of every error mermaidgen raises on purpose."""

    exit_code = 1


class UsageError(MermaidgenError):
    """The command was called wrongly (missing file, bad option value)."""

    exit_code = 2


class SourceError(MermaidgenError):
    """A source could not be read, or holds no sequence diagram."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a diagram, at a place in its source file."""

    message: str
    line: int
    column: int
    source_line: str = ""
    """The text of the offending line, for the caret excerpt."""
    hint: str | None = None
    file: str | None = None
    severity: str = "error"
    code: str = "syntax"

    def location(self) -> str:
        return f"{self.file or '<text>'}:{self.line}:{self.column}"

    def headline(self, with_code: bool = False) -> str:
        """`file:line:col: severity: message`, or `severity[code]` with `with_code`."""
        label = f"{self.severity}[{self.code}]" if with_code else self.severity
        return f"{self.location()}: {label}: {self.message}"

    def render(self, with_code: bool = False) -> str:
        """The problem as a compiler-style report with a caret under the column."""
        out = [self.headline(with_code)]
        if self.source_line:
            shown, caret = excerpt(self.source_line, self.column)
            gutter = f"{self.line:>5} | "
            out.append(gutter + shown)
            out.append(" " * (len(gutter) - 2) + "| " + " " * caret + "^")
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return "\n".join(out)


class DiagramError(MermaidgenError):
    """The input is not a valid sequence diagram."""

    def __init__(self, problems: list[Problem]):
        self.problems = tuple(problems)
        super().__init__(self.problems)
        self._message: str | None = None

    def __str__(self) -> str:
        """Every problem rendered, the first time it is asked for: the commands print the
        problems themselves (`report.print_error`), and `parse` wraps the parser's error in
        one with more context, so rendering each error as it was made rendered every
        problem two or three times (a file of 20,000 erring diagrams: most of its time)."""
        if self._message is None:
            self._message = "\n".join(p.render() for p in self.problems)
        return self._message

    @property
    def first(self) -> Problem:
        return self.problems[0]


_EXCERPT_WIDTH = 100


def excerpt(line: str, column: int) -> tuple[str, int]:
    """A printable window of `line` around `column`, and the caret offset inside it.

    Long lines (a flattened diagram, a 1 MB line) are cut around the column, and control
    characters are shown as `?` so the caret stays aligned.
    """
    index = max(column - 1, 0)
    start = 0
    if len(line) > _EXCERPT_WIDTH:
        start = max(0, min(index - _EXCERPT_WIDTH // 2, len(line) - _EXCERPT_WIDTH))
    window = line[start : start + _EXCERPT_WIDTH]
    shown = "".join(c if c.isprintable() or c == " " else "?" for c in window.replace("\t", " "))
    caret = index - start
    if start > 0:
        shown, caret = "..." + shown, caret + 3
    if start + _EXCERPT_WIDTH < len(line):
        shown += "..."
    return shown, caret
