"""Direct tests of `naming.py`, written for the mutants mutation testing left alive
(docs/mutation.md). Every identifier in a generated skeleton comes from here, and a
module name once chosen is the name of the user's file: each rule below is one a user
relies on (a name that is valid Python, the same name on every run, never someone
else's file)."""

from __future__ import annotations

import keyword

import pytest

from mermaidgen.analysis.naming import (
    MAX_WORDS_LENGTH,
    PACKAGE_MAX,
    NameTable,
    Pins,
    constant,
    is_module_name,
    is_package_name,
    kebab,
    pascal,
    snake,
    stable_names,
)

# --- one name from one text -----------------------------------------------------------


@pytest.mark.parametrize(("text", "name"), [
    ("Order Service", "order_service"),
    ("OrderService", "order_service"),
    ("ORDER_SERVICE", "order_service"),
    ("order-service", "order_service"),
    ("Café", "cafe"),
    ("A1 service", "a_1_service"),  # digits are words of their own
    ("a", "a"),
    ("Order<br>created", "order_created"),  # a line break is a blank, not a word `br`
    ("Order<BR/>created", "order_created"),
    ("a < b", "a_b"),  # a `<` that is no line break changes nothing
])
def test_snake_names(text: str, name: str) -> None:
    assert snake(text) == name


def test_a_text_without_ascii_words_takes_the_fallback() -> None:
    assert snake("注文") == "name"
    assert snake("🚀", "participant_3") == "participant_3"
    assert pascal("注文") == "Name"
    assert pascal("🚀", "Event7") == "Event7"
    assert kebab("注文") == "channel"
    assert kebab("🚀", "topic") == "topic"
    assert constant("注文") == "NAME"
    assert constant("🚀", "Event") == "EVENT"


def test_a_leading_digit_gets_the_fallback_as_prefix() -> None:
    assert snake("3 tier app") == "name_3_tier_app"
    assert snake("9 lives", "svc") == "svc_9_lives"
    assert pascal("3d print") == "Name3DPrint"
    assert pascal("3d print", "Event") == "Event3DPrint"
    assert pascal("A1 service") == "A1Service"  # a digit after the first letter: no prefix
    assert constant("2nd try") == "NAME_2_ND_TRY"


@pytest.mark.parametrize("word", ["class", "list", "self", "runtime", "events", "main",
                                  "match", "type", "json", "os"])
def test_a_reserved_snake_name_gets_an_underscore(word: str) -> None:
    """Keywords, soft keywords, builtins and the names the generated runtime imports would
    shadow or break the generated module."""
    assert snake(word) == word + "_"
    assert snake(word.upper()) == word + "_"


def test_a_reserved_class_name_gets_an_underscore() -> None:
    assert pascal("none") == "None_"
    assert pascal("true") == "True_"
    assert pascal("exception") == "Exception_"
    assert pascal("order created") == "OrderCreated"  # not reserved: untouched


def test_pascal_capitalises_each_word() -> None:
    assert pascal("order created") == "OrderCreated"
    assert pascal("ORDER_CREATED") == "OrderCreated"
    assert pascal("payment-failed event") == "PaymentFailedEvent"


def test_constant_and_kebab() -> None:
    assert constant("order created") == "ORDER_CREATED"
    assert constant("class") == "CLASS_"
    assert kebab("Order Created") == "order-created"
    assert kebab("Order<br>created") == "order-created"
    assert kebab("class") == "class"  # a channel name is no identifier: nothing reserved


def test_long_texts_keep_their_first_whole_words() -> None:
    forty = "a" * 40
    # exactly the limit: kept whole
    assert snake(f"{forty} {'b' * 7}") == f"{forty}_{'b' * 7}"
    assert len(snake(f"{forty} {'b' * 7}")) == MAX_WORDS_LENGTH == 48
    # one past it: the word that does not fit is dropped, and so is every word after it
    # (a later short word would make a name that skips a word of the text)
    assert snake(f"{forty} {'b' * 8}") == forty
    assert snake(f"{forty} {'b' * 8} c") == forty
    assert kebab(f"{forty} {'b' * 8} c") == forty
    assert pascal(f"{'a' * 44} bcde fg") == "A" + "a" * 43 + "Bcde"
    # a first word longer than the limit is cut to it
    assert snake("x" * 60) == "x" * 48
    assert pascal("x" * 60) == "X" + "x" * 47


# --- names read back from a manifest --------------------------------------------------


