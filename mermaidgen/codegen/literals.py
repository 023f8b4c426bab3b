"""Diagram text made safe to print into Python source.

Templates never see raw diagram text: names go through `mermaidgen.analysis.naming`, texts come
here and leave as a string literal (escaped by `repr`, which Python itself guarantees to
read back as the same string) or as a one-line comment with every character that could
end the line or upset a tool replaced.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_COMMENT_WIDTH = 90
_CODING = re.compile(r"(coding)([:=])", re.IGNORECASE)
_HASH_WORD = re.compile(r"#(?=\s*[^\W\d])")  # a hash before a number stays
# the byte-order mark, and the bidirectional controls that can make source read differently
# from how it runs (CVE-2021-42574; linters refuse them)
_UNSAFE_IN_SOURCE = frozenset("\ufeff\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                              "\u2066\u2067\u2068\u2069")


def string(text: str) -> str:
    """A Python string literal for `text`."""
    return repr(text)


def comment(text: str, width: int = _COMMENT_WIDTH) -> str:
    """`text` as the body of a `#` comment: one line, printable, not too long."""
    if text.isascii() and text.isprintable():
        # nothing to replace (every unsafe character is a control or not ASCII): the
        # common case, and looking up each character's category was most of the cost
        clean = text
    else:
        clean = "".join(
            " " if unicodedata.category(c) in ("Cc", "Zl", "Zp") or c in _UNSAFE_IN_SOURCE
            else c
            for c in text
        )
        # a lone surrogate cannot be written to a UTF-8 file
        clean = clean.encode("utf-8", "replace").decode("utf-8")
    clean = " ".join(clean.split())
    # no text may read as a tool directive (noqa, type: ignore) after a hash sign, nor
    # `coding:` on a file's first lines as its encoding (PEP 263)
    clean = _CODING.sub(r"\1 \2", _HASH_WORD.sub("\uff03", clean))
    return clean if len(clean) <= width else clean[: width - 3] + "..."


def literal(value: Any, indent: int = 0) -> str:
    """Plain data (dict, list, tuple, str, int, float, bool, None) as Python source,
    formatted deterministically, one item per line for containers."""
    pad = "    " * (indent + 1)
    end = "    " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{pad}{string(str(k))}: {literal(v, indent + 1)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + f"\n{end}}}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]" if isinstance(value, list) else "()"
        if all(isinstance(v, (str, int, float, bool)) or v is None for v in value) and \
                sum(len(repr(v)) for v in value) < 60:
            inner = ", ".join(literal(v) for v in value)
            return f"[{inner}]" if isinstance(value, list) else f"({inner},)"
        items = [f"{pad}{literal(v, indent + 1)}," for v in value]
        open_, close = ("[", "]") if isinstance(value, list) else ("(", ")")
        return open_ + "\n" + "\n".join(items) + f"\n{end}{close}"
    if isinstance(value, str):
        return string(value)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) \
            else "None"
    raise TypeError(f"cannot write {type(value).__name__} as a Python literal")
