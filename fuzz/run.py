"""Mutation fuzzer for mermaidgen's command line: hostile input must never crash or hang it,
and must never get a wrong answer where an oracle can tell.

    python fuzz/run.py --minutes 10 [--seed S] [--jobs 2]
    python fuzz/run.py --count 650 --seed 2026       # fixed inputs (CI)
    python fuzz/run.py --mode hostile-repo --minutes 10   # hostile repositories: hostile.py

Valid diagrams (tests/conformance/diagrams/**/*.mmd, samples/*.mmd) are mutated (lines and
characters deleted, duplicated, swapped; random bytes and tokens inserted: arrows, keywords,
`end`, `%%{`, `@{`, `---`, BOMs, NUL, CR, lone surrogates and invalid UTF-8; blocks nested
thousands deep; lines and files grown large) and fed to `mermaidgen preview` (every format),
`check` and `generate --out DIR`, in-process through `mermaidgen.commands.cli._run` inside worker
processes (a large stack, as `main` gives it, and a memory limit). Input N is made from its
own random stream, so a seed and a count fix the inputs.

An answer is correct when the exit code is 0, 1 or 2; every error has a diagnostic on stderr
(`file:line:col: error...` with a line inside the file, or a one-line `mermaidgen: error:`);
no traceback and no "internal error" appear; the command finishes within `--timeout`
seconds of CPU time; parse -> canonical Mermaid -> parse gives the same model; and, with
`--mermaid-oracle`, mermaid.js agrees on whether a small input is valid. Anything else is a
failure. The first input of each kind of failure is minimized and saved under
tests/fuzz/regressions/, where tests/test_fuzz_regressions.py replays it. Exit status 1
when any failing input is not, byte for byte, a saved reproducer.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REGRESSIONS = ROOT / "tests" / "fuzz" / "regressions"
SEEDS = [*sorted((ROOT / "tests" / "conformance" / "diagrams").rglob("*.mmd")),
         *sorted((ROOT / "samples").glob("*.mmd"))]
MEMORY_LIMIT = 4 * 1024**3
MAX_INPUT = 4 * 1024**2  # mutations that grow an input stop here


# -- mutations ------------------------------------------------------------------------------

TOKENS = [
    b"->>", b"-->>", b"->", b"-->", b"-x", b"--x", b"-)", b"--)", b"<<->>", b"<<-->>",
    b"-|\\", b"--//", b"/|-", b"\\\\--", b"+", b"-", b"()", b":", b";", b",", b"#", b"#35;",
    b"#59;", b"#quot;", b"#9999999999;", b"#", b"%%", b"%%{", b"%%{init: {", b"}%%",
    b"%%{wrap}%%", b"@{", b"@{ }", b'@{ "type": "database" }', b"}", b"{", b"---", b"---\n",
    b"end", b"end\n", b"loop", b"loop x\n", b"alt", b"else", b"par", b"and", b"critical",
    b"option", b"break", b"rect", b"opt", b"box", b"box Aqua\n", b"participant ",
    b"actor ", b"create ", b"destroy ", b"activate ", b"deactivate ", b"Note over ",
    b"note left of ", b"right of", b"autonumber", b"autonumber 1.5 0.25", b"off", b"title ",
    b"title: ", b"accTitle: ", b"accDescr {", b"accDescr: ", b"links ", b"link ",
    b"properties ", b"details ", b" as ", b"sequenceDiagram", b"sequenceDiagram\n",
    b"SequenceDiagram", b"```mermaid\n", b"```\n", b"<br/>", b"</script>", b"{{ x }}",
    b"${x}", b'"', b"'", b"\\", b"\t", b"\n", b"\r", b"\r\n", b" ", b"\x00", b"\xef\xbb\xbf",
    b"\xff\xfe", b"\xfe\xff", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xff", b"\xc3", b"\xe2\x80",
    b"\xf0\x9f\x98", b"\xc0\xaf", b"\x1b[31m", b"\x0b", b"\x0c", b"\x7f", "\u2028".encode(),
    "\u202e".encode(), "\u200b".encode(), "\ue000".encode(), "\ue001".encode(),
    "\ue002".encode(), "中文".encode(), "👩‍💻".encode(), "e\u0301".encode(), b"class",
    b"import", b"None", b"__init__", b"1", b"10 ", b"0.5", b"-1", b"9" * 30, b"wrap:", b"nowrap:",
]


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [b""]


def _m_delete_line(r: random.Random, d: bytes) -> bytes:
    lines = _lines(d)
    del lines[r.randrange(len(lines))]
    return b"".join(lines)


def _m_duplicate_line(r: random.Random, d: bytes) -> bytes:
    lines = _lines(d)
    i = r.randrange(len(lines))
    lines.insert(i, lines[i])
    return b"".join(lines)


def _m_swap_lines(r: random.Random, d: bytes) -> bytes:
    lines = _lines(d)
    i, j = r.randrange(len(lines)), r.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return b"".join(lines)


def _m_delete_chars(r: random.Random, d: bytes) -> bytes:
    if not d:
        return d
    i = r.randrange(len(d))
    return d[:i] + d[i + r.randint(1, 8):]


def _m_duplicate_chars(r: random.Random, d: bytes) -> bytes:
    if not d:
        return d
    i = r.randrange(len(d))
    j = min(len(d), i + r.randint(1, 40))
    return d[:j] + d[i:j] + d[j:]


def _m_swap_chars(r: random.Random, d: bytes) -> bytes:
    if len(d) < 2:
        return d
    b = bytearray(d)
    i, j = r.randrange(len(b)), r.randrange(len(b))
    b[i], b[j] = b[j], b[i]
    return bytes(b)


def _m_random_bytes(r: random.Random, d: bytes) -> bytes:
    i = r.randint(0, len(d))
    return d[:i] + bytes(r.randrange(256) for _ in range(r.randint(1, 6))) + d[i:]


def _m_token(r: random.Random, d: bytes) -> bytes:
    i = r.randint(0, len(d))
    if r.random() < 0.5:  # at a line start: keywords there start statements
        i = d.rfind(b"\n", 0, i) + 1
    return d[:i] + r.choice(TOKENS) + d[i:]


def _m_replace_token(r: random.Random, d: bytes) -> bytes:
    found = [m.span() for m in re.finditer(rb"->>|-->>|:|end|loop|alt|participant|Note|\w+", d)]
    if not found:
        return _m_token(r, d)
    i, j = r.choice(found)
    return d[:i] + r.choice(TOKENS) + d[j:]


def _m_splice(r: random.Random, d: bytes) -> bytes:
    other = _lines(r.choice(_seed_data()))
    k = r.randrange(len(other))
    piece = b"".join(other[k:k + r.randint(1, 6)])
    lines = _lines(d)
    lines.insert(r.randint(0, len(lines)), piece)
    return b"".join(lines)


def _m_nest(r: random.Random, d: bytes) -> bytes:
    """Wrap a line (or nothing) in many nested blocks, sometimes left unclosed."""
    lines = _lines(d)
    i = r.randint(1, len(lines)) if len(lines) > 1 else len(lines)
    n = r.choice([50, 500, 3000])
    opener = r.choice([b"loop x\n", b"alt a\n", b"par p\n", b"opt o\n", b"critical c\n",
                       b"box B\n", b"rect rgb(1,2,3)\n"])
    closer = b"end\n" if r.random() < 0.8 else b""
    return b"".join(lines[:i]) + opener * n + b"A->>B: x\n" + closer * n + b"".join(lines[i:])


def _m_grow_line(r: random.Random, d: bytes) -> bytes:
    lines = _lines(d)
    i = r.randrange(len(lines))
    line = lines[i]
    body = line.rstrip(b"\r\n")
    size = r.choices([10_000, 100_000, 1_000_000], [6, 3, 1])[0]
    filler = r.choice([b"x", b"ab ", b"->>", b"#35;", b":", b"-", b"A->>B: ", b"\xe4\xb8\xad"])
    lines[i] = body + filler * (size // len(filler)) + line[len(body):]
    return b"".join(lines)


def _m_repeat(r: random.Random, d: bytes) -> bytes:
    lines = _lines(d)
    i = r.randrange(len(lines))
    piece = b"".join(lines[i:i + r.randint(1, 4)])
    return b"".join(lines[:i]) + piece * r.choice([100, 2000, 20000]) + b"".join(lines[i:])


def _m_line_endings(r: random.Random, d: bytes) -> bytes:
    target = r.choice([b"\r\n", b"\r", b"\n\r", b"\x85", "\u2028".encode()])
    return d.replace(b"\n", target)


def _m_bom(r: random.Random, d: bytes) -> bytes:
    return r.choice([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf\xef\xbb\xbf"]) + d


def _m_encode(r: random.Random, d: bytes) -> bytes:
    text = d.decode("utf-8", "replace")
    return text.encode(r.choice(["utf-16", "utf-16-le", "utf-32", "latin-1"]), "replace")


def _m_truncate(r: random.Random, d: bytes) -> bytes:
    return d[:r.randint(0, len(d))]


MUTATIONS = [
    (_m_delete_line, 6), (_m_duplicate_line, 5), (_m_swap_lines, 5), (_m_delete_chars, 6),
    (_m_duplicate_chars, 4), (_m_swap_chars, 4), (_m_random_bytes, 4), (_m_token, 12),
    (_m_replace_token, 8), (_m_splice, 5), (_m_nest, 1), (_m_grow_line, 1), (_m_repeat, 1),
    (_m_line_endings, 2), (_m_bom, 1), (_m_encode, 1), (_m_truncate, 2),
]
_FUNCS = [m for m, _ in MUTATIONS]
_WEIGHTS = [w for _, w in MUTATIONS]

_SEED_CACHE: list[bytes] = []


def _seed_data() -> list[bytes]:
    if not _SEED_CACHE:
        _SEED_CACHE.extend(p.read_bytes() for p in SEEDS)
    return _SEED_CACHE


def mutate(r: random.Random, data: bytes) -> bytes:
    for _ in range(r.choice([1, 1, 2, 2, 3, 4, 6])):
        data = r.choices(_FUNCS, _WEIGHTS)[0](r, data)
        if len(data) > MAX_INPUT:
            data = data[:MAX_INPUT]
    return data


ROUNDTRIP = "roundtrip"


@dataclass(frozen=True)
class Case:
    data: bytes
    suffix: str
    command: str  # preview, check, generate, roundtrip (parse -> canonical Mermaid -> parse)
    options: tuple[str, ...] = ()
    stdin: bool = False

    def argv(self, path: str, out: str) -> list[str]:
        source = "-" if self.stdin else path
        if self.command == "preview":
            return ["preview", source, *self.options]
        if self.command in ("check", ROUNDTRIP):
            return [self.command, path]
        return ["generate", source, "--out", out, *self.options]


def make_cases(r: random.Random, data: bytes) -> list[Case]:
    suffix = r.choices([".mmd", ".md", ".txt"], [8, 1, 1])[0]
    if suffix == ".md":
        data = b"# Doc\n\n```mermaid\n" + data + b"\n```\n\ntext\n"
    stdin = suffix == ".mmd" and r.random() < 0.1
    preview = r.choice([("--width", "100"), ("-f", "json"), ("-f", "mermaid"),
                        ("--ascii", "--width", "60"), ("--diagram-only", "--width", "30")])
    cases = [Case(data, suffix, "preview", preview, stdin), Case(data, suffix, "check")]
    if len(data) < 200_000:  # a wrong model shows in small inputs; big ones only cost time
        cases.append(Case(data, suffix, ROUNDTRIP))
    if r.random() < 0.25 and len(data) < 200_000:
        style = r.choice(["auto", "choreography", "orchestration"])
        cases.append(Case(data, suffix, "generate", ("--style", style), stdin))
    return cases


# -- the worker: runs commands in-process, answers on a private pipe ------------------------

class _Capture:
    """A text stream that keeps the head of what is written and flags tracebacks."""

    LIMIT = 256 * 1024

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.flags: set[str] = set()
        self._tail = ""

    def write(self, s: str) -> int:
        window = self._tail + s
        if "Traceback (most recent call last)" in window:
            self.flags.add("traceback")
        if "internal error" in window:
            self.flags.add("internal error")
        self._tail = window[-64:]
        if self.size < self.LIMIT:
            self.parts.append(s[: self.LIMIT - self.size])
        self.size += len(s)
        return len(s)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        import io

        raise io.UnsupportedOperation("captured stream")

    encoding = "utf-8"
    errors = "strict"

    def getvalue(self) -> str:
        return "".join(self.parts)


# -- the round-trip oracle: parse -> canonical Mermaid -> parse gives the same model ---------

# What `to_mermaid` does not keep (tests/test_emit.py compares the same way): positions, the
# file name, the input's warnings, and `declared` (emission declares every participant).
DROPPED_KEYS = frozenset({"line", "column", "source", "declared", "warnings"})
MISMATCH = 3  # the exit code `round_trip` reports a wrong answer with


def comparable(diagram) -> list[tuple[str, object]]:
    """The model's JSON form minus what emission does not keep, plus the box wrap flags, as
    a flat pre-order list (no recursion: a 5,000-deep model would overflow `==`)."""
    data = _document(diagram)
    flat: list[tuple[str, object]] = []
    stack: list[tuple[str, object]] = [("diagram", data)]
    while stack:
        key, value = stack.pop()
        if isinstance(value, dict):
            items = [(k, v) for k, v in value.items() if k not in DROPPED_KEYS]
            flat.append((key, f"{{{len(items)}}}"))
            stack.extend(reversed(items))
        elif isinstance(value, list):
            flat.append((key, f"[{len(value)}]"))
            stack.extend(reversed([(f"{key}[{i}]", v) for i, v in enumerate(value)]))
        else:
            flat.append((key, value))
    return flat


def _document(diagram) -> dict:
    from mermaidgen.model.serialize import to_dict

    data = to_dict(diagram)
    data["box_wraps"] = [b.wrap for b in diagram.boxes]
    return data


def same_model(before, after) -> bool:
    """`comparable(before) == comparable(after)`, in one walk of both documents that builds
    no list and names no path (a round trip of 20,000 diagrams spent half its time building
    and comparing those lists); `comparable` is left to say where they differ."""
    stack = [(_document(before), _document(after))]
    while stack:
        a, b = stack.pop()
        if type(a) is dict:
            if type(b) is not dict:
                return False
            keys = [k for k in a if k not in DROPPED_KEYS]
            if keys != [k for k in b if k not in DROPPED_KEYS]:
                return False
            pairs = [(a[k], b[k]) for k in keys]
        elif type(a) is list:
            if type(b) is not list or len(a) != len(b):
                return False
            pairs = list(zip(a, b, strict=True))
        else:
            if type(b) in (dict, list) or a != b:
                return False
            continue
        for x, y in pairs:
            if type(x) in (dict, list) or type(y) in (dict, list):
                stack.append((x, y))
            elif x != y:
                return False
    return True


def round_trip(path: str) -> int:
    """Every diagram the source holds, emitted as canonical Mermaid and parsed again, must
    give the same model, without warnings. 0 when it does (or when the source does not
    parse: the other commands judge that), MISMATCH with the difference on stderr."""
    from mermaidgen.errors import MermaidgenError
    from mermaidgen.mermaid.emit import UnrepresentableError, to_mermaid
    from mermaidgen.mermaid.parser import parse
    from mermaidgen.mermaid.sources import load_with_text

    # the verdict the mermaid.js oracle compares with, for the inputs it is asked about
    if path.endswith(".mmd") and len(data := Path(path).read_bytes()) <= ORACLE_MAX:
        print(f"verdict: {verdict(data)}")
    try:
        found = load_with_text(path, warn=False)
    except MermaidgenError:
        return 0
    for number, (_, diagram) in enumerate(found, 1):
        try:
            text = to_mermaid(diagram)
        except UnrepresentableError:
            continue  # said plainly, and nothing to compare
        try:
            again = parse(text, source="<emitted>")
        except MermaidgenError as exc:
            print(f"roundtrip-reparse: diagram {number}: the canonical text does not parse: "
                  f"{exc}\n--- canonical text\n{text[:3000]}", file=sys.stderr)
            return MISMATCH
        if not same_model(diagram, again) \
                and (before := comparable(diagram)) != (after := comparable(again)):
            at = next((i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b),
                      min(len(before), len(after)))
            said = before[at] if at < len(before) else "(nothing)"
            got = after[at] if at < len(after) else "(nothing)"
            print(f"roundtrip-model: diagram {number}: the canonical text parses to another "
                  f"model: {said!r} became {got!r}\n--- canonical text\n{text[:3000]}",
                  file=sys.stderr)
            return MISMATCH
        if again.warnings:
            print(f"roundtrip-warnings: diagram {number}: the canonical text has warnings: "
                  f"{[w.message for w in again.warnings][:3]}\n--- canonical text\n"
                  f"{text[:3000]}", file=sys.stderr)
            return MISMATCH
    return 0


# -- the mermaid.js oracle: is a small input valid? -----------------------------------------

ORACLE_MAX = 2000  # bytes: larger inputs cost mermaid.js too much for a batch
ORACLE_TOOL = Path(os.environ.get("MERMAID_ORACLE", ROOT.parent / "shared" / "tools" /
                                  "mermaid-oracle" / "run"))


def verdict(data: bytes) -> str:
    """What mermaidgen's parser makes of a whole .mmd file, as the conformance suite asks
    it: `accepted`, `rejected N` (the first error's line), `flattened` (recovered from one
    line: the one deliberate difference from mermaid.js), or `skip` (not UTF-8 text)."""
    from mermaidgen.errors import DiagramError
    from mermaidgen.mermaid.parser import parse

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "skip"
    try:
        diagram = parse(text, source="input.mmd")
    except DiagramError as err:
        return f"rejected {err.problems[0].line}"
    if any(w.code == "flattened-diagram" for w in diagram.warnings):
        return "flattened"
    return "accepted"


def disagreement(ours: str, mermaid: dict) -> str | None:
    """The signature of a disagreement with mermaid.js's record on validity, or None."""
    if ours in ("skip", "flattened"):
        return None
    if mermaid.get("ok"):
        return "mermaid-accepts-mermaidgen-rejects" if ours != "accepted" else None
    if ours == "accepted":
        return f"mermaid-rejects-{mermaid.get('error_kind', 'unknown')}-mermaidgen-accepts"
    # Both reject. Not compared: the line. Where mermaid.js reports the end of the file
    # (an unclosed block), mermaidgen points at the block that is not closed.
    return None


