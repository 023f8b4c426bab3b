"""The FastStream target's Kafka code through the Kafka protocol: a generated project's
flow runs through tansu, a Kafka-compatible broker (`.ci/servers/kafka.sh start`, on
127.0.0.1:9092), rather than FastStream's in-memory TestKafkaBroker that the rest of the
Kafka suite uses.

A smoke test, kept small: tansu holds each consumer group's first join for half the
group's session timeout and joins one group at a time, so the diagram has two consumer
groups only, and the run asks for the shortest session a Kafka broker accepts. Marked `engine`:
a server that does not answer skips it, which fails in CI mode (tests/conftest.py).
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from pathlib import Path

import pytest
from projects import run
from test_target_faststream import generate, lint

ADDRESS = ("127.0.0.1", 9092)

DIAGRAM = """sequenceDiagram
    participant Orders
    participant Kafka@{{ "type": "queue" }}
    participant Billing
    Orders-)Kafka: OrderPlaced (orders.{tag}) {{orderId: UUID, total: Decimal}}
    Kafka-)Billing: Consume: ORDER_PLACED
    Billing-)Kafka: InvoiceIssued {{invoiceId}}
    Kafka-)Orders: Consume: INVOICE_ISSUED
"""

# one run on the server (as `python -m PACKAGE --real` runs it), checked against the
# diagram, and the topics the server then has
SMOKE = """
import asyncio, json, time

from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker

from {package}._generated import flow, transport
from {package}._generated.checker import check
from {package}._generated.diagram import CONTRACT

# tansu holds a group's first join for half its session timeout (aiokafka's default,
# 10 s): 5 s a group. 6 s is the shortest session Kafka accepts by default
# (group.min.session.timeout.ms); the heartbeat a third of it, as Kafka advises.
subscriber = KafkaBroker.subscriber


def short_session(broker, *topics, **options):
    return subscriber(broker, *topics, session_timeout_ms=6000, heartbeat_interval_ms=2000,
                      **options)


KafkaBroker.subscriber = short_session


async def main():
    began = time.monotonic()
    trace = await flow.run(real=True, limit=60)
    seconds = time.monotonic() - began
    verdict = check(CONTRACT, trace.arrows())
    admin = AIOKafkaAdminClient(bootstrap_servers=transport.url())
    await admin.start()
    try:
        topics = await admin.list_topics()
    finally:
        await admin.close()
    print(json.dumps({{"ok": verdict["ok"], "explanation": verdict["explanation"],
                      "messages": len(trace.arrows()), "seconds": round(seconds, 2),
                      "topics": sorted(topics)}}))

asyncio.run(main())
"""


def _up() -> bool:
    try:
        with socket.create_connection(ADDRESS, timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.engine
def test_a_generated_kafka_flow_runs_through_a_kafka_protocol_broker(
        tmp_path: Path, faststream_python: Path) -> None:
    if not _up():
        pytest.skip("no Kafka-compatible server on 127.0.0.1:9092; start one with "
                    "`.ci/servers/kafka.sh start`")
    tag = uuid.uuid4().hex[:8]  # topics of their own: the server may outlive one run
    package = f"kafka_{tag}"
    out = tmp_path / "out"
    source = tmp_path / "kafka.mmd"
    generate(source, out, "kafka", text=DIAGRAM.format(tag=tag), package=package)
    lint(out)
    (out / "smoke.py").write_text(SMOKE.format(package=package), encoding="utf-8")
    began = time.monotonic()
    done = run([faststream_python, "smoke.py"], out, timeout=180, PYTHONPATH=str(out),
               MERMAIDGEN_BROKER_URL="{}:{}".format(*ADDRESS))
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines, done.stdout + done.stderr
    result = json.loads(lines[-1])
    print(f"kafka (tansu): {result['messages']} messages, the run {result['seconds']} s, "
          f"the whole process {time.monotonic() - began:.1f} s")
    # OrderPlaced and InvoiceIssued, each published and consumed: the run conforms
    assert result["ok"], result["explanation"]
    assert result["messages"] == 4, result
    # the drawn topic as written; the other one named after the broker, under the package
    assert f"orders.{tag}" in result["topics"], result["topics"]
    assert f"{package}.kafka" in result["topics"], result["topics"]
