"""The user's schema.py: refinements of the fields the diagram writes.

`<package>/schema.py` is created once and never overwritten. A class in it named like a
generated message class lists fields as annotations; mermaidgen reads them (with `ast`,
it never runs the file) on every `generate`: an annotation of a field the diagram writes
refines its type, any other adds a field. Types are those of docs/fields.md, so that the
generated modules, which import only the standard library, can name them.
"""

from __future__ import annotations

import ast
from dataclasses import replace

from mermaidgen.analysis.fields import Field, attribute, python_type
from mermaidgen.errors import MermaidgenError

Refinements = dict[str, tuple[Field, ...]]
"""Class name -> the fields schema.py gives it, in its order."""


def read(text: str | None, path: str = "schema.py") -> Refinements:
    """The refinements in the text of a schema.py (none for None)."""
    if not text:
        return {}
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as error:
        raise MermaidgenError(
            f"{path}:{error.lineno}:{error.offset}: {error.msg}; mermaidgen reads this file "
            "to refine the payload classes: fix it (or empty it) and generate again") from None
    found: Refinements = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        fields: list[Field] = []
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                written = ast.unparse(item.annotation)
                kind, known = python_type(written)
                name = item.target.id
                fields.append(Field(name, attribute(name), kind, written, known))
        found[node.name] = tuple(fields)
    return found


def refine(class_name: str, fields: tuple[Field, ...],
           refinements: Refinements | None) -> tuple[Field, ...]:
    """The diagram's fields of one class with schema.py's refinements: a field named in
    both takes schema.py's type; schema.py's other fields follow the diagram's."""
    extra = (refinements or {}).get(class_name)
    if not extra:
        return fields
    by_name = {f.name: f for f in extra}
    out = [replace(f, type=by_name[f.name].type, written=by_name[f.name].written,
                   known=by_name[f.name].known) if f.name in by_name else f for f in fields]
    taken = {f.name for f in fields}
    attributes = {f.attribute for f in fields}
    for f in extra:
        if f.name not in taken:
            attr = f.attribute
            while attr in attributes:
                attr += "_"
            attributes.add(attr)
            out.append(replace(f, attribute=attr))
    return tuple(out)


def template(classes: list[tuple[str, tuple[Field, ...]]]) -> list[dict]:
    """What the created schema.py shows: each class with its fields, commented out."""
    return [{"class_name": name,
             "fields": [f"{f.name}: {f.type}" for f in fields]} for name, fields in classes]
