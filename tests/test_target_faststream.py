"""The FastStream target: for every sample and seed, on NATS, the skeleton compiles,
passes ruff, and its own tests pass, all services together in FastStream's in-memory test
broker; with a NATS server on 127.0.0.1 (`.ci/servers/brokers.sh start`), the same tests
also run through the real server, and each run's trace must conform to the diagram there
too. On Redis the same, in the test broker and through its server, for the few sources
that between them have every feature (`_sources_for`); on Kafka and RabbitMQ for those
sources, in the test broker.

The generated projects run in one virtual environment per test session, with faststream
and pytest from PyPI (skipped, saying so, when no package index can be reached), one after
another in one long-lived process that imported FastStream once (tests/project_runner.py);
the fresh install's test runs its project in a process of its own. Tests marked `engine`
fail instead of skipping in CI mode (tests/conftest.py).
"""

from __future__ import annotations

import json
import shutil
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from projects import (
    V1,
    known_path_failure,
    lint,
    lint_many,
    project_tests,
    quick_venv,
    run,
    run_python,
    shared_project_tests,
)
from shapes import (
    CRITICAL_STARTS,
    CRITICAL_STARTS_OPTIONS,
    assert_each_path_takes_the_options_it_names,
)

import mermaidgen
from mermaidgen.codegen.generate import Generation, build
from mermaidgen.codegen.write import output
from mermaidgen.codegen.write.user_code import stale_hooks
from mermaidgen.errors import UsageError
from mermaidgen.model import Block, Message, Note, walk

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((PROJECT / "samples").glob("*.mmd"))
SEEDS = PROJECT.parent / "shared" / "corpus" / "seed"
# the brokers whose servers CI starts (engines.md: from Debian's packages), and where
SERVERS = {"nats": ("127.0.0.1", 4222), "redis": ("127.0.0.1", 6379)}
URLS = {"nats": "nats://127.0.0.1:4222", "redis": "redis://127.0.0.1:6379"}
BROKERS = ("nats", "redis", "kafka", "rabbit")
# copied verbatim from mermaidgen/contract into every target's package; the python
# target's tests lint them
REAL_TEST = "test_the_run_conforms_to_the_diagram[real-broker]"
MEMORY_TEST = "test_the_run_conforms_to_the_diagram[in-memory]"
STALE_TEST = "test_user_code_only_customises_what_the_diagram_still_has"


def _sources() -> list[Path]:
    return SAMPLES + (sorted(SEEDS.glob("*.mmd")) if SEEDS.is_dir() else [])


def _features(path: Path) -> set[str]:
    """What a source asks of the generated code: its block kinds, arrows, self-messages,
    activations, notes, names that are no identifiers, typed payloads, broker
    participants (events relayed through them) and topics the diagram writes (used as
    written, where the broker can hold them)."""
    diagram = mermaidgen.parse(path.read_text(encoding="utf-8"), source=path.name)
    found = {"odd-names"} if any(not p.id.isidentifier() for p in diagram.participants) \
        else set()
    for s in walk(diagram.statements):
        if isinstance(s, Block):
            found.add(f"block {s.kind}")
        elif isinstance(s, Message):
            found |= {f"arrow {s.arrow}", *(["self"] if s.sender == s.receiver else []),
                      *(["activation"] if s.activate or s.deactivate else [])}
        elif isinstance(s, Note):
            found.add("note")
    analysis = mermaidgen.analyse(diagram)
    events = analysis.choreography.events
    found |= {*(["typed payloads"] if any(e.fields for e in events) else []),
              *(["broker participant"] if analysis.brokers else []),
              *(["drawn topic"] if any(e.topic for e in events) else [])}
    return found


def _covering(paths: list[Path]) -> list[Path]:
    """Few sources that between them have every feature any of `paths` has: the one
    with most features not yet covered first (the shorter text on a tie)."""
    features = {path: _features(path) for path in paths}
    left, chosen = set().union(*features.values()), []
    while left:
        best = max(paths, key=lambda p: (len(features[p] & left), -len(p.read_bytes()),
                                         p.stem))
        chosen.append(best)
        left -= features[best]
    return sorted(chosen)


