"""Words and event keys of names and message texts (standard library only).

This module is copied verbatim into every generated package (as `_generated/keys.py`) so
that a package's contract test compares texts exactly as mermaidgen's analysis does; it
must therefore import nothing but the standard library.

* `words`: the words of a name in any spelling (`OrderCreated`, `ORDER_CREATED`,
  `order-created`, `Order created`), lower-cased, accents dropped, ASCII only;
* `event_words` / `event_key`: the words that name the event a message text carries,
  without a topic in parentheses, `<br>` breaks, leading verbs (publish, consume, ...) and
  a trailing `event`, so that `Publish: ORDER_CREATED (orders.v1)` and `OrderCreated
  event` both give the key `order created`.
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
TOPIC = re.compile(r"(?<!\S)[(\[]\s*([A-Za-z0-9][\w.\-/:]*)\s*[)\]]")
"""A topic written in a text, after a blank: `OrderCreated (orders.v1)` (but `findById(42)`
is a call with its argument)."""


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


def event_words(text: str, verbs: bool = True) -> list[str]:
    """The words that name the event a message text carries. `verbs=False` keeps leading
    verbs: a command sent straight to a service (`Send invoice`) is named by its verb."""
    if "(" in text or "[" in text:
        text = TOPIC.sub(" ", text)
    if "<" in text:
        text = BR.sub(" ", text)
    found = words(text)
    while verbs and len(found) > 1 and found[0] in VERBS:
        found = found[1:]
    if found[:1] == ["event"] and len(found) > 1 and not all(w.isdigit() for w in found[1:]):
        found = found[1:]
    while len(found) > 1 and found[-1] in TRAILING:
        found = found[:-1]
    return found


def _event_key(text: str) -> str:
    """What two hops of one event have in common: `Publish: ORDER_CREATED` and
    `OrderCreated event` both give `order created`."""
    return " ".join(event_words(text)) or text.strip().lower()


event_key = functools.lru_cache(maxsize=65536)(_event_key)
