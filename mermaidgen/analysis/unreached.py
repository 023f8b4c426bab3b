"""Lint `unrealizable-choice` after a block: a service acts after an `alt`, `opt` or
`critical` that reached it on some paths only, after a `loop` it heard every iteration of
but not the end, or after a `break` at top level that may have ended the run
(conformance.md, "who decides a branch": a participant must act before any message of the
decider's choice reaches it). And inside a loop: a `break` taken by another service than
the one that starts each iteration ends the loop, which that one is not told of unless a
message of the break reaches it. Elsewhere, a taken `break` ends the rest of its section:
a service that acts there after it, untold, is flagged too.

The generated choreography still follows every path (projection/choreography.py and
loops.py): the service decides with a hook of its own (`should_`, `choose_`, `repeat_`),
which the path table drives as it drives the decider's. In a real system nothing tells it
which way the decider went, so the diagram is flagged at the service's first send after
the block.
"""

from __future__ import annotations

from mermaidgen.analysis.events import Hops, actor
from mermaidgen.analysis.flow import Enter, Item, Leave, Occurrence
from mermaidgen.model import Block, Diagnostic

_CHOICES = frozenset({"alt", "opt", "critical", "loop", "break"})


def unreached_after_blocks(items: list[Item], hops: Hops, occurrences: list[Occurrence],
                           brokers: frozenset[str]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    # open block id -> [block, decider, per section: the services a message reached]
    open_blocks: dict[int, list] = {}
    # service -> (block, decider, the branch that never reached it, the block's path)
    # until it acts, on a path after the block (not in another section around it)
    pending: dict[str, tuple[Block, str, str, tuple]] = {}
    stopped: tuple[Block, str] | None = None  # a break at top level, and its decider
    told: set[str] = set()  # who heard of something since
    # open break id -> (its first message, who a chain of its messages from the decider
    # reached): whoever starts the iterations of the loop it ends must be among them
    breaks: dict[int, tuple[Occurrence, set[str]]] = {}
    rects: set[int] = set()  # a rect only colours the drawing: what follows it follows
    kinds: dict[int, str] = {}  # the blocks inside it
    # a break in a section of anything but a loop, left: [the section's path, the break,
    # its decider, who may know it was not taken, who was flagged] while it runs on
    sections_left: list[list] = []
    # the messages of one section share one path, so its place without the rects is
    # taken once per run of them; `pruned`: the place `pending` and `sections_left` were
    # last pruned for (None once either gains an entry), which a run need not prune again
    path_seen: tuple | None = None
    here: tuple = ()
    pruned: tuple | None = None
    for it in items:
        kind_of = type(it)
        if kind_of is Enter:
            kinds[it.block_id] = it.block.kind
        if kind_of is Enter and it.block.kind == "rect":
            rects.add(it.block_id)
        elif kind_of is Enter and it.block.kind in _CHOICES:
            open_blocks[it.block_id] = [it.block, None, [set() for _ in it.block.sections],
                                        _without(it.path, rects), None]
        elif kind_of is Leave and it.block_id in open_blocks:
            pruned = None
            block, decider, reached, where, first = open_blocks.pop(it.block_id)
            if decider is None:
                continue
            if block.kind == "loop" and decider in pending:
                # the decider starts the next iteration after a choice at the end of the
                # body that reached it on some paths only: it cannot tell when to
                inner, other, missed, at = pending[decider]
                if at[:len(where) + 1] == (*where, (it.block_id, 0)):
                    del pending[decider]
                    out.append(_flag(first.message, decider, inner, other, missed,
                                     again=block))
            if block.kind == "break":
                if where == ():  # taken, it ends the run: nobody else may go on
                    stopped = (block, decider)
                    told = {decider}
                else:
                    out += _loop_not_told(block, decider, breaks.pop(it.block_id), where,
                                          open_blocks, brokers)
                    if kinds.get(where[-1][0]) != "loop":
                        sections_left.append([where, block, decider, {decider}, set()])
                continue
            if block.kind == "opt":
                branches = [(reached[0], block.sections[0].label or "taken"), (set(), "skipped")]
            elif block.kind == "loop":  # each iteration is heard of, its end is not
                branches = [(reached[0], ""), (set(), "the loop's end")]
            else:
                branches = [(r, s.label or f"section {k + 1}")
                            for k, (r, s) in enumerate(zip(reached, block.sections,
                                                           strict=False))]
            somewhere = set().union(*(r for r, _ in branches))
            for p in sorted(somewhere - {decider} - brokers):
                missed = next((label for r, label in branches if p not in r), None)
                if missed is not None:
                    pending[p] = (block, decider, missed, where)
        elif kind_of is Occurrence:
            m = it.message
            sender = it.sender
            if sender in brokers:  # a delivery: who published it acts
                sender = actor(it, hops, occurrences, brokers)
            for block_id, section in it.path:
                state = open_blocks.get(block_id)
                if state is None:
                    continue
                if state[1] is None:
                    state[1], state[4] = sender, it
                    if state[0].kind == "break":
                        breaks[block_id] = (it, {sender})
                if block_id in breaks and sender in breaks[block_id][1]:
                    breaks[block_id][1].add(m.receiver)
                if m.receiver != sender:
                    state[2][section].add(m.receiver)
            if it.path is not path_seen:
                path_seen = it.path
                here = _without(path_seen, rects)
            if here is not pruned:
                pruned = here
                for p, (_, _, _, where) in list(pending.items()):
                    if here[:len(where)] != where:
                        del pending[p]  # another section of a block around it
                sections_left[:] = [s for s in sections_left if here[:len(s[0])] == s[0]]
            for _, block, decider, knows, flagged in sections_left:
                if sender not in knows and sender not in flagged and sender not in brokers:
                    flagged.add(sender)
                    out.append(_flag(m, sender, block, decider, "section"))
                knows.add(m.receiver)
            if sender in pending:
                block, decider, missed, _ = pending.pop(sender)
                out.append(_flag(m, sender, block, decider, missed))
            elif stopped is not None and sender not in told:
                told.add(sender)
                out.append(_flag(m, sender, stopped[0], stopped[1], "taken"))
            told.add(m.receiver)
            pending.pop(m.receiver, None)  # it hears of something: it acts on that
    return out


def _without(path: tuple, rects: set[int]) -> tuple:
    return tuple(step for step in path if step[0] not in rects) if rects else path


def _loop_not_told(block: Block, decider: str, taken: tuple[Occurrence, set[str]],
                   where: tuple, open_blocks: dict[int, list],
                   brokers: frozenset[str]) -> list[Diagnostic]:
    """The break ends its innermost loop: who starts that loop's iterations (its first
    sender) goes on polling unless a message of the break reached it."""
    loop = next((open_blocks[block_id] for block_id, _ in reversed(where)
                 if block_id in open_blocks and open_blocks[block_id][0].kind == "loop"), None)
    first, reached = taken
    if loop is None or loop[1] is None or loop[1] in reached or loop[1] in brokers:
        return []
    starter = loop[1]
    label = block.sections[0].label or block.kind
    around = loop[0].sections[0].label or "loop"
    return [Diagnostic(
        "warning", "unrealizable-choice",
        f"`{decider}` takes the `break {label}` block, which ends the `loop {around}` "
        f"block, but nothing in it tells `{starter}`, who starts each iteration: "
        f"`{starter}` goes on",
        first.message.span,
        f"let the break tell `{starter}` (a message to `{starter}` in the break), or "
        f"generate an orchestration; the generated `{starter}` asks its own `repeat_` "
        "hook")]


def _flag(m, sender: str, block: Block, decider: str, missed: str,
          again: Block | None = None) -> Diagnostic:
    label = block.sections[0].label or block.kind
    if again is not None:
        around = again.sections[0].label or "loop"
        return Diagnostic(
            "warning", "unrealizable-choice",
            f"`{sender}` starts the next iteration of the `loop {around}` block (`{m.text}`) "
            f"after the `{block.kind} {label}` block, but `{decider}` chooses the branch "
            f"and nothing reaches `{sender}` in the `{missed}` branch",
            m.span,
            f"let `{decider}` tell `{sender}` in every branch (a message to `{sender}` in "
            f"`{missed}` too), or generate an orchestration; the generated `{sender}` "
            "decides with a hook of its own")
    if block.kind == "break" and missed == "section":
        message = (f"`{sender}` sends `{m.text}` after the `break {label}` block, which "
                   f"ends the rest of its section when `{decider}` takes it, and nothing "
                   f"tells `{sender}`")
        hint = (f"let `{decider}` tell `{sender}` that the section goes on (a message to "
                f"`{sender}` after the break), or generate an orchestration; the generated "
                f"`{sender}` asks its own `should_break_` hook")
    elif block.kind == "break":
        message = (f"`{sender}` sends `{m.text}` after the `break {label}` block, which "
                   f"ends the run when `{decider}` takes it, and nothing tells `{sender}`")
        hint = (f"let `{decider}` tell `{sender}` that the run goes on (a message to "
                f"`{sender}` after the break), or generate an orchestration; the generated "
                f"`{sender}` asks its own `should_break_` hook")
    elif block.kind == "loop":
        message = (f"`{sender}` sends `{m.text}` after the `loop {label}` block, but "
                   f"`{decider}` decides when the loop ends and nothing tells `{sender}`")
        hint = (f"let `{decider}` tell `{sender}` after the loop (a message from "
                f"`{decider}` to `{sender}`), or generate an orchestration; the generated "
                f"`{sender}` asks its own `repeat_` hook")
    else:
        message = (f"`{sender}` sends `{m.text}` after the `{block.kind} {label}` block, "
                   f"but `{decider}` chooses the branch and nothing reaches `{sender}` in "
                   f"the `{missed}` branch")
        hint = (f"let `{decider}` tell `{sender}` in every branch (a message to `{sender}` "
                f"in `{missed}` too), or generate an orchestration; the generated "
                f"`{sender}` decides with a hook of its own")
    return Diagnostic("warning", "unrealizable-choice", message, m.span, hint)