FULL_MATRIX = ("nats",)
"""The broker that runs every source (in memory and on its server): the flow's logic, the
same on every broker, runs for every source there. The others run the sources that cover
every feature (`_covering`): what differs between brokers is the transport, the same code
for every source, and which of its paths a source's features take (docs/development.md).
Redis runs them in memory and on its server, Kafka and RabbitMQ in memory."""


def _sources_for(broker: str) -> list[Path]:
    return _sources() if broker in FULL_MATRIX else _covering(_sources())


def cases(brokers: tuple[str, ...], real: bool = False) -> list:
    """The (source, broker) pairs of the matrix for `brokers`: all that run in memory,
    or (`real`) all that run on a server too."""
    return [pytest.param(path, broker, id=f"{broker}-{path.stem}") for broker in brokers
            if not real or broker in SERVERS for path in _sources_for(broker)]


PARALLEL = 3
"""How many of a broker's projects run at once, each in a runner of its own."""


def generate(path: Path, out: Path, broker: str, text: str | None = None,
             package: str | None = None) -> Generation:
    text = path.read_text(encoding="utf-8") if text is None else text
    diagram = mermaidgen.parse(text, source=path.name)
    generation = build(diagram, text, style="choreography", target="faststream",
                       package=package, options={"broker": broker})
    output.write(output.plan(list(generation.files), out, generation.meta()))
    return generation


def server_up(broker: str) -> bool:
    if broker not in SERVERS:
        return False
    try:
        with socket.create_connection(SERVERS[broker], timeout=0.5):
            return True
    except OSError:
        return False


def _pytest(python: Path, out: Path, real: str | None = None, url: str | None = None,
            prefix: str | None = None, fresh: bool = False, only: tuple[str, ...] = ()
            ) -> tuple[dict[str, str], str]:
    """Run a generated project's tests (in the shared runner; `fresh`: in a process of its
    own; `only`: just those tests, projects.shared_project_tests): each test's outcome, and
    the output."""
    env = {} if prefix is None else {"MERMAIDGEN_CHANNEL_PREFIX": prefix}
    if real is not None:
        env["MERMAIDGEN_REAL_BROKER"] = real
    if url is not None:
        env["MERMAIDGEN_BROKER_URL"] = url
    return (project_tests if fresh else shared_project_tests)(python, out, *only, **env)


# every source generated once per broker (and linted together: one ruff for all), each
# project run once, shared by the tests below
_PROJECTS: dict[str, dict[str, tuple[Path, str]]] = {}
_RESULTS: dict[tuple[str, str], tuple[dict[str, str], str]] = {}
_PACKAGES: dict[Path, str] = {}


def _results(path: Path, broker: str, tmp_path_factory, python: Path
             ) -> tuple[str, dict[str, str], str]:
    """What is wrong with the project's code ("" when nothing), its tests' outcomes and
    their output."""
    if broker not in _PROJECTS:
        outs, failed = {}, {}
        for source in _sources_for(broker):
            outs[str(source)] = out = tmp_path_factory.mktemp(f"fs-{broker}-{source.stem}")
            try:
                _PACKAGES[out] = generate(source, out, broker).package
            except Exception as error:  # reported by the test of this source
                failed[out] = f"generation failed: {error!r}"
        problems = lint_many([out for out in outs.values() if out not in failed]) | failed
        _PROJECTS[broker] = {key: (out, problems[out]) for key, out in outs.items()}
        # every project of the broker run now, PARALLEL at a time (each thread has a
        # runner of its own): a run mostly waits (the server's round trips, the runner's
        # pytest), so runs that overlap finish sooner for the same CPU time
        real = "1" if server_up(broker) else None

        def one(key: str) -> tuple[dict[str, str], str]:
            out = _PROJECTS[broker][key][0]
            if out not in _PACKAGES:  # its generation failed: nothing to run
                return {}, ""
            # topics a diagram writes are used as drawn, and samples share some
            # (orders.v1): under a prefix, runs in parallel on one server do not meet each
            # other's events (nor the streams of builds that kept a flow in one stream,
            # `<package>.>`: no package name has a `-`)
            return _pytest(python, out, real, URLS.get(broker) if real else None,
                           prefix=f"mermaidgen-test.{_PACKAGES[out]}.")

        with ThreadPoolExecutor(PARALLEL) as pool:
            for key, result in zip(outs, pool.map(one, outs), strict=True):
                _RESULTS[(key, broker)] = result
    out, problems = _PROJECTS[broker][str(path)]
    return problems, *_RESULTS[(str(path), broker)]


