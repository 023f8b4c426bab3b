"""`mermaidgen verify` at scale: 100,000 traces (a million spans), streamed.

    python benchmarks/verify.py [--traces 100000] [--small 20000] [--format otlp|jaeger]
                                [--json out.json]

Writes, into a temporary folder, an export of `--traces` runs of samples/checkout.mmd:
each trace has the five HTTP spans of a checkout (a server span with no client for the
customer, two client/server pairs) and five INTERNAL spans (database queries, as real
services have), 10 spans in all; the payment service's clock is skewed by two seconds;
one trace in four is a declined card, one in fifty is broken (a call made twice). OTLP
is written as the file exporter does, one document per line, each trace's spans together
(`--sorted` holds); Jaeger as `{"data": [trace, ...]}`.

Measured in one process, in this order: the time to only decode the same file with the
same JSON library (`json.loads` per line for OTLP, `json.load` of the file for Jaeger,
which holds it all), then the time of `verify(...)` (reading, grouping, mapping,
ordering, checking, coverage); the ratio of the two is the figure to watch (the issue
asks for at most 3). Each is measured as wall time and as this process's CPU time: on a
machine shared with other work the wall time of the two phases sees different loads,
the CPU time much less so. Peak memory (ru_maxrss) of `verify` alone is measured in a fresh
child process for the full file and for a `--small` one: with streaming it stays flat as
the file grows.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))  # run from a checkout without installing

from mermaidgen import parse_file  # noqa: E402
from mermaidgen.verify import verify  # noqa: E402

DIAGRAM = PROJECT / "samples" / "checkout.mmd"
BASE = 1_700_000_000_000_000_000
SKEW = 2_000_000_000


def _spans(n: int) -> list[tuple[str, dict]]:
    """(service, span) for trace number n: nanosecond times, OTLP field names."""
    trace = f"{n:032x}"
    t0 = BASE + n * 10_000_000

    def span(k: int, parent: int | None, name: str, kind: int, start: int, end: int,
             **attrs: str) -> dict:
        return {"traceId": trace, "spanId": f"{n:012x}{k:04x}",
                "parentSpanId": f"{n:012x}{parent:04x}" if parent is not None else "",
                "name": name, "kind": kind, "startTimeUnixNano": str(t0 + start),
                "endTimeUnixNano": str(t0 + end),
                "attributes": [{"key": key.replace("_", "."), "value": {"stringValue": v}}
                               for key, v in attrs.items()]}

    declined = n % 4 == 3
    twice = n % 50 == 49
    reply = "Payment declined" if declined else "Payment captured"
    out = [
        ("web-shop", span(1, None, "POST /checkout", 2, 1000, 9000, http_route="/checkout")),
        ("web-shop", span(6, 1, "SELECT carts", 1, 1100, 1500, db_system="postgresql")),
        ("web-shop", span(2, 1, "POST", 3, 2000, 8000)),
        ("order-service", span(3, 2, "POST /orders", 2, 2100, 7900, http_route="/orders")),
        ("order-service", span(7, 3, "INSERT orders", 1, 2200, 2600, db_system="postgresql")),
        ("order-service", span(8, 3, "UPDATE orders", 1, 6100, 6500, db_system="postgresql")),
        ("order-service", span(4, 3, "POST", 3, 3000, 4000)),
        ("payment-service", span(5, 4, "POST /charges", 2, 3100 + SKEW, 3900 + SKEW,
                                 http_route="/charges", mermaidgen_reply=reply)),
        ("payment-service", span(9, 5, "INSERT charges", 1, 3200 + SKEW, 3500 + SKEW)),
        ("web-shop", span(10, 1, "render", 1, 8100, 8900)),
    ]
    if twice:  # a broken run: the card charged twice
        out.append(("order-service", span(11, 3, "POST", 3, 4100, 5000)))
        out.append(("payment-service", span(12, 11, "POST /charges", 2, 4200 + SKEW,
                                            4900 + SKEW, mermaidgen_reply=reply)))
    return out


def _resource(service: str, spans: list[dict]) -> dict:
    return {"resource": {"attributes": [{"key": "service.name",
                                         "value": {"stringValue": service}}]},
            "scopeSpans": [{"scope": {"name": "bench"}, "spans": spans}]}


def write_otlp(path: Path, traces: int) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for n in range(traces):
            by_service: dict[str, list[dict]] = {}
            for service, span in _spans(n):
                by_service.setdefault(service, []).append(span)
            doc = {"resourceSpans": [_resource(s, spans) for s, spans in by_service.items()]}
            out.write(json.dumps(doc, separators=(",", ":")) + "\n")


def write_jaeger(path: Path, traces: int) -> None:
    kinds = {1: "internal", 2: "server", 3: "client"}
    with open(path, "w", encoding="utf-8") as out:
        out.write('{"data": [\n')
        for n in range(traces):
            processes: dict[str, str] = {}
            spans = []
            for service, s in _spans(n):
                pid = processes.setdefault(service, f"p{len(processes) + 1}")
                start = int(s["startTimeUnixNano"]) // 1000
                tags = [{"key": "span.kind", "type": "string", "value": kinds[s["kind"]]}]
                tags += [{"key": a["key"], "type": "string", "value": a["value"]["stringValue"]}
                         for a in s["attributes"]]
                spans.append({"traceID": s["traceId"], "spanID": s["spanId"],
                              "operationName": s["name"],
                              "references": [{"refType": "CHILD_OF", "traceID": s["traceId"],
                                              "spanID": s["parentSpanId"]}]
                              if s["parentSpanId"] else [],
                              "startTime": start,
                              "duration": int(s["endTimeUnixNano"]) // 1000 - start,
                              "tags": tags, "processID": pid})
            trace = {"traceID": f"{n:032x}", "spans": spans,
                     "processes": {pid: {"serviceName": svc, "tags": []}
                                   for svc, pid in processes.items()}}
            out.write(("," if n else "") + json.dumps(trace, separators=(",", ":")) + "\n")
        out.write("]}\n")


def decode_only(path: Path, fmt: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of decoding the file alone."""
    start, cpu = time.perf_counter(), time.process_time()
    with open(path, encoding="utf-8") as handle:
        if fmt == "otlp":
            for line in handle:
                json.loads(line)
        else:
            json.load(handle)
    return time.perf_counter() - start, time.process_time() - cpu


