"""The sequence diagram drawn in the terminal with box-drawing characters (or plain ASCII).

`draw` is the whole API: a pure function from a `Diagram` to text. The work is split in
four: `script` decides *what* is drawn (a flat list of events), `layout` decides *where*
(columns that fit the width), `shapes` paints single shapes, and this module walks the
events top to bottom, keeping a row template of the lifelines, activation bars and open
frame borders as they change.
"""

from __future__ import annotations

from mermaidgen.model import Diagram
from mermaidgen.preview.canvas import MORE, finish, put, put_char
from mermaidgen.preview.cells import Cells, shorten, to_cells, width_of, wrap
from mermaidgen.preview.layout import Geometry, fit, loop_start, note_box, note_kind
from mermaidgen.preview.script import (
    Act,
    Close,
    DestroyEv,
    HeadEv,
    Msg,
    NoteEv,
    Open,
    Script,
    Section,
    build,
)
from mermaidgen.preview.shapes import (
    ARROWS,
    CENTRAL,
    DEFAULT_ARROW,
    DESTROYED,
    DOTTED,
    HEADS,
    head_height,
    paint_arrow,
    paint_group,
    paint_head,
    paint_note,
    paint_rule,
)


def draw(diagram: Diagram, width: int = 100, ascii: bool = False) -> str:
    """The diagram as lines of text no wider than `width` terminal columns (lines joined
    by newlines, no trailing blanks). `ascii=True` uses only characters 0x20-0x7E."""
    width = max(int(width), 1)
    script = build(diagram, ascii)
    if not script.heads:
        lines = [*(wrap(script.title, width) if script.title else []), list("(no participants)")]
        rows = []
        for line in lines:
            rows.append([" "] * (width + 1))
            put(rows[-1], 0, line)
        return "\n".join(finish(row, ascii) for row in rows)
    painter = _Painter(script, fit(script, width), width)
    painter.paint()
    return "\n".join(finish(row, ascii) for row in painter.rows)


def _name(label: list[Cells], most: int = 24) -> str:
    """A participant's label on one line, cut short if long."""
    cells = [c for n, line in enumerate(label) for c in [*([" "] * bool(n)), *line]]
    return "".join(shorten(wrap([cells], most), 1, most)[0])


