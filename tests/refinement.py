"""Refinement (conformance.md): erase the hops the orchestration projection adds (the
orchestrator relaying a message or its reply, mapped back to the message the diagram draws)
and every trace the projected contract accepts is a trace the original diagram accepts.

Shared by tests/test_refinement.py and benchmarks/refinement.py (the 2,000 random
diagrams of issue 11's acceptance).

Traces the projected contract accepts are drawn at random: a scenario (a section of every
choice, one or two loop iterations, a critical's option after a prefix of its main
section, a break taken or not), then a random order of its messages that keeps every
ordering conformance.md implies (drawn before, and the same sender or the receiver then
sending; transitively). The projection keeps the original's messages (their source
positions), so erasing a relay is looking the message up.
"""

from __future__ import annotations

import random

from mermaidgen.analysis import analyse
from mermaidgen.analysis.events import Hops
from mermaidgen.analysis.flow import Enter, stream
from mermaidgen.contract import check_trace
from mermaidgen.model import Block, Diagram, Message, Statement, messages
from mermaidgen.projection.contract import projected

MAX_ITERATIONS = 2

# A scenario: ("seq" | "par", children) nodes with Messages as leaves
Node = tuple[str, list]


def _section(statements: tuple[Statement, ...], rnd: random.Random) -> tuple[list, bool]:
    """The scenario of a run of statements, and whether a `break` taken ended it."""
    out: list = []
    for s in statements:
        if isinstance(s, Message):
            out.append(s)
        elif isinstance(s, Block):
            node, broke = _block(s, rnd)
            out.append(node)
            if broke:
                return out, True
    return out, False


def _block(b: Block, rnd: random.Random) -> tuple[Node, bool]:
    kind = b.kind
    if kind == "rect":
        children, broke = _section(tuple(x for sec in b.sections for x in sec.statements),
                                   rnd)
        return ("seq", children), broke
    if kind in ("par", "par_over"):
        # a break ends only its own section of a par
        return ("par", [("seq", _section(sec.statements, rnd)[0]) for sec in b.sections]), \
            False
    # a break taken ends the rest of the block whose section holds it, not more
    if kind == "alt":
        return ("seq", _section(rnd.choice(b.sections).statements, rnd)[0]), False
    if kind in ("opt", "break"):
        if rnd.random() < 0.5:
            return ("seq", []), False
        return ("seq", _section(b.sections[0].statements, rnd)[0]), kind == "break"
    if kind == "loop":
        iterations: list = []
        for _ in range(rnd.randint(1, MAX_ITERATIONS)):
            children, broke = _section(b.sections[0].statements, rnd)
            iterations.append(("seq", children))
            if broke or not _size(("seq", children)):
                break  # an iteration that sent nothing is not repeated
        return ("seq", iterations), False
    # critical: the main section, or a prefix of it and then an option
    main = _section(b.sections[0].statements, rnd)[0]
    if len(b.sections) == 1 or rnd.random() < 0.4:
        return ("seq", main), False
    cut = rnd.randint(0, _size(("seq", main)))
    option = _section(rnd.choice(b.sections[1:]).statements, rnd)[0]
    return ("seq", [_prefix(("seq", main), cut), ("seq", option)]), False


def _size(node) -> int:
    return 1 if isinstance(node, Message) else sum(_size(c) for c in node[1])


def _prefix(node, k: int):
    if isinstance(node, Message) or k >= _size(node):
        return node
    out, used = [], 0
    for child in node[1]:
        if used >= k:
            break
        part = _prefix(child, k - used)
        out.append(part)
        used += _size(part)
    return (node[0], out)


def random_trace(diagram: Diagram, rnd: random.Random) -> list[Message]:
    """A run of the diagram, as conformance.md allows it (see the module's docstring)."""
    tree = ("seq", _section(diagram.statements, rnd)[0])
    msgs: list[Message] = []
    drawn_before: list[int] = []  # bit sets

    def number(node) -> list[int]:
        if isinstance(node, Message):
            msgs.append(node)
            drawn_before.append(0)
            return [len(msgs) - 1]
        groups = [number(c) for c in node[1]]
        if node[0] == "seq":
            earlier = 0
            for group in groups:
                for j in group:
                    drawn_before[j] |= earlier
                for i in group:
                    earlier |= 1 << i
        return [i for g in groups for i in g]

    number(tree)
    n = len(msgs)
    # a message a projection records when another participant takes it waits for what
    # that one sent and received before (contract.Projected)
    taken_by = getattr(diagram, "taken_by", {})
    # must_follow[j]: the messages j waits for (same sender, or sent to j's sender)
    waits = [0] * n
    for j in range(n):
        waiting = {msgs[j].sender, taken_by.get((msgs[j].span.line, msgs[j].span.column))}
        for i in range(j):
            if drawn_before[j] >> i & 1 and waiting & {msgs[i].sender, msgs[i].receiver}:
                waits[j] |= 1 << i
    for j in range(n):  # transitively (waits only point to lower indexes)
        for i in range(j):
            if waits[j] >> i & 1:
                waits[j] |= waits[i]
    done, order = 0, []
    while len(order) < n:
        ready = [j for j in range(n) if not done >> j & 1 and waits[j] & ~done == 0]
        j = rnd.choice(ready)
        done |= 1 << j
        order.append(msgs[j])
    return order


