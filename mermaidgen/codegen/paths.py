"""The path table of a generated package (`_generated/paths.py`) and who decides each block.

`analysis/paths.py` names the diagram's paths; here each block a path decides is tied to
the hooks of the generated classes that make that decision (`DECIDERS`), so that the
vendored `drive.py` can run any path: the `choose_*`, `should_*`, `repeat_*` and
`recover_*` hooks a block's line names, the `reply_*` hook of the call whose reply picks
an `alt`'s section (or says whether a `break` is taken), the `order_*` hook of a `par`
whose sections the runtime starts in the order it gives (where the target can:
`Capabilities`), and, for a `critical` with options, the first hook its main section
calls (made to fail, so that an option runs). A
block no hook decides (a choice the code cannot make, or one split across participants)
is driven where it can be, and the path still runs: its contract test says whether the
code follows it.
"""

from __future__ import annotations

from mermaidgen.analysis import Analysis
from mermaidgen.analysis.naming import kebab
from mermaidgen.analysis.paths import DEFAULT_CAPABILITIES, Capabilities, PathTable, path_table
from mermaidgen.codegen.literals import comment, string
from mermaidgen.codegen.ops import UNBOUNDED, loop_bound
from mermaidgen.model import Block, Diagram, Message
from mermaidgen.projection.tree import section_name
from mermaidgen.projection.views import Fragment, Orchestration

_DECIDING = frozenset({"choose", "should", "should_break", "repeat", "recover", "order"})
_STEPS = frozenset({"call", "send", "publish", "step"})
_QUIET = frozenset({"note", "pass"})


def _limit(label: str) -> int | None:
    bound = loop_bound(label)
    return None if bound == UNBOUNDED else int(bound)


def table(analysis: Analysis, capabilities: Capabilities = DEFAULT_CAPABILITIES) -> PathTable:
    return path_table(analysis.diagram, _limit, capabilities=capabilities)


def add_paths(ctx: dict, analysis: Analysis, capabilities: Capabilities,
              classes: list[dict], choreography: bool = False) -> None:
    """Add `paths` to a template context: the paths of a runtime that can do what
    `capabilities` say. `classes`: the context's generated classes, each with
    `base_name`, `hooks` and `op_lists` (every list of ops it renders). In a
    `choreography`, receipts that may come in either order (lint `unordered-receipts`)
    are said in the table's notes: where the service joins them, the paths run the drawn
    order only; elsewhere no path can promise the drawn order."""
    found = table(analysis, capabilities)
    notes = list(found.notes)
    if choreography:
        notes += [f"line {d.span.line}: a join waits for two events either way round; the "
                  "paths run the drawn order"
                  if d.severity == "info" else
                  f"line {d.span.line}: not every run keeps the drawn order (two events "
                  "may arrive the other way round: lint unordered-receipts)"
                  for d in analysis.diagnostics if d.code == "unordered-receipts"]
    deciders: dict[int, list[tuple]] = {}

    def decide(line: int, entry: tuple) -> None:
        entries = deciders.setdefault(line, [])
        if entry not in entries:
            entries.append(entry)

    for c in classes:
        for h in c["hooks"]:
            if h["kind"] in _DECIDING:
                decide(h["line"], (c["base_name"], h["name"], h["kind"],
                                   tuple(h.get("branches") or ())))
        for ops in c["op_lists"]:
            for line, hook, kind, argument in _first_steps(ops, deep=not choreography):
                decide(line, (c["base_name"], hook, kind, argument))
        for line, hook, calls, kind in c.get("reply_deciders", ()):
            decide(line, (c["base_name"], hook, "reply_break" if kind == "break" else "reply",
                          calls))
    every = [(p.name, p.decisions, p.described) for p in found.paths]
    # a saga fails at each step it undoes: one path per earlier step too (the decision
    # keyed by the step's line makes its request hook fail, so the steps before it are
    # undone, the last one first)
    taken = {name for name, _, _ in every}
    for c in classes:
        for ops in c["op_lists"]:
            for at, steps in _saga_steps(ops):
                for name, decisions, described in list(every):
                    if dict(decisions).get(at, 0) < 1:
                        continue
                    for line, hook, what in steps:
                        decide(line, (c["base_name"], hook, "fail", ()))
                        new = f"{name}+fails-at-{kebab(what, 'step')}"
                        while new in taken:
                            new += "-2"
                        taken.add(new)
                        every.append((new, (*decisions, (line, 1)),
                                      (*described, f"line {line}: {what} fails")))
    # two choices on one line (`;` separates statements) share a key: written once, with
    # the value Python's dict display would keep (the last), so the literal passes ruff
    rows = [f"    {string(n)}: {{{', '.join(f'{k}: {v}' for k, v in dict(d).items())}}},"
            for n, d, _ in every]
    described = [f"    {string(n)}: ({''.join(string(x) + ', ' for x in w)}),"
                 for n, _, w in every]
    lines_deciders = [f"    {line}: [{', '.join(_tuple(e) for e in entries)}],"
                      for line, entries in sorted(deciders.items())]
    ctx["paths"] = {
        "table_literal": "{\n" + "\n".join(rows) + "\n}" if rows else "{}",
        "described_literal": "{\n" + "\n".join(described) + "\n}" if described else "{}",
        "deciders_literal": "{\n" + "\n".join(lines_deciders) + "\n}"
        if lines_deciders else "{}",
        "mode_lit": string(found.mode),
        "notes_comment": [comment(n) for n in notes],
        "count": len(every),
    }


