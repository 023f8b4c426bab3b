"""The LALR(1) driver: walks the parse table lark computed from `grammar/sequence.lark`.

Lark builds the table (`mermaidgen/mermaid/grammar/table.py`, written by
`python -m mermaidgen.mermaid.grammar.build`); running it takes only this loop, the same
shift/reduce loop as lark's own `ParserState.feed_token`. Importing lark and loading its
cached table costs about 25 ms per process, a fifth of what `mermaidgen preview` may
spend in all, so the command line never imports lark.

Tokens are fed one at a time (the lexer reads mermaid's statements, the parser only nests
them), and a token the grammar does not allow raises `UnexpectedToken` without undoing the
reductions before it, as lark does: the caller reports it and feeds the next token.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any


class UnexpectedToken(Exception):
    """`token` cannot come next; `expected` holds the token types that could."""

    def __init__(self, token: Any, expected: set[str], value_stack: list):
        super().__init__(f"unexpected {token.type}")
        self.token = token
        self.expected = expected
        self.value_stack = value_stack  # what is parsed so far, innermost last


class Grammar:
    """The parse table with its reducers, prepared once for every parse that uses it.

    Preparing it (the rule list, the default reductions) costs as much as parsing a small
    diagram, and a file may hold thousands of them: each `Parser` shares one `Grammar`.
    `reducers` maps each rule name of the grammar to a function of the rule's children
    (the tokens and the values of the rules it matched, left to right). Rules named
    `_...` (lark's inlined rules, such as the helpers behind `item*`) need none: their
    children take their place in the rule that uses them, as in lark.
    """

    def __init__(self, table: ModuleType, reducers: dict[str, Callable[[list], Any]],
                 never_after: frozenset[str] = frozenset()):
        """`never_after`: token types that only ever come first (the header), so that no
        state needs to wait for them before reducing (see `Parser.settle`)."""
        self.actions: Sequence[dict[str, int]] = table.ACTIONS
        self.rules = [(rule, size, splices, None if rule.startswith("_") else reducers[name])
                      for rule, name, size, splices in table.RULES]
        self.accept: int = table.ACCEPT_STATE
        self.start: int = table.START_STATE
        self.default_reductions = _default_reductions(table, never_after)


class Parser:
    """One parse of `grammar`: `feed` every token, then `finish` with the end token for
    the result."""

    def __init__(self, grammar: Grammar):
        self._actions = grammar.actions
        self._rules = grammar.rules
        self._accept = grammar.accept
        self._default_reductions = grammar.default_reductions
        self.state_stack: list[int] = [grammar.start]
        self.value_stack: list = []

    def feed(self, token: Any) -> None:
        """Shift `token`, after the reductions its type calls for."""
        self._advance(token, end=False)

    def finish(self, end: Any) -> Any:
        """Reduce what is left at the end of the input (`end`, typed `$END`): the result."""
        return self._advance(end, end=True)

    def settle(self) -> None:
        """Make now the reductions that the next token, whatever its type, would make
        first: afterwards the top of the stack is the state that token will meet."""
        states, default = self.state_stack, self._default_reductions
        while (index := default.get(states[-1])) is not None:
            self._reduce(index)

    def _advance(self, token: Any, end: bool) -> Any:
        states, values = self.state_stack, self.value_stack
        actions = self._actions
        while True:
            state = states[-1]
            action = actions[state].get(token.type)
            if action is None:
                expected = {s for s in actions[state] if s.isupper()}
                raise UnexpectedToken(token, expected, values)
            if action >= 0:  # shift
                states.append(action)
                values.append(token)
                return None
            value = self._reduce(-action - 1)
            if end and states[-1] == self._accept:
                return value

    def _reduce(self, index: int) -> Any:
        states, values = self.state_stack, self.value_stack
        rule, size, splices, reducer = self._rules[index]
        if size:
            children = values[-size:]
            del states[-size:]
            del values[-size:]
        else:
            children = []
        if splices:  # positions of `_rule` children: their own children go there
            children = _spliced(children, splices)
        value = children if reducer is None else reducer(children)
        states.append(self._actions[states[-1]][rule])
        values.append(value)
        return value


def _default_reductions(table: ModuleType, never_after: frozenset[str]) -> dict[int, int]:
    """The states that make the same reduction whatever the next token is (`never_after`
    apart), each with the index of its rule."""
    actions = table.ACTIONS
    terminals = {t for row in actions for t in row if t.isupper()} - never_after
    default = {}
    for state, row in enumerate(actions):
        moves = {row.get(t) for t in terminals}
        if len(moves) == 1:
            (action,) = moves
            if action is not None and action < 0:
                default[state] = -action - 1
    return default


def _spliced(children: list, positions: tuple[int, ...]) -> list:
    spliced: list = []
    for i, child in enumerate(children):
        if i in positions:
            spliced.extend(child)
        else:
            spliced.append(child)
    return spliced


def appending_states(table: ModuleType, token_type: str, rule: str,
                     never_after: frozenset[str]) -> frozenset[int]:
    """The states where feeding `token_type` shifts it and the next token, whatever its
    type, reduces `rule: rule token_type` straight back to the same state: a run of such
    statements only grows the `rule` value on top of the stack, and a caller may do that
    itself. (`never_after`: token types that cannot follow, such as the header's, for
    which that state would have no action.)

    The reduction pops the two states and takes `rule`'s goto from the state below, which
    is the state we started in when every way into it is a goto on `rule`.
    """
    actions, rules = table.ACTIONS, table.RULES
    terminals = {t for row in actions for t in row if t.isupper()} - never_after
    entered_by: dict[int, set[str]] = {}
    for row in actions:
        for symbol, target in row.items():
            if target >= 0:
                entered_by.setdefault(target, set()).add(symbol)
    found = set()
    for state, row in enumerate(actions):
        shifted = row.get(token_type, -1)
        if shifted < 0 or entered_by.get(state) != {rule}:
            continue
        after = actions[shifted]
        reductions = {after.get(t) for t in terminals}
        if len(reductions) != 1:
            continue
        (action,) = reductions
        if action is not None and action < 0 and rules[-action - 1][0] == rule \
                and rules[-action - 1][2] == 2:
            found.add(state)
    return frozenset(found)
