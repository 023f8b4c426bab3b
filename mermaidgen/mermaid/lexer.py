"""The statement lexer: mermaid's jison lexer, one token per statement.

Inside a statement, the text is read exactly as mermaid's lexer reads it (the rules in
`lexrules`, their order and their states). What reaches the LALR parser is one token per
statement (`SIGNAL`, `NOTE`, `PARTICIPANT`, `LOOP`, `END`, ...) carrying the statement,
so the grammar in `grammar/sequence.lark` describes how statements nest. A token per
statement instead of per word is what makes the parser several times faster than
mermaid's own.

Statement errors are collected (the lexer skips to the next line and carries on), so one
run reports every broken statement.
"""

from __future__ import annotations

from collections.abc import Iterator

from mermaidgen.errors import Problem
from mermaidgen.mermaid import lexrules as R
from mermaidgen.mermaid.hints import (
    arrow_hint,
    colon_hint,
    describe,
    invalid_name,
    participant_name_hint,
    unexpected_start,
)
from mermaidgen.mermaid.syntax import Declaration, LinkStatement, Meta, Opener, Tok
from mermaidgen.mermaid.text import CLOSE, decode_entities, js_trim, parse_message
from mermaidgen.model import (
    Activate,
    Autonumber,
    Deactivate,
    Destroy,
    Message,
    Note,
    Span,
)

_BLOCKS = {"loop", "rect", "opt", "alt", "else", "par", "par_over", "and", "critical",
           "option", "break", "box"}
_ID_KEYWORDS = {"participant", "actor", "destroy", "activate", "deactivate"}
_LINKS = {"links", "link", "properties", "details"}
_STRAY = "stray-character"
MAX_PROBLEMS = 50
DONE = object()  # what `Lexer.read` returns when there is nothing more to read


class StatementError(Exception):
    """A statement that mermaid would reject; raised inside the lexer, caught per line."""

    def __init__(self, pos: int, message: str, hint: str | None = None):
        self.pos = pos
        self.message = message
        self.hint = hint


