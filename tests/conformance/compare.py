"""Compare mermaidgen's JSON model with what mermaid.js parsed (the oracle's output).

Shared by `tests/test_conformance.py`, `tests/test_docs_corpus.py` and the scripts in this
folder. Nothing here imports mermaidgen: every function works on plain dicts, namely
mermaidgen's `to_dict(diagram)` (product.md section 4) and one decoded oracle record
(`../shared/tools/mermaid-oracle/README.md`).

The central idea is the *event stream*: mermaid keeps one flat, ordered list of messages,
notes, activations, block markers and autonumber changes (`events` in the oracle record).
`model_events` rebuilds that list from mermaidgen's nested statements and `oracle_events`
normalises the oracle's list, so the two can be compared item by item.
"""

from __future__ import annotations

import html.entities
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# -------------------------------------------------------------------------------------------
# Tables (mermaid-sequence-syntax.md section 6.1)
# -------------------------------------------------------------------------------------------

#: Each arrow, spelled as mermaidgen's `arrow` field spells it (lower-case), and the name of
#: the LINETYPE mermaid stores for it.
ARROW_LINETYPE: dict[str, str] = {
    "->": "SOLID_OPEN",
    "-->": "DOTTED_OPEN",
    "->>": "SOLID",
    "-->>": "DOTTED",
    "<<->>": "BIDIRECTIONAL_SOLID",
    "<<-->>": "BIDIRECTIONAL_DOTTED",
    "-x": "SOLID_CROSS",
    "--x": "DOTTED_CROSS",
    "-)": "SOLID_POINT",
    "--)": "DOTTED_POINT",
    "-|\\": "SOLID_TOP",
    "-|/": "SOLID_BOTTOM",
    "-\\\\": "STICK_TOP",
    "-//": "STICK_BOTTOM",
    "--|\\": "SOLID_TOP_DOTTED",
    "--|/": "SOLID_BOTTOM_DOTTED",
    "--\\\\": "STICK_TOP_DOTTED",
    "--//": "STICK_BOTTOM_DOTTED",
    "/|-": "SOLID_ARROW_TOP_REVERSE",
    "\\|-": "SOLID_ARROW_BOTTOM_REVERSE",
    "//-": "STICK_ARROW_TOP_REVERSE",
    "\\\\-": "STICK_ARROW_BOTTOM_REVERSE",
    "/|--": "SOLID_ARROW_TOP_REVERSE_DOTTED",
    "\\|--": "SOLID_ARROW_BOTTOM_REVERSE_DOTTED",
    "//--": "STICK_ARROW_TOP_REVERSE_DOTTED",
    "\\\\--": "STICK_ARROW_BOTTOM_REVERSE_DOTTED",
}
MESSAGE_TYPES = frozenset(ARROW_LINETYPE.values())

#: Block kind -> (start event, section separator event or None, end event).
BLOCK_EVENTS: dict[str, tuple[str, str | None, str]] = {
    "loop": ("LOOP_START", None, "LOOP_END"),
    "opt": ("OPT_START", None, "OPT_END"),
    "break": ("BREAK_START", None, "BREAK_END"),
    "rect": ("RECT_START", None, "RECT_END"),
    "alt": ("ALT_START", "ALT_ELSE", "ALT_END"),
    "par": ("PAR_START", "PAR_AND", "PAR_END"),
    "par_over": ("PAR_OVER_START", "PAR_AND", "PAR_END"),
    "critical": ("CRITICAL_START", "CRITICAL_OPTION", "CRITICAL_END"),
}
LABELLED_EVENTS = frozenset(e for start, sep, _ in BLOCK_EVENTS.values() for e in (start, sep) if e)
END_EVENTS = frozenset(end for _, _, end in BLOCK_EVENTS.values())
SINGLE_ACTOR_EVENTS = frozenset(
    {"ACTIVE_START", "ACTIVE_END", "CENTRAL_CONNECTION", "CENTRAL_CONNECTION_REVERSE"}
)

