"""Safe file reading and atomic writing shared by every reader and writer in emigre."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from emigre.errors import InputError

#: Text inputs larger than this are refused (a scenario or evidence file is kilobytes to a few megabytes).
MAX_INPUT_BYTES = 256 * 1024 * 1024


def read_text(path: str | Path, *, what: str = "file", allow_empty: bool = False) -> str:
    """Read a UTF-8 text file, failing clearly on a missing, binary, empty or oversized file."""
    p = Path(path)
    if not p.exists():
        raise InputError(p, f"{what} not found")
    if p.is_dir():
        raise InputError(p, f"{what} is a directory, expected a file")
    size = p.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise InputError(p, f"{what} is too large ({size} bytes, limit {MAX_INPUT_BYTES})")
    data = p.read_bytes()
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
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_writer(path, "w") as fh:
        fh.write(text)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_writer(path, "wb") as fh:
        fh.write(data)
