"""Contract checker behaviours that mutation testing found no test holding
(docs/mutation.md): each case is something a generated package's contract test, or a team
feeding its own traces to `check_trace`, relies on.
"""

from __future__ import annotations

import textwrap

import pytest

from mermaidgen import parse
from mermaidgen.contract import contract_of
from mermaidgen.contract.checker import _MANY, ContractError, _Program, check

MSG = ["message", "A", "B", "x", 2]

BAD_STREAMS = [
    # (id, stream rows, the error)
    ("empty-row", [MSG, []],
     "contract stream row 2 is out of place or not a message, block, section or end row: []"),
    ("number-row", [5],
     "contract stream row 1 is out of place or not a message, block, section or end row: 5"),
    ("message-row-without-line", [["message", "A", "B", "x"]],
     "contract stream row 1 is out of place or not a message, block, section or end row: "
     "['message', 'A', 'B', 'x']"),
    ("message-row-too-long", [MSG + ["extra"]],
     "contract stream row 1 is out of place or not a message, block, section or end row: "
     "['message', 'A', 'B', 'x', 2, 'extra']"),
    ("block-row-without-line", [["block", "loop", "again"], ["section", "again", 1], MSG,
                                ["end"]],
     "contract stream row 1 is out of place or not a message, block, section or end row: "
     "['block', 'loop', 'again']"),
    ("block-never-closed", [["block", "loop", "again", 1], ["section", "again", 1], MSG],
     "contract stream ends inside a loop block"),
]


@pytest.mark.parametrize("rows, error", [pytest.param(*b[1:], id=b[0]) for b in BAD_STREAMS])
def test_malformed_stream_says_which_row(rows: list, error: str) -> None:
    with pytest.raises(ContractError) as caught:
        check({"version": 1, "stream": rows}, [("A", "B", "x")])
    assert str(caught.value) == error


ITEM = {"kind": "message", "from": "A", "to": "B", "text": "x", "line": 2}

BAD_CONTRACTS = [
    # (id, contract, the error)
    ("other-version", {"version": 2, "items": []},
     "not a version 1 contract: expected {'version': 1, 'items': [...]}"),
    ("not-a-mapping", [], "not a version 1 contract: expected {'version': 1, 'items': [...]}"),
    ("no-items", {"version": 1}, "contract contract needs an 'items' list: {'version': 1}"),
    ("item-not-a-mapping", {"version": 1, "items": ["x"]},
     "contract item is not a mapping: 'x'"),
    ("unknown-kind", {"version": 1, "items": [{"kind": "note", "line": 4}]},
     "unknown contract item kind 'note' (line 4)"),
    ("message-text-not-a-string",
     {"version": 1, "items": [{"kind": "message", "from": "A", "to": "B", "text": 3}]},
     "contract message needs string from/to/text: "
     "{'kind': 'message', 'from': 'A', 'to': 'B', 'text': 3}"),
    ("block-without-sections", {"version": 1, "items": [{"kind": "alt", "line": 3}]},
     "contract alt block needs a 'sections' list (line 3)"),
    ("second-section-without-items",
     {"version": 1, "items": [{"kind": "alt", "line": 3, "sections": [
         {"label": "yes", "items": [ITEM]}, {"label": "no"}]}]},
     "contract section needs an 'items' list: {'label': 'no'}"),
    ("first-section-without-items",
     {"version": 1, "items": [{"kind": "loop", "line": 3, "sections": [{"label": "again"}]}]},
     "contract section needs an 'items' list: {'label': 'again'}"),
    ("rect-section-without-items",
     {"version": 1, "items": [{"kind": "rect", "line": 3, "sections": [{"label": "r"}]}]},
     "contract section needs an 'items' list: {'label': 'r'}"),
]


@pytest.mark.parametrize("contract, error",
                         [pytest.param(*b[1:], id=b[0]) for b in BAD_CONTRACTS])
def test_malformed_contract_says_what_is_wrong(contract: object, error: str) -> None:
    with pytest.raises(ContractError) as caught:
        check(contract, [])  # type: ignore[arg-type]
    assert str(caught.value) == error


ONE_MESSAGE = {"version": 1, "items": [ITEM]}

TRACES = [
    # (id, trace, ok or the error)
    ("tuples", [("A", "B", "x")], True),
    ("lists", [["A", "B", "x"]], True),
    ("mappings", [{"from": "A", "to": "B", "text": "x"}], True),
    ("a-pair-second", [("A", "B", "x"), ("A", "B")],
     "trace message 2 is not (sender, receiver, text): ('A', 'B')"),
    ("mapping-without-text", [{"from": "A", "to": "B"}],
     "trace message 1 is not (sender, receiver, text): ('A', 'B', None)"),
    ("number-text", [("A", "B", 3)],
     "trace message 1 is not (sender, receiver, text): ('A', 'B', 3)"),
    ("a-string", ["AB x"], "trace message 1 is not (sender, receiver, text): 'AB x'"),
    ("four-fields", [("A", "B", "x", "y")],
     "trace message 1 is not (sender, receiver, text): ('A', 'B', 'x', 'y')"),
]


