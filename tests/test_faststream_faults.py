"""Fault tests of the FastStream target on real servers (NATS JetStream, Redis Streams,
RabbitMQ when one answers): a generated project's flow is run with a handler that fails,
and with every event published twice, and what happened is measured in the project's
own process (tests/fault_driver.py) and printed.

* a handler failing twice then succeeding: the flow completes, the effect downstream
  happens once, the handler ran three times;
* a handler that always fails: after N attempts the event is in the service's dead-letter
  channel, and the failure is logged with the run's correlation id;
* every event published twice (a producer retrying after a lost acknowledgement): the
  flow conforms and every effect happens once;
* the initiator started before any service: no error, and the flow completes once the
  services start;
* a `par` join with one path's event published twice while another path is slow: the
  join's successor runs once, after the slow path;
* a service process killed with SIGKILL mid-event (it has published what follows, the
  event it handles is not acknowledged), then restarted: the flow completes and every
  effect happens once. Here the services run as a deployment runs them, one process per
  group of services, and the run is started with `python -m <package> start`.
* the same join deployed: the joining service in processes of its own (two replicas
  sharing the join through the broker's store), the branch event published twice
  before the other branch's: the join releases once, after the real one.

Marked `engine`: a server that does not answer skips them, which fails in CI mode.
"""

from __future__ import annotations

import json
import shutil
import signal
import ssl
import subprocess
import sys
import time
import uuid
from collections import Counter
from functools import partial
from pathlib import Path

import pytest
from background import Background, start
from projects import clean_env, run_python
from test_target_faststream import PROJECT, generate, server_up

DRIVER = Path(__file__).with_name("fault_driver.py")
SAMPLE = PROJECT / "samples" / "broker-fanout.mmd"
URLS = {"nats": "nats://127.0.0.1:4222", "redis": "redis://127.0.0.1:6379",
        "rabbit": "amqp://guest:guest@127.0.0.1:5672/"}
PORTS = {"nats": 4222, "redis": 6379, "rabbit": 5672}
REAL = ("nats", "redis", "rabbit")


def _up(broker: str) -> bool:
    if broker in ("nats", "redis"):
        return server_up(broker)
    import socket
    try:
        with socket.create_connection(("127.0.0.1", PORTS[broker]), timeout=0.5):
            return True
    except OSError:
        return False


def _project(tmp_path: Path, broker: str, prefixed: bool = True) -> tuple[Path, str]:
    if not _up(broker):
        pytest.skip(f"no {broker} server on 127.0.0.1:{PORTS[broker]}; start one with "
                    "`.ci/servers/brokers.sh start`")
    package = f"faults_{uuid.uuid4().hex[:8]}"  # its own streams, groups and queues
    out = tmp_path / "out"
    generate(SAMPLE, out, broker, package=package)
    if prefixed:
        # the sample's topics (orders.v1, ...) are used as drawn: under a prefix of its
        # own, a run does not meet the events of other runs on the shared server (.env:
        # every process started in `out` reads it)
        (out / ".env").write_text(f"MERMAIDGEN_CHANNEL_PREFIX={package}.\n",
                                  encoding="utf-8")
    shutil.copy(DRIVER, out / "fault_driver.py")
    return out, package


def _env(broker: str, **extra: str) -> dict[str, str]:
    # fast redelivery of a dead replica's events: JetStream's ack wait, Redis' claim idle
    # time (RabbitMQ requeues them as soon as the connection drops)
    return {"MERMAIDGEN_BROKER_URL": URLS[broker], "MERMAIDGEN_REDIS_CLAIM_AFTER_MS": "300",
            "MERMAIDGEN_NATS_ACK_WAIT": "1", **extra}


def _drive(python: Path, out: Path, package: str, broker: str, mode: str) -> dict:
    done = run_python(python, ["fault_driver.py", package, mode], out, timeout=120,
                      MERMAIDGEN_BROKER_URL=URLS[broker], MERMAIDGEN_REDIS_CLAIM_AFTER_MS="300",
                      PYTHONPATH=str(out))
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines, done.stdout + done.stderr
    result = json.loads(lines[-1])
    result["summary"] = f"{broker} {mode}: {json.dumps(result)}"
    result["log"] = done.stderr
    result["package"] = package
    return result


def _driven(folder: Path, python: Path, broker: str, mode: str) -> dict:
    """A fault scenario of fault_driver.py in a project of its own (in the background:
    tests/background.py); what happened, its summary and its log."""
    out, package = _project(folder, broker)
    return _drive(python, out, package, broker, mode)


PARALLEL = 4
"""How many of the module's scenarios run at once (each in a thread with its own runner,
its own package, so its own channels): they mostly wait, on the servers and on the
windows in which a second effect would show."""


@pytest.fixture(scope="module", autouse=True)
def background(request: pytest.FixtureRequest, tmp_path_factory):
    """Every broker's fault scenarios, started at the module's first test and awaited by
    the test that owns each (SCENARIOS, at the end of the module)."""
    with start(request, tmp_path_factory, sys.modules[__name__], SCENARIOS,
               "faststream_python", PARALLEL) as running:
        yield running