def erase(trace: list[Message], original: Diagram, hops: Hops | None = None
          ) -> list[tuple[str, str, str]]:
    """The projected run as the original draws it: each message is the original message
    it stands for (a relay by the orchestrator is the message it relays). A delivery from
    a broker the orchestrator relays stands for the publish into the broker too: the
    publish comes before the first of its deliveries (each time they start again)."""
    drawn = messages(original)
    by_position = {(m.span.line, m.span.column): i for i, m in enumerate(drawn)}
    out = []
    waiting: dict[int, set[int]] = {}  # publish -> its deliveries not relayed yet
    for m in trace:
        i = by_position[(m.span.line, m.span.column)]
        publish = hops.source[i] if hops is not None else None
        if publish is not None:
            if not waiting.get(publish):
                waiting[publish] = set(hops.deliveries[publish])  # type: ignore[union-attr]
                p = drawn[publish]
                out.append((p.sender, p.receiver, p.text))
            waiting[publish].discard(i)
        o = drawn[i]
        out.append((o.sender, o.receiver, o.text))
    return out


def _plain_brokers(analysis) -> bool:
    """Brokers only publish and deliver (no acknowledgements, no broker to broker hops),
    and each publish is drawn right before its first delivery, in the same block or one
    that encloses it: the relays this test knows how to erase (a publish comes right
    before its delivery)."""
    hops, brokers = analysis.hops, set(analysis.brokers)
    occurrences = [info.occurrence for info in analysis.messages]
    kinds = {it.block_id: it.block.kind for it in stream(analysis.diagram)
             if isinstance(it, Enter)}
    for info in analysis.messages:
        o = info.occurrence
        if o.sender in brokers and (o.receiver in brokers or hops.source[info.index] is None
                                    or info.index in hops.acks):
            return False
        if o.receiver in brokers and o.sender not in brokers:
            first = min(hops.deliveries[info.index], default=None)
            if first is None or not _erasable(occurrences, info.index, first, kinds):
                return False
    return True


def _erasable(occurrences: list, publish: int, delivery: int, kinds: dict) -> bool:
    """The publish is drawn right before its first delivery, in the delivery's block or
    one that encloses it; or in a `par` section that ends before the delivery (a fan-out
    whose answers are relayed after the par) with nothing else of its sender in between:
    erased, it comes right before the delivery and still after what it waits for."""
    p, d = occurrences[publish], occurrences[delivery]
    if delivery == publish + 1 and d.path[:len(p.path)] == p.path:
        return True
    if any(o.sender == p.sender for o in occurrences[publish + 1:delivery]):
        return False
    common = 0
    for a, b in zip(p.path, d.path, strict=False):
        if a != b:
            break
        common += 1
    return common == len(d.path) and all(
        kinds[block] in ("par", "par_over") for block, _ in p.path[common:])


SKIPPED = "not checked: a broker shape this test does not erase"
def relayed_and_direct(contract: Diagram, original: Diagram) -> bool:
    """Does the orchestrator relay some of a participant's messages while the participant
    sends others itself? (`A->>B: m0` relayed as `Orchestrator->>B`, then
    `A->>Orchestrator: m2` sent by A.) Nothing Mermaid draws orders them any more: the
    projection keeps A's order because the workflow takes m2 when it asks for it, after
    what it relayed before (`contract.Projected.taken_by`)."""
    drawn = {(m.span.line, m.span.column): m for m in messages(original)}
    sent = [(m, drawn[(m.span.line, m.span.column)]) for m in messages(contract)]
    relayed = {o.sender for m, o in sent if m.sender != o.sender}
    return any(m.sender in relayed for m, o in sent if m.sender == o.sender)


def refines(diagram: Diagram, rnd: random.Random, runs: int) -> str | None:
    """None, or the first run of the projection the original rejects, explained."""
    analysis = analyse(diagram)
    if analysis.brokers and not _plain_brokers(analysis):
        return SKIPPED  # acknowledgements, forwards, unconsumed events: not erased here
    contract = projected(analysis, "orchestration")
    for _ in range(runs):
        run = random_trace(contract, rnd)
        verdict = check_trace(contract, [(m.sender, m.receiver, m.text) for m in run])
        assert verdict.ok, "the sampler drew a run its own contract rejects: " + \
            verdict.explanation
        erased = erase(run, diagram, analysis.hops)
        verdict = check_trace(diagram, erased, relays=analysis.brokers)
        if not verdict.ok:
            return f"the projection allows {erased}\n{verdict.explanation}"
    return None
