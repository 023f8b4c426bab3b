"""The parse loop: every statement from the lexer into the builder and the LALR parser,
with the statements that fill large diagrams taken in one match each.

The general loop (`parser._feed_tokens`) asks the lexer for a token per statement, hands
it to the builder (mermaid's semantic rules) and feeds it to the LALR parser (nesting).
That costs about 8 us per message. Here, one regular expression reads the separators and
then a message, a note or an `activate`/`deactivate` whose names are plain words
(`[A-Za-z_][A-Za-z0-9_]*`, not a keyword), or a block keyword (`loop`, `else`, `end`,
...) with its label; a message goes straight to the builder (only when it has something
to check) and onto the document being parsed; blocks still nest by the LALR parser.
Anything else, and any statement that breaks (its error comes from the lexer), goes
through the lexer's general path (`Lexer.read`), statement by statement.

Why the shortcuts are exact:

* the patterns are the lexer's own rules (`lexrules`) restricted to shapes where jison's
  first-match order cannot choose another token: a plain word that is not a keyword can
  only be an ACTOR, blanks are only spaces and tabs, and the lookaheads that keep `%%`
  comments and metadata on the next line are the lexer's;
* for a message, a note or an (de)activation, the LALR table shifts to a state that
  reduces `document: document X` on every token type but the header's, back to the state
  it came from; `lalr.appending_states` lists the states where that holds, and only
  there is the statement appended to the document directly (after `Parser.settle` has
  made the reductions the previous statement left pending).

`tests/test_fastlane.py` checks both loops give the same model, warnings and errors on the
whole conformance corpus, edge cases and generated diagrams, whole and mutated.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from mermaidgen.mermaid import lexrules as R
from mermaidgen.mermaid.builder import Builder
from mermaidgen.mermaid.lalr import Parser
from mermaidgen.mermaid.lexer import DONE, Lexer
from mermaidgen.mermaid.lexrules import JS_WHITESPACE
from mermaidgen.mermaid.syntax import Opener, Tok
from mermaidgen.mermaid.text import CLOSE, parse_message
from mermaidgen.model import Activate, Deactivate, Message, Note, Span

# Words that a rule before ACTOR would read (a keyword, `title`, `autonumber`, ...): a
# statement that starts with one, or names a participant so, takes the general path.
KEYWORD_NAMES = frozenset({
    "box", "participant", "actor", "create", "destroy", "loop", "rect", "opt", "alt",
    "else", "par", "par_over", "and", "critical", "option", "break", "end", "left", "right",
    "of", "links", "link", "properties", "details", "over", "note", "activate",
    "deactivate", "title", "acctitle", "accdescr", "sequencediagram", "autonumber", "off",
})
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"  # checked against KEYWORD_NAMES after the match
# `:%%` starts a comment, not a text (the lexer's rule `[^}]%%` comes first)
_TEXT = r":(?!%%)([^#\n;]*)"
# Texts that `parse_message` changes beyond trimming: a `wrap:`/`nowrap:` prefix, entity
# codes (their placeholders end with `CLOSE`).
_WRAP_STARTS = ("w", "n", ":")
_OPENERS = ("loop", "rect", "opt", "alt", "else", "par_over", "par", "and", "critical",
            "option", "break")


@functools.cache
def statement_pattern() -> re.Pattern[str]:
    """Separators, then one common statement (compiled on first use: 1-2 ms). Groups 2-5
    and 7 are a message's, 9-11 and 13 a note's, 15-16 an activation's, 18-19 a block
    opener's (6 and 12 hold the texts with their colon)."""
    message = (
        rf"({_NAME})[ \t]*((?>{R.ARROW}))[ \t]*((?>\+|(?=-)(?!{R.ARROW})-))?+[ \t]*({_NAME})[ \t]*"
        rf"({_TEXT})"
    )
    note = (
        rf"note[ \t]+(left of|right of|over)[ \t]+({_NAME})[ \t]*"
        rf"(?:,[ \t]*({_NAME})[ \t]*)?({_TEXT})"
    )
    # the ID state reads past the line break for `@{` and ` as `: those go the long way
    activation = (
        rf"(activate|deactivate)[ \t]+({_NAME})[ \t]*"
        rf"(?=\n)(?!{R.WS}*@\{{|{R.WS}+as{R.WS})"
    )
    # a block's keyword and its label, read in the LINE state (`box` goes the long way)
    opener = rf"({'|'.join(_OPENERS)})(?![A-Za-z0-9_]){R.LINE_VALUE.pattern}"
    return re.compile(
        rf"{R.SEPARATORS.pattern}(?:(?P<MESSAGE>{message})|(?P<NOTE>{note})"
        rf"|(?P<ACTIVATION>{activation})|(?P<OPENER>{opener})|(?P<END>end(?![A-Za-z0-9_])))",
        R.FLAGS,
    )