def _outcome(background: Background, request: pytest.FixtureRequest, tmp_path: Path,
             python: Path, broker: str):
    """This test's scenario's outcome; its summary goes to the test's output."""
    result = background.result(request, tmp_path, python, broker=broker)
    print(result["summary"])
    return result


@pytest.mark.engine
@pytest.mark.parametrize("broker", REAL)
def test_a_handler_failing_twice_is_retried_and_the_effect_happens_once(
        broker: str, tmp_path: Path, faststream_python: Path, background: Background,
        request: pytest.FixtureRequest) -> None:
    result = _outcome(background, request, tmp_path, faststream_python, broker)
    assert result["error"] is None, result["log"]
    assert result["conforms"], result
    assert result["calls"]["billing"] == 3  # two failures, one success
    assert result["calls"]["notify_invoice"] == 1  # the effect of the retried handler
    assert result["dead_letter"] is None


@pytest.mark.engine
@pytest.mark.parametrize("broker", REAL)
def test_a_handler_that_always_fails_ends_in_the_dead_letter_channel(
        broker: str, tmp_path: Path, faststream_python: Path, background: Background,
        request: pytest.FixtureRequest) -> None:
    result = _outcome(background, request, tmp_path, faststream_python, broker)
    assert result["error"] == "ConnectionError('billing is down')", result["log"]
    assert result["calls"]["billing"] == 3  # Redelivery(attempts=3)
    assert result["calls"]["notify_invoice"] == 0
    letter = result["dead_letter"]
    assert letter is not None, result["log"]
    assert letter["event"] == "OrderPlaced"
    if broker == "rabbit":  # rejected by the handler's queue into the dead-letter exchange
        assert letter["reason"] == "rejected"
        assert letter["queue"] == f"{result['package']}--billing--orders-v1"
    else:
        assert letter["attempts"] == 3
        assert letter["error"] == "ConnectionError('billing is down')"
    cid = letter["correlation_id"]
    assert f"dead-lettered after 3 attempts (correlation id {cid})" in result["log"]


@pytest.mark.engine
@pytest.mark.parametrize("broker", REAL)
def test_every_event_published_twice_has_its_effect_once(
        broker: str, tmp_path: Path, faststream_python: Path, background: Background,
        request: pytest.FixtureRequest) -> None:
    result = _outcome(background, request, tmp_path, faststream_python, broker)
    assert result["error"] is None, result["log"]
    assert result["published"] >= 2 * 3  # OrderPlaced, StockReserved, InvoiceIssued twice
    assert result["conforms"], result
    assert result["calls"] == {"billing": 1, "notify_invoice": 1, "inventory": 1,
                               "orders": 1}, result


@pytest.mark.engine
@pytest.mark.parametrize("broker", REAL)
def test_the_initiator_may_start_before_any_service(
        broker: str, tmp_path: Path, faststream_python: Path, background: Background,
        request: pytest.FixtureRequest) -> None:
    result = _outcome(background, request, tmp_path, faststream_python, broker)
    assert result["error"] is None, result["log"]
    assert result["calls"] == {"billing": 1, "notify_invoice": 1, "inventory": 1,
                               "orders": 1}, result


@pytest.mark.engine
def test_an_unreachable_broker_is_one_line_not_a_traceback(
        tmp_path: Path, faststream_python: Path) -> None:
    out = tmp_path / "out"
    generation = generate(SAMPLE, out, "nats", package="unreachable")
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for command in (["start"], ["run", "--real"]):
        done = run_python(faststream_python, ["-m", generation.package, *command], out,
                          MERMAIDGEN_BROKER_URL=f"nats://127.0.0.1:{port}")
        assert done.returncode != 0
        assert "Traceback" not in done.stderr, done.stderr
        assert f"no NATS server answers at 127.0.0.1:{port}" in done.stderr
        assert "nats-server -js" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


PROBE = '''
import asyncio
from {package}.apps import billing


async def call(path):
    sent = []

    async def receive():
        return {{"type": "http.request", "body": b"", "more_body": False}}

    async def send(message):
        sent.append(message)

    scope = {{"type": "http", "method": "GET", "path": path, "query_string": b"",
              "headers": []}}
    await billing.asgi(scope, receive, send)
    return sent[0]["status"]


async def main():
    before = await call("/ready")
    await billing.broker.connect()
    print(await call("/health"), before, await call("/ready"))
    await billing.broker.stop()

asyncio.run(main())
'''


@pytest.mark.engine
def test_health_and_readiness_are_asgi_endpoints(tmp_path: Path,
                                                 faststream_python: Path) -> None:
    out, package = _project(tmp_path, "nats")
    (out / "probe.py").write_text(PROBE.format(package=package), encoding="utf-8")
    done = run_python(faststream_python, ["probe.py"], out, timeout=60,
                      MERMAIDGEN_BROKER_URL=URLS["nats"], PYTHONPATH=str(out))
    assert done.returncode == 0, done.stderr
    # alive; not ready before the broker is connected; ready once it is
    assert done.stdout.split() == ["204", "500", "204"], done.stdout + done.stderr


