"""The analysis for people: rich tables and trees (participants and their roles, the
event catalogue, handlers per service, the workflow). Diagram text is always passed as
`Text`, never as markup, so `[brackets]` in a message stay as written."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from mermaidgen.analysis import Analysis
from mermaidgen.analysis.fields import Field
from mermaidgen.projection import choreography_of, orchestration_of
from mermaidgen.projection.outline import action_text
from mermaidgen.projection.views import Action, Fragment, join_heading

MAX_TEXT = 400
"""Characters of one name or text shown in a table or tree: more cannot be read there,
and rich takes seconds to lay out megabytes of it (`--format json` has it all)."""


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."


def _role(analysis: Analysis, pid: str, kind: str) -> str:
    if pid == orchestration_of(analysis).orchestrator:
        return "orchestrator"
    if pid in analysis.brokers:
        return "broker"
    return "actor" if kind == "actor" else "service"


def participants(analysis: Analysis) -> Table:
    table = Table(title="Participants", title_justify="left")
    for column in ("id", "label", "kind", "role", "sends", "receives"):
        table.add_column(column, justify="right" if column in ("sends", "receives") else "left",
                         overflow="fold")  # a narrow column wraps: no name is cut short
    sends: dict[str, int] = {}
    receives: dict[str, int] = {}
    for m in analysis.messages:
        sends[m.occurrence.sender] = sends.get(m.occurrence.sender, 0) + 1
        receives[m.occurrence.receiver] = receives.get(m.occurrence.receiver, 0) + 1
    shown = analysis.diagram.participants[:MAX_TABLE_ROWS]
    for p in shown:
        table.add_row(Text(_clip(p.id)), Text(_clip(p.label)), p.kind,
                      _role(analysis, p.id, p.kind), str(sends.get(p.id, 0)),
                      str(receives.get(p.id, 0)))
    _more_rows(table, len(analysis.diagram.participants) - len(shown))
    return table


MAX_TABLE_ROWS = 200


def _more_rows(table: Table, left_out: int) -> None:
    if left_out > 0:
        table.add_row(Text(f"... and {left_out} more: see --format json", style="italic"))


def fields_text(fields: tuple[Field, ...]) -> str:
    """`km: float, duration: str`; a type outside the documented set shows as written,
    with the type generated for it: `amount: Money (str)`."""
    return ", ".join(f"{f.name}: {f.type}" if f.known else f"{f.name}: {f.written} ({f.type})"
                     for f in fields)


def events(analysis: Analysis) -> Table:
    table = Table(title="Events", title_justify="left")
    shown = analysis.events[:MAX_TABLE_ROWS]
    # the column appears only when the diagram writes fields (docs/fields.md)
    typed = any(e.fields for e in shown)
    for column in ("event", "class", "channel", "producers -> consumers", "lines") \
            + (("fields",) if typed else ()):
        table.add_column(column, overflow="fold")
    for e in shown:
        flow = f"{', '.join(e.producers) or '?'} -> {', '.join(e.consumers) or '(nobody)'}"
        lines = ", ".join(map(str, e.lines[:6])) + (" ..." if len(e.lines) > 6 else "")
        row = [Text(_clip(e.name)), _clip(e.class_name), Text(_clip(e.channel)),
               Text(_clip(flow)), lines]
        table.add_row(*row, *((Text(_clip(fields_text(e.fields))),) if typed else ()))
    _more_rows(table, len(analysis.events) - len(shown))
    return table


class _Budget:
    """At most `MAX_TREE_LINES` lines in one tree: a tree of a 100,000-message diagram
    cannot be read in a terminal, and rich takes a minute to lay it out. What does not fit
    is counted, and `note` says how much was left out."""

    def __init__(self) -> None:
        self.left = MAX_TREE_LINES
        self.skipped = 0

    def add(self, node: Tree | None, label: Text) -> Tree | None:
        if node is None or self.left <= 0:
            self.skipped += 1
            return None
        self.left -= 1
        return node.add(label)

    def note(self, root: Tree) -> Tree:
        if self.skipped:
            root.add(Text(f"... and {self.skipped} more lines: see --format json",
                          style="italic"))
        return root


def _grow(budget: _Budget, tree: Tree | None, actions: tuple[Action, ...],
          names: dict[str, str], replies: dict[int, str]) -> None:
    # iterative, so that very deep nesting does not exhaust the stack
    stack = [(tree, actions, 0)]
    while stack:
        node, items, depth = stack.pop()
        for a in items:
            if node is None or budget.left <= 0:
                # `budget.add` would skip this line and every line under it: counted
                # without making their labels (a large diagram's tree is mostly these)
                budget.skipped += _lines((a,), depth)
            elif isinstance(a, Fragment) and depth >= MAX_TREE_DEPTH:
                # nobody reads a tree thousands of levels deep, and rich takes seconds per
                # thousand levels to lay one out
                budget.add(node, Text(f"{a.kind} {_clip(a.label)}".rstrip()
                                      + f"  (line {a.line}) and deeper: see --format json",
                                      style="italic"))
            elif isinstance(a, Fragment):
                child = budget.add(node, Text(f"{a.kind} {_clip(a.label)}".rstrip()
                                              + f"  (line {a.line})", style="bold"))
                for b in a.branches:
                    label = Text(f"[{_clip(b.label) or '-'}]", style="italic")
                    stack.append((budget.add(child, label), b.actions, depth + 1))
            else:
                budget.add(node, Text(_clip(action_text(a, names, replies))
                                      + f"  (line {a.line})"))


def _lines(actions: tuple[Action, ...], depth: int) -> int:
    """The lines `_grow` gives `actions` at `depth`: one per action, one per block and one
    per section of a block above `MAX_TREE_DEPTH`, one for a block at it."""
    count = 0
    stack = [(actions, depth)]
    while stack:
        items, d = stack.pop()
        for a in items:
            count += 1
            if isinstance(a, Fragment) and d < MAX_TREE_DEPTH:
                count += len(a.branches)
                stack.extend((b.actions, d + 1) for b in a.branches)
    return count


MAX_TREE_DEPTH = 8  # blocks: 8 characters of tree guides each, so the text still fits
MAX_TREE_LINES = 1000


def choreography(analysis: Analysis) -> Tree:
    view = choreography_of(analysis)
    names = {e.key: e.name for e in view.events}
    root = Tree(Text("Choreography: what each service handles and publishes", style="bold"))
    budget = _Budget()
    for s in view.services:
        node = budget.add(root, Text(_clip(s.participant), style="bold cyan"))
        if s.entry:
            _grow(budget, budget.add(node, Text("start")), s.entry, names, {})
        for h in s.handlers:
            label = _clip(f"on {names.get(h.event, h.event)} from {', '.join(h.sources)}")
            handler = budget.add(node, Text(label))
            for case in h.cases:
                target = handler if len(h.cases) == 1 else budget.add(handler, Text(
                    f"when received at line {case.line} (from {_clip(case.source)})"))
                _grow(budget, target, case.actions, names, {})
        for j in s.joins:
            join = budget.add(node, Text(join_heading(j)))
            _grow(budget, join, j.actions, names, {})
        for t in s.timers:
            timer = budget.add(node, Text(f"when the critical of line {t.key[14:]} has not "
                                          f"gone on in {t.seconds:g} s"))
            _grow(budget, timer, t.actions, names, {})
    return budget.note(root)


def orchestration(analysis: Analysis) -> Tree:
    view = orchestration_of(analysis)
    texts = {m.index: m.occurrence.message.text for m in analysis.messages}
    head = f"Orchestration: the workflow of {_clip(view.orchestrator)}"
    root = Tree(Text(head + (" (added by mermaidgen)" if view.synthetic else ""),
                     style="bold"))
    budget = _Budget()
    if view.trigger is not None:
        budget.add(root, Text(f'started by "{_clip(texts[view.trigger])}"'))
    _grow(budget, root, view.workflow, {}, texts)
    for s in view.services:
        node = budget.add(root, Text(f"{_clip(s.participant)} offers", style="bold cyan"))
        for op in s.operations:
            result = f' -> "{_clip(op.reply)}"' if op.reply is not None else ""
            op_node = budget.add(node, Text(f'{_clip(op.name)} "{_clip(op.request)}"{result}'))
            for v in op.variants:
                _grow(budget, op_node, v.actions, {}, texts)
    return budget.note(root)


def render(analysis: Analysis) -> RenderableType:
    style = analysis.style
    return Group(
        participants(analysis),
        Text(f"Style: {style.style} ({_clip(style.reason)})"),
        events(analysis),
        choreography(analysis),
        orchestration(analysis),
    )
