"""A name per message of the diagram that survives edits: what generated code calls a
message (`Message.ORDER_CONFIRMED`) and what the FastStream target puts on the wire.

A message is named by the event it carries (the analysis' event key), so that adding,
removing or reordering other messages leaves its name alone. Where one event is drawn
more than once, each drawing is told apart by what differs between them, most stable
first:

1. who sends it to whom (`ORDER_PLACED_KAFKA_TO_BILLING`: the hops of one broker event);
2. the section it is drawn in, innermost first (`RELEASE_STOCK_IN_PAYMENT_DECLINED`);
3. only then by its order among the drawings still alike (`PING_2`): two drawings of one
   event between the same two participants in the same section differ in nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mermaidgen.analysis.flow import Occurrence, SectionStart
from mermaidgen.analysis.naming import NameTable, constant
from mermaidgen.contract.keys import event_key


def message_names(occurrences: Sequence[Occurrence], event_keys: Sequence[str | None],
                  items: Sequence[object]) -> tuple[str, ...]:
    """A unique UPPER_CASE identifier per message index."""
    labels = {(s.block_id, s.index): s.section.label for s in items
              if isinstance(s, SectionStart)}
    names = [constant(key if key is not None else event_key(o.message.text, False),
                      "MESSAGE") for o, key in zip(occurrences, event_keys, strict=True)]

    def pair(o: Occurrence) -> str:
        return f"{constant(o.sender, 'SENDER')}_TO_{constant(o.receiver, 'RECEIVER')}"

    def section(o: Occurrence) -> str:
        for block_section in reversed(o.path):
            label = labels.get(block_section, "").strip()
            if label:
                return "IN_" + constant(label, "SECTION")
        return ""

    for qualifier in (pair, section):
        _qualify(names, occurrences, qualifier)
    table = NameTable()  # UPPER_CASE: never the enum's own `name` and `value`
    return tuple(table.name(i, name) for i, name in enumerate(names))


def _qualify(names: list[str], occurrences: Sequence[Occurrence],
             qualifier: Callable[[Occurrence], str]) -> None:
    """Within each group of messages that share a name, append what `qualifier` says of
    each, when it tells at least two of them apart."""
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        groups.setdefault(name, []).append(i)
    for group in groups.values():
        if len(group) < 2:
            continue
        said = [qualifier(occurrences[i]) for i in group]
        if len(set(said)) < 2:
            continue
        for i, words in zip(group, said, strict=True):
            if words:
                names[i] = f"{names[i]}_{words}"