STORES = '''
import asyncio
import os
import uuid

os.environ["MERMAIDGEN_STORE"] = "{kind}"
from {package}._generated import store


async def main():
    shared = store.from_environment("{package}", "{url}")
    key = "billing/" + uuid.uuid4().hex
    before = await shared.seen(key)
    await shared.remember(key)
    join = "notify/" + uuid.uuid4().hex + "/join_1"
    sizes = [await shared.join(join, m) for m in ("a", "a", "b")]
    data = "billing/" + uuid.uuid4().hex + "/data"
    empty = await shared.load(data)
    await shared.save(data, '{{"order":1}}')
    print(type(shared).__name__, before, await shared.seen(key), *sizes, empty,
          await shared.load(data))

asyncio.run(main())
'''


@pytest.mark.engine
@pytest.mark.parametrize(("broker", "name"), [("nats", "NatsStore"), ("redis", "RedisStore")])
def test_the_shared_store_remembers_and_counts_a_duplicate_arrival_once(
        broker: str, name: str, tmp_path: Path, faststream_python: Path) -> None:
    out, package = _project(tmp_path, broker)
    (out / "stores.py").write_text(
        STORES.format(kind=broker, package=package, url=URLS[broker]), encoding="utf-8")
    done = run_python(faststream_python, ["stores.py"], out, timeout=60, PYTHONPATH=str(out))
    assert done.returncode == 0, done.stderr
    # not seen, then seen; a join of a, a again (a duplicate), then b: 1, 1, 2; conversation
    # state: nothing saved, then what was saved
    assert done.stdout.split() == [name, "False", "True", "1", "1", "2", "None",
                                   '{"order":1}'], done.stdout


USER_STARTUP = '''

    async def on_startup(self):
        return {"pool": "opened"}

    async def on_shutdown(self):
        print("closed", self.deps["pool"])

    async def on_order_placed(self, ctx):
        print("deps", ctx.deps["pool"])
'''


@pytest.mark.engine
def test_startup_hook_dependencies_reach_every_hook(tmp_path: Path,
                                                    faststream_python: Path) -> None:
    out = tmp_path / "out"
    generation = generate(SAMPLE, out, "nats", package="deps")
    user = out / "deps" / "services" / "billing.py"
    user.write_text(user.read_text(encoding="utf-8").replace("    pass\n", "")
                    + USER_STARTUP, encoding="utf-8")
    done = run_python(faststream_python, ["-m", generation.package], out, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "deps opened" in done.stdout and "closed opened" in done.stdout, done.stdout


class Served:
    """A `fault_driver.py serve` process: some services, deployed as their apps; its
    output goes to a log file beside `effects`."""

    def __init__(self, python: Path, out: Path, package: str, broker: str, services: str,
                 effects: Path, driver: str = "fault_driver.py", **env: str) -> None:
        self.ready_file = effects.with_name(f"ready-{uuid.uuid4().hex[:6]}")
        self.log = self.ready_file.with_suffix(".log")
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [str(python), driver, package, "serve", services], cwd=out,
                stdout=log, stderr=subprocess.STDOUT,
                env=clean_env(PYTHONPATH=str(out), FAULT_EFFECTS=str(effects),
                              FAULT_READY=str(self.ready_file), **_env(broker, **env)))

    def ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the services did not start:\n" + self.stop())
            time.sleep(0.02)

    def stop(self) -> str:
        """Stop it (SIGTERM, then SIGKILL); what it wrote."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.log.read_text(encoding="utf-8")


def _effects(path: Path) -> Counter:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return Counter(text.split())


def _killed(folder: Path, faststream_python: Path, broker: str) -> dict:
    """Billing killed mid-event, then restarted (the test below): what the services did,
    the run's correlation id, their log and a summary."""
    out, package = _project(folder, broker)
    effects = folder / "effects"
    began = time.monotonic()
    others = Served(faststream_python, out, package, broker, "orders,inventory,notify",
                    effects)
    billing = Served(faststream_python, out, package, broker, "billing", effects,
                     FAULT_KILL="after-publish")
    restarted = None
    try:
        others.ready()
        billing.ready()
        started = run_python(faststream_python, ["-m", package, "start"], out, timeout=60,
                             PYTHONPATH=str(out), **_env(broker))
        assert started.returncode == 0, started.stderr
        cid = started.stdout.split()[-1]
        billing.process.wait(30)  # it kills itself once InvoiceIssued is published
        assert billing.process.returncode == -signal.SIGKILL, billing.stop()
        killed = time.monotonic()
        restarted = Served(faststream_python, out, package, broker, "billing", effects)
        restarted.ready()
        deadline = time.monotonic() + 15  # a dead replica's events come back in seconds
        while time.monotonic() < deadline and (
                _effects(effects)["orders"] < 1 or _effects(effects)["billing"] < 2):
            time.sleep(0.05)
        completed = time.monotonic()
        time.sleep(1.0)  # an effect that happens twice would show by now (nak, claim, ack wait)
        done = _effects(effects)
    finally:
        log = others.stop() + billing.stop() + (restarted.stop() if restarted else "")
    return {"done": done, "cid": cid, "log": log,
            "summary": f"{broker} kill -9: {dict(done)} flow "
                       f"{round(time.monotonic() - began, 2)} s, killed to complete "
                       f"{round(completed - killed, 2)} s"}


