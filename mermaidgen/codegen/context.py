"""The template context: everything a template set may print, prepared in Python.

This is a documented, versioned contract (`CONTEXT_VERSION`, docs/template-context.md):
custom template sets rely on it. Every name in it is a safe identifier and every text
either a Python string literal (`*_lit`) or a sanitised one-line comment (`*_comment`);
templates only loop and print.
"""

from __future__ import annotations

import hashlib
import json

from mermaidgen import __version__
from mermaidgen.analysis import Analysis
from mermaidgen.analysis.message_names import message_names
from mermaidgen.analysis.naming import NameTable, constant, kebab, pascal, snake
from mermaidgen.analysis.paths import DEFAULT_CAPABILITIES, Capabilities
from mermaidgen.codegen.literals import comment, literal, string
from mermaidgen.codegen.ops import Flattener
from mermaidgen.codegen.paths import add_paths, broker_pars, reply_deciders, with_fail_points
from mermaidgen.codegen.payloads import (
    construct,
    field_vars,
    imports,
    orchestration_messages,
)
from mermaidgen.codegen.sagas import (
    fail_at_sent_steps,
    register_compensations,
    sent_steps,
    undone_steps,
)
from mermaidgen.codegen.schema import Refinements, refine
from mermaidgen.contract import contract_of
from mermaidgen.contract.keys import strip_fields
from mermaidgen.model import messages
from mermaidgen.projection import choreography_of, orchestration_of
from mermaidgen.projection.contract import projected

CONTEXT_VERSION = 6

CONTEXT_CHANGES: dict[int, str] = {
    1: "had `has_options` on `except` ops and no `choices`",
    2: "kept every call's result in `ctx.data[\"result\"]`, had no `choose_reply` op (an "
       "`alt` its replies decide came as `choose`) and a loop's `limit` was always the "
       "number 100",
    3: "had no typed payloads: events had no `fields`, a choreography `payload` hook "
       "returned a `dict` that the `publish` op wrapped in its event class, `wiring.any` was "
       "true for every `payload` or `signal` hook, `request_*` hooks returned dicts, and "
       "reply hooks returned `Result(reply=0)` with no `reply_enums` nor `message_classes`",
    4: "had no sagas in the python target's orchestration: its `call` and `send` ops had no "
       "`undone_by` nor `request_var` and no `compensate` nor `undo_case` ops came, so its "
       "templates ran a saga's compensations as drawn, where version 5 registers a "
       "compensation as each step is taken and undoes the steps taken, the last first "
       "(docs/semantics.md, \"Sagas\")",
    5: "had no sagas in the choreography: no `if_sent` ops, no `saga_steps` on services "
       "and no `fail_hook` on a choreography's `try`, so its templates sent a saga's "
       "compensations as drawn, where version 6 sends a compensation only if the step it "
       "undoes was sent (docs/semantics.md, \"Sagas\")",
}
"""What each version had that the next one changed, by version: shown on
docs/template-context.md (its `context_version` row, which a test keeps equal to this) and
printed, from the set's version on, when `generate` uses a set exported for an older one."""


# ops that send nothing and call no hook: an entry made only of them starts nothing (a
# `par` whose branches hold only notes would leave start()'s `ctx` unused: ruff F841)
_SENDS_NOTHING = frozenset({"note", "pass", "par_branch", "par_join", "nested", "run_nested"})

def _arrow(sender: str, arrow: str, receiver: str, text: str) -> str:
    return comment(f"{sender}{arrow}{receiver}: {text}")