@pytest.mark.parametrize("trace, expected", [pytest.param(*t[1:], id=t[0]) for t in TRACES])
def test_trace_shapes(trace: list, expected: bool | str) -> None:
    if expected is True:
        assert check(ONE_MESSAGE, trace)["ok"]
        return
    with pytest.raises(ContractError) as caught:
        check(ONE_MESSAGE, trace)
    assert str(caught.value) == expected


ANY = "any number"

BOUNDS = [
    # (id, diagram body, per message text: the fewest and most times a run sends it)
    ("alt-takes-one-section", "alt a\nA->>B: x\nelse b\nA->>B: y\nA->>B: x\nend",
     {"x": (1, 1), "y": (0, 1)}),
    ("opt-may-skip", "opt\nA->>B: x\nend", {"x": (0, 1)}),
    ("loop-runs-at-least-once", "loop\nA->>B: x\nend", {"x": (1, ANY)}),
    ("par-runs-every-section", "par\nA->>B: x\nand\nA->>B: x\nand\nA->>B: y\nend",
     {"x": (2, 2), "y": (1, 1)}),
    ("what-follows-a-break-may-not-happen", "A->>B: w\nbreak\nA->>B: x\nend\nA->>B: y",
     {"w": (1, 1), "x": (0, 1), "y": (0, 1)}),
    ("critical-option-may-cut-the-main-section",
     "critical\nA->>B: x\nA->>B: y\noption\nA->>B: z\nend",
     {"x": (0, 1), "y": (0, 1), "z": (0, 1)}),
    ("critical-main-then-option-sends-twice", "critical\nA->>B: x\noption\nA->>B: x\nend",
     {"x": (1, 2)}),
    ("loop-inside-opt", "opt\nloop\nA->>B: x\nend\nend", {"x": (0, ANY)}),
    ("opt-inside-loop", "loop\nopt\nA->>B: x\nend\nend", {"x": (0, ANY)}),
    ("the-same-message-twice", "A->>B: x\nA->>B: x", {"x": (2, 2)}),
    ("an-optional-copy-then-a-sure-one", "opt\nA->>B: x\nend\nA->>B: x", {"x": (1, 2)}),
    ("par-of-an-optional-and-a-sure-copy", "par\nopt\nA->>B: x\nend\nand\nA->>B: x\nend",
     {"x": (1, 2)}),
    ("alt-of-an-optional-and-a-sure-copy",
     "alt a\nopt\nA->>B: x\nend\nelse b\nA->>B: x\nend", {"x": (0, 1)}),
    ("break-inside-loop", "loop\nA->>B: x\nbreak\nA->>B: y\nend\nA->>B: z\nend",
     {"x": (1, ANY), "y": (0, ANY), "z": (0, ANY)}),
]


@pytest.mark.parametrize("body, expected", [pytest.param(*b[1:], id=b[0]) for b in BOUNDS])
def test_message_count_bounds(body: str, expected: dict) -> None:
    # the bounds decide, before any search, that a trace with a message too many or too
    # few cannot conform: too narrow, a conforming trace gets a twentieth of the search
    # budget; too wide, a failing one is searched in full and may be called "might still
    # conform"
    text = "sequenceDiagram\n" + textwrap.indent(body, "    ") + "\n"
    program = _Program(contract_of(parse(text)))
    texts = {m[4]: m[2] for m in program.msgs}
    found = {texts[label]: (lo, ANY if hi == _MANY else hi)
             for label, (lo, hi) in program.bounds.items()}
    assert found == expected


@pytest.mark.parametrize("order", [pytest.param("xy", id="x-first"),
                                   pytest.param("yx", id="y-first")])
def test_par_over_is_par(order: str) -> None:
    # `par_over` (mermaid's `par over A,B`) is written as `par` by contract_of, but a
    # contract written by hand may say it
    contract = {"version": 1, "items": [{"kind": "par_over", "label": "", "line": 2,
                                         "sections": [
        {"label": "", "line": 2, "items": [dict(ITEM, text="x")]},
        {"label": "", "line": 4, "items": [dict(ITEM, **{"from": "C"}, text="y")]}]}]}
    sent = {"x": ("A", "B", "x"), "y": ("C", "B", "y")}
    result = check(contract, [sent[c] for c in order])
    assert result["ok"], result["explanation"]
