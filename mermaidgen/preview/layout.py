"""Where things go across the screen: lifeline columns, head boxes, notes, loops and frames.

Columns come from constraints between pairs of lifelines ("a message labelled this wide
runs between them"), solved shortest span first. When the picture is wider than the
terminal, labels wrap narrower, gaps shrink, deep frames stop indenting, and as the last
resort the picture is clipped on the right.
"""

from __future__ import annotations

from dataclasses import dataclass

from mermaidgen.preview.cells import Cells, shorten, width_of, wrap
from mermaidgen.preview.script import (
    Act,
    DestroyEv,
    HeadEv,
    Msg,
    NoteEv,
    Open,
    Script,
)

MIN_WRAP = 6
HEAD_MIN_WRAP = 10
HEAD_LINES = 3


@dataclass(slots=True)
class Geometry:
    x: list[int]
    """Lifeline column of each participant."""
    bar: list[int]
    """Columns the lifeline and its widest activation bar take (1 or 2)."""
    heads: list[list[Cells]]
    """Head labels, wrapped."""
    left: list[int]
    right: list[int]
    """How far each head reaches left and right of its lifeline."""
    frames: list[tuple[int, int, bool]]
    """Each frame's left and right border columns, and whether it is drawn flat on its
    ancestor's borders (too deep to indent)."""
    groups: list[tuple[int, int]]
    """Left and right border columns of each participant box."""
    wrap: int
    width: int


@dataclass(slots=True)
class _Needs:
    """What the script asks of the layout, gathered once."""

    pairs: dict[tuple[str, int, int], int]
    """(kind, i, j) -> widest text of that kind between/at those participants."""
    items: dict[tuple[int, str, int, int], int]
    """(frame, kind, i, j) -> widest text: what each frame must enclose."""
    widest: int
    depth: int


