"""Writing a store safely: the output directory checked before any work, one writer at a time (a lock),
the new store staged beside the old one and swapped in when complete, the manifest written last."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from emigre.errors import EmigreError
from emigre.fileio import check_output_dir
from emigre.results.store import MANIFEST, ResultStore

# ---------------------------------------------------------------------------------------------- writing a store
#: where a job writes the new store before it replaces the old one (inside the output directory)
STAGING = ".partial"


class StoreWriter:
    """The lifecycle of a store being (re)written: ``with StoreWriter(out) as w:`` checks ``out``, creates it,
    takes an exclusive lock (``fcntl.flock`` on the directory itself: it dies with the process, so a killed
    job leaves no stale lock), and offers ``w.stage`` - a directory beside the old store where the new one is
    written. :meth:`commit` then moves the new files over the old ones and writes the manifest last; until then
    the previous store stays whole and readable. A job that fails or is killed leaves ``w.stage`` in place,
    for ``--resume``."""

    def __init__(self, directory: str | Path, *, option: str = "--out") -> None:
        self.directory = check_output_dir(directory, option=option)
        self.stage = self.directory / STAGING
        self._fd: int | None = None
        self._created = False

    def __enter__(self) -> StoreWriter:

        try:
            self._created = not self.directory.exists()
            self.directory.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            raise EmigreError(f"{self.directory}: cannot create the output directory ({exc.strerror})") from None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = None
            raise EmigreError(f"{self.directory}: another emigre job is writing to this directory; wait for it "
                              "to finish or choose another --out") from None
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the lock
            self._fd = None
        # nothing of ours worth keeping in a directory we created and that holds no shard
        if exc[0] is not None and self._created and not any(self.stage.glob("runs/run-*.parquet")):
            import shutil

            shutil.rmtree(self.directory, ignore_errors=True)

    def fresh_stage(self) -> Path:
        """An empty staging directory (a leftover one is discarded)."""
        if self.stage.exists():
            shutil.rmtree(self.stage)
        self.stage.mkdir()
        return self.stage

    def commit(self, manifest: dict, *, keep: Iterable[str] = ()) -> dict:
        """Replace the store in ``directory`` by what ``stage`` holds (except the names in ``keep``, which are
        left in the stage and discarded), then write the manifest, completed with each shard's size."""
        d = self.directory
        (d / MANIFEST).unlink(missing_ok=True)  # from here until the end the store reads as incomplete
        for item in sorted(self.stage.iterdir()):
            if item.name in keep:
                continue
            target = d / item.name
            old = d / f".old-{item.name}"
            if target.is_dir() and not target.is_symlink():
                if old.exists():
                    shutil.rmtree(old)
                os.replace(target, old)
                os.replace(item, target)
                shutil.rmtree(old)
            else:
                os.replace(item, target)
        info = {k: v for k, v in manifest.items() if k != "runs"}
        manifest = ResultStore(d).write_manifest(info, manifest.get("runs"))
        shutil.rmtree(self.stage, ignore_errors=True)
        return manifest