@pytest.mark.engine
@pytest.mark.parametrize("broker", REAL)
def test_a_service_killed_mid_event_and_restarted_completes_the_flow_once(
        broker: str, tmp_path: Path, faststream_python: Path, background: Background,
        request: pytest.FixtureRequest) -> None:
    result = _outcome(background, request, tmp_path, faststream_python, broker)
    done, cid, log = result["done"], result["cid"], result["log"]
    # Billing ran twice (killed, then redelivered to the new process); everything else,
    # InvoiceIssued's consumer included, once; all in the run `start` began
    assert done == Counter({"billing": 2, "inventory": 1, "orders": 1, "notify_invoice": 1,
                            cid: 5}), log


CONVERSATION = '''

    async def on_fulfil_order(self, ctx):
        ctx.data["order"] = "1042"

    async def on_items_picked(self, ctx):
        ctx.data["picked"] = ctx.data.get("order")

    async def on_tracking_number(self, ctx):
        print("kept", ctx.data.get("order"), ctx.data.get("picked"))
'''


@pytest.mark.engine
def test_ctx_data_lasts_the_conversation(tmp_path: Path, faststream_python: Path) -> None:
    """What a hook keeps in ctx.data is there in the later events of the same run (the
    shared stores' load and save: test_the_shared_store_...)."""
    out = tmp_path / "out"
    package = f"conversation_{uuid.uuid4().hex[:8]}"
    generate(PROJECT / "samples" / "parallel-fulfilment.mmd", out, "nats", package=package)
    user = out / package / "services" / "workflow.py"
    user.write_text(user.read_text(encoding="utf-8").replace("    pass\n", "")
                    + CONVERSATION, encoding="utf-8")
    done = run_python(faststream_python, ["-m", package], out, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "kept 1042 1042" in done.stdout, done.stdout


SETTINGS = '''
import ssl
from {package}._generated import channels, settings, store, transport

security = transport.security()
print(transport.url(), type(security).__name__, security.username, security.password,
      isinstance(security.ssl_context, ssl.SSLContext), settings.current().region,
      transport.ACK_WAIT, type(store.from_environment("x", transport.url())).__name__)
print(transport.tracer_provider("Billing") is not None)
# channels: one moved, the others after a prefix; their streams named after them
print(channels.ORDERS_V_1, transport.STREAMS[channels.ORDERS_V_1].name,
      channels.INVENTORY_V_1, transport.STREAMS[channels.INVENTORY_V_1].name,
      channels.DEAD_LETTER_PREFIX)
'''

USER_SETTINGS = '''

    broker_url: str = "nats://nats.internal:4222"
    region: str = "eu"
'''


def test_settings_come_from_the_environment_a_dot_env_file_and_the_users_class(
        tmp_path: Path, faststream_python: Path) -> None:
    """pydantic-settings: the user's class changes a default and adds a setting, `.env`
    and the environment set credentials and TLS, which reach FastStream's security."""
    out = tmp_path / "out"
    package = "configured"
    generate(SAMPLE, out, "nats", package=package)
    user = out / package / "settings.py"
    user.write_text(user.read_text(encoding="utf-8").replace("    pass\n", "")
                    + USER_SETTINGS, encoding="utf-8")
    (out / ".env").write_text("MERMAIDGEN_BROKER_USER=orders\nMERMAIDGEN_STORE=nats\n"
                              "MERMAIDGEN_OTEL_FILE=spans.jsonl\n", encoding="utf-8")
    (out / "check.py").write_text(SETTINGS.format(package=package), encoding="utf-8")
    ca = ssl.get_default_verify_paths().cafile or ssl.get_default_verify_paths().openssl_cafile
    done = run_python(faststream_python, ["check.py"], out, timeout=60, PYTHONPATH=str(out),
                      MERMAIDGEN_BROKER_PASSWORD="s3cret", MERMAIDGEN_TLS_CA_FILE=ca,
                      MERMAIDGEN_NATS_ACK_WAIT="7", MERMAIDGEN_REAL_BROKER="",
                      MERMAIDGEN_CHANNEL_ORDERS_V_1="legacy.orders",
                      MERMAIDGEN_CHANNEL_PREFIX="staging.")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "nats://nats.internal:4222", "SASLPlaintext", "orders", "s3cret", "True", "eu", "7.0",
        "NatsStore",
        "True",  # the spans file of `.env` (MERMAIDGEN_OTEL_FILE) is a setting like the others
        "legacy.orders", "legacy_orders", "staging.inventory.v1", "staging_inventory_v1",
        "staging.dead-letter.configured"], done.stdout


TYPED_START = '''
import asyncio
from decimal import Decimal
from uuid import uuid4

from {package}._generated import events, flow
from {package}.services import billing


async def on_order_placed(self, ctx):
    print("billing got", ctx.message.total)
billing.Billing.on_order_placed = on_order_placed


async def main():
    await flow.run(events.OrderPlaced(orderId=uuid4(), total=Decimal("42.5")))
    await flow.run()  # no input: the payload hook's event
    try:
        await flow.run(events.StockReserved(orderId=uuid4()))
    except TypeError as error:
        print("refused", error)

asyncio.run(main())
'''


