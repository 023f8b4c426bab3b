"""Fields written in message texts (docs/fields.md): the notation, what the analysis and
the JSON contract make of it, and that event keys and names never include them."""

from __future__ import annotations

import json

import pytest

import mermaidgen
from mermaidgen.analysis import analyse
from mermaidgen.analysis.fields import fields_of, python_type
from mermaidgen.contract.keys import event_key, split_fields, strip_fields
from mermaidgen.model.serialize import VERSION
from mermaidgen.preview.document import analysis_to_dict, model_to_dict


@pytest.mark.parametrize(("text", "bare", "fields"), [
    # the examples: what teams write
    ("TripCompleted(km, duration)", "TripCompleted", (("km", None), ("duration", None))),
    ("FareCalculated(total)", "FareCalculated", (("total", None),)),
    ("OrderCreated {orderId, amount}", "OrderCreated", (("orderId", None), ("amount", None))),
    ("POST /orders (items)", "POST /orders", (("items", None),)),
    ("charge(amount: Decimal, currency)", "charge",
     (("amount", "Decimal"), ("currency", None))),
    ("Y(a: list[str], b: str | None)", "Y", (("a", "list[str]"), ("b", "str | None"))),
    ("Ping()", "Ping", ()),
    # not fields: a topic, a call with an argument, a smiley, maths, a bare group
    ("OrderCreated (orders.v1)", "OrderCreated (orders.v1)", None),
    ("Publish: ORDER_CREATED (orders:v1)", "Publish: ORDER_CREATED (orders:v1)", None),
    ("OrderCreated (topic: orders)", "OrderCreated (topic: orders)", None),
    ("OrderCreated (Channel:orders.v1)", "OrderCreated (Channel:orders.v1)", None),
    ("findById(42)", "findById(42)", None),
    ("Not so good :(", "Not so good :(", None),
    ("Solve: $$\\sqrt{2+2}$$", "Solve: $$\\sqrt{2+2}$$", None),
    ("(a, b)", "(a, b)", None),
    ("Hello John, how are you?", "Hello John, how are you?", None),
])
def test_the_notation_splits_fields_from_the_text(text, bare, fields) -> None:
    assert split_fields(text) == (bare, fields)


@pytest.mark.parametrize(("with_fields", "without"), [
    ("TripCompleted(km, duration)", "TripCompleted"),
    ("OrderCreated {orderId, amount: Decimal}", "OrderCreated"),
    ("Publish: ORDER_CREATED {orderId}", "Publish: ORDER_CREATED"),
    ("POST /orders (items)", "POST /orders"),
])
def test_event_keys_are_the_keys_of_the_text_without_fields(with_fields, without) -> None:
    assert event_key(with_fields) == event_key(without)
    assert event_key(with_fields, False) == event_key(without, False)


@pytest.mark.parametrize(("text", "hop", "bare", "fields"), [
    # fields, then the topic the event travels on (docs/notation.md: a topic is written
    # last); before, the fields stayed in the event's name and the event carried none
    ("CheckOrder {orderId: UUID} (checks.v1)", False, "CheckOrder (checks.v1)",
     (("orderId", "UUID"),)),
    ("CheckOrder(orderId, amount: Decimal) (topic: checks)", False,
     "CheckOrder (topic: checks)", (("orderId", None), ("amount", "Decimal"))),
    ("CheckOrder {orderId} (checks)", True, "CheckOrder (checks)", (("orderId", None),)),
    ("Publish CheckOrder {orderId} to checks.v1", True, "Publish CheckOrder to checks.v1",
     (("orderId", None),)),
    # off a broker hop, `to customer` names no topic, and `(checks)` is a field
    ("Email invoice {total} to customer", False, "Email invoice {total} to customer", None),
    ("Pay(amount) (orders)", False, "Pay(amount)", (("orders", None),)),
    # a call's argument before a topic stays the call's
    ("findById(42) (reads.v1)", False, "findById(42) (reads.v1)", None),
])
def test_fields_may_stand_before_a_topic(text, hop, bare, fields) -> None:
    assert split_fields(text, hop) == (bare, fields)


def test_braces_are_fields_on_a_hop_and_trailing_blanks_change_nothing() -> None:
    # braces never hold a topic, on a broker hop either (only parentheses do)
    assert split_fields("OrderPlaced {orderId}", True) == ("OrderPlaced", (("orderId", None),))
    assert split_fields("OrderCreated(orderId) ") == ("OrderCreated", (("orderId", None),))
    # strip_fields says the same as split_fields, hop or not
    assert strip_fields("OrderPlaced (orders)") == "OrderPlaced"
    assert strip_fields("OrderPlaced (orders)", hop=True) == "OrderPlaced (orders)"