class MermaidOracle:
    """mermaid.js's verdicts on small inputs, asked in batches at the end of a run (its
    start-up costs about a second; then 5-20 ms a diagram)."""

    BATCH = 400

    def __init__(self, tool: Path) -> None:
        self.tool = tool
        self.folder = Path(tempfile.mkdtemp(prefix="mermaidgen-oracle-"))
        self.pending: list[tuple[Case, str]] = []
        self.asked = 0

    @classmethod
    def start(cls) -> MermaidOracle | None:
        if not (ORACLE_TOOL.is_file() and shutil.which("node")):
            print(f"--mermaid-oracle: no oracle ({ORACLE_TOOL}, or node missing); going on "
                  "without it", flush=True)
            return None
        return cls(ORACLE_TOOL)

    def offer(self, case: Case, result: dict) -> None:
        said = next((line.split(": ", 1)[1] for line in result.get("stdout", "").splitlines()
                     if line.startswith("verdict: ")), "skip")
        if case.suffix == ".mmd" and len(case.data) <= ORACLE_MAX and said != "skip":
            self.pending.append((case, said))

    def ask(self) -> list[tuple[Case, str, dict]]:
        """(case, our verdict, mermaid's record) for every input offered."""
        answers = []
        for start in range(0, len(self.pending), self.BATCH):
            batch = self.pending[start:start + self.BATCH]
            files = []
            for i, (case, _) in enumerate(batch):
                path = self.folder / f"{start + i}.mmd"
                path.write_bytes(case.data)
                files.append(str(path))
            try:
                done = subprocess.run([str(self.tool), *files], capture_output=True,
                                      timeout=300, text=True)
            except subprocess.TimeoutExpired:
                print(f"  mermaid.js did not answer a batch of {len(batch)} in 300 s; "
                      "skipped", flush=True)
                continue
            records = {}
            for line in done.stdout.split("\n"):  # not splitlines: texts may hold U+2028
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                records[record.get("file")] = record
            for path, (case, ours) in zip(files, batch, strict=True):
                if path in records:
                    answers.append((case, ours, records[path]))
            self.asked += len(batch)
        shutil.rmtree(self.folder, ignore_errors=True)
        return answers


