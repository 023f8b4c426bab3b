"""The event catalogue's naming of one message text (`analysis.events._facts`).

`_facts` takes a text apart once for its event key, class name base, channel base and
topic; it must give exactly what the public functions give one by one (`event_key`,
`event_words`, `pascal`, `topic`), since those names reach generated code and the
contract test of every generated package. Held to them on the samples' texts, the
mermaid docs corpus (when it is beside the project) and generated texts that mix every
rule's cases: fields, topics, `<br>`, verbs, accents, scripts without ASCII spelling.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mermaidgen.analysis.events import TOPIC, _facts, _routed
from mermaidgen.analysis.fields import fields_of, merged
from mermaidgen.analysis.naming import pascal
from mermaidgen.contract.keys import event_key, event_words, strip_fields
from mermaidgen.mermaid.sources import load_diagrams
from mermaidgen.model import messages

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "mermaid-docs"


def _spelled_out(text: str, hop: bool) -> tuple[str, str, str, str | None]:
    """`_facts` as it was written before it took each step once."""
    routed = None
    if hop:
        text, routed = _routed(text)
    found = TOPIC.search(strip_fields(text, hop)) if "(" in text or "[" in text else None
    key = event_key(text, hop)
    return (key, pascal(key, "Event"), "-".join(event_words(text, verbs=hop)) or "events",
            found.group(1) if found else routed)


def _texts() -> set[str]:
    files = sorted((ROOT / "samples").glob("*.mmd")) + sorted(CORPUS.glob("*.mmd"))
    return {m.text for f in files for d in load_diagrams(str(f)) for m in messages(d)}


PIECES = ["Publish ", "consume: ", "Send ", "ORDER_CREATED", "OrderCreated", "HTTPServer",
          "order-created", " event", "Event ", " msg", " (orders.v1)", " [topic: a.b]",
          "(topic: x)", " to orders.v1", " from q", " via bus", "{id, n: int}", "(a, b: str)",
          "(42)", "<br>", "<BR/>", "Café", "Straße", "ø", "注文", "Заказ", "🚀", "\u0301",
          "ｱ", "ΣΑΣ", "ǅ", "İ", "ﬁ", "Ⅻ", "٣", "a1B2", "7", " ", "", ":", "(", ")", "}"]


def test_the_facts_of_the_samples_and_corpus_texts_are_the_spelled_out_ones() -> None:
    texts = _texts()
    assert len(texts) > 100
    for text in texts:
        for hop in (False, True):
            assert _facts.__wrapped__(text, hop) == _spelled_out(text, hop), (text, hop)


@settings(max_examples=400)
@given(st.lists(st.sampled_from(PIECES), max_size=7), st.booleans())
def test_the_facts_of_any_text_are_the_spelled_out_ones(pieces: list[str], hop: bool) -> None:
    text = "".join(pieces)
    assert _facts.__wrapped__(text, hop) == _spelled_out(text, hop)


@given(st.lists(st.sampled_from(PIECES), max_size=7), st.booleans())
def test_the_fields_of_one_text_are_merged_as_one(pieces: list[str], hop: bool) -> None:
    # the catalogue takes an event carried by one message's fields as `fields_of` gives them
    text = "".join(pieces)
    assert (fields_of(text, hop) or ()) == merged([(text, hop)])