@pytest.mark.engine
def test_a_run_starts_with_a_typed_input(tmp_path: Path, faststream_python: Path) -> None:
    """flow.run / flow.start take the first event, filled by the caller; an event the
    initiator does not start with is refused before anything is sent."""
    out = tmp_path / "out"
    generate(SAMPLE, out, "nats", package="typed")
    (out / "typed_start.py").write_text(TYPED_START.format(package="typed"), encoding="utf-8")
    done = run_python(faststream_python, ["typed_start.py"], out, timeout=60, PYTHONPATH=str(out))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == ["billing got 42.5", "billing got 0"], done.stdout
    assert lines[2].startswith("refused a run starts with one of ['OrderPlaced']"), done.stdout
    assert len(lines) == 3, done.stdout


# What a system that exists already sends: OrderPlaced on the topic `orders.v1`, with the
# broker's own client, no FastStream and none of mermaidgen's headers.
HANDWRITTEN = '''
import asyncio, json, sys, uuid

BROKER, URL, STEP = sys.argv[1], sys.argv[2], sys.argv[3]
EVENT = {"orderId": str(uuid.uuid4()), "total": "12.50"}


async def main():
    if BROKER == "nats":  # a JetStream publish, acknowledged by the stream that keeps it
        import nats
        from nats.js.api import StreamConfig
        from nats.js.errors import NotFoundError

        connection = await nats.connect(URL)
        js = connection.jetstream()
        if STEP == "prepare":  # the existing system's own stream keeps its topic
            try:
                print(await js.find_stream_name_by_subject("orders.v1"))
            except NotFoundError:
                await js.add_stream(StreamConfig(name="ORDERS", subjects=["orders.v1"],
                                                 max_msgs=1000))
                print("ORDERS")
        else:
            await js.publish("orders.v1", json.dumps(EVENT).encode())
        await connection.close()
    elif BROKER == "redis":  # XADD orders.v1 * orderId ... total ...
        from redis.asyncio import Redis

        client = Redis.from_url(URL)
        if STEP == "prepare":  # a new consumer group reads a stream from its start
            await client.delete("orders.v1")
        else:
            await client.xadd("orders.v1", EVENT)
        await client.aclose()
    elif STEP == "prepare":
        pass
    else:  # to the exchange orders.v1
        import aio_pika

        connection = await aio_pika.connect(URL)
        async with connection:
            exchange = await (await connection.channel()).get_exchange("orders.v1")
            await exchange.publish(aio_pika.Message(json.dumps(EVENT).encode(),
                                                    content_type="application/json"),
                                   routing_key="orders.v1")

asyncio.run(main())
'''

# this run's consumer of the shared topic goes, so that the server keeps no events for it
FORGET = '''
import asyncio, sys

BROKER, URL, CONSUMER, PACKAGE = sys.argv[1:5]


async def main():
    if BROKER == "nats":
        import nats

        connection = await nats.connect(URL)
        js = connection.jetstream()
        await js.delete_consumer(await js.find_stream_name_by_subject("orders.v1"), CONSUMER)
        await connection.close()
    elif BROKER == "redis":
        from redis.asyncio import Redis

        client = Redis.from_url(URL)
        await client.delete("orders.v1")
        await client.aclose()
    else:
        import aio_pika

        connection = await aio_pika.connect(URL)
        async with connection:
            channel = await connection.channel()
            for queue in (CONSUMER, f"dead-letter.{PACKAGE}.billing",
                          f"dead-letter.{PACKAGE}.billing.errors"):
                await channel.queue_delete(queue)

asyncio.run(main())
'''


def _hand_written(folder: Path, faststream_python: Path, broker: str) -> dict:
    """A hand-written OrderPlaced on the drawn topic, Billing deployed (the test below):
    what Billing did, its log and a summary. The topic has no prefix: two of these on one
    server would meet (the module runs one per broker)."""
    out, package = _project(folder, broker, prefixed=False)
    (out / "handwritten.py").write_text(HANDWRITTEN, encoding="utf-8")
    (out / "forget.py").write_text(FORGET, encoding="utf-8")
    prepared = run_python(faststream_python, ["handwritten.py", broker, URLS[broker], "prepare"],
                          out, timeout=60)
    assert prepared.returncode == 0, prepared.stderr
    effects = folder / "effects"
    billing = Served(faststream_python, out, package, broker, "billing", effects)
    took = float("nan")
    try:
        billing.ready()
        began = time.monotonic()
        sent = run_python(faststream_python, ["handwritten.py", broker, URLS[broker], "send"], out,
                          timeout=60)
        assert sent.returncode == 0, sent.stderr
        deadline = time.monotonic() + 30  # 0.4-4 s measured; 10 s at a load of 12
        while time.monotonic() < deadline and not _effects(effects)["billing"]:
            time.sleep(0.02)
        took = time.monotonic() - began
    finally:
        log = billing.stop()
        run_python(faststream_python, ["forget.py", broker, URLS[broker],
                   f"{package}--billing--orders-v1", package], out, timeout=60)
    kept = f" (stream {prepared.stdout.strip()})" if broker == "nats" else ""
    return {"done": _effects(effects), "log": log,
            "summary": f"{broker}: a hand-written OrderPlaced on orders.v1{kept} handled by "
                       f"Billing in {took:.2f} s"}


