"""Pausing the cyclic garbage collector while building data that lives on (the parser,
the analysis, a preview)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_collection() -> Iterator[None]:
    """No collector passes inside: a parse, an analysis or a command allocates many objects
    and frees none, so each pass would only scan them again, and with every pass scanning
    more of them, a large diagram cost more than its size (100k messages: 17x the time of
    10k). Nested pauses are fine: only the outermost turns the collector back on."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            if gc.get_freeze_count() == 0:  # never thaw what someone else froze
                _age()
            gc.enable()


def _age() -> None:
    """Move every object the collector tracks into its oldest generation, unscanned.

    What was built while the collector slept would otherwise all be young, and the first
    young collection after it (on the next allocation, often still inside the parse)
    would scan it all: 4 ms after a 10,000-message parse (a tenth of it), 100 ms after a
    100,000-message one, more than linear as the objects outgrow the caches. In the oldest
    generation they wait for the next full collection, which the collector runs only
    once the old objects have grown by a quarter, as it does for any long-lived data.
    (`freeze` parks the objects and resets the young generation's count; `unfreeze` puts
    them into the oldest generation.)"""
    gc.freeze()
    gc.unfreeze()


_teardown_skipped = False


def skip_teardown() -> None:
    """Ask the command line's `main` to leave the process without the interpreter's
    teardown once the command has written its output (`os._exit` after flushing
    stdout and stderr). Called by commands that only print (`preview`): after building a
    100k-message model, analysis and document with the collector paused, the teardown's
    final collection and the freeing of what it finds cost 0.3-0.4 s of CPU, a tenth of
    the command, for nothing anyone sees. Only `main` acts on it, and only when it runs
    as the process's entry point (no `argv` given): in-process callers never exit."""
    global _teardown_skipped
    _teardown_skipped = True


def teardown_skipped() -> bool:
    return _teardown_skipped