def check_in_memory(path: Path, broker: str, tmp_path_factory, python: Path) -> None:
    """The project of `path` for `broker` compiles, lints, and its tests pass (in memory,
    and on the server when one runs: that outcome is check_on_server's)."""
    problems, outcomes, log = _results(path, broker, tmp_path_factory, python)
    assert not problems, problems
    assert outcomes.get(MEMORY_TEST) == "passed", log
    failed = [name for name, kind in outcomes.items() if kind in ("failure", "error")
              and not known_path_failure(name, path.stem, "choreography")]
    assert not failed, log


def check_on_server(path: Path, broker: str, tmp_path_factory,
                    request: pytest.FixtureRequest) -> None:
    if not server_up(broker):
        host, port = SERVERS[broker]
        pytest.skip(f"no {broker} server on {host}:{port}; start one with "
                    "`.ci/servers/brokers.sh start`")
    python = request.getfixturevalue("faststream_python")
    _, outcomes, log = _results(path, broker, tmp_path_factory, python)
    assert outcomes.get(REAL_TEST) == "passed", log


@pytest.mark.engine
@pytest.mark.parametrize(("path", "broker"), cases(BROKERS))
def test_skeleton_compiles_lints_and_conforms_in_memory(
        path: Path, broker: str, tmp_path_factory, faststream_python: Path) -> None:
    check_in_memory(path, broker, tmp_path_factory, faststream_python)


@pytest.mark.engine
@pytest.mark.parametrize(("path", "broker"), cases(BROKERS, real=True))
def test_skeleton_conforms_on_a_real_broker(path: Path, broker: str, tmp_path_factory,
                                           request: pytest.FixtureRequest) -> None:
    check_on_server(path, broker, tmp_path_factory, request)


@pytest.mark.engine
def test_events_named_startup_and_shutdown_keep_the_services_own(
        tmp_path: Path, faststream_python: Path) -> None:
    """The hook of an event `Startup` is `on_<event>`: it was `on_startup`, and replaced
    the one every service runs when its app starts (the run failed with a TypeError)."""
    text = ("sequenceDiagram\n    participant Boot\n    participant Worker\n"
            "    Boot-)Worker: Startup\n    Worker-)Boot: Shutdown\n")
    out = tmp_path / "out"
    generate(PROJECT / "startup.mmd", out, "nats", text=text)
    outcomes, log = _pytest(faststream_python, out, only=(MEMORY_TEST,))
    assert outcomes.get(MEMORY_TEST) == "passed", log


@pytest.mark.engine
def test_real_broker_tests_skip_with_a_reason_when_no_server_answers(
        tmp_path: Path, faststream_python: Path) -> None:
    out = tmp_path / "out"
    generate(PROJECT / "samples" / "broker-fanout.mmd", out, "nats")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outcomes, log = _pytest(faststream_python, out, "1", f"nats://127.0.0.1:{port}",
                            only=(MEMORY_TEST,))  # and REAL_TEST, its other parameter
    assert outcomes[REAL_TEST] == "skipped", log
    assert outcomes[MEMORY_TEST] == "passed", log
    assert f"no NATS server answers at 127.0.0.1:{port}" in log

    outcomes, log = _pytest(faststream_python, out, only=(MEMORY_TEST,))  # no variable
    assert outcomes[REAL_TEST] == "skipped", log
    assert "MERMAIDGEN_REAL_BROKER=1" in log


