"""The diagram as a flat script of drawing events, with everything the picture needs decided:
display texts (autonumbered, split at `<br>`, made safe), participant indexes, which message
creates or destroys whom, which activations start on a message's arrow, and the frames.

Blocks become `Open` / `Section` / `Close` events, walked without recursion, so nesting
depth is limited only by memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mermaidgen.model import (
    Activate,
    Autonumber,
    Block,
    Create,
    Deactivate,
    Destroy,
    Diagram,
    Message,
    Note,
    Statement,
    walk,
)
from mermaidgen.preview.cells import Cells, lines_of, to_cells, wrap

KEYWORDS = {"par_over": "par"}
SECTION_KEYWORDS = {"alt": "else", "par": "and", "par_over": "and", "critical": "option"}


@dataclass(slots=True)
class Head:
    """A participant's head: a box, or a stick figure for actors."""

    label: list[Cells]
    actor: bool
    tag: Cells
    """The participant kind shown in the box's top border (empty for plain participants)."""
    created: bool
    box: int | None


@dataclass(slots=True)
class Frame:
    parent: int
    """Index of the enclosing frame, -1 at top level."""
    depth: int
    dashed: bool
    """`rect`: a highlighted region, drawn with dashed lines."""
    headers: list[list[Cells]]
    """One header per section: `loop [label]`, then `else [label]`, ..."""


@dataclass(slots=True)
class Msg:
    frame: int
    src: int
    dst: int
    text: list[Cells]
    arrow: str
    activate: bool
    deactivate: bool
    central: str | None
    creates: bool = False
    destroys: list[int] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    """Participants whose `activate` right after this message starts on its arrow."""


@dataclass(slots=True)
class NoteEv:
    frame: int
    placement: str
    a: int
    b: int
    text: list[Cells]


@dataclass(slots=True)
class Act:
    frame: int
    who: int
    delta: int


@dataclass(slots=True)
class HeadEv:
    """A created participant's head, drawn where it is created (no creating message)."""

    frame: int
    who: int


@dataclass(slots=True)
class DestroyEv:
    """The end of a lifeline that no message destroys."""

    frame: int
    who: int


@dataclass(slots=True)
class Open:
    frame: int


@dataclass(slots=True)
class Section:
    frame: int
    index: int


@dataclass(slots=True)
class Close:
    frame: int


Event = Msg | NoteEv | Act | HeadEv | DestroyEv | Open | Section | Close


@dataclass(slots=True)
class Script:
    heads: list[Head]
    boxes: list[tuple[list[Cells], list[int]]]
    """Participant groups: title and member indexes."""
    frames: list[Frame]
    events: list[Event]
    bars: list[int]
    """Widest activation bar each participant ever needs (0, 1 or 2 columns)."""
    title: list[Cells]
    mirror: bool


def build(diagram: Diagram, ascii: bool) -> Script:
    index = {p.id: k for k, p in enumerate(diagram.participants)}
    created = {s.participant for s in walk(diagram.statements) if isinstance(s, Create)}
    heads = [
        Head(
            label=lines_of(p.label, ascii),
            actor=p.kind == "actor",
            tag=[] if p.kind in ("participant", "actor") else _tag(p.kind, ascii),
            created=p.id in created,
            box=p.box,
        )
        for p in diagram.participants
    ]
    boxes = [
        (lines_of(b.title or "", ascii), [index[m] for m in b.participants if m in index])
        for b in diagram.boxes
    ]
    builder = _Builder(diagram, index, ascii)
    builder.walk()
    events = _start_activations_on_arrows(builder.events)
    sequence = diagram.config.get("sequence")
    options = sequence if isinstance(sequence, dict) else {}
    return Script(
        heads=heads,
        boxes=boxes,
        frames=builder.frames,
        events=events,
        bars=_bar_widths(events, len(heads)),
        title=lines_of(diagram.title, ascii) if diagram.title else [],
        mirror=options.get("mirrorActors", True) is not False,
    )


def _tag(kind: str, ascii: bool) -> Cells:
    """The kind shown in a head's top border, at most 16 columns."""
    return wrap([to_cells(kind, ascii)], 16)[0]


