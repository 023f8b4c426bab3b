"""Trace conformance for the library: a diagram's contract data, and checking traces.

A *contract* is the plain data the checker needs (messages and blocks, JSON-able); a
*trace* is what a run sent, in order. `keys.py` and the `checker/` package are
standard-library only and are copied verbatim into every generated package
(`vendored_sources`), so that the package's own contract test runs the very same checker
without mermaidgen installed. `conformance.md` defines the semantics; `checker`'s docstring
records the choices made where it leaves room.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from mermaidgen.model import Block, Destroy, Diagram, Message, Statement

# The checker is imported when first needed: `keys`, which names and events use on every
# command's path, lives in this package too, and should not bring the checker along.
_FROM_CHECKER = ("ContractError", "check")


def __getattr__(name: str):
    if name in _FROM_CHECKER:
        from mermaidgen.contract import checker

        return getattr(checker, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["CHECKER_SOURCES", "LOST_ARROWS", "Arrow", "ContractError", "Projected", "Verdict",
           "check", "check_trace", "contract_of", "vendored_sources"]

CHECKER_SOURCES = ("keys.py", *(f"checker/{module}.py" for module in (
    "__init__", "data", "sagas", "program", "search", "verdict")), "drive.py")
"""The modules a generated package gets a verbatim copy of: `keys`, the `checker` package
(whose modules import `..keys`) and `drive`."""


@dataclass(frozen=True, slots=True)
class Projected(Diagram):
    """A diagram as a projection's code runs it: plain Mermaid, plus what Mermaid cannot
    draw. `taken_by`: messages (by source position: line, column) that the code records
    when another participant takes them, so they come after everything that participant
    sent and received before (a message an orchestrator awaits is recorded when its
    workflow asks for it, whoever sent it). The checker reads this as the contract key
    `after`; the Mermaid text of the diagram does not show it."""

    taken_by: Mapping[tuple[int, int], str] = field(
        default_factory=lambda: MappingProxyType({}))


def contract_of(diagram: Diagram, *, stream: bool = False,
                relays: Sequence[str] = (), sagas: bool = True) -> dict:
    """The contract data of a diagram: its messages and blocks, `rect` flattened, notes,
    activations and other statements dropped, `par_over` as `par`.

    `relays`: the participants that relay like brokers (an event passed on when it is
    published, order kept per publisher, broker and receiver; `checker`): the brokers
    the analysis finds (`analyse(diagram).brokers`), for a choreography contract.

    `sagas=False` checks a `critical`'s option of compensations as drawn, whole, after
    any prefix of the main section (`"sagas": false`: the choreography style's code runs
    it so), rather than undoing only the steps a run took (`checker.undone_steps`).

    With `stream`, the same contract as a flat list of rows (`checker.nest` describes
    them): data that stays two levels deep however deeply the diagram nests its blocks,
    so that it can be written as a Python literal or JSON.

    A lost message (`-x`, `--x` that is not a self message and does not go with a
    `destroy` drawn right before it: the analysis' role `lost`) is marked so: it reaches
    nobody, and its receiver's later sends do not wait for it."""
    from mermaidgen.contract.checker import CONTRACT_VERSION, nest

    relays = tuple(relays)
    taken_by = diagram.taken_by if isinstance(diagram, Projected) else {}
    rows: list[list] = []
    destroyed: str | None = None  # announced by a `destroy` for the next message
    # statements to read, with the rows that open and close blocks already in place; no
    # recursion, so that diagrams nested thousands of levels deep work
    stack: list[Iterator[Statement | list]] = [iter(diagram.statements)]
    while stack:
        for s in stack[-1]:
            if isinstance(s, list):
                rows.append(s)
            elif isinstance(s, Message):
                rows.append(["message", s.sender, s.receiver, s.text, s.span.line])
                options: dict[str, object] = {}
                if _lost(s, destroyed, relays):
                    options["lost"] = True
                taker = taken_by.get((s.span.line, s.span.column))
                if taker is not None and taker != s.sender:
                    options["after"] = taker
                if options:
                    rows[-1].append(options)
                destroyed = None
            elif isinstance(s, Destroy):
                destroyed = s.participant
            elif isinstance(s, Block):
                stack.append(iter(_block_rows(s)))
                break
        else:
            stack.pop()
    contract: dict = {"version": CONTRACT_VERSION, "stream": rows}
    if relays:
        contract["relays"] = list(relays)
    if not sagas:
        contract["sagas"] = False
    return contract if stream else nest(contract)


LOST_ARROWS = frozenset({"-x", "--x"})


def _lost(m: Message, destroyed: str | None, relays: tuple[str, ...]) -> bool:
    """Does `m` reach nobody? The analysis' role `lost` (roles.py), read off the message:
    a lost arrow is never a request nor a reply. A broker's own deliveries are passed on
    whatever their arrow (the choreography delivers them)."""
    return (m.arrow in LOST_ARROWS and m.sender != m.receiver
            and destroyed not in (m.sender, m.receiver) and m.sender not in relays)


def _block_rows(block: Block) -> list[Statement | list]:
    if block.kind == "rect":  # no effect on the trace: its statements join the parent's
        return [s for section in block.sections for s in section.statements]
    label = block.sections[0].label if block.sections else ""
    out: list[Statement | list] = [
        ["block", "par" if block.kind == "par_over" else block.kind, label, block.span.line]]
    for section in block.sections:
        out.append(["section", section.label, section.span.line])
        out += section.statements
    out.append(["end"])
    return out


@dataclass(frozen=True, slots=True)
class Arrow:
    """A message in a verdict: a diagram message (`line`) or a trace message
    (`position`, 0-based)."""

    sender: str
    receiver: str
    text: str
    line: int | None = None
    position: int | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a trace conforms to a diagram, and if not, why."""

    ok: bool
    explanation: str
    missing: tuple[Arrow, ...] = ()
    """Diagram messages the trace lacks."""
    unexpected: tuple[Arrow, ...] = ()
    """Trace messages the diagram has no place for."""


TraceMessage = Sequence[str] | Mapping[str, str]


def check_trace(diagram_or_contract: Diagram | Mapping, trace: Iterable[TraceMessage], *,
                max_scenarios: int | None = None, max_steps: int | None = None,
                relays: Sequence[str] = ()) -> Verdict:
    """Check a trace, e.g. one recorded from a real system, against a diagram (or its
    contract data). Trace messages are `(sender, receiver, text)` in the diagram's
    participant names, or mappings with keys `from`, `to`, `text`. The search limits
    default to the checker's own."""
    from mermaidgen.contract.checker import MAX_SCENARIOS, MAX_STEPS, check

    contract = (contract_of(diagram_or_contract, relays=relays)
                if isinstance(diagram_or_contract, Diagram) else dict(diagram_or_contract))
    result = check(contract, list(trace),
                   max_scenarios=MAX_SCENARIOS if max_scenarios is None else max_scenarios,
                   max_steps=MAX_STEPS if max_steps is None else max_steps)
    return Verdict(
        result["ok"], result["explanation"],
        tuple(Arrow(m["from"], m["to"], m["text"], line=m["line"])
              for m in result["missing"]),
        tuple(Arrow(m["from"], m["to"], m["text"], position=m["position"])
              for m in result["unexpected"]),
    )


def vendored_sources() -> dict[str, str]:
    """The text of each of `CHECKER_SOURCES`, to be written into a generated package."""
    from importlib import resources  # here: the analysis imports this package for keys.py

    here = resources.files(__name__)
    return {name: here.joinpath(name).read_text(encoding="utf-8") for name in CHECKER_SOURCES}