@pytest.mark.engine
@pytest.mark.parametrize("broker", REAL)
def test_a_hand_written_publisher_on_the_drawn_topic_reaches_the_generated_consumer(
        broker: str, tmp_path: Path, faststream_python: Path, background: Background,
        request: pytest.FixtureRequest) -> None:
    """`OrderPlaced (orders.v1)`: Billing consumes `orders.v1` itself (no prefix), so an
    existing producer on that topic feeds the generated flow. On NATS the producer's own
    stream keeps the subject (a fresh server: `ORDERS`), and Billing consumes from it."""
    result = _outcome(background, request, tmp_path, faststream_python, broker)
    assert result["done"]["billing"] == 1, result["log"]


JOIN_DRIVER = '''
import asyncio, importlib, json, sys, time

PACKAGE = sys.argv[1]
flow = importlib.import_module(f"{PACKAGE}._generated.flow")
transport = importlib.import_module(f"{PACKAGE}._generated.transport")
checker = importlib.import_module(f"{PACKAGE}._generated.checker")
diagram = importlib.import_module(f"{PACKAGE}._generated.diagram")
seen = []  # (hook, monotonic time)


def user(module):
    found = importlib.import_module(f"{PACKAGE}.services.{module}")
    return next(v for k, v in vars(found).items() if isinstance(v, type) and k.lower() == module)


def recording(name, pause=0.0):
    async def hook(self, ctx):
        await asyncio.sleep(pause)
        seen.append((name, time.monotonic()))
    return hook


# the packing path is slow; InvoiceIssued, another path into the join, goes out twice
user("warehouse").on_pack_parcel = recording("pack_parcel", pause=1.0)
user("workflow").on_parcel_packed = recording("parcel_packed")
user("workflow").on_invoice_issued = recording("invoice_issued")
user("carrier").on_book_pickup = recording("book_pickup")
send = transport.publish
twice = 0


async def publish(publisher, event, **kwargs):
    global twice
    await send(publisher, event, **kwargs)
    if type(event).__name__ == "InvoiceIssued":
        await send(publisher, event, **kwargs)
        twice += 1
transport.publish = publish


async def main():
    trace = await flow.run(real=True, limit=30)
    await asyncio.sleep(0.5)  # a late duplicate would show by now
    when = {}
    for name, at in seen:
        when.setdefault(name, []).append(at)
    print(json.dumps({"conforms": checker.check(diagram.CONTRACT, trace.arrows())["ok"],
                      "twice": twice, "counts": {k: len(v) for k, v in when.items()},
                      "pickup_after_packed": round(min(when["book_pickup"]) -
                                                   min(when["parcel_packed"]), 3)}))

asyncio.run(main())
'''


def _join(folder: Path, faststream_python: Path, broker: str) -> dict:
    """JOIN_DRIVER's run (the test below): what it printed, and a summary."""
    if not _up(broker):
        pytest.skip(f"no {broker} server on 127.0.0.1:{PORTS[broker]}")
    package = f"joins_{uuid.uuid4().hex[:8]}"
    out = folder / "out"
    generate(PROJECT / "samples" / "parallel-fulfilment.mmd", out, broker, package=package)
    (out / ".env").write_text(f"MERMAIDGEN_CHANNEL_PREFIX={package}.\n", encoding="utf-8")
    (out / "join_driver.py").write_text(JOIN_DRIVER, encoding="utf-8")
    done = run_python(faststream_python, ["join_driver.py", package], out, timeout=120,
                      MERMAIDGEN_BROKER_URL=URLS[broker], PYTHONPATH=str(out))
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines, done.stdout + done.stderr
    result = json.loads(lines[-1])
    result["summary"] = f"{broker} join with a duplicate: {json.dumps(result)}"
    return result


@pytest.mark.engine
@pytest.mark.parametrize("broker", REAL)
def test_a_join_with_a_duplicate_branch_event_waits_for_the_real_one(
        broker: str, tmp_path: Path, faststream_python: Path, background: Background,
        request: pytest.FixtureRequest) -> None:
    """parallel-fulfilment's three-way `par` join at Workflow: InvoiceIssued is published
    twice (a producer retrying) while the packing path is still a second away. Workflow
    handles it once, the join releases BookPickup once, after ParcelPacked, and the run
    conforms. All services run in this one process (`flow.run(real=True)`), which hands
    deliveries to handlers in the order they were published (runtime's `turn`): what this
    shows is that the duplicate never reaches the join twice (JetStream's dedupe on NATS,
    the idempotency guard elsewhere; with the guard off, Workflow's hook ran twice), not
    the order of arrivals between processes (the load benchmark's replicas show that,
    without duplicates; the stores' own counting of a duplicate member is the shared-store
    test above)."""
    result = _outcome(background, request, tmp_path, faststream_python, broker)
    del result["summary"]
    assert result["twice"] == 1, result
    assert result["conforms"], result
    assert result["counts"] == {"pack_parcel": 1, "parcel_packed": 1, "invoice_issued": 1,
                                "book_pickup": 1}, result
    assert result["pickup_after_packed"] >= 0, result


