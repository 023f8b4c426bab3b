"""Load benchmark of the Temporal target: N concurrent workflows of a sample, on a running
Temporal server, against a hand-written minimal Temporal workflow with the same activities.

    python benchmarks/temporal_load.py --python PATH [--address 127.0.0.1:7233]
                                       [--workflows 500] [--runs 3] [--json out.json]

`--python`: an interpreter with temporalio (the version the generated code pins,
mermaidgen/codegen/temporal.py) installed: the generated project runs there, in one
process. The sample is samples/order-saga.mmd; its main path makes three calls
(Inventory.reserve_stock, Payment.charge_payment, Shipping.create_shipment), each an
activity on its service's own task queue, plus the workflow on its own queue.

The baseline (BASELINE below, written into the run's folder as a module) is what a
person writes by hand for the same work: one `@workflow.defn` that runs three
`@activity.defn` functions, each on its own task queue served by its own Worker (same
topology as the generated project), dataclass input and output, SDK defaults elsewhere.

Each run starts N workflows at once (asyncio.gather of the starts), waits for every
result, and times it from the first start to the last result (wall clock: the server is
the shared one, so the figure moves with the machine's load). Both variants run in the
same process on the same client, alternating, the baseline first; the task queues and
workflow ids are unique to the run (a shared server). Printed: workflows per second of
each variant per run, the medians, and their ratio (generated / baseline). Nothing here
fails on a timing; no test asserts one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SAMPLE = PROJECT / "samples" / "order-saga.mmd"

BASELINE = '''
"""A hand-written minimal Temporal workflow: the order saga's main path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow


@dataclass
class Order:
    order_id: str
    queues: dict[str, str]  # service -> its task queue (unique to the benchmark's run)


@dataclass
class Step:
    reference: str


@activity.defn(name="baseline.reserve_stock")
async def reserve_stock(order: Order) -> Step:
    return Step(f"reservation-{order.order_id}")


@activity.defn(name="baseline.charge_payment")
async def charge_payment(order: Order) -> Step:
    return Step(f"payment-{order.order_id}")


@activity.defn(name="baseline.create_shipment")
async def create_shipment(order: Order) -> Step:
    return Step(f"tracking-{order.order_id}")


QUEUES = ("workflow", "inventory", "payment", "shipping")


@workflow.defn(name="BaselineSaga")
class BaselineSaga:
    @workflow.run
    async def run(self, order: Order) -> list[str]:
        done = []
        for call, queue in ((reserve_stock, "inventory"), (charge_payment, "payment"),
                            (create_shipment, "shipping")):
            step = await workflow.execute_activity(
                call, order, task_queue=order.queues[queue],
                start_to_close_timeout=timedelta(seconds=30))
            done.append(step.reference)
        return done
'''

DRIVER = '''
import asyncio, contextlib, json, statistics, sys, time, uuid
from concurrent.futures import ThreadPoolExecutor

from temporalio.worker import Worker

import baseline
from {package}._generated import app, routing
from {package}._generated.runtime import Start

ADDRESS, N, RUNS, TAG = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
QUEUES = {{name: f"{{TAG}}.baseline.{{name}}" for name in baseline.QUEUES}}


STARTING = asyncio.Semaphore(100)


async def throttled(start):
    async with STARTING:
        return await start


async def timed(starts) -> float:
    began = time.perf_counter()
    handles = await asyncio.gather(*(throttled(start) for start in starts))
    # a workflow whose task keeps failing never ends: give up rather than hang
    await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 900)
    return N / (time.perf_counter() - began)


async def main() -> None:
    # the project's own connection: its data converter (Decimal and date fields) and
    # interceptors; the baseline's plain dataclasses go through it unchanged
    client = await app.connect(ADDRESS)
    figures = {{"generated": [], "baseline": []}}
    with ThreadPoolExecutor(max_workers=app.THREADS) as executor:
        async with contextlib.AsyncExitStack() as stack:
            for worker in await app.workers(client, stack=stack, executor=executor):
                await stack.enter_async_context(worker)
            for queue, activities, workflows in (
                    (QUEUES["workflow"], [], [baseline.BaselineSaga]),
                    (QUEUES["inventory"], [baseline.reserve_stock], []),
                    (QUEUES["payment"], [baseline.charge_payment], []),
                    (QUEUES["shipping"], [baseline.create_shipment], [])):
                await stack.enter_async_context(Worker(
                    client, task_queue=queue, activities=activities, workflows=workflows))
            for run in range(RUNS):
                figures["baseline"].append(await timed(
                    client.start_workflow(baseline.BaselineSaga.run,
                                          baseline.Order(str(i), QUEUES),
                                          id=f"{{TAG}}-baseline-{{run}}-{{i}}",
                                          task_queue=QUEUES["workflow"])
                    for i in range(N)))
                figures["generated"].append(await timed(
                    app.start(client, Start(app.diagram.TRIGGER), key=f"{{TAG}}-{{run}}-{{i}}")
                    for i in range(N)))
                print(f"run {{run + 1}}: baseline {{figures['baseline'][-1]:.1f}}/s, "
                      f"generated {{figures['generated'][-1]:.1f}}/s", file=sys.stderr)
    print(json.dumps(figures))


asyncio.run(main())
'''


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", required=True,
                        help="an interpreter with temporalio installed")
    parser.add_argument("--address", default="127.0.0.1:7233")
    parser.add_argument("--workflows", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    tag = f"load{uuid.uuid4().hex[:8]}"
    package = f"{tag}_saga"  # its task queues are `<package>.<module>`: unique to the run
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        generated = subprocess.run(
            [sys.executable, "-m", "mermaidgen", "generate", str(SAMPLE), "--target",
             "temporal", "--style", "orchestration", "--package", package, "--out", str(out)],
            capture_output=True, text=True)
        if generated.returncode != 0:
            print(generated.stderr, file=sys.stderr)
            return 1
        (out / "baseline.py").write_text(textwrap.dedent(BASELINE), encoding="utf-8")
        (out / "driver.py").write_text(DRIVER.format(package=package), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        done = subprocess.run([args.python, "driver.py", args.address, str(args.workflows),
                               str(args.runs), tag], cwd=out, capture_output=True, text=True,
                              env=env)
        sys.stderr.write(done.stderr[-4000:] if done.returncode else done.stderr)
        if done.returncode != 0:
            return 1
        figures = json.loads(done.stdout.strip().splitlines()[-1])

    medians = {k: statistics.median(v) for k, v in figures.items()}
    ratio = medians["generated"] / medians["baseline"]
    per_run = [g / b for g, b in zip(figures["generated"], figures["baseline"], strict=True)]
    print(f"{args.workflows} concurrent workflows of {SAMPLE.name}, {args.runs} runs, "
          f"server {args.address}")
    print(f"  baseline (hand-written): {medians['baseline']:.1f} workflows/s (median)")
    print(f"  generated:               {medians['generated']:.1f} workflows/s (median)")
    print(f"  ratio generated/baseline: {ratio:.2f} (per run: "
          f"{', '.join(f'{r:.2f}' for r in per_run)})")
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "medians": medians,
                                         "ratio": ratio, "per_run": per_run,
                                         "workflows": args.workflows},
                                        indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