def common(analysis: Analysis, style: str, target: str, package: str,
           source_text: str) -> dict:
    """The keys every template set gets, whatever the style."""
    diagram = analysis.diagram
    contract_diagram = projected(analysis, style)
    try:
        from mermaidgen.mermaid.emit import to_mermaid
        contract_mermaid = to_mermaid(contract_diagram)
    except Exception:  # a diagram with names Mermaid cannot write back
        contract_mermaid = ""
    participants = [
        {"id_lit": string(p.id), "id_comment": comment(p.id), "module": analysis.module_names
         .get(p.id, snake(p.id)), "label_lit": string(p.label),
         # another `type` in a participant's metadata is drawn as a plain participant
         "kind": p.kind if p.kind in PARTICIPANT_KINDS else "participant"}
        for p in diagram.participants
    ]
    return {
        "context_version": CONTEXT_VERSION,
        "generator": f"mermaidgen {__version__}",
        "style": style,
        "target": target,
        "package": package,
        "project": kebab(package, "service-skeleton"),
        "title_comment": comment(diagram.title or package),
        "title_lit": string(diagram.title or package),
        "source_comment": comment(diagram.source or "<text>"),
        "source_sha256": hashlib.sha256(source_text.encode("utf-8", "replace")).hexdigest(),
        "participants": participants,
        # the flat form: two levels deep however deep the diagram nests (a nested literal
        # grows quadratically with the depth, and Python refuses it past ~200 levels)
        "contract_literal": literal(contract_of(
            contract_diagram, stream=True,
            relays=analysis.brokers if style == "choreography" else ())),
        "contract_mermaid_lit": string(contract_mermaid),
        "contract_title_comment": comment(contract_diagram.title or ""),
    }


# the participant types mermaid draws (syntax reference, participants)
PARTICIPANT_KINDS = frozenset({"participant", "actor", "boundary", "control", "entity",
                               "database", "collections", "queue"})

# Names the events modules of every target define or import next to the event classes
RESERVED_CLASS_NAMES = ("Event", "Any", "ClassVar", "dataclass", "field", "annotations",
                        "BaseModel", "ConfigDict", "Field", "Annotated", "Literal",
                        "channels")


def _event_classes(events) -> dict[str, str]:
    """Event key -> class name; an event called like a name the events module itself uses
    (an event called `Event`) becomes `EventMessage`."""
    table = NameTable(RESERVED_CLASS_NAMES)
    return {e.key: table.name(e.key, e.class_name + "Message"
                              if e.class_name in RESERVED_CLASS_NAMES else e.class_name)
            for e in events}


def _message_table(analysis: Analysis) -> list[dict]:
    """Every message, with the name code calls it by (`Message.ORDER_CONFIRMED`, see
    analysis/message_names.py): an index would change with every edit of the diagram."""
    names = message_names([m.occurrence for m in analysis.messages], analysis.event_keys,
                          analysis.items)
    return [
        {"index": i, "name": names[i], "sender_lit": string(m.sender),
         "receiver_lit": string(m.receiver), "text_lit": string(m.text), "line": m.span.line,
         "comment": _arrow(m.sender, m.arrow, m.receiver, m.text)}
        for i, m in enumerate(messages(analysis.diagram))
    ]


