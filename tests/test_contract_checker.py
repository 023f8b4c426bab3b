"""Trace conformance (conformance.md): which runs of a diagram the checker accepts, what it
says about the others, and that its vendored copy runs without mermaidgen."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mermaidgen import parse
from mermaidgen.analysis import events as analysis_events
from mermaidgen.analysis.naming import words as naming_words
from mermaidgen.contract import (
    CHECKER_SOURCES,
    Arrow,
    ContractError,
    Verdict,
    check_trace,
    contract_of,
    keys,
    vendored_sources,
)
from mermaidgen.contract.checker import check, nest
from mermaidgen.model import Block, Message

ROOT = Path(__file__).resolve().parent.parent


def diagram(body: str):
    """A diagram from an indented body (the `sequenceDiagram` header is added)."""
    text = "sequenceDiagram\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
    return parse(text + "\n", source="test.mmd")


def arrows(spec: str) -> list[tuple[str, str, str]]:
    """`"A>B: hello; B>C: bye"` -> [("A", "B", "hello"), ("B", "C", "bye")]."""
    out = []
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        head, text = part.split(":", 1)
        sender, receiver = head.split(">")
        out.append((sender.strip(), receiver.strip(), text.strip()))
    return out


def run(body: str, trace: str) -> dict:
    return check(contract_of(diagram(body)), arrows(trace))


# --- the seed example of conformance.md ---------------------------------------------------

SEED_EVENTS = {
    "E1": ("ServiceA", "ServiceB", "Event 1"),
    "E2": ("ServiceB", "ServiceC", "Event 2"),
    "E3": ("ServiceC", "ServiceA", "Event 3"),
    "E4": ("ServiceB", "ServiceA", "Event 4"),
    "E5": ("ServiceC", "ServiceB", "Event 5"),
}

# the example of conformance.md, written out here so that the tests need nothing beside
# the project
SEED_TEXT = "sequenceDiagram\n" + "".join(
    f"    participant {p}\n" for p in ("ServiceA", "ServiceB", "ServiceC")) + "".join(
    f"    {s}->>{r}: {t}\n" for s, r, t in SEED_EVENTS.values())


@pytest.fixture(scope="module")
def seed_contract() -> dict:
    return contract_of(parse(SEED_TEXT, source="seed.mmd"))


def seed_trace(order: str) -> list[tuple[str, str, str]]:
    return [SEED_EVENTS[e] for e in order.split()]


@pytest.mark.parametrize("order", [
    pytest.param("E1 E2 E3 E4 E5", id="drawn-order"),
    pytest.param("E1 E2 E4 E3 E5", id="fifo-bus"),
    pytest.param("E1 E2 E3 E5 E4", id="depth-first"),
])
def test_seed_orders_that_conform(seed_contract: dict, order: str) -> None:
    result = check(seed_contract, seed_trace(order))
    assert result["ok"], result["explanation"]
    assert [m["line"] for m in result["matched"]] == [
        5 + int(e[1]) - 1 for e in order.split()]
    assert result["explanation"].startswith("trace conforms")


# (order, kind of the first failure, diagram line it names, text the explanation holds)
SEED_FAILURES = [
    pytest.param("E1 E3 E2 E4 E5", "out_of_order", 6,
                 "trace event 2 `ServiceC->>ServiceA: Event 3` (line 7) happened before "
                 "`ServiceB->>ServiceC: Event 2` (line 6)", id="E3-before-E2"),
    pytest.param("E1 E2 E3 E4", "missing", 9,
                 "missing:    ServiceC->>ServiceB: Event 5 (line 9)", id="E5-missing"),
    pytest.param("E1 E2 E3 E4 E5 E5", "unexpected", None,
                 "trace event 6 `ServiceC->>ServiceB: Event 5` happens more often than the "
                 "diagram allows (line 9)", id="E5-twice"),
    pytest.param("E1 E2 E4 E5 E3", "out_of_order", 7,
                 "(ServiceC sends them in this order)", id="E5-before-E3-same-sender"),
    pytest.param("E2 E1 E3 E4 E5", "out_of_order", 5,
                 "(ServiceB sends only after it received Event 1)", id="E2-first"),
    pytest.param("E1 E3 E4 E5", "missing", 6,
                 "`ServiceB->>ServiceC: Event 2` (line 6) never happened, but trace event 2",
                 id="E2-missing"),
    pytest.param("", "missing", 5, "(and 4 more)", id="empty-trace"),
]


@pytest.mark.parametrize("order, kind, line, says", SEED_FAILURES)
def test_seed_orders_that_do_not_conform(seed_contract: dict, order: str, kind: str,
                                         line: int | None, says: str) -> None:
    result = check(seed_contract, seed_trace(order))
    assert not result["ok"]
    failure = result["first_failure"]
    assert failure["kind"] == kind
    named = failure["depends_on"] or failure["message"]
    assert (named["line"] if named else None) == line
    assert says in result["explanation"]
    print(result["explanation"])


def test_seed_explanation_is_a_readable_diff(seed_contract: dict) -> None:
    explanation = check(seed_contract, seed_trace("E1 E3 E2 E4 E5"))["explanation"]
    lines = explanation.splitlines()
    assert lines[0] == "trace does not conform to the diagram:"
    assert lines[2].strip() == ("which the diagram draws first and which it depends on "
                                "(ServiceC sends only after it received Event 2)")
    header = next(n for n, line in enumerate(lines) if "expected (one valid order):" in line)
    rows = lines[header + 1:header + 6]
    seen_column = lines[header].index("seen:")
    assert [row[seen_column:].split("  ", 1)[1] for row in rows] == [
        "ServiceA->>ServiceB: Event 1", "ServiceC->>ServiceA: Event 3",
        "ServiceB->>ServiceC: Event 2", "ServiceB->>ServiceA: Event 4",
        "ServiceC->>ServiceB: Event 5"]
    assert [row[2] for row in rows] == [" ", "!", "!", " ", " "]
    assert "L6" in rows[1] and "ServiceB->>ServiceC: Event 2" in rows[1]


# --- every block kind ---------------------------------------------------------------------

ALT = """
    A->>B: start
    alt ok
      B->>C: ok1
      C->>A: ok2
    else failed
      B->>A: failed
    end
    A->>D: done