def run_in_process(argv: list[str], stdin: bytes = b"", timeout: float | None = None) -> dict:
    """Run `mermaidgen.commands.cli._run(argv)` on a thread with a large stack (as `main` does),
    capturing its output. With `timeout`, a command still running when this process has
    used that many seconds of CPU time since it started (CPU time, as the workers' limit
    counts: wall time on a busy machine failed answers that took a tenth of it), or ten
    times as many of wall time (a command that waits), is reported, and left running:
    only a worker process can be killed."""
    import contextlib
    import io
    import traceback

    from mermaidgen.commands.cli import _run

    out, err = _Capture(), _Capture()
    result: dict = {}

    def job() -> None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):  # type: ignore[type-var]
            try:
                result["code"] = round_trip(argv[1]) if argv[0] == ROUNDTRIP else _run(argv)
            except SystemExit as exc:
                result["code"] = exc.code if isinstance(exc.code, int) else 1
            except BaseException:  # noqa: BLE001 - every escape is a finding
                result["exception"] = traceback.format_exc()

    started = time.monotonic()
    # as `cli.main` does, for the job's thread only: a limit left raised in this process
    # (a pytest worker, when the tests replay reproducers) lets deep recursion on a normal
    # thread overflow the C stack and kill the process instead of raising
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, 200_000))
    old_size = threading.stack_size(512 * 1024 * 1024)
    try:
        thread = threading.Thread(target=job, daemon=True)
        thread.start()
    finally:
        threading.stack_size(old_size)
    if timeout is None:
        thread.join()
    else:
        cpu = time.process_time()
        while thread.is_alive() and time.process_time() - cpu < timeout \
                and time.monotonic() - started < 10 * timeout:
            thread.join(min(0.05, timeout))
    sys.setrecursionlimit(old_limit)
    if thread.is_alive():
        frame = sys._current_frames().get(thread.ident)  # type: ignore[arg-type]
        trace = "".join(traceback.format_stack(frame)) if frame else ""
        return {"timeout": timeout, "trace": trace}
    result.update(stdout=out.getvalue()[:4096], stderr=err.getvalue()[:65536],
                  flags=sorted(out.flags | err.flags), elapsed=time.monotonic() - started)
    return result


