"""`swap.py` tested directly: the swap of an output folder, its undo, and the journal.

Written to kill the mutants mutmut made of `swap.py` (docs/mutation.md). What a user
relies on: a run that fails at any point leaves the previous files exactly as they were
(content and mode), new files and folders gone, folders that were there kept; a crash
leaves a journal the next run replays to the same end; a journal mermaidgen could not
have written is refused whole before anything is touched; the hand-edited copies a user
asked to keep are never overwritten by a later, different one.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import sys
from pathlib import Path

import pytest

from mermaidgen.codegen.write import safefs, swap
from mermaidgen.codegen.write.swap import (
    BACKUP,
    JOURNAL,
    LOCK_FILE,
    MANIFEST,
    REPLACED,
    STAGING,
    STATE_DIR,
    OutputError,
)

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt",
                                reason="needs symbolic links")


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    monkeypatch.setattr(safefs.os, "fsync", lambda fd: None)


def tree(root: Path) -> dict[str, tuple]:
    """Every entry under `root` but the lock: files with content and mode."""
    found: dict[str, tuple] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            info = path.lstat()
            if rel == LOCK_FILE:
                continue
            if stat.S_ISLNK(info.st_mode):
                found[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                found[rel] = ("dir",)
            else:
                found[rel] = (path.read_bytes(), stat.S_IMODE(info.st_mode))
    return found


@pytest.fixture
def out(tmp_path) -> Path:
    """A generated folder: two files (one executable), a manifest, a user's folder."""
    folder = tmp_path / "out"
    (folder / "pkg").mkdir(parents=True)
    (folder / "pkg" / "a.py").write_bytes(b"a = 1\n")
    (folder / "run.sh").write_bytes(b"#!/bin/sh\n")
    os.chmod(folder / "run.sh", 0o754)
    (folder / STATE_DIR).mkdir()
    (folder / MANIFEST).write_bytes(b'{"old": true}')
    (folder / "keep").mkdir()
    return folder


NEW = {"pkg/a.py": b"a = 2\n", "run.sh": b"#!/bin/sh\necho\n",
       "new/deep/b.py": b"b = 1\n", "keep/c.py": b"c\n"}


def test_commit_swaps_everything_in_and_clears_its_state(out):
    swap.commit(out, NEW, b'{"new": true}', [])
    found = tree(out)
    for rel, data in NEW.items():
        assert found[rel][0] == data
    assert found[MANIFEST][0] == b'{"new": true}'
    assert sorted(p.name for p in (out / STATE_DIR).iterdir()) == ["manifest.json"]


def test_commit_clears_leftovers_of_an_earlier_run_first(out):
    (out / STAGING / "pkg").mkdir(parents=True)
    (out / STAGING / "pkg" / "stale.py").write_bytes(b"stale")
    (out / BACKUP).mkdir()
    (out / BACKUP / "run.sh").write_bytes(b"stale")
    swap.commit(out, {"pkg/a.py": b"x"}, b"{}", [])
    assert not (out / "pkg" / "stale.py").exists()
    assert (out / "run.sh").read_bytes() == b"#!/bin/sh\n"
    assert sorted(p.name for p in (out / STATE_DIR).iterdir()) == ["manifest.json"]


