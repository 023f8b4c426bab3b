"""The FastStream target on Redis: test_target_faststream.py's matrix for the `redis`
broker (every sample and seed, in FastStream's test broker and, with a Redis server on
127.0.0.1, through it), in a file of its own so that pytest-xdist's `--dist loadfile`
runs it beside the other brokers' instead of after them."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_target_faststream import cases, check_in_memory, check_on_server

HERE = ("redis",)


@pytest.mark.engine
@pytest.mark.parametrize(("path", "broker"), cases(HERE))
def test_skeleton_compiles_lints_and_conforms_in_memory(
        path: Path, broker: str, tmp_path_factory, faststream_python: Path) -> None:
    check_in_memory(path, broker, tmp_path_factory, faststream_python)


@pytest.mark.engine
@pytest.mark.parametrize(("path", "broker"), cases(HERE, real=True))
def test_skeleton_conforms_on_a_real_broker(path: Path, broker: str, tmp_path_factory,
                                           request: pytest.FixtureRequest) -> None:
    check_on_server(path, broker, tmp_path_factory, request)
