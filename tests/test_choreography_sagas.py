"""Choreography sagas (docs/semantics.md, "Sagas"): the service that sends a saga's steps
records each step it sent in the run, and a `critical`'s option sends a compensation
paired with a step (`checker.undone_steps`) only if that step was sent, in the order
drawn; the next compensation goes on in the same handler when one is left out. So the
generated choreography's contract carries the saga rule (no `"sagas": false`), and every
path of the python and FastStream skeletons passes it, the paths that fail a step after
earlier ones were sent included.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from projects import generated_projects, run_python, shared_project_tests

import mermaidgen
from mermaidgen.codegen.generate import build
from mermaidgen.codegen.write import output

PROJECT = Path(__file__).resolve().parents[1]

CASES = {
    # request and reply: a compensation left out has no reply, so the next one goes on in
    # the handler that left it out
    "trip": """sequenceDiagram
critical book the trip
  T->>+Car: Book car
  Car-->>-T: Car booked
  T->>+Hotel: Book hotel
  Hotel-->>-T: Hotel booked
option failed
  T->>+Hotel: Cancel hotel
  Hotel-->>-T: Hotel cancelled
  T->>+Car: Cancel car
  Car-->>-T: Car cancelled
end
""",
    # steps without replies, in one handler: a path fails the flight after the car and the
    # hotel were sent, and the option cancels the hotel, then the car, not the flight
    "async-steps": """sequenceDiagram
participant C as Client
participant T as Trips
participant Car
participant Hotel
participant Flight
C->>T: Plan trip
critical book the trip
  T->>Car: Book car
  T->>Hotel: Book hotel
  T->>Flight: Book flight
option failed
  T->>Flight: Cancel flight
  T->>Hotel: Cancel hotel
  T->>Car: Cancel car
  T-->>C: Trip failed
end
""",
    "order-saga": (PROJECT / "samples" / "order-saga.mmd").read_text(encoding="utf-8"),
}


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generated_projects(tmp_path_factory.mktemp("choreography-sagas"), CASES,
                              "choreography", "saga")


@pytest.mark.parametrize("name", list(CASES))
def test_the_contract_checks_the_saga_rule_and_every_path_passes_it(
        name: str, projects: dict[str, Path]) -> None:
    out = projects[f"{name}-python"]
    text = (out / "saga" / "_generated" / "diagram.py").read_text()
    assert "'sagas': False" not in text and '"sagas": False' not in text
    done = run_python(Path(sys.executable), ["-m", "pytest", "-q", "-p", "no:cacheprovider"],
                      out, timeout=240, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]


def test_a_path_fails_a_step_after_others_were_sent(projects: dict[str, Path]) -> None:
    """The compensation paths are in the table: `failed` fails the flight after the car
    and the hotel went out, and the run cancels the hotel, then the car, not the flight;
    a path per earlier step fails there (the hotel: the car alone is cancelled)."""
    out = projects["async-steps-python"]
    expected = {"failed": ["Book car", "Book hotel", "Cancel hotel", "Cancel car"],
                "failed+fails-at-book-hotel": ["Book car", "Cancel car"],
                "failed+fails-at-book-car": []}
    listing = run_python(Path(sys.executable), ["-m", "saga", "--list-paths"], out)
    assert sorted(line.split(":")[0] for line in listing.stdout.splitlines()) == \
        sorted(["main", *expected]), listing.stdout + listing.stderr
    for path, sent in expected.items():
        run = run_python(Path(sys.executable), ["-m", "saga", "--path", path], out)
        assert run.returncode == 0, run.stdout + run.stderr
        texts = [t for t in ("Book car", "Book hotel", "Book flight", "Cancel flight",
                             "Cancel hotel", "Cancel car") if f"  {t}  (line" in run.stdout]
        order = sorted(texts, key=lambda t: run.stdout.index(f"  {t}  (line"))
        assert order == sent, run.stdout


LOOP = """sequenceDiagram
participant T
participant Car
participant Hotel
loop up to 2 times
  critical book the trip
    T->>Car: Book car
    T->>Hotel: Book hotel
  option failed
    T->>Hotel: Cancel hotel
    T->>Car: Cancel car
  end
end
"""

SECOND_CAR_FAILS = """
from trip._generated import wiring