def _fail_on_nth_replace(monkeypatch, n: int, error: BaseException) -> None:
    real = safefs.Root.replace
    calls = {"n": 0}

    def replace(self, src, dst):
        if not src.endswith(".part"):  # the journal and backups are written first
            calls["n"] += 1
            if calls["n"] == n:
                raise error
        return real(self, src, dst)

    monkeypatch.setattr(safefs.Root, "replace", replace)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_a_failure_midway_puts_back_exactly_the_previous_tree(out, monkeypatch, n):
    before = tree(out)
    _fail_on_nth_replace(monkeypatch, n, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(OutputError) as err:
        swap.commit(out, NEW, b'{"new": true}', [])
    assert str(err.value) == f"cannot write to {out}: No space left on device; nothing was changed"
    assert tree(out) == before


def test_an_interrupt_midway_is_undone_and_raised_as_it_was(out, monkeypatch):
    before = tree(out)
    _fail_on_nth_replace(monkeypatch, 3, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        swap.commit(out, NEW, b"{}", [])
    assert tree(out) == before


def test_a_failure_while_staging_changes_nothing(out, monkeypatch):
    before = tree(out)
    real = safefs.Root.write

    def write(self, rel, data, mode=None):
        if rel == f"{STAGING}/{MANIFEST}":
            raise OSError(errno.EDQUOT, "Disk quota exceeded")
        return real(self, rel, data, mode)

    monkeypatch.setattr(safefs.Root, "write", write)
    with pytest.raises(OutputError) as err:
        swap.commit(out, NEW, b"{}", [])
    assert str(err.value) == f"cannot write to {out}: Disk quota exceeded; nothing was changed"
    assert tree(out) == before


def test_an_interrupt_while_staging_is_raised_as_it_was(out, monkeypatch):
    before = tree(out)
    real = safefs.Root.write

    def write(self, rel, data, mode=None):
        if rel.startswith(JOURNAL):
            raise KeyboardInterrupt
        return real(self, rel, data, mode)

    monkeypatch.setattr(safefs.Root, "write", write)
    with pytest.raises(KeyboardInterrupt):
        swap.commit(out, NEW, b"{}", [])
    assert tree(out) == before


def test_a_crash_midway_is_undone_by_the_next_run(out, monkeypatch):
    """A rollback that fails too leaves the journal; `recover` replays it."""
    before = tree(out)
    _fail_on_nth_replace(monkeypatch, 3, OSError(errno.EIO, "I/O error"))
    monkeypatch.setattr(swap, "_roll_back", lambda r, journal: (_ for _ in ()).throw(
        OSError(errno.EIO, "still failing")))
    with pytest.raises(OutputError) as err:
        swap.commit(out, NEW, b"{}", [])
    assert str(err.value) == (
        f"cannot write to {out} ([Errno 5] I/O error), and putting the previous files back "
        f"failed too ([Errno 5] still failing); they are safe in {out / BACKUP}, and the "
        "next run puts them back")
    assert (out / JOURNAL).is_file()
    monkeypatch.undo()
    monkeypatch.setattr(safefs.os, "fsync", lambda fd: None)
    assert swap.recover(out) is True
    assert tree(out) == before
    assert swap.recover(out) is False


def test_the_journal_says_what_is_about_to_change(out, monkeypatch):
    seen = {}
    real = safefs.Root.replace

    def replace(self, src, dst):
        if dst == JOURNAL:
            seen.update(json.loads((out / src).read_bytes()))
        return real(self, src, dst)

    monkeypatch.setattr(safefs.Root, "replace", replace)
    swap.commit(out, NEW, b"{}", [])
    assert seen == {"paths": [*NEW, MANIFEST],
                    "existed": ["pkg/a.py", "run.sh", MANIFEST],
                    "dirs": ["new/deep", "new"]}


def test_a_kept_copy_never_overwrites_an_earlier_different_one(out):
    swap.commit(out, {"pkg/a.py": b"v2"}, b"{}", ["pkg/a.py"])
    assert (out / REPLACED / "pkg" / "a.py").read_bytes() == b"a = 1\n"
    (out / "pkg" / "a.py").write_bytes(b"edit 2")
    swap.commit(out, {"pkg/a.py": b"v3"}, b"{}", ["pkg/a.py"])
    (out / "pkg" / "a.py").write_bytes(b"edit 3")
    swap.commit(out, {"pkg/a.py": b"v4"}, b"{}", ["pkg/a.py"])
    (out / "pkg" / "a.py").write_bytes(b"edit 2")  # the same edit again: kept once
    swap.commit(out, {"pkg/a.py": b"v5"}, b"{}", ["pkg/a.py"])
    kept = {p.name: p.read_bytes() for p in (out / REPLACED / "pkg").iterdir()}
    assert kept == {"a.py": b"a = 1\n", "a.py.~2~": b"edit 2", "a.py.~3~": b"edit 3"}
    assert (out / "pkg" / "a.py").read_bytes() == b"v5"


def test_a_kept_copy_skips_a_folder_in_its_place(out):
    (out / REPLACED / "pkg" / "a.py").mkdir(parents=True)
    swap.commit(out, {"pkg/a.py": b"v2"}, b"{}", ["pkg/a.py"])
    assert (out / REPLACED / "pkg" / "a.py.~2~").read_bytes() == b"a = 1\n"


def test_parents():
    assert swap._parents("a/b/c.py") == ["a/b", "a"]
    assert swap._parents("c.py") == []


# --- the journal, as the next run finds it -------------------------------------------------


def crashed(out: Path, journal: object) -> None:
    (out / STAGING).mkdir(parents=True, exist_ok=True)
    (out / BACKUP).mkdir(parents=True, exist_ok=True)
    if journal == {"paths": ["run.sh"], "existed": ["run.sh"]}:
        (out / BACKUP / "run.sh").mkdir()
    (out / JOURNAL).write_text(json.dumps(journal), encoding="utf-8")


def test_a_valid_journal_is_replayed(out):
    """The run had replaced pkg/a.py and added new/b.py in a new folder."""
    (out / BACKUP / "pkg").mkdir(parents=True)
    (out / BACKUP / "pkg" / "a.py").write_bytes(b"before")
    os.chmod(out / BACKUP / "pkg" / "a.py", 0o640)
    (out / "new" / "deep").mkdir(parents=True)
    (out / "new" / "deep" / "b.py").write_bytes(b"added")
    (out / "keep" / "c.py").write_bytes(b"added")
    crashed(out, {"paths": ["run.sh", "pkg/a.py", "new/deep/b.py", "keep/c.py"],
                  "existed": ["pkg/a.py", "run.sh"], "dirs": ["new/deep", "new"]})
    assert swap.recover(out) is True
    assert (out / "pkg" / "a.py").read_bytes() == b"before"
    assert stat.S_IMODE((out / "pkg" / "a.py").stat().st_mode) == 0o640
    assert not (out / "new").exists()
    assert not (out / "keep" / "c.py").exists() and (out / "keep").is_dir()
    assert (out / "run.sh").read_bytes() == b"#!/bin/sh\n"  # no backup: put back already
    assert sorted(p.name for p in (out / STATE_DIR).iterdir()) == ["lock", "manifest.json"]


def test_an_older_journal_without_folders_is_replayed(out):
    (out / "x.py").write_bytes(b"added")
    crashed(out, {"paths": ["x.py"], "existed": []})
    assert swap.recover(out) is True
    assert not (out / "x.py").exists()


def test_a_folder_the_run_made_that_now_holds_other_files_stays(out):
    (out / "new").mkdir()
    (out / "new" / "b.py").write_bytes(b"added")
    (out / "new" / "user.txt").write_bytes(b"mine")
    crashed(out, {"paths": ["new/b.py"], "existed": [], "dirs": ["new"]})
    assert swap.recover(out) is True
    assert sorted(p.name for p in (out / "new").iterdir()) == ["user.txt"]


def test_a_file_not_replaced_yet_is_left_as_it_is(out):
    """Its backup is identical: the file stays (same inode), the backup goes."""
    inode = (out / "pkg" / "a.py").stat().st_ino
    (out / BACKUP / "pkg").mkdir(parents=True)
    (out / BACKUP / "pkg" / "a.py").write_bytes(b"a = 1\n")
    crashed(out, {"paths": ["pkg/a.py"], "existed": ["pkg/a.py"], "dirs": []})
    assert swap.recover(out) is True
    assert (out / "pkg" / "a.py").stat().st_ino == inode
    assert (out / "pkg" / "a.py").read_bytes() == b"a = 1\n"
    assert not (out / BACKUP).exists()


def test_a_replaced_file_that_is_gone_is_put_back(out):
    (out / "pkg" / "a.py").unlink()
    (out / BACKUP / "pkg").mkdir(parents=True)
    (out / BACKUP / "pkg" / "a.py").write_bytes(b"before")
    crashed(out, {"paths": ["pkg/a.py"], "existed": ["pkg/a.py"], "dirs": []})
    assert swap.recover(out) is True
    assert (out / "pkg" / "a.py").read_bytes() == b"before"


def test_the_manifest_may_be_named_by_a_journal(out):
    (out / BACKUP / STATE_DIR).mkdir(parents=True)
    (out / BACKUP / MANIFEST).write_bytes(b"old manifest")
    crashed(out, {"paths": [MANIFEST], "existed": [MANIFEST], "dirs": []})
    assert swap.recover(out) is True
    assert (out / MANIFEST).read_bytes() == b"old manifest"


BAD_JOURNALS = {
    "a list": ([], "not a mermaidgen journal"),
    "no paths": ({"existed": []}, "not a mermaidgen journal"),
    "no existed": ({"paths": []}, "not a mermaidgen journal"),
    "extra key": ({"paths": [], "existed": [], "run": []}, "not a mermaidgen journal"),
    "paths not a list": ({"paths": "pkg/a.py", "existed": []}, "not a mermaidgen journal"),
    "existed not a list": ({"paths": [], "existed": {}}, "not a mermaidgen journal"),
    "dirs not a list": ({"paths": [], "existed": [], "dirs": "x"}, "not a mermaidgen journal"),
    "up": ({"paths": ["../x"], "existed": []}, "refusing to write '../x'"),
    "existed up": ({"paths": ["a"], "existed": ["../a"]}, "refusing to write '../a'"),
    "dirs up": ({"paths": ["a"], "existed": [], "dirs": [".."]}, "refusing to write '..'"),
    "state": ({"paths": [f"{STATE_DIR}/lock"], "existed": []},
              f"refusing to write '{STATE_DIR}/lock': "
              f"{STATE_DIR}/ is mermaidgen's own state"),
    "git": ({"paths": [".git/hooks/x"], "existed": []},
            "refusing to write '.git/hooks/x': mermaidgen never writes into a "
            "version-control folder"),
    "not a path": ({"paths": [7], "existed": []}, "refusing to write 7"),
    "existed not changed": ({"paths": ["pkg/a.py"], "existed": ["run.sh"]},
                            "it lists files as replaced that it does not change"),
    "foreign folder": ({"paths": ["pkg/a.py"], "existed": [], "dirs": ["keep"]},
                       "it lists folders that hold none of its files"),
    "a folder as a file": ({"paths": ["keep"], "existed": []}, "{out}/keep is not a regular file"),
    "a folder as a backup": ({"paths": ["run.sh"], "existed": ["run.sh"]},
                             "{out}/" f"{BACKUP}/run.sh is not a regular file"),
    "a file as a folder": ({"paths": ["run.sh/x"], "existed": [], "dirs": ["run.sh"]},
                           "{out}/run.sh is not a folder"),
}


@pytest.mark.parametrize("journal,message", BAD_JOURNALS.values(), ids=BAD_JOURNALS)
def test_a_journal_mermaidgen_could_not_have_written_touches_nothing(out, journal, message):
    crashed(out, journal)
    before = tree(out)
    with pytest.raises(OutputError) as err:
        swap.recover(out)
    assert f"cannot be replayed ({message.format(out=out)}" in str(err.value)
    assert str(err.value).startswith(f"{out / JOURNAL}: an interrupted run left this "
                                     "journal and it cannot be replayed (")
    assert f"delete {out / JOURNAL}, {out / STAGING} and {out / BACKUP}" in str(err.value)
    assert tree(out) == before


@pytest.mark.parametrize("text", ["{", "\xff", "[" * 100_000])
def test_a_journal_that_does_not_parse_touches_nothing(out, text):
    crashed(out, {})
    (out / JOURNAL).write_bytes(text.encode("latin-1"))
    before = tree(out)
    with pytest.raises(OutputError, match="cannot be replayed"):
        swap.recover(out)
    assert tree(out) == before


def test_a_backup_with_other_names_is_refused(out, tmp_path):
    (tmp_path / "elsewhere").write_bytes(b"planted")
    (out / BACKUP / "pkg").mkdir(parents=True)
    os.link(tmp_path / "elsewhere", out / BACKUP / "pkg" / "a.py")
    crashed(out, {"paths": ["pkg/a.py"], "existed": ["pkg/a.py"]})
    with pytest.raises(OutputError) as err:
        swap.recover(out)
    assert (f"({BACKUP}/pkg/a.py has other names (hard links), so it is not a copy "
            "mermaidgen made)") in str(err.value)
    assert (out / "pkg" / "a.py").read_bytes() == b"a = 1\n"


@pytest.mark.parametrize("where", ["backup", "path", "dir", "staging", "scratch-file"])
def test_links_and_wrong_kinds_in_the_state_are_refused(out, tmp_path, where):
    away = tmp_path / "away"
    away.mkdir()
    (away / "a.py").write_bytes(b"planted")
    journal = {"paths": ["pkg/a.py", "new/b.py"], "existed": ["pkg/a.py"], "dirs": ["new"]}
    crashed(out, journal)
    (out / BACKUP / "pkg").mkdir()
    (out / BACKUP / "pkg" / "a.py").write_bytes(b"before")
    (out / "new").mkdir()
    if where == "backup":
        (out / BACKUP / "pkg" / "a.py").unlink()
        (out / BACKUP / "pkg" / "a.py").symlink_to(away / "a.py")
        expected = f"{out / BACKUP / 'pkg' / 'a.py'} is a symbolic link"
    elif where == "path":
        (out / "new" / "b.py").symlink_to(away / "a.py")
        expected = f"{out / 'new' / 'b.py'} is a symbolic link"
    elif where == "dir":
        (out / "new").rmdir()
        (out / "new").symlink_to(away)
        expected = f"{out / 'new'} is a symbolic link"  # refused on the way to new/b.py
    elif where == "staging":
        (out / STAGING).rmdir()
        (out / STAGING).symlink_to(away)
        expected = f"{out / STAGING} is a symbolic link"
    else:
        (out / STAGING).rmdir()
        (out / STAGING).write_bytes(b"")
        expected = f"{out / STAGING} is not a folder"
    before, planted = tree(out), tree(away)
    with pytest.raises(OutputError) as err:
        swap.recover(out)
    if "symbolic" in expected:  # on the way (safefs) or at the entry (swap)
        expected += (", and mermaidgen never reads or writes through links"
                     + ("; remove it)" if where == "dir" else ")"))
    assert f"({expected}" in str(err.value)
    assert tree(out) == before and tree(away) == planted


def test_recover_without_state_does_nothing(out):
    before = tree(out)
    assert swap.recover(out) is False
    assert swap.recover(out / "missing") is False
    assert tree(out) == before
    assert not (out / LOCK_FILE).exists()


@pytest.mark.parametrize("scratch", [STAGING, BACKUP, JOURNAL + ".part"])
def test_recover_clears_what_a_run_killed_before_its_swap_left(out, scratch):
    if scratch.endswith(".part"):
        (out / scratch).write_bytes(b"{")
    else:
        (out / scratch / "pkg").mkdir(parents=True)
        (out / scratch / "pkg" / "a.py").write_bytes(b"half")
    assert swap.recover(out) is False
    assert (out / "pkg" / "a.py").read_bytes() == b"a = 1\n"
    assert sorted(p.name for p in (out / STATE_DIR).iterdir()) == ["lock", "manifest.json"]


def test_the_whole_message_for_a_journal_that_cannot_be_replayed(out):
    crashed(out, [])
    with pytest.raises(OutputError) as err:
        swap.recover(out)
    assert str(err.value) == (
        f"{out / JOURNAL}: an interrupted run left this journal and it cannot be replayed "
        "(not a mermaidgen journal). If this folder came from elsewhere (a cloned "
        f"repository, an archive), delete {out / JOURNAL}, {out / STAGING} and "
        f"{out / BACKUP} and run again; if a run of yours was interrupted here, its "
        f"previous files are in {out / BACKUP}: put them back by hand first")


def test_scratch_that_cannot_be_cleared_is_a_clear_error(out, monkeypatch):
    (out / STAGING).mkdir()

    def remove(self, rel):
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(safefs.Root, "remove", remove)
    with pytest.raises(OutputError) as err:
        swap.recover(out)
    assert str(err.value) == f"cannot clear {out / STATE_DIR}: Permission denied"


def test_state_that_cannot_be_cleared_after_the_swap_keeps_the_new_tree(out, monkeypatch):
    real = safefs.Root.unlink

    def unlink(self, rel):
        if rel == JOURNAL:
            raise OSError(errno.EACCES, "Permission denied")
        return real(self, rel)

    monkeypatch.setattr(safefs.Root, "unlink", unlink)
    with pytest.raises(OutputError) as err:
        swap.commit(out, NEW, b"{}", [])
    assert str(err.value) == (f"wrote {out}, but cannot clear {out / STATE_DIR}: "
                              "Permission denied")
    for rel, data in NEW.items():
        assert (out / rel).read_bytes() == data


def test_recover_locked_without_a_journal(out):
    assert swap.recover_locked(out) is False


# --- paths ------------------------------------------------------------------------------


@pytest.mark.parametrize("rel", ["a/b.py", "pkg/.github/x.yml", "a.b/c", "gitx/y"])
def test_plain_paths_are_accepted(rel):
    assert swap.check_rel(rel) == rel


@pytest.mark.parametrize("rel,why", [
    ("", "not a plain path"), ("a//b", "not a plain path"), ("./a", "not a plain path"),
    ("a/..", "not a plain path"), ("/a", "not a plain path"), ("C:x", "not a plain path"),
    ("a\\b", "not a plain path"), ("a\x00b", "not a plain path"), (None, "not a plain path"),
    (".mermaidgen/x", f"{STATE_DIR}/ is mermaidgen's own state"),
    (".Git/hooks/pre-commit", "mermaidgen never writes into a version-control folder"),
    ("a/.hg/hgrc", "mermaidgen never writes into a version-control folder"),
    ("a/.SVN", "mermaidgen never writes into a version-control folder"),
])
def test_paths_that_could_leave_or_harm_the_folder_are_refused(rel, why):
    with pytest.raises(OutputError) as err:
        swap.check_rel(rel)
    assert str(err.value).startswith(f"refusing to write {rel!r}: {why}")


def test_no_links_names_the_link(tmp_path, out):
    (out / "pkg" / "l").symlink_to(tmp_path)
    assert swap.no_links(out, "pkg/a.py") == out / "pkg" / "a.py"
    assert swap.no_links(out, "nothing/yet.py") == out / "nothing" / "yet.py"
    with pytest.raises(OutputError) as err:
        swap.no_links(out, "pkg/l/x.py")
    assert str(err.value) == (f"refusing to write pkg/l/x.py: {out / 'pkg' / 'l'} is a "
                              "symbolic link, and mermaidgen never writes through links")


def test_root_of_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(OutputError) as err:
        swap.root(tmp_path / "missing")
    assert str(err.value) == f"cannot open {tmp_path / 'missing'}: No such file or directory"


def test_read_state(out, tmp_path):
    assert swap.read_state(out, MANIFEST) == b'{"old": true}'
    assert swap.read_state(out, f"{STATE_DIR}/none") is None
    assert swap.read_state(out, f"{MANIFEST}/below") is None
    assert swap.read_state(tmp_path / "missing", MANIFEST) is None
    (out / MANIFEST).unlink()
    (out / MANIFEST).symlink_to(tmp_path / "x")
    with pytest.raises(OutputError, match="symbolic link"):
        swap.read_state(out, MANIFEST)
    (out / MANIFEST).unlink()
    (out / MANIFEST).mkdir()
    with pytest.raises(IsADirectoryError):
        swap.read_state(out, MANIFEST)


# --- one writer at a time ----------------------------------------------------------------


def test_a_second_writer_is_refused_until_the_first_is_done(out):
    with swap.Lock(out) as first:
        assert first.fd is not None
        refused = swap.Lock(out)
        with pytest.raises(OutputError) as err:
            refused.__enter__()
        assert refused.fd is None  # its descriptor closed, nothing held
        assert str(err.value) == (f"another mermaidgen is writing into {out} right now; "
                                  "try again when it has finished")
    assert first.fd is None
    with swap.Lock(out) as again:
        assert again.fd is not None


def test_a_lock_on_a_folder_without_locks_is_held_anyway(out, monkeypatch):
    import fcntl

    def no_locks(fd, how):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with swap.Lock(out) as lock:
        assert lock.fd is not None
        fd = lock.fd
    assert lock.fd is None
    with pytest.raises(OSError):
        os.fstat(fd)  # closed


def test_without_advisory_locks_a_run_still_goes_ahead(out, monkeypatch):
    monkeypatch.setitem(sys.modules, "fcntl", None)  # as on Windows: import fails
    with swap.Lock(out) as lock:
        assert lock.fd is None
    assert not (out / LOCK_FILE).exists()


def test_a_linked_lock_file_is_refused(out, tmp_path):
    (out / LOCK_FILE).symlink_to(tmp_path / "planted")
    with pytest.raises(OutputError, match="symbolic link"):
        swap.Lock(out).__enter__()
    assert not (tmp_path / "planted").exists()


def test_a_lock_that_cannot_be_created_is_a_clear_error(out, monkeypatch):
    def refuse(self, rel):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(safefs.Root, "open_lock", refuse)
    with pytest.raises(OutputError) as err:
        swap.Lock(out).__enter__()
    assert str(err.value) == (f"cannot write to {out}: Read-only file system "
                              f"({out / LOCK_FILE})")