def choreography(analysis: Analysis, package: str, source_text: str,
                 target: str = "python", refinements: Refinements | None = None,
                 capabilities: Capabilities = DEFAULT_CAPABILITIES) -> dict:
    ctx = common(analysis, "choreography", target, package, source_text)
    table = _message_table(analysis)
    describe = (lambda i: table[i]["comment"])  # noqa: E731
    view = choreography_of(analysis)
    classes = _event_classes(view.events)
    events = [
        {"class_name": classes[e.key], "name_lit": string(e.name), "name_comment": comment(e.name),
         "channel_lit": string(e.channel), "key_lit": string(e.key),
         "producers_comment": comment(", ".join(e.producers)),
         "consumers_comment": comment(", ".join(e.consumers)),
         "lines": ", ".join(map(str, e.lines[:10])),
         "fields": field_vars(refine(classes[e.key], e.fields, refinements))}
        for e in view.events
    ]
    for e in events:
        e["schema_version_lit"] = string(schema_version(e["fields"]))
    fields_of_class = {e["class_name"]: e["fields"] for e in events}
    # deliveries: per publish, the hops a broker makes to each consumer
    deliveries = {i: list(hops) for i, hops in enumerate(analysis.hops.deliveries) if hops}
    # publishes whose deliveries start a par's sections, the deliveries by name
    fanned = {publish: (line, label, [(name, [table[h]["name"] for h in hops])
                                      for name, hops in sections])
              for publish, (line, label, sections)
              in broker_pars(analysis.diagram, deliveries).items()} \
        if capabilities.reorders_par else {}
    services = []
    payload_hooks: dict[str, str] = {}  # event key -> the hook that fills it
    for s in view.services:
        # a break in a section of an alt, opt or critical ends that section only
        # (docs/semantics.md, "break"), in a handler as in the workflow
        flat = Flattener(describe, reorders_par=capabilities.reorders_par,
                         sections_break=True)
        handlers = []
        for h in s.handlers:
            groups: dict[str, dict] = {}  # places that do the same share a body
            single = len(h.cases) == 1
            for case in h.cases:
                ops = _publishes(flat.flatten(case.actions, 0 if single else 1,
                                              may_be_empty=single),
                                 classes, payload_hooks, flat, fanned)
                group = groups.setdefault(_shape(ops, table), {
                    "messages": [], "ops": ops, "comment": describe(case.trigger),
                    "line": case.line})
                group["messages"].append(case.trigger)
            cases = list(groups.values())
            if len(cases) == 1 and not single:
                cases[0]["ops"] = _dedent(cases[0]["ops"])
            # the last `elif message == ...:` around a lone `if`: meant (SIM102)
            body = [op for op in cases[-1]["ops"] if op["indent"] == 1 and op["op"] != "note"]
            if len(cases) > 1 and len(body) == 1 and body[0]["op"] in ("if_hook", "if_sent"):
                cases[-1]["noqa"] = "SIM102"
            handlers.append({"name": h.name, "messages": [c.trigger for c in h.cases],
                             "event_class": classes.get(h.event, "Event"), "line": h.line,
                             "comment": describe(h.cases[0].trigger), "cases": cases,
                             "single": len(cases) == 1})
        entry = _publishes(flat.flatten(s.entry, 0), classes, payload_hooks, flat, fanned) \
            if s.entry else []
        if all(op["op"] in _SENDS_NOTHING for op in entry):
            entry = []  # only notes (in blocks): nothing to start; such a start() lints badly
        joins = [{"name": j.name, "arrivals": j.arrivals, "line": j.line,
                  "comment": f"after the {j.after_section}" if j.after_section
                  else "every path of the par has arrived" if j.after_par
                  else "every event joined here has arrived, in whichever order",
                  "ops": _publishes(flat.flatten(j.actions, 0), classes, payload_hooks, flat,
                                    fanned)}
                 for j in s.joins]
        timers = [{"name": t.name, "line": t.line,
                   "ops": _publishes(flat.flatten(t.actions, 0), classes, payload_hooks, flat,
                                     fanned)}
                  for t in s.timers]
        services.append({
            "id_lit": string(s.participant), "id_comment": comment(s.participant),
            "module": s.name, "class_name": s.class_name, "base_name": f"{s.class_name}Base",
            "entry": entry, "handlers": handlers, "joins": joins, "timers": timers,
            "hooks": [vars_of(h) for h in flat.all_hooks],
            "publishes_comment": comment(", ".join(classes[k] for k in s.publishes
                                                    if k in classes)),
        })
    # sagas: the compensations a service sends only if their steps were; a path fails
    # the last step of a main section, after the others were sent
    texts = {i: strip_fields(m.text) for i, m in enumerate(messages(analysis.diagram))}
    for s in services:
        op_lists = [s["entry"], *(c["ops"] for h in s["handlers"] for c in h["cases"]),
                    *(j["ops"] for j in [*s["joins"], *s["timers"]])]
        steps = sent_steps(op_lists)
        s["saga_steps"] = [table[i]["name"] for i in steps]
        for ops in op_lists:
            ops[:] = fail_at_sent_steps(ops, steps, texts)
            for op in ops:
                if op["op"] == "forget_sent":
                    names = [f"Message.{table[i]['name']}" for i in op.pop("steps")]
                    op["steps_code"] = f"({', '.join(names)}{',' if len(names) == 1 else ''})"
    hook_events = {hook: classes.get(key, "Event") for key, hook in payload_hooks.items()}
    for s in services:
        for h in s["hooks"]:
            if h["name"] in hook_events:  # it returns the event it fills, typed
                cls = hook_events[h["name"]]
                h["returns"] = f"events.{cls}"
                h["default_code"] = construct(f"events.{cls}", fields_of_class.get(cls, []),
                                              "        ")
    for s in services:
        _safe(s["entry"])
        for h in s["handlers"]:
            for c in h["cases"]:
                _safe(c["ops"])
        for j in [*s["joins"], *s["timers"]]:
            _safe(j["ops"])
    all_ops = ([op for s in services for op in s["entry"]]
               + [op for s in services for h in s["handlers"] for c in h["cases"]
                  for op in c["ops"]]
               + [op for s in services for j in [*s["joins"], *s["timers"]]
                  for op in j["ops"]])
    uses = _uses(services, all_ops)
    uses["message"] = name_messages(all_ops, table) or any(s["handlers"] for s in services)
    uses["events"] = any(s["handlers"] for s in services) \
        or any(op["op"] == "publish" for op in all_ops)
    ctx.update({
        "wiring": uses,
        "messages": table,
        "events": events,
        "deliveries": [{"publish": k, "hops": v} for k, v in deliveries.items()],
        "brokers_literal": "{" + ", ".join(string(b) for b in analysis.brokers) + "}"
        if analysis.brokers else "set()",
        "services": services,
        "starters": [s["class_name"] for s in services if s["entry"]],
        "schema_classes": [{"class_name": e["class_name"],
                            "fields": [f"{f['attribute']}: {f['type']}" for f in e["fields"]]}
                           for e in events],
        # the standard types the payload classes use, and the default hooks' placeholders
        "event_imports": imports(f["type"] for e in events for f in e["fields"]),
        "payload_imports": imports(h["default_code"] for s in services for h in s["hooks"]
                                   if h["default_code"]),
    })
    # a critical whose main section does not start with a step of the service's (a par
    # no hook orders, a nested critical) fails at `self.enter_critical(line)` on the
    # paths of its options
    for s in services:
        s["entry"] = with_fail_points(s["entry"], deep=False)
        for h in s["handlers"]:
            for c in h["cases"]:
                c["ops"] = with_fail_points(c["ops"], deep=False)
        for j in s["joins"]:
            j["ops"] = with_fail_points(j["ops"], deep=False)
    add_paths(ctx, analysis, capabilities, [
        {"base_name": s["base_name"], "hooks": s["hooks"],
         "op_lists": [s["entry"], *(c["ops"] for h in s["handlers"] for c in h["cases"]),
                      *(j["ops"] for j in s["joins"])]}
        for s in services], choreography=True)
    return ctx


