"""The long-lived runner of generated projects (tests/project_runner.py, through
projects.run_python): a project's outcome is its own. A broken project fails alone, the
projects after it do not see its modules, environment or working folder, and a project
that kills or hangs its runner fails without taking the next one down.

Generated python-target projects and hand-written ones, run by this interpreter: no
engine needed (the FastStream case: test_target_faststream.py)."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from pathlib import Path

import pytest
from projects import run_python, shared_project_tests

import mermaidgen
from mermaidgen.codegen.generate import build
from mermaidgen.codegen.write import output

PROJECT = Path(__file__).resolve().parents[1]
PYTHON = Path(sys.executable)
CONTRACT = "test_the_run_conforms_to_the_diagram"
BROKEN = '''

    def on_order_placed(self, ctx):
        raise RuntimeError("broken on purpose")
'''


def _generate(out: Path) -> None:
    text = (PROJECT / "samples" / "broker-fanout.mmd").read_text(encoding="utf-8")
    generation = build(mermaidgen.parse(text, source="fanout.mmd"), text,
                       style="choreography", target="python", package="fanout")
    output.write(output.plan(list(generation.files), out, generation.meta()))


def _failed(outcomes: dict[str, str]) -> list[str]:
    return [name for name, kind in outcomes.items() if kind in ("failure", "error")]


def test_only_the_broken_project_fails_and_its_modules_do_not_leak(tmp_path: Path) -> None:
    """Three projects with the same package name, the middle one broken: run one after
    another in one runner, the first and last pass and the middle one fails, on the
    line that broke it; a passing project run after the broken one would fail if the
    broken one's modules had stayed, and the broken one would pass on the first's."""
    intact, broken = tmp_path / "intact", tmp_path / "broken"
    _generate(intact)
    _generate(broken)
    billing = broken / "fanout" / "services" / "billing.py"
    billing.write_text(billing.read_text(encoding="utf-8").replace("    pass\n", "")
                       + BROKEN, encoding="utf-8")
    results = [shared_project_tests(PYTHON, out) for out in (intact, broken, intact)]
    (first, _), (middle, log), (last, _) = results
    assert first.get(CONTRACT) == last.get(CONTRACT) == "passed", results
    assert not _failed(first) and not _failed(last), results
    assert middle.get(CONTRACT) == "failure", log
    assert "broken on purpose" in log
    assert "broken on purpose" not in results[0][1] + results[2][1]


MODULE = '''
import os

COUNT = 0


def bump():
    global COUNT
    COUNT += 1
    return COUNT, os.environ.get("RUNNER_PROBE"), os.getcwd()
'''
TEST = '''
import os
import os
import shutil
import sys

import probe_state


def test_fresh_state():
    count, variable, cwd = probe_state.bump()
    print("seen", count, variable, os.path.basename(cwd), flush=True)
    assert count == 1, "module state survived from an earlier project"
    assert variable == os.environ.get("EXPECTED_PROBE"), variable
    if os.environ.get("CRASH"):
        os._exit(7)
    if os.environ.get("HANG"):
        import time
        time.sleep(60)
'''


def _handwritten(folder: Path) -> Path:
    (folder / "tests").mkdir(parents=True)
    (folder / "probe_state.py").write_text(MODULE, encoding="utf-8")
    (folder / "tests" / "test_probe.py").write_text(TEST, encoding="utf-8")
    (folder / "pyproject.toml").write_text(textwrap.dedent('''
        [tool.pytest.ini_options]
        pythonpath = ["."]
        testpaths = ["tests"]
        '''), encoding="utf-8")
    return folder


def test_state_environment_and_output_are_each_projects_own(tmp_path: Path) -> None:
    one, two = _handwritten(tmp_path / "one"), _handwritten(tmp_path / "two")
    pytest_args = ["-m", "pytest", "-q", "-s", "-p", "no:cacheprovider"]
    first = run_python(PYTHON, pytest_args, one, RUNNER_PROBE="a", EXPECTED_PROBE="a")
    again = run_python(PYTHON, pytest_args, one)  # the same folder: its module anew
    other = run_python(PYTHON, pytest_args, two, RUNNER_PROBE="b", EXPECTED_PROBE="b")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "seen 1 a one" in first.stdout
    assert again.returncode == 0, again.stdout + again.stderr
    assert "seen 1 None one" in again.stdout and "seen 1 a" not in again.stdout
    assert other.returncode == 0, other.stdout + other.stderr
    assert "seen 1 b two" in other.stdout

    # a script: its own folder first on sys.path, as `python tests/test_probe.py` has it
    script = run_python(PYTHON, ["tests/test_probe.py"], one)
    assert script.returncode == 1 and "No module named 'probe_state'" in script.stderr
    script = run_python(PYTHON, ["tests/test_probe.py"], one, PYTHONPATH=str(one))
    assert script.returncode == 0, script.stderr
    module = run_python(PYTHON, ["-m", "probe_state"], one)
    assert module.returncode == 0, module.stderr
    missing = run_python(PYTHON, ["-m", "no_such_module_here"], one)
    assert missing.returncode == 1 and "No module named" in missing.stderr, missing


def test_a_project_that_kills_or_hangs_its_runner_fails_alone(tmp_path: Path) -> None:
    folder = _handwritten(tmp_path / "p")
    pytest_args = ["-m", "pytest", "-q", "-s", "-p", "no:cacheprovider"]
    crashed = run_python(PYTHON, pytest_args, folder, CRASH="1")
    assert crashed.returncode != 0
    assert "seen 1 None p" in crashed.stdout  # what it printed before it died
    assert "died" in crashed.stderr, crashed.stderr
    with pytest.raises(Exception, match="timed out") as hung:
        run_python(PYTHON, pytest_args, folder, timeout=3, HANG="1")
    assert "seen 1 None p" in str(hung.value.output)
    after = run_python(PYTHON, pytest_args, folder)
    assert after.returncode == 0, after.stdout + after.stderr


SHOW = '''
import importlib
import os
import shutil
import sys

import edited
print("first", edited.VALUE)
del sys.modules["edited"]  # imported again in the same run, as Temporal's sandbox does
print("again", importlib.import_module("edited").VALUE)
'''


def test_a_module_rewritten_with_the_same_size_and_time_runs_its_new_code(
        tmp_path: Path) -> None:
    """The runner keeps the code it compiled from a project's source (a Temporal project's
    modules are imported afresh for every workflow run), by the source's content: a
    rewrite of the same size, dated the same nanosecond, is compiled again (Python's
    bytecode files trust size and mtime; there are none here)."""
    (tmp_path / "show.py").write_text(SHOW, encoding="utf-8")
    edited = tmp_path / "edited.py"
    edited.write_text("VALUE = 1\n", encoding="utf-8")
    stamp = edited.stat().st_mtime_ns
    first = run_python(PYTHON, ["show.py"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.split() == ["first", "1", "again", "1"], first.stdout
    edited.write_text("VALUE = 2\n", encoding="utf-8")
    os.utime(edited, ns=(stamp, stamp))
    for cache in tmp_path.rglob("__pycache__"):  # what a run may have written
        shutil.rmtree(cache)
    second = run_python(PYTHON, ["show.py"], tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout.split() == ["first", "2", "again", "2"], second.stdout