def run_verify(path: Path) -> tuple[tuple[float, float], dict]:
    diagram = parse_file(str(DIAGRAM))[0]
    start, cpu = time.perf_counter(), time.process_time()
    report = verify(diagram, [(path, path.name)], sorted_input=True)
    took = time.perf_counter() - start, time.process_time() - cpu
    return took, {"traces": report.checked, "conforming": report.conforming,
                  "failing": report.failing, "spans": report.spans,
                  "checker_calls": report.checker_calls,
                  "coverage": round(report.coverage.percent, 1) if report.coverage else None}


def peak_memory(path: Path) -> int:
    """Peak resident memory (KiB) of a fresh process that only runs `verify`."""
    done = subprocess.run([sys.executable, __file__, "--child", str(path)],
                          capture_output=True, text=True, check=True)
    return int(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=20_000)
    parser.add_argument("--format", choices=("otlp", "jaeger"), default="otlp")
    parser.add_argument("--json")
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        run_verify(Path(args.child))
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        return
    write = write_otlp if args.format == "otlp" else write_jaeger
    with tempfile.TemporaryDirectory() as folder:
        big, small = Path(folder, f"big.{args.format}"), Path(folder, f"small.{args.format}")
        write(big, args.traces)
        write(small, args.small)
        decoded = decode_only(big, args.format)
        took, report = run_verify(big)
        figures = {
            "format": args.format, "traces": args.traces,
            "file_mb": round(big.stat().st_size / 1e6, 1),
            "decode_only_s": round(decoded[0], 2), "verify_s": round(took[0], 2),
            "ratio": round(took[0] / decoded[0], 2),
            "decode_only_cpu_s": round(decoded[1], 2), "verify_cpu_s": round(took[1], 2),
            "cpu_ratio": round(took[1] / decoded[1], 2), **report,
            "peak_kib": {str(args.small): peak_memory(small),
                         str(args.traces): peak_memory(big)},
            "small_file_mb": round(small.stat().st_size / 1e6, 1),
        }
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
