"""Message identity on the wire of the FastStream target, on real servers (NATS JetStream,
Redis Streams, RabbitMQ): an event is its event key and schema version, and the name of
the diagram message it was published as, never its position in the diagram.

* the diagram is edited (two `alt` sections swapped: every message in them moves) and
  the consumer rolled out while an event of the old build is in flight: the new build
  runs the handler case of the drawing the old build meant;
* an event without the tool's headers (a plain FastStream producer) whose type is clear
  is handled;
* a message that is no event of its channel, or an event without headers that the
  service handles differently in two places of the diagram, is logged with its
  correlation id and dead-lettered, never acknowledged silently.

Each step is a run of tests/identity_driver.py of its own, in the runner the engine tests
share (tests/project_runner.py: a run imports the modules of its own build, never another
run's): the old build publishes, the new one consumes. Marked `engine`: a server that
does not answer skips them, which fails in CI mode.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest
from projects import run_python
from test_faststream_faults import PORTS, URLS, _up
from test_target_faststream import generate

DRIVER = Path(__file__).with_name("identity_driver.py")
# Stock decides; Orders releases the stock either way, and Stock's answer to the release
# depends on which section it was drawn in
OLD = """sequenceDiagram
    participant Orders
    participant Stock
    participant Audit
    Orders->>Stock: Reserve(orderId)
    alt reserved
        Stock->>Orders: Reserved
        Orders->>Stock: Release
        Stock->>Orders: Released
    else failed
        Stock->>Orders: Failed
        Orders->>Stock: Release
        Stock->>Audit: Released
    end
"""
# the same diagram with its two sections swapped
NEW = """sequenceDiagram
    participant Orders
    participant Stock
    participant Audit
    Orders->>Stock: Reserve(orderId)
    alt failed
        Stock->>Orders: Failed
        Orders->>Stock: Release
        Stock->>Audit: Released
    else reserved
        Stock->>Orders: Reserved
        Orders->>Stock: Release
        Stock->>Orders: Released
    end
"""
OLD_RELEASE_WHEN_FAILED = 12  # its line in OLD
DIAGRAM = Path("stock.mmd")


def _step(python: Path, out: Path, package: str, broker: str, *args: str) -> dict:
    done = run_python(python, ["identity_driver.py", package, *args], out, timeout=120,
                      MERMAIDGEN_BROKER_URL=URLS[broker], PYTHONPATH=str(out))
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines, done.stdout + done.stderr
    result = json.loads(lines[-1])
    result["log"] = done.stderr
    return result


@pytest.mark.engine
@pytest.mark.parametrize("broker", ("nats", "redis", "rabbit"))
def test_events_are_routed_by_name_and_type_across_a_diagram_edit(
        broker: str, tmp_path: Path, faststream_python: Path) -> None:
    if not _up(broker):
        pytest.skip(f"no {broker} server on 127.0.0.1:{PORTS[broker]}; start one with "
                    "`.ci/servers/brokers.sh start`")
    package = f"identity_{uuid.uuid4().hex[:8]}"  # its own streams, groups and queues
    builds = {}
    for name, text in (("old", OLD), ("new", NEW)):
        out = builds[name] = tmp_path / name
        generate(DIAGRAM, out, broker, text=text, package=package)
        shutil.copy(DRIVER, out / DRIVER.name)
    new, old = builds["new"], builds["old"]
    in_flight, plain, unknown, ambiguous = (
        f"{kind}-{uuid.uuid4().hex[:8]}" for kind in ("in-flight", "plain", "unknown",
                                                      "ambiguous"))

    _step(faststream_python, new, package, broker, "declare",
          "RESERVE", '{"orderId": "o-1"}', plain, "RESERVE", '{"sku": 7}', unknown,
          "RELEASE", "{}", ambiguous)
    _step(faststream_python, old, package, broker, "publish",
          str(OLD_RELEASE_WHEN_FAILED), in_flight)
    result = _step(faststream_python, new, package, broker, "consume", "4")
    print(f"{broker}: {json.dumps({k: v for k, v in result.items() if k != 'log'})}")

    sent = {cid: (sender, receiver, text) for cid, sender, receiver, text, _ in result["sent"]}
    # the release drawn under `failed` in the old diagram is answered as drawn there
    assert sent.get(in_flight) == ("Stock", "Audit", "Released"), result
    # no headers, one event on the channel: handled (Stock's default, the first branch)
    assert sent.get(plain) == ("Stock", "Orders", "Failed"), result
    # no event of the channel: dead-lettered and logged with its correlation id
    assert unknown not in sent, result
    letters = [r for r in result["dead_letters"] if r["correlation_id"] == unknown]
    assert len(letters) == 1, result
    assert letters[0]["body"] == {"sku": 7}
    assert f"correlation id {unknown}" in result["log"], result["log"]
    # a release without headers: Stock answers it differently in each section
    assert ambiguous not in sent, result
    letters = [r for r in result["dead_letters"] if r["correlation_id"] == ambiguous]
    assert len(letters) == 1 and "RELEASE_IN_FAILED" in letters[0]["error"], result
    assert len(result["sent"]) == 2, result  # nothing else was done twice or misrouted
