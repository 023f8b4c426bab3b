"""Rules that no other test pinned down, each with the case that breaks it:

* the contract checker tells events apart by their key (`keys.event_key`); a word without
  an ASCII spelling (CJK, Cyrillic, emoji) is part of the key, so `注文` (order) is never
  `発送` (shipping), not even next to an ASCII word (`注文 1`, `Publish 注文`);
* a `create`d participant must be the *receiver* of the next message (mermaid's
  SequenceDB; syntax reference 5.3): being its sender is not enough.
"""

from __future__ import annotations

import pytest

from mermaidgen import parse
from mermaidgen.contract import contract_of, keys
from mermaidgen.contract.checker import check
from mermaidgen.errors import DiagramError

# texts without one ASCII word; each pair is two different events
DIFFERENT = [
    pytest.param("注文", "発送", id="cjk"),
    pytest.param("🚀", "🛒", id="emoji"),
    pytest.param("👩‍💻", "👩", id="emoji-zwj-sequence"),
    pytest.param("🇫🇷", "🇩🇪", id="flags"),
    pytest.param("Заказ", "Оплата", id="cyrillic"),
    pytest.param("طلب", "شحن", id="arabic"),
]


def _check(diagram_text: str, sent: str) -> dict:
    diagram = parse(f"sequenceDiagram\n    A->>B: {diagram_text}\n    B-->>A: ok\n",
                    source="rules.mmd")
    return check(contract_of(diagram), [("A", "B", sent), ("B", "A", "ok")])


@pytest.mark.parametrize(("drawn", "other"), DIFFERENT)
def test_a_text_without_ascii_words_is_its_own_event(drawn: str, other: str) -> None:
    assert _check(drawn, drawn)["ok"], _check(drawn, drawn)["explanation"]
    wrong = _check(drawn, other)
    assert not wrong["ok"]
    assert "is not in the diagram" in wrong["explanation"], wrong["explanation"]


@pytest.mark.parametrize(("drawn", "other"), DIFFERENT)
def test_event_keys_of_texts_without_ascii_words(drawn: str, other: str) -> None:
    assert keys.event_key(drawn) and keys.event_key(other)
    assert keys.event_key(drawn) != keys.event_key(other)
    assert keys.event_key(f"  {drawn} ") == keys.event_key(drawn)  # blanks are not the text


@pytest.mark.parametrize(("drawn", "other"), [
    pytest.param("注文 1", "発送 1", id="cjk-and-a-number"),
    pytest.param("Publish 注文", "Publish 発送", id="verb-and-cjk"),
    pytest.param("Order 🚀", "Order 📦", id="word-and-emoji"),
    pytest.param("🚀📦", "🚀", id="two-emoji-and-one"),
    pytest.param("OrderCreated 注文", "OrderCreated", id="ascii-and-cjk-word"),
    pytest.param("Заказ created", "Оплата created", id="cyrillic-and-latin"),
    pytest.param("Publish: 注文 (orders.v1)", "Publish: 発送 (orders.v1)", id="cjk-and-topic"),
])
def test_words_without_an_ascii_form_still_tell_events_apart(drawn: str, other: str) -> None:
    assert not _check(drawn, other)["ok"]


def test_a_created_participant_receives_the_next_message() -> None:
    diagram = parse("sequenceDiagram\n    participant A\n    create participant B\n"
                    "    A->>B: hello\n    B->>A: welcome\n", source="create.mmd")
    assert [p.id for p in diagram.participants] == ["A", "B"]


@pytest.mark.parametrize("keyword", ["participant", "actor"])
def test_a_created_participant_may_not_send_the_next_message(keyword: str) -> None:
    text = (f"sequenceDiagram\n    participant A\n    create {keyword} B\n"
            "    B->>A: hello\n")
    with pytest.raises(DiagramError) as raised:
        parse(text, source="create.mmd")
    [problem] = raised.value.problems
    assert (problem.line, problem.column, problem.code) == (3, 5, "semantic")
    assert "`B` is created here, but the next message (line 4) goes to `A`" in \
        problem.message
    assert "must be sent to `B`" in (problem.hint or "")
