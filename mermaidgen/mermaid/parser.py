"""Text to model: preprocess, lex, parse with the LALR grammar, apply mermaid's rules.

The statements nest by the table lark computed from `grammar/sequence.lark`, walked by
`mermaidgen.mermaid.lalr`. Errors come out as `DiagramError` with every problem found (broken
statements, bad nesting, semantic rules), each with its file line, column, the line's
text and a hint.
"""

from __future__ import annotations

from mermaidgen.collection import paused_collection
from mermaidgen.errors import DiagramError, Problem
from mermaidgen.mermaid import fastlane, flatten
from mermaidgen.mermaid.builder import Builder
from mermaidgen.mermaid.grammar import table
from mermaidgen.mermaid.lalr import Grammar, Parser, UnexpectedToken, appending_states
from mermaidgen.mermaid.lexer import MAX_PROBLEMS, Lexer, StatementError
from mermaidgen.mermaid.preprocess import prepare
from mermaidgen.mermaid.syntax import Tok
from mermaidgen.model import Block, Create, Diagnostic, Diagram, Section, Span

_STATEMENTS = frozenset({"SIGNAL", "NOTE", "DESTROY", "ACTIVATE", "DEACTIVATE", "AUTONUMBER"})
_OPENERS = {"BOX": "box", "LOOP": "loop", "RECT": "rect", "OPT": "opt", "BREAK": "break",
            "ALT": "alt", "PAR": "par", "PAR_OVER": "par_over", "CRITICAL": "critical"}
_SECTION_OWNER = {"ELSE": "alt", "AND": "par", "OPTION": "critical"}
_WORDS = {
    "SIGNAL": "a message", "NOTE": "a note", "PARTICIPANT": "a participant declaration",
    "CREATE": "`create`", "DESTROY": "`destroy`", "ACTIVATE": "`activate`",
    "DEACTIVATE": "`deactivate`", "AUTONUMBER": "`autonumber`", "LINK": "a link statement",
    "TITLE": "a title", "END": "`end`", "ELSE": "`else`", "AND": "`and`",
    "OPTION": "`option`", "$END": "the end of the diagram",
    **{k: f"`{v}`" for k, v in _OPENERS.items()},
}


class _Assemble:
    """Reductions of the grammar, one method per rule or `-> alias`: statements into
    lists, blocks into `Block` nodes."""

    def start(self, children):
        return children[1]

    def document(self, children):
        if not children:
            return []
        doc, item = children
        if type(item) is Tok:
            kind = item.type
            if kind in _STATEMENTS:
                doc.append(item.value)
            elif kind == "CREATE":
                doc.append(Create(item.value.id, item.value.span))
        elif type(item) is list:  # a box: only its `destroy` statements stay in the flow
            doc.extend(item)
        else:
            doc.append(item)
        return doc

    def box(self, children):
        return children[1]

    def box_body(self, children):
        if not children:
            return []
        body, tok = children
        if tok.type == "DESTROY":
            body.append(tok.value)
        return body

    def else_section(self, children):
        return children[0], children[1]

    and_section = option_section = else_section

    def _block(self, kind: str, children) -> Block:
        opener, end = children[0], children[-1]
        pairs = [(opener, children[1]), *children[2:-1]]
        sections = tuple(
            Section(tok.value.label, tuple(doc), tok.value.span, tok.value.wrap)
            for tok, doc in pairs
        )
        start = opener.value.span
        return Block(kind, sections,  # type: ignore[arg-type]
                     Span(start.line, start.column, end.end_line, end.end_column))

    def loop_block(self, c):
        return self._block("loop", c)

    def rect_block(self, c):
        return self._block("rect", c)

    def opt_block(self, c):
        return self._block("opt", c)

    def break_block(self, c):
        return self._block("break", c)

    def alt_block(self, c):
        return self._block("alt", c)

    def par_block(self, c):
        return self._block("par", c)

    def par_over_block(self, c):
        return self._block("par_over", c)

    def critical_block(self, c):
        return self._block("critical", c)


_ASSEMBLE = _Assemble()
_REDUCERS = {name: getattr(_ASSEMBLE, name) for _, name, _, _ in table.RULES
             if not name.startswith("_")}
_GRAMMAR = Grammar(table, _REDUCERS, never_after=frozenset({"SD"}))
# Where `fastlane` may append a statement to the document itself: the states where the
# parser would shift it and reduce `document: document X` by `_Assemble.document`, which
# appends the statement (the header `SD` only ever comes first).
_APPENDING = {kind: appending_states(table, kind, "document", frozenset({"SD"}))
              for kind in ("SIGNAL", "NOTE", "ACTIVATE", "DEACTIVATE")}
# Below this many characters (about 300 messages) compiling fastlane's pattern (1-2 ms)
# costs more than it saves. (tests/test_fastlane.py moves it to compare both loops.)
FASTLANE_MIN_CHARS = 16_000


def parse(text: str, source: str | None = None, *, line_offset: int = 0,
          column_offset: int = 0) -> Diagram:
    """Parse one sequence diagram. `line_offset`/`column_offset` place it in its file."""
    try:
        return _parse(text, source, line_offset, column_offset)
    except DiagramError as err:
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        raise DiagramError([_with_context(p, lines, source, line_offset, column_offset)
                            for p in err.problems]) from None


def _parse(text: str, source: str | None, line_offset: int, column_offset: int) -> Diagram:
    with paused_collection():  # quadratic rescans on 100k-message diagrams otherwise
        return _parse_text(text, source, line_offset, column_offset)