@pytest.mark.engine
def test_asyncapi_documents_are_generated_offline(tmp_path: Path,
                                                  faststream_python: Path) -> None:
    out = tmp_path / "out"
    generation = generate(PROJECT / "samples" / "broker-fanout.mmd", out, "nats")
    docs = tmp_path / "docs"
    done = run_python(faststream_python, ["-m", generation.package, "asyncapi", docs], out)
    assert done.returncode == 0, done.stderr
    inventory = json.loads((docs / "inventory.json").read_text(encoding="utf-8"))
    assert inventory["asyncapi"] == "3.0.0"
    assert inventory["info"]["title"] == "Inventory"
    addresses = {c["address"] for c in inventory["channels"].values()}
    # consumes OrderPlaced, publishes StockReserved: on the topics the diagram writes, as
    # written (an existing `orders.v1` can be bound)
    assert addresses == {"orders.v1", "inventory.v1"}
    actions = {o["action"] for o in inventory["operations"].values()}
    assert actions == {"send", "receive"}
    assert {"OrderPlaced", "StockReserved"} <= set(inventory["components"]["schemas"])

    # the settings move a channel, and put a prefix before the others
    done = run_python(faststream_python, ["-m", generation.package, "asyncapi", docs], out,
                      MERMAIDGEN_CHANNEL_ORDERS_V_1="legacy.orders",
                      MERMAIDGEN_CHANNEL_PREFIX="staging.")
    assert done.returncode == 0, done.stderr
    inventory = json.loads((docs / "inventory.json").read_text(encoding="utf-8"))
    addresses = {c["address"] for c in inventory["channels"].values()}
    assert addresses == {"legacy.orders", "staging.inventory.v1"}

    # FastStream's own command, as the README shows it
    done = run_python(faststream_python, ["-m", "faststream", "docs", "gen",
                      f"{generation.package}.apps.orders:app", "--out", tmp_path / "orders.json"],
                      out)
    assert done.returncode == 0, done.stdout + done.stderr
    orders = json.loads((tmp_path / "orders.json").read_text(encoding="utf-8"))
    assert orders["info"]["title"] == "Orders"


TYPED_SAMPLES = [path for path in SAMPLES if any(
    e.fields for e in mermaidgen.analyse(mermaidgen.parse(path.read_text(encoding="utf-8")))
    .choreography.events)]


@pytest.mark.engine
@pytest.mark.parametrize("path", TYPED_SAMPLES, ids=[p.stem for p in TYPED_SAMPLES])
def test_asyncapi_documents_list_each_message_s_fields(path: Path, tmp_path: Path,
                                                       faststream_python: Path) -> None:
    """The fields a sample writes reach FastStream's AsyncAPI documents as the properties
    of each message's schema, with their types (docs/typed-payloads.md)."""
    out = tmp_path / "out"
    generation = generate(path, out, "nats")
    docs = tmp_path / "docs"
    done = run_python(faststream_python, ["-m", generation.package, "asyncapi", docs], out)
    assert done.returncode == 0, done.stderr
    schemas: dict[str, dict] = {}
    for document in docs.glob("*.json"):
        schemas |= json.loads(document.read_text(encoding="utf-8"))["components"]["schemas"]
    typed = [(event, entry["class_name"]) for event, entry in zip(
        generation.analysis.choreography.events, generation.context["events"], strict=True)
        if event.fields]
    assert typed
    for event, name in typed:
        assert name in schemas, f"{name} is in no AsyncAPI document"
        properties = schemas[name]["properties"]
        assert set(properties) == {"event_type", *(f.attribute for f in event.fields)}
        assert set(schemas[name]["required"]) == {f.attribute for f in event.fields}
        for f in event.fields:
            if f.type == "UUID":
                assert properties[f.attribute]["format"] == "uuid"
            elif f.type == "int":
                assert properties[f.attribute]["type"] == "integer"
            elif f.type == "list[str]":
                assert properties[f.attribute]["type"] == "array"


@pytest.mark.engine
def test_project_installs_and_passes_on_a_fresh_machine(tmp_path: Path) -> None:
    """`pip install DIR[test]` (uv's, when there is one) then `pytest` in DIR, in a
    virtual environment that has nothing else, each in a process of its own: the
    generated pyproject lists everything the project needs."""
    out = tmp_path / "out"
    generation = generate(PROJECT / "samples" / "signup-events.mmd", out, "redis")
    pyproject = (out / "pyproject.toml").read_text(encoding="utf-8")
    assert '"faststream[redis]>=0.7,<0.8"' in pyproject
    assert '"pydantic>=2"' in pyproject
    python = quick_venv(tmp_path / "venv", f"{out}[test]")  # by uv when there is one
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outcomes, log = _pytest(python, out, fresh=True)
    assert outcomes[MEMORY_TEST] == "passed", log
    # run from elsewhere: installed, not just on the path (one process for both)
    main = run([python, "-m", generation.package], elsewhere)
    assert main.returncode == 0, main.stderr
    assert "sequenceDiagram" in main.stdout
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert f"faststream run {generation.package}.apps.accounts:app" in readme