"""
OPT = """
    A->>B: a
    opt sometimes
      B->>C: b
    end
    A->>C: c
"""
LOOP = """
    loop every item
      A->>B: req
      B->>C: fwd
    end
    C->>A: done
"""
PAR = """
    A->>B: go
    par one
      B->>C: x
      C->>B: x done
    and two
      B->>D: y
      D->>B: y done
    end
    B->>A: all done
"""
PAR_TWINS = """
    par one
      A->>B: x
      B->>C: p
    and two
      A->>B: x
      A->>D: q
    end
"""
CRITICAL = """
    A->>B: open
    critical transaction
      B->>C: begin
      B->>C: write
      B->>C: commit
    option timeout
      B->>C: rollback
    option refused
      B->>A: refused
    end
    B->>A: result
"""
TIMED = """
    S->>S: pack
    critical book
      S->>C: book
      C->>S: booked
      S->>M: pickup time
    option no answer within 2s
      S->>M: delay notice
    end
"""
TIMED_SHORT = """
    critical book
      S->>C: book
      C->>S: booked
    option no answer within 2s
      S->>M: delay notice
    end
"""
BREAK = """
    A->>B: order
    break out of stock
      B->>A: sorry
    end
    B->>C: ship
    C->>A: shipped
"""
BREAK_IN_LOOP = """
    loop attempts
      A->>P: post
      P->>A: status
      break delivered
        A->>L: mark delivered
      end
      A->>A: wait
    end
    opt all failed
      A->>O: alert
    end
"""
BREAK_IN_ALT = """
    alt first
      A->>B: one
      break stop here
        B->>A: stop
      end
      B->>A: two
    else second
      A->>B: other
    end
    A->>C: after
"""
NESTED = """
    loop items
      A->>B: item
      alt valid
        B->>C: store
      else invalid
        B->>A: reject
      end
    end
    par
      A->>D: report
    and
      opt audit
        B->>E: audit
      end
    end
"""
RECT_AND_NOTES = """
    rect rgb(200, 220, 255)
      A->>B: inside
      Note over A,B: ignored
    end
    activate B
    B->>A: after
    deactivate B
