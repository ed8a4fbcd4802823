"""Read a manifest file safely: only a regular file, never through a final
symlink, never blocking on a FIFO, at most a size limit (+1 byte, so that the
caller can tell the file is over it)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from promoter.errors import NotRegular

MAX_BYTES = 8 * 1024 * 1024
CHUNK = 64 * 1024
_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW
_KINDS = {stat.S_IFIFO: "FIFO", stat.S_IFSOCK: "socket", stat.S_IFCHR: "character device",
          stat.S_IFBLK: "block device", stat.S_IFLNK: "symlink", stat.S_IFDIR: "directory"}


def read_regular(path: str | Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file, at most ``limit`` + 1 (one read of the size
    the file says it has, then small ones while it proves longer). Never blocks
    on a FIFO and never follows a final symlink."""
    try:
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotRegular("not a regular file (symlink); not read") from None
        if exc.errno == errno.ENXIO:  # open() of a socket, or of a device without a driver
            raise NotRegular(f"not a regular file ({_kind(path)}); not read") from None
        raise
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            kind = _KINDS.get(stat.S_IFMT(status.st_mode), "special file")
            raise NotRegular(f"not a regular file ({kind}); not read")
        want = min(status.st_size, limit) + 1
        data = os.read(fd, want)
        if len(data) < want:  # the usual case: the whole file in one read
            return data
        chunks, total = [data], want  # longer than it said (growing, or /proc)
        while chunks[-1] and total <= limit:
            chunks.append(os.read(fd, CHUNK))
            total += len(chunks[-1])
    finally:
        os.close(fd)
    return b"".join(chunks)


def _kind(path: str | Path) -> str:
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return "special file"
    return _KINDS.get(stat.S_IFMT(mode), "special file")

