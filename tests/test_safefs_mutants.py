"""`safefs.Root`, the one way mermaidgen touches an output folder, tested directly.

Written to kill the mutants mutmut made of `safefs.py` (docs/mutation.md): every
operation is checked for what a user relies on — a link anywhere (on the way or at the
end) is refused and what it points to is left as it was, only plain relative paths are
accepted, a missing entry is "nothing there" rather than an error, a file written is
complete with the mode asked for, and no descriptor is left open. The same checks run
with `DIR_FD` off, the path-by-path code Windows uses.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from mermaidgen.codegen.write import safefs
from mermaidgen.codegen.write.safefs import Root

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt",
                                reason="needs symbolic links")


class Refused(Exception):
    """The caller's own error for links and bad paths."""


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else set()


@pytest.fixture(params=["dir_fd", "by-path"])
def mode(request, monkeypatch) -> str:
    """Each test runs with descriptors (POSIX) and with the path-by-path fallback."""
    if request.param == "by-path":
        monkeypatch.setattr(safefs, "DIR_FD", False)
    elif not safefs.DIR_FD:
        pytest.skip("no dir_fd on this platform")
    return request.param


@pytest.fixture
def folder(tmp_path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    return out


@pytest.fixture
def decoy(tmp_path) -> Path:
    """A folder outside the output a link could point at, with a file worth keeping."""
    away = tmp_path / "decoy"
    away.mkdir()
    (away / "f").write_bytes(b"precious")
    return away


def test_the_root_folder_itself_may_be_a_link_the_caller_named(tmp_path, folder, mode):
    (tmp_path / "alias").symlink_to(folder)
    with Root(tmp_path / "alias", Refused) as r:
        r.write("a/b.txt", b"x")
        assert r.read("a/b.txt") == b"x"
    assert (folder / "a" / "b.txt").read_bytes() == b"x"


@pytest.mark.parametrize("rel", ["", ".", "..", "a/../b", "a//b", "/etc/passwd", "a/",
                                 "./a", "a\x00b"])
def test_only_plain_relative_paths_are_accepted(folder, mode, rel):
    with Root(folder, Refused) as r:
        for op in (r.read, r.lstat, r.unlink, r.remove, r.rmdir,
                   lambda q: r.write(q, b"x"), r.open_lock,
                   lambda q: r.replace(q, "ok"), lambda q: r.replace("ok", q)):
            with pytest.raises(Refused) as err:
                op(rel)
            assert f"refusing {rel!r}: not a plain path inside {folder}" == str(err.value)
    assert list(folder.iterdir()) == []


def test_a_link_on_the_way_is_refused_and_its_target_untouched(folder, decoy, mode):
    (folder / "sub").symlink_to(decoy)
    with Root(folder, Refused) as r:
        ops = {"read": lambda: r.read("sub/f"),
               "write": lambda: r.write("sub/f", b"evil"),
               "write-deeper": lambda: r.write("sub/new/g", b"evil"),
               "lstat": lambda: r.lstat("sub/f"),
               "unlink": lambda: r.unlink("sub/f"),
               "remove": lambda: r.remove("sub/f"),
               "rmdir": lambda: r.rmdir("sub/x"),
               "lock": lambda: r.open_lock("sub/lock"),
               "replace-from": lambda: r.replace("sub/f", "mine"),
               "replace-to": lambda: r.replace("mine", "sub/f")}
        (folder / "mine").write_bytes(b"mine")
        for name, op in ops.items():
            with pytest.raises(Refused) as err:
                op()
            assert str(err.value) == (f"{folder / 'sub'} is a symbolic link, and mermaidgen "
                                      "never reads or writes through links; remove it"), name
    assert sorted(p.name for p in decoy.iterdir()) == ["f"]
    assert (decoy / "f").read_bytes() == b"precious"
    assert (folder / "mine").read_bytes() == b"mine"


def test_a_link_deeper_on_the_way_names_the_path_up_to_it(folder, decoy, mode):
    (folder / "a").mkdir()
    (folder / "a" / "b").symlink_to(decoy)
    with Root(folder, Refused) as r, pytest.raises(Refused) as err:
        r.write("a/b/c/d", b"evil")
    assert str(err.value).startswith(f"{folder / 'a' / 'b'} is a symbolic link")
    assert sorted(p.name for p in decoy.iterdir()) == ["f"]


def test_a_link_at_the_end_is_never_followed(folder, decoy):
    (folder / "f").symlink_to(decoy / "f")
    with Root(folder, Refused) as r:
        for op in (lambda: r.read("f"), lambda: r.write("f", b"evil"),
                   lambda: r.open_lock("f")):
            with pytest.raises(Refused) as err:
                op()
            assert str(err.value) == (f"{folder / 'f'} is a symbolic link, and mermaidgen "
                                      "never reads or writes through links; remove it")
        assert stat.S_ISLNK(r.lstat("f").st_mode)
        assert r.exists("f") and not r.is_file("f")
        r.unlink("f")  # the link itself goes, not what it points to
    assert not os.path.lexists(folder / "f")
    assert (decoy / "f").read_bytes() == b"precious"


def test_a_dangling_link_at_the_end_is_not_created_through(folder, decoy):
    (folder / "f").symlink_to(decoy / "new")
    with Root(folder, Refused) as r:
        for op in (lambda: r.write("f", b"evil"), lambda: r.open_lock("f")):
            with pytest.raises(Refused):
                op()
    assert sorted(p.name for p in decoy.iterdir()) == ["f"]


def test_a_missing_entry_is_nothing_there(folder, mode):
    (folder / "file").write_bytes(b"x")
    with Root(folder, Refused) as r:
        for rel in ("none", "no/such/thing", "file/below"):
            assert r.lstat(rel) is None
            assert not r.exists(rel) and not r.is_file(rel)
            r.unlink(rel)  # nothing to remove: no error
            r.remove(rel)
        with pytest.raises(FileNotFoundError):
            r.read("none")
        with pytest.raises(FileNotFoundError):
            r.read("no/such")
    assert sorted(p.name for p in folder.iterdir()) == ["file"]  # reading made no folder


def test_kinds_of_entries(folder, mode):
    (folder / "d").mkdir()
    (folder / "d" / "f").write_bytes(b"x")
    with Root(folder, Refused) as r:
        assert r.is_file("d/f") and r.exists("d/f")
        assert r.exists("d") and not r.is_file("d")
        assert stat.S_ISDIR(r.lstat("d").st_mode)
        assert r.lstat("d/f").st_size == 1


def test_other_errors_are_raised_not_hidden(folder):
    (folder / "d").mkdir()
    (folder / "d" / "f").write_bytes(b"x")
    with Root(folder, Refused) as r:
        with pytest.raises(OSError) as err:
            r.unlink("d")  # a folder: not a file to unlink
        assert err.value.errno in (errno.EISDIR, errno.EPERM)
        with pytest.raises(OSError) as err:
            r.rmdir("d")
        assert err.value.errno == errno.ENOTEMPTY
        with pytest.raises(OSError) as err:
            r.write("d/f/g", b"x")  # a file on the way is not a folder to make
        assert err.value.errno in (errno.ENOTDIR, errno.EEXIST)
    os.chmod(folder / "d", 0o500)
    try:
        if os.access(folder / "d", os.W_OK):
            pytest.skip("running as root: permissions do not apply")
        with Root(folder, Refused) as r:
            for op in (lambda: r.unlink("d/f"), lambda: r.remove("d/f"),
                       lambda: r.lstat("d/f/x") or r.unlink("d/f")):
                with pytest.raises(PermissionError):
                    op()
        assert (folder / "d" / "f").read_bytes() == b"x"
    finally:
        os.chmod(folder / "d", 0o700)


def test_write_makes_the_folders_and_replaces_the_whole_file(folder, mode):
    with Root(folder, Refused) as r:
        r.write("a/b/c.txt", b"a long first version")
        r.write("a/b/c.txt", b"short")
        assert r.read("a/b/c.txt") == b"short"
        r.write("a/d.txt", b"")
    assert (folder / "a" / "b" / "c.txt").read_bytes() == b"short"
    assert (folder / "a" / "d.txt").read_bytes() == b""


def test_write_sets_the_mode_asked_for_and_otherwise_the_umask(folder, mode):
    old = os.umask(0o022)
    try:
        with Root(folder, Refused) as r:
            r.write("exe", b"#!/bin/sh\n", mode=stat.S_IFREG | 0o755)
            r.write("ro", b"x", mode=0o400)
            r.write("plain", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((folder / "exe").stat().st_mode) == 0o755
    assert stat.S_IMODE((folder / "ro").stat().st_mode) == 0o400
    assert stat.S_IMODE((folder / "plain").stat().st_mode) == 0o644


def test_write_is_synced_to_disk(folder, monkeypatch):
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(safefs.os, "fsync", lambda fd: synced.append(fd) or real(fd))
    with Root(folder, Refused) as r:
        r.write("f", b"x")
    assert len(synced) == 1


def test_read_refuses_what_is_not_a_regular_file_without_blocking(folder):
    os.mkfifo(folder / "fifo")  # opening a fifo for reading would wait for a writer
    with Root(folder, Refused) as r, pytest.raises(Refused) as err:
        r.read("fifo")
    assert str(err.value) == f"{folder / 'fifo'} is not a regular file"


def test_read_gives_the_bytes(folder, mode):
    (folder / "d").mkdir()
    (folder / "d" / "f").write_bytes(b"\x00\xffdata")
    with Root(folder, Refused) as r:
        assert r.read("d/f") == b"\x00\xffdata"


def test_open_lock_creates_the_file_and_folders_and_can_write(folder, mode):
    with Root(folder, Refused) as r:
        fd = r.open_lock("state/lock")
    try:
        os.write(fd, b"held")
    finally:
        os.close(fd)
    assert (folder / "state" / "lock").read_bytes() == b"held"


def test_replace_moves_over_the_destination_making_its_folders(folder, mode):
    (folder / "src").mkdir()
    (folder / "src" / "new").write_bytes(b"new")
    (folder / "old").write_bytes(b"old")
    with Root(folder, Refused) as r:
        r.replace("src/new", "a/b/new")
        assert r.read("a/b/new") == b"new" and not r.exists("src/new")
        (folder / "x").write_bytes(b"x")
        r.replace("x", "old")
    assert (folder / "old").read_bytes() == b"x"
    assert not (folder / "x").exists()


def test_rmdir_removes_an_empty_folder(folder, mode):
    (folder / "a" / "b").mkdir(parents=True)
    with Root(folder, Refused) as r:
        r.rmdir("a/b")
        assert not r.exists("a/b") and r.exists("a")


def test_remove_takes_a_tree_without_following_links_in_it(folder, decoy, mode):
    tree = folder / "t" / "u"
    tree.mkdir(parents=True)
    (tree / "f").write_bytes(b"x")
    (tree / "away").symlink_to(decoy)
    (tree / "file-link").symlink_to(decoy / "f")
    (folder / "top-link").symlink_to(decoy)
    (folder / "plain").write_bytes(b"x")
    with Root(folder, Refused) as r:
        r.remove("t")
        r.remove("top-link")
        r.remove("plain")
    assert list(folder.iterdir()) == []
    assert sorted(p.name for p in decoy.iterdir()) == ["f"]
    assert (decoy / "f").read_bytes() == b"precious"


def test_no_descriptor_is_left_open(folder, decoy):
    if not open_fds():
        pytest.skip("no /proc/self/fd")
    (folder / "link").symlink_to(decoy)
    before = open_fds()
    with Root(folder, Refused) as r:
        r.write("a/b/c/f", b"x")
        r.read("a/b/c/f")
        r.lstat("a/b/c/f")
        r.replace("a/b/c/f", "a/b/g")
        r.unlink("a/b/g")
        r.rmdir("a/b/c")
        os.close(r.open_lock("a/lock"))
        r.remove("a")
        for op in (lambda: r.write("link/x/y", b""), lambda: r.read("a/none/x")):
            with pytest.raises((Refused, OSError)):
                op()
    assert r.fd is None
    assert open_fds() == before


def test_the_fallback_opens_no_descriptor(folder, monkeypatch):
    """Without `dir_fd` (Windows) a folder cannot be opened at all: nothing may try."""
    monkeypatch.setattr(safefs, "DIR_FD", False)
    with Root(folder, Refused) as r:
        assert r.fd is None
        r.write("a/b", b"x")
        assert r.read("a/b") == b"x"


def test_a_backslash_is_refused_where_it_separates_folders(folder, monkeypatch):
    """On Windows `a\\..\\x` would climb out of the folder."""
    monkeypatch.setattr(safefs.os, "sep", "\\")
    with Root(folder, Refused) as r:
        with pytest.raises(Refused, match="not a plain path"):
            r.lstat("a\\..\\x")
        assert r.lstat("plain") is None


def test_kind_of_an_entry():
    here = Path(__file__).parent
    fd = os.open(here, os.O_RDONLY)
    try:
        assert safefs._kind(Path(__file__).name, fd) == "other"
        assert safefs._kind("no-such-file", fd) is None
    finally:
        os.close(fd)


def test_kind_of_a_folder(folder):
    (folder / "d").mkdir()
    fd = os.open(folder, os.O_RDONLY)
    try:
        assert safefs._kind("d", fd) == "dir"
    finally:
        os.close(fd)


def test_kind_of_a_link(folder):
    (folder / "l").symlink_to("anywhere")
    fd = os.open(folder, os.O_RDONLY)
    try:
        assert safefs._kind("l", fd) == "link"
    finally:
        os.close(fd)
