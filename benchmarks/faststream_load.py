"""Load benchmark of the FastStream target on a real NATS server: many concurrent flows of
samples/parallel-fulfilment.mmd (12 hops and a three-way `par` join per flow) through two
replicas of every service, against a hand-written minimal FastStream app doing the same
hops, in the same run.

    python benchmarks/faststream_load.py --python PY [--flows 1000] [--url nats://...]

`--python` names an interpreter with `faststream[nats]` (the generated project's own
dependencies); this script itself needs mermaidgen only. Each side runs as two replica
processes, each hosting one replica of every service (so every durable consumer has two
subscribers, in different processes), and a starter process that publishes the first
event of every flow at once and counts the flows whose last event (FulfilmentDone) has
been published, on a plain NATS subscription to its subject.

* **generated**: the project mermaidgen writes, unchanged, its services started as a
  deployment starts them (each app's startup hooks, then its broker), with the shared
  store the README asks for with replicas (`MERMAIDGEN_STORE=nats`: idempotency guard and
  joins in a JetStream key-value bucket).
* **minimal**: what a FastStream user writes by hand for the same hops: one broker per
  process, the same stream and durable pull consumers (FastStream's default ack: after the
  handler returns), the join as a set in a key-value bucket changed by compare-and-set,
  and nothing else: no message ids, no idempotency guard, no retry policy or dead letters.

Every handler of both sides records (hook, correlation id, time); after the run each
replica writes its records and the script checks that every flow completed, that every
hook ran exactly once per flow (over both replicas), and that the join's successor
(Carrier's BookPickup) was handled only after all three paths of the `par` had been.
Both starters keep at most 100 first publishes in flight (all 1,000 at once timed out
JetStream's publish acknowledgements on the loaded shared machine, 2026-12-06).
Printed: flows per second of each side and their ratio. The timing never fails the
script; a flow that did not complete, or ran a hook twice, does (exit status 1).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SAMPLE = PROJECT / "samples" / "parallel-fulfilment.mmd"
HOOKS = 12
"""Hooks per flow: one per message the sample's services receive."""
JOIN_AFTER = ("on_fulfil_order_1042", "on_parcel_packed", "on_invoice_issued")
"""Workflow's hooks that end the three paths of the `par` (the first path ends where it
starts: its event is published with the others)."""
JOINED = "on_book_pickup"
"""Carrier's hook: it receives the event published once the join is complete."""

GENERATED_REPLICA = '''
import asyncio, importlib, json, os, signal, sys, time
from pathlib import Path

PACKAGE, RECORDS_FILE, READY = sys.argv[1], sys.argv[2], sys.argv[3]
MODULES = ("orders", "workflow", "warehouse", "billing", "notifications", "carrier")
records = []


def recording(name):
    async def hook(self, ctx):
        records.append((name, ctx.correlation_id, time.time_ns()))
    return hook


for module in MODULES:
    user = importlib.import_module(f"{PACKAGE}.services.{module}")
    cls = next(v for k, v in vars(user).items() if isinstance(v, type) and k.lower() == module)
    for name in dir(cls):
        if name.startswith("on_") and name not in ("on_startup", "on_shutdown"):
            setattr(cls, name, recording(name))


async def main():
    apps = [importlib.import_module(f"{PACKAGE}.apps.{module}") for module in MODULES]
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    for app in apps:
        await app.app.start()
    Path(READY).touch()
    await stop.wait()
    for app in apps:
        await app.app.stop()
    Path(RECORDS_FILE).write_text(json.dumps(records))

asyncio.run(main())
'''

GENERATED_STARTER = '''
import asyncio, importlib, json, sys, time, uuid
import nats

PACKAGE, FLOWS, TIMEOUT = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
IN_FLIGHT = 100  # first events published at once at most (see the module's docstring)
channels = importlib.import_module(f"{PACKAGE}._generated.channels")
transport = importlib.import_module(f"{PACKAGE}._generated.transport")
orders = importlib.import_module(f"{PACKAGE}.apps.orders")


async def main():
    done, finished = set(), asyncio.Event()

    async def count(msg):
        done.add(msg.headers.get("correlation_id"))
        if len(done) >= FLOWS:
            finished.set()

    watcher = await nats.connect(transport.url())
    await watcher.subscribe(channels.FULFILMENT_DONE, cb=count)
    await orders.broker.connect()
    await transport.declare(orders.broker)
    ids = [uuid.uuid4().hex for _ in range(FLOWS)]
    began = time.monotonic()
    in_flight = asyncio.Semaphore(IN_FLIGHT)

    async def first(cid):
        async with in_flight:
            await orders.service.start(cid)

    await asyncio.gather(*(first(cid) for cid in ids))
    published = time.monotonic() - began
    try:
        await asyncio.wait_for(finished.wait(), TIMEOUT)
    except asyncio.TimeoutError:
        pass
    seconds = time.monotonic() - began
    await orders.broker.stop()
    await watcher.close()
    print(json.dumps({"seconds": seconds, "published": published, "completed": len(done),
                      "ids": ids}))

asyncio.run(main())
'''

