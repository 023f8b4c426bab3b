"""Hostile repositories: nothing a cloned repository holds may make mermaidgen reach outside.

    python fuzz/run.py --mode hostile-repo --minutes 10 [--seed S] [--jobs 2]

Each input is a *recipe*: a small JSON document that builds a throw-away repository in a
sandbox folder, step by step (files, folders, symbolic links, removals, and mermaidgen
commands), so that a failure can be saved and replayed exactly. A recipe starts from a
diagram and usually a clean `generate` into `svc/`, then tampers with it the way a cloned
repository can: `.mermaidgen/` or its staging, backup, lock, manifest or journal replaced
by links to folders and files elsewhere; journals that name generated files, links,
absolute paths and `..` paths, or are not JSON at all; links inside the generated tree;
`mermaidgen.toml` or `pyproject.toml` generations whose source, out and templates point
outside or through links; template sets with odd `files.toml` entries, templates that are
links to outside files, and templates that abuse the sandbox (huge ranges and repeats,
recursive macros, attribute tricks); `templates export` into folders holding links. Then it
runs `generate`, `check` (text, github, json), `templates export` and `preview` in
subprocesses, each with a time and memory limit.

The sandbox (the recipe's `{R}`) holds, beside the repository `outer/inner/repo/`,
decoys: a fake private key, a fake home folder, a folder with a diagram, a template and a
`files.toml`, and notes one and two levels up (so `../..` paths land on decoys). Every
decoy carries the marker `MGFUZZ-DECOY`. After every command:

* anything outside the repository that changed, appeared or disappeared is an ESCAPE
  (`escape-write`): a decoy deleted, moved, overwritten, or a file created outside;
* the marker in the command's output, or in a file or file name inside the repository, is
  an ESCAPE (`escape-read`): something outside was read and shown or copied in;
* a change in the repository outside the folder the command writes (`check`, `preview`,
  `--dry-run`, `--diff`: none) is a failure (`outside-its-folder`);
* a traceback, "internal error", an exit code other than 0, 1 or 2, an error exit with
  nothing on stderr, or no answer within the time limit are failures too.

A failing recipe is shrunk (steps dropped while it still fails the same way) and saved as
`tests/fuzz/hostile/<failure>-<hash>.json`; tests/test_fuzz_hostile.py replays each one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import resource
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
REPRODUCERS = ROOT / "tests" / "fuzz" / "hostile"
MARKER = "MGFUZZ-DECOY"
REPO = "outer/inner/repo"
SVC = f"{REPO}/svc"
STATE = f"{SVC}/.mermaidgen"
PACKAGE = "app"  # every generation names its package, so recipes know the generated paths
MEMORY_LIMIT = 4 * 1024**3
FILE_SIZE_LIMIT = 256 * 1024**2  # a sandbox-abusing template must not fill the disk

# Decoys, by path in the sandbox: what must never change, nor be read into the repository.
DECOYS: dict[str, str] = {
    "secret.key": f"-----BEGIN OPENSSH PRIVATE KEY-----\n{MARKER}-private-key\n"
                  "-----END OPENSSH PRIVATE KEY-----\n",
    "home/.ssh/id_ed25519": f"{MARKER}-home-key\n",
    "home/.gitconfig": f"[user]\n  name = {MARKER}-gitconfig\n",
    "outer/notes.txt": f"{MARKER}-notes one level above the repository's parent\n",
    "outer/inner/data/design.mmd": f"sequenceDiagram\n    Alice->>Bob: {MARKER}-design\n"
                                   f"    Bob-->>Alice: {MARKER}-reply\n",
    "outer/inner/data/_header.jinja": f"# {MARKER}-header\n",
    "outer/inner/data/files.toml": f'[[file]]\ntemplate = "_header.jinja"\n'
                                   f'path = "{MARKER}-files.txt"\nowner = "user"\n',
    "outer/inner/data/manifest.json": f'{{"mermaidgen_manifest": 1, "files": {{}}, '
                                      f'"note": "{MARKER}-manifest"}}\n',
    "outer/inner/data/deep/nested.txt": f"{MARKER}-nested\n",
    "outer/inner/sibling.txt": f"{MARKER}-sibling of the repository\n",
    # shaped like a `.mermaidgen/` left by an interrupted run: a link to it must not be
    # recovered (its backup moved into the repository, its staging deleted)
    "outer/inner/state/journal.json": json.dumps(
        {"paths": [f"{PACKAGE}/__init__.py"], "existed": [f"{PACKAGE}/__init__.py"],
         "dirs": [], "note": f"{MARKER}-journal"}),
    f"outer/inner/state/backup/{PACKAGE}/__init__.py": f"# {MARKER}-backup\n",
    "outer/inner/state/staging/keep.txt": f"{MARKER}-staging\n",
    "outer/inner/state/lock": "",
}
DECOY_DIRS = ["outer/inner/data", "outer/inner/data/deep", "home/.ssh", "outer",
              "outer/inner/state", "outer/inner/state/backup", "outer/inner/state/staging"]
DECOY_FILES = sorted(DECOYS)
# Places outside the repository that do not exist: a write through a link to one of them
# creates a file outside.
NOWHERE = ["outer/created.txt", "outer/inner/new-folder", "home/.bashrc", "outer/inner/data/new"]
UNWATCHED = ("tmp",)  # the commands' TMPDIR


# -- recipes --------------------------------------------------------------------------------

def _samples() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted((ROOT / "samples").glob("*.mmd"))
            if p.stat().st_size < 1200]


def _target(r: random.Random, kind: str) -> str:
    """A sandbox path outside the repository for a link: a decoy file, folder, or nothing."""
    if kind == "file":
        return r.choice(DECOY_FILES + NOWHERE[:1] + ["home/.bashrc"])
    if kind == "dir":
        return r.choice(DECOY_DIRS + ["outer/inner/new-folder", "outer/inner/data/new"])
    return r.choice(DECOY_FILES + DECOY_DIRS + NOWHERE)


def _link(r: random.Random, path: str, kind: str) -> list[dict]:
    """Steps that put a link at `path` (replacing whatever is there) to somewhere outside."""
    return [{"remove": path},
            {"link": path, "to": _target(r, kind), "relative": r.random() < 0.5}]


def _outside_path(r: random.Random, relative_to: str = REPO) -> str:
    """A path text that leaves the repository: `..` climbs, absolute paths, decoys."""
    target = r.choice(DECOY_FILES + DECOY_DIRS + NOWHERE)
    if r.random() < 0.5:
        return "{R}/" + target
    return os.path.relpath(target, relative_to)


def _journal(r: random.Random) -> str:
    pool = [f"{PACKAGE}/__init__.py", "README.md", "pyproject.toml", ".mermaidgen/manifest.json",
            f"{PACKAGE}/_generated", "linked", "linked/x.py", f"{PACKAGE}/_generated/x.py",
            "../../../secret.key", "../../data", "../sibling.txt", f"{PACKAGE}/../../notes",
            "{R}/secret.key", "{R}/outer/inner/data", "{R}/outer/created.txt", ".", "",
            "design.mmd", "_header.jinja", "deep/nested.txt", "deep", ".ssh/id_ed25519",
            ".mermaidgen", ".mermaidgen/backup", "a\\b", "x:y"]
    shape = r.random()
    if shape < 0.15:
        return r.choice(["{", "[]", "null", '{"paths": "x"}', '{"paths": [1], "existed": []}',
                         "\ufeff{}", '{"paths": [], "existed": [], "dirs": {}}'])
    pick = lambda n: r.sample(pool, k=min(n, len(pool)))  # noqa: E731
    journal: dict = {"paths": pick(r.randint(1, 4)), "existed": pick(r.randint(0, 3))}
    if r.random() < 0.7:
        journal["dirs"] = pick(r.randint(0, 3))
    if r.random() < 0.5:
        journal["existed"] = list(dict.fromkeys(journal["existed"] + journal["paths"][:2]))
    return json.dumps(journal)


def _manifest(r: random.Random) -> str:
    shape = r.random()
    if shape < 0.3:
        return r.choice(["{", "[]", "{}", '{"files": []}', '{"files": {"../x": 1}}', "\x00"])
    files = {p: {"owner": r.choice(["generated", "user", "root"]), "sha256": "0" * 64}
             for p in r.sample([f"{PACKAGE}/__init__.py", "README.md", "../../../secret.key",
                                "{R}/secret.key", "linked/x.py", ".mermaidgen/lock",
                                f"{PACKAGE}/../../../notes.txt"], k=r.randint(1, 4))}
    return json.dumps({"mermaidgen_manifest": 1, "files": files})


def _tamper_state(r: random.Random) -> list[dict]:
    """One change to the output folder `svc/` the way a cloned repository can make it."""
    choice = r.randrange(11)
    if choice == 0:  # half the time to a folder shaped like an interrupted run's state
        if r.random() < 0.5:
            return [{"remove": STATE}, {"link": STATE, "to": "outer/inner/state",
                                        "relative": r.random() < 0.5}]
        return _link(r, STATE, "dir")
    if choice == 1:
        return _link(r, f"{STATE}/{r.choice(['staging', 'backup', 'replaced'])}", "dir")
    if choice == 2:
        name = r.choice(["lock", "manifest.json", "journal.json", "journal.json.part"])
        return _link(r, f"{STATE}/{name}", "file")
    if choice == 3:
        return [{"file": f"{STATE}/journal.json", "text": _journal(r)}]
    if choice == 4:  # a journal and a backup that holds what it would put back
        steps = [{"file": f"{STATE}/journal.json", "text": _journal(r)}]
        rel = r.choice([f"{PACKAGE}/__init__.py", "README.md", "linked/x.py"])
        if r.random() < 0.5:
            steps += _link(r, f"{STATE}/backup/{rel}", "file")
        else:
            steps.append({"file": f"{STATE}/backup/{rel}", "text": "print('from backup')\n"})
        return steps
    if choice == 5:
        return [{"file": f"{STATE}/manifest.json", "text": _manifest(r)}]
    if choice == 6:
        return [{"remove": r.choice([f"{STATE}/manifest.json", STATE])}]
    if choice == 7:  # links in the generated tree
        where = r.choice([f"{PACKAGE}/__init__.py", f"{PACKAGE}/_generated", "README.md",
                          "pyproject.toml", "linked", f"{PACKAGE}/services"])
        return _link(r, f"{SVC}/{where}", "any")
    if choice == 8:
        return _link(r, f"{STATE}/staging/{r.choice([PACKAGE, '.mermaidgen'])}", "dir")
    if choice == 9:
        return [{"file": f"{STATE}/staging/{PACKAGE}/__init__.py", "text": "x = 1\n"}]
    return _link(r, f"{STATE}/replaced/{PACKAGE}", "dir")


def _config(r: random.Random) -> list[dict]:
    """A mermaidgen.toml or pyproject.toml whose paths may leave the repository."""
    source = r.choice(["docs/flow.mmd"] * 3 + ["docs/linked.mmd", "linked-docs/design.mmd"]
                      + [_outside_path(r) for _ in range(2)])
    out = r.choice(["svc"] * 3 + ["svc-link", "svc/linked/deeper"]
                   + [_outside_path(r) for _ in range(2)])
    lines = ["[[generate]]", f'source = "{source}"', f'out = "{out}"', f'package = "{PACKAGE}"']
    if r.random() < 0.4:
        templates = r.choice(["tpl", "tpl", "tpl-link", _outside_path(r)])
        lines.append(f'templates = "{templates}"')
    if r.random() < 0.3:
        lines.append(f'style = "{r.choice(["choreography", "orchestration"])}"')
    if r.random() < 0.5:
        paths = r.sample(["docs", "svc", "linked-docs", _outside_path(r), "docs/secret.mmd"],
                         k=r.randint(1, 3))
        lines += ["", "[check]", "paths = [" + ", ".join(f'"{p}"' for p in paths) + "]"]
    text = "\n".join(lines) + "\n"
    steps: list[dict] = []
    if r.random() < 0.5:
        steps.append({"file": f"{REPO}/mermaidgen.toml", "text": text})
    else:
        prefixed = text.replace("[[generate]]", "[[tool.mermaidgen.generate]]") \
            .replace("[check]", "[tool.mermaidgen.check]")
        steps.append({"file": f"{REPO}/pyproject.toml",
                      "text": '[project]\nname = "repo"\n\n' + prefixed})
    if "svc-link" in text:
        steps += _link(r, f"{REPO}/svc-link", "dir")
    if "tpl-link" in text:
        steps += _link(r, f"{REPO}/tpl-link", "dir")
    return steps


SANDBOX_ABUSE = [
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{{ 'a' * 10000000000 }}",
    "{{ range(1000000000) | list | length }}",
    "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}",
    "{{ lipsum(100000, html=False) | length }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('cat {R}/secret.key').read() }}",
    "{{ self.__init__.__globals__ }}",
    "{% include '../../data/_header.jinja' %}",
    "{% include '{R}/secret.key' %}",
    "{% include '../../../../secret.key' %}",
    "{% extends '_header.jinja' %}",
    "{% set x = namespace(v=0) %}{% for i in range(10**7) %}{% set x.v = x.v + 1 %}{% endfor %}",
    "{{ ('x' * 1000000) * 1000 }}",
]


def _files_toml(r: random.Random) -> str:
    entries = []
    for _ in range(r.randint(1, 4)):
        path = r.choice(["{package}/__init__.py", "README.md", "../../escape.txt",
                         "{package}/../../../escape.py", "{R}/outer/created.txt",
                         ".mermaidgen/manifest.json", "linked/x.py", "a\\b.py", "",
                         "{package.__class__}", "{package}/./x.py", "x/../../y.py"])
        template = r.choice(["_header.jinja", "_header.jinja", "../../data/_header.jinja",
                             "{R}/secret.key", "../../../../secret.key", "linked.jinja",
                             "missing.jinja", "linked-folder/x.jinja"])
        entry = [f'path = "{path}"', f'owner = "{r.choice(["generated", "user", "x"])}"']
        entry.append(f'template = "{template}"' if r.random() < 0.85
                     else f'copy = "{r.choice(["../../secret.key", "runtime.py", "x"])}"')
        if r.random() < 0.2:
            entry.append(f'each = "{r.choice(["services", "events", "package", "nothing"])}"')
        entries.append("[[file]]\n" + "\n".join(entry))
    return "\n\n".join(entries) + "\n"


def _template_set(r: random.Random) -> list[dict]:
    """A custom template set in `tpl/`: odd files.toml, linked and sandbox-abusing templates."""
    steps: list[dict] = [{"dir": f"{REPO}/tpl"}]
    for _ in range(r.randint(1, 3)):
        choice = r.randrange(5)
        if choice == 0:
            steps.append({"file": f"{REPO}/tpl/files.toml", "text": _files_toml(r)})
        elif choice == 1:
            name = r.choice(["_header.jinja", "files.toml", "linked.jinja", "main.py.jinja"])
            steps += _link(r, f"{REPO}/tpl/{name}", "file")
        elif choice == 2:
            steps += _link(r, f"{REPO}/tpl/{r.choice(['linked-folder', 'transport'])}", "dir")
        else:
            name = r.choice(["_header.jinja", "_header.jinja", "main.py.jinja", "linked.jinja"])
            steps.append({"file": f"{REPO}/tpl/{name}", "text": r.choice(SANDBOX_ABUSE) + "\n"})
    return steps


def _export_target(r: random.Random) -> list[dict]:
    """A folder for `templates export` that holds links to outside."""
    steps: list[dict] = [{"dir": f"{REPO}/exp"}]
    for _ in range(r.randint(1, 3)):
        name = r.choice(["files.toml", "_header.jinja", "README.md.jinja", "runtime.py.jinja",
                         "transport", "app.py.jinja"])
        steps += _link(r, f"{REPO}/exp/{name}", "dir" if name == "transport" else "any")
    return steps


def _commands(r: random.Random, configured: bool, templates: bool) -> list[dict]:
    generate = ["generate", "docs/flow.mmd", "--out", "svc", "--package", PACKAGE]
    pool: list[list[str]] = [
        generate, generate + ["--force"], generate + ["--templates", "tpl"],
        generate + ["--dry-run"], generate + ["--diff"], generate + ["--style", "orchestration"],
        generate + ["--templates", "tpl", "--force"],
        ["check"], ["check", "--format", "github"], ["check", "--format", "json"],
        ["check", "docs", "svc"], ["check", "--templates", "tpl"],
        ["templates", "export", "exp"], ["templates", "export", "exp", "--force"],
        ["templates", "export", "exp", "--force", "--target", "faststream"],
        ["preview", "docs/flow.mmd", "--format", "json"],
    ]
    if configured:
        pool += [["generate"], ["generate"], ["generate", "--force"], ["check"],
                 ["check", "--format", "github"]]
    if templates:  # the set is there to be used
        pool += [generate + ["--templates", "tpl"], ["check", "--templates", "tpl"]] * 4
    return [{"run": r.choice(pool)} for _ in range(r.randint(1, 3))]


def make_recipe(r: random.Random) -> dict:
    steps: list[dict] = [{"dir": f"{REPO}/.git"},
                         {"file": f"{REPO}/docs/flow.mmd", "text": r.choice(_samples())}]
    if r.random() < 0.85:  # a committed, valid output folder to tamper with
        steps.append({"run": ["generate", "docs/flow.mmd", "--out", "svc", "--package", PACKAGE],
                      "setup": True})
    if r.random() < 0.3:  # links among the diagrams that `check` walks
        name = r.choice(["docs/linked.mmd", "docs/secret.mmd", "linked-docs"])
        steps += _link(r, f"{REPO}/{name}", "any")
    for _ in range(r.randint(1, 4)):
        steps += _tamper_state(r)
    configured = r.random() < 0.4
    if configured:
        steps += _config(r)
    templates = r.random() < 0.4
    if templates:
        steps += _template_set(r)
    if r.random() < 0.3:
        steps += _export_target(r)
    steps += _commands(r, configured, templates)
    return {"recipe": 1, "steps": steps}


def slug(signature: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", signature).strip("-").lower()[:70]


def recipe_id(recipe: dict) -> str:
    """What makes a recipe known: the hash of its exact steps."""
    return hashlib.sha256(json.dumps(recipe["steps"], sort_keys=True).encode()).hexdigest()


# -- the sandbox ----------------------------------------------------------------------------

def _fill(text: str, root: Path) -> str:
    return text.replace("{R}", str(root))


def _inside(root: Path, rel: str) -> Path | None:
    """`root/rel` if no part of it is a link (the harness itself must not write outside)."""
    if rel.startswith("/") or ".." in rel.split("/"):
        return None
    current = root
    for part in rel.split("/")[:-1]:
        current = current / part
        if current.is_symlink() or (current.exists() and not current.is_dir()):
            return None
    return root / rel


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def make_sandbox(root: Path) -> None:
    for rel, text in DECOYS.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / REPO).mkdir(parents=True)
    (root / "tmp").mkdir()


def snapshot(root: Path, repository: bool = False) -> dict[str, tuple]:
    """Everything in the sandbox outside the repository (or, with `repository`, inside it):
    kind, content hash or link target, and permissions, never following links."""
    seen: dict[str, tuple] = {}
    repo = root / REPO
    for folder, dirs, files in os.walk(repo if repository else root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if here / d != repo and
                   (here != root or d not in UNWATCHED)]
        for name in [*dirs, *files]:
            path = here / name
            rel = path.relative_to(root).as_posix()
            st = path.lstat()
            if path.is_symlink():
                seen[rel] = ("link", os.readlink(path))
            elif path.is_file():
                seen[rel] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(),
                             oct(st.st_mode))
            else:
                seen[rel] = ("dir", oct(st.st_mode))
    return seen


def marked_files(root: Path) -> list[str]:
    """Files inside the repository whose name or content carries the decoy marker (links
    are not followed: a committed link to a decoy is the attack, not the escape)."""
    found = []
    for folder, _, files in os.walk(root / REPO):
        for name in files:
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if MARKER in name:
                found.append(rel)
            elif not path.is_symlink() and path.is_file() and \
                    MARKER.encode() in path.read_bytes():
                found.append(rel)
    return found


def _limits() -> None:
    os.setsid()
    for what, value in ((resource.RLIMIT_AS, MEMORY_LIMIT),
                        (resource.RLIMIT_FSIZE, FILE_SIZE_LIMIT)):
        try:
            resource.setrlimit(what, (value, value))
        except (ValueError, OSError):
            pass


def _cpu_seconds(pid: int) -> float | None:
    """CPU time a process has used (Linux), or None where /proc cannot say."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def run_command(argv: list[str], root: Path, timeout: float) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "MERMAIDGEN_", "PYTHON"))}
    env.update(HOME=str(root / "home"), TMPDIR=str(root / "tmp"), MERMAIDGEN_DEBUG="1",
               PYTHONPATH=str(ROOT), NO_COLOR="1", COLUMNS="100", PYTHONHASHSEED="0")
    proc = subprocess.Popen([sys.executable, "-m", "mermaidgen", *argv], cwd=root / REPO,
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=_limits)
    # `timeout` seconds of CPU time (and at most eight times that in wall time): on a busy
    # machine, a slow answer is not a hang
    started = time.monotonic()
    while True:
        try:
            out, err = proc.communicate(timeout=1.0)
            break
        except subprocess.TimeoutExpired:
            wall = time.monotonic() - started
            used = _cpu_seconds(proc.pid)
            if wall >= 8 * timeout or (wall if used is None else used) >= timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                return {"timeout": timeout}
    return {"code": proc.returncode, "stdout": out.decode("utf-8", "replace"),
            "stderr": err.decode("utf-8", "replace")}