def fit(script: Script, width: int) -> Geometry:
    """The geometry for a terminal `width` columns wide (wider only if it must be clipped)."""
    needs = _gather(script)
    widest = max(needs.widest, 1)
    # (gap between heads, frame padding, narrowest wrap): roomy first, then squeezed
    for gap, pad, narrowest in ((3, 2, 16), (1, 2, 10), (1, 1, MIN_WRAP)):
        low = min(widest, narrowest)
        for depth in sorted({needs.depth, _depth_budget(width, pad)}, reverse=True):
            best = _evaluate(script, needs, widest, gap, pad, depth)
            if best.width <= width:
                return best
            if _evaluate(script, needs, low, gap, pad, depth).width > width:
                continue
            # the widest wrap that fits
            lo, hi = low, widest - 1
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if _evaluate(script, needs, mid, gap, pad, depth).width <= width:
                    lo = mid
                else:
                    hi = mid - 1
            return _evaluate(script, needs, lo, gap, pad, depth)
    # too wide even squeezed: clip on the right, showing as many participants as labels
    # wrapped at a readable width allow, then widening the wrap while none is lost
    depth = _depth_budget(width, 2)

    def clipped(limit: int) -> tuple[Geometry, int]:
        g = _evaluate(script, needs, limit, 2, 2, depth)
        return g, sum(1 for x in g.x if x < width - 1)

    lo = max(8, min(12, width // 4))
    best, shown = clipped(lo)
    hi = max(lo, min(widest, width // 2))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        g, count = clipped(mid)
        if count >= shown:
            lo, best = mid, g
        else:
            hi = mid - 1
    return best


def _depth_budget(width: int, pad: int) -> int:
    return max(1, (width // 3) // (2 * pad))


def _gather(script: Script) -> _Needs:
    pairs: dict[tuple[str, int, int], int] = {}
    items: dict[tuple[int, str, int, int], int] = {}
    widest = 0
    depth = 0

    def need(frame: int, kind: str, i: int, j: int, w: int) -> None:
        key = (kind, i, j)
        if pairs.get(key, -1) < w:
            pairs[key] = w
        fkey = (frame, kind, i, j)
        if items.get(fkey, -1) < w:
            items[fkey] = w

    for e in script.events:
        if isinstance(e, Msg):
            w = width_of(e.text)
            widest = max(widest, w)
            if e.creates:
                need(e.frame, "create", e.src, e.dst, w)
            elif e.src == e.dst:
                need(e.frame, "self", e.src, e.src, w)
            else:
                need(e.frame, "msg", min(e.src, e.dst), max(e.src, e.dst), w)
        elif isinstance(e, NoteEv):
            w = width_of(e.text)
            widest = max(widest, w)
            kind = note_kind(e.placement)
            need(e.frame, kind, e.a, e.b if kind == "over" else e.a, w)
        elif isinstance(e, HeadEv):
            need(e.frame, "head", e.who, e.who, 0)
        elif isinstance(e, (Act, DestroyEv)):
            need(e.frame, "line", e.who, e.who, 0)
        elif isinstance(e, Open):
            frame = script.frames[e.frame]
            depth = max(depth, frame.depth)
            for header in frame.headers:
                widest = max(widest, width_of(header))
    for head in script.heads:
        widest = max(widest, width_of(head.label))
    return _Needs(pairs, items, widest, depth)


def note_kind(placement: str) -> str:
    return {"left of": "left", "right of": "right"}.get(placement, "over")


def note_box(g: Geometry, kind: str, a: int, b: int, w: int) -> tuple[int, int]:
    """Left and right border columns of a note `w` columns of text wide."""
    x, bar = g.x, g.bar
    nw = w + 4
    if kind == "left":
        return x[a] - 1 - nw, x[a] - 2
    if kind == "right":
        return x[a] + bar[a] + 1, x[a] + bar[a] + nw
    if a == b:
        x0 = x[a] - (nw - 1) // 2
        return x0, x0 + nw - 1
    x0, x1 = x[a] - 2, x[b] + bar[b] + 1
    extra = nw - (x1 - x0 + 1)
    if extra > 0:
        x0 -= extra // 2
        x1 += extra - extra // 2
    return x0, x1


def loop_start(g: Geometry, i: int) -> int:
    """First column of a self message's loop."""
    return g.x[i] + g.bar[i]


def _evaluate(script: Script, needs: _Needs, limit: int, gap: int, pad: int,
              depth: int) -> Geometry:
    n = len(script.heads)
    bar = [max(1, b) for b in script.bars]
    head_wrap = max(limit, HEAD_MIN_WRAP)
    heads = [shorten(wrap(h.label, head_wrap), HEAD_LINES, head_wrap) for h in script.heads]
    left, right = [], []
    for h, label in zip(script.heads, heads, strict=True):
        w = width_of(label)
        hw = max(w, 3) if h.actor else max(w, len(h.tag) + 2 if h.tag else 0) + 4
        left.append((hw - 1) // 2)
        right.append(hw - 1 - (hw - 1) // 2)
    g = Geometry([0] * n, bar, heads, left, right, [], [], limit, 0)

    # lifelines are 1..n in "slot" numbers; slot 0 is the left edge, n+1 the right edge
    reach_l = left[:]
    reach_r = right[:]
    spans: list[tuple[int, int, int]] = []
    for title, members in script.boxes:
        if not members:
            continue
        a, b = min(members), max(members)
        tw = width_of(title)
        reach_l[a] = max(reach_l[a], left[a] + 2)
        reach_r[b] = max(reach_r[b], right[b] + 2)
        if a == b:
            reach_r[b] = max(reach_r[b], tw + 2 - left[a])
        elif tw:
            spans.append((a + 1, b + 1, tw - left[a] - right[b]))
    gaps = [0] * (n + 1)
    if n:
        gaps[0] = reach_l[0]
        gaps[n] = reach_r[n - 1]
    for k in range(n - 1):
        same_box = script.heads[k].box is not None and script.heads[k].box == script.heads[
            k + 1].box
        r = right[k] if same_box else reach_r[k]
        lft = left[k + 1] if same_box else reach_l[k + 1]
        gaps[k + 1] = r + lft + 1 + gap
    for (kind, i, j), w in needs.pairs.items():
        spans.extend(_constraints(g, kind, i, j, min(w, limit), n))
    spans.sort(key=lambda s: s[1] - s[0])
    for a, b, need in spans:
        have = sum(gaps[a:b])
        if have < need:
            short, span = need - have, b - a
            for k in range(a, b):
                gaps[k] += short // span + (1 if k - a >= span - short % span else 0)
    x = 0
    for k in range(n):
        x += gaps[k]
        g.x[k] = x
    right_edge = x + gaps[n] if n else 0

    lo, hi = 0, right_edge
    for title, members in script.boxes:
        if not members:
            g.groups.append((0, -1))
            continue
        a, b = min(members), max(members)
        x0 = g.x[a] - left[a] - 2
        x1 = max(g.x[b] + right[b] + 2, x0 + width_of(title) + 4)
        g.groups.append((x0, x1))
        lo, hi = min(lo, x0), max(hi, x1)
    flo, fhi = _frames(script, needs, g, limit, pad, depth)
    lo, hi = min(lo, flo), max(hi, fhi)
    if lo < 0:
        g.x = [v - lo for v in g.x]
        g.frames = [(a - lo, b - lo, flat) for a, b, flat in g.frames]
        g.groups = [(a - lo, b - lo) for a, b in g.groups]
    g.width = hi - lo + 1
    return g


def _constraints(g: Geometry, kind: str, i: int, j: int, w: int,
                 n: int) -> list[tuple[int, int, int]]:
    """Minimum distances between slots (lifelines are slots 1..n, edges 0 and n+1)."""
    bar, left, right = g.bar, g.left, g.right
    a, b = i + 1, j + 1

    def room(k: int) -> int:  # columns a lifeline with its bar takes, plus one blank
        return bar[k - 1] + 1 if 1 <= k <= n else 0

    if kind == "msg":
        return [(a, b, w + 3 + bar[i])]
    if kind == "create":
        if i < j:
            return [(a, b, w + 3 + bar[i] + left[j])]
        return [(b, a, w + 4 + right[j])]
    if kind == "self":
        return [(a, a + 1, bar[i] + 3 + (w + 1 if w else 0) + (2 if a < n else 0))]
    nw = w + 4
    if kind == "right":
        return [(a, a + 1, bar[i] + nw + (2 if a < n else 0))]
    if kind == "left":
        return [(a - 1, a, nw + 1 + room(a - 1))]
    if kind == "over":
        if i == j:
            half = (nw - 1) // 2
            return [(a - 1, a, half + room(a - 1)), (a, a + 1, nw - 1 - half + (2 if a < n else 0))]
        return [(a, b, nw - bar[j] - 4), (a - 1, a, 2 + room(a - 1)),
                (b, b + 1, bar[j] + 1 + (2 if b < n else 0))]
    return []


def item_extent(g: Geometry, kind: str, i: int, j: int, w: int) -> tuple[int, int]:
    """Leftmost and rightmost column an item of a frame draws on."""
    x, bar = g.x, g.bar
    if kind == "msg":
        return x[i], x[j] + bar[j] - 1
    if kind == "create":
        return min(x[i], x[j] - g.left[j]), max(x[i] + bar[i] - 1, x[j] + g.right[j])
    if kind == "self":
        s = loop_start(g, i)
        return x[i], s + 3 + w if w else s + 2
    if kind in ("left", "right", "over"):
        return note_box(g, kind, i, j, w)
    if kind == "head":
        return x[i] - g.left[i], x[i] + g.right[i]
    return x[i], x[i] + bar[i] - 1


def _frames(script: Script, needs: _Needs, g: Geometry, limit: int, pad: int,
            depth: int) -> tuple[int, int]:
    """Each frame's borders, innermost first; returns the columns all of them span."""
    frames = script.frames
    count = len(frames)
    big = 1 << 60
    lo = [big] * count
    hi = [-big] * count
    want = [0] * count
    top_lo, top_hi = 0, 0
    for (fid, kind, i, j), w in needs.items.items():
        a, b = item_extent(g, kind, i, j, min(w, limit))
        if fid < 0:
            top_lo, top_hi = min(top_lo, a), max(top_hi, b)
        else:
            lo[fid], hi[fid] = min(lo[fid], a), max(hi[fid], b)
    taken: set[int] = set()
    for k, x in enumerate(g.x):
        taken.update(range(x, x + g.bar[k]))
    default = (g.x[0], g.x[-1]) if g.x else (0, 0)
    out: list[tuple[int, int, bool]] = [(0, 0, False)] * count
    for f in range(count - 1, -1, -1):
        frame = frames[f]
        head = max((width_of(wrap(h, limit + 8)) for h in frame.headers), default=0) + 5
        want[f] = max(want[f], head)
        if lo[f] == big:
            lo[f], hi[f] = default
        flat = frame.depth > depth
        if flat:
            a, b = lo[f], hi[f]
        else:
            a, b = lo[f] - pad, hi[f] + pad
            b = max(b, a + want[f] - 1)
            while a in taken:
                a -= 1
            while b in taken:
                b += 1
        out[f] = (a, b, flat)
        p = frame.parent
        if p < 0:
            top_lo, top_hi = min(top_lo, a), max(top_hi, b)
        else:
            lo[p], hi[p] = min(lo[p], a), max(hi[p], b)
            if flat:
                want[p] = max(want[p], want[f])
    for f in range(count):  # flat frames sit on their nearest drawn ancestor's borders
        a, b, flat = out[f]
        if flat and frames[f].parent >= 0:
            pa, pb, _ = out[frames[f].parent]
            out[f] = (pa, pb, True)
    g.frames = out
    return top_lo, top_hi
