"""Broker participants relay like brokers (issue 11, defect 2; conformance.md).

A broker passes an event on when it is published, and keeps the order of one publisher's
events to one receiver; it does not wait for everything it received before, as a service
that reads its inbox in order would. The checker treated a broker participant like any
other: a FastStream run, which records a relay when the event is published, failed its own
contract test for a fan-out inside a `par` whose branches answer through the broker; and a
bus that relays two events of one sender to two receivers could not deliver them in the
order they were published when the diagram draws the deliveries the other way round.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from projects import run_here

import mermaidgen
from mermaidgen.analysis import analyse
from mermaidgen.codegen.generate import build
from mermaidgen.codegen.write import output
from mermaidgen.contract import check_trace, contract_of

PROJECT = Path(__file__).resolve().parents[1]
SAMPLE = PROJECT / "samples" / "broker-par-replies.mmd"

FAN_OUT = """sequenceDiagram
    participant Orders
    participant Kafka@{ "type": "queue" }
    participant Inventory
    participant Billing
    Orders-)Kafka: OrderPlaced
    par stock
        Kafka-)Inventory: OrderPlaced
        Inventory-)Kafka: StockReserved
    and billing
        Kafka-)Billing: OrderPlaced
        Billing-)Kafka: InvoiceIssued
    end
    Kafka-)Orders: StockReserved
    Kafka-)Orders: InvoiceIssued
"""

PLACED = ("Orders", "Kafka", "OrderPlaced")
TO_STOCK = ("Kafka", "Inventory", "OrderPlaced")
TO_BILLING = ("Kafka", "Billing", "OrderPlaced")
RESERVED = ("Inventory", "Kafka", "StockReserved")
RESERVED_OUT = ("Kafka", "Orders", "StockReserved")
INVOICED = ("Billing", "Kafka", "InvoiceIssued")
INVOICED_OUT = ("Kafka", "Orders", "InvoiceIssued")


def _check(text: str, trace: list[tuple[str, str, str]]):
    diagram = mermaidgen.parse(text, source="relay.mmd")
    return check_trace(diagram, trace, relays=analyse(diagram).brokers)


def test_a_relay_recorded_when_it_is_published_conforms() -> None:
    """What a FastStream run records: each relay right after its publish, so the stock
    answer is relayed before billing has answered."""
    trace = [PLACED, TO_STOCK, TO_BILLING, RESERVED, RESERVED_OUT, INVOICED, INVOICED_OUT]
    verdict = _check(FAN_OUT, trace)
    assert verdict.ok, verdict.explanation


def test_a_relay_still_waits_for_what_it_passes_on() -> None:
    trace = [PLACED, TO_STOCK, TO_BILLING, RESERVED_OUT, RESERVED, INVOICED, INVOICED_OUT]
    verdict = _check(FAN_OUT, trace)
    assert not verdict.ok
    assert "Kafka->>Orders: StockReserved" in verdict.explanation
    assert "before `Inventory->>Kafka: StockReserved`" in verdict.explanation


# one publisher, two events, the deliveries drawn the other way round
TWO_EVENTS = """sequenceDiagram
    participant Orders
    participant Bus@{ "type": "queue" }
    participant Payments
    participant Stock
    participant Audit
    Orders-)Bus: OrderPlaced
    Orders-)Bus: PaymentRequested
    Bus-)Payments: PaymentRequested
    Bus-)Stock: OrderPlaced
    Bus-)Audit: OrderPlaced
    Bus-)Audit: PaymentRequested
"""
IN_SEND_ORDER = [("Orders", "Bus", "OrderPlaced"), ("Orders", "Bus", "PaymentRequested"),
                 ("Bus", "Stock", "OrderPlaced"), ("Bus", "Audit", "OrderPlaced"),
                 ("Bus", "Payments", "PaymentRequested"), ("Bus", "Audit", "PaymentRequested")]


def test_a_bus_delivers_one_senders_events_in_send_order() -> None:
    verdict = _check(TWO_EVENTS, IN_SEND_ORDER)
    assert verdict.ok, verdict.explanation


def test_a_bus_keeps_the_order_per_sender_and_receiver() -> None:
    """Audit gets both events of Orders: the second one may not overtake the first."""
    swapped = [*IN_SEND_ORDER[:3], IN_SEND_ORDER[4], IN_SEND_ORDER[5], IN_SEND_ORDER[3]]
    verdict = _check(TWO_EVENTS, swapped)
    assert not verdict.ok
    assert "Bus->>Audit: PaymentRequested" in verdict.explanation


def test_a_choreography_contract_names_its_brokers_as_relays() -> None:
    from mermaidgen.codegen.generate import build
    generation = build(mermaidgen.parse(FAN_OUT, source="f.mmd"), FAN_OUT,
                       style="choreography", package="fan")
    diagram_py = next(text for path, text in _files(generation) if path.endswith("diagram.py"))
    assert "'relays': ['Kafka']" in diagram_py or '"relays": ["Kafka"]' in diagram_py
    plain = "sequenceDiagram\n    A->>B: hello\n    B->>C: hello\n"
    assert "relays" not in contract_of(mermaidgen.parse(plain, source="p.mmd"))


def _files(generation) -> list[tuple[str, str]]:
    return [(str(f.path), f.content if isinstance(f.content, str) else "")
            for f in generation.files]


def test_a_contract_with_malformed_relays_is_refused() -> None:
    from mermaidgen.contract import ContractError, check
    with pytest.raises(ContractError, match="relays"):
        check({"version": 1, "items": [], "relays": "Kafka"}, [])


@pytest.mark.parametrize("text", [FAN_OUT, TWO_EVENTS], ids=["fan-out", "two-events"])
def test_the_python_bus_run_conforms(tmp_path: Path, text: str) -> None:
    generation = build(mermaidgen.parse(text, source="relay.mmd"), text,
                       style="choreography", package="relay")
    out = tmp_path / "out"
    output.write(output.plan(list(generation.files), out, generation.meta()))
    tests = run_here(["-m", "pytest", "-q", "-p", "no:cacheprovider"], out,
                PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert tests.returncode == 0, tests.stdout + tests.stderr
