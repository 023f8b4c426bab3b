"""The model as the JSON document of product.md section 4 (a contract: never rename).

The section 4 fields are all present; the extra fields (`column`, `declared`, `central`,
`wrap`, `boxes`, `warnings`, ...) are additions that tools may use.
"""

from __future__ import annotations

import json
from typing import Any

from mermaidgen.analysis.events import is_broker
from mermaidgen.analysis.fields import Field, fields_of
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
docs/fields.md) has `fields`; analysis events have `fields` (always, maybe empty). Nothing
was renamed or dropped: a reader of version 1 reads version 2."""


def to_dict(diagram: Diagram) -> dict[str, Any]:
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
            diagram.statements, frozenset(p.id for p in diagram.participants if is_broker(p))),
        "warnings": [diagnostic_to_dict(w) for w in diagram.warnings],
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
                       brokers: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """Statements as JSON objects; iterative, so that any nesting depth works. `brokers`:
    on a message to or from one, `Name (word)` names a topic, not a field."""
    out: list[dict[str, Any]] = []
    # each entry: (statements to convert, list to append them to)
    work = [(statements, out)]
    while work:
        items, target = work.pop()
        for s in items:
            entry = _statement(s, brokers)
            target.append(entry)
            if isinstance(s, Block):
                for section, sec_entry in zip(s.sections, entry["sections"], strict=True):
                    work.append((section.statements, sec_entry["statements"]))
    return out


def _statement(s: Statement, brokers: frozenset[str]) -> dict[str, Any]:
    where = {"line": s.span.line, "column": s.span.column}
    if isinstance(s, Message):
        entry = {"type": "message", "from": s.sender, "to": s.receiver, "text": s.text,
                 "arrow": s.arrow, **where,
                 "activate": s.receiver if s.activate else None,
                 "deactivate": s.sender if s.deactivate else None,
                 "central": s.central, "wrap": s.wrap}
        found = fields_of(s.text, s.sender in brokers or s.receiver in brokers)
        if found is not None:  # only then: documents of diagrams without fields stay as they were
            entry["fields"] = [{"name": f.name, "type": f.written} for f in found]
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
                          "statements": []} for sec in s.sections]}


def _field(f: Field) -> dict[str, Any]:
    return {"name": f.name, "attribute": f.attribute, "type": f.type, "written": f.written,
            "known": f.known}


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


def analysis_to_dict(analysis) -> dict[str, Any]:
    """The analysis as JSON: added under the key `analysis`, beside the section 4 fields."""
    node = _record
    chor, orch = analysis.choreography, analysis.orchestration
    return {
        "style": analysis.style.style,
        "style_reason": analysis.style.reason,
        "brokers": list(analysis.brokers),
        "messages": [
            {"index": m.index, "line": m.occurrence.line, "from": m.occurrence.sender,
             "to": m.occurrence.receiver, "role": m.role, "reply_to": m.reply_to,
             "replies": list(m.replies), "hop": m.hop, "event": analysis.event_of(m.index)}
            for m in analysis.messages
        ],
        "events": [
            {"key": e.key, "name": e.name, "class_name": e.class_name, "channel": e.channel,
             "broker": e.broker, "producers": list(e.producers), "consumers": list(e.consumers),
             "messages": list(e.occurrences), "lines": list(e.lines),
             "fields": [_field(f) for f in e.fields]}
            for e in analysis.events
        ],
        "choreography": {"services": node(chor.services)},
        "orchestration": {
            "orchestrator": orch.orchestrator, "synthetic": orch.synthetic,
            "reason": orch.reason, "trigger": orch.trigger,
            "workflow": node(orch.workflow), "services": node(orch.services),
        },
        "diagnostics": [diagnostic_to_dict(d) for d in analysis.diagnostics],
    }


_RECORD_FIELDS: dict[type, tuple[str, tuple[str, ...]]] = {}
"""Per record class: its JSON `type` and its field names (looked up once, not per record:
a 100k-message analysis holds millions of records)."""


def _record(value: Any) -> Any:
    """A projection's records (frozen dataclasses and tuples of them) as JSON values."""
    kind = type(value)
    if kind is str or kind is int or value is None or kind is bool:
        return value
    if kind is tuple:
        return [_record(v) for v in value]
    spec = _RECORD_FIELDS.get(kind)
    if spec is None:
        if not hasattr(kind, "__dataclass_fields__"):
            return value
        spec = _RECORD_FIELDS[kind] = (kind.__name__.lower(), tuple(kind.__dataclass_fields__))
    out: dict[str, Any] = {"type": spec[0]}
    for name in spec[1]:
        out[name] = _record(getattr(value, name))
    return out


def dumps(document: Any, *, compact: bool = False) -> str:
    """`document` as JSON text; every piece is encoded by json's C encoder.

    json's own indented output (`indent=2`) always runs the pure-Python encoder, which
    costs about ten times the C one and passes every piece up through one generator per
    nesting level. Here an object or list that holds nothing but scalars (or empty or
    scalar-only lists) is written on one line by the C encoder, and only the containers
    above it are laid out, one member per line: a message is one line of the document.
    `compact`: no whitespace at all, one line.
    """
    if compact:
        return json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    encode = _one_line_encoder()
    if not _opens(document):
        return encode(document)
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
        if key is not None:
            out.append(encode(key) + ": ")
        if _opens(value):
            stack.append(_open(value, frame[1] + "  ", out))
        else:
            out.append(encode(value))
    return "".join(out)


def _open(container: dict | list, padding: str, out: list[str]) -> list:
    if type(container) is dict:
        out.append("{")
        return [iter(container.items()), padding, "}", True]
    out.append("[")
    return [((None, v) for v in container), padding, "]", True]


def _opens(value: Any) -> bool:
    """True for a non-empty container that holds a non-empty container other than a list
    of scalars: such a value is laid out over several lines."""
    t = type(value)
    if t is dict:
        members = value.values()
    elif t is list:
        members = value
    else:
        return False
    for v in members:
        t = type(v)
        if t is dict:
            if v:
                return True
        elif t is list:
            for item in v:
                if type(item) is dict or type(item) is list:
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
