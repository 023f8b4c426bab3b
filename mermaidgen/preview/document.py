"""The analysis and its projections as JSON: what `preview --format json` adds to the
model's document (`mermaidgen.model.serialize`) under the key `analysis`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mermaidgen.analysis.events import is_broker
from mermaidgen.analysis.fields import Field, fields_of
from mermaidgen.model import Diagram, Message
from mermaidgen.model.serialize import Records, diagnostic_to_dict, to_dict

if TYPE_CHECKING:
    from mermaidgen.analysis import Analysis


def model_to_dict(diagram: Diagram) -> dict[str, Any]:
    """The model's document (version 2): a message whose text writes fields
    (docs/fields.md) has `fields`, `[{"name", "type"}]` with the type as written or null;
    the other messages have no such key."""
    brokers = frozenset(p.id for p in diagram.participants if is_broker(p))

    def fields(m: Message) -> dict[str, Any] | None:
        text = m.text
        if ")" not in text and "}" not in text:  # fields are written in brackets
            return None
        # on a message to or from a broker, `Name (word)` names a topic, not a field
        found = fields_of(text, m.sender in brokers or m.receiver in brokers)
        return None if found is None else {
            "fields": [{"name": f.name, "type": f.written} for f in found]}

    return to_dict(diagram, fields)


def _field(f: Field) -> dict[str, Any]:
    return {"name": f.name, "attribute": f.attribute, "type": f.type, "written": f.written,
            "known": f.known}


def analysis_to_dict(analysis: Analysis, projections: bool = False) -> dict[str, Any]:
    """The analysis as JSON: added under the key `analysis`, beside the section 4 fields.
    The two projections (`choreography`, `orchestration`) only with `projections`: they
    hold the diagram twice more, as action trees, and cost about three parses to build
    and two more to write (docs/model-json.md)."""
    events = analysis.events
    keys = analysis.event_keys
    document = {
        "style": analysis.style.style,
        "style_reason": analysis.style.reason,
        "brokers": list(analysis.brokers),
        # `Records`: the layout of `dumps` known here (only an event with fields takes
        # more than one line), instead of looked for in every value of every record
        "messages": Records((
            {"index": m.index, "line": m.occurrence.line, "from": m.occurrence.sender,
             "to": m.occurrence.receiver, "role": m.role, "reply_to": m.reply_to,
             "replies": list(m.replies), "hop": m.hop, "event": keys[m.index]}
            for m in analysis.messages), ()),
        "events": Records((
            {"key": e.key, "name": e.name, "class_name": e.class_name, "channel": e.channel,
             "topic": e.topic, "broker": e.broker, "producers": list(e.producers),
             "consumers": list(e.consumers),
             "messages": list(e.occurrences), "lines": list(e.lines),
             "fields": [_field(f) for f in e.fields]}
            for e in events), tuple(i for i, e in enumerate(events) if e.fields)),
        "diagnostics": Records(diagnostic_to_dict(d) for d in analysis.diagnostics),
    }
    if projections:
        document.update(projections_to_dict(analysis))
    return document


def projections_to_dict(analysis: Analysis) -> dict[str, Any]:
    """Both projections as JSON: `choreography` and `orchestration`."""
    # imported here: the projections are printed on request only, and importing them
    # is a third of the start-up of `preview --format json`
    from mermaidgen.projection import choreography_of, orchestration_of

    node = _record
    chor, orch = choreography_of(analysis), orchestration_of(analysis)
    return {
        "choreography": {"services": node(chor.services)},
        "orchestration": {
            "orchestrator": orch.orchestrator, "synthetic": orch.synthetic,
            "reason": orch.reason, "trigger": orch.trigger,
            "workflow": node(orch.workflow), "services": node(orch.services),
        },
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
