"""Suggestions for the mistakes people make most often in sequence diagrams."""

from __future__ import annotations

import difflib
import re

from mermaidgen.model import ARROWS

_ARROW_CHARS = re.compile(r"[-<>=~|/\\.()]+")
_SPECIAL = {
    "=>": "`=>` is not a Mermaid arrow; use `->>` (solid) or `-->>` (dotted)",
    "=>>": "`=>>` is not a Mermaid arrow; use `->>` (solid) or `-->>` (dotted)",
    "==>": "`==>` is not a Mermaid arrow; use `-->>` for a dotted arrow",
    "<-": "arrows point from sender to receiver; swap the names: `B->>A: text`",
    "<--": "arrows point from sender to receiver; swap the names: `B-->>A: text`",
    "<<-": "arrows point from sender to receiver; swap the names: `B->>A: text`",
    "<->": "use `<<->>` for an arrow with heads at both ends",
    "<-->": "use `<<-->>` for a dotted arrow with heads at both ends",
}


def _arrow_run(text: str, pos: int) -> str:
    """The run of arrow-like characters around `pos` on its line."""
    start = pos
    while start > 0 and text[start - 1] in "-<>=~|/\\.)(":
        start -= 1
    m = _ARROW_CHARS.match(text, start)
    return m.group() if m else ""


def arrow_hint(text: str, statement_start: int, pos: int) -> str | None:
    """Name the arrow the author probably meant, when the one written does not exist."""
    run = _arrow_run(text, pos)
    if not run or run in ARROWS:
        line_end = text.find("\n", statement_start)
        statement = text[statement_start:line_end].strip()
        if re.search(r"[-=]>|<[-=]", statement):
            return None
        return "a message is `Sender->>Receiver: text`"
    if run in _SPECIAL:
        return _SPECIAL[run]
    guess = difflib.get_close_matches(run, ARROWS, n=1, cutoff=0.0)
    suggestion = f"; did you mean `{guess[0]}`?" if guess else ""
    return f"`{run}` is not a Mermaid arrow{suggestion} (arrows: ->> -->> -> --> -x --x -) --))"


def colon_hint(text: str, statement_start: int, pos: int, receiver: str) -> str | None:
    """Show where the missing `:` goes."""
    line_end = text.find("\n", statement_start)
    statement = text[statement_start : line_end if line_end >= 0 else None].rstrip()
    name = receiver.strip()
    if " " in name:
        first = name.split()[0]
        head = statement[: statement.find(name)]
        rest = name[len(first) :].strip()
        return (f"a message needs `:` before its text: `{head}{first}: {rest}`"
                if head else "a message needs `:` before its text")
    return f"a message needs `:` before its text: `{statement}: text`"


def participant_name_hint(kind: str, found: str) -> str | None:
    """Why a word could not be a participant name here."""
    word = found.strip().split(" ")[0] if found.strip() else ""
    if kind in ("KW", "AUTONUMBER", "OFF", "HEADER", "TITLE", "LEGACY_TITLE"):
        return (f"`{word}` is a keyword, so mermaid cannot read it as a name; rename the "
                f"participant (e.g. `{word.capitalize()}Svc`) and keep the label with "
                f"`participant {word.capitalize()}Svc as {word}`")
    if kind == "NUM":
        return "a name that is a number must touch what follows it: `A->>2: text`"
    return None


_KIND_WORDS = {
    "NEWLINE": "the end of the statement",
    "ARROW": "an arrow",
    "TXT": "`:`",
    "COMMA": "`,`",
    "NUM": "a number",
    "PLUS": "`+`",
    "MINUS": "`-`",
    "CENTRAL": "`()`",
    "INVALID": "an unexpected character",
}


def describe(kind: str, found: str) -> str:
    found = found.strip()
    if kind == "NEWLINE":
        return "the end of the line" if found in ("", "\n") else "`;`"
    if kind in ("KW", "AUTONUMBER", "OFF", "HEADER", "TITLE", "LEGACY_TITLE"):
        return f"the keyword `{' '.join(found.split()[:1]) or found}`"
    if kind in ("ACTOR",):
        return f"`{found[:40]}`"
    word = _KIND_WORDS.get(kind, "`" + found[:40] + "`")
    if kind in ("ARROW", "INVALID", "NUM") and found:
        return f"{word} `{found[:40]}`"
    return word


def unexpected_start(kind: str, found: str) -> tuple[str, str | None]:
    if kind == "ARROW":
        return f"the arrow `{found}` has no sender", "a message is `Sender->>Receiver: text`"
    if kind == "TXT":
        return "unexpected `:` at the start of a statement", None
    if kind == "NUM":
        return (f"a statement cannot start with the number `{found}`",
                "names that are numbers must touch the arrow: `1->>2: text`")
    return f"unexpected {describe(kind, found)} at the start of a statement", None


def invalid_name(keyword: str, found: str) -> tuple[str, str | None]:
    """Why mermaid's ID state turned the rest of the line into an INVALID token."""
    shown = found.strip()
    if any(a in found for a in ("->>", "-->>", "->", "-)")):
        return (f"the line after `{keyword}` holds more than a name: `{shown[:60]}`",
                "put each statement on its own line or end it with `;`")
    if "<" in found:
        return (f"a participant name cannot contain `<`: `{shown[:60]}`",
                f"give the participant a label instead: `{keyword} A as Alice<br/>Smith`")
    for char in ":,@>":
        if char in found:
            return (f"a participant name cannot contain `{char}`: `{shown[:60]}`",
                    f"use an alias for the label: `{keyword} A as label`")
    return f"invalid participant name `{shown[:60]}`", None