# The hand-written app: one broker per process, every service's handlers on it.
MINIMAL = '''
import asyncio, json, signal, sys, time, uuid
from pathlib import Path

from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from pydantic import BaseModel

NS, URL, ROLE = sys.argv[1], sys.argv[2], sys.argv[3]
IN_FLIGHT = 100  # first events published at once at most (see the module's docstring)
broker = NatsBroker(URL)
stream = JStream(NS, subjects=[NS + ".>"])
records = []


class Hop(BaseModel):
    pass


def on(subject, service):
    return broker.subscriber(f"{NS}.{subject}", stream=stream, pull_sub=PullSub(),
                             durable=f"{NS}-{service}-{subject}")


def pub(subject):
    return broker.publisher(f"{NS}.{subject}", stream=stream)


def record(name, msg):
    records.append((name, msg.correlation_id, time.time_ns()))


async def send(subject, msg):
    await broker.publish(Hop(), f"{NS}.{subject}", stream=NS, correlation_id=msg.correlation_id)


kv = None


async def arrive(msg, path):
    """The par's join: the arrived paths as a set under the flow's key, compare-and-set."""
    key = msg.correlation_id
    while True:
        try:
            entry = await kv.get(key)
            paths, revision = set(json.loads(entry.value)), entry.revision
        except KeyNotFoundError:
            paths, revision = set(), None
        if path in paths:
            return
        paths.add(path)
        value = json.dumps(sorted(paths)).encode()
        try:
            if revision is None:
                await kv.create(key, value)
            else:
                await kv.update(key, value, last=revision)
        except KeyWrongLastSequenceError:
            continue
        break
    if len(paths) == 3:
        await send("book-pickup", msg)


@on("fulfil-order", "workflow")
async def fulfil(body: Hop, msg: NatsMessage):
    record("on_fulfil_order_1042", msg)
    await asyncio.gather(send("pick-items", msg), send("issue-invoice", msg),
                         send("order-is-being-prepared", msg))
    await arrive(msg, "notify")


@on("pick-items", "warehouse")
async def pick(body: Hop, msg: NatsMessage):
    record("on_pick_items", msg)
    await send("items-picked", msg)


@on("items-picked", "workflow")
async def picked(body: Hop, msg: NatsMessage):
    record("on_items_picked", msg)
    await send("pack-parcel", msg)


@on("pack-parcel", "warehouse")
async def pack(body: Hop, msg: NatsMessage):
    record("on_pack_parcel", msg)
    await send("parcel-packed", msg)


@on("parcel-packed", "workflow")
async def packed(body: Hop, msg: NatsMessage):
    record("on_parcel_packed", msg)
    await arrive(msg, "pack")


@on("issue-invoice", "billing")
async def invoice(body: Hop, msg: NatsMessage):
    record("on_issue_invoice", msg)
    await send("invoice-issued", msg)


@on("invoice-issued", "workflow")
async def invoiced(body: Hop, msg: NatsMessage):
    record("on_invoice_issued", msg)
    await arrive(msg, "invoice")


@on("order-is-being-prepared", "notifications")
async def preparing(body: Hop, msg: NatsMessage):
    record("on_order_is_being_prepared", msg)


@on("book-pickup", "carrier")
async def book(body: Hop, msg: NatsMessage):
    record("on_book_pickup", msg)
    await send("tracking-number", msg)


@on("tracking-number", "workflow")
async def tracking(body: Hop, msg: NatsMessage):
    record("on_tracking_number", msg)
    await asyncio.gather(send("order-shipped", msg), send("fulfilment-done", msg))


@on("order-shipped", "notifications")
async def shipped(body: Hop, msg: NatsMessage):
    record("on_order_shipped", msg)


@on("fulfilment-done", "orders")
async def done(body: Hop, msg: NatsMessage):
    record("on_fulfilment_done", msg)


async def connect():
    global kv
    await broker.start()
    kv = await broker.config.connection_state.stream.create_key_value(bucket=NS + "_joins")


async def replica(records_file, ready):
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await connect()
    Path(ready).touch()
    await stop.wait()
    await broker.stop()
    Path(records_file).write_text(json.dumps(records))


async def starter(flows, timeout):
    import nats

    finished, completed = asyncio.Event(), set()

    async def count(m):
        completed.add(m.headers.get("correlation_id"))
        if len(completed) >= flows:
            finished.set()

    watcher = await nats.connect(URL)
    await watcher.subscribe(f"{NS}.fulfilment-done", cb=count)
    await broker.connect()  # not start(): the replicas consume, they made the consumers
    ids = [uuid.uuid4().hex for _ in range(flows)]
    began = time.monotonic()
    in_flight = asyncio.Semaphore(IN_FLIGHT)

    async def first(cid):
        async with in_flight:
            await broker.publish(Hop(), f"{NS}.fulfil-order", stream=NS, correlation_id=cid)

    await asyncio.gather(*(first(cid) for cid in ids))
    published = time.monotonic() - began
    try:
        await asyncio.wait_for(finished.wait(), timeout)
    except asyncio.TimeoutError:
        pass
    seconds = time.monotonic() - began
    await broker.stop()
    await watcher.close()
    print(json.dumps({"seconds": seconds, "published": published,
                      "completed": len(completed), "ids": ids}))


if ROLE == "replica":
    asyncio.run(replica(sys.argv[4], sys.argv[5]))
else:
    asyncio.run(starter(int(sys.argv[4]), float(sys.argv[5])))
'''


