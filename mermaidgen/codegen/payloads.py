"""Typed payloads in generated code: the fields of a message as template values.

A message's fields (analysis/fields.py, docs/fields.md) become the attributes of its
generated class (a dataclass for python and temporal, a pydantic model for faststream),
refined by the user's schema.py (codegen/schema.py). Every value here is code already:
types from a fixed set, names that are identifiers, names on the wire as literals.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from mermaidgen.analysis.fields import Field
from mermaidgen.codegen.literals import comment, string

# the placeholder a generated default hook fills a field with (the main path runs with
# them; the user's hooks put real values)
_PLACEHOLDERS = {
    "str": '""', "int": "0", "float": "0.0", "bool": "False", "Decimal": "Decimal(0)",
    "datetime": "datetime(1970, 1, 1)", "date": "date(1970, 1, 1)",
    "UUID": "UUID(int=0)",
}
# name used in a type or a placeholder -> the module it is imported from
_MODULES = {"Decimal": "decimal", "datetime": "datetime", "date": "datetime",
            "UUID": "uuid"}


def placeholder(kind: str) -> str:
    """The code of a value of type `kind` that a default hook can send."""
    if kind.endswith(" | None"):
        return "None"
    if kind.startswith("list["):
        return "[]"
    return _PLACEHOLDERS[kind]


_NAME = re.compile(r"(?<![\w.])(" + "|".join(_MODULES) + r")\b")


def _names(code: str) -> set[str]:
    return set(_NAME.findall(code))


def imports(codes: Iterable[str]) -> list[str]:
    """`from decimal import Decimal` lines for the standard types `codes` use, sorted."""
    wanted: dict[str, set[str]] = {}
    for code in codes:
        for name in _names(code):
            wanted.setdefault(_MODULES[name], set()).add(name)
    return [f"from {module} import {', '.join(sorted(names))}"
            for module, names in sorted(wanted.items())]


def field_vars(fields: Iterable[Field]) -> list[dict]:
    """Fields as the templates print them."""
    return [{"attribute": f.attribute, "name_lit": string(f.name), "type": f.type,
             "placeholder": placeholder(f.type), "aliased": f.attribute != f.name}
            for f in fields]


def construct(class_code: str, fields: list[dict], indent: str) -> str:
    """`events.TripCompleted(km=0.0, duration="")`, one field a line."""
    if not fields:
        return f"{class_code}()"
    inner = "".join(f"{indent}    {f['attribute']}={f['placeholder']},\n" for f in fields)
    return f"{class_code}(\n{inner}{indent})"


def orchestration_messages(view, texts: list, replies_of, refinements,
                           reserved: tuple[str, ...]) -> tuple[
        list[dict], dict[tuple[str, str], str], dict[int, str]]:
    """The typed messages of an orchestration: a class per operation's request (its
    calls' fields) and per kind of reply (by event key; its texts' fields). Returns the
    classes as templates print them, (participant, operation) -> request class, and
    reply message index -> reply class. `replies_of`: per call, the replies the code
    waits for. `reserved`: names the module uses itself."""
    from mermaidgen.analysis.fields import merged
    from mermaidgen.analysis.naming import NameTable, pascal
    from mermaidgen.codegen.schema import refine
    from mermaidgen.contract.keys import event_key, strip_fields

    names = NameTable(reserved + ("Message",))
    written: dict[str, list[int]] = {}  # class -> the messages whose texts give its fields
    comments: dict[str, str] = {}
    requests: dict[tuple[str, str], str] = {}
    replies: dict[int, str] = {}
    for service in view.services:
        for op in service.operations:
            cls = names.name(("request", service.participant, op.name),
                             pascal(strip_fields(op.request), "Request"))
            requests[(service.participant, op.name)] = cls
            written.setdefault(cls, []).extend(op.calls)
            comments.setdefault(cls, f"{strip_fields(op.request)}: what "
                                f"{service.participant}.{op.name} is asked")
            for call in op.calls:
                for r in replies_of[call]:
                    text = texts[r].text
                    reply = names.name(("reply", event_key(text)),
                                       pascal(strip_fields(text), "Reply"))
                    replies[r] = reply
                    written.setdefault(reply, []).append(r)
                    comments.setdefault(reply, f"{strip_fields(text)}: a reply to "
                                        f"{service.participant}.{op.name}")
    classes = []
    for cls, indexes in written.items():
        fields = refine(cls, merged([(texts[i].text, False) for i in dict.fromkeys(indexes)]),
                        refinements)
        classes.append({"class_name": cls, "comment": comment(comments[cls]),
                        "lines": ", ".join(str(texts[i].span.line)
                                           for i in sorted(set(indexes))[:10]),
                        "fields": field_vars(fields)})
    return classes, requests, replies
