"""The diagram's paths (analysis/paths.py), driving a generated package along each one
(contract/drive.py, `python -m pkg --path`), and the mutants of each path's trace that the
checker must reject (contract/mutants.py, benchmarks/paths.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from projects import KNOWN_PATH_DEFECTS, lint, run, run_here, run_python
from shapes import RACE, RACES_BEFORE

import mermaidgen
from mermaidgen.analysis.paths import MAIN, Capabilities, PathTable, path_table
from mermaidgen.codegen.paths import table as codegen_table
from mermaidgen.contract import check_trace, contract_of
from mermaidgen.contract.drive import InjectedFailure, UnknownPath, decisions, driving
from mermaidgen.contract.mutants import mutants

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = PROJECT / "samples"
PYTHON = Path(sys.executable)
"""Runs the generated packages' `python -m`, in a long-lived process (projects.run_python)."""


def _bench():
    spec = importlib.util.spec_from_file_location("bench_paths", PROJECT / "benchmarks/paths.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def paths_of(text: str, **options) -> PathTable:
    return path_table(mermaidgen.parse(text), **options)


def names(text: str, **options) -> list[str]:
    return [p.name for p in paths_of(text, **options).paths]


SAGA = (SAMPLES / "saga-reply-decides.mmd").read_text(encoding="utf-8")


def test_every_section_of_an_alt_is_a_path_named_after_its_label() -> None:
    table = paths_of(SAGA)
    assert [(p.name, p.decisions) for p in table.paths] == [
        ("main", ((12, 0),)), ("card-declined", ((12, 1),))]
    assert table.paths[1].described == ("line 12 alt card accepted: card declined",)


def test_opt_skipped_break_taken_loop_twice_and_critical_options() -> None:
    text = """sequenceDiagram
    A->>B: go
    opt send a receipt
        B->>A: receipt
    end
    loop up to 3 times
        A->>B: poll
        break done early
            B->>A: done
        end
    end
    critical book it
        A->>B: book
    option timed out
        A->>B: cancel
    end
"""
    got = names(text)
    assert got[0] == MAIN
    assert {"send-a-receipt-skipped", "done-early", "up-to-3-times-twice", "timed-out",
            "send-a-receipt-skipped+up-to-3-times-twice+done-early+timed-out"} <= set(got)
    assert len(got) == len(set(got)) == 16  # 2 × 2 × 2 × 2: every combination


def test_a_loop_bounded_to_one_iteration_is_not_run_twice() -> None:
    text = "sequenceDiagram\n    loop once at most\n        A->>B: x\n    end\n"
    assert names(text, loop_limit=lambda label: 1) == [MAIN]
    assert names(text) == [MAIN, "once-at-most-twice"]


def test_blocks_inside_a_section_not_taken_are_not_decided() -> None:
    text = (SAMPLES / "order-saga.mmd").read_text(encoding="utf-8")
    table = paths_of(text)
    assert {p.name: dict(p.decisions) for p in table.paths} == {
        "main": {14: 0, 16: 0}, "carrier-unavailable": {14: 0, 16: 1},
        "payment-declined": {14: 1}}


def _many_alts(count: int) -> str:
    body = "".join(f"    alt ok {i}\n        A->>B: yes {i}\n    else failed {i}\n"
                   f"        A->>B: no {i}\n    end\n" for i in range(count))
    return "sequenceDiagram\n" + body


def test_a_large_product_covers_each_section_once_and_says_so() -> None:
    table = paths_of(_many_alts(5))  # 32 combinations > PRODUCT_CAP
    assert table.mode == "each section once"
    assert [p.name for p in table.paths] == [MAIN] + [f"failed-{i}" for i in range(5)]
    taken = {d for p in table.paths for d in p.decisions}
    assert taken == {(line, k) for line in {d[0] for d in taken} for k in (0, 1)}
    assert paths_of(_many_alts(4)).mode == "all combinations"  # 16: every one


def test_names_are_unique_and_stable() -> None:
    text = ("sequenceDiagram\n" + "    alt same\n        A->>B: x\n    else other\n"
            "        A->>B: y\n    end\n" * 2)
    got = names(text)
    assert len(got) == len(set(got))
    assert got == names(text)
    assert "other-2" in got or "other+other" in got


def test_deep_nesting_needs_no_recursion() -> None:
    depth = 3000
    text = ("sequenceDiagram\n" + "opt deeper\n" * depth + "A->>B: x\n" + "end\n" * depth)
    table = paths_of(text, max_paths=50)
    assert len(table.paths) == 50 and table.mode == "each section once"
    assert any("left out" in n for n in table.notes)


# --- the driver ----------------------------------------------------------------------


class _Base:
    def choose_pay(self, ctx):
        return "accepted"

    def repeat_poll(self, ctx, iteration):
        return iteration < 1

    def request_book(self, ctx):
        return {}


class _User(_Base):
    def choose_pay(self, ctx):
        return "user says accepted"


DECIDERS = {10: [("_Base", "choose_pay", "choose", ("accepted", "declined"))],
            20: [("_Base", "repeat_poll", "repeat", ())],
            30: [("_Base", "request_book", "fail", ())]}


def test_driving_overrides_decision_hooks_and_puts_the_users_back() -> None:
    user = _User()
    with driving([(_User, _Base)], {10: 1, 20: 2, 30: 1}, DECIDERS):
        assert user.choose_pay(None) == "declined"
        assert [user.repeat_poll(None, i) for i in (1, 2)] == [True, False]
        with pytest.raises(InjectedFailure, match="line 30"):
            user.request_book(None)
    assert user.choose_pay(None) == "user says accepted"
    assert user.repeat_poll(None, 1) is False and user.request_book(None) == {}
    assert "repeat_poll" not in _User.__dict__


def test_an_unknown_path_names_the_known_ones() -> None:
    with pytest.raises(UnknownPath, match="the paths are: main, card-declined"):
        decisions({"main": {}, "card-declined": {12: 1}}, "card-accepted")


# --- generated packages: every path runs and conforms; mutants are caught -----------

def _generate(sample: str, style: str, out: Path) -> str:
    text = (SAMPLES / f"{sample}.mmd").read_text(encoding="utf-8")
    return _generate_text(text, f"{sample}.mmd", style, out)


def _generate_text(text: str, source: str, style: str, out: Path) -> str:
    """Generate the python target's package of `text` into `out`; its name."""
    from mermaidgen.codegen.generate import build
    from mermaidgen.codegen.write import output

    generation = build(mermaidgen.parse(text, source=source), text, style=style)
    output.write(output.plan(list(generation.files), out, generation.meta()))
    return generation.package


@pytest.mark.parametrize("style", ["choreography", "orchestration"])
def test_python_m_pkg_lists_and_runs_a_path_and_checks_its_trace(style: str,
                                                                 tmp_path: Path) -> None:
    package = _generate("saga-reply-decides", style, tmp_path)
    listed = run_python(PYTHON, ["-m", package, "--list-paths"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "main: line 12 alt card accepted: card accepted",
        "card-declined: line 12 alt card accepted: card declined"]
    declined = run_python(PYTHON, ["-m", package, "--path", "card-declined"], tmp_path)
    assert declined.returncode == 0, declined.stdout + declined.stderr
    assert "PaymentDeclined" in declined.stdout and "ReleaseStock" in declined.stdout
    assert "ScheduleDelivery" not in declined.stdout
    assert "trace conforms to the diagram" in declined.stdout
    unknown = run_python(PYTHON, ["-m", package, "--path", "nope"], tmp_path)
    assert unknown.returncode == 2 and "the paths are: main, card-declined" in unknown.stderr


@pytest.mark.parametrize("sample", ["order-saga", "critical-section", "retries",
                                    "parallel-fulfilment", "broker-fanout",
                                    "broker-par-replies"])
@pytest.mark.parametrize("style", ["choreography", "orchestration"])
def test_every_path_conforms_and_every_mutant_is_caught(sample: str, style: str,
                                                        tmp_path: Path) -> None:
    bench = _bench()
    result = bench.run_project(SAMPLES / f"{sample}.mmd", style, "python", tmp_path)
    assert "error" not in result, result.get("error")
    scored = bench.score(result)
    known = KNOWN_PATH_DEFECTS.get((sample, style), {})
    assert set(scored["failing"]) == set(known), scored["failing"]
    assert scored["mutants"] > 0
    assert scored["escaped"] == [], scored["escaped"]
    # a par's sections started in reverse order send in another order than drawn order
    assert scored["unreversed"] == [], scored["unreversed"]
    # a path that takes a critical's option sends the message that opens it
    assert scored["untaken"] == [], scored["untaken"]


def test_mutants_of_a_trace_are_what_their_names_say() -> None:
    diagram = mermaidgen.parse(SAGA)
    contract = contract_of(diagram)
    trace = [("Client", "OS", "PlaceOrder"), ("OS", "Stock", "ReserveStock"),
             ("Stock", "OS", "StockReserved"), ("OS", "Pay", "ChargeCard"),
             ("Pay", "OS", "PaymentCaptured"), ("OS", "Ship", "ScheduleDelivery"),
             ("Ship", "OS", "DeliveryScheduled"), ("OS", "Client", "OrderConfirmed")]
    assert check_trace(contract, trace).ok
    found = mutants(trace, contract)
    kinds = {m.kind for m in found}
    assert kinds == {"reply", "removed", "duplicated", "swapped"}
    wrong_reply = next(m for m in found if m.kind == "reply")
    assert wrong_reply.trace[4] == ("Pay", "OS", "PaymentDeclined(reason)")
    verdict = check_trace(contract, wrong_reply.trace)
    assert not verdict.ok and "line 14" in verdict.explanation  # ScheduleDelivery's line
    for m in found:
        assert not check_trace(contract, m.trace).ok, m.what


TRIP = """sequenceDiagram
    participant Saga
    critical book the trip
        Saga->>+Cars: Book car
        Cars-->>-Saga: Car booked
        Saga->>+Hotels: Book hotel
        Hotels-->>-Saga: Hotel booked
        Saga->>+Flights: Book flight
        Flights-->>-Saga: Flight booked
    option a booking failed
        Saga->>+Flights: Cancel flight
        Flights-->>-Saga: Flight cancelled
        Saga->>+Hotels: Cancel hotel
        Hotels-->>-Saga: Hotel cancelled
        Saga->>+Cars: Cancel car
        Cars-->>-Saga: Car cancelled
    end
"""


def test_a_late_or_missing_reply_before_the_option_is_no_mutant() -> None:
    """The flight failed before its request: the hotel's reply left out (the hotel call
    failed after its request) or recorded after `Cancel hotel` (a late reply) is a run the
    saga's option allows (docs/semantics.md), not a defect; the car's reply, which the
    saga waited for before it booked the hotel, may be neither."""
    contract = contract_of(mermaidgen.parse(TRIP))
    book = [("Saga", "Cars", "Book car"), ("Cars", "Saga", "Car booked"),
            ("Saga", "Hotels", "Book hotel"), ("Hotels", "Saga", "Hotel booked")]
    undo = [("Saga", "Hotels", "Cancel hotel"), ("Hotels", "Saga", "Hotel cancelled"),
            ("Saga", "Cars", "Cancel car"), ("Cars", "Saga", "Car cancelled")]
    trace = book + undo
    assert check_trace(contract, trace).ok
    found = mutants(trace, contract)
    assert [m.what for m in found if not check_trace(contract, m.trace).ok] == \
        [m.what for m in found]
    what = {m.what for m in found}
    assert "event 2 `Cars->>Saga: Car booked` removed" in what
    assert "events 2 and 3 swapped (`Cars->>Saga: Car booked` before " \
        "`Saga->>Hotels: Book hotel`)" in what
    assert not any("Hotel booked` removed" in w or "(`Hotels->>Saga: Hotel booked` before"
                   in w for w in what), what


def test_the_codegen_table_bounds_loops_by_their_labels() -> None:
    text = (SAMPLES / "retries.mmd").read_text(encoding="utf-8")
    from mermaidgen.analysis import analyse

    table = codegen_table(analyse(mermaidgen.parse(text)))
    assert "up-to-5-attempts-exponential-backoff-twice" in [p.name for p in table.paths]


# --- par: its sections started in reverse order, where the runtime allows it ----------

PAR = """sequenceDiagram
    title Two at once
    participant Client
    participant Shop
    participant Stock
    participant Pay
    Client->>Shop: Place order
    par reserve and charge
        Shop->>Stock: Reserve items
        Stock-->>Shop: Items reserved
    and
        Shop->>Pay: Charge card
        Pay-->>Shop: Card charged
    end
    Shop-->>Client: Order placed
"""
PAR_LINE = 8
REVERSED = "reserve-and-charge-reversed"
REORDERS = Capabilities(reorders_par=True)


def test_a_par_gets_a_reversed_path_only_where_the_runtime_reorders_its_sections() -> None:
    table = paths_of(PAR, capabilities=REORDERS)
    assert [(p.name, p.decisions) for p in table.paths] == [
        (MAIN, ((PAR_LINE, 0),)), (REVERSED, ((PAR_LINE, 1),))]
    assert table.paths[1].described == (
        f"line {PAR_LINE} par reserve and charge: sections started in reverse order",)
    fixed = paths_of(PAR, capabilities=Capabilities(why_par_in_order="the broker decides"))
    assert [p.name for p in fixed.paths] == [MAIN]
    assert any("one interleaving" in n and "the broker decides" in n for n in fixed.notes)
    assert [p.name for p in paths_of(PAR).paths] == [MAIN]  # by default: drawn order only


def test_a_reversed_par_composes_with_the_other_choices_and_is_named_after_its_line() -> None:
    text = """sequenceDiagram
    par
        A->>B: x
    and
        A->>C: y
    end
    par only one section
        A->>B: z
    end
    alt fine
        B->>A: ok
    else broken
        B->>A: no
    end
"""
    assert names(text, capabilities=REORDERS) == [
        MAIN, "broken", "par-line-2-reversed", "par-line-2-reversed+broken"]
    many = paths_of(_many_alts(4) + "    par both\n        A->>B: p\n    and\n"
                    "        A->>C: q\n    end\n", capabilities=REORDERS)
    assert many.mode == "each section once"  # 2^4 × 2 > 16
    assert [p.name for p in many.paths][-1] == "both-reversed"


def test_the_checker_takes_par_sections_in_either_order_but_a_section_only_in_its_own() -> None:
    contract = contract_of(mermaidgen.parse(PAR))
    place, done = ("Client", "Shop", "Place order"), ("Shop", "Client", "Order placed")
    reserve = [("Shop", "Stock", "Reserve items"), ("Stock", "Shop", "Items reserved")]
    charge = [("Shop", "Pay", "Charge card"), ("Pay", "Shop", "Card charged")]
    for trace in ([place, *reserve, *charge, done], [place, *charge, *reserve, done],
                  [place, charge[0], reserve[0], charge[1], reserve[1], done]):
        assert check_trace(contract, trace).ok, trace
    out_of_order = [place, charge[1], charge[0], *reserve, done]
    verdict = check_trace(contract, out_of_order)
    assert not verdict.ok and "line 12" in verdict.explanation  # Charge card's line
    swapped = [m for m in mutants([place, *charge, *reserve, done], contract)
               if m.kind == "swapped"]
    assert any(m.trace[1:3] == (charge[1], charge[0]) for m in swapped)
    assert all(not check_trace(contract, m.trace).ok for m in swapped)


def test_driving_a_par_gives_its_order_hook_the_sections_reversed() -> None:
    class Base:
        def order_both(self, ctx):
            return ("left", "middle", "right")

    deciders = {5: [("Base", "order_both", "order", ("left", "middle", "right"))]}
    with driving([(Base, Base)], {5: 1}, deciders):
        assert Base().order_both(None) == ("right", "middle", "left")
    with driving([(Base, Base)], {5: 0}, deciders):
        assert Base().order_both(None) == ("left", "middle", "right")
    assert Base().order_both(None) == ("left", "middle", "right")


def _sent(stdout: str) -> list[str]:
    """The texts of a `python -m pkg` run's trace, from the Mermaid diagram it prints."""
    drawn = stdout.split("sequenceDiagram\n", 1)[1].split("\n\n", 1)[0]
    return [line.split(": ", 1)[1] for line in drawn.splitlines() if ": " in line]


@pytest.mark.parametrize("style", ["choreography", "orchestration"])
def test_python_m_pkg_runs_a_par_reversed_and_its_trace_conforms(style: str,
                                                                  tmp_path: Path) -> None:
    package = _generate_text(PAR, "two-at-once.mmd", style, tmp_path)
    lint(tmp_path)
    listed = run_python(PYTHON, ["-m", package, "--list-paths"], tmp_path)
    assert listed.stdout.splitlines() == [
        f"main: line {PAR_LINE} par reserve and charge: sections started in drawn order",
        f"{REVERSED}: line {PAR_LINE} par reserve and charge: sections started in reverse "
        "order"], listed.stderr
    runs = {name: run_python(PYTHON, ["-m", package, "--path", name], tmp_path)
            for name in (MAIN, REVERSED)}
    for done in runs.values():
        assert done.returncode == 0, done.stdout + done.stderr
        assert "trace conforms to the diagram" in done.stdout
    drawn, reversed_ = (_sent(runs[name].stdout) for name in (MAIN, REVERSED))
    assert sorted(drawn) == sorted(reversed_) and drawn != reversed_
    assert drawn.index("Reserve items") < drawn.index("Charge card")
    assert reversed_.index("Charge card") < reversed_.index("Reserve items")
    for first, then in [("Reserve items", "Items reserved"), ("Charge card", "Card charged")]:
        assert reversed_.index(first) < reversed_.index(then)  # each section in its order


@pytest.mark.parametrize(("target", "why"), [("faststream", "broker"),
                                             ("temporal", "workers")])
def test_targets_that_cannot_reorder_a_par_get_no_reversed_path_and_say_why(
        target: str, why: str) -> None:
    from mermaidgen.codegen.generate import build

    generation = build(mermaidgen.parse(PAR), PAR, target=target)
    files = {f.path: f.content for f in generation.files}
    paths_py = next(text for path, text in files.items()
                    if path.endswith("_generated/paths.py"))
    assert REVERSED not in paths_py
    note = next(line for line in paths_py.splitlines() if "one interleaving" in line)
    assert why in note
    assert not any("def order_" in text for text in files.values())


# Two is sent in the `bad` section only; Four, drawn after the alt (and after a break),
# is sent on every path that does not take the break: it cannot be Two's reply
ANSWERED_AFTER_THE_ALT = """sequenceDiagram
    participant A
    participant B
    participant C
    alt ok
        A->>B: One
    else bad
        A->>C: Two
    end
    break stop
        B->>C: Three
    end
    C->>A: Four
"""


def test_a_call_made_in_one_section_is_not_answered_after_the_block(
        tmp_path: Path) -> None:
    """Four was paired with Two as its reply: the orchestration sent Four only with Two,
    so the path `ok` lacked it and the path `bad+stop` sent it before the break (the
    random diagram's `trace event 3 cannot happen at this point`)."""
    analysis = mermaidgen.analyse(mermaidgen.parse(ANSWERED_AFTER_THE_ALT))
    assert [(m.occurrence.message.text, m.role) for m in analysis.messages] == [
        ("One", "event"), ("Two", "event"), ("Three", "event"), ("Four", "event")]
    _generate_text(ANSWERED_AFTER_THE_ALT, "after-alt.mmd", "orchestration", tmp_path)
    tests = run_here(["-m", "pytest", "-v", "-p", "no:cacheprovider"], tmp_path,
                PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "[bad+stop] PASSED" in tests.stdout, tests.stdout



# G answers M in one section of the par and tells Z something in the other; after the par
# it is no longer handling M's call: y is not part of that operation (which has answered)
ANSWERED_IN_A_PAR = """sequenceDiagram
    M->>+G: hi
    par a
        G-->>-M: ok
    and b
        G->>Z: x
    end
    G->>Z: y
"""


def test_each_section_of_a_par_starts_from_what_was_handled_before_it(
        tmp_path: Path) -> None:
    """A service handling a message when a `par` starts handles it in every section (x
    is part of G's operation for hi), and after the par only if no section answered it
    (y, drawn after ok, is relayed). When what was handled carried over from one section
    into the next instead, a message a service sent in a later section was part of an
    operation it got in an earlier one; when the last section's state alone went on
    after the block, G's operation sent y before its reply ok (both paths failed)."""
    package = _generate_text(ANSWERED_IN_A_PAR, "answered-in-a-par.mmd", "orchestration",
                             tmp_path)
    for name in (MAIN, "a-reversed"):
        done = run_python(PYTHON, ["-m", package, "--path", name], tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "trace conforms to the diagram" in done.stdout, done.stdout


# Orders asks Pay and Stock one after the other, without a par: Charged and Reserved come
# from two senders, neither knowing of the other's, so they may arrive either way round;
# Orders' handler of Reserved would send Ship before Charged arrived, unless it joins them
# (test_receipt_join.py)
RACES = {
    "two replies, then a send": (RACE, [8]),
    # nothing follows the second: the run keeps the diagram's order whatever comes first
    "two replies, nothing after": (RACES_BEFORE.format(after=""), []),
    # Stock answers only after Orders told it of Charged: drawn order is causal order
    "the second sender knew": ("""sequenceDiagram
    Orders->>Pay: Charge
    Pay->>Orders: Charged
    Orders->>Stock: Reserve
    Stock->>Orders: Reserved
    Orders->>Ship: Ship
""", []),
    # a par's results: the generated service joins them (test_par_join.py)
    "a par's replies": ("""sequenceDiagram
    par pay
        Orders->>Pay: Charge
        Pay->>Orders: Charged
    and stock
        Orders->>Stock: Reserve
        Stock->>Orders: Reserved
    end
    Orders->>Ship: Ship
""", []),
    # one sender's events keep their order
    "one sender": ("""sequenceDiagram
    Orders->>Pay: Charge
    Pay->>Orders: Charged
    Pay->>Orders: Settled
    Orders->>Ship: Ship
""", []),
    # two sections of an alt never both run
    "an alt's sections": ("""sequenceDiagram
    alt card
        Pay->>Orders: Charged
    else stock
        Stock->>Orders: Reserved
    end
    Orders->>Ship: Ship
""", []),
    # the random diagram that found it: an initiator's event after a loop's reply
    "an independent initiator after a loop": ("""sequenceDiagram
    loop poll
        Orders-)Pay: Ask
        Pay->>Orders: Answer
        Orders->>Orders: Note it
    end
    Audit->>Orders: Audited
    Orders->>Ship: Ship
""", [7]),
}


@pytest.mark.parametrize(("text", "lines"), RACES.values(), ids=RACES.keys())
def test_receipts_that_may_come_either_way_round_are_said(text: str, lines: list[int]
                                                          ) -> None:
    """conformance.md orders nothing between two messages a participant receives from
    different senders, but orders what it sends after them; a choreography's handlers run
    as the events come, so unless a join waits the run may differ from the drawn order,
    and the random properties' skeletons failed their own tests on it."""
    analysis = mermaidgen.analyse(mermaidgen.parse(text))
    found = [d.span.line for d in analysis.diagnostics if d.code == "unordered-receipts"]
    assert found == lines, [d.message for d in analysis.diagnostics]


def test_the_choreography_path_table_does_not_claim_the_drawn_order(tmp_path: Path) -> None:
    """Where the service joins the two events (test_receipt_join.py), the table says the
    paths run one order of two; where it cannot, that the drawn order is not promised."""
    text = RACES["two replies, then a send"][0]
    package = _generate_text(text, "race.mmd", "choreography", tmp_path / "c")
    notes = (tmp_path / "c" / package / "_generated" / "paths.py").read_text(encoding="utf-8")
    assert ("# line 8: a join waits for two events either way round; the paths run the "
            "drawn order\n") in notes
    text = RACES["an independent initiator after a loop"][0]
    package = _generate_text(text, "loop.mmd", "choreography", tmp_path / "l")
    notes = (tmp_path / "l" / package / "_generated" / "paths.py").read_text(encoding="utf-8")
    assert "# line 7: not every run keeps the drawn order" in notes
    package = _generate_text(text, "race.mmd", "orchestration", tmp_path / "o")
    notes = (tmp_path / "o" / package / "_generated" / "paths.py").read_text(encoding="utf-8")
    assert "drawn order" not in notes  # the orchestrator asks one after the other


# the workflow's first message is drawn inside the loop, with the destroy of the random
# diagram that found it: B orchestrates, and A sends Hello on every iteration
STARTED_IN_A_LOOP = """sequenceDiagram
    participant A
    participant B
    participant C
    loop retry
        A->>B: Hello
        B->>C: Fwd
        destroy C
        C->>B: Bye
        B->>A: Ok
    end
"""


def test_a_workflow_whose_first_message_is_inside_a_loop_receives_it_every_iteration(
        tmp_path: Path) -> None:
    """Hello was taken as the workflow's trigger, outside the loop: the second iteration
    sent Fwd without a Hello before it."""
    _generate_text(STARTED_IN_A_LOOP, "loop-start.mmd", "orchestration", tmp_path)
    tests = run_here(["-m", "pytest", "-v", "-p", "no:cacheprovider"], tmp_path,
                PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "[retry-twice] PASSED" in tests.stdout, tests.stdout


# A publishes into a queue; each delivery is drawn where a run may not take it: in an
# `opt`, in one section of an `alt`, in a `critical`'s main section (cut short when the
# option runs). The diagram publishes on every path; the workflow used to imply each
# publish by the deliveries it relayed, and sent none of it where no delivery was taken.
OPTIONAL_DELIVERIES = """sequenceDiagram
    participant Q@{ "type": "queue" }
    A->>Q: Placed
    opt notify
        Q->>C: Placed
    end
    A->>Q: Billed
    alt card
        Q->>B: Billed
    else cash
        A->>D: Paid cash
    end
    A->>Q: Shipped
    critical ship
        A->>S: Pack
        Q->>S: Shipped
    option failed
        A->>D: Not shipped
    end
"""

# every path of a generated package, run in one process: path -> the lines of its trace
_TRACE_LINES = """
import asyncio, json
from {package}._generated import app, paths
found = {{}}
for path in paths.PATHS:
    with paths.follow(path, app.user_classes()):
        found[path] = [e.line for e in asyncio.run(app.run()).entries]
print(json.dumps(found))
"""


def test_a_publish_is_sent_on_every_path_whether_or_not_a_delivery_of_it_is(
        tmp_path: Path) -> None:
    """Each path's run, its relays put back (a relay is the message drawn on its line),
    is a run the original diagram accepts: the skipped opt, the cash section and the
    failed critical publish all three events all the same."""
    import json

    package = _generate_text(OPTIONAL_DELIVERIES, "optional-deliveries.mmd",
                             "orchestration", tmp_path)
    lint(tmp_path)
    tests = run_here(["-m", "pytest", "-q", "-p", "no:cacheprovider"], tmp_path,
                PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert tests.returncode == 0, tests.stdout + tests.stderr
    done = run([sys.executable, "-c", _TRACE_LINES.format(package=package)], tmp_path)
    assert done.returncode == 0, done.stderr
    traces = json.loads(done.stdout)
    assert len(traces) == 8  # opt x alt x critical
    diagram = mermaidgen.parse(OPTIONAL_DELIVERIES)
    drawn = {m.span.line: m for m in mermaidgen.model.messages(diagram)}
    brokers = mermaidgen.analyse(diagram).brokers
    for path, lines in traces.items():
        erased = [(drawn[n].sender, drawn[n].receiver, drawn[n].text) for n in lines]
        verdict = check_trace(diagram, erased, relays=brokers)
        assert verdict.ok, f"path {path}: {erased}\n{verdict.explanation}"
        assert [n for n in lines if drawn[n].receiver == "Q"] == [3, 7, 13], path


# A `critical` whose main section does not start with a step of the workflow: the path of
# its option used to run the main section (nothing failed), so the test named after the
# option ran the main path and passed. Each option's message names it (`Alert`, `Log`).
CRITICAL_MAIN_STARTS = {
    "a par": """sequenceDiagram
critical reserve
  par a
    O->>+A: Hold
    A-->>-O: Held
  and b
    O->>+B: Hold
    B-->>-O: Held
  end
option failed
  O->>C: Alert
end
""",
    "a nested critical": """sequenceDiagram
critical reserve
  critical inner
    O->>+A: Hold
    A-->>-O: Held
  option inner failed
    O->>D: Log
  end
  O->>+B: Pay
  B-->>-O: Paid
option failed
  O->>C: Alert
end
""",
    # the workflow only waits for what A sends while acting on Start
    "a message it awaits": """sequenceDiagram
O->>A: Start
critical reserve
  A->>O: Ready
  A->>O: Done
option failed
  O->>C: Alert
end
""",
    # the main section is the reply to a call made before it: nothing of the workflow's
    "the reply to an earlier call": """sequenceDiagram
O->>+A: Start
critical reserve
  A-->>-O: Started
option failed
  O->>C: Alert
end
""",
}
OPTION_MESSAGES = {"failed": "Alert", "inner-failed": "Log"}
EVERY_PATH = """
import asyncio, json, sys
from {package}._generated import app, paths
from {package}._generated.checker import check
from {package}._generated.diagram import CONTRACT
runs = {{}}
for name in paths.PATHS:
    with paths.follow(name, app.user_classes()):
        trace = asyncio.run(app.run())
    verdict = check(CONTRACT, trace.arrows())
    runs[name] = [[text for _, _, text in trace.arrows()], verdict["explanation"]]
print("RUNS", json.dumps(runs))
"""


@pytest.mark.parametrize(("text", "style"), [
    *((text, "orchestration") for text in CRITICAL_MAIN_STARTS.values()),
    # in a choreography O cannot tell when A's messages of the last two end the section
    # (lint unrealizable-choice): the par and the nested critical only
    *((CRITICAL_MAIN_STARTS[shape], "choreography") for shape in ("a par", "a nested critical"))],
    ids=[*CRITICAL_MAIN_STARTS, "a par, choreography", "a nested critical, choreography"])
def test_the_path_of_an_option_takes_it_whatever_the_main_section_starts_with(
        text: str, style: str, tmp_path: Path) -> None:
    """Every path of the table runs (one process) and conforms, and a path that names an
    option sends the option's message, which no other path sends."""
    import json

    package = _generate_text(text, "critical.mmd", style, tmp_path)
    ran = run([sys.executable, "-c", EVERY_PATH.format(package=package)], tmp_path)
    assert ran.returncode == 0, ran.stderr
    runs = json.loads(ran.stdout.rpartition("RUNS ")[2])  # what the flow printed before
    assert "failed" in runs, runs
    for name, (texts, explanation) in runs.items():
        assert explanation.startswith("trace conforms"), (name, texts, explanation)
        for option, message in OPTION_MESSAGES.items():
            assert (message in texts) == (option in name.split("+")), (name, texts)


# a `break` opened by one of two replies to a call made before it (the replier decides),
# where a taken break ends only a section: a `par`'s, a `critical`'s, in a loop or not
BREAK_ON_A_REPLY = """W->>+B: ask
break declined
  B-->>W: no
  W->>C: undo
end
B-->>-W: yes
W->>C: commit
"""
BREAK_ON_A_REPLY_IN = {
    "top level": "sequenceDiagram\nW->>A: go\n" + BREAK_ON_A_REPLY,
    "a par": "sequenceDiagram\nW->>A: go\npar p\n" + BREAK_ON_A_REPLY
             + "and\n  W->>D: d\nend\nW->>A: after\n",
    "a critical": "sequenceDiagram\nW->>A: go\ncritical c\n" + BREAK_ON_A_REPLY
                  + "option fail\n  W->>D: d\nend\nW->>A: after\n",
    "a par in a loop": "sequenceDiagram\nloop l\nW->>A: go\npar p\n" + BREAK_ON_A_REPLY
                       + "and\n  W->>D: d\nend\nW->>A: after\nend\n",
}


@pytest.mark.parametrize("text", BREAK_ON_A_REPLY_IN.values(), ids=BREAK_ON_A_REPLY_IN)
def test_the_path_of_a_break_a_reply_decides_takes_it(text: str, tmp_path: Path) -> None:
    """Every path of the orchestration runs (one process) and conforms, and a path that
    names the break gets the reply that opens it and sends the break's message, which no
    other path sends. The reply hook answered with the path's value for the break (1,
    taken) as the reply's index, where the break's reply is the first (0): the path
    named after the break ran the other one, and `main` took the break. The hook that
    decides such a break is now a `reply_break`, which answers the first reply when the
    path takes the break."""
    import json

    package = _generate_text(text, "break-on-a-reply.mmd", "orchestration", tmp_path)
    ran = run([sys.executable, "-c", EVERY_PATH.format(package=package)], tmp_path)
    assert ran.returncode == 0, ran.stderr
    runs = json.loads(ran.stdout.rpartition("RUNS ")[2])
    assert "declined" in runs, runs
    for name, (texts, explanation) in runs.items():
        assert explanation.startswith("trace conforms"), (name, texts, explanation)
        taken, failed = "declined" in name.split("+"), "fail" in name.split("+")
        # (the critical's option fails at the call: no reply)
        assert ("no" in texts, "undo" in texts, "yes" in texts) == \
            (taken, taken, not taken and not failed), (name, texts)
