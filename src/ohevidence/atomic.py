"""The one way output files are written: whole or not at all.

Every table, JSON file, note, figure and raw response the pipeline writes goes through
:func:`atomic_write` (or its helpers :func:`write_text_atomic`, :func:`write_bytes_atomic`,
:func:`write_json_atomic`). The content is written to a temporary file in the same folder
(``.<name>.<random>.tmp``), flushed and synced to disk, then renamed over the final name with
:func:`os.replace`, which is atomic on POSIX and Windows within one file system. So a process
killed mid-write, or a disk that fills up, never leaves a cut file under the final name: the
reader finds the previous complete file or none at all. On any error the temporary file is
removed; only a hard kill (``SIGKILL``, power loss) can leave a hidden ``.tmp`` file behind,
never read by any stage.

A write that fails for lack of space (or quota, or a read-only disk, or permissions) raises
:class:`WriteError`, one line naming the file: the CLI prints it without a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal, overload

from ohevidence.errors import OhevidenceError

__all__ = [
    "WriteError",
    "atomic_write",
    "describe_os_error",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_text_atomic",
]

TEMP_SUFFIX = ".tmp"


class WriteError(OhevidenceError):
    """An output file could not be written; the previous file (if any) is unchanged."""

    def __init__(self, path: str | Path, error: OSError) -> None:
        self.path = str(path)
        self.errno = error.errno
        reason = describe_os_error(error)
        super().__init__(f"{self.path}: cannot be written: {reason}; any previous version is left unchanged")


def describe_os_error(error: OSError) -> str:
    """The reason of an OS error in words, with what to do for a full disk."""
    reason = error.strerror or str(error) or type(error).__name__
    if error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return f"{reason} (the disk or quota is full: free some space and run again)"
    return reason


_UMASK: int | None = None


def _file_mode() -> int:
    """The mode a plain ``open(path, 'w')`` would give (0o666 less the umask); mkstemp gives 0o600."""
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return 0o666 & ~_UMASK


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); harmless to skip where folders cannot be opened."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@overload
def atomic_write(
    path: str | Path,
    mode: Literal["w"] = "w",
    *,
    encoding: str = "utf-8",
    newline: str | None = None,
) -> contextlib.AbstractContextManager[IO[str]]: ...


@overload
def atomic_write(
    path: str | Path,
    mode: Literal["wb"],
    *,
    encoding: str = "utf-8",
    newline: str | None = None,
) -> contextlib.AbstractContextManager[IO[bytes]]: ...


def atomic_write(
    path: str | Path,
    mode: Literal["w", "wb"] = "w",
    *,
    encoding: str = "utf-8",
    newline: str | None = None,
) -> contextlib.AbstractContextManager[IO[Any]]:
    """Context manager: a handle on a temporary file that replaces ``path`` when the block ends.

    ``mode`` is ``"w"`` (text, ``encoding`` and ``newline`` as for :func:`open`) or ``"wb"``. The
    folder is created if needed. When the block raises, ``path`` is left as it was and the
    temporary file is removed; an :class:`OSError` (disk full, permission) becomes one
    :class:`WriteError` naming ``path``.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', not {mode!r}")
    return _atomic_write(Path(path), mode, encoding, newline)


@contextlib.contextmanager
def _atomic_write(path: Path, mode: str, encoding: str, newline: str | None) -> Iterator[IO[Any]]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    except OSError as exc:
        raise WriteError(path, exc) from exc
    temp = Path(temp_name)
    try:
        if mode == "wb":
            handle: IO[Any] = os.fdopen(fd, "wb")
        else:
            handle = os.fdopen(fd, "w", encoding=encoding, newline=newline)
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, _file_mode())
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        # an OSError naming another file comes from the caller's own work (a file it read): kept as is
        if isinstance(exc, OSError) and not isinstance(exc, WriteError) and exc.filename in (None, temp_name):
            raise WriteError(path, exc) from exc
        raise
    _sync_folder(path.parent)


def write_text_atomic(path: str | Path, text: str, *, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path, encoding=encoding) as handle:
        handle.write(text)


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path, "wb") as handle:
        handle.write(data)


def write_json_atomic(path: str | Path, value: Any, *, indent: int | None = 2) -> None:
    """Write ``value`` as UTF-8 JSON (non-ASCII kept, final newline) to ``path`` atomically.

    The JSON text is built before the file is opened: a value that cannot be serialised
    leaves ``path`` untouched.
    """
    write_text_atomic(path, json.dumps(value, indent=indent, ensure_ascii=False) + "\n")
