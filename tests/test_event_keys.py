"""Event keys (`mermaidgen/contract/keys.py`): which message texts name the same event.

The key decides what the contract checker of every generated package accepts as "the same
message" and which hops the analysis joins into one event, so each rule of the module's
docstring is pinned here by the key it gives (found by mutation testing, docs/mutation.md).
"""

from __future__ import annotations

import pytest

from mermaidgen import parse
from mermaidgen.analysis import analyse
from mermaidgen.contract.checker import check
from mermaidgen.contract.keys import event_key, event_words, words

KEYS = [
    # (text, its event key, id)
    ("Publish: ORDER_CREATED (orders.v1)", "order created", "verb-and-topic-in-parentheses"),
    ("OrderCreated [orders.v1]", "order created", "topic-in-brackets"),
    ("findById(42)", "find by id 42", "call-argument-is-not-a-topic"),
    ("Order<br>Created", "order created", "br-break"),
    ("Order<BR />created", "order created", "self-closed-br-break"),
    ("Event: OrderCreated", "order created", "leading-event-word"),
    ("Event Shipped", "shipped", "leading-event-word-before-one-word"),
    ("Event Order 7", "order 7", "leading-event-word-before-a-number-too"),
    ("Event Order", "order", "leading-event-word-then-one-word"),
    ("Event 42", "event 42", "numbered-event-keeps-its-word"),
    ("Shipped event", "shipped", "trailing-event-word"),
    ("Consume order-created message", "order created", "verb-and-trailing-word"),
    ("  注文  ", "注文", "no-ascii-word-falls-back-to-the-text"),
    ("ΣΥΜΒΑΝ", "συμβαν", "fallback-is-lower-case"),
    ("🚀 📦", "🚀 📦", "emoji-only"),
    ("🚀📦", "🚀 📦", "each-emoji-is-a-word"),
    ("❤️", "❤", "emoji-variation-selector-dropped"),
    ("Publish 注文", "注文", "verb-before-cjk-dropped"),
    ("注文 1", "注文 1", "cjk-word-and-number"),
    ("Publish: 注文 (orders.v1)", "注文", "cjk-verb-and-topic"),
    ("Event 注文", "注文", "leading-event-word-before-cjk"),
    ("OrderCreated注文", "order created 注文", "ascii-camel-then-cjk"),
    ("注文、発送", "注文 発送", "cjk-punctuation-separates"),
    ("ЗаказСоздан", "заказ создан", "cyrillic-camel-case"),
    ("ЗАКАЗ_СОЗДАН", "заказ создан", "cyrillic-upper-snake"),
    ("ｱｲ", "アイ", "half-width-katakana-nfkc"),
    ("नमस्ते", "नमस्ते", "devanagari-marks-stay-in-the-word"),
    ("ＯｒｄｅｒＣｒｅａｔｅｄ", "order created", "full-width-latin-is-ascii"),
    ("🚀注文", "🚀 注文", "emoji-then-cjk"),
    ("注文🚀", "注文 🚀", "cjk-then-emoji"),
    ("طلب ١٢", "طلب ١٢", "arabic-indic-digits-are-a-word"),
    ("ΟΔΟΣ", "οδοσ", "greek-case-folded-not-lower-cased"),
    ("ＨＴＴＰＳｅｒｖｅｒ", "http server", "full-width-latin-split-as-ascii"),
    ("Straße", "strae", "latin-without-ascii-form-dropped-as-before"),
    ("STRAẞE", "strae", "latin-extended-without-ascii-form-dropped-as-before"),
    ("order→created", "ordercreated", "arrow-dropped-as-before"),
    ("©Order", "order", "latin-1-sign-dropped-as-before"),
]


@pytest.mark.parametrize("text, key", [pytest.param(*k[:2], id=k[2]) for k in KEYS])
def test_event_key(text: str, key: str) -> None:
    assert event_key(text) == key


