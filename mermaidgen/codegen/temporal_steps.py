"""A participant's own steps in the Temporal target, typed like its calls.

A self-message (`Orders->>Orders: Validate order(orderId: UUID)`) runs as an activity of
the participant. Its request class holds the fields its text writes; its result class
holds none the diagram writes (schema.py may add some). Both go to messages.py beside
the message classes; the workflow keeps the result under the step's name.
"""

from __future__ import annotations

import ast

from mermaidgen.analysis.fields import merged
from mermaidgen.analysis.naming import NameTable, pascal
from mermaidgen.codegen.context import RESERVED_CLASS_NAMES
from mermaidgen.codegen.literals import comment, string
from mermaidgen.codegen.payloads import construct, field_vars, imports
from mermaidgen.codegen.schema import Refinements, refine
from mermaidgen.contract.keys import strip_fields


def step_classes(ctx: dict, texts: list, refinements: Refinements | None
                  ) -> dict[tuple[str, str], dict]:
    """A participant's own steps typed like its calls (messages.py): each takes a request
    class, with the fields its text writes (`Validate order(orderId: UUID)`), and returns
    a result class, with none the diagram writes (schema.py may add some), which the
    workflow keeps under the step's name. A step whose request has fields gets a
    `request_*` hook in the workflow that builds it; one without is built in place.
    Returns (participant literal, step hook) -> what its ops and its activity need."""
    names = NameTable(RESERVED_CLASS_NAMES + ("Message", "ClassVar")
                      + tuple(c["class_name"] for c in ctx["message_classes"])
                      + tuple(c["class_name"] for c in ctx["result_classes"]))
    w = ctx["orchestrator"]
    classes: list[dict] = []
    defaults: list[str] = []
    types: dict[tuple[str, str], dict] = {}
    for p in [w] + ctx["services"]:
        bodies = [w["ops"]] if p is w else [v["ops"] for o in p["operations"]
                                             for v in o["variants"]]
        first: dict[str, int] = {}  # step hook -> its message (the first drawn)
        for ops in bodies:
            for op in ops:
                if op["op"] == "step":
                    first.setdefault(op["hook"], op["message"])
        hook_names = NameTable(tuple(h["name"] for h in p["hooks"])
                               + tuple(o["name"] for o in p.get("operations", [])))
        owner = ast.literal_eval(p["id_lit"])
        hooks: list[dict] = []
        for h in p["hooks"]:
            if h["kind"] != "step" or h["name"] not in first:
                hooks.append(h)
                continue
            message = first[h["name"]]
            text = texts[message].text
            request = names.name(("step", owner, h["name"]), pascal(strip_fields(text), "Step"))
            result = names.name(("step_result", owner, h["name"]), request + "Result")
            line = str(texts[message].span.line)
            fields = field_vars(refine(request, merged([(text, False)]), refinements))
            result_fields = field_vars(refine(result, (), refinements))
            classes += [
                {"class_name": request, "lines": line, "fields": fields,
                 "comment": comment(f"{strip_fields(text)}: what {owner} takes as its own "
                                    "step")},
                {"class_name": result, "lines": line, "fields": result_fields,
                 "comment": comment(f"{strip_fields(text)}: what {owner}'s own step "
                                    "returns")}]
            result_default = construct(f"messages.{result}", result_fields, "        ")
            defaults.append(result_default)
            code = construct(f"messages.{request}", [], "")
            if fields:  # built by a hook of the workflow, as a call's request is
                asks = dict(h, name=hook_names.name(("request", h["name"]),
                                                   "request_" + h["name"]),
                            kind="payload", runs="workflow", returns=f"messages.{request}",
                            note=comment(f"what its own step {strip_fields(text)} takes"),
                            default_code=construct(f"messages.{request}", fields, "        "))
                defaults.append(asks["default_code"])
                hooks.append(asks)
                code = f"self.{asks['name']}(ctx)"
            hooks.append(dict(h, returns=f"messages.{result}", default_code=result_default))
            types[(p["id_lit"], h["name"])] = {
                "request_class": request, "result_class": result, "request": code,
                "result_lit": string(f"{owner}.{h['name']}")}
        p["hooks"] = hooks
    ctx["message_classes"] = ctx["message_classes"] + classes
    ctx["message_imports"] = merged_imports(
        ctx["message_imports"], imports(f["type"] for c in classes for f in c["fields"]))
    ctx["payload_imports"] = merged_imports(ctx["payload_imports"], imports(defaults))
    ctx["schema_classes"] = ctx["schema_classes"] + [
        {"class_name": c["class_name"],
         "fields": [f"{f['attribute']}: {f['type']}" for f in c["fields"]]} for c in classes]
    return types


def merged_imports(*groups: list[str]) -> list[str]:
    """`from m import a, b` lines (payloads.imports) of several groups as one, sorted."""
    wanted: dict[str, set[str]] = {}
    for line in (line for group in groups for line in group):
        module, names = line.removeprefix("from ").split(" import ")
        wanted.setdefault(module, set()).update(names.split(", "))
    return [f"from {module} import {', '.join(sorted(names))}"
            for module, names in sorted(wanted.items())]
