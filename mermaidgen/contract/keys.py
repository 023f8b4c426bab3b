"""Words and event keys of names and message texts (standard library only).

This module is copied verbatim into every generated package (as `_generated/keys.py`) so
that a package's contract test compares texts exactly as mermaidgen's analysis does; it
must therefore import nothing but the standard library.

* `words`: the words of a name in any spelling (`OrderCreated`, `ORDER_CREATED`,
  `order-created`, `Order created`), lower-cased, accents dropped, ASCII only (names
  become Python identifiers and file names);
* `event_words`: the (ASCII) words that name the event a message text carries, without a
  topic in parentheses, `<br>` breaks, leading verbs (publish, consume, ...) and a
  trailing `event`;
* `split_fields`: a message text without the fields written at its end
  (`TripCompleted(km, duration)`, `OrderCreated {orderId, amount: Decimal}`; the notation
  is docs/fields.md), and those fields as (name, type as written or None) pairs;
* `event_key`: the same words, plus the words that have no ASCII spelling (`注文`,
  `Заказ`, `🚀`; NFKC-normalised and case-folded), so that `Publish: ORDER_CREATED
  (orders.v1)` and `OrderCreated event` both give the key `order created`, but `注文 1`
  and `発送 1` are two events. A text without such words (any Latin text: accents, `ß`
  and `ø` dropped as `words` drops them) keys by its ASCII words, as it always did.
"""

from __future__ import annotations

import functools
import re
import unicodedata

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")  # within [A-Za-z0-9] runs
VERBS = frozenset({
    "publish", "publishes", "published", "emit", "emits", "emitted", "produce", "produces",
    "produced", "send", "sends", "sent", "consume", "consumes", "consumed", "deliver",
    "delivers", "delivered", "receive", "receives", "received", "forward", "forwards",
    "push", "pushes", "notify", "notifies", "subscribe", "subscribes", "dispatch",
    "dispatches", "raise", "raises", "fire", "fires", "broadcast", "broadcasts", "on",
})
"""Leading words that say how an event travels, not which event it is."""
TRAILING = frozenset({"event", "events", "message", "msg", "notification"})
"""Trailing words that say that a text is an event, not which one."""
BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
TOPIC = re.compile(r"(?<!\S)[(\[]\s*(?:(?i:topic|channel|subject|stream|queue)\s*:\s*)?"
                   r"([A-Za-z0-9][\w.\-/:]*)\s*[)\]]")
"""A topic written in a text, after a blank: `OrderCreated (orders.v1)`, or labelled,
`OrderCreated (topic: orders)` (but `findById(42)` is a call with its argument)."""
ROUTED = re.compile(r"(?<=\S)\s+(?:to|on|onto|into|from|via)\s+([a-z0-9][\w.\-/:]*)\s*$")
"""A topic named at the end of a broker hop's text, a lower-case name after to, on, onto,
into, from or via: `Publish OrderPlaced to orders.v1`, `OrderPlaced on orders` (the
analysis reads it on hops to and from a broker only: `Email invoice to customer` between
two services names no topic)."""

FIELD_GROUP = re.compile(r"(?:\(([^()]*)\)|\{([^{}]*)\})\s*$")
"""A group of fields at the end of a text: `(km, duration)` or `{orderId, amount}`."""
_FIELD_TYPE = re.compile(r"[A-Za-z_][\w\[\]., |?]*")
"""How a field's type may be spelled (`Decimal`, `list[str]`, `str | None`): what it means
is mermaidgen's business (analysis/fields.py), not the key's."""

Fields = tuple[tuple[str, "str | None"], ...]


def split_fields(text: str, hop: bool = False) -> tuple[str, Fields | None]:
    """A text without the fields written at its end, and those fields (None: the text has
    none). A group is fields when every item is a name, optionally `: type`, and something
    stands before it; a single token after a blank that is no plain name
    (`OrderCreated (orders.v1)`) is a topic, and `findById(42)` a call with its argument.
    On a broker `hop` (to or from a broker) a plain name after a blank is a topic too, as
    it always was (`Orders->>Kafka: OrderPlaced (orders)`)."""
    if not text.rstrip().endswith((")", "}")):
        routed = ROUTED.search(text) if hop else None
        return (text, None) if routed is None else _before_topic(text, routed.start())
    found = FIELD_GROUP.search(text)
    if found is None:
        return text, None
    inner = found.group(1) if found.group(1) is not None else found.group(2)
    head = text[:found.start()]
    if not head.strip():
        return text, None
    if found.group(1) is not None and head[-1:].isspace():
        token = inner.strip()
        if TOPIC.fullmatch(f"({token})") and (hop or not token.isidentifier()):
            return _before_topic(text, found.start())
    fields: list[tuple[str, str | None]] = []
    for item in inner.split(",") if inner.strip() else ():
        name, colon, kind = item.partition(":")
        name, kind = name.strip(), kind.strip()
        if not name.isidentifier() or (colon and not _FIELD_TYPE.fullmatch(kind)):
            return text, None
        fields.append((name, kind if colon else None))
    return head.rstrip(), tuple(fields)


def _before_topic(text: str, start: int) -> tuple[str, Fields | None]:
    """`text` whose topic begins at `start`, with the fields written just before the topic
    split off: a topic is written last (`CheckOrder {orderId} (checks.v1)`, `Publish
    CheckOrder {orderId} to checks`)."""
    head = text[:start].rstrip()
    if not head.endswith((")", "}")):
        return text, None
    bare, fields = split_fields(head)
    if fields is None:
        return text, None
    return f"{bare} {text[start:].strip()}", fields


