"""The engines' environments are built once per run, in the background as soon as the run
is known to need them (tests/shared_venvs.py): a run that selects no engine test builds
none, a build is never made twice, a failed one is judged by every test that needs it
(skip without PyPI on a laptop, fail in CI mode), and one nobody needs ends with the run.
The run's first process also writes the test modules' rewritten bytecode for the workers
(tests/collection_bytecode.py)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import collection_bytecode
import pytest
from projects import _judge
from shared_venvs import Build, guessed_from, needed_by

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def guess(*args: str, keyword: str = "", markexpr: str = "") -> set[str]:
    return guessed_from(list(args), ROOT, keyword, markexpr)


def test_a_run_of_files_without_engine_tests_builds_nothing() -> None:
    assert guess("tests/test_lexer_paths.py") == set()
    assert guess("tests/test_lexer_paths.py", "tests/test_readme.py") == set()


def test_a_run_of_the_whole_suite_builds_both_before_collecting() -> None:
    assert guess("tests") == {"faststream-venv", "temporal-venv"}
    assert guess("tests/test_target_temporal.py") == {"temporal-venv"}
    assert guess("tests/test_verify_handwritten.py") == {"faststream-venv"}  # traced_python


def test_a_run_that_may_select_fewer_tests_than_its_files_waits_for_collection() -> None:
    assert guess("tests", keyword="lexer") == set()
    assert guess("tests", markexpr="not engine") == set()
    assert guess("tests/test_target_temporal.py::test_the_readme_example") == set()


def test_collected_tests_say_which_environments_they_need() -> None:
    assert needed_by([["tmp_path"], ["cli"]]) == set()
    assert needed_by([["traced_python", "faststream_python"], ["temporal_python"]]) == {
        "faststream-venv", "temporal-venv"}


def fake(script: str, count: Path):
    """An installer that runs `script`, its runs counted in `count`."""
    def command(home: Path, requirements: tuple[str, ...]) -> tuple[Path, list[str]]:
        home.mkdir(parents=True, exist_ok=True)
        with open(count, "a") as runs:
            runs.write("x")
        return home / "bin" / "python", [sys.executable, "-c", script]
    return command


def runs(count: Path) -> int:
    return len(count.read_text()) if count.exists() else 0


def test_a_build_is_made_once_however_many_ask_at_once(tmp_path: Path) -> None:
    count = tmp_path / "count"
    builds = [Build(tmp_path, "env", (), fake("import time; time.sleep(0.3)", count))
              for _ in range(3)]
    for build in builds[:2]:
        build.start()
    assert builds[2].run().returncode == 0
    for build in builds[:2]:
        build._thread.join(30)
        assert not build.running()
    assert runs(count) == 1
    assert (tmp_path / "env" / ".ready").is_file()
    assert Build(tmp_path, "env", (), fake("", count)).run().returncode == 0
    assert runs(count) == 1


def test_a_failed_build_is_tried_once_and_every_test_is_told_why(tmp_path: Path,
                                                                  monkeypatch) -> None:
    count = tmp_path / "count"
    offline = "import sys; sys.exit('error: dns error: failed to lookup address')"
    first = Build(tmp_path, "env", ("faststream",), fake(offline, count))
    first.start()
    first._thread.join(30)
    later = Build(tmp_path, "env", ("faststream",), fake(offline, count)).run()
    assert runs(count) == 1
    assert later.returncode == 1 and "dns error" in later.stderr
    for variable in ("CI", "MERMAIDGEN_REQUIRE_ENGINES"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(pytest.skip.Exception, match="cannot reach the package index"):
        _judge(later, "uv pip install", ("faststream",), skip_without_pypi=True)


def test_a_build_nobody_needs_ends_with_the_run_and_is_not_marked_failed(
        tmp_path: Path) -> None:
    count = tmp_path / "count"
    slow = Build(tmp_path, "env", (), fake("import time; time.sleep(60)", count))
    slow.start()
    deadline = time.monotonic() + 30
    while slow._process is None and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    slow.cancel()
    assert time.monotonic() - started < 10
    assert not slow.running()
    assert not (tmp_path / "env.failed").exists()
    assert not (tmp_path / "env" / ".ready").exists()
    again = Build(tmp_path, "env", (), fake("", count)).run()  # built anew when asked
    assert again.returncode == 0 and runs(count) == 2



def test_the_controller_writes_a_test_modules_rewritten_bytecode(tmp_path: Path,
                                                                 request) -> None:
    """What the workers load instead of rewriting each module themselves
    (tests/collection_bytecode.py): pytest's own rewritten code, checked against the
    source's hash. Fails when pytest's internals move and nothing would be written."""
    from _pytest.assertion import rewrite

    module = tmp_path / "test_example.py"
    module.write_text("def test_it():\n    assert 1 + 1 == 2\n", encoding="utf-8")
    collection_bytecode._write(request.config, [module])
    pyc = rewrite.get_cache_dir(module) / f"test_example{rewrite.PYC_TAIL}"
    code = rewrite._read_pyc(module, pyc)
    assert code is not None, f"no current {pyc}"
    test_it = next(c for c in code.co_consts if getattr(c, "co_name", "") == "test_it")
    assert any(name.startswith("@py_assert") for name in test_it.co_varnames)
    module.write_text("def test_it():\n    assert 2 + 2 == 4\n", encoding="utf-8")
    assert rewrite._read_pyc(module, pyc) is None  # an edited module is rewritten anew


def test_the_controller_rewrites_the_files_the_run_names() -> None:
    named = collection_bytecode.selected_files(
        ["tests/test_readme.py::test_x", "tests/conformance", "tests"], ROOT)
    assert named[0] == TESTS / "test_readme.py"
    assert TESTS / "test_shared_venvs.py" in named
    assert not [path for path in named if "golden" in path.parts or "fixtures" in path.parts]


def test_current_bytecode_is_left_alone_and_stale_bytecode_is_written_anew(
        tmp_path: Path) -> None:
    """What conftest writes for mermaidgen and the helper modules on every run: nothing
    when it is current (compileall compiled all of mermaidgen again on every run)."""
    import importlib.util

    source = tmp_path / "helper.py"
    source.write_text("VALUE = 1\n", encoding="utf-8")
    cached = Path(importlib.util.cache_from_source(str(source)))
    collection_bytecode.write_checked([source])
    written = cached.stat().st_mtime_ns
    time.sleep(0.01)
    collection_bytecode.write_checked([source])
    assert cached.stat().st_mtime_ns == written
    source.write_text("VALUE = 2\n", encoding="utf-8")
    collection_bytecode.write_checked([source])
    assert cached.read_bytes()[8:16] == importlib.util.source_hash(source.read_bytes())
