"""Choreography sagas: a compensation runs only if the step it undoes was sent.

Which compensation undoes which step is the checker's saga rule (`checker.undone_steps`,
docs/semantics.md "Sagas"), run on the choreography's contract (the diagram itself): the
code and its contract test agree by construction. The rule pairs a compensation and its
step only when one service D sends both, so D knows which steps it sent: it records each
one as it publishes it (per run), and where the diagram draws a paired compensation, D
sends it only if its step was sent.

In a choreography D's option is not one function: a compensation's reply comes to another
handler of D, which sends the next compensation. So a compensation left out must not
end the flow. Each paired compensation, with what follows it up to D's next message (its
reply, what the receiver does first), is projected as an `opt` that D decides by its
record (`UndoBlock`): taken, D publishes the compensation and what follows goes on in the
handler of its reply; skipped, what follows goes on in the handler that left it out, as
after any skipped `opt` (projection/choreography.py). Those `opt`s are the projection's:
the paths do not decide them (analysis/paths.py reads the diagram) and the contract is the
diagram's.
"""

from __future__ import annotations

from dataclasses import dataclass

from mermaidgen.analysis import Analysis
from mermaidgen.analysis.flow import Enter, Item, Leave, Occurrence, Other, SectionStart
from mermaidgen.contract.keys import strip_fields
from mermaidgen.model import Block, Section


@dataclass(frozen=True, slots=True)
class UndoBlock(Block):
    """The projection's `opt` around a compensation: taken when `step` (a message index)
    was sent by the compensation's sender."""

    step: int = -1


def compensation_guards(analysis: Analysis) -> dict[int, int]:
    """Per paired compensation (message index) in an option of a `critical` whose main
    section holds its step, that step (message index): the checker's rule on the
    choreography's contract, the diagram. A compensation of a step before the block is
    sent as drawn (every path to it took the step: the rule says it always happens)."""
    from mermaidgen.contract import contract_of
    from mermaidgen.contract.checker import undone_steps

    pairs = undone_steps(contract_of(analysis.diagram))
    if not pairs:
        return {}
    by_line: dict[int, list[Occurrence]] = {}
    for info in analysis.messages:
        by_line.setdefault(info.occurrence.line, []).append(info.occurrence)
    criticals = {it.block_id for it in analysis.items
                 if isinstance(it, Enter) and it.block.kind == "critical"}
    out: dict[int, int] = {}
    for undo_line, step_line in pairs.items():
        undo, step = by_line.get(undo_line, []), by_line.get(step_line, [])
        if len(undo) == 1 and len(step) == 1 and undo[0].sender == step[0].sender and \
                any(b in criticals and k > 0 and (b, 0) in step[0].path
                    for b, k in undo[0].path):
            out[undo[0].index] = step[0].index
    return out


def guarded(items: list[Item], guards: dict[int, int]) -> list[Item]:
    """`items` with each compensation of `guards`, and what follows it up to its sender's
    next message (or the end of its section, or a block), inside an `UndoBlock`."""
    if not guards:
        return items
    steps = {it.index: it for it in items if isinstance(it, Occurrence)}
    next_id = 1 + max((it.block_id for it in items if isinstance(it, Enter)), default=-1)
    out: list[Item] = []
    k = 0
    while k < len(items):
        it = items[k]
        if not (isinstance(it, Occurrence) and it.index in guards):
            out.append(it)
            k += 1
            continue
        sender, path = it.sender, it.path
        end = k + 1
        while end < len(items):
            x = items[end]
            if isinstance(x, Occurrence) and x.path == path and x.sender != sender:
                end += 1
            elif isinstance(x, Other) and x.path == path:
                end += 1
            else:
                break
        step = steps[guards[it.index]]
        label = f"{strip_fields(step.message.text)} was sent"
        span = it.message.span
        block = UndoBlock("opt", (Section(label, (), span),), span, guards[it.index])
        inner = (*path, (next_id, 0))
        out.append(Enter(next_id, block, path))
        out.append(SectionStart(next_id, 0, block.sections[0], inner))
        for x in items[k:end]:
            out.append(_moved(x, inner))
        out.append(Leave(next_id, block))
        next_id += 1
        k = end
    return out


def _moved(item: Item, path: tuple) -> Item:
    if isinstance(item, Occurrence):
        return Occurrence(item.index, item.message, path, item.activates, item.deactivates,
                          item.destroyed)
    assert isinstance(item, Other)
    return Other(item.statement, path)
