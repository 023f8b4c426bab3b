"""The Jinja sandbox templates run in, with limits on what one file may cost.

Jinja's immutable sandbox keeps a template from reaching Python internals and from
changing the context; it bounds neither time nor memory: nested `range(100000)` loops run
for hours, `'a' * 10000000000` asks for 10 GB, a macro calling itself runs until the stack
ends. A custom template set is someone else's code, so every file renders under limits,
each a `LimitError` that names it (the template's file and line are added by the caller):

* sizes: `*`, `**`, `%` and `str.format`, and the str methods and filters that pad to a
  width (`center`, `ljust`, `zfill`, `indent`, `batch`...) may make at most `MAX_SIZE`
  items; Jinja's own cap on `range` (100,000 items) stays;
* depth: macros and recursive loops nest at most `MAX_DEPTH` calls deep;
* output: a file is at most `MAX_OUTPUT` characters, counted as it streams;
* time: a skeleton's files render in at most `RENDER_SECONDS` together, plus
  `RENDER_SECONDS_PER_MB` for each MB of the diagram's source, since the built-in
  templates' work grows with the diagram (see `Budget`, `_Deadline`);
* memory: while a file renders the process may grow by at most `MAX_MEMORY` bytes (an
  address-space limit, where the OS has one): the backstop for what the size checks cannot
  see coming (a string doubled in a loop).

The defaults are far above what the built-in templates need for the largest diagrams.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from types import CodeType

from jinja2.runtime import LoopContext, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import internalcode

MAX_SIZE = 10_000_000
MAX_DEPTH = 100
MAX_OUTPUT = 64_000_000
RENDER_SECONDS = 10.0  # a template that loops for longer than this on a small diagram hangs
RENDER_SECONDS_PER_MB = 20.0  # the 100,000-message benchmark diagram (4 MB) gets 90 s a file
LIPSUM_PARAGRAPHS = 100  # Jinja's `lipsum(n)` builds n paragraphs in one call
MAX_MEMORY = 4 << 30
COMPILED_TEMPLATES = 512  # how many compiled templates a process keeps (LimitedSandbox.compile)

# str methods and filters whose integer arguments are widths or counts they fill up to.
_PADDING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
_PADDING_FILTERS = ("center", "indent", "batch", "slice", "format")
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|\d*)(?:\.(\*|\d*))?")
_BRACE_SPEC = re.compile(r"\{[^{}]*?:([^{}]*)\}")
_NESTED_BRACE = re.compile(r"\{[^{}]*:[^{}]*\{")


class LimitError(Exception):
    """A template went over one of the limits."""

    filename: str | None = None


class _Timeout(BaseException):
    """Raised inside the rendering thread when its time is up. A BaseException (as
    KeyboardInterrupt is), so that no `except Exception` in Jinja or a filter swallows it."""


def _size(n: int, what: str) -> None:
    if n > MAX_SIZE:
        raise LimitError(f"{what} would make {n:,} items; a template may make at most "
                         f"{MAX_SIZE:,} at once (size limit)")


def _check_widths(fmt: str, args: tuple, percent: bool) -> None:
    """Widths and precisions in a format string, and those taken from its arguments."""
    specs = ["".join(m.groups("")) for m in _PERCENT_SPEC.finditer(fmt)] if percent \
        else _BRACE_SPEC.findall(fmt)
    for digits in re.findall(r"\d+", " ".join(specs)):
        _size(int(digits) if len(digits) < 10 else MAX_SIZE + 1, "a format width")
    if ("*" in "".join(specs)) if percent else _NESTED_BRACE.search(fmt):
        _check_ints(args, "a format width")


def _check_ints(args: object, what: str) -> None:
    for a in args if isinstance(args, (tuple, list)) else (args,):
        if isinstance(a, int):
            _size(a, what)


class LimitedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with the size and depth limits of this module."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options: object):
        super().__init__(**options)
        self.depth = 0
        for name in _PADDING_FILTERS:
            self.filters[name] = _bounded_filter(self.filters[name], name)
        self.globals["lipsum"] = _bounded_lipsum(self.globals["lipsum"])

    @internalcode
    def compile(self, source, name=None, filename=None, raw=False,  # noqa: ANN001
                defer_init=False):  # noqa: ANN001
        """Jinja's compile, remembered for the process: every skeleton builds a new
        environment (a template set may change between two runs), and compiling its
        templates cost three times what rendering them did. The key is the template's
        text, names and everything in the environment that shapes the compiled code, so
        an edited template, or the same text in another file (errors name the file), is
        compiled anew; a template that does not compile is not remembered."""
        if raw or not isinstance(source, str):
            return super().compile(source, name, filename, raw, defer_init)
        key = (self._compile_key(), source, name, filename, defer_init)
        with _COMPILED_LOCK:
            code = _COMPILED.get(key)
            if code is not None:
                _COMPILED.move_to_end(key)
                return code
        code = super().compile(source, name, filename, raw, defer_init)
        with _COMPILED_LOCK:
            _COMPILED[key] = code
            while len(_COMPILED) > COMPILED_TEMPLATES:
                _COMPILED.popitem(last=False)
        return code

    def _compile_key(self) -> tuple:
        """What, besides the template, decides the code Jinja compiles it to: the class
        (the sandbox, its intercepted operators), the syntax and whitespace options, the
        extensions, `autoescape` and `finalize`, and the filters and tests known when it
        compiles."""
        return (type(self), self.block_start_string, self.block_end_string,
                self.variable_start_string, self.variable_end_string,
                self.comment_start_string, self.comment_end_string,
                self.line_statement_prefix, self.line_comment_prefix, self.trim_blocks,
                self.lstrip_blocks, self.newline_sequence, self.keep_trailing_newline,
                tuple(sorted(self.extensions)), self.optimized, self.is_async,
                self.autoescape, self.finalize, tuple(sorted(self.filters)),
                tuple(sorted(self.tests)))

    def call_binop(self, context, operator: str, left, right):  # noqa: ANN001
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, bytes, list, tuple)) and isinstance(n, int):
                    _size(len(seq) * n, "`*`")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) \
                and abs(left) > 1 and right > 0:
            _size(left.bit_length() * right, "`**` (in bits)")
        elif operator == "%" and isinstance(left, str):
            _check_widths(left, right if isinstance(right, tuple) else (right,), True)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805, ANN001
        if isinstance(__obj, (Macro, LoopContext)):  # a macro or a recursive loop
            if __self.depth >= MAX_DEPTH:
                raise LimitError(f"macros and recursive loops nest more than {MAX_DEPTH} "
                                 "calls deep (depth limit)")
            __self.depth += 1
            try:
                return super().call(__context, __obj, *args, **kwargs)
            finally:
                __self.depth -= 1
        method = getattr(__obj, "__wrapped__", __obj)  # the sandbox wraps str.format
        if isinstance(getattr(method, "__self__", None), str):
            name = getattr(method, "__name__", "")
            if name in _PADDING_METHODS:
                _check_ints((*args, *kwargs.values()), f"str.{name}")
            elif name in ("format", "format_map"):
                _check_widths(method.__self__, (*args, *kwargs.values()), False)
        return super().call(__context, __obj, *args, **kwargs)


_COMPILED: OrderedDict[tuple, CodeType] = OrderedDict()
_COMPILED_LOCK = threading.Lock()


def _bounded_filter(f: Callable, name: str) -> Callable:
    """`f`, refusing widths and counts over the size limit (and, for `format`, widths in
    the format string)."""
    passed = 1 if getattr(f, "jinja_pass_arg", None) else 0  # a context comes first

    @functools.wraps(f)  # keeps `jinja_pass_arg`, so Jinja passes what `f` expects
    def bounded(*args, **kwargs):  # noqa: ANN002, ANN003
        value, rest = args[passed], (*args[passed + 1:], *kwargs.values())
        if name == "format" and isinstance(value, str):
            _check_widths(value, rest, True)
        else:
            _check_ints(rest, f"the filter `{name}`")
        return f(*args, **kwargs)

    return bounded


def _bounded_lipsum(lipsum: Callable) -> Callable:
    def bounded(n: int = 5, *args, **kwargs):  # noqa: ANN002, ANN003
        if not isinstance(n, int) or n > LIPSUM_PARAGRAPHS:
            raise LimitError(f"lipsum: at most {LIPSUM_PARAGRAPHS} paragraphs (size limit)")
        return lipsum(n, *args, **kwargs)
    return bounded


class Budget:
    """The time one skeleton's files may take together: `RENDER_SECONDS`, and more for a
    longer diagram (`source_size` characters), whose files the built-in templates take
    longer to write."""

    def __init__(self, source_size: int = 0):
        self.seconds = RENDER_SECONDS + RENDER_SECONDS_PER_MB * source_size / 1e6
        self.ends = time.monotonic() + self.seconds

    def left(self) -> float:
        return max(0.0, self.ends - time.monotonic())


def render(template, context: dict, budget: Budget | None = None) -> str:  # noqa: ANN001
    """`template` rendered with `context`, under the output, time (what is left of
    `budget`) and memory limits."""
    budget = budget or Budget()
    from jinja2.debug import rewrite_traceback_stack

    chunks, total = [], 0
    try:
        # The deadline inside: its exit cancels a pending timeout before the memory limit
        # is lifted, so no timeout can land in (and skip) lifting it.
        deadline = _Deadline(budget.left())
        with _memory_limit(MAX_MEMORY), deadline:
            for chunk in template.generate(context):
                total += len(chunk)
                if total > MAX_OUTPUT:
                    error = LimitError(f"the file would be over {MAX_OUTPUT:,} characters "
                                       "(output limit)")
                    error.filename = template.filename  # no one line to blame
                    raise error
                chunks.append(chunk)
    except (_Timeout, MemoryError) as exc:
        what = f"rendering took over {budget.seconds:.3g} s (time limit)" \
            if isinstance(exc, _Timeout) else \
            f"rendering needed over {MAX_MEMORY >> 20:,} MB (memory limit)"
        # Jinja points a traceback at template lines only for the exceptions it catches
        # (`Exception`); do the same here, so that the caller can name the line.
        raise LimitError(what).with_traceback(rewrite_traceback_stack().__traceback__) \
            from None
    return "".join(chunks)


class _Deadline:
    """Stops the rendering thread after `seconds`.

    Why this way: a compiled template is plain Python running in this thread, and nothing
    in Jinja runs on every loop iteration (an empty `{% for %}` calls no hook); SIGALRM
    would reach only the main thread, and mermaidgen renders on a worker thread
    (`cli.main`); rendering in another process would cost a start-up per file. So a
    watchdog thread raises `_Timeout` *in* the rendering thread (`PyThreadState_SetAsyncExc`),
    and the interpreter delivers it between two bytecodes: every template loop can be
    stopped, whatever it iterates. One long C call cannot, which is why sizes are capped
    before such calls run. A deadline that passes as rendering ends has its pending
    exception cleared under the watchdog's lock, and the overrun is reported all the same.
    One watchdog serves every deadline; it starts before the first memory limit is set,
    so that its stack never counts against one."""

    def __init__(self, seconds: float):
        self.seconds, self.thread = seconds, threading.get_ident()
        _WATCHDOG.start()

    def __enter__(self) -> _Deadline:
        _WATCHDOG.arm(self.thread, time.monotonic() + self.seconds)
        return self

    def __exit__(self, kind, *rest: object) -> None:  # noqa: ANN001
        if _WATCHDOG.disarm(self.thread) and kind is None:
            raise _Timeout


class _Watchdog:
    def __init__(self):
        self.due: dict[int, float] = {}  # rendering thread -> when its time is up
        self.fired: set[int] = set()
        self.changed = threading.Condition()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        with self.changed:
            if self.thread is None and _async_raise is not _no_async_raise:
                self.thread = threading.Thread(target=self._watch, daemon=True,
                                               name="mermaidgen-render-deadline")
                self.thread.start()

    def arm(self, thread: int, when: float) -> None:
        with self.changed:
            if thread in self.fired:  # a timeout that landed in an earlier `disarm`
                self.fired.discard(thread)
                _async_raise(thread, None)
            self.due[thread] = when
            self.changed.notify()

    def disarm(self, thread: int) -> bool:
        """Stop watching `thread`; True if its time was up (a pending `_Timeout` that
        has not been raised yet is cancelled)."""
        with self.changed:
            self.due.pop(thread, None)
            if thread not in self.fired:
                return False
            self.fired.discard(thread)
            _async_raise(thread, None)
            return True

    def _watch(self) -> None:
        with self.changed:
            while True:
                now = time.monotonic()
                for thread, when in list(self.due.items()):
                    if when <= now:
                        del self.due[thread]
                        self.fired.add(thread)
                        _async_raise(thread, _Timeout)
                self.changed.wait(min(self.due.values(), default=now + 3600) - now)


def _async_raise(thread: int, kind: type[BaseException] | None) -> None:
    """Raise `kind` in `thread` at its next bytecode (None: cancel a pending one)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread),
                                               ctypes.py_object(kind) if kind else None)


def _no_async_raise(thread: int, kind: type[BaseException] | None) -> None:
    """Other Pythons than CPython: no time limit (the other limits still hold)."""


if not hasattr(ctypes, "pythonapi") or \
        not hasattr(ctypes.pythonapi, "PyThreadState_SetAsyncExc"):
    _async_raise = _no_async_raise  # noqa: F811
_WATCHDOG = _Watchdog()


@contextlib.contextmanager
def _memory_limit(extra: int) -> Iterator[None]:
    """Lower the soft address-space limit to the current size plus `extra`, and back."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        with open("/proc/self/statm") as f:  # Linux: the one OS that enforces RLIMIT_AS
            now = int(f.read().split()[0]) * resource.getpagesize()
    except (ImportError, OSError, ValueError, AttributeError):
        yield
        return
    wanted = now + extra
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft <= wanted:
        yield  # already as tight
        return
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