"""

BLOCKS = [
    # alt: exactly one section
    (ALT, "A>B: start; B>C: ok1; C>A: ok2; A>D: done", True, "alt-first"),
    (ALT, "A>B: start; B>A: failed; A>D: done", True, "alt-second"),
    (ALT, "A>B: start; B>C: ok1; C>A: ok2; B>A: failed; A>D: done", False, "alt-both"),
    (ALT, "A>B: start; B>C: ok1; B>A: failed; A>D: done", False, "alt-mixed"),
    (ALT, "A>B: start; A>D: done", False, "alt-neither"),
    # opt: the section or nothing
    (OPT, "A>B: a; B>C: b; A>C: c", True, "opt-taken"),
    (OPT, "A>B: a; A>C: c", True, "opt-skipped"),
    (OPT, "A>B: a; A>C: c; B>C: b", True, "opt-independent-of-later"),
    (OPT, "A>B: a; B>C: b; B>C: b; A>C: c", False, "opt-twice"),
    # loop: one or more iterations, each after the previous for a shared sender
    (LOOP, "A>B: req; B>C: fwd; C>A: done", True, "loop-1"),
    (LOOP, "A>B: req; B>C: fwd; A>B: req; B>C: fwd; C>A: done", True, "loop-2"),
    (LOOP, "A>B: req; B>C: fwd; A>B: req; B>C: fwd; A>B: req; B>C: fwd; C>A: done", True,
     "loop-3"),
    (LOOP, "A>B: req; A>B: req; B>C: fwd; B>C: fwd; C>A: done", True, "loop-pipelined"),
    (LOOP, "C>A: done", False, "loop-0"),
    (LOOP, "A>B: req; B>C: fwd; A>B: req; C>A: done", False, "loop-partial-iteration"),
    (LOOP, "A>B: req; B>C: fwd; B>C: fwd; A>B: req; C>A: done", False,
     "loop-fwd-before-its-req"),
    # par: every section, any interleaving, each section in its own order
    (PAR, "A>B: go; B>C: x; C>B: x done; B>D: y; D>B: y done; B>A: all done", True,
     "par-in-order"),
    (PAR, "A>B: go; B>D: y; B>C: x; D>B: y done; C>B: x done; B>A: all done", True,
     "par-interleaved"),
    (PAR, "A>B: go; B>D: y; D>B: y done; B>C: x; C>B: x done; B>A: all done", True,
     "par-second-first"),
    (PAR, "A>B: go; B>D: y; D>B: y done; B>A: all done", False, "par-section-missing"),
    (PAR, "A>B: go; B>C: x; C>B: x done; B>D: y; B>A: all done; D>B: y done", False,
     "par-join-too-early"),
    (PAR, "B>C: x; A>B: go; C>B: x done; B>D: y; D>B: y done; B>A: all done", False,
     "par-before-its-cause"),
    # the same message in two par sections: which one a trace message is must be searched
    (PAR_TWINS, "A>B: x; A>D: q; A>B: x; B>C: p", True, "par-twins-second-first"),
    (PAR_TWINS, "A>B: x; B>C: p; A>B: x; A>D: q", True, "par-twins-first-first"),
    (PAR_TWINS, "A>B: x; A>D: q; B>C: p; A>B: x", False, "par-twins-impossible"),
    # critical: the main section, or an option after a prefix of it
    (CRITICAL, "A>B: open; B>C: begin; B>C: write; B>C: commit; B>A: result", True,
     "critical-main"),
    (CRITICAL, "A>B: open; B>C: rollback; B>A: result", True, "critical-option-at-once"),
    (CRITICAL, "A>B: open; B>C: begin; B>C: write; B>C: rollback; B>A: result", True,
     "critical-option-after-prefix"),
    (CRITICAL, "A>B: open; B>C: begin; B>A: refused; B>A: result", True,
     "critical-second-option"),
    (CRITICAL, "A>B: open; B>C: begin; B>C: rollback; B>C: write; B>A: result", False,
     "critical-main-after-option"),
    (CRITICAL, "A>B: open; B>C: write; B>C: rollback; B>A: result", False,
     "critical-not-a-prefix"),
    (CRITICAL, "A>B: open; B>C: rollback; B>A: refused; B>A: result", False,
     "critical-two-options"),
    # an option means the main section did not complete: never the whole main, then it
    (CRITICAL, "A>B: open; B>C: begin; B>C: write; B>C: commit; B>C: rollback; B>A: result",
     False, "critical-whole-main-then-option"),
    (TIMED, "S>S: pack; S>C: book; C>S: booked; S>M: pickup time; S>M: delay notice", False,
     "timed-both-sections"),
    # a reply the decider had not received when its timer fired does not order the option
    (TIMED, "S>S: pack; S>C: book; S>M: delay notice; C>S: booked", True, "timed-late-reply"),
    (TIMED, "S>S: pack; S>C: book; C>S: booked; S>M: delay notice", True,
     "timed-reply-races-the-timer"),
    (TIMED, "S>S: pack; S>C: book; S>M: delay notice; C>S: booked; S>M: pickup time", False,
     "timed-main-goes-on-after-the-option"),
    (TIMED, "S>S: pack; S>M: delay notice; C>S: booked", False, "timed-reply-without-request"),
    (TIMED_SHORT, "S>C: book; S>M: delay notice; C>S: booked", True, "timed-short-late-reply"),
    (TIMED_SHORT, "S>C: book; C>S: booked; S>M: delay notice", True,
     "timed-short-reply-races-the-timer"),
    # break: when taken, nothing more from the enclosing block (here: the diagram)
    (BREAK, "A>B: order; B>A: sorry", True, "break-taken"),
    (BREAK, "A>B: order; B>C: ship; C>A: shipped", True, "break-not-taken"),
    (BREAK, "A>B: order; B>A: sorry; B>C: ship; C>A: shipped", False, "break-then-more"),
    (BREAK_IN_LOOP, "A>P: post; P>A: status; A>L: mark delivered", True,
     "break-ends-loop-at-once"),
    (BREAK_IN_LOOP, ("A>P: post; P>A: status; A>A: wait; A>P: post; P>A: status; "
                     "A>L: mark delivered"), True, "break-ends-loop-later"),
    (BREAK_IN_LOOP, "A>P: post; P>A: status; A>A: wait; A>O: alert", True,
     "break-never-taken"),
    (BREAK_IN_LOOP, "A>P: post; P>A: status; A>L: mark delivered; A>A: wait", False,
     "break-then-rest-of-iteration"),
    (BREAK_IN_LOOP, ("A>P: post; P>A: status; A>L: mark delivered; A>P: post; "
                     "P>A: status; A>L: mark delivered"), False, "break-then-another-iteration"),
    (BREAK_IN_ALT, "A>B: one; B>A: stop; A>C: after", True, "break-ends-alt-section"),
    (BREAK_IN_ALT, "A>B: one; B>A: two; A>C: after", True, "break-in-alt-not-taken"),
    (BREAK_IN_ALT, "A>B: one; B>A: stop; B>A: two; A>C: after", False,
     "break-then-rest-of-section"),
    # nested blocks
    (NESTED, ("A>B: item; B>C: store; A>B: item; B>A: reject; A>B: item; B>C: store; "
              "A>D: report"), True, "nested-branch-per-iteration"),
    (NESTED, "A>B: item; B>A: reject; B>E: audit; A>D: report", True, "nested-par-opt"),
    (NESTED, "A>B: item; B>C: store; B>A: reject; A>D: report", False,
     "nested-both-branches-in-one-iteration"),
    # rect, notes and activations have no effect
    (RECT_AND_NOTES, "A>B: inside; B>A: after", True, "rect-flattened"),
    (RECT_AND_NOTES, "B>A: after; A>B: inside", False, "rect-order-kept"),
]


@pytest.mark.parametrize("body, trace, ok", [pytest.param(*case[:3], id=case[3])
                                             for case in BLOCKS])
def test_blocks(body: str, trace: str, ok: bool) -> None:
    result = run(body, trace)
    assert result["ok"] is ok, result["explanation"]
    if not ok:
        print(result["explanation"])
        assert result["first_failure"] is not None
        assert result["missing"] or result["unexpected"] or result["out_of_order"]


# (body, trace, what the explanation must say)
EXPLAINED = [
    (ALT, "A>B: start; B>C: ok1; B>A: failed; A>D: done",
     ["trace event 3 `B->>A: failed` cannot happen at this point (line 7);",
      "the diagram expected: `C->>A: ok2` (line 5)", "missing:    C->>A: ok2 (line 5)",
      "unexpected: B->>A: failed (trace event 3)"], "alt-mixed"),
    (LOOP, "C>A: done", ["`B->>C: fwd` (line 4) never happened, but trace event 1",
                         "missing:    A->>B: req (line 3)"], "loop-0"),
    (BREAK, "A>B: order; B>A: sorry; B>C: ship; C>A: shipped",
     ["`B->>C: ship` cannot happen at this point (line 6)",
      "the diagram expected: nothing more"], "break-then-more"),
    (NESTED, "A>B: item; B>C: store; B>A: reject; A>D: report",
     ["unexpected: B->>A: reject (trace event 3)"], "one-unexpected-not-a-cascade"),
]


@pytest.mark.parametrize("body, trace, says", [pytest.param(*case[:3], id=case[3])
                                               for case in EXPLAINED])
def test_explanations(body: str, trace: str, says: list[str]) -> None:
    explanation = run(body, trace)["explanation"]
    for text in says:
        assert text in explanation, explanation


# --- texts: the analysis's event keys, never substrings -----------------------------------

BROKER = """
    participant Orders
    participant Kafka@{ "type": "queue" }
    participant Billing
    participant Shipping
    Orders->>Kafka: Publish: ORDER_CREATED (orders.v1)
    par deliver
      Kafka->>Billing: Consume: ORDER_CREATED
    and
      Kafka->>Shipping: Consume: ORDER_CREATED
    end
    Billing->>Kafka: InvoiceIssued