class Lexer:
    def __init__(self, text: str, start: int, line_offset: int = 0, column_offset: int = 0):
        self.text = text
        self.pos = start
        self.line = text.count("\n", 0, start) + 1
        self.line_start = text.rfind("\n", 0, start) + 1
        self.line_offset = line_offset
        self.column_offset = column_offset
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.last_span = Span(1, 1, 1, 1)

    # -- positions ---------------------------------------------------------------------

    def _advance(self, end: int) -> None:
        newlines = self.text.count("\n", self.pos, end)
        if newlines:
            self.line += newlines
            self.line_start = self.text.rfind("\n", self.pos, end) + 1
        self.pos = end

    def _here(self) -> tuple[int, int]:
        return self.line + self.line_offset, self.pos - self.line_start + 1 + self.column_offset

    def _location(self, pos: int) -> tuple[int, int]:
        """File line and column of any position (counted from the current line when it
        lies past it, so that calling this for every statement stays linear)."""
        if pos >= self.line_start:
            line = self.line + self.text.count("\n", self.line_start, pos)
        else:
            line = self.text.count("\n", 0, pos) + 1
        column = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        return line + self.line_offset, column + self.column_offset

    def _take(self, end: int) -> Span:
        """Consume up to `end` and return the span from the current position."""
        line, column = self._here()
        self._advance(end)
        end_line, end_column = self._here()
        self.last_span = Span(line, column, end_line, end_column)
        return self.last_span

    def problem(self, pos: int, message: str, hint: str | None = None) -> Problem:
        line, column = self._location(pos)
        return Problem(message, line, column, hint=hint)

    # -- the token stream --------------------------------------------------------------

    def header(self) -> Tok:
        """The `sequenceDiagram` token; preprocessing made sure the text starts with it."""
        m = R.INITIAL.match(self.text, self.pos)
        if m is None or m.lastgroup != "HEADER":
            raise StatementError(self.pos, "expected `sequenceDiagram`",
                                 "the header is `sequenceDiagram` followed by a line break")
        return Tok("SD", None, self._take(m.end()))

    def tokens(self) -> Iterator[Tok]:
        """Every statement token after the header, in order."""
        fast_signal = self.fast_signal()
        while True:
            tok = self.read(fast_signal)
            if tok is DONE:
                return
            if tok is not None:
                yield tok  # type: ignore[misc]

    def fast_signal(self):
        """The one-match path for messages (`read`'s argument): only for long texts."""
        if len(self.text) >= R.FAST_PATH_MIN_CHARS:
            return R.signal_after_separators().match
        return _no_fast_path

    def read(self, fast_signal) -> Tok | object | None:
        """The next statement token; None for a statement that gave none (a stray
        character, or an error, recorded); `DONE` at the end of the text or once there
        are `MAX_PROBLEMS` problems."""
        text = self.text
        pos = self.pos
        m = fast_signal(text, pos)
        if m is not None:
            # The common case in one match: separators, then a message on one line.
            start = m.start("sender")
            if start != pos:
                newlines = text.count("\n", pos, start)
                if newlines:
                    self.line += newlines
                    self.line_start = text.rfind("\n", pos, start) + 1
            if not (m.group("sender_central") and m.group("mod")):
                end = m.end()
                line = self.line + self.line_offset
                column = start - self.line_start + 1 + self.column_offset
                span = Span(line, column, line, column + end - start)
                self.pos = end
                return Tok("SIGNAL", _message(*m.group("sender", "sender_central", "arrow",
                                                     "mod", "receiver", "text"), span), span)
            self.pos = start
        else:
            end = R.SEPARATORS.match(text, pos).end()  # type: ignore[union-attr]
            if end != pos:
                self._advance(end)
        if self.pos >= len(text) - 1:  # the appended final newline ends the last statement
            return DONE
        try:
            return self.statement()
        except StatementError as err:
            self.report(err)
            return DONE if len(self.problems) >= MAX_PROBLEMS else None

    def report(self, err: StatementError) -> None:
        """Record a broken statement and skip to the next line."""
        self.problems.append(self.problem(err.pos, err.message, err.hint))
        # resynchronise at the next line
        nl = self.text.find("\n", max(err.pos, self.pos))
        self._advance(nl if nl >= 0 else len(self.text))

    # -- statements --------------------------------------------------------------------

    def statement(self) -> Tok | None:
        """The statement at `pos` (separators already skipped): its token, or None for a
        stray character (a warning)."""
        text, pos = self.text, self.pos
        m = R.INITIAL.match(text, pos)
        kind = m.lastgroup  # type: ignore[union-attr]
        if kind == "ACTOR":
            return self._signal()
        if kind == "KW":
            word = " ".join(m.group().lower().split())  # type: ignore[union-attr]
            if word in _ID_KEYWORDS:
                return self._id_statement(word, m.end())  # type: ignore[union-attr]
            if word in _BLOCKS:
                return self._opener(word, m.end())  # type: ignore[union-attr]
            if word == "end":
                return Tok("END", None, self._take(m.end()))  # type: ignore[union-attr]
            if word == "note":
                return self._note(m.end())  # type: ignore[union-attr]
            if word in _LINKS:
                return self._link(word, m.end())  # type: ignore[union-attr]
            if word == "create":
                return self._create(m.end())  # type: ignore[union-attr]
            raise StatementError(pos, f"unexpected `{m.group()}` at the start of a statement",  # type: ignore[union-attr]
                                 "`left of`, `right of` and `over` belong in a note: "
                                 "`Note over A: text`")
        handler = _OTHER_STATEMENTS.get(kind)  # type: ignore[arg-type]
        if handler is None:
            raise StatementError(pos, *unexpected_start(kind, m.group()))  # type: ignore[arg-type,union-attr]
        return handler(self, m)

    def _next(self, pos: int) -> tuple[str, int, int]:
        """The next token after `pos` in the INITIAL state: (kind, start, end).

        Blanks and comments are skipped as mermaid skips them; a line break, `;` or the
        end of the text is reported as NEWLINE.
        """
        text = self.text
        while True:
            if pos >= len(text) - 1:  # only the final line break is left: point at it
                return "NEWLINE", len(text) - 1, len(text)
            m = R.INITIAL.match(text, pos)
            kind = m.lastgroup  # type: ignore[union-attr]
            if kind in ("WS", "CMT"):
                pos = m.end()  # type: ignore[union-attr]
                continue
            if kind in ("NL", "SEMI"):
                return "NEWLINE", pos, m.end()  # type: ignore[union-attr]
            return kind, pos, m.end()  # type: ignore[return-value,union-attr]

    def _name(self, pos: int, what: str, after: str) -> tuple[str, int]:
        """A participant name (rule 60) at the next token after `pos`."""
        kind, start, end = self._next(pos)
        if kind != "ACTOR":
            raise StatementError(start, f"expected {what} after {after}, found "
                                 f"{describe(kind, self.text[start:end])}",
                                 participant_name_hint(kind, self.text[start:end]))
        return decode_entities(js_trim(self.text[start:end])), end

    def _expect_statement_end(self, pos: int, statement: str) -> None:
        """Mermaid needs a NEWLINE token here, and blanks that run into the line break
        swallow it (syntax reference 3.2); say so precisely."""
        text = self.text
        blank_start = pos
        while True:
            if pos >= len(text) - 1:
                return
            m = R.INITIAL.match(text, pos)
            kind = m.lastgroup  # type: ignore[union-attr]
            if kind in ("NL", "SEMI"):
                return
            if kind == "CMT":
                pos = m.end()  # type: ignore[union-attr]
                continue
            if kind == "WS":
                if "\n" in m.group():  # type: ignore[union-attr]
                    after = m.end()  # type: ignore[union-attr]
                    nxt = R.INITIAL.match(text, after)
                    if after < len(text) - 1 and nxt and nxt.lastgroup not in ("NL", "SEMI"):
                        raise StatementError(
                            blank_start,
                            f"blanks at the end of this {statement} statement hide its "
                            "line break from mermaid.js, which then rejects the next line",
                            "remove the trailing blanks",
                        )
                pos = m.end()  # type: ignore[union-attr]
                continue
            raise StatementError(pos, f"unexpected {describe(kind, m.group())} after the "  # type: ignore[arg-type,union-attr]
                                 f"{statement} statement")

    def _signal(self) -> Tok:
        start = self.pos
        sender, sender_central, arrow, mod, receiver, raw_text, end = self._signal_slow()
        if sender_central and mod in ("+", "-"):
            raise StatementError(start, f"`{mod}` cannot follow a `()` on the sender",
                                 "write `A()->>B` or `A()->>()B`")
        span = self._take(end)
        return Tok("SIGNAL", _message(sender, sender_central, arrow, mod, receiver, raw_text,
                                      span), span)

    def _signal_slow(self) -> tuple[str, bool, str, str | None, str, str, int]:
        """A message read token by token, with a precise error when it breaks."""
        text, start = self.text, self.pos
        sender_end = R.INITIAL.match(text, start).end()  # type: ignore[union-attr]
        sender = text[start:sender_end]
        kind, s, e = self._next(sender_end)
        sender_central = kind == "CENTRAL"
        if sender_central:
            kind, s, e = self._next(e)
        if kind != "ARROW":
            raise StatementError(s, f"expected an arrow after `{js_trim(sender)}`, found "
                                 f"{describe(kind, text[s:e])}",
                                 arrow_hint(text, start, s))
        arrow = text[s:e]
        kind, s, e = self._next(e)
        mod = None
        if kind in ("PLUS", "MINUS", "CENTRAL"):
            mod = text[s:e]
            kind, s, e = self._next(e)
        if kind != "ACTOR":
            raise StatementError(s, f"expected the receiver after `{arrow}`, found "
                                 f"{describe(kind, text[s:e])}",
                                 arrow_hint(text, start, s) or participant_name_hint(
                                     kind, text[s:e]))
        receiver = text[s:e]
        kind, s, e = self._next(e)
        if kind != "TXT":
            raise StatementError(s, "expected `:` and the message text after "
                                 f"`{js_trim(receiver)}`, found {describe(kind, text[s:e])}",
                                 colon_hint(text, start, s, receiver))
        return sender, sender_central, arrow, mod, receiver, text[s:e], e

    def _note(self, pos: int) -> Tok:
        text, _start = self.text, self.pos
        kind, s, e = self._next(pos)
        placement = " ".join(text[s:e].lower().split()) if kind == "KW" else ""
        if placement not in ("left of", "right of", "over"):
            hint = None
            if text[s:e].lower() in ("left", "right"):
                hint = "write `left of` / `right of` with exactly one space"
            raise StatementError(s, "expected `left of`, `right of` or `over` after `Note`, "
                                 f"found {describe(kind, text[s:e])}", hint)
        first, e = self._name(e, "a participant", f"`Note {placement}`")
        names = [first]
        kind, s, e2 = self._next(e)
        if kind == "COMMA":
            if placement != "over":
                raise StatementError(s, f"`{placement}` takes a single participant",
                                     "use `Note over A,B: text` to span two participants")
            second, e = self._name(e2, "a second participant", "`,`")
            names.append(second)
            kind, s, e2 = self._next(e)
            if kind == "COMMA":
                raise StatementError(s, "a note spans at most two participants")
        if kind != "TXT":
            raise StatementError(s, f"expected `:` and the note text, found "
                                 f"{describe(kind, text[s:e2])}",
                                 f"write `Note {placement} {', '.join(names)}: text`")
        note_text, wrap = parse_message(text[s + 1 : e2])
        if placement == "over" and len(names) == 1:
            names.append(first)
        span = self._take(e2)
        return Tok("NOTE", Note(placement, tuple(names), note_text, span, wrap), span)  # type: ignore[arg-type]

    def _link(self, keyword: str, pos: int) -> Tok:
        name, e = self._name(pos, "a participant", f"`{keyword}`")
        kind, s, e2 = self._next(e)
        if kind != "TXT":
            raise StatementError(s, f"expected `:` and the {keyword} text after `{name}`, "
                                 f"found {describe(kind, self.text[s:e2])}")
        value, _ = parse_message(self.text[s + 1 : e2])
        span = self._take(e2)
        return Tok("LINK", LinkStatement(keyword, name, value, span), span)

    def _id_statement(self, keyword: str, pos: int, created: bool = False) -> Tok:
        """Statements whose argument is read in mermaid's ID state."""
        text, _start = self.text, self.pos
        p = R.ID_SKIP.match(text, pos).end()  # type: ignore[union-attr]
        what = f"`{keyword}`"
        if text.startswith("@{", p):
            raise StatementError(p, f"expected a participant name before `@{{` after {what}")
        metadata = alias = None
        alias_wrap = None
        meta_span = None
        m = R.ID_BEFORE_CONFIG.match(text, p)
        if m:
            name = m.group()
            p = R.ID_SKIP.match(text, m.end()).end()  # type: ignore[union-attr]
            if not text.startswith("@{", p):
                raise StatementError(p, f"unexpected line break between `{name}` and `@{{`")
            content = R.CONFIG_CONTENT.match(text, p + 2)
            if content is None:
                raise StatementError(p, "empty metadata `@{}`",
                                     'write `@{ "type": "database" }` or remove the braces')
            close = content.end()
            if close >= len(text) - 1 or text[close] != "}":
                raise StatementError(p, "the metadata `@{` is never closed with `}`")
            metadata = js_trim(content.group())
            meta_span = Span(*self._location(p), *self._location(close + 1))
            alias_next = R.CONFIG_END_BEFORE_ALIAS.match(text, close)
            end = close + 1
            if alias_next is None:
                self._expect_statement_end(end, keyword)
            else:
                alias, alias_wrap, end = self._alias(end)
        elif m := R.ID_BEFORE_ALIAS.match(text, p):
            name = m.group()
            alias, alias_wrap, end = self._alias(m.end())
        elif m := R.ID_PLAIN.match(text, p):
            name = js_trim(m.group())
            end = m.end()
        else:
            bad = R.ID_INVALID.match(text, p)
            if bad is None:
                raise StatementError(p, f"expected a participant name after {what}",
                                     f"write `{keyword} Name`")
            raise StatementError(p, *invalid_name(keyword, bad.group()))
        name = decode_entities(name)
        if keyword not in ("participant", "actor") and (metadata is not None or alias):
            raise StatementError(p, f"{what} takes only a participant name",
                                 "aliases and `@{...}` metadata belong in `participant`")
        span = self._take(end)
        if keyword in ("participant", "actor"):
            return Tok("PARTICIPANT", Declaration(keyword, name, span, alias, alias_wrap,
                                                  metadata, meta_span, created), span)
        node = {"destroy": Destroy, "activate": Activate, "deactivate": Deactivate}[keyword]
        return Tok(keyword.upper(), node(name, span), span)

    def _alias(self, pos: int) -> tuple[str | None, bool | None, int]:
        """The ALIAS state: ` as Label`, or nothing (mermaid then ends the statement)."""
        p = R.ID_SKIP.match(self.text, pos).end()  # type: ignore[union-attr]
        if not R.AS_KEYWORD.match(self.text, p):
            return None, None, p
        m = R.LINE_VALUE.match(self.text, p + 2)
        label, wrap = parse_message(m.group("value"))  # type: ignore[union-attr]
        return label, wrap, m.end()  # type: ignore[union-attr]

    def _create(self, pos: int) -> Tok:
        kind, s, e = self._next(pos)
        word = self.text[s:e].lower()
        if kind != "KW" or word not in ("participant", "actor", "destroy"):
            raise StatementError(s, "expected `participant` or `actor` after `create`, found "
                                 f"{describe(kind, self.text[s:e])}",
                                 "write `create participant Name` before its first message")
        # `create destroy X` is accepted by mermaid and creates X (a grammar quirk)
        keyword = "participant" if word == "destroy" else word
        tok = self._id_statement(keyword, e, created=True)
        tok.type = "CREATE"
        return tok

    def _opener(self, keyword: str, pos: int) -> Tok:
        m = R.LINE_VALUE.match(self.text, pos)
        value = m.group("value")  # type: ignore[union-attr]
        if keyword == "box":  # the box label is split into colour and title later
            label, wrap = value, None
        else:
            label, wrap = parse_message(value)
        span = self._take(m.end())  # type: ignore[union-attr]
        return Tok(keyword.upper(), Opener(keyword, label, span, wrap), span)

    # -- statements found by their own INITIAL rule ------------------------------------

    def _autonumber(self, m) -> Tok:
        kind, s, e = self._next(m.end())
        numbers: list[int | float] = []
        visible = True
        while kind == "NUM" and len(numbers) < 2:
            numbers.append(_number(self.text[s:e]))
            kind, s, e = self._next(e)
        if kind == "OFF" and not numbers:
            visible = False
            end = e
        elif kind == "NEWLINE":
            end = s
        else:
            gap_start = self.text.rfind("\n", 0, s)
            if gap_start >= m.end():  # blanks ran into the line break: mermaid's trap
                self._expect_statement_end(self._gap_start(gap_start), "autonumber")
            found = self.text[s:e]
            hint = None
            if kind == "ACTOR" and found.strip().lstrip("-").replace(".", "", 1).isdigit():
                hint = ("numbers must be whole or have at most two decimals, and be "
                        "followed by a space or a line break: `autonumber 10 5`")
            raise StatementError(s, f"unexpected {describe(kind, found)} after `autonumber`",
                                 hint or "write `autonumber`, `autonumber 10`, "
                                 "`autonumber 10 5` or `autonumber off`")
        self._expect_statement_end(end, "autonumber")
        start_n = numbers[0] if numbers else None
        step = numbers[1] if len(numbers) > 1 else (1 if numbers else None)
        span = self._take(end)
        return Tok("AUTONUMBER", Autonumber(span, start_n, step, visible), span)

    def _gap_start(self, pos: int) -> int:
        """Where the run of blanks that ends at `pos` begins."""
        while pos > 0 and self.text[pos - 1] in R.JS_WHITESPACE:
            pos -= 1
        return pos

    def _title(self, m) -> Tok:
        value = m.group()[6:] if m.lastgroup == "TITLE" else m.group()[7:]
        span = self._take(m.end())
        return Tok("TITLE", Meta("title", decode_entities(value), span), span)

    def _acc(self, m) -> Tok:
        key = "acc_title" if m.lastgroup == "ACC_TITLE" else "acc_descr"
        value = R.ACC_VALUE.match(self.text, m.end())
        span = self._take(value.end())  # type: ignore[union-attr]
        text = decode_entities(js_trim(value.group()))  # type: ignore[union-attr]
        return Tok("TITLE", Meta(key, text, span), span)

    def _acc_block(self, m) -> Tok:
        close = self.text.find("}", m.end())
        if close < 0:
            span = self._take(len(self.text) - 1)
            self.warnings.append(Problem(
                "`accDescr {` is never closed: mermaid.js treats the rest of the diagram "
                "as the description (and then drops it)", span.line, span.column,
                hint="close the description with `}`", code="unclosed-acc-descr",
                severity="warning"))
            return Tok("TITLE", Meta("acc_descr", "", span), span)
        value = js_trim(self.text[m.end() : close])
        value = "\n".join([value.split("\n")[0], *(ln.lstrip(R.JS_WHITESPACE)
                                                  for ln in value.split("\n")[1:])])
        span = self._take(close + 1)
        return Tok("TITLE", Meta("acc_descr", decode_entities(value), span), span)

    def _header_again(self, m) -> Tok:
        raise StatementError(self.pos, "a second `sequenceDiagram` header",
                             "a diagram has one header; start another diagram in a new "
                             "code block or file")

    def _stray(self, m) -> None:
        # mermaid drops a lone character no rule knows (`line := INVALID`); so do we,
        # but say so: it is almost always a typo.
        line, column = self._here()
        self.warnings.append(Problem(f"ignored stray character `{m.group()}`", line, column,
                                     code=_STRAY, severity="warning"))
        self._advance(m.end())
        return None