def schema_version(fields: list[dict]) -> str:
    """A version of what an event carries: a digest of its fields' names and types, so
    that it changes exactly when they do (a diagram or schema.py edit), with no counter
    for anyone to forget to bump."""
    shape = json.dumps([[f["name_lit"], f["type"]] for f in fields])
    return hashlib.sha256(shape.encode()).hexdigest()[:8]


def _publishes(ops: list[dict], classes: dict[str, str], payload_hooks: dict[str, str],
               flat: Flattener, fanned: dict | None = None) -> list[dict]:
    """Give each publish op its event class and the payload hook that fills it; and one
    whose broker deliveries start a `par`'s sections (`fanned`: codegen/paths.py's
    `broker_pars`, given where the runtime delivers in the order a hook gives) the
    `order` hook of that par, and per section the deliveries that start it."""
    for op in ops:
        if op["op"] == "publish":
            cls = classes.get(op["event"], "Event")
            hook = flat.hook(("payload", op["event"]), "payload_" + snake(cls, "event"),
                             "payload", op["line"], f"what {cls} carries")
            payload_hooks[op["event"]] = hook.name
            op["event_class"] = cls
            op["hook"] = hook.name
            if fanned and op["message"] in fanned:
                line, label, sections = fanned[op["message"]]
                order = flat.order_hook(line, label, [name for name, _ in sections])
                op["order_hook"] = order.name
                op["sections"] = list(order.branches)
                op["section_hops"] = [hops for _, hops in sections]
    return ops


def vars_of(hook) -> dict:
    return {"name": hook.name, "kind": hook.kind, "line": hook.line, "note": hook.note,
            "branches": list(hook.branches), "first_branch_lit": string(hook.branches[0])
            if hook.branches else "None", "branch_lits": [string(b) for b in hook.branches],
            "seconds": hook.seconds,
            # a payload hook's typed result and its default (None: a plain dict)
            "returns": None, "default_code": None}