"""


@pytest.mark.parametrize("texts, ok", [
    pytest.param(("OrderCreated", "ORDER_CREATED", "order created"), True, id="spellings"),
    pytest.param(("Publish: ORDER_CREATED", "OrderCreated event", "Consume order-created"),
                 True, id="verbs-and-event"),
    pytest.param(("Order", "OrderCreated", "OrderCreated"), False, id="not-a-prefix"),
    pytest.param(("OrderCreated", "OrderCreatedV2", "OrderCreated"), False,
                 id="not-a-superstring"),
])
def test_texts_compare_by_event_key(texts: tuple[str, str, str], ok: bool) -> None:
    trace = [("Orders", "Kafka", texts[0]), ("Kafka", "Billing", texts[1]),
             ("Kafka", "Shipping", texts[2]), ("Billing", "Kafka", "Invoice issued")]
    result = check(contract_of(diagram(BROKER)), trace)
    assert result["ok"] is ok, result["explanation"]


def test_diagram_text_is_not_a_pattern() -> None:
    result = run("A->>B: Order", "A>B: OrderCreated")
    assert not result["ok"]
    assert "is not in the diagram" in result["explanation"]


@pytest.mark.parametrize("trace, ok", [
    pytest.param("Orders>Kafka: x; Kafka>Billing: x; Kafka>Shipping: x; Billing>Kafka: i",
                 True, id="publish-then-deliveries"),
    pytest.param("Orders>Kafka: x; Kafka>Shipping: x; Kafka>Billing: x; Billing>Kafka: i",
                 True, id="deliveries-any-order"),
    pytest.param("Orders>Kafka: x; Kafka>Billing: x; Billing>Kafka: i; Kafka>Shipping: x",
                 True, id="reply-before-other-delivery"),
    pytest.param("Kafka>Billing: x; Orders>Kafka: x; Kafka>Shipping: x; Billing>Kafka: i",
                 False, id="delivery-before-publish"),
    pytest.param("Orders>Kafka: x; Kafka>Billing: x; Billing>Kafka: i", False,
                 id="delivery-missing"),
    pytest.param("Orders>Kafka: x; Kafka>Billing: x; Kafka>Billing: x; Billing>Kafka: i",
                 False, id="delivery-to-the-wrong-consumer"),
])
def test_broker_hops_are_two_arrows(trace: str, ok: bool) -> None:
    body = BROKER.replace("ORDER_CREATED (orders.v1)", "x").replace("ORDER_CREATED", "x")
    body = body.replace("InvoiceIssued", "i")
    result = run(body, trace)
    assert result["ok"] is ok, result["explanation"]


# --- the library API ------------------------------------------------------------------------


def test_contract_of_keeps_messages_and_blocks_only() -> None:
    d = diagram("""
        participant A
        A->>B: one
        rect rgb(1, 2, 3)
          Note over A: a note
          par_over A,B first
            A->>B: two
          and second
            B-->>A: three
          end
        end
        activate A
        loop forever
          A->>A: tick
        end
    """)
    assert contract_of(d) == {"version": 1, "items": [
        {"kind": "message", "from": "A", "to": "B", "text": "one", "line": 3},
        {"kind": "par", "label": "A,B first", "line": 6, "sections": [
            {"label": "A,B first", "line": 6, "items": [
                {"kind": "message", "from": "A", "to": "B", "text": "two", "line": 7}]},
            {"label": "second", "line": 8, "items": [
                {"kind": "message", "from": "B", "to": "A", "text": "three", "line": 9}]}]},
        {"kind": "loop", "label": "forever", "line": 13, "sections": [
            {"label": "forever", "line": 13, "items": [
                {"kind": "message", "from": "A", "to": "A", "text": "tick", "line": 14}]}]},
    ]}
    json.dumps(contract_of(d))  # plain data
    assert nest(contract_of(d, stream=True)) == contract_of(d)


def test_check_trace_takes_diagrams_contracts_and_dict_traces() -> None:
    d = parse(SEED_TEXT, source="seed.mmd")
    trace = [{"from": s, "to": r, "text": t} for s, r, t in seed_trace("E1 E2 E4 E3 E5")]
    assert check_trace(d, trace) == Verdict(True, check_trace(d, trace).explanation)
    verdict = check_trace(contract_of(d), trace[:-1])
    assert not verdict.ok
    assert verdict.missing == (Arrow("ServiceC", "ServiceB", "Event 5", line=9),)
    assert verdict.unexpected == ()
    verdict = check_trace(d, [*trace, ("ServiceC", "ServiceA", "Surprise")])
    assert verdict.unexpected == (Arrow("ServiceC", "ServiceA", "Surprise", position=5),)
    assert "trace event 6 `ServiceC->>ServiceA: Surprise` is not in the diagram" \
        in verdict.explanation


@pytest.mark.parametrize("contract, trace", [
    pytest.param({"items": []}, [], id="no-version"),
    pytest.param({"version": 2, "items": []}, [], id="other-version"),
    pytest.param({"version": 1, "items": [{"kind": "note"}]}, [], id="unknown-kind"),
    pytest.param({"version": 1, "items": [{"kind": "message", "from": "A"}]}, [],
                 id="message-without-text"),
    pytest.param({"version": 1, "items": [{"kind": "alt", "line": 3}]}, [],
                 id="block-without-sections"),
    pytest.param({"version": 1, "stream": [["block", "alt", "x", 1], ["message", "A", "B",
                                                                     "x", 2]]}, [],
                 id="stream-message-before-section"),
    pytest.param({"version": 1, "stream": [["block", "alt", "x", 1], ["section", "x", 1]]},
                 [], id="stream-unclosed-block"),
    pytest.param({"version": 1, "stream": [["end"]]}, [], id="stream-end-of-nothing"),
    pytest.param({"version": 1, "stream": [["message", "A", "B"]]}, [],
                 id="stream-short-row"),
    pytest.param({"version": 1, "items": []}, [("A", "B")], id="trace-pair"),
    pytest.param({"version": 1, "items": []}, [("A", "B", 3)], id="trace-number"),
])
def test_malformed_input_is_a_contract_error(contract: dict, trace: list) -> None:
    with pytest.raises(ContractError):  # (a ValueError)
        check(contract, trace)


def test_search_limit_is_reported() -> None:
    # the same message in many par sections: a failing trace makes the search try every
    # way to pair them up
    body = "par s0\n  A->>B: ping\n  B->>C: fwd\n" + "".join(
        f"and s{i}\n  A->>B: ping\n  B->>C: fwd\n" for i in range(1, 6)) + "end"
    trace = "A>B: ping;" * 5 + "B>C: fwd;" * 6 + "A>B: ping"
    result = check(contract_of(diagram(body)), arrows(trace), max_scenarios=200)
    assert not result["ok"]
    assert result["search"]["limit_hit"]
    assert "(search limit: stopped after 201 scenarios" in result["explanation"]
    assert result["first_failure"]["kind"] == "out_of_order"


# --- size and depth -------------------------------------------------------------------------


def big_diagram(messages: int) -> tuple[str, list[tuple[str, str, str]]]:
    """A diagram with about `messages` messages, a few alts, opts and loops, and the trace
    of one run of it (first sections, opts skipped, loops thrice)."""
    lines, trace = ["sequenceDiagram"], []
    names = [f"S{i}" for i in range(12)]
    n = 0

    def msg() -> tuple[str, str, str]:
        nonlocal n
        n += 1
        return names[n % 12], names[(n * 7 + 3) % 12 or 1], f"Event {n % 97}"

    def draw(m: tuple[str, str, str], indent: str = "    ") -> str:
        return f"{indent}{m[0]}->>{m[1]}: {m[2]}"

    while n < messages:
        if n % 101 == 50:
            first, second = [msg() for _ in range(3)], [msg() for _ in range(2)]
            lines += ["    alt ok", *(draw(m, "      ") for m in first), "    else not",
                      *(draw(m, "      ") for m in second), "    end"]
            trace += first
        elif n % 101 == 75:
            body = [msg() for _ in range(3)]
            lines += ["    loop each", *(draw(m, "      ") for m in body), "    end"]
            trace += body * 3
        elif n % 101 == 90:
            lines += ["    opt rarely", draw(msg(), "      "), "    end"]
        else:
            m = msg()
            lines.append(draw(m))
            trace.append(m)
    return "\n".join(lines) + "\n", trace


def test_a_thousand_messages(capsys: pytest.CaptureFixture) -> None:
    text, trace = big_diagram(1000)
    contract = contract_of(parse(text, source="big.mmd"))
    timings = {}
    for name, variant in [
        ("conforms", trace),
        ("one dropped", trace[:500] + trace[501:]),
        ("one extra", trace[:300] + [("S1", "S2", "Surprise")] + trace[300:]),
    ]:
        start = time.perf_counter()
        result = check(contract, variant)
        timings[name] = time.perf_counter() - start
        assert result["ok"] is (name == "conforms"), result["explanation"]
        assert not result["search"]["limit_hit"]
    with capsys.disabled():
        print(f"\n  checking {len(trace)} trace messages against {text.count('->>')} "
              "diagram messages: " + ", ".join(f"{name} {seconds * 1000:.0f} ms"
                                               for name, seconds in timings.items()))


KINDS = ("loop", "alt", "opt", "par", "critical", "break")


def nested_contract(depth: int) -> tuple[dict, list[tuple[str, str, str]]]:
    """Blocks nested `depth` deep (every kind in turn), a message on the way in and one on
    the way out of each; and the trace that takes every block (and break) once."""
    top: list = []
    items, trace, outs = top, [], []
    for level in range(depth):
        kind = KINDS[level % len(KINDS)]
        a, b, c = (f"P{(level + k) % 3}" for k in range(3))
        inner: list = [{"kind": "message", "from": a, "to": b, "text": f"in {level}",
                        "line": level + 1}]
        items.append({"kind": kind, "label": kind, "line": level + 1,
                      "sections": [{"label": kind, "line": level + 1, "items": inner}]})
        trace.append((a, b, f"in {level}"))
        outs.append((inner, (b, c, f"out {level}")))
        items = inner
    for level in reversed(range(depth)):
        inner, (b, c, text) = outs[level]
        inner.append({"kind": "message", "from": b, "to": c, "text": text,
                      "line": 2 * depth - level})
        if KINDS[(level + 1) % len(KINDS)] != "break" or level + 1 == depth:
            trace.append((b, c, text))  # (a break taken ends the section it is in)
    return {"version": 1, "items": top}, trace


def test_deeply_nested_contract() -> None:
    contract, trace = nested_contract(500)
    result = check(contract, trace)
    assert result["ok"], result["explanation"][:2000]
    broken = check(contract, trace[:10] + trace[11:])
    assert not broken["ok"]
    assert broken["first_failure"]["kind"] in {"missing", "out_of_order"}


def test_deeply_nested_diagram() -> None:
    depth = 500
    lines = ["sequenceDiagram"]
    for level in range(depth):
        lines += [" " * level + KINDS[level % 5], " " * level + f" A->>B: in {level}"]
    lines += [" " * level + "end" for level in reversed(range(depth))]
    d = parse("\n".join(lines) + "\n", source="deep.mmd")
    trace = [("A", "B", f"in {level}") for level in range(depth)]
    assert check(contract_of(d), trace)["ok"]
    # nested data this deep cannot be written as a Python literal or read back as JSON;
    # the stream form can
    stream = contract_of(d, stream=True)
    assert stream["stream"][:3] == [["block", "loop", "", 2], ["section", "", 2],
                                    ["message", "A", "B", "in 0", 3]]
    written = eval(compile(repr(stream), "diagram.py", "eval"))
    assert check(written, trace)["ok"]
    assert check(json.loads(json.dumps(stream)), trace[:-1])["missing"] == [
        {"from": "A", "to": "B", "text": f"in {depth - 1}", "line": 2 * depth + 1}]


# --- the vendored copy: standard library only -------------------------------------------------


def test_vendored_sources_are_the_modules() -> None:
    sources = vendored_sources()
    assert tuple(sources) == CHECKER_SOURCES
    here = Path(keys.__file__).parent
    for name, text in sources.items():
        assert text == (here / name).read_text(encoding="utf-8")
        assert "mermaidgen" not in "".join(
            line for line in text.splitlines() if line.startswith(("import", "from")))


def test_vendored_checker_runs_without_mermaidgen(tmp_path: Path) -> None:
    package = tmp_path / "flow" / "_generated"
    package.mkdir(parents=True)
    (tmp_path / "flow" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    for name, text in vendored_sources().items():
        (package / name).parent.mkdir(exist_ok=True)
        (package / name).write_text(text, encoding="utf-8")
    contract = contract_of(parse(SEED_TEXT, source="seed.mmd"), stream=True)
    (tmp_path / "contract.json").write_text(json.dumps(contract))
    script = textwrap.dedent(f"""
        import importlib.util, json, sys
        sys.path.insert(0, {str(tmp_path)!r})
        assert importlib.util.find_spec("mermaidgen") is None, "mermaidgen is importable"
        from flow._generated.checker import check
        from flow._generated.keys import event_key
        contract = json.load(open("contract.json"))
        good = [["ServiceA", "ServiceB", "Event 1"], ["ServiceB", "ServiceC", "Event 2"],
                ["ServiceB", "ServiceA", "Event 4"], ["ServiceC", "ServiceA", "EVENT_3"],
                ["ServiceC", "ServiceB", "Event 5"]]
        assert check(contract, good)["ok"]
        bad = check(contract, good[:-1])
        assert not bad["ok"] and bad["missing"][0]["line"] == 9
        print(event_key("Publish: ORDER_CREATED (orders.v1)"))
    """)
    done = subprocess.run([sys.executable, "-I", "-S", "-c", script], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "order created"


def test_vendored_sources_pass_ruff_defaults(tmp_path: Path) -> None:
    """Generated packages are checked with ruff's own defaults, whatever this project
    selects."""
    for name, text in vendored_sources().items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated",
                           "."], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


# --- keys.py is the analysis's normalisation ---------------------------------------------


def test_the_analysis_uses_the_vendored_keys() -> None:
    # generated checkers compare texts with keys.py; the analysis that named the events
    # must use the very same functions, not a copy that could drift
    assert naming_words is keys.words
    assert analysis_events.event_words is keys.event_words
    assert analysis_events.event_key is keys.event_key


# --- every sample: its main path conforms ---------------------------------------------------


def main_path(statements) -> list[tuple[str, str, str]]:
    """The messages of a diagram's main path in drawn order: first sections, opt taken,
    loops once, break not taken (no recursion)."""
    out: list[tuple[str, str, str]] = []
    stack = [iter(statements)]
    while stack:
        for s in stack[-1]:
            if isinstance(s, Message):
                out.append((s.sender, s.receiver, s.text))
            elif isinstance(s, Block) and s.kind != "break":
                taken = s.sections if s.kind in ("par", "par_over", "rect") else s.sections[:1]
                stack.append(iter([x for sec in taken for x in sec.statements]))
                break
        else:
            stack.pop()
    return out


@pytest.mark.parametrize("path", sorted((ROOT / "samples").glob("*.mmd")),
                         ids=lambda p: p.stem)
def test_sample_main_paths_conform(path: Path) -> None:
    d = parse(path.read_text(), source=str(path))
    trace = main_path(d.statements)
    result = check_trace(d, trace)
    assert result.ok, result.explanation
    if len(trace) > 1:  # and dropping its last message does not
        assert not check_trace(d, trace[:-1]).ok


# --- agreement with a brute-force reading of conformance.md ---------------------------------
#
# For small random contracts: every scenario is unfolded into a tree of sequences and
# parallel groups, the order is computed from the definition (drawn before, and same
# sender or receiver-then-sender, closed transitively), and a trace conforms when some
# scenario's messages can be matched to it one by one in an allowed order.

SMALL = 7  # messages at most, in a scenario and in a trace


class _TooMany(Exception):
    pass


def _scenarios(contract: dict) -> list:
    budget = [2_000]

    def size(tree) -> int:
        return 1 if isinstance(tree, dict) else tree[2]

    def node(kind: str, children: list) -> tuple:  # (kind, children, messages)
        return kind, children, sum(map(size, children))

    def flat(tree) -> list:
        return [tree] if isinstance(tree, dict) else [x for c in tree[1] for x in flat(c)]

    def prefix(tree, k: int):  # the first k messages, in document order
        if isinstance(tree, dict):
            return (tree if k else None), min(k, 1)
        out, used = [], 0
        for child in tree[1]:
            if used < k:
                part, n = prefix(child, k - used)
                out += [part] if part is not None else []
                used += n
        return node(tree[0], out) + tuple(tree[3:]), used

    def section(items: list) -> list:  # [(children, whether a break ended it)]
        results = [([], False, 0)]
        for item in items:
            outcomes, new = block(item), []
            for children, broke, n in results:
                if broke:
                    new.append((children, broke, n))
                    continue
                for tree, breaks in outcomes:
                    if n + size(tree) <= SMALL:
                        new.append((children + [tree], breaks, n + size(tree)))
            budget[0] -= len(new)
            if budget[0] < 0:
                raise _TooMany
            results = new
        return [(children, broke) for children, broke, _ in results]

    def block(item: dict) -> list:  # [(tree, whether it is a break taken)]
        kind = item["kind"]
        if kind == "message":
            return [(item, False)]
        secs = [section(s["items"]) for s in item["sections"]]
        seqs = [[node("seq", c) for c, _ in s] for s in secs]
        if kind == "alt":
            return [(t, False) for s in seqs for t in s]
        if kind in ("opt", "break"):
            return [(t, kind == "break") for t in seqs[0]] + [(node("seq", []), False)]
        if kind == "par":
            combos: list = [[]]
            for options in seqs:
                combos = [c + [t] for c in combos for t in options
                          if sum(map(size, c)) + size(t) <= SMALL]
            return [(node("par", c), False) for c in combos]
        if kind == "loop":
            out, runs = [], [[]]
            while runs:
                longer = []
                for its in runs:
                    for c, broke in secs[0]:
                        new = its + [node("seq", c)]
                        if (c or not its) and sum(map(size, new)) <= SMALL:
                            out.append((node("seq", new), False))
                            if c and not broke:
                                longer.append(new)
                budget[0] -= len(longer)
                if budget[0] < 0:
                    raise _TooMany
                runs = longer
            return out
        # critical: main, or a prefix of it and an option (the whole main section only
        # when it ends in receipts the decider had not acted on: checked in `_fits`)
        out = [(t, False) for t in seqs[0]]
        deciders = [first_sender(s["items"]) for s in item["sections"][1:]]
        for c, broke in secs[0]:
            main = node("seq", c)
            for cut in range(size(main) + (not broke)):
                part = prefix(main, cut)[0]
                out += [(node("crit", [part, t]) + (d, cut == size(main)), False)
                        for d, s in zip(deciders, seqs[1:], strict=True) for t in s
                        if cut + size(t) <= SMALL]
        return out

    def first_sender(items: list) -> str | None:
        for item in items:
            if item["kind"] == "message":
                return item["from"]
            for s in item["sections"]:
                found = first_sender(s["items"])
                if found is not None:
                    return found
        return None

    return [node("seq", c) for c, _ in section(contract["items"])], flat


def _conforms(trees: list, flat, trace: list) -> bool:
    want = sorted((s, r, keys.event_key(t)) for s, r, t in trace)
    for tree in trees:
        msgs = flat(tree)
        if sorted((m["from"], m["to"], keys.event_key(m["text"])) for m in msgs) == want \
                and _fits(tree, msgs, trace):
            return True
    return False


def _fits(tree, msgs: list, trace: list) -> bool:
    """Can the trace be this scenario's messages in an allowed order?"""
    n, counter = len(msgs), iter(range(len(msgs)))
    before = [[False] * n for _ in range(n)]
    crits: list = []  # (main prefix, option, decider, whole main), innermost first

    def number(t) -> list:  # drawn before: an earlier child of a common "seq"
        if isinstance(t, dict):
            return [next(counter)]
        groups = [number(c) for c in t[1]]
        if t[0] == "crit" and len(groups) == 2:
            crits.append((groups[0], groups[1], t[3], t[4]))
        if t[0] in ("seq", "crit"):
            for a, first in enumerate(groups):
                for later in groups[a + 1:]:
                    for i in first:
                        for j in later:
                            before[i][j] = True
        return [i for g in groups for i in g]

    number(tree)

    def closure() -> list:
        lt = [[before[i][j] and msgs[j]["from"] in (msgs[i]["from"], msgs[i]["to"])
               for j in range(n)] for i in range(n)]
        for k in range(n):
            for i in range(n):
                if lt[i][k]:
                    lt[i] = [a or b for a, b in zip(lt[i], lt[k], strict=True)]
        return lt

    lt = closure()
    for part, option, decider, whole in crits:
        # the option's decider acted on its own: what it received in the main section
        # and did not act on (no send of its own after it) does not order the option
        late = [i for i in part if msgs[i]["to"] == decider and msgs[i]["from"] != decider
                and not any(lt[i][j] for j in part if msgs[j]["from"] == decider)]
        if whole and part and not late:
            return False  # the main section completed: no option after it
        for i in late:
            for j in option:
                if msgs[j]["from"] == decider:
                    before[i][j] = False
        lt = closure()
    used = [False] * n

    def match(p: int) -> bool:
        if p == n:
            return True
        s, r, t = trace[p]
        for j in range(n):
            if (not used[j] and (msgs[j]["from"], msgs[j]["to"]) == (s, r)
                    and keys.event_key(msgs[j]["text"]) == keys.event_key(t)
                    and all(used[i] for i in range(n) if lt[i][j])):
                used[j] = True
                if match(p + 1):
                    return True
                used[j] = False
        return False

    return match(0)