def test_package_names() -> None:
    assert is_package_name("orders")
    assert is_package_name("o")
    assert is_package_name("order_service_2")
    assert is_package_name("a" * PACKAGE_MAX)
    assert PACKAGE_MAX == 100
    assert not is_package_name("a" * (PACKAGE_MAX + 1))
    assert not is_package_name("")
    assert not is_package_name(None)
    assert not is_package_name(["orders"])
    assert not is_package_name("Orders")
    assert not is_package_name("café")  # an identifier, but not ASCII
    assert not is_package_name("my-orders")
    assert not is_package_name("../orders")
    assert not is_package_name("class")


def test_module_names_are_the_ones_snake_makes() -> None:
    for name in ("order_service", "order_service_2", "a", "list_", "a_1_service",
                 "a" * MAX_WORDS_LENGTH, "participant_3"):
        assert is_module_name(name), name
    for name in ("", None, 7, "Order", "order-service", "café", "class", "list",
                 "order__service", "_private", "__init__", "_", "__", "1st",
                 "a" * (MAX_WORDS_LENGTH + 1), "a" * 500, "../x", "x.py"):
        assert not is_module_name(name), name


# --- names that stay bound across runs ------------------------------------------------


def test_name_table_hands_out_each_name_once() -> None:
    table = NameTable()
    assert table.name("k1", "order") == "order"
    assert table.name("k2", "order") == "order_2"
    assert table.name("k3", "order") == "order_3"
    assert table.name("k1", "something else") == "order"  # the same key, the same name
    assert table.name("k4", "order_2") == "order_2_2"
    assert table.name("k5", "order") == "order_4"
    assert table.name("k6", "billing") == "billing"


def test_name_table_skips_taken_names() -> None:
    table = NameTable(("order", "order_2"))
    assert table.name("k1", "order") == "order_3"
    assert table.name("k2", "billing") == "billing"
    assert table.name("k3", "order") == "order_4"


def test_collided_tells_a_renamed_key() -> None:
    table = NameTable()
    table.name("k1", "order")
    table.name("k2", "order")
    assert not table.collided("k1", "order")
    assert table.collided("k2", "order")
    assert not table.collided("unknown", "order")


def test_pin_binds_a_free_name_once() -> None:
    table = NameTable()
    table.pin("k1", "order_2")
    assert table.name("k1", "order") == "order_2"
    assert table.name("k2", "order") == "order"
    assert table.name("k3", "order") == "order_3"  # order_2 is k1's
    table.pin("k2", "billing")  # k2 already has a name: kept
    assert table.name("k2", "x") == "order"
    table.pin("k4", "order")  # the name is another key's: not given
    assert table.name("k4", "payment") == "payment"
    assert not table.collided("k1", "order_2")


def test_without_pins_names_go_by_collision_order() -> None:
    table, names = stable_names([("a", "order"), ("b", "order"), ("c", "billing")], None)
    assert names == {"a": "order", "b": "order_2", "c": "billing"}
    assert table.name(("participant", "b"), "ignored") == "order_2"
    assert table.name("the next one", "order") == "order_3"


def test_a_pinned_participant_keeps_its_name() -> None:
    """`Order-Service` (a) deleted: `Order_Service` (b) keeps `order_service_2`, where its
    code lives, and a newcomer does not get a's file while it is still on disk."""
    pins = Pins(bound={"a": "order_service", "b": "order_service_2"},
                present=frozenset({"order_service", "order_service_2"}))
    table, names = stable_names([("b", "order_service"), ("c", "order_service")], pins)
    assert names == {"b": "order_service_2", "c": "order_service_3"}
    assert table.name("later", "order_service") == "order_service_4"


def test_a_module_on_disk_is_never_handed_to_a_newcomer() -> None:
    pins = Pins(bound={}, present=frozenset({"billing"}))
    _, names = stable_names([("x", "billing"), ("y", "orders")], pins)
    assert names == {"x": "billing_2", "y": "orders"}


def test_a_binding_whose_name_is_taken_by_another_is_not_pinned() -> None:
    pins = Pins(bound={"a": "orders", "b": "orders"})
    _, names = stable_names([("a", "x"), ("b", "y")], pins)
    assert names == {"a": "orders", "b": "y"}


def test_carried_bindings_are_those_of_removed_participants_with_files() -> None:
    pins = Pins(bound={"a": "alpha", "b": "beta", "c": "gamma"},
                present=frozenset({"alpha", "gamma"}))
    assert pins.carried({"c"}) == {"a": "alpha"}
    assert pins.carried({"a", "b", "c"}) == {}
    assert pins.carried(set()) == {"a": "alpha", "c": "gamma"}
    assert Pins().carried(set()) == {}
    assert Pins().package is None


def test_reserved_words_cover_keywords() -> None:
    for word in keyword.kwlist:
        if word.isalpha() and word.islower():
            assert snake(word) == word + "_", word
