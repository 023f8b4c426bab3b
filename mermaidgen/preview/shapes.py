"""The shapes of a drawn diagram, each painted onto rows it is given: participant heads,
arrows, notes, frame lines and participant boxes. No layout decisions are made here."""

from __future__ import annotations

from mermaidgen.preview.canvas import arms, hline, junction, put, put_char
from mermaidgen.preview.cells import Cells, wrap
from mermaidgen.preview.script import Head

SOLID, DOTTED = "─", "┈"

# arrow -> (line, head at the receiver, head at the sender). The "reverse" half arrows
# (`/|-` ...) point back at the sender, as their spelling shows.
ARROWS: dict[str, tuple[str, str | None, str | None]] = {
    "->": (SOLID, None, None), "-->": (DOTTED, None, None),
    "->>": (SOLID, "fill", None), "-->>": (DOTTED, "fill", None),
    "<<->>": (SOLID, "fill", "fill"), "<<-->>": (DOTTED, "fill", "fill"),
    "-x": (SOLID, "cross", None), "--x": (DOTTED, "cross", None),
    "-)": (SOLID, "open", None), "--)": (DOTTED, "open", None),
    "-|\\": (SOLID, "top", None), "-|/": (SOLID, "bottom", None),
    "-\\\\": (SOLID, "top", None), "-//": (SOLID, "bottom", None),
    "--|\\": (DOTTED, "top", None), "--|/": (DOTTED, "bottom", None),
    "--\\\\": (DOTTED, "top", None), "--//": (DOTTED, "bottom", None),
    "/|-": (SOLID, None, "top"), "\\|-": (SOLID, None, "bottom"),
    "//-": (SOLID, None, "top"), "\\\\-": (SOLID, None, "bottom"),
    "/|--": (DOTTED, None, "top"), "\\|--": (DOTTED, None, "bottom"),
    "//--": (DOTTED, None, "top"), "\\\\--": (DOTTED, None, "bottom"),
}
DEFAULT_ARROW = (SOLID, "fill", None)

# (head, points right?) -> glyph. Half arrows become harpoons, barb up or down.
HEADS = {
    ("fill", True): "▶", ("fill", False): "◀", ("open", True): "⟩", ("open", False): "⟨",
    ("cross", True): "x", ("cross", False): "x", ("top", True): "⇀", ("top", False): "↼",
    ("bottom", True): "⇁", ("bottom", False): "↽",
}
ACTOR = (" o ", "/|\\", "/ \\")
DESTROYED = "╳"
CENTRAL = "○"


def paint_arrow(row: Cells, arrow: str, a: int, b: int, rightwards: bool) -> None:
    """An arrow over columns a..b; `rightwards` when the sender is on the left. The line
    passes over the lifelines it crosses."""
    if b < a:
        return
    line, at_receiver, at_sender = ARROWS.get(arrow, DEFAULT_ARROW)
    for x in range(a, b + 1):
        put_char(row, x, line, joined=False)
    if at_receiver:
        put_char(row, b if rightwards else a, HEADS[at_receiver, rightwards], joined=False)
    if at_sender and b > a:
        put_char(row, a if rightwards else b, HEADS[at_sender, not rightwards], joined=False)


def head_height(head: Head, lines: list[Cells]) -> int:
    return len(lines) + (3 if head.actor else 2)


def paint_head(rows: list[Cells], head: Head, lines: list[Cells], x: int, left: int,
               right: int, top: bool) -> None:
    """A participant's head on its rows, lifeline at column x: a box reaching `left` and
    `right` of it (the kind in its top border), or a stick figure over the name. The
    lifeline leaves the head downwards (`top`) or ends on it."""
    if head.actor:
        for r, part in enumerate(ACTOR):
            put(rows[r], x - 1, list(part))
        for r, line in enumerate(lines, start=3):
            put(rows[r], x - (len(line) - 1) // 2, line)
        return
    x0, x1 = x - left, x + right
    hline(rows[0], x0 + 1, x1 - 1, "─")
    if head.tag:
        tag = [" ", *head.tag, " "][: x1 - x0 - 1]
        put(rows[0], x0 + (x1 - x0 + 1 - len(tag)) // 2, tag)
    elif not top:
        put_char(rows[0], x, "┴", joined=False)
    put_char(rows[0], x0, "┌", joined=False)
    put_char(rows[0], x1, "┐", joined=False)
    for r, line in enumerate(lines, start=1):
        put(rows[r], x0, ["│", *_centred(line, x1 - x0 - 1), "│"])
    last = rows[len(lines) + 1]
    hline(last, x0 + 1, x1 - 1, "─")
    put_char(last, x0, "└", joined=False)
    put_char(last, x1, "┘", joined=False)
    if top:
        put_char(last, x, "┬", joined=False)


def paint_note(rows: list[Cells], x0: int, x1: int, lines: list[Cells]) -> None:
    """A note box from column x0 to x1 over len(lines) + 2 rows; lifelines run into its
    top border and out of its bottom one."""
    top, bottom = rows[0], rows[-1]
    for x in range(max(x0 + 1, 0), min(x1, len(top) - 1)):
        up, down = arms(top[x])[0], arms(bottom[x])[1]
        put_char(top, x, junction(up, 0, 1, 1) if up else "─", joined=False)
        put_char(bottom, x, junction(0, down, 1, 1) if down else "─", joined=False)
    put_char(top, x0, "╭", joined=False)
    put_char(top, x1, "╮", joined=False)
    put_char(bottom, x0, "╰", joined=False)
    put_char(bottom, x1, "╯", joined=False)
    for row, line in zip(rows[1:-1], lines, strict=True):
        put(row, x0, ["│", *_centred(line, x1 - x0 - 1), "│"])


def paint_rule(row: Cells, a: int, b: int, left: str, right: str, line: str,
               text: Cells) -> None:
    """A frame's top, section or bottom line from a to b, with a header on it."""
    hline(row, a + 1, b - 1, line)
    put_char(row, a, left)
    put_char(row, b, right)
    if text:
        put(row, a + 1, [" ", *text, " "])


def paint_group(top: Cells, rows: list[Cells], bottom: Cells, x0: int, x1: int,
                title: list[Cells]) -> None:
    """A participant box around heads: its title on the top line, the lifelines of its
    members crossing the bottom one."""
    hline(top, x0, x1, "─")
    put_char(top, x0, "┌", joined=False)
    put_char(top, x1, "┐", joined=False)
    label = wrap(title, max(1, x1 - x0 - 4))[0] if title else []
    if label:
        put(top, x0 + 1, [" ", *label, " "])
    for row in rows:
        put_char(row, x0, "│")
        put_char(row, x1, "│")
    hline(bottom, x0, x1, "─")
    put_char(bottom, x0, "└", joined=False)
    put_char(bottom, x1, "┘", joined=False)


def _centred(line: Cells, width: int) -> Cells:
    if len(line) > width:
        cut, line = line, line[:width]
        if cut[width] == "" and line:
            line[-1] = " "  # no half of a wide character
    cells = [" "] * width
    start = max(0, (width - len(line)) // 2)
    cells[start : start + len(line)] = line
    return cells