def orchestration(analysis: Analysis, package: str, source_text: str,
                  target: str = "python", refinements: Refinements | None = None,
                  capabilities: Capabilities = DEFAULT_CAPABILITIES) -> dict:
    ctx = common(analysis, "orchestration", target, package, source_text)
    diagram = analysis.diagram
    table = _message_table(analysis)
    describe = (lambda i: table[i]["comment"])  # noqa: E731
    view = orchestration_of(analysis)
    orchestrator = view.orchestrator
    replies: dict[int, list[int]] = {}

    workflow_flat = Flattener(describe, deadlines=True,
                              reorders_par=capabilities.reorders_par, sections_break=True)
    workflow_ops = workflow_flat.flatten(view.workflow, 0)
    _calls(workflow_ops, workflow_flat, replies)
    signals: dict[str, list[dict]] = {}
    for op in workflow_ops:
        if op["op"] == "await":
            signals.setdefault(op["service"], []).append(op)

    operations_of = {s.participant: s for s in view.services}
    texts = messages(diagram)
    services = []
    # one enum per operation that has replies: `ChargeCardReply.PAYMENT_DECLINED`, never
    # an index, in the code a user writes (the wiring module defines them)
    enum_names = NameTable(_WIRING_NAMES)
    reply_enums: list[dict] = []
    reply_defaults: dict[tuple[str, str], str] = {}
    reply_payloads: dict[tuple[str, str], str] = {}
    # typed messages: a class per operation's request and per kind of reply
    replies_of = view.replies or analysis.roles.replies  # the replies the code waits for
    message_classes, request_classes, reply_classes = orchestration_messages(
        view, texts, replies_of, refinements, RESERVED_CLASS_NAMES)
    fields_of_class = {c["class_name"]: c["fields"] for c in message_classes}
    for p in diagram.participants:
        pid = p.id
        if pid == orchestrator or pid in analysis.brokers:
            continue
        module = analysis.module_names[pid]
        class_name = pascal(module, "Service")
        answered = getattr(operations_of.get(pid), "operations", ())
        # hooks are methods of the same class as the operations: `reply_quote` may be an
        # operation, then the reply hook of `quote` is named otherwise
        flat = Flattener(describe, NameTable(tuple(op.name for op in answered)),
                         reorders_par=capabilities.reorders_par, sections_break=True)
        operations = []
        for op in answered:
            groups: dict[str, dict] = {}  # call sites that do the same thing share a body
            for v in op.variants:
                single = len(op.variants) == 1
                ops = flat.flatten(v.actions, 0 if single else 1, may_be_empty=single)
                _calls(ops, flat, replies)
                group = groups.setdefault(_shape(ops, table), {
                    "messages": [], "ops": ops, "comment": describe(v.call)})
                group["messages"].append(v.call)
            variants = list(groups.values())
            if len(variants) == 1 and len(op.variants) > 1:  # same body everywhere
                variants[0]["ops"] = _dedent(variants[0]["ops"])
            answers = replies_of[op.calls[0]]
            enum = _reply_enum(enum_names, class_name, op.name, op.request,
                               [texts[r] for r in answers]) if answers else None
            which = f" (one of {enum['class_name']})" if enum and len(answers) > 1 else ""
            hook = flat.hook(("reply", op.name), "reply_" + op.name, "reply", op.lines[0],
                             f"how {strip_fields(op.request)} is answered{which}")
            if enum:
                reply_enums.append(enum)
                reply_defaults[(pid, hook.name)] = f"{enum['class_name']}." \
                    f"{enum['members'][0]['name']}"
                first = reply_classes[answers[0]]
                reply_payloads[(pid, hook.name)] = construct(
                    f"messages.{first}", fields_of_class[first], "            ")
            operations.append({
                "name": op.name, "comment": comment(op.request), "line": op.lines[0],
                "variants": variants, "single": len(variants) <= 1, "reply_hook": hook.name,
                "calls": list(op.calls),
                # typed messages: what it is asked; the class of each reply its enum
                # names (the first call's, by index); every class any of its calls'
                # replies carries
                "request_class": request_classes.get((pid, op.name)),
                "reply_classes": [reply_classes[r] for r in answers if r in reply_classes],
                "payload_classes": list(dict.fromkeys(
                    reply_classes[r] for call in op.calls
                    for r in replies_of[call] if r in reply_classes)),
            })
        signal_hooks = []
        for op in signals.get(pid, []):
            hook = flat.hook(("signal", op["message"]),
                             "signal_" + snake(strip_fields(texts[op["message"]].text), "signal"),
                             "signal", op["line"], op["comment"])
            signal_hooks.append({"message": op["message"], "hook": hook.name})
        hooks = [vars_of(h) for h in flat.all_hooks]
        for h in hooks:
            h["reply_default"] = reply_defaults.get((pid, h["name"]))
            h["reply_payload"] = reply_payloads.get((pid, h["name"]))
        services.append({
            "id_lit": string(pid), "id_comment": comment(pid), "module": module,
            "class_name": class_name, "base_name": f"{class_name}Base",
            "operations": operations, "signals": signal_hooks,
            "hooks": hooks,
        })
    name = view.name
    class_name = pascal(name, "Workflow")
    if not class_name.endswith("Workflow"):
        class_name += "Workflow"
    trigger = None
    if view.trigger is not None:
        trigger = {"message": view.trigger, "comment": describe(view.trigger)}
    all_ops = list(workflow_ops) + [op for s in services for o in s["operations"]
                                    for v in o["variants"] for op in v["ops"]]
    # request hooks return their operation's request class, built with placeholders
    asked = {op["hook"]: request_classes[(op["service"], op["operation"])] for op in all_ops
             if op["op"] in ("call", "send")
             and (op["service"], op["operation"]) in request_classes}
    workflow_hooks = [vars_of(h) for h in workflow_flat.all_hooks]
    typed_defaults: list[str] = []
    for h in workflow_hooks + [h for s in services for h in s["hooks"]]:
        h.setdefault("reply_default", None)
        h.setdefault("reply_payload", None)
        if h["kind"] == "payload" and h["name"] in asked:
            cls = asked[h["name"]]
            h["returns"] = f"messages.{cls}"
            h["default_code"] = construct(h["returns"], fields_of_class[cls], "        ")
        typed_defaults += [code for code in (h["default_code"], h["reply_payload"]) if code]
    _safe(all_ops)
    uses = _uses(services + [{"hooks": workflow_hooks}], all_ops)
    uses["call"] = any(s["operations"] for s in services)
    uses["message"] = name_messages(all_ops, table) or any(
        not o["single"] for s in services for o in s["operations"])
    uses["context"] = True  # the workflow's run() takes one, whatever the diagram
    ctx.update({
        "wiring": uses,
        "messages": table,
        "replies": [{"call": k, "replies": v} for k, v in sorted(replies.items()) if v],
        "orchestrator": {
            "id_lit": string(orchestrator), "id_comment": comment(orchestrator),
            "class_name": class_name, "base_name": f"{class_name}Base",
            "synthetic": view.synthetic, "reason_comment": comment(view.reason),
            "ops": workflow_ops, "hooks": workflow_hooks,
            "trigger": trigger, "prelude": list(view.prelude),
            "postlude": list(view.postlude),
        },
        "services": services,
        "reply_enums": reply_enums,
        "message_classes": message_classes,
        "message_imports": imports(f["type"] for c in message_classes for f in c["fields"]),
        "payload_imports": imports(typed_defaults),
        "schema_classes": [{"class_name": c["class_name"],
                            "fields": [f"{f['attribute']}: {f['type']}" for f in c["fields"]]}
                           for c in message_classes],
    })
    # sagas: steps register their compensations, compensating runs undo what was taken
    pairs = undone_steps(analysis)
    if pairs:
        ctx["orchestrator"]["ops"] = register_compensations(workflow_ops, pairs)
        for s in services:
            for o in s["operations"]:
                for v in o["variants"]:
                    v["ops"] = register_compensations(v["ops"], pairs)
    # a critical whose main section takes no step of the workflow's first (a par, a
    # nested critical, only what it awaits) fails at `self.enter_critical(line)` on the
    # paths of its options
    ctx["orchestrator"]["ops"] = with_fail_points(ctx["orchestrator"]["ops"])
    for s in services:
        for o in s["operations"]:
            for v in o["variants"]:
                v["ops"] = with_fail_points(v["ops"])
    add_paths(ctx, analysis, capabilities, path_deciders(ctx, view))
    return ctx


