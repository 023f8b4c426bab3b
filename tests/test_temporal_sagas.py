"""Temporal sagas with typed activities (issue 14), on one generated project.

A trip is booked step by step inside a `critical` block (car, hotel, flight, insurance);
its option cancels the bookings, drawn in reverse. Each booking registers its compensation
as the workflow takes it, and the option undoes what was registered, the last step first;
the contract checks it (a step not taken is not undone), for activities failing for good
and for the path runs that fail each step before it goes out. The same run checks that
each activity receives its request class (a date, a Decimal, an int as such, not a dict),
that the workflow receives the typed result (it reads the booking ids back as attributes),
and, with TEMPORAL_TRACING=1 and an in-memory OpenTelemetry exporter, that the workflow
and every activity leave spans, each activity's naming its diagram message and line.

And a project whose histories were recorded by the code generated before typed activities
and registered compensations still replays after regeneration.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from projects import run, run_python
from test_target_temporal import NOWHERE, PROJECT, generate
from test_temporal_operations import _edit

TRIP = """sequenceDiagram
    participant Saga as Trip Saga
    participant Cars
    participant Hotels
    participant Flights
    participant Insurance
    critical book the trip
        Saga->>+Cars: Book car(day: date)
        Cars-->>-Saga: Car booked(carId)
        Saga->>+Hotels: Book hotel(nights: int)
        Hotels-->>-Saga: Hotel booked(hotelId)
        Saga->>+Flights: Book flight(price: Decimal)
        Flights-->>-Saga: Flight booked(flightId)
        Saga->>+Insurance: Insure trip
        Insurance-->>-Saga: Trip insured
    option a booking failed
        Saga->>+Flights: Cancel flight(flightId)
        Flights-->>-Saga: Flight cancelled
        Saga->>+Hotels: Cancel hotel(hotelId)
        Hotels-->>-Saga: Hotel cancelled
        Saga->>+Cars: Cancel car(carId)
        Cars-->>-Saga: Car cancelled
    end
