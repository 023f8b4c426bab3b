"""A diagram's statements as one flat stream of events, for the analyses.

Walking a tree of blocks recursively would fail on diagrams nested thousands deep, so
every analysis reads this stream instead: `Enter`/`Section`/`Leave` mark blocks, and
messages come as `Occurrence`s that know where they are (their block path) and what the
statements around them say about activation and destruction.
"""

from __future__ import annotations

from dataclasses import dataclass

from mermaidgen.model import (
    Activate,
    Block,
    Deactivate,
    Destroy,
    Diagram,
    Message,
    Note,
    Section,
    Statement,
)
from mermaidgen.model.quick_init import quicken

Path = tuple[tuple[int, int], ...]
"""Where a statement sits: (block id, section index) pairs from the outside in."""


class Occurrence:
    """A message where it occurs. (A plain slotted class: analyses create one per message
    and a frozen dataclass costs three times as much to build.)"""

    __slots__ = ("index", "message", "path", "activates", "deactivates", "destroyed",
                 "sender", "receiver", "line")

    def __init__(self, index: int, message: Message, path: Path, activates: bool,
                 deactivates: bool, destroyed: str | None):
        self.index = index
        """Position among the diagram's messages, in document order."""
        self.message = message
        self.path = path
        self.activates = activates
        """The receiver's activation starts here (`->>+`, or `activate R` right after)."""
        self.deactivates = deactivates
        """The sender's activation ends here (`-->>-`, or `deactivate S` right after)."""
        self.destroyed = destroyed
        """The participant a `destroy` right before this message announced."""
        self.sender = message.sender
        self.receiver = message.receiver
        self.line = message.span.line

    def __repr__(self) -> str:
        return f"Occurrence({self.index}, {self.message!r})"


@dataclass(frozen=True, slots=True)
class Enter:
    """A block starts (in the flattened stream of the diagram)."""

    block_id: int
    block: Block
    path: Path


@dataclass(frozen=True, slots=True)
class SectionStart:
    """A section of the current block starts."""

    block_id: int
    index: int
    section: Section
    path: Path
    """The path of statements inside this section."""


@dataclass(frozen=True, slots=True)
class Leave:
    """The current block ends."""

    block_id: int
    block: Block


@dataclass(frozen=True, slots=True)
class Other:
    """A note, activation, create/destroy or autonumber statement."""

    statement: Statement
    path: Path


Item = Enter | SectionStart | Leave | Occurrence | Other


def _next_statement(items: tuple[Statement, ...], i: int) -> Statement | None:
    """The statement after position `i`, skipping notes."""
    for k in range(i + 1, len(items)):
        if not isinstance(items[k], Note):
            return items[k]
    return None


def stream(diagram: Diagram) -> list[Item]:
    out: list[Item] = []
    count = 0
    block_ids = 0
    pending_destroy: str | None = None
    # frames: (statements, position, path, block id to leave when done)
    frames: list[tuple[tuple[Statement, ...], int, Path, tuple[int, Block] | None]] = [
        (diagram.statements, 0, (), None)]
    while frames:
        items, i, path, leave = frames.pop()
        while i < len(items):
            s = items[i]
            if isinstance(s, Message):
                # the next statement, skipping notes (most often simply the next one)
                after = items[i + 1] if i + 1 < len(items) else None
                if isinstance(after, Note):
                    after = _next_statement(items, i)
                activates = s.activate or (isinstance(after, Activate)
                                           and after.participant == s.receiver)
                deactivates = s.deactivate or (isinstance(after, Deactivate)
                                               and after.participant == s.sender)
                out.append(Occurrence(count, s, path, activates, deactivates, pending_destroy))
                pending_destroy = None
                count += 1
            elif isinstance(s, Block):
                block_id = block_ids
                block_ids += 1
                out.append(Enter(block_id, s, path))
                frames.append((items, i + 1, path, leave))
                # sections are pushed in reverse so the first one is walked first
                frames.append(((), 0, path, (block_id, s)))
                for k in range(len(s.sections) - 1, -1, -1):
                    inner = (*path, (block_id, k))
                    frames.append((s.sections[k].statements, 0, inner, None))
                    frames.append(((_SectionMarker(block_id, k, s.sections[k], inner),),
                                   0, path, None))
                break
            elif isinstance(s, _SectionMarker):
                out.append(SectionStart(s.block_id, s.index, s.section, s.path))
            else:
                if isinstance(s, Destroy):
                    pending_destroy = s.participant
                out.append(Other(s, path))
            i += 1
        else:
            if leave is not None:
                out.append(Leave(*leave))
    return out


@dataclass(frozen=True, slots=True)
class _SectionMarker:
    """Where a section starts, while the stream is being built."""

    block_id: int
    index: int
    section: Section
    path: Path


def occurrences(items: list[Item]) -> list[Occurrence]:
    return [it for it in items if isinstance(it, Occurrence)]

# built by the thousand for a large diagram (see model/quick_init.py)
quicken(Enter, SectionStart, Leave, Other, _SectionMarker)