def test_an_event_with_fields_and_a_topic_is_named_and_routed_by_both() -> None:
    analysis = analyse(mermaidgen.parse(
        "sequenceDiagram\n    participant Orders\n    participant NATS@{ \"type\": \"queue\" }\n"
        "    participant Fraud\n"
        "    Orders-)NATS: CheckOrder {orderId: UUID, amount: Decimal} (checks.v1)\n"
        "    NATS-)Fraud: CheckOrder\n"
        "    Fraud-)NATS: Publish FraudCleared {orderId: UUID} to fraud.v1\n"
        "    NATS-)Orders: FraudCleared\n"))
    events = {e.class_name: e for e in analysis.events}
    assert set(events) == {"CheckOrder", "FraudCleared"}
    assert events["CheckOrder"].topic == "checks.v1"
    assert [(f.name, f.type) for f in events["CheckOrder"].fields] == [
        ("orderId", "UUID"), ("amount", "Decimal")]
    assert events["FraudCleared"].topic == "fraud.v1"
    assert [f.name for f in events["FraudCleared"].fields] == ["orderId"]


@pytest.mark.parametrize(("written", "generated", "known"), [
    (None, "str", True), ("Decimal", "Decimal", True), ("decimal", "Decimal", True),
    ("integer", "int", True), ("UUID", "UUID", True), ("timestamp", "datetime", True),
    ("list[int]", "list[int]", True), ("int[]", "list[int]", True),
    ("date?", "date | None", True), ("bool | None", "bool | None", True),
    ("Money", "Decimal", True), ("Decmal", "str", False), ("list[Thing]", "list[str]", False),
])
def test_types_come_from_a_small_documented_set(written, generated, known) -> None:
    assert python_type(written) == (generated, known)


def test_field_names_that_are_no_attributes_are_made_attributes() -> None:
    found = fields_of("Moved(from, class, orderId, NAME, model_id, from)")
    assert [(f.name, f.attribute) for f in found] == [
        ("from", "from_"), ("class", "class_"), ("orderId", "orderId"), ("NAME", "name_"),
        ("model_id", "model_id_")]


BROKER = """sequenceDiagram
    participant Orders
    participant Kafka
    participant Billing
    Orders->>Kafka: Publish: OrderCreated {orderId, amount: Decimal}
    Kafka->>Billing: Consume: OrderCreated {orderId: UUID, note}
    Billing-)Orders: Invoiced(total: float)
"""


def test_the_analysis_gives_each_event_the_fields_of_all_its_texts() -> None:
    analysis = analyse(mermaidgen.parse(BROKER))
    events = {e.class_name: e for e in analysis.events}
    assert set(events) == {"OrderCreated", "Invoiced"}  # names without fields
    created = events["OrderCreated"]
    assert created.channel == "Kafka" and created.name == "OrderCreated"
    assert [(f.name, f.type) for f in created.fields] == [
        ("orderId", "UUID"), ("amount", "Decimal"), ("note", "str")]
    assert [(f.name, f.type) for f in events["Invoiced"].fields] == [("total", "float")]


def test_the_json_contract_carries_fields_and_says_version_2() -> None:
    diagram = mermaidgen.parse(BROKER)
    document = model_to_dict(diagram)
    assert VERSION == 2 and document["version"] == 2
    texts = [s for s in document["statements"] if s["type"] == "message"]
    assert texts[0]["fields"] == [{"name": "orderId", "type": None},
                                  {"name": "amount", "type": "Decimal"}]
    assert texts[2]["fields"] == [{"name": "total", "type": "float"}]
    plain = model_to_dict(mermaidgen.parse("sequenceDiagram\nA->>B: hello\n"))
    assert "fields" not in plain["statements"][0]  # optional: only where a text writes them
    events = analysis_to_dict(analyse(diagram))["events"]
    assert events[1]["fields"] == [{"name": "total", "attribute": "total", "type": "float",
                                    "written": "float", "known": True}]
    json.dumps(document)


def test_preview_shows_fields_and_lint_names_an_unknown_type(cli, tmp_path) -> None:
    source = tmp_path / "d.mmd"
    source.write_text("sequenceDiagram\nA-)B: TripCompleted(km: float, duration)\n"
                      "B-)A: Paid(amount: Decmal)\n")
    shown = cli("preview", source)
    assert shown.code == 0
    assert "km: float," in shown.out and "amount: Decmal" in shown.out
    assert "TripCompletedKm" not in shown.out  # the class name has no fields in it
    checked = cli("check", source)
    assert f"{source}:3:1: warning[unknown-field-type]" in checked.err
    assert "`Decmal`" in checked.err
