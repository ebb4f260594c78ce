"""emigre keys Numba's cache of its kernels by the whole kernel source (emigre.numba_cache_dir): a kernel inlines
helpers from other files, and Numba's own cache is stamped by the kernel's file alone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import emigre

SRC = Path(emigre.__file__).parent


def _cache_dir(pkg_parent: Path, env_extra: dict) -> str:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"} | env_extra
    env["PYTHONPATH"] = str(pkg_parent)
    out = subprocess.run([sys.executable, "-c", "import os, emigre; print(os.environ.get('NUMBA_CACHE_DIR'))"],
                         env=env, capture_output=True, text=True, check=True, cwd=pkg_parent)
    return out.stdout.strip()


def _copy(tmp: Path) -> Path:
    dst = tmp / "pkg" / "emigre"
    dst.mkdir(parents=True)
    shutil.copy(SRC / "__init__.py", dst / "__init__.py")
    for sub in ("behaviour", "engine"):
        shutil.copytree(SRC / sub, dst / sub, ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def test_the_cache_folder_follows_the_kernel_source_and_an_explicit_setting_wins(tmp_path):
    pkg = _copy(tmp_path)
    cache = tmp_path / "cache"
    first = _cache_dir(pkg.parent, {"XDG_CACHE_HOME": str(cache)})
    assert Path(first).parent == cache / "emigre" and Path(first).name.startswith("numba-") and Path(first).is_dir()
    assert _cache_dir(pkg.parent, {"XDG_CACHE_HOME": str(cache)}) == first  # same source, same folder
    # a helper file the kernels inline changes: a new folder (the old compiled kernels are not loaded)
    q = pkg / "behaviour" / "exodus_queues.py"
    q.write_text(q.read_text() + "\n# changed\n")
    second = _cache_dir(pkg.parent, {"XDG_CACHE_HOME": str(cache)})
    assert second != first and Path(second).parent == cache / "emigre"
    # an explicit NUMBA_CACHE_DIR is left as it is
    assert _cache_dir(pkg.parent, {"XDG_CACHE_HOME": str(cache), "NUMBA_CACHE_DIR": str(tmp_path / "mine")}) == str(
        tmp_path / "mine")


def test_an_unwritable_cache_home_leaves_numba_its_default(tmp_path):
    pkg = _copy(tmp_path)
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")  # a cache home that is a file: no folder can be made under it
    assert _cache_dir(pkg.parent, {"XDG_CACHE_HOME": str(blocker)}) == "None"
