"""Writing skeletons safely: never outside the output folder, never over the user's files,
never a half-written tree (crashes, read-only folders, concurrent runs).

Most cases use small hand-made file lists (`RenderedFile`s), so that each shows one rule;
the hostile-name cases go through the whole pipeline (parse, build, plan, write).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
from projects import tree

import mermaidgen
from mermaidgen.codegen.generate import build
from mermaidgen.codegen.write import output
from mermaidgen.codegen.write.output import OutputError
from mermaidgen.codegen.write.render import RenderedFile
from mermaidgen.errors import DiagramError, UsageError

PROJECT = Path(__file__).resolve().parents[1]
CHECKOUT = (PROJECT / "samples" / "checkout.mmd").read_text(encoding="utf-8")
LOCK = ".mermaidgen/lock"


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    """fsync matters only when the machine loses power, which no test here can cause;
    skipping it in this process keeps the suite fast (child processes still sync)."""
    monkeypatch.setattr(output.os, "fsync", lambda fd: None)


def gen(path: str, content: str = "x\n", owner: str = "generated") -> RenderedFile:
    return RenderedFile(path, content, owner)


# Version 1 and 2 of a small skeleton: v2 changes every file, adds one in a new folder and
# drops one (which becomes stale).
V1 = [gen("pkg/a.py", "a = 1\n"), gen("pkg/sub/b.py", "b = 1\n"), gen("top.txt", "t1\n"),
      gen("old.txt", "old\n"), gen("pkg/hooks.py", "# yours\n", "user")]
V2 = [gen("pkg/a.py", "a = 2\n"), gen("pkg/sub/b.py", "b = 2\n"), gen("top.txt", "t2\n"),
      gen("pkg/new/c.py", "c = 2\n"), gen("pkg/hooks.py", "# yours, v2\n", "user")]


def write(files: list[RenderedFile], out: Path, force: bool = False) -> output.Plan:
    p = output.plan(files, out, {"source": "test"}, force)
    output.write(p)
    return p


def kinds(p: output.Plan) -> dict[str, str]:
    return {a.path: a.kind for a in p.actions}


def generation(text: str = CHECKOUT, **options) -> mermaidgen.codegen.generate.Generation:
    return build(mermaidgen.parse(text, source="flow.mmd"), text, **options)


def generate(out: Path, text: str = CHECKOUT, force: bool = False, **options) -> output.Plan:
    g = generation(text, **options)
    p = output.plan(list(g.files), out, g.meta(), force)
    output.write(p)
    return p


def read_only(path: Path) -> None:
    for folder, _, _ in os.walk(path):
        os.chmod(folder, 0o500)


def writable(path: Path) -> None:
    for folder, _, _ in os.walk(path):
        os.chmod(folder, 0o755)


NOBODY = 65534


def where_permissions_apply(tmp_path: Path, body: Callable[[Path], None]) -> None:
    """Run `body(folder)` where folder permissions are enforced. Root ignores them, so
    as root the body runs in a forked child that has become `nobody`."""
    if getattr(os, "geteuid", lambda: -1)() != 0:
        body(tmp_path)
        return
    base = Path(tempfile.mkdtemp(prefix="mermaidgen-permissions-"))
    os.chown(base, NOBODY, NOBODY)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child reports through the pipe and never returns into pytest
        os.close(reader)
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            report = "ok"
        except OSError as exc:
            report = f"skip:cannot become an ordinary user to test permissions ({exc})"
        if report == "ok":
            try:
                body(base)
            except BaseException:
                report = "fail:" + traceback.format_exc()
        with os.fdopen(writer, "w") as pipe:
            pipe.write(report)
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        report = pipe.read()
    os.waitpid(pid, 0)
    writable(base)
    shutil.rmtree(base)
    if report.startswith("skip:"):
        pytest.skip(report.removeprefix("skip:"))
    if report != "ok":
        pytest.fail(report.removeprefix("fail:") or "the test's child process died",
                    pytrace=False)


# --- paths that try to leave the folder -------------------------------------------------

ESCAPES = {
    "parent": "../x",
    "absolute": "/abs",
    "absolute-etc": "/etc/passwd",
    "climbs-out-midway": "a/../../b",
    "ends-in-parent": "a/..",
    "only-parent": "..",
    "backslash": "a\\b",
    "backslash-parent": "..\\..\\x",
    "nul": "a\x00b",
    "empty": "",
    "dot": ".",
    "empty-part": "a//b",
    "dot-part": "a/./b",
    "trailing-slash": "a/",
    "drive-letter": "C:/x",
    "state-folder": ".mermaidgen/manifest.json",
    "state-folder-escape": ".mermaidgen/../../x",
}


@pytest.mark.parametrize("path", ESCAPES.values(), ids=ESCAPES.keys())
def test_plan_refuses_paths_that_leave_the_folder(tmp_path, path):
    out = tmp_path / "out"
    with pytest.raises(OutputError, match="refusing to write"):
        output.plan([gen("ok.txt"), gen(path)], out, {})
    assert tree(tmp_path) == {}


LAYOUTS = {
    "same-path-twice": ["a.txt", "a.txt"],
    "same-path-but-case": ["Readme.md", "README.md"],
    "file-where-a-folder-goes": ["pkg", "pkg/a.py"],
    "folder-before-file": ["pkg/sub/a.py", "pkg/sub"],
}


@pytest.mark.parametrize("paths", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_plan_refuses_files_that_collide(tmp_path, paths):
    with pytest.raises(OutputError, match="two files|would be a file"):
        output.plan([gen(p) for p in paths], tmp_path / "out", {})
    assert tree(tmp_path) == {}


HOSTILE_NAMES = ["../../x", "/etc/passwd", "..", "~root", "..\\..\\x", "$HOME",
                 ".mermaidgen", "a/b/../../../c", "__init__", "C:\\Windows"]
DIAGRAM_SHAPES = {
    "as-id": "sequenceDiagram\n    participant {n}\n    participant Q\n"
             "    {n}->>Q: hello\n    Q-->>{n}: hi\n",
    "as-sender": "sequenceDiagram\n    participant {n}\n    participant Q\n"
                 "    {n}->>Q: hello\n    Q->>Q: think\n",
    "as-label": "sequenceDiagram\n    participant P as {n}\n    participant Q as {n}\n"
                "    P->>Q: hello\n    Q-->>P: hi\n",
    "as-title": "sequenceDiagram\n    title {n}\n    participant P\n    participant Q\n"
                "    P->>Q: hello\n    Q-->>P: hi\n",
}


# Names that Mermaid itself does not take as a participant id: a clear diagram error.
NOT_IDS = {("as-id", "/etc/passwd"), ("as-id", "C:\\Windows"), ("as-sender", "C:\\Windows")}


@pytest.mark.parametrize("style", ["choreography", "orchestration"])
@pytest.mark.parametrize("shape", DIAGRAM_SHAPES)
@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_never_leave_the_folder(tmp_path, name, shape, style):
    """The whole pipeline: every file written lands inside `out`, with a plain path."""
    root = tmp_path / "root"
    out = root / "deep" / "out"
    out.mkdir(parents=True)
    (root / "sentinel").write_text("untouched")
    before = tree(root)
    text = DIAGRAM_SHAPES[shape].format(n=name)
    if (shape, name) in NOT_IDS:
        with pytest.raises(DiagramError):
            generate(out, text, style=style)
        assert tree(root) == before
        return
    p = generate(out, text, style=style)
    after = tree(root)
    assert {k: v for k, v in before.items() if not k.startswith("deep/")} == \
        {k: v for k, v in after.items() if not k.startswith("deep/")}
    written = {k.removeprefix("deep/out/") for k, v in after.items()
               if k.startswith("deep/out/") and isinstance(v, bytes)}
    assert written == {a.path for a in p.actions} | {output.MANIFEST, LOCK}
    for path in written:
        assert ".." not in path.split("/") and "\\" not in path and not path.startswith("/")


PACKAGES = ["../x", "/abs", "a/b", "..", "x\x00", "", "~root", "Upper", "a.b", "import"]


@pytest.mark.parametrize("package", PACKAGES)
def test_package_names_that_could_escape_are_refused(tmp_path, package):
    with pytest.raises(UsageError, match="--package"):
        generation(package=package)


def test_a_package_name_from_a_title_stays_a_plain_name(tmp_path):
    text = CHECKOUT.replace("title Checkout", "title ../../etc/cron.d/evil")
    p = generate(tmp_path / "out", text)
    packages = {a.path.split("/")[0] for a in p.actions if a.path.endswith("__init__.py")}
    assert packages and all(name.isidentifier() for name in packages)


# --- symbolic links inside the output folder ---------------------------------------------

def _generated_then(tmp_path: Path) -> tuple[Path, Path]:
    out, outside = tmp_path / "out", tmp_path / "outside"
    write(V1, out)
    outside.mkdir()
    (outside / "precious.txt").write_text("precious")
    return out, outside


def _link_package_folder(out: Path, outside: Path) -> None:
    shutil.rmtree(out / "pkg")
    (out / "pkg").symlink_to(outside, target_is_directory=True)


def _link_generated_file(out: Path, outside: Path) -> None:
    (out / "pkg" / "a.py").unlink()
    (out / "pkg" / "a.py").symlink_to(outside / "precious.txt")


def _link_user_file(out: Path, outside: Path) -> None:
    (out / "pkg" / "hooks.py").unlink()
    (out / "pkg" / "hooks.py").symlink_to(outside / "precious.txt")


def _link_dangling(out: Path, outside: Path) -> None:
    (out / "top.txt").unlink()
    (out / "top.txt").symlink_to(outside / "not-there.txt")


def _link_state_folder(out: Path, outside: Path) -> None:
    shutil.rmtree(out / ".mermaidgen")
    (out / ".mermaidgen").symlink_to(outside, target_is_directory=True)


LINKS = {
    "package-folder": _link_package_folder,
    "generated-file": _link_generated_file,
    "user-file": _link_user_file,
    "dangling-file": _link_dangling,
    "state-folder": _link_state_folder,
}


@pytest.mark.parametrize("make_link", LINKS.values(), ids=LINKS.keys())
@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_links_inside_the_folder_are_never_written_through(tmp_path, make_link, force):
    out, outside = _generated_then(tmp_path)
    make_link(out, outside)
    before, outside_before = tree(out), tree(outside)
    with pytest.raises(OutputError, match="symbolic link"):
        write(V2, out, force=force)
    assert tree(outside) == outside_before
    assert tree(out) == before


@pytest.mark.parametrize("make_link", [_link_package_folder, _link_generated_file],
                         ids=["package-folder", "generated-file"])
def test_a_link_made_between_plan_and_write_is_refused(tmp_path, make_link):
    out, outside = _generated_then(tmp_path)
    p = output.plan(V2, out, {"source": "test"})
    make_link(out, outside)
    outside_before = tree(outside)
    with pytest.raises(OutputError, match="symbolic link"):
        output.write(p)
    assert tree(outside) == outside_before


@pytest.mark.parametrize("scratch", [".mermaidgen/staging", ".mermaidgen/backup"])
def test_a_scratch_folder_that_is_a_link_is_removed_not_followed(tmp_path, scratch):
    out, outside = _generated_then(tmp_path)
    (out / scratch).symlink_to(outside, target_is_directory=True)
    outside_before = tree(outside)
    write(V2, out)
    assert tree(outside) == outside_before
    assert (out / "pkg" / "a.py").read_text() == "a = 2\n"
    assert not os.path.lexists(out / scratch)


def test_a_replaced_folder_that_is_a_link_is_refused_and_rolled_back(tmp_path):
    out, outside = _generated_then(tmp_path)
    (out / ".mermaidgen" / "replaced").symlink_to(outside, target_is_directory=True)
    (out / "pkg" / "a.py").write_text("hand edit\n")
    before, outside_before = tree(out), tree(outside)
    with pytest.raises(OutputError, match="symbolic link"):
        write(V2, out, force=True)
    assert tree(outside) == outside_before
    assert tree(out) == before


# --- where --out points ------------------------------------------------------------------

def test_out_that_is_a_file_is_a_usage_error(tmp_path):
    (tmp_path / "out").write_text("a file")
    with pytest.raises(UsageError, match="not a folder"):
        output.plan(V1, tmp_path / "out", {})
    assert (tmp_path / "out").read_text() == "a file"


def test_out_below_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("a file")
    p = output.plan(V1, tmp_path / "file" / "out", {})
    with pytest.raises(OutputError, match="cannot write"):
        output.write(p)
    assert tree(tmp_path) == {"file": b"a file"}


def test_read_only_empty_folder_is_a_clear_error_and_stays_empty(tmp_path):
    def body(base: Path) -> None:
        out = base / "out"
        out.mkdir()
        try:
            read_only(out)
            with pytest.raises(OutputError, match="cannot write"):
                write(V1, out)
        finally:
            writable(out)
        assert tree(out) == {}

    where_permissions_apply(tmp_path, body)


def test_read_only_generated_tree_is_a_clear_error_and_stays_intact(tmp_path):
    def body(base: Path) -> None:
        out = base / "out"
        write(V1, out)
        before = tree(out)
        try:
            read_only(out)
            with pytest.raises(OutputError, match="cannot write"):
                write(V2, out)
            write(V1, out)  # nothing to change: a read-only folder that is current is fine
        finally:
            writable(out)
        assert tree(out) == before

    where_permissions_apply(tmp_path, body)


def test_a_folder_that_refuses_some_writes_is_rolled_back(tmp_path):
    """The top folder is read-only, the others are not: the swap fails halfway through
    (files in `pkg/` already replaced) and everything is put back."""
    def body(base: Path) -> None:
        out = base / "out"
        write(V1, out)
        before = tree(out)
        order = sorted(V2, key=lambda f: not f.path.startswith("pkg/"))  # pkg/ ones first
        os.chmod(out, 0o500)
        try:
            with pytest.raises(OutputError, match="nothing was changed"):
                write(order, out)
        finally:
            os.chmod(out, 0o755)
        assert tree(out) == before

    where_permissions_apply(tmp_path, body)


def test_an_unreadable_folder_is_a_clear_error(tmp_path):
    def body(base: Path) -> None:
        out = base / "out"
        write(V1, out)
        os.chmod(out, 0o000)
        try:
            with pytest.raises(OutputError, match="cannot read"):
                output.plan(V2, out, {})
        finally:
            os.chmod(out, 0o755)

    where_permissions_apply(tmp_path, body)


# --- failures and crashes midway ---------------------------------------------------------

def _replace_calls(tmp_path: Path) -> int:
    """How many `os.replace` calls writing V2 over V1 makes. (The fakes here pass on the
    keywords `**fds`: the swap renames relative to folder descriptors, `src_dir_fd` and
    `dst_dir_fd`, so that no link on the way is followed.)"""
    out = tmp_path / "count"
    write(V1, out)
    calls = []
    real = os.replace

    def counting(src, dst, **fds):
        calls.append(dst)
        real(src, dst, **fds)

    os.replace = counting
    try:
        write(V2, out)
    finally:
        os.replace = real
    return len(calls)


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"),
                                   KeyboardInterrupt()], ids=["disk-full", "interrupt"])
def test_a_failure_at_any_step_leaves_the_previous_tree(tmp_path, monkeypatch, error):
    """Fail each `os.replace` in turn (the journal, each backup, each swap)."""
    total = _replace_calls(tmp_path)
    assert total > len(V2)
    real = os.replace
    for n in range(1, total + 1):
        out = tmp_path / f"out{n}"
        write(V1, out)
        before = tree(out)
        calls = []

        def failing(src, dst, n=n, calls=calls, **fds):
            calls.append(dst)
            if len(calls) == n:  # once: undoing the run must still work
                raise error
            real(src, dst, **fds)

        monkeypatch.setattr(output.os, "replace", failing)
        with pytest.raises(OutputError if isinstance(error, OSError) else KeyboardInterrupt):
            write(V2, out)
        monkeypatch.setattr(output.os, "replace", real)
        assert tree(out) == before, f"failing replace #{n} left a changed tree"
        write(V2, out)  # and the next run works
        assert (out / "pkg" / "new" / "c.py").read_text() == "c = 2\n"


def test_a_failed_first_run_leaves_no_files_and_can_run_again(tmp_path, monkeypatch):
    out = tmp_path / "out"
    real = os.replace
    calls = []

    def failing(src, dst, **fds):
        calls.append(dst)
        if len(calls) == 4:
            raise OSError(28, "No space left on device")
        real(src, dst, **fds)

    monkeypatch.setattr(output.os, "replace", failing)
    with pytest.raises(OutputError, match="nothing was changed"):
        write(V1, out)
    monkeypatch.setattr(output.os, "replace", real)
    assert tree(out) == {".mermaidgen/": "dir", LOCK: b""}
    write(V1, out)  # not mistaken for a folder someone else filled
    assert (out / "pkg" / "a.py").read_text() == "a = 1\n"


_KILLER = """
import json, os, signal, sys
from pathlib import Path
from mermaidgen.codegen.write import output
from mermaidgen.codegen.write.render import RenderedFile