"""

SEEN = '''
    def _seen(self, ctx, what):
        import json
        import pathlib
        request = ctx.message.payload
        with pathlib.Path("seen.jsonl").open("a") as out:
            out.write(json.dumps([what, ctx.message.message, type(request).__name__,
                                  {k: type(v).__name__ for k, v in vars(request).items()}])
                      + "\\n")

    def _fails(self, step):
        import os

        from temporalio.exceptions import ApplicationError
        if os.environ.get("FAIL_AT") == step:
            raise ApplicationError(f"{step} failed", non_retryable=True)
'''


def _service(name: str, booked: str) -> str:
    """A service that books and cancels, noting what each activity received."""
    return SEEN + f'''
    def reply_book_{name}(self, ctx):
        self._seen(ctx, "book {name}")
        self._fails("{name}")
        return wiring.Result(0, {{"{booked}": "{name}-1"}})  # a dict of the reply's fields

    def reply_cancel_{name}(self, ctx):
        self._seen(ctx, "cancel {name}")
        return wiring.Result(0, wiring.messages.{name.title()}Cancelled())
'''


WORKFLOW = '''
    def request_cars_book_car(self, ctx):
        from datetime import date
        return wiring.messages.BookCar(day=date(2026, 7, 1))

    def request_hotels_book_hotel(self, ctx):
        return wiring.messages.BookHotel(nights=3)

    def request_flights_book_flight(self, ctx):
        from decimal import Decimal
        return wiring.messages.BookFlight(price=Decimal("99.95"))

    # the workflow reads what the bookings returned as attributes of their reply classes
    def request_flights_cancel_flight(self, ctx):
        booked = ctx.data["Flights.book_flight"]
        return wiring.messages.CancelFlight(flightId=booked.payload.flightId)

    # registered before its call, a booking that failed is cancelled too: with no result
    def request_hotels_cancel_hotel(self, ctx):
        booked = ctx.data.get("Hotels.book_hotel")
        return wiring.messages.CancelHotel(hotelId=booked.payload.hotelId if booked else "")

    def request_cars_cancel_car(self, ctx):
        return wiring.messages.CancelCar(carId=ctx.data["Cars.book_car"].payload.carId)
'''

TRACED = '''
import json
import os

os.environ["TEMPORAL_TRACING"] = "1"
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

from trip._generated import app
from trip._generated.checker import check
from trip._generated.diagram import CONTRACT

server = app.find_binary("temporal-test-server", app.TEST_SERVER_ENV)
runs = {}
for step in ("insurance", "hotel"):  # what fails for good: the last step, or the second
    os.environ["FAIL_AT"] = step
    exporter.clear()
    done = app.run_sync(app.run_time_skipping(server))
    runs[step] = {
        "trace": [text for _sender, _receiver, text in done.arrows()],
        "compensated": done.compensated, "conforms": check(CONTRACT, done.arrows())["ok"],
        "spans": [[s.name, dict(s.attributes or {})] for s in exporter.get_finished_spans()]}
# the path runs that fail a step before it goes out (its request hook raises): the steps
# before it are undone, the last one first, and not the failing one
from trip._generated import paths

os.environ.pop("FAIL_AT")
for path in paths.PATHS:
    if "+fails-at-" in path:
        with paths.follow(path, app.user_classes()), app.unsandboxed():
            done = app.run_sync(app.run_time_skipping(server))
        runs[path] = {"trace": [text for _sender, _receiver, text in done.arrows()],
                      "compensated": done.compensated,
                      "conforms": check(CONTRACT, done.arrows())["ok"]}
# an activity input the code before typed activities scheduled (a Call envelope), still
# in flight at a deploy: the converter unwraps its request
from trip._generated import messages
from trip._generated.converter import DATA_CONVERTER

converter = DATA_CONVERTER.payload_converter
envelope = {"message": 0, "sender": "Saga", "receiver": "Cars", "operation": "book_car",
            "kind": "call", "payload": {"day": "2026-07-01"}, "results": []}
runs["in flight"] = repr(converter.from_payloads(converter.to_payloads([envelope]),
                                                 [messages.BookCar])[0])
print(json.dumps(runs))
'''

MESSAGES = {"Book car(day: date)": 8, "Book hotel(nights: int)": 10,
            "Book flight(price: Decimal)": 12, "Insure trip": 14,
            "Cancel flight(flightId)": 17, "Cancel hotel(hotelId)": 19,
            "Cancel car(carId)": 21}
"""Each call of TRIP, with its line."""


@pytest.mark.engine
def test_a_saga_undoes_the_steps_it_took_last_first_typed_and_traced(
        tmp_path: Path, temporal_python: Path) -> None:
    generate(tmp_path / "trip.mmd", tmp_path, text=TRIP, package="trip")
    services = tmp_path / "trip" / "services"
    for name, booked in (("car", "carId"), ("hotel", "hotelId"), ("flight", "flightId")):
        _edit(services / f"{name}s.py", "    pass\n", _service(name, booked))
    _edit(services / "insurance.py", "    pass\n", SEEN + '''
    def reply_insure_trip(self, ctx):
        self._fails("insurance")
        return wiring.Result(0, wiring.messages.TripInsured())
''')
    _edit(tmp_path / "trip" / "workflow.py", "    pass\n", WORKFLOW)
    wiring = (tmp_path / "trip" / "_generated" / "wiring.py").read_text(encoding="utf-8")
    assert "except FAILURES as error:" in wiring and "except Exception" not in wiring
    (tmp_path / "traced.py").write_text(TRACED, encoding="utf-8")
    done = run([temporal_python, "traced.py"], tmp_path, TEMPORAL_CLI_PATH=NOWHERE)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = json.loads(done.stdout.splitlines()[-1])

    # the insurance fails for good: the three bookings are undone, the last one first, as
    # the diagram draws it, and the contract accepts the run
    last = runs["insurance"]
    assert last["trace"][-6:] == ["Cancel flight(flightId)", "Flight cancelled",
                                  "Cancel hotel(hotelId)", "Hotel cancelled",
                                  "Cancel car(carId)", "Car cancelled"], last["trace"]
    assert last["compensated"] and last["conforms"], last
    # the hotel, step 2, fails for good: the flight was never booked, so it is not
    # cancelled; the hotel's compensation was registered before its call, so it runs (the
    # call may have done its work), then the car's; the contract checks just that (a
    # saga's option undoes the steps taken, the last one first: docs/semantics.md)
    second = runs["hotel"]
    assert second["trace"] == ["Book car(day: date)", "Car booked(carId)",
                               "Book hotel(nights: int)",
                               "Cancel hotel(hotelId)", "Hotel cancelled",
                               "Cancel car(carId)", "Car cancelled"], second["trace"]
    assert second["compensated"] and second["conforms"], second

    # a path per step a saga undoes: failing at step 2 (before its request went out)
    # undoes step 1 only; failing at step 1 undoes nothing; both end compensated
    assert runs["a-booking-failed+fails-at-book-hotel"] == {
        "trace": ["Book car(day: date)", "Car booked(carId)",
                  "Cancel car(carId)", "Car cancelled"],
        "compensated": True, "conforms": True}
    assert runs["a-booking-failed+fails-at-book-car"] == {
        "trace": [], "compensated": True, "conforms": True}
    # (the path a-booking-failed fails the flight, the last step that registers: no path
    # of its own)
    assert sorted(path for path in runs if "+fails-at-" in path) == [
        "a-booking-failed+fails-at-book-car", "a-booking-failed+fails-at-book-hotel"]

    # every activity got its request class, its fields typed, and its diagram message
    # from the header (its index in diagram.MESSAGES, the lines' order)
    seen = [json.loads(line) for line in (tmp_path / "seen.jsonl").read_text().splitlines()]
    received = {what: (message, kind, fields) for what, message, kind, fields in seen}
    assert received["book car"] == (0, "BookCar", {"day": "date"})
    assert received["book hotel"] == (2, "BookHotel", {"nights": "int"})
    assert received["book flight"] == (4, "BookFlight", {"price": "Decimal"})
    assert received["cancel flight"] == (8, "CancelFlight", {"flightId": "str"})
    # the ids came back from the bookings' typed results (see WORKFLOW)
    assert [what for what, *_ in seen][:8] == [
        "book car", "book hotel", "book flight", "cancel flight", "cancel hotel",
        "cancel car", "book car", "book hotel"]

    assert runs["in flight"] == "BookCar(day=datetime.date(2026, 7, 1))"

    # spans: the workflow's, and one per activity run naming its diagram message and line
    spans = last["spans"]
    names = [name for name, _ in spans]
    assert "RunWorkflow:SagaWorkflow" in names and "StartWorkflow:SagaWorkflow" in names
    runs_of = {attributes["mermaidgen.message"]: attributes for name, attributes in spans
               if name.startswith("RunActivity:")}
    assert {text: a["mermaidgen.line"] for text, a in runs_of.items()} == MESSAGES
    assert runs_of["Cancel car(carId)"]["mermaidgen.reply"] == "Car cancelled"
    assert "mermaidgen.reply" not in runs_of["Insure trip"]  # it failed: no reply
    assert runs_of["Cancel car(carId)"]["temporalWorkflowID"].startswith("trip-")


FIXTURES = PROJECT / "tests" / "fixtures" / "temporal"
SAGA = PROJECT / "samples" / "order-saga.mmd"
SAGA_PACKAGE = "order_saga_with_compensation"


@pytest.mark.engine
def test_histories_recorded_before_typed_activities_replay_after_regeneration(
        tmp_path: Path, temporal_python: Path, cli) -> None:
    """order-saga, generated by the code before typed activities and registered
    compensations (commit 6d5fa0a), its shipment failing for good: the history of that
    compensated run (Call inputs, results as dicts) and the project's versions.py.
    Regenerated with both in place, the workflow's new body (it registers compensations)
    runs behind workflow.patched, the recorded one stays, and the history replays: its
    results decode into the typed result classes. Generating again changes nothing."""
    out = tmp_path / "out"
    (out / SAGA_PACKAGE / "_generated").mkdir(parents=True)
    shutil.copy(FIXTURES / "order-saga-versions-before-typed-activities.txt",
                out / SAGA_PACKAGE / "_generated" / "versions.py")
    (out / "tests" / "histories").mkdir(parents=True)
    shutil.copy(FIXTURES / "order-saga-compensated-before-typed-activities.json",
                out / "tests" / "histories" / "compensated.json")
    args = ["generate", SAGA, "-o", out, "--target", "temporal", "--force"]
    assert cli(*args).code == 0
    wiring = (out / SAGA_PACKAGE / "_generated" / "wiring.py").read_text(encoding="utf-8")
    assert "if workflow.patched('SagaWorkflow-" in wiring and "_run_version_1" in wiring
    assert "self.compensations()" in wiring
    replay = run_python(temporal_python, ["-m", "pytest", "-q", "-p", "no:randomly",
                                          "tests/test_replay.py"], out)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "1 passed" in replay.stdout, replay.stdout
    again = cli(*args)
    assert again.code == 0 and "0 updated" in again.err + again.out, again


def test_a_compensation_undoes_the_step_about_the_same_thing_or_runs_as_drawn(
        tmp_path: Path) -> None:
    """'Cancel flight' undoes 'Book flight' (same service, a shared word); a bare
    'ROLLBACK' undoes no one step (it closes a transaction whatever ran in it), so
    critical-section's rollbacks run as drawn and its path runs fail the first step."""
    generate(tmp_path / "trip.mmd", tmp_path / "trip", text=TRIP, package="trip")
    wiring = (tmp_path / "trip" / "trip" / "_generated" / "wiring.py").read_text()
    assert [line.split("# ")[-1] for line in wiring.splitlines()
            if "step_1 ==" in line] == ["undoes line 12", "undoes line 10", "undoes line 8"]
    paths = (tmp_path / "trip" / "trip" / "_generated" / "paths.py").read_text()
    assert "'request_flights_book_flight', 'fail'" in paths  # the last registering step
    generate(PROJECT / "samples" / "critical-section.mmd", tmp_path / "sql")
    wiring = next((tmp_path / "sql").glob("*/_generated/wiring.py")).read_text()
    assert "add_compensation" not in wiring and "self.compensations()" not in wiring
    assert wiring.count("Ledger->>DB: ROLLBACK") == 2