def _command_name(argv: list[str]) -> str:
    words = [a for a in argv[:2] if not a.startswith("-") and "/" not in a and "." not in a]
    if "--format" in argv:
        words.append(argv[argv.index("--format") + 1])
    if "--templates" in argv:
        words.append("templates")
    return "-".join(words[:3]) or "mermaidgen"


def judge(argv: list[str], result: dict, before: dict, after: dict,
          marked: list[str]) -> tuple[str, str] | None:
    """None if the command behaved, else (signature, details). Escapes first."""
    cmd = _command_name(argv)
    if before != after:
        changes = sorted({*before, *after} - {k for k in before if before[k] == after.get(k)})
        what = ["deleted" if c not in after else "created" if c not in before else "changed"
                for c in changes]
        return (f"escape-write-{cmd}-{what[0]}",
                "outside the repository:\n" + "\n".join(
                    f"  {w} {c}: {before.get(c)} -> {after.get(c)}"
                    for w, c in zip(what, changes, strict=True)))
    shown = result.get("stdout", "") + result.get("stderr", "")
    if MARKER in shown:
        line = next(x for x in shown.splitlines() if MARKER in x)
        return f"escape-read-{cmd}-output", f"a decoy's content was printed: {line[:300]}"
    if marked:
        return f"escape-read-{cmd}-repo", "decoy content copied into the repository: " + \
            ", ".join(marked[:5])
    if "timeout" in result:
        return f"timeout-{cmd}", f"no answer within {result['timeout']} s of CPU time"
    err = result["stderr"]
    if "Traceback (most recent call last)" in shown or "internal error" in shown:
        last = [x for x in err.strip().splitlines() if x and not x.startswith(" ")]
        kind = last[-1].split(":")[0] if last else "unknown"
        return f"traceback-{cmd}-{kind}", err[-4000:]
    if result["code"] not in (0, 1, 2):
        return f"exit-code-{cmd}-{result['code']}", err[-3000:]
    if result["code"] != 0 and not shown.strip():  # github and json reports go to stdout
        return f"no-diagnostic-{cmd}", f"exit {result['code']} and nothing said"
    return None