def _parse_text(text: str, source: str | None, line_offset: int, column_offset: int) -> Diagram:
    prepared = prepare(text)
    if isinstance(prepared, Problem):
        raise DiagramError([_shift(prepared, line_offset, column_offset)])
    recovered = flatten.recover(prepared.text, prepared.header_pos)
    if recovered is not None:
        try:
            diagram = _parse_prepared(recovered.text, prepared, source, 0, 0)
        except DiagramError as err:  # point at the original line, not the recovered text
            raise DiagramError([_moved(p, recovered, line_offset, column_offset)
                                for p in err.problems]) from None
        return recovered.relocate(diagram, line_offset, column_offset)
    return _parse_prepared(prepared.text, prepared, source, line_offset, column_offset)


def _parse_prepared(text, prepared, source, line_offset, column_offset) -> Diagram:
    lexer = Lexer(text, prepared.header_pos, line_offset, column_offset)
    builder = Builder()
    state = Parser(_GRAMMAR)
    structural: list[Problem] = []
    try:
        header = lexer.header()
    except StatementError as err:
        raise DiagramError([lexer.problem(err.pos, err.message, err.hint)]) from None
    state.feed(header)

    def feed(tok: Tok) -> bool:
        """Feed one token; False once enough structural problems are collected."""
        try:
            state.feed(tok)
        except UnexpectedToken as exc:
            structural.append(_explain(exc, tok))
            return len(structural) < MAX_PROBLEMS
        return True

    if len(text) >= FASTLANE_MIN_CHARS:  # the common statements in one match each
        last = fastlane.feed_statements(lexer, builder, state, feed, _APPENDING)
    else:
        last = _feed_tokens(lexer, builder, feed)
    last = last or header.span
    end = Tok("$END", None, Span(last.end_line, last.end_column, last.end_line,
                                 last.end_column))
    statements: list = []
    try:
        statements = state.finish(end)
    except UnexpectedToken as exc:
        structural.append(_explain(exc, end))
    problems = lexer.problems + structural
    if problems:
        raise DiagramError(sorted(problems, key=lambda p: (p.line, p.column)))
    if builder.problems:
        raise DiagramError(builder.problems)
    warnings = [_diagnostic(p) for p in lexer.warnings + builder.warnings]
    span = Span(header.line, header.column, last.end_line, last.end_column)
    return builder.diagram(tuple(statements), span, prepared.title, prepared.config,
                           source, warnings)


def _feed_tokens(lexer: Lexer, builder: Builder, feed) -> Span | None:
    """The general loop: every statement token to the builder, then to the parser. Returns
    the span of the last token fed (None if none was)."""
    last = None
    for tok in lexer.tokens():
        builder.observe(tok)
        if not feed(tok):
            break
        last = tok.span
    return last


def _open_blocks(exc: UnexpectedToken) -> list[Tok]:
    """The blocks (and box) still open when the parser stopped, outermost first."""
    stack = exc.value_stack
    return [v for v in stack if type(v) is Tok and v.type in _OPENERS]


def _explain(exc: UnexpectedToken, tok: Tok) -> Problem:
    """A structural parse error in words: what was found, what was open, what to do."""
    open_blocks = _open_blocks(exc)
    inner = open_blocks[-1] if open_blocks else None
    inner_name = f"`{_OPENERS[inner.type]}` on line {inner.line}" if inner else ""
    kind = tok.type
    if kind == "$END" and inner is not None:
        return Problem(f"the `{_OPENERS[inner.type]}` block is never closed", inner.line,
                       inner.column, hint="add `end` after its last statement")
    if kind == "END":
        return Problem("`end` with no open block to close", tok.line, tok.column,
                       hint="remove this `end`, or open a block (loop, alt, opt, par, "
                       "critical, break, rect, box) before it")
    if kind in _SECTION_OWNER:
        owner = _SECTION_OWNER[kind]
        where = f"; the innermost open block is {inner_name}" if inner else ""
        return Problem(f"`{kind.lower()}` outside an `{owner}` block{where}", tok.line,
                       tok.column, hint=f"`{kind.lower()}` starts another section of an "
                       f"`{owner}` block: `{owner} ...` / `{kind.lower()} ...` / `end`")
    if inner is not None and inner.type == "BOX":
        return Problem(f"{_WORDS.get(kind, kind)} cannot appear inside a `box` (opened on "
                       f"line {inner.line})", tok.line, tok.column,
                       hint="a box only declares participants; close it with `end` first")
    expected = sorted(_WORDS.get(t, t) for t in exc.expected)
    return Problem(f"unexpected {_WORDS.get(kind, kind)}; expected "
                   f"{', '.join(expected[:8])}", tok.line, tok.column)


def _diagnostic(p: Problem) -> Diagnostic:
    return Diagnostic(p.severity, p.code, p.message,  # type: ignore[arg-type]
                      Span(p.line, p.column, p.line, p.column), p.hint)


def _moved(p: Problem, recovered: flatten.Recovered, line_offset: int,
           column_offset: int) -> Problem:
    line, column = recovered.place(p.line, p.column, line_offset, column_offset)
    return Problem(p.message, line, column, "", p.hint, p.file, p.severity, p.code)


def _shift(p: Problem, line_offset: int, column_offset: int) -> Problem:
    return Problem(p.message, p.line + line_offset, p.column + column_offset, p.source_line,
                   p.hint, p.file, p.severity, p.code)


def _with_context(p: Problem, lines: list[str], source: str | None, line_offset: int,
                  column_offset: int) -> Problem:
    """Fill in the file name and the text of the offending line (`lines`: the text's)."""
    index = p.line - line_offset - 1
    source_line = p.source_line
    if not source_line and 0 <= index < len(lines):
        source_line = " " * column_offset + lines[index]
    return Problem(p.message, p.line, p.column, source_line, p.hint, source or p.file,
                   p.severity, p.code)

