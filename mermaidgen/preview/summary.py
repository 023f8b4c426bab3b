"""A plain-text outline of a diagram: participants, then statements as an indented tree."""

from __future__ import annotations

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
)

_SECTION_WORD = {"alt": "else", "critical": "option", "par": "and", "par_over": "and"}


def statement_line(s: Statement) -> str:
    """One statement in Mermaid-like notation."""
    if isinstance(s, Message):
        mod = "+" if s.activate else "-" if s.deactivate else ""
        return f"{s.sender} {s.arrow} {mod}{s.receiver}: {s.text}"
    if isinstance(s, Note):
        return f"note {s.placement} {', '.join(dict.fromkeys(s.participants))}: {s.text}"
    if isinstance(s, (Activate, Deactivate, Create, Destroy)):
        return f"{type(s).__name__.lower()} {s.participant}"
    if isinstance(s, Autonumber):
        return "autonumber" + ("" if s.visible else " off")
    return ""


def summary(diagram: Diagram) -> str:
    out = [f"{diagram.title or 'sequenceDiagram'}  ({diagram.source or '<text>'}:"
           f"{diagram.span.line})", f"participants ({len(diagram.participants)}):"]
    for p in diagram.participants:
        label = f" as {p.label}" if p.label != p.id else ""
        box = f"  [box: {diagram.boxes[p.box].title or p.box + 1}]" if p.box is not None else ""
        out.append(f"  {p.kind:<11} {p.id}{label}{box}")
    out.append("statements:")
    # frames of (statements, position, depth); iterative so that depth is unlimited
    stack: list[tuple[tuple, int, int]] = [(diagram.statements, 0, 1)]
    while stack:
        items, i, depth = stack.pop()
        if i >= len(items):
            continue
        stack.append((items, i + 1, depth))
        s = items[i]
        pad = "  " * depth
        if isinstance(s, Block):
            frames = []
            for k, section in enumerate(s.sections):
                word = s.kind if k == 0 else _SECTION_WORD.get(s.kind, s.kind)
                head = _Head(f"{word} {section.label}".rstrip(), section.span.line)
                frames.append(((head, *section.statements), 0, depth + 1))
            frames.append(((_Head("end", s.span.end_line),), 0, depth + 1))
            stack.extend(reversed(frames))
            continue
        if isinstance(s, _Head):
            out.append(f"{s.line:>5} {pad[2:]}{s.text}")
            continue
        out.append(f"{s.span.line:>5} {pad}{statement_line(s)}")
    return "\n".join(out)


class _Head:
    __slots__ = ("text", "line")

    def __init__(self, text: str, line: int):
        self.text = text
        self.line = line
