"""Diagram text as terminal cells: safe characters, display widths, line breaks, wrapping.

A text becomes a list of *cells*, one string per terminal column. A wide character (CJK,
emoji) fills two cells: its own and an empty string after it. Combining marks ride along
in the cell of the character they modify. Control characters never reach the terminal.
"""

from __future__ import annotations

import re
import unicodedata

Cells = list[str]

_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)

# Invisible characters that would reorder or hide what the terminal shows.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# Typographic punctuation people paste from documents, spelled in ASCII for `ascii=True`.
_ASCII_SPELLING = {
    "\u2018": "'", "\u2019": "'", "\u201a": ",", "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2026": "...", "\u00a0": " ", "\u2022": "*",
    "\u00b7": ".", "\u00ab": "<<", "\u00bb": ">>", "\u2192": "->", "\u2190": "<-",
    "\u00df": "ss", "\u00e6": "ae", "\u00c6": "AE", "\u00f8": "o", "\u00d8": "O",
}


def to_cells(text: str, ascii: bool = False) -> Cells:
    """The cells of one line of text (no line breaks in it)."""
    cells: Cells = []
    for ch in text:
        o = ord(ch)
        if 0x20 <= o < 0x7F:
            cells.append(ch)
        elif o < 0x20 or 0x7F <= o < 0xA0:
            cells.append(" " if ch == "\t" else "?")
        elif ascii:
            cells.extend(_ascii_spelling(ch))
        else:
            _add_unicode(cells, ch)
    return cells


def _add_unicode(cells: Cells, ch: str) -> None:
    category = unicodedata.category(ch)
    if category in ("Mn", "Me"):
        # a combining mark (or a variation selector) joins the character before it; one
        # without a base, or a variation selector that could widen an emoji, is dropped
        if "\ufe00" <= ch <= "\ufe0f" or not cells or cells[-1] == " ":
            return
        base = len(cells) - 2 if cells[-1] == "" else len(cells) - 1
        cells[base] += ch
    elif ch in _BIDI or category in ("Cs", "Cn", "Co"):
        cells.append("?")
    elif category == "Cf":
        return  # zero-width joiners, soft hyphens, byte-order marks: invisible, no width
    elif category in ("Zl", "Zp"):
        cells.append(" ")
    elif unicodedata.east_asian_width(ch) in ("W", "F"):
        cells.append(ch)
        cells.append("")
    else:
        cells.append(ch)


def _ascii_spelling(ch: str) -> str:
    if ch in _ASCII_SPELLING:
        return _ASCII_SPELLING[ch]
    kept = [c for c in unicodedata.normalize("NFKD", ch) if " " <= c <= "~"]
    if kept:
        return "".join(kept)
    if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return ""
    return "?"


def text_width(text: str) -> int:
    """Display width of a text in terminal columns."""
    return len(to_cells(text))


def lines_of(text: str, ascii: bool = False) -> list[Cells]:
    """A label as cell lines: split at `<br>` (mermaid's line break), blanks trimmed."""
    return [_strip(to_cells(part, ascii)) for part in _BREAK.split(text)]


def _strip(cells: Cells) -> Cells:
    start, end = 0, len(cells)
    while start < end and cells[start] == " ":
        start += 1
    while end > start and cells[end - 1] == " ":
        end -= 1
    return cells[start:end]


def width_of(lines: list[Cells]) -> int:
    return max((len(line) for line in lines), default=0)


def wrap(lines: list[Cells], limit: int) -> list[Cells]:
    """Lines no wider than `limit`: broken at spaces, long words cut (never inside a wide
    character)."""
    limit = max(limit, 2)
    out: list[Cells] = []
    for line in lines:
        # indexes into the line, not slices of its rest: a 1 MB label stays linear
        start, end = 0, len(line)
        while end - start > limit:
            cut = start + _break_at(line, start, limit)
            out.append(_strip(line[start:cut]))
            start = cut
            while start < end and line[start] == " ":
                start += 1
            while end > start and line[end - 1] == " ":  # the rest is measured trimmed
                end -= 1
        out.append(line[start:end] if start else line)
    return out


# A word too long for a line is broken after one of these if it can be (`a/b/c`,
# `name(arg,`, `x.y.z`), rather than anywhere.
_BREAK_AFTER = frozenset("/\\-_.,;:()[]{}=&?|+>")


def _break_at(line: Cells, start: int, limit: int) -> int:
    """Where to end the piece of `line` that starts at `start` (an offset from `start`)."""
    def at(k: int) -> str:
        return line[start + k]

    for k in range(limit, 0, -1):
        if at(k) == " ":
            return k
    for k in range(limit, max(limit // 2, 1) - 1, -1):
        if at(k - 1) in _BREAK_AFTER and at(k) != "":
            return k
    for k in range(limit, max(limit // 2, 1) - 1, -1):
        if at(k).isupper() and at(k - 1).islower():  # camelCase
            return k
    return limit - 1 if at(limit) == "" else limit


ELLIPSIS = "⋯"
"""Marks text cut short (shown as `~` in ASCII)."""


def shorten(lines: list[Cells], most: int, limit: int) -> list[Cells]:
    """At most `most` lines, the last one ending with an ellipsis if any were dropped (and
    still no wider than `limit`)."""
    if len(lines) <= most:
        return lines
    kept = lines[:most]
    last = kept[-1]
    if last and len(last) >= limit:  # no room left: the ellipsis takes the last character
        last = last[:-2] if last[-1] == "" else last[:-1]
    kept[-1] = [*last, ELLIPSIS]
    return kept