def path_deciders(ctx: dict, view) -> list[dict]:
    """The classes of an orchestration context as codegen/paths.add_paths takes them: the
    hooks and bodies that decide its blocks."""
    w = ctx["orchestrator"]
    services = ctx["services"]
    by_reply = reply_deciders(view, {s["base_name"]: s["operations"] for s in services})
    return [{"base_name": w["base_name"], "hooks": w["hooks"], "op_lists": [w["ops"]]},
            *({"base_name": s["base_name"], "hooks": s["hooks"],
               "op_lists": [v["ops"] for o in s["operations"] for v in o["variants"]],
               "reply_deciders": by_reply.get(s["base_name"], [])} for s in services)]


# names the wiring modules define or import, which an enum must not take
_WIRING_NAMES = ("Any", "ClassVar", "IntEnum", "Call", "Result", "Service", "Workflow",
                 "Context", "UnknownBranch", "asyncio", "annotations")


def _reply_enum(names: NameTable, class_name: str, operation: str, request: str,
                replies: list) -> dict:
    """The enum that names an operation's replies, in the order the diagram draws them
    (its values are the indexes the runtime's `Result.reply` takes)."""
    base = pascal(operation, "Operation") + "Reply"
    # two services offering `charge_card`: the second's enum names its service
    enum_name = names.name((class_name, operation),
                           class_name + base if names.taken(base) else base)
    members = NameTable(("name", "value"))
    return {"class_name": enum_name, "comment": comment(strip_fields(request)),
            "members": [{"name": members.name(k, constant(strip_fields(m.text), "REPLY")),
                         "index": k, "line": m.span.line, "comment": comment(m.text)}
                        for k, m in enumerate(replies)]}