def feed_statements(lexer: Lexer, builder: Builder, parser: Parser,
                    feed: Callable[[Tok], bool],
                    appending: dict[str, frozenset[int]]) -> Span | None:
    """Read every statement after the header into `builder` and `parser`; return the
    span of the last statement fed (None if none was).

    `feed(tok)` feeds one token to `parser` and reports a structural error; it returns
    False once there are enough of them. `appending[type]` holds the parser states where
    a statement of that type is appended to the document without the LALR loop.
    """
    text = lexer.text
    size = len(text) - 1  # the appended final newline ends the last statement
    match = statement_pattern().match
    separators = R.SEPARATORS.match
    fast_signal = lexer.fast_signal()  # messages with other names, on long texts
    observe = builder.observe
    states, values, settle = parser.state_stack, parser.value_stack, parser.settle
    # the builder's handlers for the statements read here (what `observe` would call)
    on_message = builder.on_message
    actors = builder.actors
    plain: set[str] = set()  # names seen that are no keyword
    signal_states = appending["SIGNAL"]
    last: Span | None = None
    line, line_start, line_offset = lexer.line, lexer.line_start, lexer.line_offset
    column_offset = lexer.column_offset
    pos = lexer.pos
    while True:
        m = match(text, pos)
        if m is not None:
            kind = m.lastgroup
            start = m.start(kind)  # type: ignore[arg-type]
            newline = text.rfind("\n", pos, start)
            if newline >= 0:  # usually the one right after the last statement
                line += 1 if newline == pos else text.count("\n", pos, start)
                line_start = newline + 1
            end = m.end()
            row = line + line_offset
            column = start - line_start + 1 + column_offset
            span = Span(row, column, row, column + end - start)
            if kind == "MESSAGE":
                sender, arrow, mod, receiver, raw = m.group(2, 3, 4, 5, 7)
                if ((sender in plain or _plain(sender, plain))
                        and (receiver in plain or _plain(receiver, plain))):
                    message_text = raw.strip(JS_WHITESPACE)
                    wrap = None
                    if message_text[:1] in _WRAP_STARTS or CLOSE in message_text:
                        message_text, wrap = parse_message(raw)
                    node = Message(sender, receiver, message_text, arrow.lower(), span,
                                   mod == "+", mod == "-", None, wrap)
                    # what `on_message` looks at: first uses, `create`/`destroy`, `+`/`-`
                    if (mod is not None or sender not in actors or receiver not in actors
                            or builder.pending_create is not None
                            or builder.pending_destroy is not None):
                        on_message(node)
                    if states[-1] not in signal_states:
                        settle()  # reductions the last statement left for its successor
                    if states[-1] in signal_states:
                        values[-1].append(node)
                    elif not feed(Tok("SIGNAL", node, span)):
                        return last
                    last, pos = span, end
                    continue
            elif kind == "OPENER" or kind == "END":  # blocks nest by the LALR parser
                if kind == "END":
                    tok = Tok("END", None, span)
                else:
                    keyword = m.group(18).lower()
                    label, wrap = parse_message(m.group(19))
                    tok = Tok(keyword.upper(), Opener(keyword, label, span, wrap), span)
                observe(tok)
                if not feed(tok):
                    return last
                last, pos = span, end
                continue
            else:
                if kind == "NOTE":
                    tok = _note(m, span)
                elif m.group(15).lower() == "activate":
                    tok = Tok("ACTIVATE", Activate(m.group(16), span), span)
                else:
                    tok = Tok("DEACTIVATE", Deactivate(m.group(16), span), span)
                if tok is not None:
                    observe(tok)
                    if states[-1] not in appending[tok.type]:
                        settle()
                    if states[-1] in appending[tok.type]:
                        values[-1].append(tok.value)
                    elif not feed(tok):
                        return last
                    last, pos = span, end
                    continue
            # a keyword where a name was read, or two names after `left of`: a statement
            # for the general path
            pos = start
        else:
            sep_end = separators(text, pos).end()
            if sep_end != pos:
                newlines = text.count("\n", pos, sep_end)
                if newlines:
                    line += newlines
                    line_start = text.rfind("\n", pos, sep_end) + 1
                pos = sep_end
        if pos >= size:
            return last
        # everything else: the lexer's general path, from this statement's first character
        lexer.pos, lexer.line, lexer.line_start = pos, line, line_start
        tok = lexer.read(fast_signal)
        if tok is DONE:
            return last
        pos, line, line_start = lexer.pos, lexer.line, lexer.line_start
        if tok is not None:
            observe(tok)  # type: ignore[arg-type]
            if not feed(tok):  # type: ignore[arg-type]
                return last
            last = tok.span  # type: ignore[union-attr]


def _plain(name: str, plain: set[str]) -> bool:
    """Whether `name` is no keyword (remembered in `plain` when so)."""
    if name.lower() in KEYWORD_NAMES:
        return False
    plain.add(name)
    return True


def _note(m: re.Match[str], span: Span) -> Tok | None:
    """The note a `statement_pattern` match read, or None when the general path must read
    it: a keyword where a name was read, or two names after `left of`/`right of`."""
    placement, first, second, raw = m.group(9, 10, 11, 13)
    if first.lower() in KEYWORD_NAMES or (second is not None
                                          and second.lower() in KEYWORD_NAMES):
        return None
    placement = placement.lower()
    if second is None:
        names = (first, first) if placement == "over" else (first,)
    elif placement == "over":
        names = (first, second)
    else:
        return None
    text, wrap = parse_message(raw)
    return Tok("NOTE", Note(placement, names, text, span, wrap), span)  # type: ignore[arg-type]
