"""Small text rules shared by the preprocessor and the lexer, as mermaid applies them."""

from __future__ import annotations

import re

from mermaidgen.mermaid.lexrules import JS_WHITESPACE

# Entity codes (`#35;`, `#quot;`) are swapped for same-length placeholders before lexing,
# as mermaid does, so that their `#` does not start a comment and their `;` does not end
# the statement. Same length keeps every column right. Private-use characters are neither
# blanks nor ASCII word characters, exactly like mermaid's own placeholder characters.
NUMERIC_OPEN = "\ue000"
NAMED_OPEN = "\ue002"
CLOSE = "\ue001"

_ENTITY = re.compile(r"#(\w+);", re.ASCII)
# Numeric placeholders hold digits only: the private-use characters may also come from the
# user's own text, where they mean themselves.
_PLACEHOLDER = re.compile(f"({NUMERIC_OPEN})([0-9]+){CLOSE}|({NAMED_OPEN})(\\w+){CLOSE}",
                          re.ASCII)
_WRAP = re.compile(r"^:?(no)?wrap:")
_SURROGATE = re.compile("[\ud800-\udfff]")


def encode_entities(text: str) -> str:
    """Replace `#...;` entity codes by placeholders of the same length."""
    if "#" not in text:
        return text

    def placeholder(m: re.Match[str]) -> str:
        opener = NUMERIC_OPEN if m.group(1).isdigit() else NAMED_OPEN
        return f"{opener}{m.group(1)}{CLOSE}"

    return _ENTITY.sub(placeholder, text)


def decode_entities(text: str) -> str:
    """Turn placeholders back into the characters they stand for."""
    if CLOSE not in text:
        return text

    def character(m: re.Match[str]) -> str:
        if m.group(1):
            code = m.group(2).lstrip("0") or "0"
            n = int(code) if len(code) <= 7 else -1  # int() refuses 4,300+ digits
            valid = 0 < n <= 0x10FFFF and not 0xD800 <= n <= 0xDFFF
            return chr(n) if valid else "\ufffd"
        from html.entities import html5  # here: 2 ms to import, and most texts have none

        code = m.group(4)
        return html5.get(code + ";", f"#{code};")

    return _PLACEHOLDER.sub(character, text)


def js_trim(text: str) -> str:
    """`String.prototype.trim()`: JavaScript's idea of whitespace, not Python's."""
    return text.strip(JS_WHITESPACE)


def parse_message(raw: str) -> tuple[str, bool | None]:
    """Mermaid's `parseMessage`: trim, take off a `wrap:`/`nowrap:` prefix, decode.

    Returns the text and the explicit wrap setting (None when the text has no prefix).
    """
    text = raw.strip(JS_WHITESPACE)
    wrap: bool | None = None
    if text[:1] in (":", "w", "n"):
        m = _WRAP.match(text)
        if m:
            wrap = m.group(1) is None
            text = text[m.end() :].strip(JS_WHITESPACE)
    return decode_entities(text), wrap


def without_surrogates(value):
    """JSON data with every lone surrogate (`"\\ud800"` is valid JSON) replaced by U+FFFD,
    as entity codes are: such a string cannot be printed or written as UTF-8."""
    if isinstance(value, str):
        return value if value.isascii() else _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {without_surrogates(k): without_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_surrogates(v) for v in value]
    return value