class T(wiring.TBase):
    cars = 0

    def payload_book_car(self, ctx):
        self.cars += 1
        if self.cars == 2:
            raise RuntimeError("no car the second time")
        return super().payload_book_car(ctx)

    def repeat_up_to_2_times(self, ctx, iteration):
        return True
"""

RUN = """
import asyncio
from trip._generated import app
from trip._generated.checker import check
from trip._generated.diagram import CONTRACT

trace = asyncio.run(app.run())
print(trace.as_table())
print(check(CONTRACT, trace.arrows())["ok"])
"""


def test_a_step_sent_in_an_earlier_iteration_is_not_undone(tmp_path: Path) -> None:
    """Around a loop, the record starts again with each critical: the first iteration
    books the car and the hotel, the second fails at the car, and undoes nothing (the
    hotel of the first iteration stays booked, as the saga rule says)."""
    diagram = mermaidgen.parse(LOOP, source="loop.mmd")
    generation = build(diagram, LOOP, style="choreography", target="python", package="trip")
    output.write(output.plan(list(generation.files), tmp_path, generation.meta()))
    (tmp_path / "trip" / "services" / "t.py").write_text(SECOND_CAR_FAILS, encoding="utf-8")
    (tmp_path / "run.py").write_text(RUN, encoding="utf-8")
    done = run_python(Path(sys.executable), ["run.py"], tmp_path, PYTHONPATH=str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Cancel" not in done.stdout and done.stdout.count("Book hotel") == 1, done.stdout
    assert done.stdout.split()[-1] == "True", done.stdout


@pytest.mark.engine
@pytest.mark.parametrize("name", list(CASES))
def test_the_faststream_skeleton_undoes_only_the_steps_sent_in_memory(
        name: str, projects: dict[str, Path], faststream_python: Path) -> None:
    outcomes, log = shared_project_tests(faststream_python, projects[f"{name}-faststream"])
    paths = [t for t in outcomes if t.startswith("test_every_path") and "in-memory" in t]
    assert paths and all(outcomes[t] == "passed" for t in paths), log
    assert not [t for t, kind in outcomes.items() if kind in ("failure", "error")], log


ON_NATS = """
import asyncio
import os

os.environ["MERMAIDGEN_STORE"] = "nats"
from saga._generated import diagram, flow, paths, store, transport
from saga._generated.checker import check


async def main():
    store.STORE = store.from_environment("saga", transport.url())  # as apps/ do
    with paths.follow("failed", flow.user_classes()):
        trace = await flow.run(real=True)
    verdict = check(diagram.CONTRACT, trace.arrows())
    run = trace.entries[0].correlation_id
    other = store.from_environment("saga", transport.url())  # another replica's view
    sent = [await other.load(f"T/{run}/sent/{step}")
            for step in ("BOOK_CAR", "BOOK_HOTEL", "BOOK_FLIGHT")]
    print(type(store.STORE).__name__, verdict["ok"], *sent, verdict["explanation"])

asyncio.run(main())
"""


@pytest.mark.engine
def test_the_steps_sent_are_kept_in_the_nats_store(projects: dict[str, Path],
                                                   faststream_python: Path) -> None:
    """On the NATS server, with the shared store (MERMAIDGEN_STORE=nats, NATS key-value,
    where joins are kept): the `failed` path sends the car and the hotel, fails the
    flight, and undoes the hotel and the car; the record of the steps sent is in the
    bucket, where another replica (or the service after a restart) reads it: sent ("1")
    for the car and the hotel, not ("0", written when the critical began) for the
    flight."""
    out = projects["async-steps-faststream"]
    (out / "on_nats.py").write_text(ON_NATS, encoding="utf-8")
    done = run_python(faststream_python, ["on_nats.py"], out, timeout=120,
                      PYTHONPATH=str(out), MERMAIDGEN_BROKER_URL="nats://127.0.0.1:4222",
                      MERMAIDGEN_CHANNEL_PREFIX="chorsaga.")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    said = [line.split() for line in done.stdout.splitlines() if line.endswith("Store")
            or "Store " in line]
    assert said and said[-1][:5] == ["NatsStore", "True", "1", "1", "0"], done.stdout[-3000:]