def _tuple(entry: tuple) -> str:
    base, hook, kind, argument = entry
    inner = "".join(string(a) + ", " if isinstance(a, str) else f"{a}, " for a in argument)
    return f"({string(base)}, {string(hook)}, {string(kind)}, ({inner}))"


def _first_steps(ops: list[dict], deep: bool = False) -> list[tuple[int, str, str, tuple]]:
    """For each `try` (a critical with options): its line and how a path makes its main
    section fail, as (line, hook, kind, argument) for `drive.py`: the hook its main section
    calls first, when that is the section's first statement (inside its deadline's `async
    with`, if it has one), or the hook its `fail_hook` names (kind `fail`). `deep`
    (orchestration): else the first step the main section takes anywhere, in a block (the
    first iteration of a loop, a section of an `alt`), after what it awaits or answers,
    or the `order_*` hook of a `par` drawn first (called before any of its sections
    starts): what the run did before it is a proper prefix of the main section in
    document order, which the contract accepts before an option (without it, the
    option's path ran the whole main section and never took the option). Not in a
    critical of its own, whose options would catch the failure, nor in a `par` no hook
    orders, whose other sections may go on after the failure (not a prefix in document
    order): there, and where the main section takes no step of its own (it only awaits,
    or holds the reply to a call made before it), the `enter_critical` call that
    `with_fail_points` puts first in the section fails, for that critical only (kind
    `fail_at`, its line the argument)."""
    out = []
    for i, op in enumerate(ops):
        if op["op"] == "try":
            found = _fail_point(ops, i, deep)
            if found is not None:
                out.append((op["line"], *found))
    return out


def _fail_point(ops: list[dict], at: int, deep: bool) -> tuple[str, str, tuple] | None:
    """How a path fails the main section of the `try` at `ops[at]` (see `_first_steps`),
    or None when nothing in it can fail before it sent something."""
    op = ops[at]
    if op.get("fail_hook"):  # the target chose where the main section fails
        return op["fail_hook"], "fail", ()
    depth = op["indent"] + 1
    for k in range(at + 1, len(ops)):
        inner = ops[k]
        if inner["indent"] <= op["indent"]:
            break
        if inner["op"] == "enter_critical" and inner["indent"] == op["indent"] + 1:
            return "enter_critical", "fail_at", (op["line"],)
        if inner["op"].startswith("par") and (deep or inner["indent"] == depth):
            join = next((j for j in ops[k:] if j["indent"] <= inner["indent"]
                         and (j["op"] == "par_join" or j["indent"] < inner["indent"])), None)
            if join is not None and join["op"] == "par_join" and "hook" in join:
                return join["hook"], "fail", ()  # its order hook: called before any section
            break
        if deep and inner["op"] == "try":
            break
        if inner["op"] in _QUIET:
            continue
        if inner["op"] == "deadline" and inner["indent"] == depth:
            depth += 1
            continue
        if (inner["indent"] == depth or deep) and "hook" in inner and \
                (inner["op"] in _STEPS or inner["op"] in ("choose", "if_hook")):
            return inner["hook"], "fail", ()
        if not deep:
            break
    return None


