"""Joins for receipts that nothing orders (issue #11, lint `unordered-receipts`).

Orders asks Pay and Stock one after the other, without a `par`: Charged and Reserved come
from two senders, neither knowing of the other's, so on a real broker they arrive in
either order (conformance.md orders nothing between them). What Orders sends after both
must wait for both: its choreography joins them, as it joins a par's replies
(test_par_join.py). Before, the handler of Reserved sent Ship alone, and a run where Pay
was slow sent Ship before Charged.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from projects import run_here, run_python
from shapes import RACE
from test_par_join import participant_outline
from test_target_faststream import URLS, server_up

import mermaidgen
from mermaidgen.codegen.generate import build
from mermaidgen.codegen.write import output
from mermaidgen.contract import check_trace

OUTLINES = {
    "two replies": (RACE, """Orders
  start
    publish Charge -> Pay
    publish Reserve -> Stock
  on Charged from Pay
    arrive at the join of line 8
  on Reserved from Stock
    arrive at the join of line 8
  after the join of line 8, once its 2 events arrive
    publish Ship -> Ship"""),
    # each reply may come first: one join for the three
    "three replies": ("""sequenceDiagram
    participant Orders
    Orders->>Pay: Charge
    Orders->>Stock: Reserve
    Orders->>Fraud: Score
    Pay->>Orders: Charged
    Stock->>Orders: Reserved
    Fraud->>Orders: Scored
    Orders->>Ship: Ship
""", """Orders
  start
    publish Charge -> Pay
    publish Reserve -> Stock
    publish Score -> Fraud
  on Charged from Pay
    arrive at the join of line 7
  on Reserved from Stock
    arrive at the join of line 7
  on Scored from Fraud
    arrive at the join of line 7
  after the join of line 7, once its 3 events arrive
    publish Ship -> Ship"""),
    # what Orders sends between the two follows the first alone
    "a send between them": (RACE.replace("    Stock->>Orders", "    Orders->>Audit: Paid\n"
                                         "    Stock->>Orders"), """Orders
  start
    publish Charge -> Pay
    publish Reserve -> Stock
  on Charged from Pay
    publish Paid -> Audit
    arrive at the join of line 9
  on Reserved from Stock
    arrive at the join of line 9
  after the join of line 9, once its 2 events arrive
    publish Ship -> Ship"""),
    # Stock answers only after Orders told it of Charged: drawn order is causal order
    "the second sender knew": ("""sequenceDiagram
    Orders->>Pay: Charge
    Pay->>Orders: Charged
    Orders->>Stock: Reserve
    Stock->>Orders: Reserved
    Orders->>Ship: Ship
""", """Orders
  start
    publish Charge -> Pay
  on Charged from Pay
    publish Reserve -> Stock
  on Reserved from Stock
    publish Ship -> Ship"""),
}


@pytest.mark.parametrize(("text", "expected"), OUTLINES.values(), ids=OUTLINES.keys())
def test_a_service_joins_events_that_may_arrive_either_way_round(text: str,
                                                                 expected: str) -> None:
    assert participant_outline(text, "Orders") == expected


def test_the_lint_says_a_join_was_generated_and_warns_where_none_is() -> None:
    """Joined, the finding is news, not a defect: an info that names the join. A race the
    projection cannot join (the first receipt inside a loop, the second after it) stays
    a warning."""
    joined = mermaidgen.analyse(mermaidgen.parse(RACE)).diagnostics
    joined = [d for d in joined if d.code == "unordered-receipts"]
    assert [(d.severity, d.span.line) for d in joined] == [("info", 8)]
    assert "joins them" in joined[0].message, joined[0].message
    loop = mermaidgen.analyse(mermaidgen.parse("""sequenceDiagram
    loop poll
        Orders-)Pay: Ask
        Pay->>Orders: Answer
    end
    Audit->>Orders: Audited
    Orders->>Ship: Ship
