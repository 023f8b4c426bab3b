"""What the lexer hands the parser besides model statements: declarations and openers.

These records live only between lexing and model building. Messages, notes, activations
and the other statements that stay in the model are already `mermaidgen.model` objects.
"""

from __future__ import annotations

from dataclasses import dataclass

from mermaidgen.model import Span


class Tok:
    """A token for lark's LALR parser: a type name and its payload.

    Lark reads only `type` while parsing, and the position attributes when it reports an
    error; a two-slot object is much cheaper than lark's string-based Token.
    """

    __slots__ = ("type", "value", "span")

    def __init__(self, type_: str, value: object, span: Span):
        self.type = type_
        self.value = value
        self.span = span

    # positions, as lark's error classes read them
    line = property(lambda self: self.span.line)
    column = property(lambda self: self.span.column)
    end_line = property(lambda self: self.span.end_line)
    end_column = property(lambda self: self.span.end_column)
    start_pos = end_pos = None

    def __repr__(self) -> str:
        return f"Tok({self.type}, {self.value!r})"


@dataclass(frozen=True, slots=True, eq=False)
class Declaration:
    """`participant X [@{...}] [as Label]` or `actor ...`."""

    keyword: str  # "participant" or "actor"
    id: str
    span: Span
    alias: str | None = None
    alias_wrap: bool | None = None
    metadata: str | None = None
    metadata_span: Span | None = None
    created: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class LinkStatement:
    """`link`, `links`, `properties` or `details` for a participant."""

    keyword: str
    participant: str
    text: str
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Meta:
    """`title`, `accTitle` or `accDescr`."""

    key: str  # "title", "acc_title" or "acc_descr"
    text: str
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Opener:
    """A keyword that opens a block, a section (`else`, `and`, `option`) or a box."""

    keyword: str
    label: str
    span: Span
    wrap: bool | None = None
