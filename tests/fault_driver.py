"""Runs inside a generated project of samples/broker-fanout.mmd (copied there by
tests/test_faststream_faults.py): injects one fault into the flow, runs it on the real
server at MERMAIDGEN_BROKER_URL, and prints what happened as one JSON line.

    python fault_driver.py PACKAGE flaky|always|duplicate|initiator-first
    python fault_driver.py PACKAGE serve SERVICE[,SERVICE...]

`serve` runs the named services' apps as a deployment does (FastStream's app start: the
startup hooks, then the broker), creates the file FAULT_READY names, and serves until
SIGTERM. Every hook it runs appends `<hook> <correlation id>` to the file FAULT_EFFECTS
names, so that what a service did survives the service; FAULT_KILL=after-publish makes
Billing SIGKILL its own process once it has published InvoiceIssued, before the event it
handles is acknowledged.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path

PACKAGE, MODE = sys.argv[1], sys.argv[2]
flow = importlib.import_module(f"{PACKAGE}._generated.flow")
transport = importlib.import_module(f"{PACKAGE}._generated.transport")
delivery = importlib.import_module(f"{PACKAGE}._generated.delivery")
checker = importlib.import_module(f"{PACKAGE}._generated.checker")
diagram = importlib.import_module(f"{PACKAGE}._generated.diagram")
services = {name: importlib.import_module(f"{PACKAGE}.services.{name}")
            for name in ("orders", "inventory", "billing", "notify")}
calls = {"billing": 0, "notify_invoice": 0, "inventory": 0, "orders": 0}
published = 0


async def billing(self, ctx) -> None:
    calls["billing"] += 1
    if MODE == "always" or (MODE == "flaky" and calls["billing"] <= 2):
        raise ConnectionError("billing is down")


def counting(name: str):
    async def hook(self, ctx) -> None:
        calls[name] += 1
        if EFFECTS:  # O_APPEND: one whole line per write, whichever process writes it
            line = f"{name} {ctx.correlation_id}\n".encode()
            descriptor = os.open(EFFECTS, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            try:
                os.write(descriptor, line)
            finally:
                os.close(descriptor)
    return hook


EFFECTS = os.environ.get("FAULT_EFFECTS", "")


def kill_after_publish() -> None:
    """Billing's process dies by SIGKILL right after InvoiceIssued is on the broker: the
    OrderPlaced it handles is neither acknowledged nor remembered as handled."""
    send = transport.publish

    async def then_die(publisher, event, **kwargs) -> None:
        await send(publisher, event, **kwargs)
        if type(event).__name__ == "InvoiceIssued":
            os.kill(os.getpid(), signal.SIGKILL)
    transport.publish = then_die


async def serve(names: list[str]) -> None:
    services["billing"].Billing.on_order_placed = counting("billing")
    services["notify"].Notify.on_invoice_issued = counting("notify_invoice")
    services["inventory"].Inventory.on_order_placed = counting("inventory")
    services["orders"].Orders.on_stock_reserved = counting("orders")
    if os.environ.get("FAULT_KILL") == "after-publish":
        kill_after_publish()
    modules = [importlib.import_module(f"{PACKAGE}.apps.{name}") for name in names]
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    for module in modules:
        await module.app.start()
    Path(os.environ["FAULT_READY"]).touch()
    await stop.wait()
    for module in modules:
        await module.app.stop()


def install_faults() -> None:
    services["billing"].Billing.on_order_placed = billing
    services["billing"].Billing.REDELIVERY = {
        "OrderPlaced": delivery.Redelivery(attempts=3, backoff=0.2)}
    services["notify"].Notify.on_invoice_issued = counting("notify_invoice")
    services["inventory"].Inventory.on_order_placed = counting("inventory")
    services["orders"].Orders.on_stock_reserved = counting("orders")
    if MODE == "duplicate":  # a producer that retries after a lost acknowledgement
        send = transport.publish

        async def twice(*args, **kwargs) -> None:
            global published
            for _ in range(2):
                await send(*args, **kwargs)
                published += 1
        transport.publish = twice


async def dead_letter() -> dict | None:
    channel = transport.dead_letter_channel("billing")
    url = transport.url()
    if transport.NAME == "NATS":
        import nats
        from nats.js.errors import NotFoundError

        connection = await nats.connect(url)
        try:
            raw = await connection.jetstream().get_last_msg(
                transport.channels.DEAD_LETTER_STREAM, channel)
            return json.loads(raw.data)
        except NotFoundError:
            return None
        finally:
            await connection.close()
    if transport.NAME == "Redis":
        from redis.asyncio import Redis

        client = Redis.from_url(url)
        try:
            entries = await client.xrevrange(channel, count=1)
        finally:
            await client.aclose()
        if not entries:
            return None
        from faststream.redis.parser.binary import BinaryMessageFormatV1

        body, _ = BinaryMessageFormatV1.parse(entries[0][1][b"__data__"])
        return json.loads(body)
    # RabbitMQ: the event itself, rejected into the dead-letter exchange's queue (under
    # FastStream's test broker the error record's queue has a stand-in consumer)
    import aio_pika

    connection = await aio_pika.connect(url)
    async with connection:
        queue = await (await connection.channel()).get_queue(channel, ensure=False)
        message = await queue.get(fail=False)
        if message is None:
            return None
        death = message.headers["x-death"][0]
        return {"event": json.loads(message.body)["event_type"],
                "correlation_id": message.correlation_id,
                "reason": death["reason"], "queue": death["queue"]}


async def initiator_first() -> None:
    await flow.start()  # nothing consumes yet
    await asyncio.sleep(0.5)
    modules = flow.apps()
    for module in modules:
        await module.broker.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (calls["orders"] < 1 or
                                               calls["notify_invoice"] < 1):
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # anything handled twice would show by now
    finally:
        for module in modules:
            await module.broker.stop()


async def main() -> dict:
    install_faults()
    started = time.monotonic()
    error = None
    conforms = None
    if MODE == "initiator-first":
        await initiator_first()
    else:
        try:
            trace = await flow.run(real=True, limit=30)
            conforms = checker.check(diagram.CONTRACT, trace.arrows())["ok"]
        except Exception as failure:  # noqa: BLE001 - reported, the test decides
            error = repr(failure)
    seconds = round(time.monotonic() - started, 2)
    letter = await dead_letter() if MODE in ("always", "flaky") else None
    return {"mode": MODE, "error": error, "conforms": conforms, "calls": calls,
            "published": published, "seconds": seconds, "dead_letter": letter}


logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                    format="%(levelname)s %(name)s: %(message)s")
if MODE == "serve":
    asyncio.run(serve(sys.argv[3].split(",")))
else:
    print(json.dumps(asyncio.run(main())))