WORDS = [
    # (text, verbs kept, event words, id)
    ("Publish", True, ["publish"], "a-lone-verb-is-the-event"),
    ("Publish notify", True, ["notify"], "verbs-drop-down-to-the-last-word"),
    ("Send invoice", False, ["send", "invoice"], "command-keeps-its-verb"),
    ("Send invoice", True, ["invoice"], "event-drops-its-verb"),
    ("Event", True, ["event"], "a-lone-event-word-stays"),
    ("Event event", True, ["event"], "trailing-word-stops-at-one"),
]


@pytest.mark.parametrize("text, verbs, expected", [pytest.param(*w[:3], id=w[3])
                                                    for w in WORDS])
def test_event_words(text: str, verbs: bool, expected: list[str]) -> None:
    assert event_words(text, verbs=verbs) == expected


@pytest.mark.parametrize("text, expected", [
    pytest.param("Café crème", ["cafe", "creme"], id="accents-dropped"),
    pytest.param("注文 1", ["1"], id="names-stay-ascii"),
    pytest.param("ORDER_CREATED", ["order", "created"], id="upper-snake"),
    pytest.param("HTTPServer2Up", ["http", "server", "2", "up"], id="acronym-and-number"),
])
def test_words(text: str, expected: list[str]) -> None:
    assert words(text) == expected


def _one_message(text: str) -> dict:
    return {"version": 1, "items": [
        {"kind": "message", "from": "A", "to": "B", "text": text, "line": 2}]}


@pytest.mark.parametrize("drawn, sent, ok", [
    pytest.param("注文", "発送", False, id="different-cjk-texts"),
    pytest.param("注文", " 注文 ", True, id="same-cjk-text"),
    pytest.param("🚀", "📦", False, id="different-emoji"),
    pytest.param("Café créé", "Cafe cree", True, id="accents-do-not-count"),
])
def test_texts_without_ascii_words_are_still_compared(drawn: str, sent: str,
                                                       ok: bool) -> None:
    result = check(_one_message(drawn), [("A", "B", sent)])
    assert result["ok"] is ok, result["explanation"]


@pytest.mark.parametrize("text", [
    "Publish: ORDER_CREATED (orders.v1)", "Café créé event", "Straße", "Send invoice",
    "Ｏｒｄｅｒ ｃｒｅａｔｅｄ", "order→created", "findById(42)", "Event 42",
])
def test_texts_with_an_ascii_spelling_key_by_their_words(text: str) -> None:
    # keys of such texts are in every generated package's traces: they must not move
    for verbs in (True, False):
        assert event_key(text, verbs) == " ".join(event_words(text, verbs))


def test_the_analysis_keeps_apart_the_events_the_checker_keeps_apart() -> None:
    # one event class for `注文 1` and `発送 1` would be a contract the code cannot keep
    diagram = parse("sequenceDiagram\n    participant O as Orders\n"
                    "    participant K as Kafka\n    participant S as Shipping\n"
                    "    O->>K: 注文 1\n    K->>S: 注文 1\n"
                    "    O->>K: 発送 1\n    K->>S: 発送 1\n"
                    "    S->>O: Send 注文\n", source="keys.mmd")
    events = analyse(diagram).events
    assert [(e.key, e.occurrences) for e in events] == [
        ("注文 1", (0, 1)), ("発送 1", (2, 3)), ("send 注文", (4,))]
    assert len({e.class_name for e in events}) == 3


def test_the_first_letters_after_latin_1_are_words_and_verbs_are_dropped_by_default() -> None:
    # U+0370, the first code point past the Latin ranges, is a Greek letter: a word of its
    # own (not dropped as a Latin sign would be), so `Ͱ 1` and `Ϳ 1` are different events
    assert event_key("Ͱ 1") == "ͱ 1"
    assert event_key("Ͱ 1") != event_key("Ϳ 1")
    assert event_words("Publish order") == ["order"]
    assert event_words("Publish order", False) == ["publish", "order"]
