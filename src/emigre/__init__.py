"""emigre: reconstruct, explain and forecast emigration waves with a fast agent-based simulator.

The public face for notebooks and scripts follows the data flow::

    from emigre import load_evidence, load_scenario, simulate, run, calibrate, estimate

Each name imports its floor only when used, so ``import emigre`` stays fast (no Numba, no pandas). ``calibrate``
and ``estimate`` are the packages :mod:`emigre.calibrate` and :mod:`emigre.estimate`, which can be called as
their namesake functions (a package and a function cannot both be ``emigre.calibrate``: Python's import sets
the attribute to the package). The floors are described in docs/architecture.md.
"""

from __future__ import annotations

import importlib
import os
import sys

__version__ = "0.1.0"


def numba_cache_dir() -> str | None:
    """Where Numba keeps emigre's compiled kernels: a folder named by a digest of the kernels' source
    (``emigre/behaviour`` and ``emigre/engine``), under ``$XDG_CACHE_HOME/emigre`` (default ``~/.cache/emigre``).

    Numba's own cache is stamped by each function's file alone, while a kernel inlines helpers from other files
    (the traveller helpers of ``exodus_queues``/``exodus_counts``, the RNG, the bundles): after an update that
    changed only those, it would load the old compiled kernel and run the old code. Keyed by the whole kernel
    source, an update compiles afresh. Set when ``emigre`` is imported before Numba and ``NUMBA_CACHE_DIR`` is
    not set (an explicit setting wins) and the folder can be written; returns the folder, or None when Numba's
    default was left alone."""
    if "NUMBA_CACHE_DIR" in os.environ or "numba" in sys.modules:
        return None
    import hashlib
    from pathlib import Path

    root = Path(__file__).parent
    h = hashlib.sha256()
    for p in sorted([*(root / "behaviour").glob("*.py"), *(root / "engine").glob("*.py")]):
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "emigre"
    folder = base / f"numba-{h.hexdigest()[:16]}"
    try:  # a folder Numba cannot write to would stop every cached kernel: then Numba's own place
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK):
            return None
    except OSError:
        return None
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    return str(folder)


numba_cache_dir()

__all__ = ["__version__", "calibrate", "estimate", "load_evidence", "load_scenario", "run", "simulate"]


def load_evidence():
    """The packaged evidence base: sourced observations, events, survey shares and visa history, validated.

    >>> from emigre import load_evidence
    >>> ev = load_evidence()
    >>> ev.get("OBS014").value, ev.get("OBS014").citation

    Returns an :class:`emigre.evidence.Evidence`."""
    from emigre.evidence import load_evidence as _load

    return _load()


def load_scenario(name="russia-2022", **options):
    """The compiled world of a packaged scenario (by name) or of a scenario directory.

    >>> from emigre import load_scenario
    >>> world = load_scenario("russia-2022", params={"push_mobilization_intensity": 0})
    >>> world.name, len(world.places)

    ``options``: ``params`` (parameter overrides), ``strict``; see :func:`emigre.scenario.load_scenario`."""
    from emigre.scenario import load_scenario as _load

    return _load(name, **options)


def simulate(scenario="russia-2022", **options):
    """One simulation of the exodus ruleset: a pure function of (scenario, parameters, seed).

    >>> from emigre import simulate
    >>> result = simulate("russia-2022", seed=1, scale=20, end="2022-12-31")
    >>> result.summary()["departed_2022"], result.to_frame().head()

    ``options``: ``seed``, ``params`` (what-ifs), ``scale`` (persons per traveller), ``end``; see
    :func:`emigre.behaviour.exodus.simulate`."""
    from emigre.behaviour.exodus import simulate as _simulate

    return _simulate(scenario, **options)


def run(scenario="russia-2022", out="out/russia-2022", **options):
    """The main job, as ``emigre run``: an ensemble over the posterior's draws, stored, with a report.

    >>> from emigre import run
    >>> report = run("russia-2022", "out/russia-2022", runs=20, scale=10, workers=2)
    >>> report  # out/russia-2022/report.html; the DuckDB store and the shards beside it

    ``options``: ``runs``, ``seed``, ``params``, ``scale``, ``workers``, ``posterior`` ('default', 'none' or a
    posterior.parquet); see :func:`emigre.jobs.main_job.run_main_job`. Returns the report's path."""
    from emigre.jobs.main_job import run_main_job

    return run_main_job(scenario, out, **options)


#: the public names that are packages, callable as their namesake function (see :mod:`emigre.callable_package`)
_CALLABLE_PACKAGES = ("calibrate", "estimate")


def __getattr__(name: str):
    # PEP 562: ``emigre.calibrate``/``emigre.estimate`` before anything imported them
    if name in _CALLABLE_PACKAGES:
        return importlib.import_module(f"emigre.{name}")
    raise AttributeError(f"module 'emigre' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
