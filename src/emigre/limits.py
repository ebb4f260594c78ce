"""Stated bounds of the numeric command-line options, and the memory a run will need (checked before it starts).

Each check raises one :class:`~emigre.errors.EmigreError` naming the option, the value and the bound.
"""

from __future__ import annotations

import math
import os

from emigre.errors import EmigreError

#: Seeds feed a 64-bit counter-based hash as signed integers (Numba int64): 0 <= seed < 2**63.
MAX_SEED = 2**63 - 1
#: Persons per simulated traveller. Below MIN_SCALE a run needs more memory than any machine has; above
#: MAX_SCALE the ~1 million departures of the default scenario leave fewer than ~10 travellers.
MIN_SCALE = 0.05
MAX_SCALE = 100_000.0
MAX_RUNS = 10_000
MAX_WORKERS = 256
MAX_BUDGET = 1_000_000
MAX_PARTICLES = 100_000
MAX_DRAWS = 10_000

#: Memory model of one exodus run (measured: 398 MB at 800 travellers, 485 MB at 83,270; about 0.55 KB per
#: traveller), with room for what-ifs that send three times the default ~1 million departures.
_BASE_BYTES = 500 * 2**20
_BYTES_PER_TRAVELLER = 1024
_TRAVELLERS_AT_SCALE_1 = 3_000_000


def check_int(option: str, value: int | None, low: int, high: int) -> None:
    """Refuse an integer option outside ``low..high`` with one line naming the option."""
    if value is not None and not low <= value <= high:
        raise EmigreError(f"{option} must be between {low:,} and {high:,}, got {value:,}")


def check_seed(seed: int, *, runs: int = 1, option: str = "--seed") -> None:
    """0 <= seed and seed + runs - 1 < 2**63 (run i uses seed + i)."""
    if seed < 0 or seed + max(runs, 1) - 1 > MAX_SEED:
        extra = f" (with {runs} runs, seed + runs - 1 must be < 2**63)" if runs > 1 else ""
        raise EmigreError(f"{option} must be between 0 and 2**63 - 1 = {MAX_SEED}{extra}, got {seed}")


def available_memory() -> int | None:
    """Bytes of memory available to new work (MemAvailable on Linux, else physical memory); None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def run_memory_bytes(scale: float, parallel: int = 1) -> int:
    """Estimated peak memory of ``parallel`` exodus runs at ``scale`` persons per traveller."""
    per_run = _BASE_BYTES + _BYTES_PER_TRAVELLER * _TRAVELLERS_AT_SCALE_1 / scale
    return int(per_run * max(parallel, 1))


def check_scale(scale: float, *, parallel: int = 1, option: str = "--scale", memory: bool = True) -> None:
    """A finite scale in [MIN_SCALE, MAX_SCALE] whose runs fit in the memory this machine has now (that part
    only with ``memory``: a command that may run nothing at this scale checks the range alone)."""
    if not (isinstance(scale, int | float) and math.isfinite(scale)):
        raise EmigreError(f"{option} must be a finite number, got {scale}")
    if not MIN_SCALE <= scale <= MAX_SCALE:
        raise EmigreError(
            f"{option} must be between {MIN_SCALE:g} and {MAX_SCALE:g} persons per traveller, got {scale:g} "
            f"(below, memory runs out; above, too few travellers are left to simulate)"
        )
    if not memory:
        return
    need = run_memory_bytes(scale, parallel)
    have = available_memory()
    if have is not None and need > have:
        runs = f"{parallel} runs" if parallel > 1 else "a run"
        raise EmigreError(
            f"{option} {scale:g}: {runs} at this scale would need about {need / 2**30:.1f} GiB of memory, "
            f"{have / 2**30:.1f} GiB are available; use a larger {option}"
            + (" or fewer --workers" if parallel > 1 else "")
        )


__all__ = ["MAX_SEED", "MAX_SCALE", "MIN_SCALE", "available_memory", "check_int", "check_scale", "check_seed",
           "run_memory_bytes"]


def check_end(end: str | None, world, *, option: str = "--end") -> None:
    """``end`` (YYYY-MM-DD) inside the scenario's period: its timeline says nothing after its end date."""
    import datetime as dt

    if end is None:
        return
    try:
        day = dt.date.fromisoformat(str(end).strip())
    except ValueError:
        raise EmigreError(f"{option} must be a date YYYY-MM-DD, got {end!r}") from None
    start, last = getattr(world, "start", None), getattr(world, "end", None)
    if start is not None and last is not None and not start <= day <= last:
        raise EmigreError(f"{option} {day} is outside the scenario's period {start}..{last}")
