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


class Parser:
    """One parse: `feed` every token, then `finish` with the end token for the result.

    `reducers` maps each rule name of the grammar to a function of the rule's children
    (the tokens and the values of the rules it matched, left to right). Rules named
    `_...` (lark's inlined rules, such as the helpers behind `item*`) need none: their
    children take their place in the rule that uses them, as in lark.
    """

    def __init__(self, table: ModuleType, reducers: dict[str, Callable[[list], Any]]):
        self._actions: Sequence[dict[str, int]] = table.ACTIONS
        self._rules = [(rule, size, splices, None if rule.startswith("_") else reducers[name])
                       for rule, name, size, splices in table.RULES]
        self._accept = table.ACCEPT_STATE
        self.state_stack: list[int] = [table.START_STATE]
        self.value_stack: list = []

    def feed(self, token: Any) -> None:
        """Shift `token`, after the reductions its type calls for."""
        self._advance(token, end=False)

    def finish(self, end: Any) -> Any:
        """Reduce what is left at the end of the input (`end`, typed `$END`): the result."""
        return self._advance(end, end=True)

    def _advance(self, token: Any, end: bool) -> Any:
        states, values = self.state_stack, self.value_stack
        actions, rules = self._actions, self._rules
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
            rule, size, splices, reducer = rules[-action - 1]
            if size:
                children = values[-size:]
                del states[-size:]
                del values[-size:]
            else:
                children = []
            if splices:  # positions of `_rule` children: their own children go there
                children = _spliced(children, splices)
            value = children if reducer is None else reducer(children)
            states.append(actions[states[-1]][rule])
            values.append(value)
            if end and states[-1] == self._accept:
                return value


def _spliced(children: list, positions: tuple[int, ...]) -> list:
    spliced: list = []
    for i, child in enumerate(children):
        if i in positions:
            spliced.extend(child)
        else:
            spliced.append(child)
    return spliced