def generate(out: Path, package: str) -> None:
    done = subprocess.run([sys.executable, "-m", "mermaidgen", "generate", str(SAMPLE),
                           "--target", "faststream", "--broker", "nats", "--package",
                           package, "--out", str(out)], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"generate failed:\n{done.stdout}{done.stderr}")


def environment(out: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith("MERMAIDGEN_")}
    return {**env, "PYTHONPATH": str(out), "MERMAIDGEN_BROKER_URL": url,
            "MERMAIDGEN_STORE": "nats"}


def start_replicas(commands: list[list[str]], out: Path, env: dict[str, str]
                   ) -> list[tuple[subprocess.Popen, Path]]:
    """Start one process per command (its last argument is its ready file); wait for all."""
    started = []
    for command in commands:
        log = open(Path(command[-1]).with_suffix(".log"), "w")  # noqa: SIM115 - the child's
        started.append((subprocess.Popen(command, cwd=out, env=env, stdout=log,
                                         stderr=subprocess.STDOUT), Path(command[-1])))
    deadline = time.monotonic() + 60
    for process, ready in started:
        while not ready.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                stop(started)
                sys.exit(f"a replica did not start:\n{ready.with_suffix('.log').read_text()}")
            time.sleep(0.05)
    return started


def stop(started: list[tuple[subprocess.Popen, Path]]) -> None:
    for process, _ in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process, _ in started:
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def side(name: str, out: Path, python: str, env: dict[str, str], replica: list[str],
         starter: list[str], replicas: int) -> dict:
    """Run one side: its replicas, then its starter; check what the replicas recorded."""
    files = [out / f"{name}-records-{n}.json" for n in range(replicas)]
    started = start_replicas([[python, *replica, str(f), str(out / f"{name}-ready-{n}")]
                              for n, f in enumerate(files)], out, env)
    try:
        done = subprocess.run([python, *starter], cwd=out, env=env, capture_output=True,
                              text=True)
        time.sleep(1.0)  # the last flows' final hooks run just after their last publish
    finally:
        stop(started)
    if done.returncode != 0:
        sys.exit(f"{name}: the starter failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    records = [r for f in files for r in json.loads(f.read_text())]
    result.update(check(result.pop("ids"), records))
    result["per_replica"] = [len(json.loads(f.read_text())) for f in files]
    return result


def check(ids: list[str], records: list[list]) -> dict:
    """Every flow: each hook once, the join's successor after all three paths."""
    runs = Counter((hook, cid) for hook, cid, _ in records)
    twice = sum(1 for n in runs.values() if n > 1)
    per_flow = Counter(cid for _, cid in runs)
    whole = sum(1 for cid in ids if per_flow[cid] == HOOKS)
    when = {(hook, cid): t for hook, cid, t in records}
    early = sum(1 for cid in ids if (JOINED, cid) in when and any(
        (hook, cid) not in when or when[(hook, cid)] > when[(JOINED, cid)]
        for hook in JOIN_AFTER))
    return {"whole_flows": whole, "hooks_run_twice": twice, "joins_too_early": early,
            "records": len(records)}


def cleanup(url: str, python: str, out: Path, names: list[str], buckets: list[str],
            package: str) -> None:
    """Delete the streams and buckets the run made on the shared server (the generated
    project's: a stream per channel, and its dead letters')."""
    script = ("import asyncio, importlib, sys, nats\n"
              f"t = importlib.import_module({package!r} + '._generated.transport')\n"
              "names = [s.name for s in t.STREAMS.values() if s.declare]"
              " + [t.DEAD_LETTER_STREAM.name]\n"
              "async def main():\n"
              f"    nc = await nats.connect({url!r}); js = nc.jetstream()\n"
              f"    for s in {names!r} + names:\n"
              "        try: await js.delete_stream(s)\n"
              "        except Exception: pass\n"
              f"    for b in {buckets!r}:\n"
              "        try: await js.delete_key_value(b)\n"
              "        except Exception: pass\n"
              "    await nc.close()\n"
              "asyncio.run(main())\n")
    subprocess.run([python, "-c", script], cwd=out, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", required=True, help="an interpreter with faststream[nats]")
    parser.add_argument("--flows", type=int, default=1000)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--url", default="nats://127.0.0.1:4222")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    tag = uuid.uuid4().hex[:8]
    package, minimal_ns = f"load_{tag}", f"loadmin_{tag}"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"faststream load benchmark: Python {platform.python_version()}, "
          f"{platform.platform()}, {os.cpu_count()} CPUs, load {load:.2f}; "
          f"{args.flows} concurrent flows of {SAMPLE.name}, {args.replicas} replicas of "
          f"every service, NATS at {args.url}", flush=True)
    with tempfile.TemporaryDirectory(prefix="faststream-load-") as folder:
        out = Path(folder)
        generate(out, package)
        (out / "generated_replica.py").write_text(GENERATED_REPLICA, encoding="utf-8")
        (out / "generated_starter.py").write_text(GENERATED_STARTER, encoding="utf-8")
        (out / "minimal.py").write_text(MINIMAL, encoding="utf-8")
        env = environment(out, args.url)
        results = {}
        try:
            results["minimal"] = side(
                "minimal", out, args.python, env,
                ["minimal.py", minimal_ns, args.url, "replica"],
                ["minimal.py", minimal_ns, args.url, "starter", str(args.flows),
                 str(args.timeout)], args.replicas)
            results["generated"] = side(
                "generated", out, args.python, env, ["generated_replica.py", package],
                ["generated_starter.py", package, str(args.flows), str(args.timeout)],
                args.replicas)
        finally:
            cleanup(args.url, args.python, out, [minimal_ns],
                    [f"{minimal_ns}_joins", f"{package}_store"], package)
    ok = True
    for name, result in results.items():
        result["flows_per_second"] = args.flows / result["seconds"]
        complete = (result["completed"] == args.flows and result["whole_flows"] == args.flows
                    and not result["hooks_run_twice"] and not result["joins_too_early"])
        ok = ok and complete
        print(f"{name:>9}: {result['completed']}/{args.flows} flows completed in "
              f"{result['seconds']:.2f} s ({result['flows_per_second']:.1f} flows/s; first "
              f"events published in {result['published']:.2f} s); every hook once in "
              f"{result['whole_flows']} flows, {result['hooks_run_twice']} hooks run twice, "
              f"{result['joins_too_early']} joins too early; records per replica "
              f"{result['per_replica']}: {'ok' if complete else 'FAILED'}")
    if len(results) == 2:
        ratio = results["generated"]["flows_per_second"] / results["minimal"]["flows_per_second"]
        results["ratio"] = ratio
        print(f"generated / minimal: {ratio:.2f}x the flows per second of the hand-written app")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
