"""Safe file reading and atomic writing shared by every reader and writer in emigre."""

from __future__ import annotations

import csv
import errno
import io
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from emigre.errors import EmigreError, InputError

#: Text inputs larger than this are refused (a scenario or evidence file is kilobytes to a few megabytes).
MAX_INPUT_BYTES = 256 * 1024 * 1024


def check_input_file(path: str | Path, *, what: str = "file") -> Path:
    """``path`` as a regular file that can be opened, or one clear error naming what it is instead.

    Special files (/dev/zero, /dev/urandom, FIFOs, sockets) have no size and never end or block a reader,
    so they are refused by kind before anything is read; so are directories and symlink loops."""
    p = Path(path)
    try:
        st = p.stat()  # follows symlinks: a loop raises here (ELOOP)
    except FileNotFoundError:
        if p.is_symlink():
            raise InputError(p, f"{what} is a broken symbolic link") from None
        raise InputError(p, f"{what} not found") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(p, f"{what} is a symbolic link loop", expected="a regular file") from None
        raise InputError(p, f"{what} cannot be read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(p, f"{what} is a directory", expected="a regular file")
    if not stat.S_ISREG(st.st_mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a character device"
                if stat.S_ISCHR(st.st_mode) else "a block device" if stat.S_ISBLK(st.st_mode)
                else "a socket" if stat.S_ISSOCK(st.st_mode) else "a special file")
        raise InputError(p, f"{what} is {kind}", expected="a regular file")
    return p


def read_bytes_capped(path: str | Path, *, what: str = "file", limit: int | None = None) -> bytes:
    """The bytes of a regular file, read with a cap: a file that grows past ``limit`` while being read (or
    whose size is misreported) is refused after ``limit + 1`` bytes, never read whole into memory."""
    limit = MAX_INPUT_BYTES if limit is None else limit
    p = check_input_file(path, what=what)
    try:
        with open(p, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(p, f"{what} cannot be read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InputError(p, f"{what} is too large (more than {limit} bytes)")
    return data


def read_text(path: str | Path, *, what: str = "file", allow_empty: bool = False) -> str:
    """Read a UTF-8 text file, failing clearly on a missing, special, binary, empty or oversized file."""
    p = Path(path)
    data = read_bytes_capped(p, what=what)
    if b"\x00" in data:
        raise InputError(p, f"{what} looks binary (contains NUL bytes)", expected="a UTF-8 text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(p, f"{what} is not valid UTF-8 text", line=line, expected="UTF-8 text") from None
    if not allow_empty and not text.strip():
        raise InputError(p, f"{what} is empty")
    return text


def read_csv_rows(path: str | Path, *, what: str = "CSV file", allow_empty: bool = False) -> list[list[str]]:
    """All rows of a CSV file as lists of stripped strings (line numbers are row index + 1 when no
    quoted field spans lines; use :func:`read_csv_rows_numbered` when exact line numbers matter)."""
    return [row for _, row in read_csv_rows_numbered(path, what=what, allow_empty=allow_empty)]


def read_csv_rows_numbered(
    path: str | Path, *, what: str = "CSV file", allow_empty: bool = False
) -> list[tuple[int, list[str]]]:
    """Rows of a CSV file with the 1-based line number each starts on; blank lines are skipped."""
    text = read_text(path, what=what, allow_empty=allow_empty)
    reader = csv.reader(io.StringIO(text))
    out: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for row in reader:
            start = line
            line = reader.line_num + 1
            if not row or all(not c.strip() for c in row):
                continue
            out.append((start, [c.strip() for c in row]))
    except csv.Error as exc:
        raise InputError(path, f"malformed CSV: {exc}", line=reader.line_num) from None
    return out


@contextmanager
def atomic_writer(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[io.IOBase]:
    """Write to a temporary file beside ``path`` and move it into place only if the block succeeds."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; a result file should have normal permissions
    try:
        kwargs = {} if "b" in mode else {"encoding": encoding, "newline": ""}
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (readers see the old file or the whole new one)."""
    with atomic_writer(path, "w") as fh:
        fh.write(text)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (readers see the old file or the whole new one)."""
    with atomic_writer(path, "wb") as fh:
        fh.write(data)


#: Mounts whose "files" are kernel interfaces: results written there are lost or do harm.
_SPECIAL_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))


def _nearest_existing(p: Path) -> Path:
    q = p
    while True:
        try:
            q.lstat()
            return q
        except FileNotFoundError:
            if q.parent == q:
                return q
            q = q.parent
        except OSError:
            return q


def _check_writable_dir(d: Path, *, option: str, target: Path) -> None:
    """``d`` (an existing path) must be a directory in which a file can be created: tried, not guessed
    (permissions alone do not tell for root, read-only mounts or a full disk)."""
    try:
        st = d.stat()
    except OSError as exc:
        raise EmigreError(f"{option} {target}: {d} cannot be used ({exc.strerror or exc})") from None
    if not stat.S_ISDIR(st.st_mode):
        raise EmigreError(f"{option} {target}: {d} is a file, not a directory")
    try:
        fd, probe = tempfile.mkstemp(prefix=".emigre-write-check.", dir=d)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise EmigreError(f"{option} {target}: cannot write in {d} ({exc.strerror or exc})") from None


def _check_not_special(p: Path, *, option: str) -> None:
    resolved = Path(os.path.realpath(p))  # realpath, unlike Path.resolve, does not raise on a symlink loop
    for root in _SPECIAL_ROOTS:
        if resolved == root or root in resolved.parents:
            raise EmigreError(f"{option} {p}: inside {root}, a special file system; choose a directory on disk")


def _check_no_loop(p: Path, *, option: str) -> None:
    try:
        p.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise EmigreError(f"{option} {p}: is a symbolic link loop") from None
        raise EmigreError(f"{option} {p}: cannot be used ({exc.strerror or exc})") from None


def check_output_dir(path: str | Path, *, option: str = "--out") -> Path:
    """Check, before any work, that ``path`` can be the output directory: an existing directory or one that
    can be created, writable, not inside /proc, /sys or /dev. Creates nothing; raises one clear line."""
    p = Path(path)
    _check_not_special(p, option=option)
    if p.exists() or p.is_symlink():
        _check_no_loop(p, option=option)
        if not p.is_dir():
            raise EmigreError(f"{option} {p}: exists and is not a directory")
        _check_writable_dir(p, option=option, target=p)
        return p
    _check_writable_dir(_nearest_existing(p.parent if str(p.parent) else Path(".")), option=option, target=p)
    return p


def check_output_file(path: str | Path, *, option: str = "--out") -> Path:
    """Check, before any work, that a file can be written (atomically) at ``path``: not a directory nor a
    special file, and its folder exists or can be created and is writable. Creates nothing."""
    p = Path(path)
    _check_not_special(p, option=option)
    if p.exists() or p.is_symlink():
        try:
            st = p.stat()
        except OSError as exc:
            raise EmigreError(f"{option} {p}: cannot be used ({exc.strerror or exc})") from None
        if stat.S_ISDIR(st.st_mode):
            raise EmigreError(f"{option} {p}: is a directory, expected a file name")
        if not stat.S_ISREG(st.st_mode):
            raise EmigreError(f"{option} {p}: exists and is not a regular file")
    parent = p.parent if str(p.parent) else Path(".")
    _check_writable_dir(_nearest_existing(parent), option=option, target=p)
    return p