def worker_main() -> None:
    import faulthandler
    import resource

    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ValueError, OSError):
        pass
    dump = open(os.environ["FUZZ_STACK_DUMP"], "w")  # noqa: SIM115 - open for the process
    faulthandler.register(signal.SIGUSR1, file=dump, all_threads=True)
    sys.path.insert(0, str(ROOT))
    os.environ["MERMAIDGEN_DEBUG"] = "1"  # exceptions propagate: we want their traceback
    for line in sys.stdin:
        request = json.loads(line)
        stdin = base64.b64decode(request["stdin"]) if request.get("stdin") else b""
        protocol.write(json.dumps(run_in_process(request["argv"], stdin)) + "\n")
        protocol.flush()


def _cpu_seconds(pid: int) -> float | None:
    """CPU time a process has used (Linux), or None where /proc cannot say."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _wait(sel: selectors.BaseSelector, pid: int, timeout: float) -> list:
    """Wait for the worker's answer until it has spent `timeout` seconds of CPU on the
    command (wall time where CPU time cannot be read), and at most eight times as long in
    wall time: on a busy machine, a slow answer is not a hang."""
    start = _cpu_seconds(pid)
    until = time.monotonic() + (timeout if start is None else 8 * timeout)
    while True:
        ready = sel.select(max(0.0, min(1.0, until - time.monotonic())))
        used = _cpu_seconds(pid)
        if ready or time.monotonic() >= until or \
                (start is not None and used is not None and used - start >= timeout):
            return ready


class Worker:
    """A worker process, restarted after a hang or a crash."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.dump = folder / "stacks.txt"
        self.proc: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        env = dict(os.environ, FUZZ_STACK_DUMP=str(self.dump), COLUMNS="100", NO_COLOR="1")
        env.pop("MERMAIDGEN_DEBUG", None)
        return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, cwd=self.folder, env=env)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def run(self, argv: list[str], stdin: bytes | None, timeout: float) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
        proc = self.proc
        request = {"argv": argv, "stdin": base64.b64encode(stdin).decode() if stdin else None}
        try:
            proc.stdin.write((json.dumps(request) + "\n").encode())  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
        except BrokenPipeError:
            self.stop()
            return {"crash": "the worker died before the input was sent"}
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)  # type: ignore[arg-type]
            ready = _wait(sel, proc.pid, timeout)
        if not ready:
            self.dump.write_text("")
            proc.send_signal(signal.SIGUSR1)
            time.sleep(0.5)
            stacks = self.dump.read_text(errors="replace")
            self.stop()
            return {"timeout": timeout, "stacks": stacks}
        line = proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            code = proc.wait()
            self.proc = None
            return {"crash": f"the worker died (exit status {code})"}
        return json.loads(line)