class _Painter:
    def __init__(self, script: Script, g: Geometry, width: int) -> None:
        self.s, self.g = script, g
        title = width_of(wrap(script.title, width)) if script.title else 0
        self.width = min(max(g.width, title), width)
        self.rows: list[Cells] = []
        n = len(script.heads)
        self.alive = [False] * n
        self.depth = [0] * n
        self.open: list[int] = []
        self._template: Cells = []
        self._dirty = True

    # rows ----------------------------------------------------------------------------------

    def template(self) -> Cells:
        """An empty row: open frames' sides, lifelines and activation bars."""
        if self._dirty:
            row = [" "] * (self.width + 1)
            for f in self.open:
                a, b, flat = self.g.frames[f]
                if not flat:
                    glyph = "┆" if self.s.frames[f].dashed else "│"
                    put_char(row, a, glyph)
                    put_char(row, b, glyph)
            for k, x in enumerate(self.g.x):
                if self.alive[k]:
                    d = self.depth[k]
                    put_char(row, x, "┃" if d else "│", joined=False)
                    if d > 1 and self.g.bar[k] > 1:
                        put_char(row, x + 1, "┃", joined=False)
            self._template = row
            self._dirty = False
        return self._template

    def row(self) -> Cells:
        row = self.template()[:]
        self.rows.append(row)
        return row

    def blank(self) -> Cells:
        row = [" "] * (self.width + 1)
        self.rows.append(row)
        return row

    def changed(self) -> None:
        self._dirty = True

    def bar(self, k: int, depth: int | None = None) -> int:
        """Columns participant k's lifeline takes (now, or at the given depth)."""
        return max(1, min(self.depth[k] if depth is None else depth, self.g.bar[k]))

    def hidden(self, k: int) -> bool:
        """Whether participant k's lifeline is past the right edge."""
        return self.g.x[k] >= self.width - 1

    # the picture ---------------------------------------------------------------------------

    def paint(self) -> None:
        s, g = self.s, self.g
        for line in wrap(s.title, self.width) if s.title else []:
            put(self.blank(), max(0, (self.width - len(line)) // 2), line)
        hidden = [k for k in range(len(g.x)) if self.hidden(k)]
        if hidden:
            names = ", ".join(_name(s.heads[k].label) for k in hidden)
            more = f"{MORE} {len(hidden)} more participant{'s' * (len(hidden) > 1)}: {names}"
            for line in wrap([to_cells(more)], self.width):
                put(self.blank(), 0, line)
        if s.title or hidden:
            self.blank()
        self.top_heads()
        for e in s.events:
            if isinstance(e, Msg):
                self.message(e)
            elif isinstance(e, NoteEv):
                self.note(e)
            elif isinstance(e, Act):
                self.depth[e.who] = max(0, self.depth[e.who] + e.delta)
                self.changed()
            elif isinstance(e, Open):
                dashed = s.frames[e.frame].dashed
                rest = self.frame_rule(e.frame, 0, "┌", "┐", "┄" if dashed else "─")
                self.open.append(e.frame)
                self.changed()
                self.header_rest(e.frame, rest)
            elif isinstance(e, Section):
                self.header_rest(e.frame, self.frame_rule(e.frame, e.index, "├", "┤", "┄"))
            elif isinstance(e, Close):
                if self.open and self.open[-1] == e.frame:
                    self.open.pop()
                    self.changed()
                dashed = s.frames[e.frame].dashed
                self.frame_rule(e.frame, None, "└", "┘", "┄" if dashed else "─")
            elif isinstance(e, HeadEv):
                self.created_head(e.who, None, [])
            elif isinstance(e, DestroyEv):
                if not self.hidden(e.who):
                    put_char(self.row(), g.x[e.who], DESTROYED, joined=False)
                self.alive[e.who] = False
                self.changed()
        self.row()
        if s.mirror:
            shown = [k for k in range(len(g.x)) if self.alive[k]]
            height = max((head_height(s.heads[k], g.heads[k]) for k in shown), default=0)
            rows = [self.blank() for _ in range(height)]
            for k in shown:
                paint_head(rows, s.heads[k], g.heads[k], g.x[k], g.left[k], g.right[k], False)

    def top_heads(self) -> None:
        """The heads of every participant not created later, bottom-aligned, framed by their
        boxes."""
        s, g = self.s, self.g
        shown = [k for k, h in enumerate(s.heads) if not h.created]
        heights = {k: head_height(s.heads[k], g.heads[k]) for k in shown}
        height = max(heights.values(), default=0)
        groups = [k for k, (_, members) in enumerate(s.boxes) if members]
        top = self.blank() if groups else []
        rows = [self.blank() for _ in range(height)]
        for k in shown:
            paint_head(rows[height - heights[k]:], s.heads[k], g.heads[k], g.x[k], g.left[k],
                       g.right[k], True)
            self.alive[k] = True
        self.changed()
        if groups:
            bottom = self.row()
            for k in groups:
                x0, x1 = g.groups[k]
                paint_group(top, rows, bottom, x0, x1, s.boxes[k][0])
        self.row()

    def created_head(self, k: int, m: Msg | None, lines: list[Cells]) -> None:
        """A head drawn where its participant is created, the creating message (if any)
        pointing at its middle, the label right above the arrow."""
        s, g = self.s, self.g
        if self.hidden(k):
            self.alive[k] = True
            self.changed()
            return
        head = s.heads[k]
        middle = 1 if head.actor else 1 + (len(g.heads[k]) - 1) // 2
        if len(lines) == 1 and not lines[0]:
            lines = []
        rows = [self.row() for _ in range(max(0, len(lines) - middle))]
        head_rows = [self.row() for _ in range(head_height(head, g.heads[k]))]
        paint_head(head_rows, head, g.heads[k], g.x[k], g.left[k], g.right[k], True)
        if m is not None:
            # an arrow to a stick figure stops at its arms, not at its (wider) name
            reach_l, reach_r = (2, 2) if head.actor else (g.left[k], g.right[k])
            if m.src < k:
                lo, hi = g.x[m.src] + g.bar[m.src], g.x[k] - g.left[k] - 1
                a, b = g.x[m.src] + self.bar(m.src), g.x[k] - reach_l - 1
            else:
                lo, hi = g.x[k] + g.right[k] + 1, g.x[m.src] - 1
                a, b = g.x[k] + reach_r + 1, hi
            rows.extend(head_rows[:middle])
            for row, line in zip(rows[len(rows) - len(lines):], lines, strict=True):
                put(row, max(lo, lo + (hi - lo + 1 - len(line)) // 2), line)
            paint_arrow(head_rows[middle], m.arrow, a, b, rightwards=m.src < k)
        self.alive[k] = True
        self.changed()

    def labels(self, lines: list[Cells], lo: int, hi: int, between: range,
               sender_left: bool) -> None:
        """Label rows centred between columns lo and hi; over a message that passes other
        lifelines, in the gap nearest the middle (then nearest the sender) that holds the
        label without covering them, if there is one."""
        if len(lines) == 1 and not lines[0]:
            return
        hi = min(hi, self.width - 2)  # centred in what can be seen
        w = width_of(lines)
        middle = (lo + hi) / 2
        best = (lo, hi)
        if len(between):
            g = self.g
            edges = [lo, *(c for k in between for c in (g.x[k] - 1, g.x[k] + g.bar[k])), hi]
            gaps = [(a, b) for a, b in zip(edges[::2], edges[1::2], strict=True)
                    if b - a + 1 >= w + 2 and a < self.width - 1]
            if gaps:
                side = lo if sender_left else hi
                best = min(gaps, key=lambda ab: (abs((ab[0] + ab[1]) / 2 - middle),
                                                 abs((ab[0] + ab[1]) / 2 - side)))
        a, b = best
        b = min(b, self.width - 2)
        for line in lines:
            put(self.row(), max(a, a + (b - a + 1 - len(line)) // 2), line)

    def message(self, m: Msg) -> None:
        g = self.g
        lines = wrap(m.text, g.wrap)
        i, j = m.src, m.dst
        if self.hidden(i) and self.hidden(j):
            # past the right edge: nothing to see, but the lifelines' state still changes
            self.activations(m)
            self.alive[j] = self.alive[j] or m.creates
            for who in m.destroys:
                self.alive[who] = False
        elif m.creates:
            self.created_head(j, m, lines)
            self.activations(m)
        elif i == j:
            self.self_message(m, lines)
        else:
            left, right = min(i, j), max(i, j)
            lo, hi = g.x[left] + g.bar[left], g.x[right] - 1
            if len(lines) > 1:  # the wrap width fits every message; this one may have more room
                lines = wrap(m.text, max(g.wrap, min(hi, self.width - 2) - lo - 1))
            self.labels(lines, lo, hi, range(left + 1, right), sender_left=i < j)
            self.activations(m)
            row = self.row()
            if i < j:
                paint_arrow(row, m.arrow, g.x[i] + self.bar(i), g.x[j] - 1, rightwards=True)
            else:
                paint_arrow(row, m.arrow, g.x[j] + self.bar(j), g.x[i] - 1, rightwards=False)
            if m.central in ("sender", "both"):
                put_char(row, g.x[i], CENTRAL, joined=False)
            if m.central in ("receiver", "both"):
                put_char(row, g.x[j], CENTRAL, joined=False)
            self.destroy(row, m)
        if m.deactivate and self.depth[i]:
            self.depth[i] -= 1
            self.changed()

    def activations(self, m: Msg) -> None:
        """The activations a message starts: its `+`, and `activate` right after it."""
        if m.activate:
            self.depth[m.dst] += 1
        for who in m.starts:
            self.depth[who] += 1
        if m.activate or m.starts:
            self.changed()

    def destroy(self, row: Cells, m: Msg) -> None:
        for who in m.destroys:
            put_char(row, self.g.x[who], DESTROYED, joined=False)
            self.alive[who] = False
            self.changed()

    def self_message(self, m: Msg, lines: list[Cells]) -> None:
        """A loop right of the lifeline, the label beside it; an activation the message
        starts shows on its way back."""
        g, i = self.g, m.src
        line, at_receiver, at_sender = ARROWS.get(m.arrow, DEFAULT_ARROW)
        before = self.bar(i)
        after = self.bar(i, self.depth[i] + int(m.activate) + m.starts.count(i))
        corner = g.x[i] + max(before, after) + 2
        start = max(loop_start(g, i) + 4, corner + 2)
        if len(lines) > 1:
            end = g.x[i + 1] - 3 if i + 1 < len(g.x) else self.width - 1
            lines = wrap(m.text, max(g.wrap, min(end, self.width - 1) - start + 1))
        if len(lines) == 1 and not lines[0]:
            lines = []
        rows = [self.row() for _ in range(max(1, len(lines)))]
        self.activations(m)
        last = self.row()
        first = rows[0]
        for x in range(g.x[i] + before, corner):
            put_char(first, x, line, joined=False)
        put_char(first, corner, "┐", joined=False)
        for row in rows[1:]:
            put_char(row, corner, "┆" if line == DOTTED else "│", joined=False)
        for x in range(g.x[i] + after, corner):
            put_char(last, x, line, joined=False)
        put_char(last, corner, "┘", joined=False)
        if at_receiver:
            put_char(last, g.x[i] + after, HEADS[at_receiver, False], joined=False)
        if at_sender:
            put_char(first, g.x[i] + before, HEADS[at_sender, False], joined=False)
        for row, text in zip(rows, lines, strict=False):
            put(row, start, text)
        if m.central:
            put_char(last, g.x[i], CENTRAL, joined=False)
        self.destroy(last, m)

    def note(self, e: NoteEv) -> None:
        g = self.g
        kind = note_kind(e.placement)
        room = g.wrap
        if kind == "over" and e.a != e.b:  # as wide as the lifelines it spans
            room = max(room, min(g.x[e.b] + g.bar[e.b] + 1, self.width - 1) - g.x[e.a] - 2)
        lines = wrap(e.text, room)
        x0, x1 = note_box(self.g, kind, e.a, e.b if kind == "over" else e.a, width_of(lines))
        if x0 < self.width - 1:
            paint_note([self.row() for _ in range(len(lines) + 2)], x0, x1, lines)

    def frame_rule(self, f: int, index: int | None, left: str, right: str,
                   line: str) -> list[Cells]:
        """A frame's top, section or bottom line, with the section's header on it; returns
        the rest of a header too long for one line."""
        a, b, _ = self.g.frames[f]
        headers = self.s.frames[f].headers
        header: list[Cells] = []
        if index is not None and index < len(headers) and headers[index]:
            header = wrap(headers[index], max(min(b, self.width - 1) - a - 4, 8))
        paint_rule(self.row(), a, b, left, right, line, header[0] if header else [])
        return header[1:]

    def header_rest(self, f: int, lines: list[Cells]) -> None:
        for text in lines:
            put(self.row(), self.g.frames[f][0] + 2, text)
