"""A snippet (one sequence diagram found in a source) and how one is recognised: the
header after frontmatter and comments, its title, and the errors of finding none.

Shared by the finders of every kind of source (`extract` for `.mmd` files and plain text,
`fences` for Markdown), which import this module and not each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mermaidgen.errors import MermaidgenError, SourceError, UsageError

HEADER = "sequenceDiagram"


class ExtractError(MermaidgenError):
    """A problem with a source as a whole; `str()` starts with `source[:line[:column]]`."""

    def __init__(
        self, message: str, *, source: str, line: int | None = None, column: int | None = None
    ) -> None:
        self.message, self.source, self.line, self.column = message, source, line, column
        super().__init__(f"{self.location}: {message}")

    @property
    def location(self) -> str:
        return ":".join([self.source, *(str(n) for n in (self.line, self.column) if n)])


class SourcePathError(ExtractError, UsageError):
    """The path is missing, a directory, or cannot be read."""


class SelectorError(ExtractError, UsageError):
    """`PATH#N` or `PATH#title` names no diagram of the source."""


class NotTextError(ExtractError, SourceError):
    """The source is binary, or not valid UTF-8 / UTF-16."""


class NoDiagramError(ExtractError, SourceError):
    """The source holds no sequence diagram."""


@dataclass(frozen=True, slots=True)
class Snippet:
    """One sequence diagram found in a source, and where it sits in that source."""

    text: str
    """The diagram as in the source (frontmatter and directives included), lines joined by \\n."""
    source: str
    """The path as the user gave it, or "-" for stdin."""
    line_offset: int
    """Snippet line 1 is file line `line_offset + 1`."""
    column_offset: int
    """Columns Markdown stripped from the fence's lines (list/blockquote indentation), else 0."""
    index: int
    """1-based position among the source's sequence diagrams."""
    title: str | None
    """The `title` statement, else the frontmatter `title:`, else None."""


# Patterns that must match at a line start begin with "\n" and run on "\n" + text: a literal
# first character lets `re` skip ahead fast, and a line-start match at text index i is then at
# index i of that string too. Every pattern is linear: no nested or overlapping repeats.
TEXT_HEADER = re.compile(r"\n[ \t]*sequenceDiagram(?![^\s;])")
SPACE = re.compile(r"\s*")
FIRST_WORD = re.compile(r"[^\s;]{1,80}")
_FM_OPEN = re.compile(r"[ \t]*---[ \t]*\n")
_FM_CLOSE = re.compile(r"\n[ \t]*---[ \t]*(?=\n|\Z)")
_FM_TITLE = re.compile(r"\ntitle:[ \t]*(.*)")
_BODY_TITLE = re.compile(r"\n[ \t]*title(?::[ \t]|[ \t])([^#\n;]*)", re.I)
MERMAID_FENCE = re.compile(r"```[ \t]*mermaid|~~~[ \t]*mermaid", re.I)


def preamble(text: str) -> tuple[int, str | None]:
    """Where the diagram header should be (after frontmatter, directives, `%%` comments),
    and the frontmatter's `title:` if it has one."""
    start = SPACE.match(text).end()  # type: ignore[union-attr]
    title = None
    opening = _FM_OPEN.match(text, text.rfind("\n", 0, start) + 1)
    closing = opening and _FM_CLOSE.search(text, opening.end() - 1)
    if opening and closing:
        found = _FM_TITLE.search(text, opening.end() - 1, closing.start() + 1)
        if found:
            title = found.group(1).strip().strip("\"'").strip() or None
        start = closing.end()
    while True:
        start = SPACE.match(text, start).end()  # type: ignore[union-attr]
        if text.startswith("%%{", start):
            end = text.find("}%%", start + 3)
            if end < 0:
                return start, title  # an unclosed directive: the parser will say so
            start = end + 3
        elif text.startswith("%%", start):
            end = text.find("\n", start)
            start = len(text) if end < 0 else end
        else:
            return start, title


def snippet_at(text: str, source: str, line: int, column: int, index: int) -> Snippet | None:
    """A Snippet if `text` holds a sequence diagram (as mermaid detects one), else None."""
    start, title = preamble(text)
    if not text.startswith(HEADER, start):
        return None
    # The last `title` statement wins over the frontmatter, as in mermaid.
    titles = [m.group(1).strip() for m in _BODY_TITLE.finditer(text, start)]
    title = next((t for t in reversed(titles) if t), title)
    return Snippet(text, source, line, column, index, title)


def counted(n: int, singular: str, plural: str | None = None) -> str:
    if plural is not None:  # a verb: "1 is", "2 are"
        return f"{n} {singular if n == 1 else plural}"
    return f"{n} {singular}{'' if n == 1 else 's'}"
