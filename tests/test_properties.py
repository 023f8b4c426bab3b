"""Property-based tests: random valid diagrams (tests/strategies.py) through every stage.

* parsing succeeds, without warnings, and reads what the generator wrote: participants in
  display order, messages and notes with their texts (hostile alphabets included);
* `preview --format mermaid` prints a diagram that parses back to the same model;
* `preview` (text and JSON) answers with exit code 0 and no internal error;
* every generated skeleton, in both styles, compiles, passes ruff, and its own contract test
  passes on the untouched skeleton.

Example counts are kept small for the slow properties so that this file runs in about two
minutes; `HYPOTHESIS_PROFILE=fuzz` (see `conftest`-free profile below) runs many more.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from strategies import Generated, diagrams
from test_emit import comparable

from mermaidgen import output, parse
from mermaidgen.cli import _run
from mermaidgen.generate import build
from mermaidgen.model import Message, Note, walk

settings.register_profile("fuzz", max_examples=2000, deadline=None)
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])

SLOW = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
# the per-example counts, scaled by MERMAIDGEN_PROPERTY_SCALE for a longer local run
SCALE = max(1, int(os.environ.get("MERMAIDGEN_PROPERTY_SCALE", "1")))


def _events(diagram) -> list[tuple]:
    found: list[tuple] = []
    for s in walk(diagram.statements):
        if isinstance(s, Message):
            found.append(("message", s.sender, s.receiver, s.arrow, s.text, s.activate,
                          s.deactivate, s.central))
        elif isinstance(s, Note):
            found.append(("note", s.placement, s.participants, s.text))
    return found


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = _run(argv)
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=150 * SCALE, deadline=None, suppress_health_check=SLOW)
@given(diagrams())
def test_generated_diagrams_parse_as_written(generated: Generated) -> None:
    diagram = parse(generated.text)
    # the generator writes a `links` statement that is not JSON on purpose
    assert [w.code for w in diagram.warnings if w.code != "ignored-json"] == []
    assert [p.id for p in diagram.participants] == generated.expected.participants
    assert _events(diagram) == generated.expected.events


@settings(max_examples=60 * SCALE, deadline=None, suppress_health_check=SLOW)
@given(diagrams())
def test_mermaid_format_round_trips_to_the_same_model(generated: Generated) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "diagram.mmd"
        source.write_bytes(generated.text.encode("utf-8"))
        code, emitted, err = _cli(["preview", str(source), "--format", "mermaid"])
        assert code == 0, err
        again = parse(emitted, source="<emitted>")
        assert comparable(again) == comparable(parse(generated.text)), emitted
        assert again.warnings == ()
        # canonical text is a fixed point
        (Path(tmp) / "again.mmd").write_text(emitted, encoding="utf-8")
        code, twice, err = _cli(["preview", str(Path(tmp) / "again.mmd"), "-f", "mermaid"])
        assert (code, twice) == (0, emitted), err


@settings(max_examples=25 * SCALE, deadline=None, suppress_health_check=SLOW)
@given(diagrams(max_statements=15))
def test_preview_answers_without_internal_errors(generated: Generated) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "diagram.mmd"
        source.write_bytes(generated.text.encode("utf-8"))
        code, text, err = _cli(["preview", str(source), "--width", "80"])
        assert code == 0 and "internal error" not in err, err
        assert text.strip()
        code, data, err = _cli(["preview", str(source), "--format", "json"])
        assert code == 0, err
        assert json.loads(data)["participants"] is not None


def _check(cmd: list, cwd: Path, what: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=240, env=env)
    assert done.returncode == 0, f"{what} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"


@settings(max_examples=6 * SCALE, deadline=None, suppress_health_check=SLOW)
@given(diagrams(max_statements=12))
def test_skeletons_compile_lint_and_pass_their_contract_tests(generated: Generated) -> None:
    diagram = parse(generated.text, source="diagram.mmd")
    with tempfile.TemporaryDirectory() as tmp:
        for style in ("choreography", "orchestration"):
            out = Path(tmp) / style
            generation = build(diagram, generated.text, style=style)
            output.write(output.plan(list(generation.files), out, generation.meta()))
            python = sys.executable
            _check([python, "-m", "compileall", "-q", "."], out, f"{style}: compileall")
            _check([python, "-m", "ruff", "check", "--isolated", "--no-cache", "."], out,
                   f"{style}: ruff")
            _check([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"], out,
                   f"{style}: the skeleton's own tests")
    # the engine targets: compiled and linted always; their own tests run where the engine
    # is installed (tests/test_target_*.py run them in an environment of their own)
    with tempfile.TemporaryDirectory() as tmp:
        for target, style, engine in (("faststream", "choreography", "faststream"),
                                      ("temporal", "orchestration", "temporalio")):
            out = Path(tmp) / target
            generation = build(diagram, generated.text, style=style, target=target)
            output.write(output.plan(list(generation.files), out, generation.meta()))
            _check([sys.executable, "-m", "compileall", "-q", "."], out, f"{target}: compileall")
            _check([sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", "."], out,
                   f"{target}: ruff")
            if importlib.util.find_spec(engine) is not None:
                _check([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"],
                       out, f"{target}: the skeleton's own tests")