def _writes_to(argv: list[str]) -> str | None:
    """The one folder of the repository a command may change ("" for none), or None when
    the configuration decides (a configured `generate`)."""
    if argv[:1] in (["check"], ["preview"], ["--version"]) or "--dry-run" in argv or \
            "--diff" in argv:
        return ""
    if argv[:2] == ["templates", "export"] and len(argv) > 2:
        return argv[2]
    if argv[:1] == ["generate"] and "--out" in argv:
        return argv[argv.index("--out") + 1]
    return None


def _stayed_in(argv: list[str], before: dict, after: dict) -> tuple[str, str] | None:
    """A change inside the repository but outside the folder the command writes: `check`,
    `preview`, `--dry-run` and `--diff` change nothing at all."""
    allowed = _writes_to(argv)
    if allowed is None:
        return None
    prefix = f"{REPO}/{allowed}".rstrip("/") + "/" if allowed else None
    changes = sorted(k for k in {*before, *after} if before.get(k) != after.get(k)
                     and not (prefix and (k + "/").startswith(prefix)))
    if not changes:
        return None
    what = "changed nothing it may change" if not allowed else f"wrote outside {allowed}/"
    return (f"outside-its-folder-{_command_name(argv)}",
            f"{what}:\n" + "\n".join(f"  {c}: {before.get(c)} -> {after.get(c)}"
                                      for c in changes[:10]))


