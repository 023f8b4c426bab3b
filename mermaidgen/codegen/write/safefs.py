"""File operations inside one folder that never follow a symbolic link below it.

A `Root` opens its folder once (following a link there: the caller named that folder).
Every path given to it is relative, and each folder on the way is opened with
`O_NOFOLLOW | O_DIRECTORY` relative to the one before it (`dir_fd`), so a link anywhere
on the way is refused, and a link swapped in after a check cannot redirect the operation:
it runs on the folder already open. The last step is never followed either: files are
opened with `O_NOFOLLOW`, and unlink, rename, rmdir and mkdir act on the entry itself.

Where the platform has no `dir_fd` (Windows), the same checks run path by path with
`lstat`: links are still refused, but a link made between check and use is not.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

_FD_OPS = {os.open, os.stat, os.unlink, os.rename, os.mkdir, os.rmdir}
DIR_FD = _FD_OPS <= os.supports_dir_fd and shutil.rmtree.avoids_symlink_attacks
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_FLAGS = NOFOLLOW | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_DIR_FLAGS = os.O_RDONLY | _FLAGS | getattr(os, "O_DIRECTORY", 0)
_MISSING = (errno.ENOENT, errno.ENOTDIR)


class Root:
    """A folder, and relative paths in it that are never followed through links.

    `refuse` is the error to raise for a link (or a path that is not plain relative):
    each caller's own, so messages stay in its terms. OS errors are raised as they are."""

    def __init__(self, path: Path, refuse: type[Exception]):
        self.path, self.refuse = Path(path), refuse
        self.fd = os.open(self.path, _DIR_FLAGS & ~NOFOLLOW) if DIR_FD else None

    def __enter__(self) -> Root:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    # --- finding an entry ---------------------------------------------------------------

    def _parts(self, rel: str) -> list[str]:
        parts = rel.split("/")
        if any(p in ("", ".", "..") for p in parts) or "\x00" in rel or \
                (os.sep != "/" and os.sep in rel):
            raise self.refuse(f"refusing {rel!r}: not a plain path inside {self.path}")
        return parts

    def _link(self, rel: str) -> Exception:
        return self.refuse(f"{self.path / rel} is a symbolic link, and mermaidgen never "
                           "reads or writes through links; remove it")

    @contextmanager
    def _parent(self, rel: str, create: bool = False) -> Iterator[tuple[int | None, str]]:
        """(folder fd, name) of `rel`'s last part, every folder on the way checked; with
        `create`, missing folders are made. Without `dir_fd`: (None, full path)."""
        parts = self._parts(rel)
        if not DIR_FD:
            for i in range(1, len(parts)):
                here = self.path.joinpath(*parts[:i])
                if here.is_symlink():
                    raise self._link("/".join(parts[:i]))
                if create and not here.exists():
                    here.mkdir()
            yield None, str(self.path.joinpath(*parts))
            return
        fd = self.fd
        try:
            for i, part in enumerate(parts[:-1], 1):
                try:
                    step = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    kind = _kind(part, fd)
                    if kind == "link":
                        raise self._link("/".join(parts[:i])) from None
                    if not (create and kind is None):
                        raise exc from None
                    with suppress(FileExistsError):
                        os.mkdir(part, dir_fd=fd)
                    step = os.open(part, _DIR_FLAGS, dir_fd=fd)
                if fd != self.fd:
                    os.close(fd)
                fd = step
            yield fd, parts[-1]
        finally:
            if fd != self.fd:
                os.close(fd)

    def lstat(self, rel: str) -> os.stat_result | None:
        """The entry itself (a link is not followed), None if there is none. A link on
        the way is refused."""
        try:
            with self._parent(rel) as (fd, name):
                return os.stat(name, dir_fd=fd, follow_symlinks=False)
        except OSError as exc:
            if exc.errno in _MISSING:
                return None
            raise

    def exists(self, rel: str) -> bool:
        return self.lstat(rel) is not None

    def is_file(self, rel: str) -> bool:
        found = self.lstat(rel)
        return found is not None and stat.S_ISREG(found.st_mode)

    # --- reading and writing ------------------------------------------------------------

    def _open(self, rel: str, flags: int, create: bool = False, mode: int = 0o666) -> int:
        with self._parent(rel, create) as (fd, name):
            try:
                return os.open(name, flags | _FLAGS, mode, dir_fd=fd)
            except OSError:
                if _kind(name, fd) == "link":
                    raise self._link(rel) from None
                raise

    def read(self, rel: str, limit: int | None = None) -> bytes:
        """The bytes of a regular file (a link, a device or a fifo is refused); with a
        `limit`, at most `limit + 1` of them (more than `limit` says the file is larger)."""
        fd = self._open(rel, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise self.refuse(f"{self.path / rel} is not a regular file")
            return f.read(-1 if limit is None else limit + 1)

    def write(self, rel: str, data: bytes, mode: int | None = None) -> None:
        """Create or overwrite a file (folders on the way made), synced to disk; `mode`:
        its permission bits (default: as the umask says)."""
        fd = self._open(rel, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, create=True)
        with open(fd, "wb") as f:
            f.write(data)
            f.flush()
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), stat.S_IMODE(mode))
            os.fsync(f.fileno())

    def open_lock(self, rel: str) -> int:
        """A descriptor of the file `rel`, created if missing (never through a link)."""
        return self._open(rel, os.O_RDWR | os.O_CREAT, create=True)

    # --- changing entries ---------------------------------------------------------------

    def replace(self, src: str, dst: str) -> None:
        """Rename `src` over `dst` (folders on the way to `dst` made)."""
        with self._parent(src) as (src_fd, src_name), \
                self._parent(dst, create=True) as (dst_fd, dst_name):
            os.replace(src_name, dst_name, src_dir_fd=src_fd, dst_dir_fd=dst_fd)

    def unlink(self, rel: str) -> None:
        """Remove a file or a link (the link itself), if there is one."""
        try:
            with self._parent(rel) as (fd, name):
                os.unlink(name, dir_fd=fd)
        except OSError as exc:
            if exc.errno not in _MISSING:
                raise

    def rmdir(self, rel: str) -> None:
        with self._parent(rel) as (fd, name):
            os.rmdir(name, dir_fd=fd)

    def remove(self, rel: str) -> None:
        """Delete a file, a link (never what it points to) or a whole folder, if there is
        one. Inside the folder nothing is followed either (`shutil.rmtree` with `dir_fd`
        walks by descriptors)."""
        try:
            with self._parent(rel) as (fd, name):
                found = os.stat(name, dir_fd=fd, follow_symlinks=False)
                if stat.S_ISDIR(found.st_mode):
                    shutil.rmtree(name, dir_fd=fd)
                else:
                    os.unlink(name, dir_fd=fd)
        except OSError as exc:
            if exc.errno not in _MISSING:
                raise


def _kind(name: str, fd: int | None) -> str | None:
    """"link", "dir", "other", or None if `name` is missing in folder `fd`."""
    try:
        found = os.stat(name, dir_fd=fd, follow_symlinks=False)
    except OSError:
        return None
    if stat.S_ISLNK(found.st_mode):
        return "link"
    return "dir" if stat.S_ISDIR(found.st_mode) else "other"