# -- judging an answer ----------------------------------------------------------------------

_LOCATION = re.compile(r"^(?P<file>[^\n]*?):(?P<line>-?\d+):(?P<col>-?\d+): (?:error|warning)",
                       re.M)
# a source or usage error: `mermaidgen: error: ...`, or `check`'s `FILE: error[source]: ...`
_PLAIN_ERROR = re.compile(r"^(?:mermaidgen: error: \S|[^\n]+: error\[source\]: \S)", re.M)


def _frame(trace: str) -> str:
    """The innermost mermaidgen frame of a traceback or a faulthandler dump."""
    frames = re.findall(r'File "([^"]*mermaidgen/[^"]+)", line \d+, in (\S+)', trace)
    if not frames:
        return "outside-mermaidgen"
    path, func = frames[-1]
    return f"{path.split('mermaidgen/', 1)[1].removesuffix('.py')}.{func}"


def _command_stack(stacks: str) -> tuple[str, str]:
    """The innermost mermaidgen frame of the thread that ran the command in a faulthandler
    dump (which lists the innermost frame first), and that thread's stack. A deep stack is
    cut after 100 frames: then the innermost library module names it."""
    threads = re.split(r"\n\s*(?=Thread 0x|Current thread 0x)", stacks)
    for t in threads:
        frames = re.findall(r'File "([^"]*mermaidgen/[^"]+)", line \d+ in (\S+)', t)
        if frames:
            path, func = frames[0]
            return f"{path.split('mermaidgen/', 1)[1].removesuffix('.py')}.{func}", t
    for t in threads:
        if "fuzz/run.py" not in t and "threading.py" not in t.split("\n", 3)[-1][:300]:
            frames = re.findall(r'File "[^"]*/(\w+/\w+)\.py", line \d+ in', t)
            if frames:
                return frames[0], t
    return "unknown", stacks