#: Oracle `central_connection` of a message -> mermaidgen's `central`.
CENTRAL_KIND: dict[str, str] = {
    "CENTRAL_CONNECTION": "receiver",
    "CENTRAL_CONNECTION_REVERSE": "sender",
    "CENTRAL_CONNECTION_DUAL": "both",
}
#: Oracle note placement -> mermaidgen's `placement`.
PLACEMENT: dict[str, str] = {"LEFTOF": "left of", "RIGHTOF": "right of", "OVER": "over"}
PLACEMENT_EVENT: dict[str, str] = {v: k for k, v in PLACEMENT.items()}

#: Keys that only say *where* something was written; ignored when two models are compared
#: for meaning (a flattened diagram and its multi-line twin).
POSITION_KEYS = frozenset({"line", "column", "end_line", "end_column", "source", "warnings"})

# -------------------------------------------------------------------------------------------
# Decoding entity codes
# -------------------------------------------------------------------------------------------

# With --raw the oracle keeps mermaid's private placeholders: `#35;` -> "ﬂ°°35¶ß" and
# `#quot;` -> "ﬂ°quot¶ß" (mermaid-sequence-syntax.md section 1, step 7).
_PLACEHOLDER = re.compile(r"ﬂ°(°?)(\w+)¶ß")


def decode_placeholders(text: str) -> str:
    """Turn mermaid's entity placeholders into the characters they stand for.

    Numeric codes become `chr(n)`; named codes become the HTML5 entity's text, and names
    HTML does not know stay as the author wrote them (`#foo;`), as mermaidgen keeps them.
    """

    def replace(match: re.Match[str]) -> str:
        numeric, body = match.groups()
        if numeric:
            try:
                return chr(int(body))
            except (ValueError, OverflowError):
                return f"#{body};"
        return html.entities.html5.get(body + ";", f"#{body};")

    return _PLACEHOLDER.sub(replace, text)


def rendered_entity_decoder(source: str) -> Callable[[str], str]:
    """A decoder for oracle output made *without* `--raw` (the docs corpus).

    Without `--raw` the oracle shows `#35;` as `&#35;` and `#quot;` as `&quot;`. Those can't
    be told apart from an `&amp;` the author typed, so only the codes that the diagram's
    source actually spells as `#...;` are decoded; every other `&...;` is left alone.
    """
    codes = set(re.findall(r"#(\w+);", source))

    def replace(match: re.Match[str]) -> str:
        body = match.group(1)
        if body not in codes:
            return match.group(0)
        return decode_placeholders(f"ﬂ°°{body}¶ß" if body.isdigit() else f"ﬂ°{body}¶ß")

    pattern = re.compile(r"&#?(\w+);")

    def decode(text: str) -> str:
        # `&#35;` and `&quot;` both match; the `#` only tells numeric codes apart, and a
        # numeric body is all digits anyway.
        return pattern.sub(replace, text)

    return decode