USER_EDIT = '''

    # my own business logic, which regeneration must never touch
    def payload_event_2(self, ctx):
        assert ctx.correlation_id
        return wiring.events.Event2()
'''


@pytest.mark.engine
def test_user_code_survives_regeneration(tmp_path: Path, faststream_python: Path) -> None:
    out = tmp_path / "out"
    source = tmp_path / "flow.mmd"
    generate(source, out, "nats", text=V1, package="flow")
    user_file = out / "flow" / "services" / "service_b.py"
    user_file.write_text(user_file.read_text(encoding="utf-8").replace("    pass\n", "")
                         + USER_EDIT, encoding="utf-8")
    edited = user_file.read_bytes()

    v2 = V1 + "    ServiceC->>ServiceB: Event 4\n"
    generation = generate(source, out, "nats", text=v2, package="flow")
    assert stale_hooks(generation, out) == []
    assert user_file.read_bytes() == edited
    assert "'Event 4'" in (out / "flow" / "_generated" / "diagram.py").read_text()
    outcomes, log = _pytest(faststream_python, out, only=(MEMORY_TEST,))
    assert outcomes[MEMORY_TEST] == "passed", log
    main = run_python(faststream_python, ["-m", "flow"], out)
    assert "ServiceC->>ServiceB: Event 4" in main.stdout, main.stderr

    v3 = V1.replace("    ServiceB->>ServiceC: Event 2\n", "")
    generation = generate(source, out, "nats", text=v3, package="flow")
    assert user_file.read_bytes() == edited
    assert any("payload_event_2" in line and "no longer has" in line
               for line in stale_hooks(generation, out))
    outcomes, log = _pytest(faststream_python, out, only=(STALE_TEST,))
    assert outcomes[STALE_TEST] == "failure", log


@pytest.mark.engine
def test_a_handler_that_stops_publishing_is_caught(tmp_path: Path,
                                                   faststream_python: Path) -> None:
    """The broken project fails, in the runner the matrix shares, between two runs of
    an intact project with the same package: those pass, so neither sees the other's
    modules (tests/test_project_runner.py: the same in every way a runner is shared)."""
    out, intact = tmp_path / "out", tmp_path / "intact"
    for folder in (out, intact):
        generate(PROJECT / "samples" / "broker-fanout.mmd", folder, "nats", package="fanout")
    wiring = out / "fanout" / "_generated" / "wiring.py"
    text = wiring.read_text(encoding="utf-8")
    publish = ("        await self.publish(Message.INVOICE_ISSUED_BILLING_TO_KAFKA, "
               "self.payload_invoice_issued(ctx), ctx)")
    assert publish in text
    wiring.write_text(text.replace(publish, "        pass  # " + publish.strip()),
                      encoding="utf-8")
    before, _ = _pytest(faststream_python, intact, only=(MEMORY_TEST,))
    outcomes, log = _pytest(faststream_python, out, only=(MEMORY_TEST,))
    after, _ = _pytest(faststream_python, intact, only=(MEMORY_TEST,))
    assert outcomes[MEMORY_TEST] == "failure", log
    assert "InvoiceIssued (billing.v1)" in log and "line 19" in log, log
    assert before[MEMORY_TEST] == after[MEMORY_TEST] == "passed", (before, after)


@pytest.mark.engine
def test_hostile_names_make_working_code(tmp_path: Path, faststream_python: Path) -> None:
    from test_generate import HOSTILE

    source = tmp_path / "hostile.mmd"
    source.write_text(HOSTILE, encoding="utf-8")
    for broker in ("nats", "rabbit"):
        out = tmp_path / broker
        generate(source, out, broker)
        lint(out)
        outcomes, log = _pytest(faststream_python, out, only=(MEMORY_TEST,))
        assert outcomes[MEMORY_TEST] == "passed", log


@pytest.mark.parametrize("broker", BROKERS)
def test_output_is_byte_identical_for_the_same_input(broker: str, tmp_path: Path) -> None:
    path = PROJECT / "samples" / "return-refund.mmd"
    generate(path, tmp_path / "a", broker)
    generate(path, tmp_path / "b", broker)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*")
                   if p.is_file() and "lock" not in p.name)
    assert files
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_derived_channels_are_valid_names_for_every_broker(tmp_path: Path) -> None:
    generation = generate(PROJECT / "samples" / "awkward-names.mmd", tmp_path / "out", "kafka")
    for channel in generation.context["channels"]:
        address = channel["address_lit"].strip("'")
        if address == "orders.v1":  # the one channel the diagram writes
            continue
        assert address.startswith(generation.package + ".")
        assert all(c.isascii() and (c.isalnum() or c in "._-") for c in address), address
        assert ".." not in address and not address.endswith(".")