def _line_count(data: bytes) -> int:
    text = data.decode("utf-8", "replace")
    return text.count("\n") + text.count("\r") - text.count("\r\n") + 1


def judge(case: Case, result: dict, path: str) -> tuple[str, str] | None:
    """None if the answer is correct, else (signature, details)."""
    cmd = case.command
    if "timeout" in result:
        where, stack = (_frame(result["trace"]), result["trace"][-6000:]) \
            if "trace" in result else _command_stack(result["stacks"])
        where = where.rsplit(".", 1)[0]  # the module: where a slow loop stops varies
        return (f"timeout-{cmd}-{where}",
                f"no answer within {result['timeout']} s of CPU time\n{stack[:6000]}")
    if "crash" in result:
        return f"crash-{cmd}", result["crash"]
    if result.get("exception"):
        trace = result["exception"]
        kind = trace.strip().splitlines()[-1].split(":")[0]
        return f"exception-{cmd}-{kind}-{_frame(trace)}", trace[-6000:]
    err = result["stderr"]
    if "traceback" in result["flags"] or "internal error" in result["flags"]:
        return f"internal-error-{cmd}", err[-6000:]
    if cmd == ROUNDTRIP:
        if result.get("code") == MISMATCH:
            return err.split(":", 1)[0], err[:6000]
        return None
    code = result.get("code")
    if code not in (0, 1, 2):
        return f"exit-code-{cmd}-{code}", err[-3000:]
    if code != 0 and not (_LOCATION.search(err) or _PLAIN_ERROR.search(err)):
        return f"no-diagnostic-{cmd}", f"exit {code}, stderr:\n{err[-3000:]}"
    lines = _line_count(case.data) + (3 if case.suffix == ".md" else 0)
    for m in _LOCATION.finditer(err):
        where = m.group("file")
        if where.endswith(Path(path).name) or where in ("-", "<stdin>"):
            line, col = int(m.group("line")), int(m.group("col"))
            if not (1 <= line <= lines) or col < 1:
                said = err[m.end():].split("\n", 1)[0]
                what = re.split(r"[`'\"(]", said.split(": ", 1)[-1])[0][:40]
                return (f"bad-location-{cmd}-{what.strip()}",
                        f"{m.group(0)} (the input has {lines} lines)\n{err[-2000:]}")
    return None


# -- the fuzzing loop -----------------------------------------------------------------------

@dataclass
class Failure:
    signature: str
    case: Case
    details: str
    known: bool = False
    """Its input (or the input it minimizes to) is a saved reproducer, byte for byte."""
    saved: Path | None = None
    more: int = 0
    """Other inputs that failed with the same signature in this run."""


@dataclass
class Stats:
    inputs: int = 0
    runs: int = 0
    new: int = 0
    """Failing inputs that are not saved reproducers."""
    oracle: MermaidOracle | None = None
    failures: dict[str, Failure] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def run_case(worker: Worker, case: Case, timeout: float,
             answer: dict | None = None) -> tuple[str, str] | None:
    """Run one case in the worker and judge it (`answer`, if given, receives the result)."""
    folder = worker.folder
    path = folder / f"input{case.suffix}"
    out = folder / "out"
    shutil.rmtree(out, ignore_errors=True)
    path.write_bytes(case.data)
    result = worker.run(case.argv(str(path), str(out)), case.data if case.stdin else None,
                        timeout)
    if answer is not None:
        answer.update(result)
    return judge(case, result, str(path))


