"""Recover diagrams that were flattened onto one line.

Diagrams copied from web pages or PDFs often lose their line breaks:

    sequenceDiagram participant A participant B A->>B: Event 1 B->>A: Event 2

mermaid.js rejects that, or reads it as one long message. mermaidgen finds where each
statement starts (keywords, and `<known participant><arrow>`), puts every statement on a
line of its own, parses the result normally and moves every span back to the column the
statement had on the original line. The diagram carries a `flattened-diagram` warning.

Recovery is tried only when the `sequenceDiagram` line holds more than one statement,
uses no `;`, and nothing follows on later lines: a diagram written on several lines is
always read exactly as mermaid reads it.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import re
from dataclasses import dataclass

from mermaidgen.mermaid.lexrules import ARROW, FLAGS, JS_WHITESPACE
from mermaidgen.model import Diagnostic, Diagram, Span

_WORD = re.compile(r"\S+")
_WORD_CHAR = re.compile(r"\w", re.ASCII)
_ARROW_AT = re.compile(rf"\s*(?:{ARROW})", FLAGS)
_MESSAGE_SHAPE = re.compile(rf"([^\s:;,<>+\-]+)\s*(?:{ARROW})\s*[+-]?\s*[^\s:]+?\s*:", FLAGS)
_OPENERS = {"loop", "alt", "opt", "par", "par_over", "critical", "break", "rect", "box"}
_SECTIONS = {"else": "alt", "and": "par", "option": "critical"}
_ID_KEYWORDS = {"activate", "deactivate", "destroy"}
_NOTE_PLACEMENT = re.compile(r"(?:left of|right of|over)\s", re.IGNORECASE)
# what separates the names before a message's or a note's `:`
_HEAD_PARTS = re.compile(rf"\s*(?:{ARROW})\s*[+-]?\s*|,|\bover\b|\bleft of\b|\bright of\b",
                         re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Recovered:
    """The diagram text with one statement per line, and how to map it back."""

    text: str
    line: int  # the original (snippet) line that held the whole diagram
    shifts: tuple[int, ...]  # column shift of each recovered line, from `line` on
    statements: int

    def place(self, line: int, column: int, line_offset: int,
              column_offset: int) -> tuple[int, int]:
        """A position in the recovered text, back on the original line."""
        k = line - self.line
        if 0 <= k < len(self.shifts):
            return self.line + line_offset, column + self.shifts[k] + column_offset
        return line + line_offset, column + column_offset

    def relocate(self, diagram: Diagram, line_offset: int, column_offset: int) -> Diagram:
        """Move every span from the recovered text back to the original line."""

        def move(span: Span) -> Span:
            def place(line: int, column: int) -> tuple[int, int]:
                return self.place(line, column, line_offset, column_offset)

            return Span(*place(span.line, span.column), *place(span.end_line, span.end_column))

        moved = _remap(diagram, move)
        warning = Diagnostic(
            "warning", "flattened-diagram",
            f"this diagram is flattened onto one line; recovered {self.statements} "
            "statements from it (mermaid.js itself would reject it or misread it)",
            Span(self.line + line_offset, 1 + column_offset, self.line + line_offset,
                 1 + column_offset),
            "put each statement on its own line (or end each with `;`); "
            "`mermaidgen preview FILE --format mermaid` prints the repaired diagram",
        )
        return dataclasses.replace(moved, warnings=(warning, *moved.warnings))


def _remap(node, move):
    """A copy of a model tree with every `Span` passed through `move` (rare path: a
    flattened line, which may hold tens of thousands of statements)."""
    if isinstance(node, Span):
        return move(node)
    if isinstance(node, tuple):
        return tuple(_remap(n, move) for n in node)
    names = _field_names(type(node))
    if names is None:
        return node
    changes = {}
    for name in names:
        value = getattr(node, name)
        if isinstance(value, (Span, tuple)) or _field_names(type(value)) is not None:
            changes[name] = _remap(value, move)
    return dataclasses.replace(node, **changes)


@functools.cache
def _field_names(cls: type) -> tuple[str, ...] | None:
    """The fields of a dataclass, None for any other class (looked up once per class)."""
    if not dataclasses.is_dataclass(cls):
        return None
    return tuple(f.name for f in dataclasses.fields(cls))


class _Splitter:
    """Finds statement boundaries in the words of one flattened line."""

    def __init__(self, line: str, base: int):
        self.line = line
        self.base = base  # position of `line` in the whole text
        self.words = [(m.start(), m.group()) for m in _WORD.finditer(line)]
        self.known: set[str] = set()
        self.lengths: list[int] = []  # the lengths of the known names, longest first
        self.starts = [start for start, _ in self.words]
        self.lowers = [w.lower() for _, w in self.words]  # each word is looked at often
        ends = [k for k, (_, w) in enumerate(self.words) if w.lower() == "end"]
        self.last_end = ends[-1] if ends else -1
        self.blocks: list[str] = []
        self.has_title = False

    def _learn(self, name: str) -> None:
        name = name.strip(JS_WHITESPACE)
        if name and name not in self.known:
            self.known.add(name)
            if len(name) not in self.lengths:
                self.lengths.append(len(name))
                self.lengths.sort(reverse=True)

    def _known_at(self, pos: int) -> str | None:
        """The longest known name at `pos` (one lookup per name length, not per name:
        a flattened line may name thousands of participants)."""
        for size in self.lengths:
            if self.line[pos : pos + size] in self.known:
                return self.line[pos : pos + size]
        return None

    def _starts_statement(self, i: int) -> bool:
        """Could a statement begin at word `i` (while reading free text)?"""
        pos = self.starts[i]
        lower = self.lowers[i]
        nxt = self.words[i + 1][1] if i + 1 < len(self.words) else ""
        if lower in ("participant", "actor", "create") and nxt:
            return True
        if lower in _ID_KEYWORDS:
            return self._known_at(self.words[i + 1][0]) is not None if nxt else False
        if lower == "note":
            return bool(_NOTE_PLACEMENT.match(self.line, self.words[i + 1][0])) if nxt else False
        if lower == "autonumber":
            return True
        if lower in _OPENERS:
            return self.last_end > i
        if lower in _SECTIONS:
            return bool(self.blocks) and self.blocks[-1] == _SECTIONS[lower]
        if lower == "end":
            return bool(self.blocks)
        known = self._known_at(pos)
        if known and _ARROW_AT.match(self.line, pos + len(known)):
            return True
        return bool(_MESSAGE_SHAPE.match(self.line, pos))

    def _free_text_end(self, i: int) -> int:
        """Index of the first word at or after `i` that starts a new statement."""
        while i < len(self.words) and not self._starts_statement(i):
            i += 1
        return i

    def _fixed_part(self, i: int) -> int:
        """Index of the word after a statement's fixed part (free text comes after)."""
        pos = self.starts[i]
        lower = self.lowers[i]
        if lower == "create" and i + 1 < len(self.words):
            return self._fixed_part(i + 1)
        if lower in ("participant", "actor"):
            if i + 1 < len(self.words):
                name = self.words[i + 1][1]
                self._learn(name.split("@{")[0])
                j = i + 2
                if "@{" in name and "}" not in name:
                    while j < len(self.words) and "}" not in self.words[j - 1][1]:
                        j += 1
                if j < len(self.words) and self.words[j][1].lower() == "as":
                    return self._free_text_end(j + 1)
                return j
            return i + 1
        if lower in _ID_KEYWORDS and i + 1 < len(self.words):
            name = self._known_at(self.words[i + 1][0]) or self.words[i + 1][1]
            end = self.words[i + 1][0] + len(name)
            return self._word_after(end)
        if lower in _OPENERS:
            self.blocks.append("par" if lower == "par_over" else lower)
            return self._free_text_end(i + 1)
        if lower in _SECTIONS:
            return self._free_text_end(i + 1)
        if lower == "end":
            if self.blocks:
                self.blocks.pop()
            return i + 1
        if lower == "autonumber":
            j = i + 1
            while j < len(self.words) and j < i + 3 and (
                    self.words[j][1].replace(".", "", 1).isdigit()
                    or (j == i + 1 and self.words[j][1].lower() == "off")):
                j += 1
            return j
        if lower == "title" and not self.has_title:
            self.has_title = True
            return self._free_text_end(i + 1)
        # a message or a note: names up to the `:`, then the text
        colon = self.line.find(":", pos)
        if colon < 0:
            return len(self.words)
        head = self.line[pos:colon]
        for part in _HEAD_PARTS.split(head):
            if part and not part.lower().startswith("note"):
                self._learn(part)
        return self._free_text_end(self._word_after(colon + 1))

    def _word_after(self, pos: int) -> int:
        return bisect.bisect_left(self.starts, pos)

    def statements(self) -> list[tuple[int, int]]:
        """(start, end) of every statement, as positions in the whole text."""
        spans = []
        i = 0
        while i < len(self.words):
            j = max(self._fixed_part(i), i + 1)
            start = self.words[i][0]
            last_pos, last_word = self.words[j - 1]
            spans.append((self.base + start, self.base + last_pos + len(last_word)))
            i = j
        return spans


def recover(text: str, header_pos: int) -> Recovered | None:
    """The diagram with one statement per line, if it was flattened; else None."""
    header_end = header_pos + len("sequenceDiagram")
    if _WORD_CHAR.match(text, header_end):  # `sequenceDiagramX`: no header, nothing to recover
        return None
    line_end = text.find("\n", header_end)
    rest = text[header_end:line_end]
    if not rest.strip() or ";" in rest or text[line_end:].strip():
        return None
    spans = _Splitter(rest, header_end).statements()
    if len(spans) < 2:
        return None
    line_start = text.rfind("\n", 0, header_pos) + 1
    line = text.count("\n", 0, header_pos) + 1
    pieces = [text[:header_end]]
    shifts = [0]
    for start, end in spans:
        pieces.append("\n" + text[start:end])
        shifts.append(start - line_start)
    return Recovered("".join(pieces) + "\n", line, tuple(shifts), len(spans))