TOPICS = """sequenceDiagram
    participant Orders
    participant Kafka@{ "type": "queue" }
    participant Billing
    Orders->>Kafka: OrderPlaced (orders.v1)
    Kafka->>Billing: OrderPlaced
    Billing->>Kafka: Publish InvoiceIssued to billing/eu:v2
    Kafka->>Orders: InvoiceIssued
    Orders->>Kafka: OrderClosed
    Kafka->>Billing: OrderClosed
    Billing->>Orders: Refund issued
"""


@pytest.mark.parametrize("broker", BROKERS)
def test_drawn_channels_are_used_as_written_and_derived_ones_under_the_package(
        broker: str, tmp_path: Path) -> None:
    generation = generate(tmp_path / "topics.mmd", tmp_path / "out", broker, text=TOPICS,
                          package="shop")
    addresses = {" ".join(c["events"]): c["address_lit"].strip("'")
                 for c in generation.context["channels"]}
    assert addresses == {
        "OrderPlaced": "orders.v1",
        # only Kafka cannot hold `/` and `:` in a topic
        "InvoiceIssued": "billing-eu-v2" if broker == "kafka" else "billing/eu:v2",
        "OrderClosed": "shop.kafka",  # no topic drawn: the broker's name, under the package
        "RefundIssued": "shop.refund-issued",
    }
    channels = (tmp_path / "out" / "shop" / "_generated" / "channels.py").read_text()
    assert "ORDERS_V_1 = address(SETTINGS.channel_orders_v_1, 'orders.v1')" in channels


def test_unknown_broker_is_a_usage_error() -> None:
    diagram = mermaidgen.parse(V1, source="flow.mmd")
    with pytest.raises(UsageError, match="nats, redis, kafka, rabbit"):
        build(diagram, V1, target="faststream", options={"broker": "mqtt"})


@pytest.mark.parametrize("name", ["brokers.sh", "kafka.sh"])
def test_brokers_scripts_are_valid_bash(name: str) -> None:
    script = PROJECT / ".ci" / "servers" / name
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    done = run([bash, "-n", script], PROJECT)
    assert done.returncode == 0, done.stderr
    usage = run([bash, script], PROJECT)
    assert usage.returncode == 2 and "start" in usage.stderr and "|stop" in usage.stderr


# test_paths.py has these criticals on the python target, test_target_temporal.py on Temporal
EVERY_PATH = """
import asyncio, json, sys
from critical_starts._generated import flow, paths
from critical_starts._generated.checker import check
from critical_starts._generated.diagram import CONTRACT
real = len(sys.argv) > 1
runs = {}
for name in paths.PATHS:
    with paths.follow(name, flow.user_classes()):
        trace = asyncio.run(flow.run(real=real))
    runs[name] = [[text for _, _, text in trace.arrows()],
                  check(CONTRACT, trace.arrows())["explanation"]]
print("RUNS", json.dumps(runs))
"""


@pytest.mark.engine
def test_the_path_of_an_option_takes_it_whatever_the_main_section_starts_with(
        tmp_path: Path, faststream_python: Path) -> None:
    """Every path runs (on NATS when it answers, else in memory) and conforms, and sends
    the message of each option it names, which no other path sends: the path of an
    option whose main section starts with a par or a nested critical used to run the main
    section."""
    import json

    out = tmp_path / "out"
    generate(PROJECT / "critical-starts.mmd", out, "nats", text=CRITICAL_STARTS,
             package="critical_starts")
    lint(out)
    real = ["real"] if server_up("nats") else []
    ran = run_python(faststream_python, ["-c", EVERY_PATH, *real], out)
    assert ran.returncode == 0, ran.stderr
    runs = json.loads(ran.stdout.rpartition("RUNS ")[2])  # what the flow printed before
    assert_each_path_takes_the_options_it_names(runs, CRITICAL_STARTS_OPTIONS)
