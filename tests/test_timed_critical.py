"""`critical ... option <a duration>` is a real timer, and a critical runs one section,
never two (issue 11, defects 7 and 2c).

In choreography the deciding service sends the main section's first message in one
handler and hears back in another. The option whose label gives a duration ("no answer
within 2s") now runs when the main section has not gone on in time (a `seconds_` hook
says how long, its default from the label); once an option ran, by the timer or because
the main section failed, news of the main section that arrives later is dropped, so the
service never sends events of both sections. Before, the option ran only when `publish`
raised, and a late reply went on with the main section after the compensation.
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import pytest
from projects import lint, run_python

import mermaidgen
from mermaidgen.codegen.generate import build
from mermaidgen.codegen.write import output

PROJECT = Path(__file__).resolve().parents[1]
SAMPLE = PROJECT / "samples" / "courier-pickup-deadline.mmd"

PACK = "Shop -> Shop  Pack parcel"
BOOK = "Shop -> Courier  Book pickup(parcelId, address)"
BOOKED = "Courier -> Shop  Pickup booked(pickupTime: datetime)"
PICKUP_TIME = "Shop -> Mail  Send pickup time(pickupTime: datetime)"
DELAY = "Shop -> Mail  Send delay notice"


def _generate(tmp_path: Path, target: str = "python", style: str = "choreography") -> Path:
    text = SAMPLE.read_text(encoding="utf-8")
    generation = build(mermaidgen.parse(text, source=SAMPLE.name), text,
                       style=style, target=target, package="pickup")
    out = tmp_path / "out"
    output.write(output.plan(list(generation.files), out, generation.meta()))
    return out


def _override(out: Path, name: str, body: str) -> None:
    path, = (p for p in (out / "pickup").glob("**/*.py") if "_generated" not in p.parts
             if f"class {name}(" in p.read_text(encoding="utf-8"))
    path.write_text(path.read_text(encoding="utf-8") + f"\n\nclass Custom{name}({name}):\n"
                    + textwrap.indent(textwrap.dedent(body), "    ")
                    + f"\n\n{name} = Custom{name}  # noqa: F811\n", encoding="utf-8")


def _trace(out: Path, *args: str) -> list[str]:
    main = run_python(sys.executable, ["-m", "pickup", *args], out)
    assert main.returncode == 0, main.stderr
    table = main.stdout.split("sequenceDiagram")[0]
    return [re.sub(r"(?<=\S) {2,}", "  ", line.split(None, 1)[1].rsplit("  (line", 1)[0])
            for line in table.splitlines() if line.strip()]


def _conforms(out: Path) -> None:
    tests = run_python(sys.executable, ["-m", "pytest", "-q", "-p", "no:cacheprovider"], out)
    assert tests.returncode == 0, tests.stdout + tests.stderr


# The label's 2 s is the default (the `seconds_` tests above and below); the runs that must
# answer in time get a minute, so that a loaded machine cannot make them late.
IN_TIME = """
    def seconds_no_answer_within_2_s(self, ctx):
        return 60.0
    """


def test_an_answer_in_time_runs_the_main_section(tmp_path: Path) -> None:
    out = _generate(tmp_path)
    _override(out, "Shop", IN_TIME)
    assert _trace(out) == [PACK, BOOK, BOOKED, PICKUP_TIME]
    _conforms(out)


def test_no_answer_in_time_runs_the_timed_option(tmp_path: Path) -> None:
    out = _generate(tmp_path)
    _override(out, "Shop", """
        def seconds_no_answer_within_2_s(self, ctx):
            return 0.05
        """)
    _override(out, "Courier", """
        async def _on_book_pickup(self, message, event):
            pass  # the courier's API never answers
        """)
    assert _trace(out) == [PACK, BOOK, DELAY]
    _conforms(out)


def test_a_late_answer_does_not_run_the_main_section_too(tmp_path: Path) -> None:
    out = _generate(tmp_path)
    _override(out, "Shop", """
        def seconds_no_answer_within_2_s(self, ctx):
            return 0.05
        """)
    _override(out, "Courier", """
        async def on_book_pickup(self, ctx):
            import asyncio
            await asyncio.sleep(0.5)  # answers, but too late
        """)
    trace = _trace(out)
    assert trace == [PACK, BOOK, DELAY, BOOKED]  # the courier did answer, too late
    # and the contract agrees: the reply had not reached Shop when its timer fired, so
    # it does not order the option (docs/semantics.md)
    _conforms(out)


def test_the_default_timeout_comes_from_the_label(tmp_path: Path) -> None:
    out = _generate(tmp_path)
    wiring = (out / "pickup" / "_generated" / "wiring.py").read_text(encoding="utf-8")
    assert re.search(r"def seconds_no_answer_within_2_s\(self, ctx: Context\) -> float:\n"
                     r"\s+return 2\.0\n", wiring)


def test_the_faststream_project_lints(tmp_path: Path) -> None:
    lint(_generate(tmp_path, target="faststream"))


@pytest.mark.parametrize(("label", "seconds"), [
    ("timeout 5s", 5.0), ("no answer in 30 seconds", 30.0), ("after 2 min", 120.0),
    ("500 ms", 0.5), ("within 1.5 h", 5400.0), ("carrier unavailable", None),
    ("3 items", None)])
def test_durations_in_option_labels(label: str, seconds: float | None) -> None:
    from mermaidgen.projection.loops import option_seconds
    assert option_seconds(label) == seconds


# --- orchestration: the workflow's timer ---------------------------------------------------
# Shop orchestrates: it calls the courier and awaits the reply. The main section runs
# under a deadline (`seconds_` hook, default from the label); when it passes, the call is
# given up and the timed option runs, whatever the `recover_` hook (which handles failures)
# says. The courier still answers: the dispatcher traces its late reply, nobody acts on it.


def test_orchestration_an_answer_in_time_runs_the_main_section(tmp_path: Path) -> None:
    out = _generate(tmp_path, style="orchestration")
    _override(out, "ShopWorkflow", IN_TIME)
    assert _trace(out) == [PACK, BOOK, BOOKED, PICKUP_TIME]
    _conforms(out)


def test_orchestration_no_answer_in_time_runs_the_timed_option(tmp_path: Path) -> None:
    out = _generate(tmp_path, style="orchestration")
    _override(out, "ShopWorkflow", """
        def seconds_no_answer_within_2_s(self, ctx):
            return 0.05

        def recover_book_a_pickup(self, ctx, error):
            raise AssertionError(f"the timer, not a failure, picks the option: {error!r}")
        """)
    _override(out, "Courier", """
        async def book_pickup(self, call):
            import asyncio
            await asyncio.sleep(0.5)  # answers, but too late
            return await super().book_pickup(call)
        """)
    assert _trace(out) == [PACK, BOOK, DELAY, BOOKED]
    _conforms(out)


def test_orchestration_the_option_path_takes_the_option(tmp_path: Path) -> None:
    # the path driver fails the main section's first step; the deadline between the
    # `try` and that step must not hide it
    out = _generate(tmp_path, style="orchestration")
    assert _trace(out, "--path", "no-answer-within-2-s") == [PACK, DELAY]


def test_orchestration_the_default_timeout_comes_from_the_label(tmp_path: Path) -> None:
    out = _generate(tmp_path, style="orchestration")
    wiring = (out / "pickup" / "_generated" / "wiring.py").read_text(encoding="utf-8")
    assert re.search(r"def seconds_no_answer_within_2_s\(self, ctx: Context\) -> float:\n"
                     r"\s+return 2\.0\n", wiring)


@pytest.mark.engine
def test_temporal_a_deadline_of_hours_passes_in_the_time_skipping_server(
        tmp_path: Path, temporal_python: Path) -> None:
    """The same critical as a Temporal workflow, its deadline 2 hours: the courier's API is
    down and its call is retried hourly; the deadline (a durable timer) passes during a
    backoff and the workflow sends the delay notice. The time-skipping server skips the
    hours; the recover_ hook, which handles failures, is not asked."""
    import time

    from projects import shared_project_tests
    from test_target_temporal import NOWHERE, TIME_SKIPPING_TEST, _edit, generate

    out = tmp_path / "out"
    text = SAMPLE.read_text(encoding="utf-8").replace("within 2s", "within 2 hours")
    generate(SAMPLE, out, text=text, package="deadline")
    _edit(out / "deadline" / "services" / "courier.py", "    pass\n",
          "    def reply_book_pickup(self, ctx):\n"
          "        raise ConnectionError('courier API down')\n")
    _edit(out / "deadline" / "workflow.py", "    pass\n",
          "    def call_options(self, service, operation, message, compensation):\n"
          "        from datetime import timedelta\n\n"
          "        from temporalio.common import RetryPolicy\n\n"
          "        options = super().call_options(service, operation, message, compensation)\n"
          "        if operation == 'book_pickup':  # hourly, for 10 hours\n"
          "            options.retry = RetryPolicy(initial_interval=timedelta(hours=1),\n"
          "                                        backoff_coefficient=1.0,\n"
          "                                        maximum_attempts=10)\n"
          "        return options\n\n"
          "    def recover_book_a_pickup(self, ctx, error):\n"
          "        raise AssertionError(f'the deadline, not a failure: {error!r}')\n")
    wiring = (out / "deadline" / "_generated" / "wiring.py").read_text(encoding="utf-8")
    assert re.search(r"def seconds_no_answer_within_2_hours\(self, ctx: Context\) -> "
                     r"float:\n\s+return 7200\.0\n", wiring)
    started = time.monotonic()
    main = run_python(str(temporal_python), ["-m", "deadline"], out, TEMPORAL_CLI_PATH=NOWHERE)
    took = time.monotonic() - started
    assert main.returncode == 0, main.stderr
    trace = main.stdout.split("\n\n")[0]
    assert "Send delay notice" in trace, trace
    assert "Pickup booked" not in trace and "Send pickup time" not in trace, trace
    assert "courier API down" in main.stderr  # the attempts made before the deadline
    assert took < 60, took  # two hours skipped, not waited
    outcomes, log = shared_project_tests(temporal_python, out, TEMPORAL_CLI_PATH=NOWHERE)
    assert outcomes[TIME_SKIPPING_TEST] == "passed", log
