"""Drive a run along one of the diagram's paths (standard library only).

Copied verbatim into every generated package (`_generated/drive.py`), next to the
package's path table (`_generated/paths.py`: `PATHS`, name -> {block line: value}, and
`DECIDERS`, block line -> the hooks that decide that block). While `driving(...)` is
active, the decision hooks of the user classes answer as the path says instead of as the
user's code would: which `alt` section (`choose_*`), whether an `opt` runs or a `break` is
taken (`should_*`), how many loop iterations (`repeat_*`), which reply a call gets
(`reply_*`, the payload still the user's: the reply that opens the `alt`'s section, or
for a `break` the reply drawn in it when it is taken), in which order a `par`'s sections start
(`order_*`, where the runtime lets a hook decide it), and, for a `critical` option, a
failure raised by the first hook of the main section (`fail`) and the option the
recovery picks (`recover_*`); where the main section starts with no hook of its own
(a `par` no hook orders, a nested `critical`, only messages it awaits), the
`enter_critical(line)` call first in it fails instead (`fail_at`), for that critical
only. Every other hook (payloads, handlers, steps) runs the user's code.

Values per block kind: alt and critical, the section's index (0 the first / main);
opt and break, 1 taken and 0 not; loop, the number of iterations; par, 0 its sections
started in drawn order and 1 in reverse order. Two blocks on one line (`;` separates
statements) share their key: a value the other block's hook cannot take (a section it does
not have) leaves that hook the user's.

The hooks are replaced on the user classes themselves (and put back afterwards), so that
instances made before the run (a FastStream app's service) follow the path too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

Decider = Sequence[Any]
"""(generated base class name, hook name, kind, argument): the argument is the branch
names (choose, recover), the section names in drawn order (order), the calls whose
reply decides (reply; reply_break for a break) or the critical's line (fail_at)."""


class UnknownPath(LookupError):
    """No path of that name."""


class InjectedFailure(RuntimeError):
    """Raised by the first step of a `critical` section, so that a path takes an option."""


def decisions(paths: Mapping[str, Mapping[int, int]], name: str) -> Mapping[int, int]:
    if name not in paths:
        raise UnknownPath(f"no path {name!r}; the paths are: {', '.join(paths)}")
    return paths[name]


@contextmanager
def driving(classes: Iterable[tuple[type, type]], chosen: Mapping[int, int],
            deciders: Mapping[int, Sequence[Decider]]) -> Iterator[None]:
    """Within the block, the user classes (each with the generated base it extends)
    decide as `chosen` (block line -> value) says."""
    by_base: dict[str, list[type]] = {}
    for user_class, base in classes:
        by_base.setdefault(base.__name__, []).append(user_class)
    saved: list[tuple[type, str, Any]] = []
    try:
        for line, value in chosen.items():
            for base_name, hook, kind, argument in deciders.get(line, ()):
                for user_class in by_base.get(base_name, ()):
                    replacement = _hook(kind, value, argument, getattr(user_class, hook),
                                        line)
                    if replacement is None:
                        continue
                    saved.append((user_class, hook, user_class.__dict__.get(hook, _ABSENT)))
                    setattr(user_class, hook, replacement)
        yield
    finally:
        for user_class, hook, old in reversed(saved):
            if old is _ABSENT:
                delattr(user_class, hook)
            else:
                setattr(user_class, hook, old)


_ABSENT = object()


def _hook(kind: str, value: int, argument: Any, original: Any, line: int) -> Any:
    """The method that answers as the path says, or None to leave the user's."""
    if kind == "choose":
        if value >= len(argument):  # another choice's value, on the same line
            return None
        branch = argument[value]
        return lambda self, ctx: branch
    if kind in ("should", "should_break"):
        return lambda self, ctx: bool(value)
    if kind == "repeat":
        return lambda self, ctx, iteration: iteration < value
    if kind == "order":
        order = tuple(argument) if value == 0 else tuple(reversed(argument))
        return lambda self, ctx: order
    if kind == "recover":
        if not 1 <= value <= len(argument):
            return None
        option = argument[value - 1]
        return lambda self, ctx, error: option
    if kind == "fail":
        if value < 1:
            return None

        def fail(self: Any, *args: Any, **kwargs: Any) -> Any:
            raise InjectedFailure(f"the path takes option {value} of the critical at "
                                  f"line {line}: its first step fails")
        return fail
    if kind == "fail_at":  # `enter_critical(line)`, which every such critical calls
        if value < 1:
            return None
        lines = tuple(argument)

        def fail_at(self: Any, critical: int, *args: Any, **kwargs: Any) -> Any:
            if critical in lines:
                raise InjectedFailure(f"the path takes option {value} of the critical at "
                                      f"line {line}: its main section fails as it starts")
            return original(self, critical, *args, **kwargs)
        return fail_at
    if kind in ("reply", "reply_break"):
        calls = tuple(argument)
        # an alt's value is the section, whose reply has that index; a break's is 1 when
        # taken, and of the call's two replies the one that opens the break is the first
        answer = value if kind == "reply" else 1 - value

        def reply(self: Any, ctx: Any) -> Any:
            result = original(self, ctx)
            call = getattr(getattr(ctx, "message", None), "message", None)
            if isinstance(call, int) and calls and call not in calls:
                return result  # the same operation called where its reply decides nothing
            if dataclasses.is_dataclass(result) and not isinstance(result, type):
                return dataclasses.replace(result, reply=answer)
            result.reply = answer
            return result
        return reply
    return None


def describe(paths: Mapping[str, Mapping[int, int]], described: Mapping[str, Sequence[str]]
             ) -> str:
    """The path table as text: each name and the decisions it makes."""
    lines = []
    for name in paths:
        what = "; ".join(described.get(name, ())) or "no decisions"
        lines.append(f"{name}: {what}")
    return "\n".join(lines)
