"""The model as the JSON document of product.md section 4 (a contract: never rename).

The section 4 fields are all present; the extra fields (`column`, `declared`, `central`,
`wrap`, `boxes`, `warnings`, ...) are additions that tools may use.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from typing import Any

from mermaidgen.model import (
    Activate,
    Autonumber,
    Block,
    Create,
    Deactivate,
    Destroy,
    Diagnostic,
    Diagram,
    Message,
    Note,
    Participant,
    Statement,
)

VERSION = 2
"""1 -> 2: a message whose text writes fields (`TripCompleted(km, duration)`,
docs/fields.md) has `fields` (added by the caller's `extra`, see preview/document.py:
reading fields is the analysis' business); analysis events have `fields`. Nothing
was renamed or dropped: a reader of version 1 reads version 2."""


Extra = Callable[[Message], "dict[str, Any] | None"]
"""What a later stage adds to a message's object (its fields), or None."""


class Records(list):  # type: ignore[type-arg]
    """A list of objects (dicts) that knows which of them `dumps` lays out over several
    lines (`opening`, their indexes, in order; `_opens` says which): the code that
    builds a document knows it (a block, a message with fields), where `dumps` would
    look into every value of every record, a third of the cost of encoding them. It is
    a list to everyone else (json's encoders, `==`)."""

    __slots__ = ("opening",)

    def __init__(self, items: Any = (), opening: tuple[int, ...] = ()) -> None:
        super().__init__(items)
        self.opening = opening


def to_dict(diagram: Diagram, extra: Extra | None = None) -> dict[str, Any]:
    """The model's document; `extra` adds keys to each message's object."""
    boxes = diagram.boxes
    return {
        "version": VERSION,
        "title": diagram.title,
        "acc_title": diagram.acc_title,
        "acc_descr": diagram.acc_descr,
        "source": diagram.source,
        "line": diagram.span.line,
        "config": _plain(diagram.config),
        "participants": [_participant(p, boxes) for p in diagram.participants],
        "boxes": [
            {"title": b.title, "color": b.color, "participants": list(b.participants),
             "line": b.span.line, "column": b.span.column}
            for b in boxes
        ],
        "statements": statements_to_list(
            diagram.statements, extra),
        "warnings": Records(diagnostic_to_dict(w) for w in diagram.warnings),
    }


def _participant(p: Participant, boxes) -> dict[str, Any]:
    return {
        "id": p.id, "label": p.label, "kind": p.kind,
        "box": boxes[p.box].title if p.box is not None else None,
        "box_index": p.box,
        "line": p.span.line, "column": p.span.column,
        "declared": p.declared, "created": p.created, "destroyed": p.destroyed,
        "wrap": p.wrap, "links": _plain(p.links), "properties": _plain(p.properties),
    }


def statements_to_list(statements: tuple[Statement, ...],
                       extra: Extra | None = None) -> list[dict[str, Any]]:
    """Statements as JSON objects; iterative, so that any nesting depth works. `extra`:
    keys to add to each message's object."""
    out = Records()
    # each entry: (statements to convert, list to append them to)
    work = [(statements, out)]
    while work:
        items, target = work.pop()
        opening = []  # the blocks with sections, the messages with fields (`Records`)
        for s in items:
            entry = _statement(s)
            if isinstance(s, Block):
                if s.sections:
                    opening.append(len(target))
                for section, sec_entry in zip(s.sections, entry["sections"], strict=True):
                    work.append((section.statements, sec_entry["statements"]))
            elif extra is not None and isinstance(s, Message):
                added = extra(s)
                if added:
                    entry.update(added)
                    if _opens(entry):
                        opening.append(len(target))
            target.append(entry)
        target.opening = tuple(opening)
    return out


def _statement(s: Statement) -> dict[str, Any]:
    where = {"line": s.span.line, "column": s.span.column}
    if isinstance(s, Message):
        entry = {"type": "message", "from": s.sender, "to": s.receiver, "text": s.text,
                 "arrow": s.arrow, **where,
                 "activate": s.receiver if s.activate else None,
                 "deactivate": s.sender if s.deactivate else None,
                 "central": s.central, "wrap": s.wrap}
        return entry
    if isinstance(s, Note):
        return {"type": "note", "placement": s.placement, "participants": list(s.participants),
                "text": s.text, **where, "wrap": s.wrap}
    if isinstance(s, (Activate, Deactivate, Create, Destroy)):
        return {"type": type(s).__name__.lower(), "participant": s.participant, **where}
    if isinstance(s, Autonumber):
        return {"type": "autonumber", **where, "start": s.start, "step": s.step,
                "visible": s.visible}
    assert isinstance(s, Block)
    return {"type": "block", "kind": s.kind, **where,
            "sections": [{"label": sec.label, "line": sec.span.line, "wrap": sec.wrap,
                          "statements": Records()} for sec in s.sections]}


def diagnostic_to_dict(d: Diagnostic) -> dict[str, Any]:
    return {"code": d.code, "severity": d.severity, "message": d.message,
            "line": d.span.line, "column": d.span.column, "hint": d.hint}


def _plain(value: Any) -> Any:
    """Mappings (read-only proxies included) as plain dicts, recursively."""
    if hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def dumps(document: Any, *, compact: bool = False) -> str:
    """`document` as JSON text; every piece is encoded by json's C encoder.

    json's own indented output (`indent=2`) always runs the pure-Python encoder, which
    costs about ten times the C one and passes every piece up through one generator per
    nesting level. Here an object or list that holds nothing but scalars (or empty or
    scalar-only lists) is written on one line by the C encoder, and only the containers
    above it are laid out, one member per line: a message is one line of the document.
    `compact`: no whitespace at all, one line.
    """
    out: list[str] = []
    dump(document, out.append, compact=compact)
    return "".join(out)


RUN = 2000
"""One-line records encoded by one call of the C encoder (see `_run`): enough that the
calls cost nothing beside the encoding, few enough that no piece is large."""


def dump(document: Any, write: Callable[[str], object], *, compact: bool = False) -> None:
    """`dumps(document)`, handed to `write` in pieces (none much larger than `RUN`
    records): a 100k-message document is 70 MB, and one string of it, joined and then
    encoded for the output, cost as much again in copies as the encoding itself."""
    if compact:
        _dump_compact(document, write)
        return
    encode = _one_line_encoder()
    if not _opens(document):
        write(encode(document))
        return
    out: list[str] = []
    # iterative, so that any nesting depth works: each frame is
    # [members as (key or None, value), padding of its members, closing bracket, first?]
    stack = [_open(document, "  ", out)]
    while stack:
        frame = stack[-1]
        member = next(frame[0], None)
        if member is None:
            stack.pop()
            out.append(f"\n{frame[1][:-2]}{frame[2]}")
            continue
        key, value = member
        out.append("\n" + frame[1] if frame[3] else ",\n" + frame[1])
        frame[3] = False
        if key is _RUN:
            # consecutive one-line members of a list: all of them at once, without a
            # turn of this loop per record (the statements, the messages, the events)
            out.append(_run(value, frame[1], encode))
            write("".join(out))
            out.clear()
            continue
        if key is not None:
            out.append(encode(key) + ": ")
        if _opens(value):
            stack.append(_open(value, frame[1] + "  ", out))
        else:
            out.append(encode(value))
    write("".join(out))


def _dump_compact(document: Any, write: Callable[[str], object]) -> None:
    """The C encoder's output without whitespace; a large list in pieces of `RUN`."""
    encode = _compact_encoder()
    if type(document) is not dict or not all(type(k) is str for k in document):
        write(encode(document))
        return
    sep = "{"
    for key, value in document.items():
        head = f"{sep}{encode(key)}:"
        sep = ","
        if not isinstance(value, list) or len(value) <= RUN:
            write(head + encode(value))
            continue
        write(head + "[")
        for start in range(0, len(value), RUN):
            text = encode(value[start:start + RUN])[1:-1]
            write(f",{text}" if start else text)
        write("]")
    write("}" if sep == "," else "{}")


def _run(records: list[Any], padding: str, encode: Callable[[Any], str]) -> str:
    """One-line members of a list (`_opens` is false for each), one per line.

    Records of scalars go through the C encoder in one call, with NUL as the separator
    between items: it never appears in the encoder's own output (strings escape every
    control character), and in a list of such records `}` NUL `{` can only be where one
    record ends and the next begins (inside one, a `}` closes an empty object and is
    followed by a key or by the record's end), so two replacements lay the list out.
    At 100k messages, one call per record cost half as much again as the encoding."""
    if all(type(r) is dict for r in records):
        text = "".join(_nul_separated()(records, 0))[1:-1]
        return text.replace("}\0{", "},\n" + padding + "{").replace("\0", ", ")
    return f",\n{padding}".join(map(encode, records))


_RUN = object()
"""The key `_open` gives a run of one-line members of a list."""


@functools.cache
def _nul_separated():  # type: ignore[no-untyped-def]
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # without json's C accelerator: the pure-Python encoder, same text
        encoder = json.JSONEncoder(ensure_ascii=False, separators=("\0", ": "))
        return lambda value, _: encoder.iterencode(value)
    return make(None, None, json.encoder.encode_basestring, None, ": ", "\0",
                False, False, True)


def _open(container: dict | list, padding: str, out: list[str]) -> list:
    if type(container) is dict:
        out.append("{")
        return [iter(container.items()), padding, "}", True]
    out.append("[")
    return [_list_members(container), padding, "]", True]


def _list_members(items: Any) -> Iterator[tuple[Any, Any]]:
    """A laid-out list's members: (None, member) for one laid out in turn, (`_RUN`, list)
    for up to `RUN` consecutive members that each take one line. Lazily: a run is
    encoded right after its members were looked at, while they are still in the cache
    (at 100k messages, looking at all of them first cost a third more)."""
    if type(items) is Records:
        start = 0
        for i in items.opening:
            yield from _runs(items, start, i)
            yield None, items[i]
            start = i + 1
        yield from _runs(items, start, len(items))
        return
    start = 0
    for i, item in enumerate(items):
        if _opens(item):
            if start < i:
                yield _RUN, items[start:i]
            yield None, item
            start = i + 1
        elif i - start + 1 == RUN:
            yield _RUN, items[start:i + 1]
            start = i + 1
    if start < len(items):
        yield _RUN, items[start:]


def _runs(items: list[Any], start: int, end: int) -> Iterator[tuple[Any, Any]]:
    for at in range(start, end, RUN):
        yield _RUN, items[at:min(at + RUN, end)]


_CONTAINERS = frozenset((dict, list, Records))


def _opens(value: Any) -> bool:
    """True for a non-empty container that holds a non-empty container other than a list
    of scalars: such a value is laid out over several lines."""
    t = type(value)
    if t is dict:
        members = value.values()
    elif t is list or t is Records:
        members = value
    else:
        return False
    if _CONTAINERS.isdisjoint(map(type, members)):  # most records: scalars only
        return False
    for v in members:
        t = type(v)
        if t is dict:
            if v:
                return True
        elif (t is list or t is Records) and not _CONTAINERS.isdisjoint(map(type, v)):
            return True
    return False


def _one_line_encoder():
    """json's C encoder, made once: `json.dumps` would build a new one for every call."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without json's C accelerator
        return json.JSONEncoder(ensure_ascii=False).encode
    encoder = make(None, None, json.encoder.encode_basestring, None, ": ", ", ",
                   False, False, True)
    return lambda value: "".join(encoder(value, 0))


def _compact_encoder():
    """`json.dumps(value, ensure_ascii=False, separators=(",", ":"))`, made once."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    encoder = make(None, None, json.encoder.encode_basestring, None, ":", ",",
                   False, False, True)
    return lambda value: "".join(encoder(value, 0))
