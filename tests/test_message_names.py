"""Messages by name: generated code refers to a diagram message as `Message.<NAME>`
(`_generated/names.py`), never by its position, and a name survives edits of the rest of
the diagram (analysis/message_names.py). The wire side is tests/test_faststream_identity.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_faststream_identity import NEW, OLD

import mermaidgen
from mermaidgen.analysis.message_names import message_names
from mermaidgen.codegen.generate import TARGETS, build

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = {p.stem: p for p in sorted((PROJECT / "samples").glob("*.mmd"))}
COMBOS = [(target, style) for target, styles in TARGETS.items() for style in styles]
# a message index where the built-in templates name a message: the first argument of
# publish/step/lose/receive/answer, a call's third, a HANDLERS key, a case's comparison
INDEX = re.compile(r"self\.(?:publish|step|lose|receive|answer)\(\d|self\.(?:call|send)\("
                   r"[^,]+, \"\w+\", \d|^\s+\d+: \"_|message (?:==|in \() *\d", re.MULTILINE)


def _names(text: str) -> dict[tuple[str, str, str, int], str]:
    """(sender, receiver, text, nth drawing of that arrow) -> the message's name."""
    analysis = mermaidgen.analyse(mermaidgen.parse(text))
    occurrences = [m.occurrence for m in analysis.messages]
    names = message_names(occurrences, analysis.event_keys, analysis.items)
    seen: dict[tuple[str, str, str], int] = {}
    out = {}
    for o, name in zip(occurrences, names, strict=True):
        arrow = (o.sender, o.receiver, o.message.text)
        seen[arrow] = seen.get(arrow, 0) + 1
        out[(*arrow, seen[arrow])] = name
    return out


@pytest.mark.parametrize(("target", "style"), COMBOS)
@pytest.mark.parametrize("sample", ["order-saga", "broker-fanout", "parallel-fulfilment"])
def test_generated_code_names_messages_never_by_index(target: str, style: str,
                                                      sample: str) -> None:
    text = SAMPLES[sample].read_text(encoding="utf-8")
    generation = build(mermaidgen.parse(text, source=f"{sample}.mmd"), text, style=style,
                       target=target)
    files = {f.path: f.content for f in generation.files}
    code = {path: content for path, content in files.items()
            if path.endswith(("/wiring.py", "/workflows.py")) or "/services/" in path}
    found = {path: INDEX.findall(content) for path, content in code.items()}
    assert not any(found.values()), found
    wiring = next(c for p, c in code.items() if p.endswith("/_generated/wiring.py"))
    assert "Message." in wiring
    names = next(c for p, c in files.items() if p.endswith("/_generated/names.py"))
    assert "class Message(IntEnum):" in names


def test_a_message_keeps_its_name_when_the_diagram_is_reordered() -> None:
    old, new = _names(OLD), _names(NEW)  # NEW: OLD with its two sections swapped
    # one event drawn in two sections is named by the section, wherever that is
    assert old[("Orders", "Stock", "Release", 1)] == "RELEASE_IN_RESERVED" \
        == new[("Orders", "Stock", "Release", 2)]
    assert old[("Orders", "Stock", "Release", 2)] == "RELEASE_IN_FAILED" \
        == new[("Orders", "Stock", "Release", 1)]
    # by who sends it to whom, when that tells the drawings apart
    assert old[("Stock", "Audit", "Released", 1)] == "RELEASED_STOCK_TO_AUDIT" \
        == new[("Stock", "Audit", "Released", 1)]
    assert old[("Stock", "Orders", "Released", 1)] == "RELEASED_STOCK_TO_ORDERS" \
        == new[("Stock", "Orders", "Released", 1)]
    assert sorted(old.values()) == sorted(new.values())


def test_an_event_s_hops_through_a_broker_are_named_by_who_sends_to_whom() -> None:
    names = _names(SAMPLES["broker-fanout"].read_text(encoding="utf-8"))
    hops = sorted(n for (_, _, text, _), n in names.items() if "ORDER_PLACED" in text
                  or text.startswith("OrderPlaced"))
    assert hops == ["ORDER_PLACED_KAFKA_TO_BILLING", "ORDER_PLACED_KAFKA_TO_INVENTORY",
                    "ORDER_PLACED_KAFKA_TO_NOTIFY", "ORDER_PLACED_ORDERS_TO_KAFKA"]


def test_drawings_that_differ_in_nothing_are_numbered_and_names_are_unique() -> None:
    names = _names("""sequenceDiagram
    A->>B: Ping
    B->>A: Pong
    A->>B: Ping
    A->>A: name
    A->>A: value
""")
    assert names[("A", "B", "Ping", 1)] == "PING"
    assert names[("A", "B", "Ping", 2)] == "PING_2"
    assert names[("A", "A", "name", 1)] == "NAME"  # the enum's own are `name`, `value`
    assert len(set(names.values())) == len(names)
