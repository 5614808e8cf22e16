"""Writing files so that a crash or a refusal never leaves a half-written one.

Every file the project writes (``model.json``, ``metrics.csv``, ...) goes through :func:`atomic_write`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile

__all__ = ["atomic_write"]


def atomic_write(path: str | os.PathLike[str], data: str | bytes, mode: int | None = None) -> None:
    """Write ``data`` (``str`` is written as UTF-8) to ``path`` atomically.

    The data goes into a temporary file in the same folder, is flushed to disk, and the temporary
    file is then renamed over ``path``; readers see the old file or the new one, never a part.

    - **Failures**: on any failure (a full disk, an interrupted write, a refused rename, Ctrl-C)
      the old file, if any, is untouched and no temporary file is left behind.
    - **Permissions**: the new file gets the mode a plain ``open(path, "w")`` would create it
      with (``0o666`` less the umask), or ``mode`` less the umask when ``mode`` is given (as
      ``os.open(path, flags, mode)`` does). ``Module.save`` passes ``0o600``: model files are
      readable by their owner only. The mode of a file being replaced is not kept.
    - **Symbolic links**: writing to a path that is a symlink replaces the link itself with a
      regular file; the file the link pointed to is left as it was.

    Raises:
        TypeError: ``data`` is neither ``str`` nor ``bytes``.
        FileNotFoundError: the folder does not exist.
        NotADirectoryError: a part of the folder's path is not a folder.
        IsADirectoryError: ``path`` is a folder (or ends with a separator).
        PermissionError: the folder is not writable.
        OSError: writing failed otherwise (e.g. the disk is full); nothing was changed.
    """
    target = os.fspath(path)
    if not isinstance(target, str):
        raise TypeError(f"atomic_write() path must be a str or os.PathLike[str], got {type(target).__name__}")
    if not isinstance(data, (str, bytes)):
        raise TypeError(f"atomic_write() data must be str or bytes, got {type(data).__name__}")
    if mode is not None and (isinstance(mode, bool) or not isinstance(mode, int) or not 0 <= mode <= 0o7777):
        raise ValueError(f"atomic_write() mode must be permission bits like 0o600, got {mode!r}")
    name = os.path.basename(target)
    folder = os.path.dirname(os.path.abspath(target))
    if not name:
        raise IsADirectoryError(errno.EISDIR, f"cannot write {target!r}: the path names a folder, not a file")
    if not os.path.exists(folder):
        raise FileNotFoundError(errno.ENOENT, f"cannot write {target!r}: the folder {folder!r} does not exist")
    if not os.path.isdir(folder):
        raise NotADirectoryError(errno.ENOTDIR, f"cannot write {target!r}: {folder!r} is not a folder")
    if os.path.isdir(target) and not os.path.islink(target):
        raise IsADirectoryError(errno.EISDIR, f"cannot write {target!r}: it is a folder")
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{name[:80]}.", suffix=".tmp", dir=folder)
    except PermissionError as e:
        raise PermissionError(e.errno, f"cannot write {target!r}: the folder {folder!r} is not writable") from None
    try:
        try:
            # mkstemp creates the file 0600; give it its final mode before any data is in it
            final = (0o666 if mode is None else mode) & ~_umask()
            if hasattr(os, "fchmod"):
                os.fchmod(fd, final)
            else:  # pragma: no cover - Windows
                os.chmod(tmp, final)
            view = memoryview(payload)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _sync_folder(folder)


def _umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux's
    ``/proc/self/status``); elsewhere by setting and restoring it."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def _sync_folder(folder: str) -> None:
    """Flush the rename to disk too (best effort: some systems cannot open or sync a folder)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(folder, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