# Runs inside a generated parallel-fulfilment project: `serve SERVICES` deploys those
# services' apps in this process (as fault_driver.py does), `start` begins a run, `check`
# holds the run's trace, written by every process, against the contract. Each process
# appends what it sent (the trace) and what its hooks did, with the machine's monotonic
# clock, one line per write (O_APPEND), to files every process shares.
REPLICA_DRIVER = """
import asyncio, importlib, json, os, signal, sys, time
from pathlib import Path

PACKAGE, MODE = sys.argv[1], sys.argv[2]
flow = importlib.import_module(f"{PACKAGE}._generated.flow")
runtime = importlib.import_module(f"{PACKAGE}._generated.runtime")
transport = importlib.import_module(f"{PACKAGE}._generated.transport")
wiring = importlib.import_module(f"{PACKAGE}._generated.wiring")


def append(path, record):
    line = (json.dumps(record) + "\\n").encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)


def effect(name, correlation_id):
    append(os.environ["FAULT_EFFECTS"], [name, correlation_id, time.monotonic(), os.getpid()])


record = runtime.TRACE.record


def traced(message, correlation_id):  # the trace of every process, in one file
    record(message, correlation_id)
    sender, receiver, text, _ = runtime.diagram.MESSAGES[message]
    append(os.environ["FAULT_TRACE"], [correlation_id, sender, receiver, text])
runtime.TRACE.enabled = True
runtime.TRACE.record = traced


def user(module):
    found = importlib.import_module(f"{PACKAGE}.services.{module}")
    return next(v for k, v in vars(found).items() if isinstance(v, type) and k.lower() == module)


def hook(name, pause=0.0):
    async def run(self, ctx):
        await asyncio.sleep(pause)
        effect(name, ctx.correlation_id)
    return run


# branch A (invoice) is quick, and its event goes out twice; branch B (pick and pack) is
# slow; Workflow takes a while over InvoiceIssued, so that a replica busy with the first
# copy is not the one that receives the second
user("warehouse").on_pack_parcel = hook("pack_parcel", pause=1.5)
user("workflow").on_invoice_issued = hook("invoice_issued", pause=0.5)
user("workflow").on_parcel_packed = hook("parcel_packed")
user("carrier").on_book_pickup = hook("book_pickup")
user("orders").on_fulfilment_done = hook("fulfilment_done")
release = wiring.WorkflowBase._after_par_line_10


async def released(self, ctx):  # the join lets what follows it run
    effect("released", ctx.correlation_id)
    await release(self, ctx)
wiring.WorkflowBase._after_par_line_10 = released
send = transport.publish


if transport.NAME == "NATS":  # JetStream would drop a second publish within the window
    for stream in transport.STREAMS.values():
        stream.config.duplicate_window = 0.1


async def twice(publisher, event, **kwargs):  # a producer retrying: the same message id
    await send(publisher, event, **kwargs)
    if type(event).__name__ == "InvoiceIssued":
        if transport.NAME == "NATS":  # after the window (which is 2 minutes by default)
            await asyncio.sleep(0.2)
        await send(publisher, event, **kwargs)
        effect("invoice_twice", kwargs["correlation_id"])
transport.publish = twice


async def serve(names):
    modules = [importlib.import_module(f"{PACKAGE}.apps.{name}") for name in names]
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    for module in modules:
        await module.app.start()
    Path(os.environ["FAULT_READY"]).touch()
    await stop.wait()
    for module in modules:
        await module.app.stop()


if MODE == "serve":
    asyncio.run(serve(sys.argv[3].split(",")))
elif MODE == "start":
    print(asyncio.run(flow.start()))
else:
    checker = importlib.import_module(f"{PACKAGE}._generated.checker")
    diagram = importlib.import_module(f"{PACKAGE}._generated.diagram")
    lines = Path(os.environ["FAULT_TRACE"]).read_text(encoding="utf-8").splitlines()
    arrows = [tuple(entry[1:]) for entry in map(json.loads, lines) if entry[0] == sys.argv[3]]
    verdict = checker.check(diagram.CONTRACT, arrows)
    print(json.dumps({"ok": verdict["ok"], "arrows": len(arrows)}))
"""
STORE_OF = {"nats": "nats", "redis": "redis", "rabbit": "memory"}


