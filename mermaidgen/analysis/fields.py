"""The fields a message carries, as the diagram writes them (notation: docs/fields.md).

`TripCompleted(km: float, duration)` carries `km` (a float) and `duration` (no type
written: the default, `str`). The text's own key and names never include the fields
(`contract.keys.split_fields`); here each field gets the Python type the generated
payloads declare, from a small documented set. A type outside the set is kept as written
for the reader, generated as the default, and reported by lint (`unknown-field-type`).
"""

from __future__ import annotations

import functools
import keyword
import re
from dataclasses import dataclass

from mermaidgen.contract.keys import split_fields

DEFAULT_TYPE = "str"
"""The type of a field written without one: every wire format carries text, and a
`str` the user narrows (in the diagram or in schema.py) is easier to find than an `Any`."""

# spelling (lower-cased) -> the Python type generated for it
SCALARS: dict[str, str] = {
    "str": "str", "string": "str", "text": "str",
    "int": "int", "integer": "int", "long": "int",
    "float": "float", "double": "float", "number": "float",
    "bool": "bool", "boolean": "bool",
    "decimal": "Decimal", "money": "Decimal",
    "datetime": "datetime", "timestamp": "datetime", "instant": "datetime",
    "date": "date",
    "uuid": "UUID", "guid": "UUID",
}
KNOWN_TYPES = ("str", "int", "float", "bool", "Decimal", "datetime", "date", "UUID",
               "list[T]", "T | None")
"""The documented spellings, for messages (the aliases above mean the same)."""
_LIST = re.compile(r"(?:list|array)\s*\[\s*(\w+)\s*\]|(\w+)\s*\[\s*\]", re.IGNORECASE)
_OPTIONAL = re.compile(r"(.+?)\s*(?:\?|\|\s*None)", re.IGNORECASE)

# names a generated payload class already uses (its class constants, pydantic's own
# attributes): a field written so is generated with a trailing `_`
_TAKEN = frozenset({"NAME", "CHANNEL", "KEY", "VERSION", "self", "cls", "event_type",
                    "payload"})


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a message."""

    name: str
    """As the diagram writes it: the name on the wire (`orderId`)."""
    attribute: str
    """The Python attribute (`orderId`; a keyword gets a `_`: `from` -> `from_`)."""
    type: str
    """The generated Python type: `str`, `Decimal`, `list[int]`, `UUID | None`, ..."""
    written: str | None
    """The type as written, or None when none was."""
    known: bool
    """False for a written type outside the documented set (generated as the default)."""


def python_type(written: str | None) -> tuple[str, bool]:
    """(the Python type a written type stands for, known?); `None` is the default."""
    if written is None:
        return DEFAULT_TYPE, True
    text = written.strip()
    optional = _OPTIONAL.fullmatch(text)
    if optional:
        inner, known = python_type(optional.group(1))
        return f"{inner} | None", known
    listed = _LIST.fullmatch(text)
    if listed:
        item = SCALARS.get((listed.group(1) or listed.group(2)).lower())
        return (f"list[{item}]", True) if item else (f"list[{DEFAULT_TYPE}]", False)
    scalar = SCALARS.get(text.lower())
    return (scalar, True) if scalar else (DEFAULT_TYPE, False)


def attribute(name: str) -> str:
    """A field name as a Python attribute: kept when it is one; else made one."""
    if name.isascii() and name.isidentifier() and not name.startswith("_") \
            and not keyword.iskeyword(name) and not keyword.issoftkeyword(name) \
            and name not in _TAKEN and not name.startswith("model_"):
        return name
    from mermaidgen.analysis.naming import snake

    base = snake(name, "field")
    return base if base.endswith("_") else base + "_"


@functools.lru_cache(maxsize=65536)
def fields_of(text: str, hop: bool = False) -> tuple[Field, ...] | None:
    """The fields a message text writes at its end (None: it writes none). A name given
    twice counts once, with its first type. `hop`: the message goes to or comes from a
    broker, where `Name (word)` names a topic (`split_fields`)."""
    _, found = split_fields(text, hop)
    if found is None:
        return None
    out: dict[str, Field] = {}
    taken: set[str] = set()
    for name, written in found:
        if name in out:
            continue
        kind, known = python_type(written)
        attr = attribute(name)
        while attr in taken:
            attr += "_"
        taken.add(attr)
        out[name] = Field(name, attr, kind, written, known)
    return tuple(out.values())


def merged(texts: list[tuple[str, bool]]) -> tuple[Field, ...]:
    """The fields of one message kind written on any of its texts (both hops of a
    broker event, every call of one operation), in first-written order; a field typed on
    one text and not on another keeps the type."""
    out: dict[str, Field] = {}
    for text, hop in texts:
        for f in fields_of(text, hop) or ():
            seen = out.get(f.name)
            if seen is None or (seen.written is None and f.written is not None):
                out[f.name] = f if seen is None else Field(
                    seen.name, seen.attribute, f.type, f.written, f.known)
    taken: set[str] = set()
    for name, f in list(out.items()):  # `from` on one text, `from_` on another
        attr = f.attribute
        while attr in taken:
            attr += "_"
        taken.add(attr)
        if attr != f.attribute:
            out[name] = Field(f.name, attr, f.type, f.written, f.known)
    return tuple(out.values())