def minimize(worker: Worker, case: Case, signature: str, timeout: float,
             budget: float) -> Case:
    """A smaller input with the same failure signature (line, then byte delta debugging)."""
    deadline = time.monotonic() + budget
    slow = signature.startswith("timeout")

    def still_fails(data: bytes) -> bool:
        if time.monotonic() > deadline:
            return False
        found = run_case(worker, Case(data, case.suffix, case.command, case.options,
                                      case.stdin), timeout)
        return found is not None and found[0] == signature

    data = case.data
    for unit in ("lines", "bytes"):
        if slow and unit == "bytes":
            break
        pieces = _lines(data) if unit == "lines" else [bytes([b]) for b in data]
        if unit == "bytes" and len(pieces) > 4000:
            break
        n = 2
        while len(pieces) >= 2 and time.monotonic() < deadline:
            size = max(1, len(pieces) // n)
            reduced = False
            for start in range(0, len(pieces), size):
                candidate = pieces[:start] + pieces[start + size:]
                if candidate and still_fails(b"".join(candidate)):
                    pieces, reduced = candidate, True
                    n = max(n - 1, 2)
                    break
            if not reduced:
                if size == 1:
                    break
                n = min(len(pieces), n * 2)
        data = b"".join(pieces)
    return Case(data, case.suffix, case.command, case.options, case.stdin)


def slug(signature: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", signature).strip("-").lower()[:70]


BIG = 64 * 1024  # reproducers larger than this are saved gzipped (they compress very well)


def save(failure: Failure, folder: Path) -> Path:
    """Write the reproducer as `<signature>-<hash>.<suffix>[.gz]` (plus a `.json` sidecar
    when it needs `generate` or stdin to fail)."""
    import gzip

    folder.mkdir(parents=True, exist_ok=True)
    case = failure.case
    name = f"{slug(failure.signature)}-{hashlib.sha256(case.data).hexdigest()[:8]}{case.suffix}"
    path = folder / name
    if len(case.data) > BIG:
        path = path.with_name(name + ".gz")
        path.write_bytes(gzip.compress(case.data, mtime=0))
    else:
        path.write_bytes(case.data)
    if case.command == "mermaid":  # mermaid.js's verdict, for the test to compare with
        how = {"command": "mermaid", "mermaid": json.loads(case.options[0])}
        path.with_name(path.name + ".json").write_text(json.dumps(how) + "\n")
    elif case.command == "generate" or case.stdin:
        how = {"command": case.command, "options": list(case.options), "stdin": case.stdin}
        path.with_name(path.name + ".json").write_text(json.dumps(how) + "\n")
    return path


def regression_files(folder: Path = REGRESSIONS) -> list[Path]:
    return sorted(p for p in folder.glob("*") if p.is_file() and p.suffix != ".json"
                  and not p.name.startswith(("README", ".")))


def load_regression(path: Path) -> tuple[bytes, str, dict]:
    """A saved reproducer: its bytes, the suffix it was run with, and its sidecar."""
    import gzip

    data = path.read_bytes()
    name = path.name
    if name.endswith(".gz"):
        data, name = gzip.decompress(data), name[:-3]
    sidecar = path.with_name(path.name + ".json")
    how = json.loads(sidecar.read_text()) if sidecar.exists() else {}
    return data, Path(name).suffix, how


def input_id(data: bytes) -> str:
    """What makes an input known: the hash of its exact bytes."""
    return hashlib.sha256(data).hexdigest()


def known_inputs(folder: Path) -> set[str]:
    """The exact inputs saved as reproducers. A failure counts as known only when its input
    (or the input it minimizes to) is one of them: a new input that fails the same way as
    a saved one, in the same module, is a new failure (a new hang where an old one was
    fixed looks just like it)."""
    if not folder.is_dir():
        return set()
    return {input_id(load_regression(path)[0]) for path in regression_files(folder)}


def next_input(args: argparse.Namespace, stats: Stats, deadline: float) -> int | None:
    """The number of the next input to try, or None when the run is over. Input N is made
    from its own random stream (`seed-N`), so a seed and a count fix the inputs tried,
    whatever the number of jobs and however fast each runs."""
    with stats.lock:
        if (args.count and stats.inputs >= args.count) or \
                (not args.count and time.monotonic() >= deadline):
            return None
        stats.inputs += 1
        return stats.inputs - 1


def input_rng(seed: str, number: int) -> random.Random:
    return random.Random(f"{seed}-{number}")


def fuzz_loop(index: int, args: argparse.Namespace, stats: Stats, known: set[str],
              deadline: float, folder: Path) -> None:
    worker = Worker(folder)
    seeds = _seed_data()
    try:
        while (number := next_input(args, stats, deadline)) is not None:
            rng = input_rng(args.seed, number)
            data = mutate(rng, rng.choice(seeds))
            for case in make_cases(rng, data):
                result: dict = {}
                found = run_case(worker, case, args.timeout, result)
                with stats.lock:
                    stats.runs += 1
                    if stats.oracle is not None and case.command == ROUNDTRIP:
                        stats.oracle.offer(case, result)
                if found is None:
                    continue
                signature, details = found
                if signature.startswith("timeout") and \
                        run_case(worker, case, args.timeout) is None:
                    continue  # slow once, not twice: the machine was busy
                failure = Failure(signature, case, details,
                                  known=input_id(case.data) in known)
                with stats.lock:
                    if signature in stats.failures:  # one of each kind is enough to report,
                        stats.failures[signature].more += 1  # but every one counts
                        stats.new += not failure.known
                        continue
                    stats.failures[signature] = failure
                print(f"\nfailure: {signature} ({len(case.data)} bytes, {case.command} "
                      f"{' '.join(case.options)})", flush=True)
                if not args.no_minimize and not failure.known:
                    failure.case = minimize(worker, case, signature, args.timeout,
                                            args.minimize_budget)
                    failure.known = input_id(failure.case.data) in known
                    print(f"  minimized to {len(failure.case.data)} bytes", flush=True)
                with stats.lock:
                    stats.new += not failure.known
                if not failure.known and not args.no_save:
                    failure.saved = save(failure, args.regressions)
                    print(f"  saved {_shown(failure.saved)}", flush=True)
    finally:
        worker.stop()


def _shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("input", "hostile-repo"), default="input",
                        help="input: mutated diagrams (the default); hostile-repo: throw-away "
                        "repositories with links, journals, configs and template sets")
    parser.add_argument("--minutes", type=float, default=1.0,
                        help="how long to fuzz (without --count)")
    parser.add_argument("--count", "--max-inputs", type=int, default=0,
                        help="try exactly this many inputs, however long it takes: with "
                        "--seed, the inputs tried are fixed (CI)")
    parser.add_argument("--seed", default=str(int(time.time())), help="random seed")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--timeout", type=float, default=15.0,
                        help="seconds of CPU time one command may take (default 15; at "
                        "most eight times as long in wall time)")
    parser.add_argument("--regressions", type=Path, default=None,
                        help="where minimized reproducers go (default: tests/fuzz/regressions,"
                        " or tests/fuzz/hostile with --mode hostile-repo)")
    parser.add_argument("--mermaid-oracle", action="store_true",
                        help="also ask mermaid.js (../shared/tools/mermaid-oracle) whether "
                        "small inputs are valid, in batches, and report disagreements")
    parser.add_argument("--no-save", action="store_true", help="save no reproducers")
    parser.add_argument("--no-minimize", action="store_true", help="keep failing inputs whole")
    parser.add_argument("--minimize-budget", type=float, default=90.0,
                        help="seconds spent minimizing each failure")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker_main()
        return 0
    if args.mode == "hostile-repo":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import hostile  # fuzz/hostile.py, beside this file

        args.regressions = args.regressions or hostile.REPRODUCERS
        return hostile.main(args)
    args.regressions = args.regressions or REGRESSIONS
    started = time.monotonic()
    oracle = MermaidOracle.start() if args.mermaid_oracle else None
    with tempfile.TemporaryDirectory(prefix="mermaidgen-fuzz-") as tmp:
        folders = [Path(tmp) / f"w{i}" for i in range(max(1, args.jobs))]
        for f in folders:
            f.mkdir()
        known = known_inputs(args.regressions)
        amount = f"{args.count} inputs" if args.count else f"{args.minutes:g} min"
        print(f"fuzzing {amount} with seed {args.seed}, {len(folders)} job(s), "
              f"{len(SEEDS)} seed diagrams; {len(known)} saved reproducer(s) in "
              f"{_shown(args.regressions)}", flush=True)
        stats = Stats(oracle=oracle)
        deadline = time.monotonic() + args.minutes * 60
        threads = [threading.Thread(target=fuzz_loop, args=(i, args, stats, known, deadline, f))
                   for i, f in enumerate(folders)]
        for t in threads:
            t.start()
        last = time.monotonic()
        while any(t.is_alive() for t in threads):
            time.sleep(0.2)
            if time.monotonic() - last >= 30:
                last = time.monotonic()
                print(f"  {stats.inputs} inputs, {stats.runs} runs, "
                      f"{len(stats.failures)} failure(s)", flush=True)
        if oracle is not None:
            oracle_verdicts(oracle, stats, args, known)
    return report(stats, started)


