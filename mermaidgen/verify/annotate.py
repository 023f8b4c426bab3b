"""The diagram with what the traces did written onto it, for the terminal drawing.

Each message's text gets how often the conforming traces sent it (`[3x]`, `[never]`),
and each section of a choice how many traces took it (`[2 traces]`, `[never]`); the
preview stage draws the result like any diagram (`commands/verify.py`, `--draw`). Only
texts change: the drawing's layout, arrows and frames are the diagram's own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from mermaidgen.model import Block, Diagram, Message, Statement
from mermaidgen.verify.coverage import Coverage


def annotated(diagram: Diagram, coverage: Coverage) -> Diagram:
    """`diagram` with per-message counts and per-section trace counts in its texts."""
    numbers = dict(_choice_numbers(diagram))
    by_index = {c.index: c for c in coverage.choices}

    def section_count(block: Block, k: int) -> int | None:
        index = numbers.get(id(block))
        if index is None:
            return None  # a rect: no choice
        choice = by_index[index]
        seen = coverage.seen
        if choice.kind in ("opt", "break"):
            return seen.get((index, 1), 0)
        if choice.kind == "loop":
            return seen.get((index, 1), 0) + seen.get((index, 2), 0)
        if choice.kind == "par":
            return seen.get((index, 0), 0)
        return seen.get((index, k), 0)

    def statement(s: Statement) -> Statement:
        if isinstance(s, Message):
            n = coverage.messages.get(s.span.line, 0)
            return dataclasses.replace(s, text=f"[{n}x] {s.text}" if n else f"[never] {s.text}")
        if isinstance(s, Block):
            sections = []
            for k, section in enumerate(s.sections):
                n = section_count(s, k)
                label = section.label if n is None else \
                    f"{section.label} [{_traces(n)}]".lstrip()
                sections.append(dataclasses.replace(
                    section, label=label,
                    statements=tuple(statement(x) for x in section.statements)))
            return dataclasses.replace(s, sections=tuple(sections))
        return s

    return dataclasses.replace(diagram, statements=tuple(
        statement(s) for s in diagram.statements))


def _traces(n: int) -> str:
    return "never" if not n else f"{n} trace{'s' if n != 1 else ''}"


def _choice_numbers(diagram: Diagram) -> Iterator[tuple[int, int]]:
    """(id of a block, its choice index), numbered as `analysis.paths.choices_of` does:
    preorder, `rect` not counted."""
    count = 0
    stack: list[Iterator[Statement]] = [iter(diagram.statements)]
    while stack:
        for s in stack[-1]:
            if not isinstance(s, Block):
                continue
            if s.kind == "rect":
                stack.append(iter([x for sec in s.sections for x in sec.statements]))
                break
            yield id(s), count
            count += 1
            for k in range(len(s.sections) - 1, -1, -1):
                stack.append(iter(s.sections[k].statements))
            break
        else:
            stack.pop()


__all__ = ["annotated"]
