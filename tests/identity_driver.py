"""Runs inside a generated FastStream project of tests/test_faststream_identity.py's
diagram, on the real server at MERMAIDGEN_BROKER_URL, one step per process:

    python identity_driver.py PACKAGE declare [CHANNEL JSON CORRELATION_ID]...
        the Stock service's queues, groups or durable consumers exist (nothing consumes);
        then each JSON is sent to its channel (a constant of the channels module) as a
        plain FastStream producer sends it: without the tool's headers
    python identity_driver.py PACKAGE publish LINE CORRELATION_ID
        send the event drawn at diagram line LINE as this build's Orders service sends it
        (the build of an older diagram publishes; a newer one consumes)
    python identity_driver.py PACKAGE consume COUNT
        run the Stock service until it has published or dead-lettered COUNT times (at
        most 20 s) and print what it did as one JSON line

Only what every build of the target offers is used (the apps' broker and service, the
service's `publish(message index, event, ctx)`, `diagram.MESSAGES`, transport's
`send_dead_letter`), so that the same steps run against a build from before a change.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import sys
import time

PACKAGE, STEP, ARGS = sys.argv[1], sys.argv[2], sys.argv[3:]
transport = importlib.import_module(f"{PACKAGE}._generated.transport")
diagram = importlib.import_module(f"{PACKAGE}._generated.diagram")
events = importlib.import_module(f"{PACKAGE}._generated.events")
channels = importlib.import_module(f"{PACKAGE}._generated.channels")


def event_class(name: str) -> type:
    return next(c for c in vars(events).values()
                if isinstance(c, type) and getattr(c, "NAME", None) == name)


async def declare(plain: list[str]) -> dict:
    stock = importlib.import_module(f"{PACKAGE}.apps.stock")
    await stock.broker.connect()
    try:
        await transport.declare(stock.broker)
    finally:
        await stock.broker.stop()
    broker = transport.make_broker("plain-producer")  # a producer outside the diagram
    await broker.connect()
    try:
        for channel, body, correlation_id in zip(plain[::3], plain[1::3], plain[2::3],
                                                 strict=True):
            publisher = transport.publisher(broker, getattr(channels, channel), None)
            await publisher.publish(json.loads(body), correlation_id=correlation_id)
    finally:
        await broker.stop()
    return {}


async def publish(line: int, correlation_id: str) -> dict:
    orders = importlib.import_module(f"{PACKAGE}.apps.orders")
    index = next(i for i, m in diagram.MESSAGES.items() if m[3] == line)
    sender, receiver, text, _ = diagram.MESSAGES[index]
    await orders.broker.connect()
    try:
        ctx = orders.service.context(None, correlation_id)
        await orders.service.publish(index, event_class(text.split("(")[0])(), ctx)
    finally:
        await orders.broker.stop()
    return {"index": index}


async def consume(count: int) -> dict:
    stock = importlib.import_module(f"{PACKAGE}.apps.stock")
    sent: list[list] = []
    letters: list[dict] = []
    publish_as = stock.service.publish

    async def spy(message, event, ctx) -> None:
        sent.append([ctx.correlation_id, *diagram.MESSAGES[message]])
        await publish_as(message, event, ctx)

    stock.service.publish = spy
    send_letter = transport.send_dead_letter

    async def spy_letter(publisher, record, correlation_id) -> None:
        letters.append(record)
        await send_letter(publisher, record, correlation_id)

    transport.send_dead_letter = spy_letter
    await stock.declare()  # the app's startup: the store, the connection, the queues
    await stock.broker.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(sent) + len(letters) < count:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # anything more it would do shows by now
    finally:
        await stock.broker.stop()
    return {"sent": sent, "dead_letters": letters}


STEPS = {"declare": lambda: declare(ARGS), "publish": lambda: publish(int(ARGS[0]), ARGS[1]),
         "consume": lambda: consume(int(ARGS[0]))}
logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                    format="%(levelname)s %(name)s: %(message)s")
print(json.dumps(asyncio.run(STEPS[STEP]())))