class _Builder:
    def __init__(self, diagram: Diagram, index: dict[str, int], ascii: bool) -> None:
        self.diagram, self.index, self.ascii = diagram, index, ascii
        self.frames: list[Frame] = []
        self.events: list[Event] = []
        sequence = diagram.config.get("sequence")
        shown = isinstance(sequence, dict) and sequence.get("showSequenceNumbers") is True
        self.number: int | float = 1
        self.step: int | float = 1
        self.numbered = shown
        self.pending_heads: dict[int, HeadEv] = {}
        self.pending_ends: dict[int, DestroyEv] = {}

    def walk(self) -> None:
        frame = [-1]
        stack: list[tuple[tuple | list, int]] = [(self.diagram.statements, 0)]
        while stack:
            items, k = stack[-1]
            if k == len(items):
                stack.pop()
                continue
            stack[-1] = (items, k + 1)
            s = items[k]
            if isinstance(s, Block):
                fid = len(self.frames)
                self.frames.append(self._frame(s, frame[-1], len(frame)))
                seq: list[object] = [Open(fid)]
                for n, section in enumerate(s.sections):
                    if n:
                        seq.append(Section(fid, n))
                    seq.extend(section.statements)
                seq.append(Close(fid))
                stack.append((seq, 0))
            elif isinstance(s, Open):
                self.events.append(s)
                frame.append(s.frame)
            elif isinstance(s, Close):
                frame.pop()
                self.events.append(s)
            elif isinstance(s, Section):
                self.events.append(s)
            else:
                self._statement(s, frame[-1])

    def _frame(self, block: Block, parent: int, depth: int) -> Frame:
        keyword = KEYWORDS.get(block.kind, block.kind)
        headers = []
        for n, section in enumerate(block.sections):
            if block.kind == "rect":  # its text is a fill colour, never shown
                headers.append([])
                continue
            label = lines_of(section.label, self.ascii)
            word = keyword if n == 0 else SECTION_KEYWORDS.get(block.kind, "else")
            if not any(label):
                headers.append([list(word)])
            else:
                label[0] = [*word, " ", "[", *label[0]]
                label[-1] = [*label[-1], "]"]
                headers.append(label)
        return Frame(parent, depth, block.kind == "rect", headers)

    def _statement(self, s: Statement, frame: int) -> None:
        if isinstance(s, Message):
            self._message(s, frame)
        elif isinstance(s, Note):
            where = [self.index[p] for p in s.participants if p in self.index]
            if where:
                self.events.append(NoteEv(frame, s.placement, min(where), max(where),
                                          lines_of(s.text, self.ascii)))
        elif isinstance(s, (Activate, Deactivate)):
            if s.participant in self.index:
                delta = 1 if isinstance(s, Activate) else -1
                self.events.append(Act(frame, self.index[s.participant], delta))
        elif isinstance(s, Create):
            if s.participant in self.index:
                who = self.index[s.participant]
                self.pending_heads[who] = HeadEv(frame, who)
                self.events.append(self.pending_heads[who])
        elif isinstance(s, Destroy):
            if s.participant in self.index:
                who = self.index[s.participant]
                self.pending_ends[who] = DestroyEv(frame, who)
                self.events.append(self.pending_ends[who])
        elif isinstance(s, Autonumber):
            if s.start is not None:
                self.number = s.start
            if s.step is not None:
                self.step = s.step
            self.numbered = s.visible

    def _message(self, s: Message, frame: int) -> None:
        if s.sender not in self.index or s.receiver not in self.index:
            return
        src, dst = self.index[s.sender], self.index[s.receiver]
        text = lines_of(s.text, self.ascii)
        if self.numbered:
            text[0] = [*f"[{_number(self.number)}]", *([" "] if text[0] else []), *text[0]]
        # mermaid counts every message, numbered or not
        self.number += self.step
        m = Msg(frame, src, dst, text, s.arrow, s.activate, s.deactivate, s.central)
        head = self.pending_heads.pop(dst, None)
        if head is not None:
            m.creates = True
            _drop(self.events, head)
        for who in (src, dst):
            end = self.pending_ends.pop(who, None)
            if end is not None:
                m.destroys.append(who)
                _drop(self.events, end)
        self.events.append(m)


def _drop(events: list[Event], event: Event) -> None:
    """Take a placeholder back out (searched from the end, where it nearly always is)."""
    for k in range(len(events) - 1, -1, -1):
        if events[k] is event:
            del events[k]
            return


def _number(n: int | float) -> str:
    if isinstance(n, float):
        n = round(n, 6)
        if n.is_integer():
            return str(int(n))
    return str(n)


def _start_activations_on_arrows(events: list[Event]) -> list[Event]:
    """`A->>B: x` followed by `activate B`: the bar starts on that arrow, as mermaid shows it."""
    out: list[Event] = []
    last: Msg | None = None
    for e in events:
        if isinstance(e, Act) and e.delta > 0 and last is not None and e.who in (last.src,
                                                                                  last.dst):
            last.starts.append(e.who)
            continue
        last = e if isinstance(e, Msg) else None
        out.append(e)
    return out


def _bar_widths(events: list[Event], n: int) -> list[int]:
    depth = [0] * n
    widest = [0] * n
    for e in events:
        if isinstance(e, Msg):
            if e.activate:
                depth[e.dst] += 1
            for who in e.starts:
                depth[who] += 1
            for who in (e.src, e.dst):
                widest[who] = max(widest[who], min(depth[who], 2))
            if e.deactivate and depth[e.src]:
                depth[e.src] -= 1
        elif isinstance(e, Act):
            depth[e.who] = max(depth[e.who] + e.delta, 0)
            widest[e.who] = max(widest[e.who], min(depth[e.who], 2))
    return widest