def oracle_verdicts(oracle: MermaidOracle, stats: Stats, args: argparse.Namespace,
                    known: set[str]) -> None:
    """Ask mermaid.js about the small inputs; each disagreement is a failure, saved with
    mermaid's verdict beside it (so the regression test needs no Node)."""
    print(f"asking mermaid.js about {len(oracle.pending)} small input(s)...", flush=True)
    for case, ours, record in oracle.ask():
        signature = disagreement(ours, record)
        if signature is None:
            continue
        mermaid = {"ok": bool(record.get("ok")), "error_kind": record.get("error_kind"),
                   "source_line": record.get("source_line")}
        case = Case(case.data, ".mmd", "mermaid", (json.dumps(mermaid),))
        failure = Failure(signature, case, f"mermaidgen: {ours}; mermaid.js: "
                          f"{json.dumps(mermaid)} {record.get('error', '')[:300]}",
                          known=input_id(case.data) in known)
        stats.new += not failure.known
        if signature in stats.failures:
            stats.failures[signature].more += 1
            continue
        stats.failures[signature] = failure
        if not failure.known and not args.no_save:
            failure.saved = save(failure, args.regressions)
    print(f"  mermaid.js judged {oracle.asked} input(s)", flush=True)


def report(stats: Stats, started: float) -> int:
    """The figures, each kind of failure with one input, and the exit status: 1 when an
    input that is not a saved reproducer failed."""
    print(f"\n{stats.inputs} inputs tried ({stats.runs} command runs) in "
          f"{time.monotonic() - started:.0f} s; {len(stats.failures)} kind(s) of failure, "
          f"{stats.new} failing input(s) not saved as reproducers")
    for f in stats.failures.values():
        where = f" -> {_shown(f.saved)}" if f.saved else ""
        more = f", and {f.more} more input(s) like it" if f.more else ""
        print(f"  {'known' if f.known else 'NEW  '} {f.signature} "
              f"({len(f.case.data)} bytes{more}){where}")
        print(f"    input: {f.case.data[:120]!r}{'...' if len(f.case.data) > 120 else ''}")
        lines = f.details.strip().splitlines()
        lines = lines[:5] if f.signature.startswith(("timeout", "roundtrip", "mermaid")) \
            else lines[-4:]
        print("    " + "\n    ".join(lines))
    return 1 if stats.new else 0


if __name__ == "__main__":
    sys.exit(main())