def _safe(ops: list[dict]) -> list[dict]:
    """Ops as templates see them: participant names only as literals, never raw."""
    for op in ops:
        for raw in ("to", "service", "relayed_from"):
            if raw in op:
                value = op.pop(raw)
                op[f"{raw}_lit"] = string(value) if value is not None else "None"
        op.pop("event", None)  # templates print the event's class name instead
    return ops


def _shape(ops: list[dict], table: list[dict]) -> str:
    """Ops without their comments: two bodies with the same shape are the same code."""
    return json.dumps([{k: v for k, v in op.items() if k not in ("line", "comment")}
                       for op in ops], sort_keys=True, default=str)


def _dedent(ops: list[dict]) -> list[dict]:
    """Ops written for inside an `if` (depth 1), moved to depth 0."""
    return [dict(o, indent=o["indent"] - 1) for o in ops
            if not (o["op"] == "pass" and o["indent"] == 1)]


def name_messages(ops: list[dict], table: list[dict]) -> bool:
    """Give each op that sends or handles a message the name code calls it by
    (`message_name`: `Message.<name>`); whether any op has one."""
    named = False
    for op in ops:
        if "message" in op:
            op["message_name"] = table[op["message"]]["name"]
            named = True
    return named


def _uses(classes: list[dict], ops: list[dict]) -> dict[str, bool]:
    """Which names a wiring module needs to import (unused imports fail linters)."""
    kinds = {h["kind"] for c in classes for h in c.get("hooks", [])}
    handlers = any(c.get("handlers") or c.get("operations") for c in classes)
    return {
        # a par whose sections start in the order a hook gives runs them with the
        # runtime's start_sections; one in drawn order, with asyncio.gather
        "asyncio": any(op["op"] == "par_join" and "hook" not in op for op in ops),
        "unknown_branch": any(op["op"] == "else_unknown" for op in ops),
        # hooks that still take or give plain dicts (typed payload hooks name their class)
        "any": any(h["kind"] in ("payload", "signal") and not h.get("returns")
                   for c in classes for h in c.get("hooks", [])),
        "context": bool(kinds) or handlers,
        "result": "reply" in kinds,
        "services": any("module" in c for c in classes),
    }


def _calls(ops: list[dict], flat: Flattener, replies: dict[int, list[int]]) -> None:
    """Give each call its request-payload hook, and note which replies may answer it."""
    for op in ops:
        if op["op"] in ("call", "send"):
            hook = flat.hook(("request", op["service"], op["operation"]),
                             "request_" + snake(op["service"], "service") + "_"
                             + op["operation"], "payload", op["line"],
                             f"what {op['service']}.{op['operation']} is asked")
            op["hook"] = hook.name
            replies[op["message"]] = list(op["replies"])
