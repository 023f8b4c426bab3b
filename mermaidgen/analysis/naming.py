"""Names from diagrams turned into safe Python identifiers, unique within their scope.

Every name that reaches generated code goes through here: participant and event names
become module, class and function names; nothing else invents identifiers. Rules:

* words are found in any spelling (`OrderCreated`, `ORDER_CREATED`, `order-created`,
  `Order created`) so that they can be re-joined in the target convention;
* accents are dropped (`Café` -> `cafe`); other non-ASCII text (CJK, emoji) keeps the
  identifier ASCII by falling back to a positional name (`participant_3`), because module
  names end up as file names;
* Python keywords, soft keywords, builtins and names the generated runtime uses are
  avoided by appending `_`; a leading digit gets a prefix;
* `NameTable` hands out each name once per scope (`order_service`, `order_service_2`);
* a name once bound stays bound (`Pins`, kept in the manifest): deleting `Order-Service`
  must not hand its module to `Order_Service`, whose user code lives in `order_service_2`.
"""

from __future__ import annotations

import builtins
import functools
import keyword
from dataclasses import dataclass, field

from mermaidgen.contract.keys import BR, words  # one spelling rule for names and event keys

_RESERVED = frozenset(
    set(keyword.kwlist) | set(keyword.softkwlist) | set(dir(builtins))
    | {"self", "cls", "runtime", "events", "wiring", "contract", "logic", "services",
       "tests", "main", "app", "asyncio", "dataclasses", "typing", "trace", "bus",
       "dispatcher", "annotations", "field", "dataclass", "json", "sys", "os", "pytest"}
)


MAX_WORDS_LENGTH = 48
"""Names made from long texts keep their first words only (file names have limits, and
readers have less)."""


def _joined(parts: list[str], sep: str) -> str:
    out = sep.join(parts)  # most names are short: all their words (which are never empty)
    if len(out) <= MAX_WORDS_LENGTH:
        return out
    out = ""
    for part in parts:
        candidate = f"{out}{sep}{part}" if out else part
        if len(candidate) > MAX_WORDS_LENGTH and out:
            break
        out = candidate
    return out[:MAX_WORDS_LENGTH]


def _name_words(text: str) -> list[str]:
    """The words a name is made of; a `<br>` line break in a diagram text is a blank, not
    a word `br`."""
    return words(BR.sub(" ", text) if "<" in text else text)


def _snake(text: str, fallback: str = "name") -> str:
    """`Order Service` -> `order_service`; safe as a Python identifier and a file name."""
    name = _joined(_name_words(text), "_") or fallback
    if name[0].isdigit():
        name = f"{fallback}_{name}"
    return name + "_" if name in _RESERVED else name


def _pascal(text: str, fallback: str = "Name") -> str:
    """`order created` -> `OrderCreated`; safe as a Python class name."""
    return pascal_of_words(_name_words(text), fallback)


def pascal_of_words(parts: list[str], fallback: str = "Name") -> str:
    """`pascal` of a text whose words (`words`) are `parts`: for a caller that has them
    already (the event catalogue: an event key is its words joined by blanks)."""
    name = _joined(list(map(str.capitalize, parts)), "") or fallback
    if name[0].isdigit():
        name = f"{fallback}{name}"
    return name + "_" if name in _RESERVED else name


# The analysis names every step, handler and event from message texts, which repeat: a
# 10,000-message diagram asked for 38,000 names built from a few hundred texts. Cached
# here (wrapped rather than decorated, which would hide the functions from mutation
# testing, as in `contract/keys.py`).
snake = functools.lru_cache(maxsize=65536)(_snake)
pascal = functools.lru_cache(maxsize=65536)(_pascal)


def constant(text: str, fallback: str = "NAME") -> str:
    """`order created` -> `ORDER_CREATED`."""
    return snake(text, fallback.lower()).upper()


def kebab(text: str, fallback: str = "channel") -> str:
    """`Order Created` -> `order-created`, for channel names."""
    return _joined(_name_words(text), "-") or fallback