_OTHER_STATEMENTS = {
    "AUTONUMBER": Lexer._autonumber,
    "TITLE": Lexer._title,
    "LEGACY_TITLE": Lexer._title,
    "ACC_TITLE": Lexer._acc,
    "ACC_DESCR": Lexer._acc,
    "ACC_DESCR_BLOCK": Lexer._acc_block,
    "HEADER": Lexer._header_again,
    "INVALID": Lexer._stray,
}

def _no_fast_path(text: str, pos: int) -> None:
    """Short texts go token by token (`lexrules.FAST_PATH_MIN_CHARS`)."""
    return None


def _message(sender: str, sender_central: object, arrow: str, mod: str | None,
             receiver: str, raw_text: str, span: Span) -> Message:
    """A message from the raw pieces of a signal statement."""
    central = None
    if mod == "()":
        central = "both" if sender_central else "receiver"
    elif sender_central:
        central = "sender"
    text, wrap = parse_message(raw_text[1:])
    sender = sender.strip(R.JS_WHITESPACE)
    receiver = receiver.strip(R.JS_WHITESPACE)
    if CLOSE in sender or CLOSE in receiver:  # entity codes in names
        sender, receiver = decode_entities(sender), decode_entities(receiver)
    return Message(sender, receiver, text, arrow.lower(), span, mod == "+", mod == "-",
                   central, wrap)  # type: ignore[arg-type]


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)
