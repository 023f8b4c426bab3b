"""Orchestration: the `break`s whose section is still open, and the operations that were in
progress where each started.

What an operation in progress since before a break sends after it, in the section that
holds the break, a run that takes the break never sends: the operation ends where the break
starts (orchestration.py, `follows_relay`). A break at the top level holds the rest of the
diagram, so the breaks to look at only add up: asking each of them about every send made
the projection quadratic (a 100k-message diagram had 43 of them open per message on
average, against 5 at 10k). Each break is therefore filed under the operations that were in
progress where it started, and a send asks only the breaks filed under the operations that
hold it (a short chain of callers).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Generic, TypeVar

Operation = TypeVar("Operation")
"""An operation in progress: its `parent` is the operation it was called in (None: by the
workflow)."""


class _Break:
    __slots__ = ("block_id", "depth", "order", "open")

    def __init__(self, block_id: int, depth: int, order: int):
        self.block_id = block_id
        self.depth = depth  # how many blocks were open around it
        self.order = order  # when it was opened: the breaks' own order
        self.open = True


class OpenBreaks(Generic[Operation]):
    """A stack of breaks by depth (a break is opened when its block ends, after the deeper
    ones were closed), each filed under the operations in progress where it started."""

    def __init__(self) -> None:
        self._stack: list[_Break] = []
        self._under: dict[Operation, list[_Break]] = {}
        self._opened = 0

    def open(self, block_id: int, depth: int, alive: Iterable[Operation]) -> None:
        """The break `block_id` ends, `depth` blocks deep; `alive`: the operations in
        progress where it started."""
        b = _Break(block_id, depth, self._opened)
        self._opened += 1
        self._stack.append(b)
        for h in alive:
            self._under.setdefault(h, []).append(b)

    def close_from(self, depth: int) -> None:
        """The sections that hold the breaks `depth` or more blocks deep have ended."""
        stack = self._stack
        while stack and stack[-1].depth >= depth:
            stack.pop().open = False

    def holding(self, acting: Operation | None) -> list[tuple[int, Operation]]:
        """Per open break, in the order they were opened: the innermost of `acting` and
        the operations that called it that was in progress where the break started (a
        break none of them was in progress at is left out)."""
        found: dict[_Break, Operation] = {}
        at: Any = acting
        while at is not None:
            filed = self._under.get(at)
            if filed:
                if not all(b.open for b in filed):  # (a closed break never reopens)
                    filed[:] = [b for b in filed if b.open]
                for b in filed:
                    if b not in found:  # an inner operation came first
                        found[b] = at
            at = at.parent
        return [(b.block_id, h) for b, h in sorted(found.items(), key=lambda x: x[0].order)]
