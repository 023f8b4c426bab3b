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
            gc.enable()