def decode_record(value: Any, decode: Callable[[str], str]) -> Any:
    """`value` with `decode` applied to every string in it (dict keys included)."""
    if isinstance(value, str):
        return decode(value)
    if isinstance(value, Mapping):
        return {decode(k): decode_record(v, decode) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [decode_record(v, decode) for v in value]
    return value


# -------------------------------------------------------------------------------------------
# The event stream
# -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One entry of mermaid's flat event list, reduced to what both sides can say."""

    type: str
    actors: tuple[str, ...] = ()
    text: str | None = None
    """Message or note text, or a block/section label; None for events without one."""
    extra: tuple[Any, ...] = ()
    """Note placement, or autonumber (start, step, visible)."""

    def __str__(self) -> str:
        parts = [self.type]
        if self.actors:
            parts.append("(" + ", ".join(self.actors) + ")")
        if self.text is not None:
            parts.append(repr(self.text))
        if self.extra:
            parts.append(repr(self.extra))
        return " ".join(parts)


def autonumber_key(start: Any, step: Any, visible: Any) -> tuple[Any, ...]:
    """Autonumber settings in one spelling: mermaid fills in step 1 when only a start is given."""
    if start is not None and step is None:
        step = 1
    return (start, step, bool(visible))


def oracle_events(record: Mapping[str, Any]) -> list[Event]:
    """The oracle's `events`, normalised."""
    out: list[Event] = []
    for e in record.get("events", []):
        kind = e["type"]
        if kind == "AUTONUMBER":
            a = e.get("autonumber", {})
            out.append(
                Event(kind, extra=autonumber_key(a.get("start"), a.get("step"), a.get("visible")))
            )
        elif kind == "NOTE":
            out.append(Event(kind, (e["from"], e["to"]), e.get("message"), (e.get("placement"),)))
        elif kind in MESSAGE_TYPES:
            out.append(Event(kind, (e["from"], e["to"]), e.get("message")))
        elif kind in SINGLE_ACTOR_EVENTS:
            out.append(Event(kind, (e.get("from", ""),)))
        elif kind in LABELLED_EVENTS:
            out.append(Event(kind, text=e.get("message", "")))
        else:  # block ends, and anything a newer mermaid might add
            out.append(Event(kind))
    return out


@dataclass
class ModelStream:
    """The event stream rebuilt from mermaidgen's statements, plus where `create` and
    `destroy` statements sit in it (mermaid reports them as an index into `events`)."""

    events: list[Event] = field(default_factory=list)
    created: set[tuple[str, int]] = field(default_factory=set)
    destroyed: set[tuple[str, int]] = field(default_factory=set)
    messages: list[Mapping[str, Any]] = field(default_factory=list)
    notes: list[Mapping[str, Any]] = field(default_factory=list)


def model_events(statements: Sequence[Mapping[str, Any]]) -> ModelStream:
    """Flatten mermaidgen's nested statements into mermaid's event order.

    message -> its LINETYPE, then ACTIVE_START (`+`, the receiver), ACTIVE_END (`-`, the
    sender), CENTRAL_CONNECTION (receiver) / CENTRAL_CONNECTION_REVERSE (sender) for `()`;
    note -> NOTE; activate/deactivate -> ACTIVE_START/ACTIVE_END; autonumber -> AUTONUMBER;
    block -> START(label of section 1), SEPARATOR(label) before every further section, END.
    """
    stream = ModelStream()
    _flatten(statements, stream)
    return stream


def _flatten(statements: Sequence[Mapping[str, Any]], stream: ModelStream) -> None:
    add = stream.events.append
    for st in statements:
        kind = st.get("type")
        if kind == "message":
            stream.messages.append(st)
            arrow = st.get("arrow", "")
            add(
                Event(
                    ARROW_LINETYPE.get(arrow, f"?arrow {arrow!r}"),
                    (st["from"], st["to"]),
                    st.get("text"),
                )
            )
            if st.get("activate"):
                add(Event("ACTIVE_START", (st["activate"],)))
            if st.get("deactivate"):
                add(Event("ACTIVE_END", (st["deactivate"],)))
            central = st.get("central")
            if central in ("receiver", "both"):
                add(Event("CENTRAL_CONNECTION", (st["to"],)))
            if central in ("sender", "both"):
                add(Event("CENTRAL_CONNECTION_REVERSE", (st["from"],)))
        elif kind == "note":
            stream.notes.append(st)
            who = list(st.get("participants", []))
            pair = (who[0], who[-1]) if who else ("", "")
            placement = PLACEMENT_EVENT.get(st.get("placement", ""), st.get("placement"))
            add(Event("NOTE", pair, st.get("text"), (placement,)))
        elif kind == "activate":
            add(Event("ACTIVE_START", (st["participant"],)))
        elif kind == "deactivate":
            add(Event("ACTIVE_END", (st["participant"],)))
        elif kind == "autonumber":
            add(
                Event(
                    "AUTONUMBER",
                    extra=autonumber_key(st.get("start"), st.get("step"), st.get("visible", True)),
                )
            )
        elif kind == "create":
            stream.created.add((st["participant"], len(stream.events)))
        elif kind == "destroy":
            stream.destroyed.add((st["participant"], len(stream.events)))
        elif kind == "block":
            start, separator, end = BLOCK_EVENTS.get(
                st.get("kind", ""), ("?block", "?section", "?end")
            )
            for i, section in enumerate(st.get("sections", [])):
                marker = start if i == 0 else (separator or f"?extra section of {st.get('kind')}")
                add(Event(marker, text=section.get("label", "")))
                _flatten(section.get("statements", []), stream)
            add(Event(end))
        else:
            add(Event(f"?statement {kind!r}"))


# -------------------------------------------------------------------------------------------
# Comparing one model with one oracle record
# -------------------------------------------------------------------------------------------


def _mismatch(where: str, expected: Any, got: Any) -> str:
    return f"{where}: expected {expected!r}, got {got!r}"


def default_wrap(config: Mapping[str, Any]) -> bool:
    """The wrap setting mermaid applies to texts without a `wrap:`/`nowrap:` prefix."""
    sequence = config.get("sequence") or {}
    if isinstance(sequence, Mapping) and "wrap" in sequence:
        return bool(sequence["wrap"])
    return bool(config.get("wrap", False))


def _check_wrap(where: str, explicit: Any, effective: Any, default: bool) -> list[str]:
    """mermaidgen records only an explicit prefix (True/False/None); mermaid the result."""
    expected_effective = default if explicit is None else explicit
    if effective is None or expected_effective == effective:
        return []
    return [
        f"{where}.wrap: mermaid wraps={effective!r}, but mermaidgen has wrap={explicit!r} "
        f"(default {default!r})"
    ]


def compare(model: Mapping[str, Any], oracle: Mapping[str, Any]) -> list[str]:
    """Every difference between mermaidgen's model and a decoded oracle record, one line
    each (empty when they agree)."""
    stream = model_events(model.get("statements", []))
    return [
        *compare_header(model, oracle),
        *compare_participants(model, oracle),
        *compare_boxes(model, oracle),
        *compare_messages(stream, oracle),
        *compare_notes(stream, oracle),
        *compare_events(stream.events, oracle_events(oracle)),
        *compare_lifecycle(stream, oracle),
    ]


def compare_header(model: Mapping[str, Any], oracle: Mapping[str, Any]) -> list[str]:
    """Title (when mermaid reports one), accessibility texts and config."""
    out = []
    if model.get("title") != oracle.get("title"):
        out.append(_mismatch("title", oracle.get("title"), model.get("title")))
    for key, theirs in (("acc_title", "accTitle"), ("acc_descr", "accDescription")):
        expected = oracle.get(theirs)
        got = model.get(key)
        if (expected or None) != (got or None):  # mermaid drops empty values
            out.append(_mismatch(key, expected, got))
    if (oracle.get("config") or {}) != (model.get("config") or {}):
        out.append(_mismatch("config", oracle.get("config") or {}, model.get("config") or {}))
    return out


def compare_participants(model: Mapping[str, Any], oracle: Mapping[str, Any]) -> list[str]:
    """Ids in display order, then label, kind, box, lifecycle flags, links, wrap per id."""
    out = []
    actors = oracle.get("actors", [])
    boxes = oracle.get("boxes", [])
    people = model.get("participants", [])
    expected_ids = [a["id"] for a in actors]
    got_ids = [p.get("id") for p in people]
    if expected_ids != got_ids:
        out.append(_mismatch("participant ids in display order", expected_ids, got_ids))
    by_id = {p.get("id"): p for p in people}
    wrap_default = default_wrap(oracle.get("config") or {})
    for actor in actors:
        p = by_id.get(actor["id"])
        if p is None:
            continue  # already reported by the id list
        where = f"participant {actor['id']!r}"
        box_index = actor.get("box")
        box_title = boxes[box_index].get("name") if box_index is not None else None
        checks = [
            ("label", actor.get("description"), p.get("label")),
            ("kind", actor.get("type"), p.get("kind")),
            ("box_index", box_index, p.get("box_index")),
            ("box", box_title, p.get("box")),
            ("created", "created" in actor, bool(p.get("created"))),
            ("destroyed", "destroyed" in actor, bool(p.get("destroyed"))),
            ("links", actor.get("links") or {}, p.get("links") or {}),
            ("properties", actor.get("properties") or {}, p.get("properties") or {}),
        ]
        out += [_mismatch(f"{where}.{name}", exp, got) for name, exp, got in checks if exp != got]
        out += _check_wrap(where, p.get("wrap"), actor.get("wrap"), wrap_default)
    return out


def box_color_matches(oracle_fill: str | None, model_color: str | None) -> bool:
    """mermaid reports `transparent` for a box without a valid colour; mermaidgen may say
    None (no colour given) or `transparent` (written so)."""
    if oracle_fill in (None, "transparent"):
        return model_color in (None, "transparent")
    return oracle_fill == model_color


def compare_boxes(model: Mapping[str, Any], oracle: Mapping[str, Any]) -> list[str]:
    """Boxes in order: title, colour, declared participants, wrap."""
    wrap_default = default_wrap(oracle.get("config") or {})

    def check(i: int, theirs: Mapping[str, Any], ours: Mapping[str, Any]) -> list[str]:
        where = f"boxes[{i}]"
        out = []
        if theirs.get("name") != ours.get("title"):
            out.append(_mismatch(f"{where}.title", theirs.get("name"), ours.get("title")))
        if not box_color_matches(theirs.get("fill"), ours.get("color")):
            out.append(_mismatch(f"{where}.color", theirs.get("fill"), ours.get("color")))
        if list(theirs.get("actors", [])) != list(ours.get("participants", [])):
            out.append(
                _mismatch(f"{where}.participants", theirs.get("actors"), ours.get("participants"))
            )
        if "wrap" in ours:
            out += _check_wrap(where, ours.get("wrap"), theirs.get("wrap"), wrap_default)
        return out

    return _items("boxes", oracle.get("boxes", []), model.get("boxes", []), check)


def _items(
    label: str,
    expected: Sequence[Any],
    got: Sequence[Any],
    check: Callable[[int, Any, Any], list[str]],
    limit: int = 8,
) -> list[str]:
    """Compare two lists item by item with `check`. When their lengths differ everything
    after the first differing item is probably shifted, so the report stops there."""
    out = []
    if len(expected) != len(got):
        out.append(_mismatch(f"number of {label}", len(expected), len(got)))
    for i, (theirs, ours) in enumerate(zip(expected, got, strict=False)):
        found = check(i, theirs, ours)
        out += found
        if found and len(expected) != len(got):
            break
    if len(out) > limit:
        out = out[:limit] + [f"... and {len(out) - limit} more differences in {label}"]
    return out


def compare_messages(stream: ModelStream, oracle: Mapping[str, Any]) -> list[str]:
    """Arrow messages in order: ends, text, arrow, activation flag, central kind, wrap."""
    wrap_default = default_wrap(oracle.get("config") or {})

    def check(i: int, theirs: Mapping[str, Any], ours: Mapping[str, Any]) -> list[str]:
        where = (
            f"messages[{i}] ({theirs.get('from')}->{theirs.get('to')}: {theirs.get('message')!r})"
        )
        central = ours.get("central")
        checks = [
            ("from", theirs.get("from"), ours.get("from")),
            ("to", theirs.get("to"), ours.get("to")),
            ("text", theirs.get("message"), ours.get("text")),
            (
                "arrow",
                theirs.get("type"),
                ARROW_LINETYPE.get(ours.get("arrow", ""), ours.get("arrow")),
            ),
            # mermaid's `activate` is set by `+` and by `()` at the receiver
            (
                "activate",
                bool(theirs.get("activate")),
                bool(ours.get("activate")) or central in ("receiver", "both"),
            ),
            ("central", CENTRAL_KIND.get(theirs.get("central_connection", "")), central),
        ]
        out = [_mismatch(f"{where}.{name}", exp, got) for name, exp, got in checks if exp != got]
        return out + _check_wrap(where, ours.get("wrap"), theirs.get("wrap"), wrap_default)

    return _items("messages", oracle.get("messages", []), stream.messages, check)


def compare_notes(stream: ModelStream, oracle: Mapping[str, Any]) -> list[str]:
    """Notes in order: placement, participants, text, wrap."""
    wrap_default = default_wrap(oracle.get("config") or {})

    def check(i: int, theirs: Mapping[str, Any], ours: Mapping[str, Any]) -> list[str]:
        where = f"notes[{i}] ({theirs.get('message')!r})"
        placement = PLACEMENT.get(theirs.get("placement", ""), theirs.get("placement"))
        actor = theirs.get("actor")
        who = [actor] if isinstance(actor, str) else list(actor or [])
        ours_who = list(ours.get("participants", []))
        if placement == "over" and len(ours_who) == 1:
            ours_who *= 2  # mermaid stores `over A` as [A, A]
        checks = [
            ("placement", placement, ours.get("placement")),
            ("participants", who, ours_who),
            ("text", theirs.get("message"), ours.get("text")),
        ]
        out = [_mismatch(f"{where}.{name}", exp, got) for name, exp, got in checks if exp != got]
        return out + _check_wrap(where, ours.get("wrap"), theirs.get("wrap"), wrap_default)

    return _items("notes", oracle.get("notes", []), stream.notes, check)


def compare_events(model: Sequence[Event], oracle: Sequence[Event], context: int = 3) -> list[str]:
    """The full ordered event stream; reports the first difference with some context."""
    if list(model) == list(oracle):
        return []
    first = next(
        (i for i, (a, b) in enumerate(zip(oracle, model, strict=False)) if a != b),
        min(len(model), len(oracle)),
    )
    lo = max(0, first - context)
    lines = [
        f"event stream differs at #{first} (mermaid has {len(oracle)} events, "
        f"mermaidgen {len(model)}):"
    ]
    for i in range(lo, max(len(model), len(oracle))):
        if i > first + context:
            lines.append("    ...")
            break
        theirs = str(oracle[i]) if i < len(oracle) else "(none)"
        ours = str(model[i]) if i < len(model) else "(none)"
        mark = "  " if theirs == ours else "!="
        lines.append(f"  {mark} #{i}: expected {theirs}")
        if theirs != ours:
            lines.append(f"         got      {ours}")
    return ["\n".join(lines)]


def compare_lifecycle(stream: ModelStream, oracle: Mapping[str, Any]) -> list[str]:
    """`create`/`destroy` statements sit where mermaid says (index into its events)."""
    out = []
    for key, got in (("created", stream.created), ("destroyed", stream.destroyed)):
        expected = {(a["id"], a[key]) for a in oracle.get("actors", []) if key in a}
        if expected != got:
            out.append(
                _mismatch(f"{key} participants as (id, event index)", sorted(expected), sorted(got))
            )
    return out


# -------------------------------------------------------------------------------------------
# Comparing two models (a flattened diagram and its multi-line twin)
# -------------------------------------------------------------------------------------------


def without_positions(value: Any) -> Any:
    """`value` without the keys that only locate things in the source (`POSITION_KEYS`)."""
    if isinstance(value, Mapping):
        return {k: without_positions(v) for k, v in value.items() if k not in POSITION_KEYS}
    if isinstance(value, list | tuple):
        return [without_positions(v) for v in value]
    return value


def diff_values(expected: Any, got: Any, path: str = "") -> Iterator[str]:
    """Readable differences between two JSON-like values, one per differing leaf."""
    if isinstance(expected, Mapping) and isinstance(got, Mapping):
        for key in sorted(set(expected) | set(got), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in got:
                yield f"{sub}: missing (expected {expected[key]!r})"
            elif key not in expected:
                yield f"{sub}: unexpected {got[key]!r}"
            else:
                yield from diff_values(expected[key], got[key], sub)
    elif isinstance(expected, list) and isinstance(got, list):
        if len(expected) != len(got):
            yield f"{path}: expected {len(expected)} items, got {len(got)}"
        for i, (a, b) in enumerate(zip(expected, got, strict=False)):
            yield from diff_values(a, b, f"{path}[{i}]")
    elif expected != got:
        yield _mismatch(path or "value", expected, got)