def with_fail_points(ops: list[dict], deep: bool = True) -> list[dict]:
    """`ops` (a body of generated code; `deep` as for `_first_steps`: an orchestration's)
    with `self.enter_critical(line)` first in the main section of each `try` that
    `_fail_point` finds nothing to fail in: a call that does nothing, which a path to one
    of the critical's options makes fail (drive.py). It replaces the `pass` of a main
    section that holds nothing else (notes, which are comments, aside)."""
    out: list[dict] = []
    skip = -1
    for i, op in enumerate(ops):
        if i == skip:
            continue
        out.append(op)
        if op["op"] != "try" or _fail_point(ops, i, deep) is not None:
            continue
        indent = op["indent"] + 1
        out.append({"op": "enter_critical", "indent": indent, "line": op["line"]})
        if i + 1 < len(ops) and ops[i + 1]["op"] == "pass" and ops[i + 1]["indent"] == indent:
            skip = i + 1
    return out


def _saga_steps(ops: list[dict]) -> list[tuple[int, list[tuple[int, str, str]]]]:
    """For each `try` whose main section a path fails at its last step that registers a
    compensation (`fail_hook`, codegen/sagas.py): its line and the main section's other
    registering steps, each as (line, request hook, operation), in order."""
    out = []
    for i, op in enumerate(ops):
        if op["op"] != "try" or not op.get("fail_hook"):
            continue
        steps = []
        for inner in ops[i + 1:]:
            if inner["indent"] <= op["indent"]:
                break
            if inner.get("undone_by") and inner["hook"] != op["fail_hook"]:
                steps.append((inner["line"], inner["hook"], inner["operation"]))
        if steps:
            out.append((op["line"], steps))
    return out


def reply_deciders(view: Orchestration, operations: dict[str, list[dict]]
                   ) -> dict[str, list[tuple[int, str, tuple[int, ...], str]]]:
    """Per service: (block line, reply hook, the deciding calls, the block's kind) for
    each `alt` or `break` the reply to one of its operations decides. `operations`:
    service -> its operation dicts (with `reply_hook` and `calls`). `view`: the
    orchestration projection."""
    decided: dict[int, tuple[int, str]] = {}  # call -> block line, kind
    stack: list = [iter(view.workflow)]
    for s in view.services:
        for op in s.operations:
            for v in op.variants:
                stack.append(iter(v.actions))
    while stack:
        for a in stack[-1]:
            if isinstance(a, Fragment):
                if a.decided_by is not None:
                    decided[a.decided_by] = (a.line, a.kind)
                stack.append(iter([x for b in a.branches for x in b.actions]))
                break
        else:
            stack.pop()
    out: dict[str, list[tuple[int, str, tuple[int, ...], str]]] = {}
    for service, ops in operations.items():
        for op in ops:
            for call in op["calls"]:
                if call in decided:
                    line, kind = decided[call]
                    out.setdefault(service, []).append(
                        (line, op["reply_hook"], tuple(c for c in op["calls"] if c in decided),
                         kind))
    return out


def broker_pars(diagram: Diagram, deliveries: dict[int, list[int]]
                ) -> dict[int, tuple[int, str, list[tuple[str, list[int]]]]]:
    """Per publish (message index) whose broker deliveries (`deliveries`: publish -> its
    hops) start two sections or more of one `par` drawn around them, not around the
    publish: that par's line and label, and per section of it in drawn order, its name
    and the deliveries that start it (maybe none). In choreography the bus makes these
    deliveries, so the order of those sections is the order it delivers in. The
    innermost `par` around a delivery counts."""
    around: dict[int, tuple[tuple[Block, int], ...]] = {}  # message -> its pars, sections
    index = 0
    stack: list[tuple] = [(iter(diagram.statements), ())]
    while stack:
        items, pars = stack[-1]
        for s in items:
            if isinstance(s, Message):
                around[index] = pars
                index += 1
            elif isinstance(s, Block):
                if s.kind in ("par", "par_over"):
                    for k in range(len(s.sections) - 1, -1, -1):  # read in drawn order
                        stack.append((iter(s.sections[k].statements), (*pars, (s, k))))
                else:
                    stack.append((iter([x for sec in s.sections for x in sec.statements]),
                                  pars))
                break
        else:
            stack.pop()
    out: dict[int, tuple[int, str, list[tuple[str, list[int]]]]] = {}
    for publish, hops in deliveries.items():
        outside = {id(block) for block, _ in around.get(publish, ())}
        started: dict[int, tuple[Block, dict[int, list[int]]]] = {}
        for hop in hops:
            if around.get(hop) and id(around[hop][-1][0]) not in outside:
                block, k = around[hop][-1]
                started.setdefault(id(block), (block, {}))[1].setdefault(k, []).append(hop)
        for block, sections in started.values():
            if len(sections) > 1:
                out[publish] = (block.span.line, block.sections[0].label, [
                    (section_name(section.label, k), sections.get(k, []))
                    for k, section in enumerate(block.sections)])
                break
    return out