def _replicas(folder: Path, faststream_python: Path, broker: str) -> dict:
    """parallel-fulfilment deployed with Workflow in processes of its own (the test
    below): what each hook did, the contract's verdict, the log and a summary."""
    if not _up(broker):
        pytest.skip(f"no {broker} server on 127.0.0.1:{PORTS[broker]}")
    package = f"replicas_{uuid.uuid4().hex[:8]}"
    out = folder / "out"
    generate(PROJECT / "samples" / "parallel-fulfilment.mmd", out, broker, package=package)
    (out / ".env").write_text(f"MERMAIDGEN_CHANNEL_PREFIX={package}.\n"
                              f"MERMAIDGEN_STORE={STORE_OF[broker]}\n", encoding="utf-8")
    (out / "replicas.py").write_text(REPLICA_DRIVER, encoding="utf-8")
    effects, trace = folder / "effects", folder / "trace"
    files = {"FAULT_TRACE": str(trace), "FAULT_EFFECTS": str(effects)}
    began = time.monotonic()
    replicas = 2 if STORE_OF[broker] != "memory" else 1
    served = [Served(faststream_python, out, package, broker, "workflow", effects,
                     driver="replicas.py", FAULT_TRACE=str(trace))
              for _ in range(replicas)]
    served.append(Served(faststream_python, out, package, broker,
                         "orders,warehouse,billing,notifications,carrier", effects,
                         driver="replicas.py", FAULT_TRACE=str(trace)))
    try:
        for process in served:
            process.ready()
        ready = time.monotonic() - began
        began = time.monotonic()
        started = run_python(faststream_python, ["replicas.py", package, "start"], out,
                             timeout=60, PYTHONPATH=str(out), **_env(broker), **files)
        assert started.returncode == 0, started.stderr
        cid = started.stdout.split()[-1]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _happened(effects, cid)["fulfilment_done"]:
            time.sleep(0.05)
        flowed = time.monotonic() - began
        time.sleep(1.0)  # a second release, pickup or completion would show by now
        happened = _happened(effects, cid)
    finally:
        log = "".join(process.stop() for process in served)
    checked = run_python(faststream_python, ["replicas.py", package, "check", cid], out,
                         timeout=60, PYTHONPATH=str(out), **_env(broker), **files)
    assert checked.returncode == 0, checked.stderr
    verdict = json.loads(checked.stdout.splitlines()[-1])
    copies = happened["invoice_issued"]
    return {"happened": happened, "verdict": verdict, "log": log,
            "summary": f"{broker} join across {replicas} Workflow replica(s): "
                       f"InvoiceIssued handled {len(copies)}x by "
                       f"{len({pid for _, pid in copies})} process(es), "
                       f"{ {name: len(times) for name, times in happened.items()} }, "
                       f"contract {verdict}; processes ready in {ready:.2f} s, the run "
                       f"took {flowed:.2f} s"}


@pytest.mark.engine
@pytest.mark.parametrize("broker", REAL)
def test_a_joining_service_in_its_own_processes_waits_for_the_real_branch(
        broker: str, tmp_path: Path, faststream_python: Path, background: Background,
        request: pytest.FixtureRequest) -> None:
    """parallel-fulfilment deployed: Workflow, which joins the three-way `par`, in processes
    of its own (two replicas sharing the join through the broker's store, NATS KV or
    Redis; one on RabbitMQ, whose store is in memory only), the other services in a third.
    Billing publishes InvoiceIssued twice with the same message id (on NATS after the
    streams' duplicate window, shortened to 0.1 s, else JetStream drops it) 1.5 s before
    ParcelPacked. The join releases once, after ParcelPacked; Carrier books the pickup
    once; the run completes, and its trace, written by every process, conforms.

    What it showed: on NATS and Redis the two copies go to the two replicas, which handle
    them at the same time (Workflow's hook runs twice: the idempotency guard checks before
    and remembers after the handler, so it does not stop a duplicate another replica is
    handling), and the join in the shared store counts the branch once. With the join
    counting arrivals instead of distinct branches (arrive() keyed by each arrival), it
    released twice, the first time before ParcelPacked, and the trace did not conform: the
    test failed on NATS and Redis. On RabbitMQ one replica handles both copies in turn and
    the guard skips the second, so the join never sees it and the broken join passes there.
    """
    result = _outcome(background, request, tmp_path, faststream_python, broker)
    happened, verdict, log = result["happened"], result["verdict"], result["log"]
    copies = happened["invoice_issued"]
    assert len(happened["invoice_twice"]) == 1, log  # the duplicate was published
    assert len(happened["released"]) == 1, (happened, log)
    assert len(happened["book_pickup"]) == 1, (happened, log)
    assert len(happened["fulfilment_done"]) == 1, (happened, log)
    released_at = happened["released"][0][0]
    assert released_at > happened["parcel_packed"][0][0] > max(t for t, _ in copies), happened
    assert verdict["ok"], (verdict, log)


def _happened(path: Path, correlation_id: str) -> dict[str, list[tuple[float, int]]]:
    """What the hooks of run `correlation_id` did: (when, which process), per hook."""
    found: dict[str, list[tuple[float, int]]] = {
        name: [] for name in ("invoice_twice", "invoice_issued", "pack_parcel", "parcel_packed",
                              "released", "book_pickup", "fulfilment_done")}
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    for name, run, at, pid in map(json.loads, text.splitlines()):
        if run == correlation_id:
            found.setdefault(name, []).append((at, pid))
    return found


SCENARIOS = {  # the longest first
    "test_a_service_killed_mid_event_and_restarted_completes_the_flow_once": _killed,
    "test_a_joining_service_in_its_own_processes_waits_for_the_real_branch": _replicas,
    "test_a_join_with_a_duplicate_branch_event_waits_for_the_real_one": _join,
    "test_the_initiator_may_start_before_any_service": partial(_driven, mode="initiator-first"),
    "test_a_hand_written_publisher_on_the_drawn_topic_reaches_the_generated_consumer":
        _hand_written,
    "test_a_handler_that_always_fails_ends_in_the_dead_letter_channel":
        partial(_driven, mode="always"),
    "test_every_event_published_twice_has_its_effect_once": partial(_driven, mode="duplicate"),
    "test_a_handler_failing_twice_is_retried_and_the_effect_happens_once":
        partial(_driven, mode="flaky"),
}
"""The scenario of each test that mostly waits, run in the background (`background`)."""
