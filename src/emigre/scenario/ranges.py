"""Valid ranges of the parameters, and the one check every way of setting a value goes through.

A model parameter declares ``range: [low, high]`` in its scenario's ``params.yaml``; an observation-model
parameter in :data:`emigre.observe.params.OBS_RANGES`. ``--param``, posterior files and API bodies are checked
with :func:`emigre.observe.ranges.check_params` (it knows both kinds, so it lives on the observe floor), which
names the parameter, the value and the range in one line. A scenario whose
params.yaml has no range for a parameter (a user's older copy) gets one derived from the prior
(:func:`range_from_prior`), so no value goes unchecked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from emigre.errors import EmigreError


@dataclass(frozen=True, slots=True)
class Range:
    """The valid range of a parameter and where it is stated."""

    low: float
    high: float
    unit: str = ""
    source: str = "params.yaml"

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high

    def text(self) -> str:
        """The range as text, e.g. ``[0, 1] share``."""
        unit = f" {self.unit}" if self.unit else ""
        return f"[{self.low:g}, {self.high:g}]{unit}"


def range_from_prior(prior: Mapping, value: float, unit: str = "") -> tuple[float, float]:
    """A generous valid range for a parameter that declares none: shares in [0, 1]; otherwise the prior's
    bulk widened (uniform: [low/2, 2 high]; normal: mean +- 10 sd; lognormal: median x e^(+-6 sigma));
    always including ``value``."""
    dist = prior.get("dist")
    if dist == "beta" or unit == "share":
        lo, hi = 0.0, 1.0
    elif dist == "uniform":
        lo, hi = float(prior["low"]), float(prior["high"])
        lo, hi = (lo / 2 if lo > 0 else lo - (hi - lo)), (hi * 2 if hi > 0 else hi + (hi - lo))
    elif dist == "normal":
        m, sd = float(prior["mean"]), float(prior["sd"])
        lo, hi = m - 10 * sd, m + 10 * sd
    elif dist == "lognormal":
        m, s = float(prior["median"]), float(prior["sigma"])
        lo, hi = m * math.exp(-6 * s), m * math.exp(6 * s)
    else:  # fixed: an order of magnitude either side, sign kept
        lo, hi = (value / 10, value * 10) if value > 0 else (value * 10, value / 10) if value < 0 else (0.0, 1.0)
    return min(lo, value), max(hi, value)


def parse_range(spec: object) -> tuple[float, float] | None:
    """``[low, high]`` of params.yaml as two finite floats with low <= high, else None."""
    if not isinstance(spec, list | tuple) or len(spec) != 2:
        return None
    try:
        lo, hi = float(spec[0]), float(spec[1])
    except (TypeError, ValueError):
        return None
    if isinstance(spec[0], bool) or isinstance(spec[1], bool) or not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    return (lo, hi) if lo <= hi else None


@lru_cache(maxsize=16)
def _model_ranges(params_yaml: str, mtime_ns: int) -> dict[str, Range]:
    from emigre.fileio import read_text

    doc = yaml.safe_load(read_text(params_yaml, what="params.yaml"))
    out: dict[str, Range] = {}
    specs = doc.get("params") if isinstance(doc, dict) else None
    for name, spec in (specs or {}).items():
        if not isinstance(spec, dict):
            continue
        unit = str(spec.get("unit", ""))
        declared = parse_range(spec.get("range"))
        if declared is not None:
            out[str(name)] = Range(*declared, unit=unit)
            continue
        value, prior = spec.get("value"), spec.get("prior")
        if isinstance(value, int | float) and isinstance(prior, dict):
            out[str(name)] = Range(*range_from_prior(prior, float(value), unit), unit=unit, source="prior")
    return out


def model_ranges(scenario: str | Path = "russia-2022") -> dict[str, Range]:
    """Valid range of every model parameter of ``scenario`` (a packaged name or a directory)."""
    from emigre.scenario.load import resolve_dir

    path = Path(resolve_dir(scenario)) / "params.yaml"
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = 0
    return _model_ranges(str(path), mtime)


def check_value(name: str, value: object, rng: Range, *, where: str = "") -> float:
    """``value`` as a float inside ``rng``, or one clear error naming the parameter, value and range."""
    prefix = f"{where}: " if where else ""
    if isinstance(value, bool):
        raise EmigreError(f"{prefix}parameter {name} must be a number, got {value!r}")
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise EmigreError(f"{prefix}parameter {name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise EmigreError(f"{prefix}parameter {name} must be a finite number, got {value!r}")
    if v not in rng:
        raise EmigreError(
            f"{prefix}parameter {name} = {v:g} is outside its valid range {rng.text()} ({rng.source})"
        )
    return v


__all__ = ["Range", "check_value", "model_ranges", "parse_range", "range_from_prior"]