def strip_fields(text: str, hop: bool = False) -> str:
    """A text without the fields written at its end (see `split_fields`)."""
    return split_fields(text, hop)[0]


def words(text: str) -> list[str]:
    """The words of a name in any spelling, lower-cased, ASCII only."""
    return list(_words(text))


def _split(text: str) -> tuple[str, ...]:
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return tuple(map(str.lower, _CAMEL.findall(text)))


# diagrams repeat their names and texts many times, hence the cache (wrapped here rather
# than by a decorator, which would hide the function from mutation testing)
_words = functools.lru_cache(maxsize=65536)(_split)


def _spelling(c: str) -> str | None:
    """How `words` spells a character: its ASCII form (accents dropped), or None for a
    letter, digit or pictograph that has none (`注`, `Я`, `🚀`) and so is a word only in
    its own script. Latin letters without an ASCII form (`ß`, `ø`) and the Latin-1 signs
    (`©`, `°`) are dropped, as `words` always dropped them, so Latin texts keep their keys."""
    spelled = unicodedata.normalize("NFKD", c).encode("ascii", "ignore").decode()
    kind = unicodedata.category(c)
    if spelled or ord(c) < 0x370 or not (kind[0] in "LN" or kind == "So") \
            or unicodedata.name(c, "").startswith("LATIN"):
        return spelled
    return None


def _fold(word: str) -> str:
    """A word as the key compares it: compatibility forms joined (`ｱ` is `ア`), case
    folded (`Σ`, `σ` and `ς` are one letter), and normalised again, as folding may undo it."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", word).casefold())


def _key_split(text: str) -> tuple[str, ...]:
    """`words`, plus the words that have no ASCII spelling, in order: a run of such letters
    and digits (with their marks) is a word, split where a lower-case letter meets an
    upper-case one; each pictograph is a word of its own. The text between them splits
    exactly as `words` splits it."""
    if text.isascii():
        return _words(text)
    found: list[str] = []
    spelled = ""  # the ASCII spelling of the text since the last word without one
    own = ""  # the word without an ASCII spelling being read
    for c in text:
        kind = unicodedata.category(c)
        if own and kind[0] == "M":
            if unicodedata.category(own[-1]) != "So":
                own += c  # a mark belongs to its letter (Devanagari vowel signs, ...)
            continue  # an emoji's variation selector is not part of the event's name
        spelling = _spelling(c)
        if spelling is not None:
            if own:
                found.append(_fold(own))
                own = ""
            spelled += spelling
            continue
        if spelled:
            found.extend(_words(spelled))
            spelled = ""
        if own and (kind == "So" or unicodedata.category(own[-1]) == "So"
                    or (own[-1].islower() and c.isupper())):
            found.append(_fold(own))
            own = ""
        own += c
    found.extend([_fold(own)] if own else _words(spelled))
    return tuple(found)


def event_words(text: str, verbs: bool = True) -> list[str]:
    """The words that name the event a message text carries. `verbs=False` keeps leading
    verbs: a command sent straight to a service (`Send invoice`) is named by its verb."""
    return _event_words(words(_bare(text)), verbs)


def _bare(text: str) -> str:
    """A message text without its fields, topic and line breaks."""
    text = strip_fields(text)
    if "(" in text or "[" in text:
        text = TOPIC.sub(" ", text)
    if "<" in text:
        text = BR.sub(" ", text)
    return text


def _event_words(found: list[str], verbs: bool) -> list[str]:
    while verbs and len(found) > 1 and found[0] in VERBS:
        found = found[1:]
    if found[:1] == ["event"] and len(found) > 1 and not all(w.isdigit() for w in found[1:]):
        found = found[1:]
    while len(found) > 1 and found[-1] in TRAILING:
        found = found[:-1]
    return found


def _event_key(text: str, verbs: bool = True) -> str:
    """What two hops of one event have in common: `Publish: ORDER_CREATED` and
    `OrderCreated event` both give `order created`; `注文 1` and `発送 1` do not share
    `1`. `verbs=False` as for `event_words`."""
    return " ".join(_event_words(list(_key_split(_bare(text))), verbs)) \
        or text.strip().lower()


event_key = functools.lru_cache(maxsize=65536)(_event_key)


# --- compensations: which step a compensating message undoes (the saga rule, shared by the
# generators and the checker: `checker.undone_steps`) ---------------------------------------

COMPENSATION = re.compile(
    r"\b(compensat\w*|cancel\w*|refund\w*|undo\w*|roll\s*back|rollback\w*|revert\w*"
    r"|release\w*|void\w*|revers\w*|unreserve\w*)\b", re.IGNORECASE)
"""The verbs of a message that undoes an earlier one (`Refund payment`, `Release stock`)."""
_NOT_A_THING = frozenset({"a", "an", "the", "of", "for", "to", "on", "in", "and", "or",
                          "with", "from", "by", "at", "it", "all"})


def is_compensation(text: str) -> bool:
    return bool(COMPENSATION.search(text))


def _things(text: str) -> frozenset[str]:
    """What a message is about: the words of its text (fields, topic and line breaks
    left out) but the compensating verbs and filler words."""
    return frozenset(w for w in words(_bare(text))
                     if w not in _NOT_A_THING and not is_compensation(w))


def undoes(compensation: str, step: str) -> bool:
    """Can a compensating message text undo a step's (both sent by one participant to one
    other)? They share a word besides the compensating verbs: `Refund payment` undoes
    `Charge payment`, `Cancel flight(flightId)` undoes `Book flight(price)`; a bare
    `ROLLBACK` undoes no one step (it closes a transaction, whatever ran in it)."""
    return is_compensation(compensation) and not is_compensation(step) and \
        bool(_things(compensation) & _things(step))
