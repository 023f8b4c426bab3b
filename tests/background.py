"""Scenarios that mostly wait (on a server's round trips, a timer, a sleep that gives a
second effect time to show), run in the background so that their waits overlap.

A test module names the scenario of each of its slow tests (`SCENARIOS`: the test's
name -> a function of a folder of its own, the engine's python and the test's
parameters). When the module's first test runs, `start` begins the scenarios of the
module's tests this session will run, `parallel` at a time, each in a thread (and so in
project runners of its own: `projects.run_python` gives concurrent callers one each).
Each test then takes its own scenario's outcome (`Background.result`) and asserts on it:
a scenario that raised (a failed assertion, a skip, a timeout) raises in its test, with
its traceback and output. Scenarios that run together must not share a server's names:
each has its own package, so its own channels, streams, groups and task queues.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

Scenario = Callable[..., Any]
WAIT = 900.0
"""How long a test waits for its scenario (each has timeouts of its own, far shorter)."""


class Background:
    """The scenarios a module started: test name -> its future outcome."""

    def __init__(self, scenarios: dict[str, Scenario]) -> None:
        self.scenarios = scenarios
        self.futures: dict[str, Future] = {}

    def result(self, request: pytest.FixtureRequest, folder: Path, python: Path,
               **params: Any) -> Any:
        """The outcome of this test's scenario: the one started in the background, or
        (none was: the test was not among those the module's first test saw) run now,
        in `folder`."""
        future = self.futures.pop(request.node.name, None)
        if future is None:
            return self.scenarios[request.node.originalname](folder, python, **params)
        return future.result(WAIT)


def _selected(request: pytest.FixtureRequest, module: types.ModuleType
              ) -> list[pytest.Item]:
    """The module's tests this session runs (deselected ones are not in session.items;
    with --dist loadfile a module's tests all run on one worker)."""
    return [item for item in request.session.items
            if getattr(item, "module", None) is module]


@contextmanager
def start(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          module: types.ModuleType, scenarios: dict[str, Scenario], python_fixture: str,
          parallel: int) -> Iterator[Background]:
    """Begin, in the order `scenarios` lists them (longest first packs them best), the
    scenario of each selected test of `module`; at the end wait for those still running,
    so that no process of theirs outlives the fixture that started them."""
    wanted = [(item, scenarios[item.originalname]) for item in _selected(request, module)
              if isinstance(item, pytest.Function) and item.originalname in scenarios]
    order = list(scenarios)
    wanted.sort(key=lambda pair: order.index(pair[0].originalname))
    running = Background(scenarios)
    try:
        python = request.getfixturevalue(python_fixture) if wanted else None
    except (Exception, pytest.skip.Exception):  # no engine: each test asks, and says so
        python = None
    if python is None:
        yield running
        return
    pool = ThreadPoolExecutor(parallel, thread_name_prefix="scenario")
    try:
        for item, scenario in wanted:
            params = dict(item.callspec.params) if hasattr(item, "callspec") else {}
            folder = tmp_path_factory.mktemp(re.sub(r"\W", "_", item.name)[:40])
            running.futures[item.name] = pool.submit(scenario, folder, python, **params)
        yield running
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
