"""YAML from diagrams (frontmatter, `@{...}` metadata), read with limits.

A cloned repository is hostile input. Twelve lines of anchors and aliases (the "billion
laughs") expand to billions of values once anything walks the result, and thousands of
nested `[` take PyYAML's pure-Python scanner minutes. So the text is first streamed as
parse events, which costs no more than its length, and refused as soon as it is too
long, nests too deep, uses too many aliases, or would grow too large with its aliases
expanded; only then is it built into values, once, by libyaml when it is installed.
"""

from __future__ import annotations

MAX_CHARS = 64 * 1024
"""Longest YAML text read: frontmatter and metadata are a few lines of settings."""
MAX_DEPTH = 50
"""Deepest nesting of lists and mappings."""
MAX_ALIASES = 100
"""Aliases (`*name`) in one text."""
MAX_EXPANDED = 256 * 1024
"""Size of the text's values with every alias replaced by a copy of what it names
(a character per scalar character and per collection), at most."""


class YamlProblem(Exception):
    """Why a YAML text is refused, at a 1-based line and column of the text."""

    def __init__(self, reason: str, line: int = 1, column: int = 1,
                 hint: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.line, self.column, self.hint = reason, line, column, hint


def _loader():
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str, *, raw: bool = False) -> tuple[object, object]:
    """The values of a YAML text as `yaml.safe_load` makes them, and with `raw` as
    `yaml.BaseLoader` does (every scalar a string, as written; else None)."""
    import yaml

    if len(text) > MAX_CHARS:
        raise YamlProblem(f"the YAML is {len(text):,} characters long; at most "
                          f"{MAX_CHARS:,} are read",
                          hint="keep frontmatter and metadata to a few settings")
    loader = _loader()
    try:
        _check_events(text, loader)
        node = yaml.compose(text, Loader=loader)
        if node is None:
            return None, None
        values = loader("").construct_document(node)
        written = yaml.BaseLoader("").construct_document(node) if raw else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlProblem(reason, *_position(mark)) from None
    except (ValueError, OverflowError) as exc:  # an int of 5000 digits, a 13th month
        raise YamlProblem(f"a value cannot be read ({exc})") from None
    return values, written


def _position(mark) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _check_events(text: str, loader) -> None:
    """Stream the parse events, refusing the text at the first limit it passes."""
    import yaml

    depth = aliases = expanded = 0
    sizes: dict[str, int] = {}  # anchor -> the expanded size of the value it names
    starts: list[tuple[str | None, int]] = []  # open collections: (anchor, size before)
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlProblem(f"lists and mappings nested more than {MAX_DEPTH} deep",
                                  *_position(event.start_mark),
                                  hint="settings need a few levels of nesting at most")
            starts.append((event.anchor, expanded))
            expanded += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            anchor, before = starts.pop()
            if anchor is not None:
                sizes[anchor] = expanded - before
        elif isinstance(event, yaml.ScalarEvent):
            expanded += 1 + len(event.value)
            if event.anchor is not None:
                sizes[event.anchor] = 1 + len(event.value)
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise YamlProblem(f"more than {MAX_ALIASES} aliases (`*name`)",
                                  *_position(event.start_mark),
                                  hint="write the values out instead of repeating anchors")
            if event.anchor not in sizes:
                inside = any(anchor == event.anchor for anchor, _ in starts)
                raise YamlProblem(
                    f"the alias `*{event.anchor}` is inside the value it names, which would "
                    "make an endless structure" if inside else
                    f"the alias `*{event.anchor}` names no anchor `&{event.anchor}` before it",
                    *_position(event.start_mark))
            expanded += sizes[event.anchor]
        if expanded > MAX_EXPANDED:
            raise YamlProblem(f"with its aliases expanded the YAML would hold more than "
                              f"{MAX_EXPANDED:,} characters of values",
                              *_position(event.start_mark),
                              hint="aliases that repeat other aliases grow exponentially; "
                              "write the values out instead")
