"""The interaction model: what a sequence diagram says, as immutable data.

Every node carries the span of source text it came from, in the coordinates of the
source *file* (1-based lines and columns), so that every later stage can point back
at the diagram. The model has no behaviour and knows nothing about templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, TypeAlias

from mermaidgen.model.quick_init import quicken

EMPTY_MAPPING: Mapping[str, object] = MappingProxyType({})

ParticipantKind: TypeAlias = str
"""`participant`, `actor`, `boundary`, `control`, `entity`, `database`, `collections`,
`queue`, or any other metadata type verbatim (mermaid keeps unknown types as written)."""

Placement: TypeAlias = Literal["left of", "right of", "over"]
BlockKind: TypeAlias = Literal["loop", "alt", "opt", "par", "par_over", "critical", "break", "rect"]
Central: TypeAlias = Literal["receiver", "sender", "both"]

# Every arrow mermaid.js knows, in the normalised spelling the JSON contract uses.
ARROWS: tuple[str, ...] = (
    "->>", "-->>", "->", "-->", "<<->>", "<<-->>", "-x", "--x", "-)", "--)",
    "-|\\", "-|/", "-\\\\", "-//", "--|\\", "--|/", "--\\\\", "--//",
    "/|-", "\\|-", "//-", "\\\\-", "/|--", "\\|--", "//--", "\\\\--",
)


@dataclass(frozen=True, slots=True)
class Span:
    """Where a node was written: 1-based file line and column, end exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True, slots=True)
class Participant:
    """A participant or actor, in the order mermaid draws them."""

    id: str
    label: str
    kind: ParticipantKind
    span: Span
    """The declaration, or the first use for participants that are never declared."""
    declared: bool = False
    box: int | None = None
    """Index into `Diagram.boxes`."""
    created: bool = False
    destroyed: bool = False
    wrap: bool | None = None
    links: Mapping[str, object] = field(default_factory=lambda: EMPTY_MAPPING)
    properties: Mapping[str, object] = field(default_factory=lambda: EMPTY_MAPPING)


@dataclass(frozen=True, slots=True)
class Box:
    """A `box` grouping participants, with its title and colour."""

    title: str | None
    color: str | None
    participants: tuple[str, ...]
    span: Span
    wrap: bool | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """One arrow between two participants (or from one to itself)."""

    sender: str
    receiver: str
    text: str
    arrow: str
    span: Span
    activate: bool = False
    """`+` before the receiver: the receiver's activation starts with this message."""
    deactivate: bool = False
    """`-` before the receiver: the *sender's* activation ends with this message."""
    central: Central | None = None
    """`()` central-connection markers (mermaid 11.12+)."""
    wrap: bool | None = None


@dataclass(frozen=True, slots=True)
class Note:
    """`Note left of|right of|over A[,B]: text`."""

    placement: Placement
    participants: tuple[str, ...]
    text: str
    span: Span
    wrap: bool | None = None


@dataclass(frozen=True, slots=True)
class Activate:
    """`activate A`: A's activation bar starts here."""

    participant: str
    span: Span


@dataclass(frozen=True, slots=True)
class Deactivate:
    """`deactivate A`: A's innermost activation bar ends here."""

    participant: str
    span: Span


@dataclass(frozen=True, slots=True)
class Create:
    """`create participant|actor A`: A appears at this point of the diagram."""

    participant: str
    span: Span


@dataclass(frozen=True, slots=True)
class Destroy:
    """`destroy A`: A's lifeline ends at its next message."""

    participant: str
    span: Span


@dataclass(frozen=True, slots=True)
class Autonumber:
    """`autonumber [start [step]]` or `autonumber off`."""

    span: Span
    start: int | float | None = None
    step: int | float | None = None
    visible: bool = True


@dataclass(frozen=True, slots=True)
class Section:
    """One section of a block: the body of a `loop`, or one branch of an `alt`/`par`."""

    label: str
    statements: tuple[Statement, ...]
    span: Span
    wrap: bool | None = None


@dataclass(frozen=True, slots=True)
class Block:
    """`loop`, `alt`, `opt`, `par`, `critical`, `break` or `rect`, with its sections."""

    kind: BlockKind
    sections: tuple[Section, ...]
    span: Span
    """From the opening keyword to the end of `end`."""


Statement: TypeAlias = (
    Message | Note | Activate | Deactivate | Create | Destroy | Autonumber | Block
)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A finding about a diagram, collected rather than raised."""

    severity: Literal["error", "warning", "info"]
    code: str
    message: str
    span: Span
    hint: str | None = None


@dataclass(frozen=True, slots=True)
class Diagram:
    """A parsed sequence diagram: participants, statements in order, and metadata."""

    participants: tuple[Participant, ...]
    statements: tuple[Statement, ...]
    span: Span
    """The whole diagram in its source file (from the `sequenceDiagram` header on)."""
    title: str | None = None
    acc_title: str | None = None
    acc_descr: str | None = None
    boxes: tuple[Box, ...] = ()
    config: Mapping[str, object] = field(default_factory=lambda: EMPTY_MAPPING)
    warnings: tuple[Diagnostic, ...] = field(default=())
    source: str | None = None
    """The file the diagram came from (`-` for stdin), or None for text parsed directly."""

    def participant(self, pid: str) -> Participant | None:
        """The participant with this id, or None."""
        for p in self.participants:
            if p.id == pid:
                return p
        return None


def walk(statements: tuple[Statement, ...]):
    """Every statement in document order, blocks before their contents (no recursion,
    so that diagrams nested thousands of levels deep work)."""
    stack = [iter(statements)]
    while stack:
        for node in stack[-1]:
            yield node
            if isinstance(node, Block):
                stack.append(iter([s for sec in node.sections for s in sec.statements]))
                break
        else:
            stack.pop()


def nesting(statements: tuple[Statement, ...], flat: frozenset[str] = frozenset()):
    """Every block with its depth (1 at the top level), blocks before their contents. Blocks
    whose kind is in `flat` (such as `rect`) add no depth. No recursion: any depth works."""
    stack = [(iter(statements), 0)]
    while stack:
        items, depth = stack[-1]
        for node in items:
            if isinstance(node, Block):
                inner = depth if node.kind in flat else depth + 1
                yield node, inner
                stack.append((iter([s for sec in node.sections for s in sec.statements]),
                              inner))
                break
        else:
            stack.pop()


def messages(diagram: Diagram) -> list[Message]:
    """All messages of a diagram in document order."""
    return [s for s in walk(diagram.statements) if isinstance(s, Message)]


# Every parse builds one Span and one record per statement: build them without
# `object.__setattr__` by name (see quick_init.py).
quicken(Span, Participant, Box, Message, Note, Activate, Deactivate, Create, Destroy,
        Autonumber, Section, Block, Diagnostic, Diagram)
