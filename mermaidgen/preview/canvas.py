"""A grid of terminal cells, written row by row, that box-drawing lines join up on.

Each row has one extra cell past the right edge: anything drawn beyond the edge marks it,
and the finished line is cut with a visible marker instead of growing past the width.
"""

from __future__ import annotations

import re

from mermaidgen.preview.cells import Cells

MORE = "…"
"""Ends a line that was cut at the right edge."""

# Light and heavy line glyphs by their arms (up, down, left, right): 0 none, 1 light,
# 2 heavy. Drawing a line glyph over another joins them (`─` over `│` gives `┼`).
_ARMS = {
    "─": (0, 0, 1, 1), "│": (1, 1, 0, 0), "┃": (2, 2, 0, 0),
    "┌": (0, 1, 0, 1), "┐": (0, 1, 1, 0), "└": (1, 0, 0, 1), "┘": (1, 0, 1, 0),
    "├": (1, 1, 0, 1), "┤": (1, 1, 1, 0), "┬": (0, 1, 1, 1), "┴": (1, 0, 1, 1),
    "┼": (1, 1, 1, 1), "╂": (2, 2, 1, 1), "┰": (0, 2, 1, 1), "┸": (2, 0, 1, 1),
    "┠": (2, 2, 0, 1), "┨": (2, 2, 1, 0), "╁": (1, 2, 1, 1), "╀": (2, 1, 1, 1),
}
_GLYPH = {arms: glyph for glyph, arms in _ARMS.items()}
_SOFT = frozenset("┄┈")
"""Dashed lines pass *behind* vertical lines instead of crossing them."""
_VERTICAL = frozenset("│┃┆")


def join(old: str, new: str) -> str:
    """The glyph for `new` drawn over `old`."""
    if new in _SOFT and old in _VERTICAL:
        return old
    a, b = _ARMS.get(old), _ARMS.get(new)
    if a is None or b is None:
        return new
    merged = (max(a[0], b[0]), max(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
    return _GLYPH.get(merged, new)


def junction(up: int, down: int, left: int, right: int) -> str:
    """The line glyph with these arms (falls back to the nearest simple one)."""
    glyph = _GLYPH.get((up, down, left, right))
    if glyph is None:
        glyph = _GLYPH.get((min(up, 1), min(down, 1), left, right), "┼")
    return glyph


def arms(glyph: str) -> tuple[int, int, int, int]:
    return _ARMS.get(glyph, (0, 0, 0, 0))


def put(row: Cells, x: int, cells: Cells) -> None:
    """Write cells from column x on, keeping wide characters whole."""
    edge = len(row) - 1
    n = len(cells)
    if not n:
        return
    if x < 0:
        cells, n, x = cells[-x:], n + x, 0
        while cells and cells[0] == "":
            cells, n, x = cells[1:], n - 1, x + 1
        if not n:
            return
    if x >= edge:
        row[edge] = MORE
        return
    if row[x] == "" and x > 0:
        row[x - 1] = " "  # a wide character loses its right half
    end = x + n
    if end > edge:
        row[x:edge] = cells[: edge - x]
        row[edge] = MORE
    else:
        row[x:end] = cells
        if end < edge and row[end] == "":
            row[end] = " "  # a wide character loses its left half


def put_char(row: Cells, x: int, glyph: str, joined: bool = True) -> None:
    """Write one narrow glyph, joining it to the line glyph already there."""
    edge = len(row) - 1
    if x < 0:
        return
    if x >= edge:
        row[edge] = MORE
        return
    old = row[x]
    if old == "" or (x + 1 < edge and row[x + 1] == ""):
        put(row, x, [glyph])
    else:
        # a blank joins nothing: the glyph as it is, without looking up arms
        row[x] = join(old, glyph) if joined and old != " " else glyph


def hline(row: Cells, x0: int, x1: int, glyph: str) -> None:
    """A horizontal line from x0 to x1 inclusive, joined to what it crosses."""
    edge = len(row) - 1
    start = max(x0, 0)
    # `put_char` for each cell, with its commonest case inline: a blank cell, not the
    # left half of a wide character, takes the glyph as it is (a blank joins nothing).
    # Lines are most of what a preview draws.
    for x in range(start, min(x1, edge - 1) + 1):
        if row[x] == " " and (x + 1 == edge or row[x + 1] != ""):
            row[x] = glyph
        else:
            put_char(row, x, glyph)
    if x1 >= edge and x1 >= start:
        row[edge] = MORE  # the line runs past the right edge


_DOTTED_RUN = re.compile("┈+")
_ASCII = str.maketrans({
    "─": "-", "│": "|", "┃": "#", "┄": ".", "┆": ":", "┈": "-",
    "┌": "+", "┐": "+", "└": "+", "┘": "+", "├": "+", "┤": "+", "┬": "+", "┴": "+",
    "┼": "+", "╂": "#", "┰": "#", "┸": "#", "┠": "#", "┨": "#", "╁": "#", "╀": "#",
    "╭": ".", "╮": ".", "╰": "'", "╯": "'",
    "▶": ">", "◀": "<", "⟩": ")", "⟨": "(", "⇀": "\\", "⇁": "/", "↼": "/", "↽": "\\",
    "╳": "X", "○": "o", MORE: ">", "⋯": "~",
})


def finish(row: Cells, ascii: bool) -> str:
    """The row as a line of text: cut with a marker if it ran past the edge, no trailing
    blanks, and in ASCII mode nothing outside 0x20-0x7E."""
    edge = len(row) - 1
    if row[edge] != " " and edge > 0:
        cells = row[: edge - 1]
        if row[edge - 1] == "" and cells:
            cells[-1] = " "  # the wide character cut in half by the marker
        line = "".join(cells) + MORE
    else:
        line = "".join(row[:edge])
    line = line.rstrip()
    if ascii:
        line = _DOTTED_RUN.sub(lambda m: ("- " * len(m.group()))[: len(m.group())], line)
        line = line.translate(_ASCII)
        if not line.isascii():
            line = "".join(c if c.isascii() else "?" for c in line)
    return line