PACKAGE_MAX = 100
"""Characters in a package name: file systems refuse file names past 255 bytes."""


def is_package_name(name: object) -> bool:
    """True for a name a package folder may have: a lower-case ASCII identifier, not a
    keyword. (A package read back from a manifest is checked with this: it becomes a path.)"""
    return isinstance(name, str) and 0 < len(name) <= PACKAGE_MAX and name.isascii() \
        and name.isidentifier() and name == name.lower() and not keyword.iskeyword(name)


def is_module_name(name: object) -> bool:
    """True for a name `snake` could have made: a safe module, class-stem and file name.
    (Names read back from a manifest are checked with this: a cloned repository's manifest
    is hostile input. A name without words is never one: snake gives it the fallback, a
    word; a fallback of `_` would let `__` pass, as `_` plus the reserved-word mark.)"""
    return isinstance(name, str) and 0 < len(name) <= MAX_WORDS_LENGTH + 8 \
        and name.isascii() and name.isidentifier() and name == name.lower() \
        and not keyword.iskeyword(name) and snake(name) == name


@dataclass(frozen=True, slots=True)
class Pins:
    """Participant names chosen by earlier runs (read from the manifest)."""

    bound: dict[str, str] = field(default_factory=dict)
    """participant id -> module name, as the last run recorded them."""
    present: frozenset[str] = frozenset()
    """Module names whose user file exists in the output folder: a new participant never
    takes one of them (it would inherit someone else's code)."""
    package: str | None = None
    """The package the last run generated: kept when no package is asked for, so that a
    new title does not move the user's code into a new package."""
    schema: str | None = None
    """The text of that package's schema.py (the user's refinements of the payload
    classes, codegen/schema.py), or None."""

    def carried(self, current: set[str]) -> dict[str, str]:
        """Bindings of participants no longer in the diagram whose file is still there:
        kept, so the name is not handed out again while that code exists."""
        return {pid: name for pid, name in self.bound.items()
                if pid not in current and name in self.present}


def stable_names(bases: list[tuple[str, str]], pins: Pins | None) -> tuple[NameTable,
                                                                         dict[str, str]]:
    """Module names for `(participant id, base name)` pairs, in order. A participant an
    earlier run named keeps that name; a new one gets its base, or the first free suffix
    that is neither bound to another participant nor a module still on disk. Without pins
    (a first run, an old manifest) names go by collision order, as they always did.
    Returns the table (for names asked later) and id -> name."""
    pins = pins or Pins()
    table = NameTable(tuple(pins.present - set(pins.bound.values())))
    for pid, name in pins.bound.items():
        table.pin(("participant", pid), name)
    return table, {pid: table.name(("participant", pid), base) for pid, base in bases}


class NameTable:
    """Unique identifiers in one scope: the same key always gets the same name, and two
    keys never share one."""

    def __init__(self, taken: tuple[str, ...] = ()) -> None:
        self._by_key: dict[object, str] = {}
        self._used: set[str] = set(taken)
        self._next: dict[str, int] = {}  # base -> the suffix to try next (linear, not n^2)

    def name(self, key: object, base: str) -> str:
        by_key, used = self._by_key, self._used
        found = by_key.get(key)
        if found is not None:
            return found
        name = base
        if name in used:  # taken: the first free suffix from where the last search ended
            n = self._next.get(base, 2)
            while name in used:
                name = f"{base}_{n}"
                n += 1
            self._next[base] = n
        used.add(name)
        by_key[key] = name
        return name

    def taken(self, name: str) -> bool:
        """True when `name` is already handed out (or reserved) in this scope."""
        return name in self._used

    def pin(self, key: object, name: str) -> None:
        """Give `key` the name `name` (chosen earlier), if no other key has it."""
        if key not in self._by_key and name not in self._used:
            self._by_key[key] = name
            self._used.add(name)

    def collided(self, key: object, base: str) -> bool:
        """True when `key` had to be renamed because `base` was already taken."""
        return self._by_key.get(key, base) != base
