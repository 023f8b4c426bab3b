"""The activation check keeps its stacks as shared immutable chains (linear in the
diagram, benchmarks/scale.py): it must report exactly what the plain list-of-slots
version reported, which is kept here as the reference."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import mermaidgen
from mermaidgen.analysis import lint
from mermaidgen.analysis.flow import Enter, Leave, Occurrence, Other, SectionStart, stream
from mermaidgen.model import Activate, Deactivate

PEOPLE = ("A", "B", "C")
# (line, participant it activates, participant it deactivates)
LINES = st.sampled_from([
    ("A->>+B: call", "B", None), ("B-->>-A: done", None, "B"), ("B->>+C: call", "C", None),
    ("C-->>-B: done", None, "C"), ("A->>+A: self", "A", None), ("A-->>-A: back", None, "A"),
    ("activate A", "A", None), ("deactivate A", None, "A"), ("activate C", "C", None),
    ("deactivate B", None, "B"), ("C->>A: note", None, None),
])


@st.composite
def diagrams(draw) -> str:
    """Statements and alt/critical/opt/loop blocks, nested up to depth 3, with many
    activations that stay open (the case that piles up slots)."""
    out = ["sequenceDiagram", *(f"participant {p}" for p in PEOPLE)]
    # mermaid counts activations in drawing order and refuses a deactivation below zero
    count = dict.fromkeys(PEOPLE, 0)

    def body(depth: int) -> None:
        for _ in range(draw(st.integers(0, 5))):
            if depth < 3 and draw(st.integers(0, 3)) == 0:
                kind = draw(st.sampled_from(["alt", "critical", "opt", "loop", "par"]))
                more = {"alt": "else", "critical": "option", "par": "and"}.get(kind)
                out.append(f"{kind} x")
                body(depth + 1)
                for _ in range(draw(st.integers(0, 2)) if more else 0):
                    out.append(f"{more} y")
                    body(depth + 1)
                out.append("end")
            else:
                line, up, down = draw(LINES)
                if down is not None and not count[down]:
                    continue
                if down is not None:
                    count[down] -= 1
                if up is not None:
                    count[up] += 1
                out.append(line)

    body(0)
    return "\n".join(out) + "\n"


@settings(max_examples=300, deadline=None)
@given(diagrams())
def test_the_chained_stacks_report_what_the_list_stacks_reported(text: str) -> None:
    diagram = mermaidgen.parse(text)
    items = stream(diagram)
    assert lint._activations(items) == _reference(items)


def test_slots_left_open_in_every_section_merge_by_depth() -> None:
    text = ("sequenceDiagram\nparticipant A\nparticipant B\nactivate A\nalt x\n"
            "activate A\nactivate A\nelse y\nactivate A\ndeactivate A\ndeactivate A\n"
            "end\ndeactivate A\n")
    items = stream(mermaidgen.parse(text))
    found = [(d.code, d.span.line) for d in lint._activations(items)]
    assert found == [(d.code, d.span.line) for d in _reference(items)]
    assert found == [("unclosed-activation", 6)]  # closed on no path; line 4 on the else path


# the version before the chained stacks, verbatim but for the names
def _reference(items):
    out, spans, closed, active, frames = [], [], set(), {}, []

    def start(p, span):
        spans.append(span)
        active.setdefault(p, []).append(frozenset({len(spans) - 1}))

    def stop(p, span, how):
        if active.get(p):
            closed.update(active[p].pop())
        else:
            out.append(lint._at(span, "deactivate-inactive",
                                f"`{p}` is not active on this path, yet {how} deactivates it",
                                "activate it in this branch too, or move the deactivation "
                                "after the block"))

    def copy(stacks):
        return {p: list(stack) for p, stack in stacks.items()}

    def merge(sections):
        merged = {}
        for p in dict.fromkeys(p for stacks in sections for p in stacks):
            each = [stacks.get(p, []) for stacks in sections]
            merged[p] = [frozenset().union(*(stack[k] for stack in each if k < len(stack)))
                         for k in range(max(map(len, each)))]
        return merged

    for it in items:
        if isinstance(it, Enter):
            frames.append((it.block.kind, copy(active), []))
        elif isinstance(it, SectionStart):
            kind, before, ends = frames[-1]
            if it.index > 0 and kind in ("alt", "critical"):
                ends.append(active)
                active = copy(before)
        elif isinstance(it, Leave):
            kind, before, ends = frames.pop()
            if kind in ("alt", "critical"):
                active = merge([*ends, active])
        elif isinstance(it, Occurrence):
            m = it.message
            if m.activate:
                start(m.receiver, m.span)
            if m.deactivate:
                stop(m.sender, m.span, f"`{m.sender}{m.arrow}-{m.receiver}`")
        elif isinstance(it, Other):
            s = it.statement
            if isinstance(s, Activate):
                start(s.participant, s.span)
            elif isinstance(s, Deactivate):
                stop(s.participant, s.span, "`deactivate`")
    for p, stack in active.items():
        for slot in stack:
            for i in sorted(slot - closed):
                out.append(lint._at(spans[i], "unclosed-activation",
                                    f"`{p}` is activated here and never deactivated",
                                    f"close it with `deactivate {p}` or a `-` on its reply"))
    return out
