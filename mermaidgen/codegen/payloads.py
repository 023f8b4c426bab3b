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
from mermaidgen.codegen.literals import string

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