""")).diagnostics
    assert [(d.severity, d.span.line) for d in loop if d.code == "unordered-receipts"
            ] == [("warning", 6)]


def test_the_contract_takes_both_arrival_orders_and_not_a_send_before_both() -> None:
    diagram = mermaidgen.parse(RACE)
    drawn = [("Orders", "Pay", "Charge"), ("Orders", "Stock", "Reserve"),
             ("Pay", "Orders", "Charged"), ("Stock", "Orders", "Reserved"),
             ("Orders", "Ship", "Ship")]
    swapped = [drawn[0], drawn[1], drawn[3], drawn[2], drawn[4]]
    early = [drawn[0], drawn[1], drawn[3], drawn[4], drawn[2]]
    assert check_trace(diagram, drawn).ok
    assert check_trace(diagram, swapped).ok
    verdict = check_trace(diagram, early)
    assert not verdict.ok and "Ship" in verdict.explanation, verdict.explanation


def _generate(text: str, out: Path, target: str, package: str, **options: str) -> None:
    generation = build(mermaidgen.parse(text, source="race.mmd"), text, style="choreography",
                       target=target, package=package, options=options or None)
    output.write(output.plan(list(generation.files), out, generation.meta()))


# Pay is slow: the in-process bus hands it its messages only once nothing else is
# waiting, so Stock's Reserved reaches Orders before Pay has even sent Charged. The run
# in drawn order first, as the package's own test runs it.
SLOW_PAY_PYTHON = '''
import asyncio, json
from collections import deque

from race._generated import app, bus, diagram
from race._generated.checker import check
from race.services import orders

done = []


class SlowPay(deque):
    def popleft(self):
        for k, (message, event) in enumerate(self):
            if diagram.MESSAGES[message][1] != "Pay":
                del self[k]
                return message, event
        return super().popleft()


def noting(name, hook):
    def noted(self, ctx):
        done.append(name)
        return hook(self, ctx)
    return noted


def verdict():
    trace = asyncio.run(app.run())
    found = check(diagram.CONTRACT, trace.arrows())
    return {"ok": found["ok"], "explanation": found["explanation"],
            "trace": [a[2] for a in trace.arrows()]}


drawn = verdict()
init = bus.Bus.__init__
def slow_init(self):
    init(self)
    self.queue = SlowPay()
bus.Bus.__init__ = slow_init
orders.Orders.on_charged = noting("on_charged", orders.Orders.on_charged)
orders.Orders.on_reserved = noting("on_reserved", orders.Orders.on_reserved)
orders.Orders.payload_ship = noting("payload_ship", orders.Orders.payload_ship)
print(json.dumps({"drawn": drawn, "slow": verdict(), "done": done}))
'''


def test_the_python_choreography_waits_for_both_whichever_comes_first(
        tmp_path: Path) -> None:
    out = tmp_path / "out"
    _generate(RACE, out, "python", "race")
    (out / "slow_pay.py").write_text(SLOW_PAY_PYTHON, encoding="utf-8")
    done = run_here(["slow_pay.py"], out)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["drawn"]["ok"], found
    assert found["drawn"]["trace"] == ["Charge", "Reserve", "Charged", "Reserved", "Ship"]
    assert found["done"] == ["on_reserved", "on_charged", "payload_ship"], found
    assert found["slow"]["ok"], found
    assert found["slow"]["trace"] == ["Charge", "Reserve", "Reserved", "Charged", "Ship"]


# The same on FastStream and NATS: Pay's hook takes its time, so Reserved reaches Orders
# first. A run of every service in one process hands each delivery to its service in the
# order the events were published (runtime.Run.turn), which would hide the race: here,
# as deployed services do, each handles its events when they come.
SLOW_PAY_FASTSTREAM = '''
import asyncio, json

from {package}._generated import diagram, flow, runtime
from {package}._generated.checker import check
from {package}.services import orders, pay

done = []


def verdict(real):
    trace = asyncio.run(flow.run(real=real))
    found = check(diagram.CONTRACT, trace.arrows())
    return {{"ok": found["ok"], "explanation": found["explanation"],
            "trace": [a[2] for a in trace.arrows()]}}


drawn = verdict(False)  # in memory, in drawn order


async def when_it_comes(self, message, service):
    pass
runtime.Run.turn = when_it_comes


async def on_charge(self, ctx):
    await asyncio.sleep(0.4)
pay.Pay.on_charge = on_charge


def noting(name, hook):
    def noted(self, ctx):
        done.append(name)
        return hook(self, ctx)
    return noted


orders.Orders.on_charged = noting("on_charged", orders.Orders.on_charged)
orders.Orders.on_reserved = noting("on_reserved", orders.Orders.on_reserved)
orders.Orders.payload_ship = noting("payload_ship", orders.Orders.payload_ship)
print(json.dumps({{"drawn": drawn, "slow": verdict(True), "done": done}}))
'''


@pytest.mark.engine
def test_the_faststream_choreography_waits_for_both_on_nats(
        tmp_path: Path, faststream_python: Path) -> None:
    if not server_up("nats"):
        pytest.skip("no NATS server at " + URLS["nats"])
    package = f"race_{uuid.uuid4().hex[:8]}"  # its own streams and store on the server
    out = tmp_path / "out"
    _generate(RACE, out, "faststream", package, broker="nats")
    (out / "slow_pay.py").write_text(SLOW_PAY_FASTSTREAM.format(package=package),
                                     encoding="utf-8")
    done = run_python(faststream_python, ["slow_pay.py"], out, timeout=120,
                      PYTHONPATH=str(out), MERMAIDGEN_BROKER_URL=URLS["nats"],
                      MERMAIDGEN_STORE="nats")
    assert done.returncode == 0, done.stdout + done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["drawn"]["ok"], found
    assert found["done"] == ["on_reserved", "on_charged", "payload_ship"], found
    assert found["slow"]["ok"], found
    assert found["slow"]["trace"] == ["Charge", "Reserve", "Reserved", "Charged", "Ship"]