@dataclass
class Outcome:
    failure: tuple[str, str] | None
    runs: int
    log: list[str] = field(default_factory=list)


def play(recipe: dict, folder: Path, timeout: float) -> Outcome:
    """Build the recipe's sandbox in a fresh `folder/sandbox` and run it; the first failure."""
    root = folder / "sandbox"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    root = root.resolve()
    make_sandbox(root)
    runs = 0
    log: list[str] = []
    try:
        for step in recipe["steps"]:
            if "run" in step:
                argv = [_fill(a, root) for a in step["run"]]
                before, inside = snapshot(root), snapshot(root, repository=True)
                result = run_command(argv, root, timeout)
                runs += 1
                log.append(f"$ mermaidgen {' '.join(step['run'])} -> "
                           f"{result.get('code', 'timeout')}")
                found = judge(argv, result, before, snapshot(root), marked_files(root)) or \
                    _stayed_in(argv, inside, snapshot(root, repository=True))
                if found is not None:  # said with `{R}`: the same on every replay
                    return Outcome((found[0], found[1].replace(str(root), "{R}")), runs, log)
                continue
            _apply(step, root)
        return Outcome(None, runs, log)
    finally:
        _make_removable(root)
        shutil.rmtree(root, ignore_errors=True)


def _apply(step: dict, root: Path) -> None:
    """A file, folder, link or removal inside the repository (never through a link)."""
    rel = step.get("file") or step.get("dir") or step.get("link") or step.get("remove")
    path = _inside(root, rel) if isinstance(rel, str) and rel.startswith(REPO + "/") else None
    if path is None:
        return
    if "remove" in step:
        _remove(path)
    elif path.is_symlink() or (path.exists() and not path.is_file()) or \
            ("link" in step and os.path.lexists(path)):
        return  # the recipe made something else here; leave it
    elif "dir" in step:
        path.mkdir(parents=True, exist_ok=True)
    elif "file" in step:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_fill(step["text"], root), encoding="utf-8", errors="surrogateescape")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        target = root / step["to"]
        os.symlink(os.path.relpath(target, path.parent) if step.get("relative") else target,
                   path)


