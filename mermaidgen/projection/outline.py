"""Both projections as short indented text: for people, for tests, and for diffs.

    ServiceB
      on Event 1 from ServiceA
        publish Event 2 -> ServiceC
        publish Event 4 -> ServiceA

    workflow Orchestrator
      call ServiceA.step_1 "Step 1" -> "Step 1 Completed"
"""

from __future__ import annotations

from mermaidgen.model import Message
from mermaidgen.projection.views import (
    Action,
    Arrive,
    Await,
    Call,
    Choreography,
    Comment,
    Fragment,
    InTime,
    LocalStep,
    LoopStart,
    Lost,
    Orchestration,
    Publish,
    Received,
    Reply,
    Send,
    join_heading,
)


def _actions(actions: tuple[Action, ...], indent: int, names: dict[str, str],
             replies: dict[int, str], lines: bool, out: list[str]) -> None:
    # iterative: a stack of (actions, position, depth), so nesting depth is unlimited
    stack: list[tuple[tuple, int, int]] = [(actions, 0, indent)]
    while stack:
        items, i, depth = stack.pop()
        if i >= len(items):
            continue
        a = items[i]
        stack.append((items, i + 1, depth))
        pad = "  " * depth
        at = f"  (line {a.line})" if lines and hasattr(a, "line") else ""
        if isinstance(a, Fragment):
            decided = (f' (the reply to "{replies[a.decided_by]}" decides)'
                       if a.decided_by is not None and a.decided_by in replies else "")
            out.append(f"{pad}{a.kind} {a.label}".rstrip() + decided + at)
            for b in reversed(a.branches):
                stack.append(((_Label(b.label or "-"), *b.actions), 0, depth + 2))
        elif isinstance(a, _Label):
            out.append(f"{pad[:-2]}[{a.text}]")
        else:
            out.append(pad + action_text(a, names, replies) + at)


class _Label:
    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def action_text(a: Action, names: dict[str, str], replies: dict[int, str]) -> str:
    """One action as a line of text."""
    if isinstance(a, Publish):
        return f"publish {names.get(a.event, a.event)} -> {a.to}"
    if isinstance(a, LocalStep):
        return f"step {a.text}"
    if isinstance(a, Comment):
        return f"# {a.text}"
    if isinstance(a, Call):
        via = f" (for {a.relayed_from})" if a.relayed_from else ""
        answers = " | ".join(f'"{replies[r]}"' for r in a.replies)
        result = f" -> {answers}" if answers else ""
        return f'call {a.service}.{a.operation} "{a.text}"{result}{via}'
    if isinstance(a, Send):
        via = f" (for {a.relayed_from})" if a.relayed_from else ""
        return f'send {a.service}.{a.operation} "{a.text}"{via}'
    if isinstance(a, Lost):
        via = f" (for {a.relayed_from})" if a.relayed_from else ""
        return f'{"publish" if a.published else "lost"} "{a.text}" -> {a.to}{via}'
    if isinstance(a, Await):
        return f'await {a.service}: "{a.text}"'
    if isinstance(a, Reply):
        return f'reply {a.to}: "{a.text}"'
    if isinstance(a, Received):
        return f'when {a.service} answers "{a.text}"'
    if isinstance(a, InTime):
        return "only if no option of the critical ran already"
    if isinstance(a, LoopStart):
        return f"start the loop of line {a.line} (its iterations end in the handlers below)"
    if isinstance(a, Arrive) and a.after_section:
        return f"go on after the {a.after_section} of line {a.line}"
    if isinstance(a, Arrive):
        return (f"arrive at the join after the par of line {a.line}" if a.after_par
                else f"arrive at the join of line {a.line}")
    return repr(a)


def _shape(actions: tuple[Action, ...], names: dict[str, str]) -> str:
    """Actions as text without lines: two cases with the same shape do the same."""
    out: list[str] = []
    _actions(actions, 0, names, {}, False, out)
    return "\n".join(out)


def choreography(view: Choreography, lines: bool = False) -> str:
    names = {e.key: e.name for e in view.events}
    out: list[str] = []
    for s in view.services:
        out.append(s.participant)
        if s.entry:
            out.append("  start")
            _actions(s.entry, 2, names, {}, lines, out)
        for h in s.handlers:
            at = f"  (line {h.line})" if lines else ""
            out.append(f"  on {names.get(h.event, h.event)} from {', '.join(h.sources)}{at}")
            shapes = {_shape(c.actions, names) for c in h.cases}
            if len(shapes) == 1:
                _actions(h.cases[0].actions, 2, names, {}, lines, out)
                continue
            for c in h.cases:
                out.append(f"    when received at line {c.line} (from {c.source})")
                _actions(c.actions, 3, names, {}, lines, out)
        for j in s.joins:
            out.append(f"  {join_heading(j)}")
            _actions(j.actions, 2, names, {}, lines, out)
        for t in s.timers:
            out.append(f"  when the critical of line {t.key[14:]} has not gone on in "
                       f"{t.seconds:g} s")
            _actions(t.actions, 2, names, {}, lines, out)
    return "\n".join(out)


def orchestration(view: Orchestration, messages: list[Message], lines: bool = False) -> str:
    """`messages` are the diagram's messages in document order (for reply texts)."""
    texts = {i: m.text for i, m in enumerate(messages)}
    out = [f"workflow {view.orchestrator}" + (" (synthetic)" if view.synthetic else "")]
    if view.trigger is not None:
        out.append(f'  started by "{texts[view.trigger]}"')
    _actions(view.workflow, 1, {}, texts, lines, out)
    for s in view.services:
        out.append(s.participant)
        for op in s.operations:
            result = f' -> "{op.reply}"' if op.reply is not None else ""
            out.append(f'  {op.name} "{op.request}"{result}')
            for v in op.variants:
                if v.actions:
                    if len(op.variants) > 1:
                        out.append(f"    when called at line {messages[v.call].span.line}")
                    _actions(v.actions, 2, {}, texts, lines, out)
    return "\n".join(out)