mode, out, n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
real, calls = os.replace, []

def replace(src, dst, **fds):
    calls.append(dst)
    if len(calls) == n:
        os.kill(os.getpid(), signal.SIGKILL)  # as a power cut or `kill -9` would
    real(src, dst, **fds)

if mode == "write":
    files = [RenderedFile(*f) for f in json.loads(sys.stdin.read())]
    plan = output.plan(files, out, {"source": "test"})
    os.replace = replace
    output.write(plan)
else:
    os.replace = replace
    output.recover(out)
"""


def _killed(mode: str, out: Path, n: int, files: list[RenderedFile] = ()) -> None:
    spec = json.dumps([[f.path, f.content, f.owner] for f in files])
    done = subprocess.run([sys.executable, "-c", _KILLER, mode, str(out), str(n)],
                          input=spec, capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_run_is_undone_by_recover(tmp_path):
    """Kill the writing process at each `os.replace`: the folder may be half-swapped, but
    `plan` refuses to read it, and `recover` restores the previous tree exactly."""
    total = _replace_calls(tmp_path)
    for n in range(1, total + 1):
        out = tmp_path / f"out{n}"
        write(V1, out)
        before = tree(out)
        _killed("write", out, n, V2)
        if os.path.lexists(out / ".mermaidgen" / "journal.json"):
            with pytest.raises(OutputError, match="interrupted"):
                output.plan(V2, out, {})
        output.recover(out)
        assert tree(out) == before, f"killed at replace #{n}: not restored"
        write(V2, out)
        assert kinds(output.plan(V2, out, {"source": "test"}))["pkg/new/c.py"] == "unchanged"


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("n", [1, 2, 3])
def test_a_recovery_killed_midway_can_be_run_again(tmp_path, n):
    out = tmp_path / "out"
    write(V1, out)
    before = tree(out)
    _killed("write", out, 9, V2)  # after the backups and three of the swaps
    _killed("recover", out, n)
    assert output.recover(out) is True
    assert tree(out) == before


def test_a_journal_written_by_hand_is_replayed(tmp_path):
    """The on-disk state of a crash, built by hand: every file to replace backed up, one
    replaced already, one new file moved in, the rest still staged."""
    out = tmp_path / "out"
    write(V1, out)
    before = tree(out)
    state = out / ".mermaidgen"
    existed = ["pkg/a.py", "pkg/sub/b.py", "top.txt", output.MANIFEST]
    for path in existed:
        (state / "backup" / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(out / path, state / "backup" / path)
    for f in V2:
        (state / "staging" / f.path).parent.mkdir(parents=True, exist_ok=True)
        (state / "staging" / f.path).write_text(f.content)
    os.replace(state / "staging" / "pkg" / "a.py", out / "pkg" / "a.py")
    (out / "pkg" / "new").mkdir()
    os.replace(state / "staging" / "pkg" / "new" / "c.py", out / "pkg" / "new" / "c.py")
    (state / "journal.json").write_text(json.dumps({
        "paths": ["pkg/a.py", "pkg/sub/b.py", "top.txt", "pkg/new/c.py", output.MANIFEST],
        "existed": existed, "dirs": ["pkg/new"]}))
    assert output.recover(out) is True
    assert tree(out) == before
    assert output.recover(out) is False


JOURNALS = {
    "not-json": "{",
    "not-an-object": "[]",
    "paths-missing": '{"existed": []}',
    "escaping-path": '{"paths": ["../victim.txt"], "existed": []}',
    "absolute-path": '{"paths": ["%s"], "existed": []}',
}


@pytest.mark.parametrize("text", JOURNALS.values(), ids=JOURNALS.keys())
def test_a_broken_journal_is_a_clear_error_and_touches_nothing(tmp_path, text):
    out = tmp_path / "out"
    write(V1, out)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (out / ".mermaidgen" / "journal.json").write_text(text.replace("%s", str(victim)))
    before = tree(out)
    with pytest.raises(OutputError, match="cannot be replayed"):
        output.recover(out)
    assert victim.read_text() == "precious"
    assert tree(out) == before


# --- concurrent runs ---------------------------------------------------------------------

class _Paused:
    """Hold one thread's write inside its swap: the lock taken, the journal written, the
    first backup about to be made."""

    def __init__(self, monkeypatch, at: int = 2):
        self.inside, self.go = threading.Event(), threading.Event()
        self.thread: int | None = None
        self.errors: list[BaseException] = []
        real, calls = os.replace, []

        def replace(src, dst, **fds):
            if threading.get_ident() == self.thread:
                calls.append(dst)
                if len(calls) == at:
                    self.inside.set()
                    assert self.go.wait(30)
            real(src, dst, **fds)

        monkeypatch.setattr(output.os, "replace", replace)

    def start(self, target) -> threading.Thread:
        def run():
            self.thread = threading.get_ident()
            try:
                target()
            except BaseException as exc:  # reported by `finish`
                self.errors.append(exc)

        worker = threading.Thread(target=run)
        worker.start()
        assert self.inside.wait(30)
        return worker

    def finish(self, worker: threading.Thread) -> None:
        self.go.set()
        worker.join(30)
        assert not self.errors


SECOND_RUN = {
    "write-of-a-plan-made-before": lambda out, early: output.write(early),
    "plan": lambda out, early: output.plan(V2, out, {}),
    "recover": lambda out, early: output.recover(out),
}


@pytest.mark.parametrize("second", SECOND_RUN.values(), ids=SECOND_RUN.keys())
def test_a_second_run_while_one_is_writing_fails_clearly(tmp_path, monkeypatch, second):
    out = tmp_path / "out"
    write(V1, out)
    early = output.plan(V2, out, {"source": "test"})
    paused = _Paused(monkeypatch)
    first = paused.start(lambda: write(V2, out))
    try:
        with pytest.raises(OutputError, match="another mermaidgen is writing"):
            second(out, early)
    finally:
        paused.finish(first)
    for f in V2:
        if f.owner == "generated":
            assert (out / f.path).read_text() == f.content
    assert {a.kind for a in output.plan(V2, out, {"source": "test"}).actions} == \
        {"unchanged", "keep", "stale"}


def test_a_plan_made_before_another_run_wrote_is_refused(tmp_path):
    out = tmp_path / "out"
    write(V1, out)
    stale_plan = output.plan(V2, out, {})
    changed = [gen(f.path, f.content.replace("2", "3"), f.owner) for f in V2]
    write(changed, out)
    before = tree(out)
    with pytest.raises(OutputError, match="changed after this run looked at it"):
        output.write(stale_plan)
    assert tree(out) == before


_RACER = """
import sys
from mermaidgen.commands.cli import _run
sys.exit(_run(["generate", sys.argv[1], "--style", sys.argv[2], "--out", sys.argv[3]]))
"""


def test_concurrent_processes_never_mix_their_trees(tmp_path, capsys):
    """Several processes generate two different skeletons into one folder at once: each
    succeeds or says another mermaidgen is writing, and the folder always holds exactly
    one of the two (every generated file as the manifest's style renders it)."""
    from mermaidgen.commands.cli import _run

    source = tmp_path / "checkout.mmd"
    source.write_text(CHECKOUT)
    styles = ("choreography", "orchestration")
    expected = {}
    for style in styles:  # what each style writes into a folder of its own
        assert _run(["generate", str(source), "--style", style, "--out",
                     str(tmp_path / style)]) == 0
        manifest = json.loads((tmp_path / style / output.MANIFEST).read_text())
        expected[style] = {path: (tmp_path / style / path).read_bytes()
                           for path, info in manifest["files"].items()
                           if info["owner"] == "generated"}
    assert expected["choreography"] != expected["orchestration"]
    out = tmp_path / "out"
    for _ in range(2):
        racers = [subprocess.Popen([sys.executable, "-c", _RACER, str(source), style, str(out)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                  for style in styles * 2]
        results = [racer.communicate(timeout=120) + (racer.returncode,) for racer in racers]
        assert any(code == 0 for _, _, code in results)
        for _, err, code in results:
            assert "Traceback" not in err
            assert code == 0 or "another mermaidgen" in err or "changed after" in err, err
        manifest = json.loads((out / output.MANIFEST).read_text())
        for path, content in expected[manifest["style"]].items():
            assert (out / path).read_bytes() == content, path
        assert sorted(os.listdir(out / ".mermaidgen")) == ["lock", "manifest.json"]


# --- the user's files --------------------------------------------------------------------

@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_user_files_are_never_overwritten(tmp_path, force):
    out = tmp_path / "out"
    write(V1, out)
    (out / "pkg" / "hooks.py").write_text("# my business logic\n")
    p = write(V2, out, force=force)
    assert kinds(p)["pkg/hooks.py"] == "keep"
    assert (out / "pkg" / "hooks.py").read_text() == "# my business logic\n"


def test_a_deleted_user_file_is_created_again(tmp_path):
    out = tmp_path / "out"
    write(V1, out)
    (out / "pkg" / "hooks.py").unlink()
    assert kinds(write(V2, out))["pkg/hooks.py"] == "create"
    assert (out / "pkg" / "hooks.py").read_text() == "# yours, v2\n"


def test_a_hand_edited_generated_file_is_a_conflict(tmp_path):
    out = tmp_path / "out"
    write(V1, out)
    (out / "pkg" / "a.py").write_text("a = 1  # tuned by hand\n")
    before = tree(out)
    p = output.plan(V2, out, {})
    assert kinds(p)["pkg/a.py"] == "conflict"
    with pytest.raises(OutputError, match="edited by hand.*pkg/a.py"):
        output.write(p)
    assert tree(out) == before


def test_force_replaces_a_hand_edited_file_and_keeps_every_edited_copy(tmp_path):
    out = tmp_path / "out"
    write(V1, out)
    replaced = out / ".mermaidgen" / "replaced" / "pkg"
    (out / "pkg" / "a.py").write_text("first edit\n")
    assert kinds(write(V2, out, force=True))["pkg/a.py"] == "conflict"
    assert (out / "pkg" / "a.py").read_text() == "a = 2\n"
    assert (replaced / "a.py").read_text() == "first edit\n"
    (out / "pkg" / "a.py").write_text("second edit\n")
    write(V1, out, force=True)
    assert (replaced / "a.py").read_text() == "first edit\n"
    assert (replaced / "a.py.~2~").read_text() == "second edit\n"


def test_a_foreign_folder_is_refused_without_force(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not empty and mermaidgen did not create it"):
        output.plan(V1, out, {})
    assert tree(out) == {"notes.txt": b"mine"}


def test_force_adds_the_skeleton_to_a_foreign_folder_and_keeps_its_files(tmp_path):
    out = tmp_path / "out"
    (out / "pkg").mkdir(parents=True)
    mine = {"notes.txt": "mine", "pkg/hooks.py": "my hooks", "top.txt": "my top"}
    for path, text in mine.items():
        (out / path).write_text(text)
    p = write(V1, out, force=True)
    assert kinds(p) == {"pkg/a.py": "create", "pkg/sub/b.py": "create", "top.txt": "keep",
                        "old.txt": "create", "pkg/hooks.py": "keep"}
    for path, text in mine.items():
        assert (out / path).read_text() == text
    # From now on the folder is mermaidgen's, and the files that were there stay the user's.
    again = write(V2, out)
    assert kinds(again)["top.txt"] == "keep"
    assert (out / "top.txt").read_text() == "my top"


def test_a_file_in_the_way_of_a_new_generated_file_is_refused_then_kept(tmp_path):
    out = tmp_path / "out"
    write(V1, out)
    (out / "pkg" / "new").mkdir()
    (out / "pkg" / "new" / "c.py").write_text("my own c\n")
    with pytest.raises(OutputError, match="did not write them: pkg/new/c.py"):
        write(V2, out)
    assert kinds(write(V2, out, force=True))["pkg/new/c.py"] == "keep"
    assert (out / "pkg" / "new" / "c.py").read_text() == "my own c\n"


# --- stale files, determinism, the manifest ----------------------------------------------

def test_files_no_longer_generated_are_reported_not_deleted(tmp_path):
    out = tmp_path / "out"
    write(V1, out)
    p = write(V2, out)
    assert kinds(p)["old.txt"] == "stale"
    assert (out / "old.txt").read_text() == "old\n"
    assert kinds(write(V2, out))["old.txt"] == "stale"  # reported until deleted
    (out / "old.txt").unlink()
    p = write(V2, out)
    assert "old.txt" not in kinds(p)
    assert "old.txt" not in json.loads((out / output.MANIFEST).read_text())["files"]


def test_a_removed_participant_leaves_its_module_reported_as_stale(tmp_path):
    out = tmp_path / "out"
    generate(out)
    smaller = "\n".join(line for line in CHECKOUT.splitlines()
                        if "Payments" not in line and "Payment" not in line
                        and "alt" not in line and "else" not in line
                        and line.strip() != "end") + "\n"
    p = generate(out, smaller)
    stale = {a.path for a in p.actions if a.kind == "stale"}
    assert any("payments" in path for path in stale)
    assert all((out / path).exists() for path in stale)


def test_same_input_gives_byte_identical_trees(tmp_path):
    generate(tmp_path / "one")
    generate(tmp_path / "two")
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


def test_a_second_identical_run_changes_nothing(tmp_path):
    out = tmp_path / "out"
    generate(out)
    before = tree(out)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    g = generation()
    p = output.plan(list(g.files), out, g.meta())
    assert {a.kind for a in p.actions} == {"unchanged", "keep"}
    assert output.diff(p) == ""
    output.write(p)
    assert tree(out) == before
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == stamps


MANIFESTS = {
    "not-json": "{not json",
    "binary": "\udcff",
    "a-list": "[]",
    "files-not-a-table": '{"files": []}',
    "entry-not-a-table": '{"files": {"pkg/a.py": 1}}',
    "entry-bad-owner": '{"files": {"pkg/a.py": {"owner": "root", "sha256": "0"}}}',
    "entry-no-hash": '{"files": {"pkg/a.py": {"owner": "generated"}}}',
    "entry-escaping-path": '{"files": {"../x": {"owner": "generated", "sha256": "0"}}}',
}


@pytest.mark.parametrize("text", MANIFESTS.values(), ids=MANIFESTS.keys())
def test_a_corrupt_manifest_is_a_clear_error(tmp_path, text):
    out = tmp_path / "out"
    write(V1, out)
    (out / output.MANIFEST).write_bytes(text.encode("utf-8", "surrogateescape"))
    before = tree(out)
    with pytest.raises(OutputError, match="manifest"):
        output.plan(V2, out, {})
    assert tree(out) == before


def test_the_manifest_records_every_file_and_not_the_lock(tmp_path):
    out = tmp_path / "out"
    write(V1, out)
    manifest = json.loads((out / output.MANIFEST).read_text())
    assert set(manifest["files"]) == {f.path for f in V1}
    assert manifest["source"] == "test"


def test_diff_marks_a_missing_final_newline(tmp_path):
    out = tmp_path / "out"
    write([gen("a", "old"), gen("b", "old")], out)
    text = output.diff(output.plan([gen("a", "new"), gen("b", "new")], out, {}))
    assert text.count("\\ No newline at end of file\n") == 4
    assert "\n--- a/b\n" in text


def test_text_that_is_not_utf8_is_a_clear_error(tmp_path):
    with pytest.raises(OutputError, match="UTF-8"):
        output.plan([gen("a.txt", "bad \udcff")], tmp_path / "out", {})