def _make_removable(root: Path) -> None:
    """A command may leave read-only folders behind; cleaning up must not fail on them."""
    for folder, dirs, _ in os.walk(root):
        for d in dirs:
            p = Path(folder) / d
            if not p.is_symlink():
                try:
                    p.chmod(0o755)
                except OSError:
                    pass


# -- shrinking, saving, the loop ------------------------------------------------------------

def shrink(recipe: dict, signature: str, folder: Path, timeout: float,
           budget: float) -> dict:
    """Drop steps (last first) while the recipe still fails with the same signature."""
    deadline = time.monotonic() + budget
    steps = list(recipe["steps"])
    i = len(steps) - 1
    while i >= 0 and time.monotonic() < deadline:
        candidate = steps[:i] + steps[i + 1:]
        if any("run" in s for s in candidate):
            found = play({"recipe": 1, "steps": candidate}, folder, timeout).failure
            if found is not None and found[0] == signature:
                steps = candidate
        i -= 1
    return {"recipe": 1, "steps": steps}


def save(recipe: dict, signature: str, details: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug(signature)}-{recipe_id(recipe)[:8]}.json"
    document = {"found": signature, "details": details.splitlines()[:12], **recipe}
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    return path


def reproducers(folder: Path = REPRODUCERS) -> list[Path]:
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def load(path: Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {"recipe": data["recipe"], "steps": data["steps"]}


@dataclass
class Found:
    signature: str
    recipe: dict
    details: str
    known: bool
    saved: Path | None = None
    more: int = 0


@dataclass
class Stats:
    inputs: int = 0
    runs: int = 0
    new: int = 0
    failures: dict[str, Found] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _loop(args: argparse.Namespace, stats: Stats, known: set[str], deadline: float,
          folder: Path) -> None:
    while True:
        with stats.lock:
            if (args.count and stats.inputs >= args.count) or \
                    (not args.count and time.monotonic() >= deadline):
                return
            number = stats.inputs
            stats.inputs += 1
        recipe = make_recipe(random.Random(f"{args.seed}-{number}"))
        outcome = play(recipe, folder, args.timeout)
        with stats.lock:
            stats.runs += outcome.runs
        if outcome.failure is None:
            continue
        signature, details = outcome.failure
        if signature.startswith("timeout") and play(recipe, folder, args.timeout).failure is None:
            continue  # slow once, not twice: the machine was busy
        found = Found(signature, recipe, details, recipe_id(recipe) in known)
        with stats.lock:
            stats.new += not found.known
            if signature in stats.failures:
                stats.failures[signature].more += 1
                continue
            stats.failures[signature] = found
        print(f"\nfailure: {signature} (input {number})\n  " +
              "\n  ".join(details.splitlines()[:6]), flush=True)
        if found.known:
            continue
        if not args.no_minimize:
            found.recipe = shrink(recipe, signature, folder, args.timeout,
                                  args.minimize_budget)
            print(f"  shrunk from {len(recipe['steps'])} to {len(found.recipe['steps'])} "
                  "steps", flush=True)
        if not args.no_save:
            found.saved = save(found.recipe, signature, details, args.regressions)
            print(f"  saved {found.saved}", flush=True)


def main(args: argparse.Namespace) -> int:
    started = time.monotonic()
    known = {recipe_id(load(p)) for p in reproducers(args.regressions)}
    amount = f"{args.count} repositories" if args.count else f"{args.minutes:g} min"
    print(f"hostile repositories: {amount} with seed {args.seed}, {args.jobs} job(s); "
          f"{len(known)} saved reproducer(s) in {args.regressions}", flush=True)
    stats = Stats()
    deadline = time.monotonic() + args.minutes * 60
    with tempfile.TemporaryDirectory(prefix="mermaidgen-hostile-") as tmp:
        threads = []
        for i in range(max(1, args.jobs)):
            threads.append(threading.Thread(
                target=_loop, args=(args, stats, known, deadline, Path(tmp) / f"w{i}")))
            threads[-1].start()
        last = time.monotonic()
        while any(t.is_alive() for t in threads):
            time.sleep(0.2)
            if time.monotonic() - last >= 30:
                last = time.monotonic()
                print(f"  {stats.inputs} repositories, {stats.runs} runs, "
                      f"{len(stats.failures)} kind(s) of failure", flush=True)
    escapes = sum(1 + f.more for f in stats.failures.values()
                  if f.signature.startswith("escape"))
    print(f"\n{stats.inputs} repositories tried ({stats.runs} command runs) in "
          f"{time.monotonic() - started:.0f} s; {escapes} escape(s); "
          f"{len(stats.failures)} kind(s) of failure, {stats.new} failing repositories not "
          "saved as reproducers")
    for f in stats.failures.values():
        more = f", and {f.more} more like it" if f.more else ""
        where = f" -> {f.saved}" if f.saved else ""
        print(f"  {'known' if f.known else 'NEW  '} {f.signature} "
              f"({len(f.recipe['steps'])} steps{more}){where}")
        print("    " + "\n    ".join(f.details.splitlines()[:4]))
    return 1 if stats.new else 0
