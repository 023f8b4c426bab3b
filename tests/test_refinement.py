"""A projection must refine the original (conformance.md): erase the hops the orchestration
projection adds (the orchestrator relaying a message or its reply, mapped back to the
message the diagram draws) and every trace the projected contract accepts is a trace the
original diagram accepts.

Traces the projected contract accepts are drawn at random: a scenario (a section of every
choice, one or two loop iterations, a critical's option after a prefix of its main
section, a break taken or not), then a random order of its messages that keeps every
ordering conformance.md implies (drawn before, and the same sender or the receiver then
sending; transitively). The projection keeps the original's messages (their source
positions), so erasing a relay is looking the message up.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from strategies import Generated, diagrams

from mermaidgen import parse
from mermaidgen.analysis import analyse
from mermaidgen.analysis.events import Hops
from mermaidgen.analysis.flow import Enter, stream
from mermaidgen.contract import check_trace
from mermaidgen.model import Block, Diagram, Message, Statement, messages
from mermaidgen.projection.contract import projected

PROJECT = Path(__file__).resolve().parents[1]
SEEDS = PROJECT.parent / "shared" / "corpus" / "seed"
SOURCES = sorted((PROJECT / "samples").glob("*.mmd")) + (
    sorted(SEEDS.glob("*.mmd")) if SEEDS.is_dir() else [])
MAX_ITERATIONS = 2
# the random diagrams' count, scaled by MERMAIDGEN_PROPERTY_SCALE for a longer run (7 checks
# the 2,000 diagrams of issue 11's acceptance)
SCALE = max(1, int(os.environ.get("MERMAIDGEN_PROPERTY_SCALE", "1")))

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
    # must_follow[j]: the messages j waits for (same sender, or sent to j's sender)
    waits = [0] * n
    for j in range(n):
        for i in range(j):
            if drawn_before[j] >> i & 1 and msgs[j].sender in (msgs[i].sender,
                                                                msgs[i].receiver):
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
MIXED = "known unsound: a participant's sends are partly relayed, partly its own"


def _relayed_and_direct(contract: Diagram, original: Diagram) -> bool:
    """Does the orchestrator relay some of a participant's messages while the participant
    sends others itself? The projection then loses the order of that participant's own
    sends (`A->>B: m0` relayed as `Orchestrator->>B`, then `A->>Orchestrator: m2` sent by
    A: nothing orders them any more). Known, not fixed yet: the fix is to draw the hop
    that hands a relayed message to the orchestrator (`A->>Orchestrator`), in the
    contract and in the generated traces."""
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
    if _relayed_and_direct(contract, diagram):
        return MIXED
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


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_the_orchestration_of_every_sample_refines_it(path: Path) -> None:
    diagram = parse(path.read_text(encoding="utf-8"), source=path.name)
    problem = refines(diagram, random.Random(path.stem), 40)
    assert problem is None, problem  # (every sample is checked: none is SKIPPED)


def test_the_sampler_finds_the_lost_coupling() -> None:
    """The property can fail: the projection issue 11 found (the reply and the section
    as two independent choices) is caught."""
    from mermaidgen.model import Section, Span

    diagram = parse((PROJECT / "samples" / "saga-reply-decides.mmd").read_text(),
                    source="saga.mmd")
    contract = projected(analyse(diagram), "orchestration")
    # split the alt the way the old projection did: the replies first, then the sections
    statements = list(contract.statements)
    (k, alt), = [(k, s) for k, s in enumerate(statements) if isinstance(s, Block)]
    replies = Block("alt", tuple(Section(f"reply {i}", sec.statements[:1], sec.span)
                                 for i, sec in enumerate(alt.sections)), alt.span)
    rest = Block("alt", tuple(Section(sec.label, sec.statements[1:], sec.span)
                              for sec in alt.sections), alt.span)
    statements[k:k + 1] = [replies, rest]
    split = Diagram(contract.participants, tuple(statements), contract.span)
    rnd = random.Random(1)
    found = False
    for _ in range(60):
        run = random_trace(split, rnd)
        found = found or not check_trace(diagram, erase(run, diagram)).ok
    assert found
    assert Span  # (imported for the Section spans above)


@settings(max_examples=300 * SCALE, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.data_too_large])
@given(diagrams(max_statements=20))
def test_the_orchestration_of_random_diagrams_refines_them(generated: Generated) -> None:
    diagram = parse(generated.text, source="random.mmd")
    assume(not diagram.warnings)
    problem = refines(diagram, random.Random(0), 10)
    if problem in (SKIPPED, MIXED):
        event(problem)  # hypothesis counts them (--hypothesis-show-statistics)
        return
    assert problem is None, problem


@pytest.mark.xfail(strict=True, reason="known: a participant whose messages the "
                   "orchestrator relays in part loses the order of its own sends (see "
                   "_relayed_and_direct)")
def test_a_participant_partly_relayed_keeps_its_order() -> None:
    diagram = parse("sequenceDiagram\nA->>A0: m0\n0A->>A0: m1\nA->>0A: m2\nA->>A: m3\n"
                    "A->>A: m4\nA0->>0A: m5\n", source="mixed.mmd")
    contract = projected(analyse(diagram), "orchestration")
    assert _relayed_and_direct(contract, diagram)
    rnd = random.Random(0)
    for _ in range(40):
        erased = erase(random_trace(contract, rnd), diagram)
        assert check_trace(diagram, erased).ok, erased