def _random_contract(rnd: random.Random) -> dict:
    budget = [rnd.randint(2, 6)]

    def items(depth: int) -> list:
        out: list = []
        while budget[0] > 0 and (not out or rnd.random() < 0.7):
            if depth < 3 and rnd.random() < 0.35:
                kind = rnd.choice(KINDS)
                count = (1 if kind in ("opt", "loop", "break")
                         else rnd.randint(1, 3) if kind == "critical" else rnd.randint(2, 3))
                out.append({"kind": kind, "label": kind, "line": 0, "sections": [
                    {"label": "", "line": 0, "items": items(depth + 1)} for _ in range(count)]})
            else:
                sender, receiver = rnd.sample("ABC", 2) if rnd.random() < 0.9 else "AA"
                out.append({"kind": "message", "from": sender, "to": receiver,
                            "text": rnd.choice("xy"), "line": 1})
                budget[0] -= 1
        return out

    return {"version": 1, "items": items(0)}


def test_agrees_with_brute_force() -> None:
    checked = accepted = 0
    for seed in range(150):
        rnd = random.Random(seed)
        contract = _random_contract(rnd)
        try:
            trees, flat = _scenarios(contract)
        except _TooMany:
            continue
        for _ in range(3):
            run_ = [(m["from"], m["to"], m["text"]) for m in flat(rnd.choice(trees))]
            variants = [run_, rnd.sample(run_, len(run_)), run_[:-1], run_ + run_[-1:]]
            if len(run_) > 1:
                i = rnd.randrange(len(run_) - 1)
                variants.append(run_[:i] + [run_[i + 1], run_[i]] + run_[i + 2:])
            for trace in variants:
                if len(trace) > SMALL:
                    continue
                want = _conforms(trees, flat, trace)
                assert check(contract, trace)["ok"] is want, (seed, contract, trace)
                checked += 1
                accepted += want
    assert checked > 1000 and 0.2 < accepted / checked < 0.8

